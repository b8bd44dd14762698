"""The in-memory Omie: records, indexes, derived title status and writes.

Records stay Omie-shaped dicts (from the Dataset); small "row" objects sit
beside the titles and invoices holding parsed dates and settlement sums so
that list filters compare integers and dates instead of re-parsing strings.
Every change bumps ``version`` (list caches key on it) and is reported to
``listener(topic, event)`` so the sandbox can emit webhooks.
"""
import copy
import threading

from . import faults, shapes
from .formats import (
    brazil_now, digits, format_date, format_time, iso_brazil, parse_date)
from .rows import InvoiceRow, TitleRow, clone, money_field, parse_int, spell
from .store_parties import PartyWrites
from .store_titles import TitleWrites

AUTHOR_USER = 'WEBSERVICE'


class Store(PartyWrites, TitleWrites):
    "Everything the sandbox knows, with indexes and write operations"

    def __init__(self, dataset, clock, listener=None):
        # Records are shared with the dataset until first written to
        # (copy-on-write, see own()), so a 100,000-title store costs little
        # and reset() can start again from the untouched dataset.
        data = dataset
        self._owned = set()
        self.dataset_today = dataset.today
        self.app_name = getattr(dataset, 'app_name', 'novagestao')
        self.clock = clock
        self.listener = listener
        self.lock = threading.RLock()
        self.version = 0
        self.company = data.company
        self.companies = [data.company]
        self.categories = list(data.categories)
        self.category_by_code = {c['codigo']: c for c in self.categories}
        self.accounts = list(data.accounts)
        self.account_by_id = {a['nCodCC']: a for a in self.accounts}
        self.parties = sorted(data.parties,
            key=lambda p: p['codigo_cliente_omie'])
        self.party_by_id = {p['codigo_cliente_omie']: p for p in self.parties}
        self.party_by_code = {p['codigo_cliente_integracao']: p
            for p in self.parties if p.get('codigo_cliente_integracao')}
        self.titles = {'CP': [], 'CR': []}
        self.title_by_id = {}
        self.title_by_code = {'CP': {}, 'CR': {}}
        for kind, records in (('CP', data.payables), ('CR', data.receivables)):
            rows = [TitleRow(rec, kind == 'CR') for rec in records]
            rows.sort(key=lambda r: r.id)
            self.titles[kind] = rows
            for row in rows:
                self.title_by_id[row.id] = row
                if row.code:
                    self.title_by_code[kind][row.code] = row
        self.settlements = sorted(data.settlements,
            key=lambda s: s['codigo_baixa'])
        self.settlement_by_id = {}
        self.settlement_by_code = {}
        for s in self.settlements:
            self.settlement_by_id[s['codigo_baixa']] = s
            if s.get('codigo_baixa_integracao'):
                self.settlement_by_code[s['codigo_baixa_integracao']] = s
            row = self.title_by_id.get(s['codigo_lancamento'])
            if row is not None:
                row.settlements.append(s)
        for rows in self.titles.values():
            for row in rows:
                if row.settlements:
                    row.refresh_settlements()
        self.movements = sorted(data.movements, key=lambda m: m['nCodLanc'])
        self.movement_by_id = {m['nCodLanc']: m for m in self.movements}
        self.invoices = [InvoiceRow(rec) for rec in data.invoices]
        self.invoices.sort(key=lambda r: r.id)
        self.invoice_by_id = {r.id: r for r in self.invoices}
        all_ids = [r.id for r in self.title_by_id.values()] + [
            p['codigo_cliente_omie'] for p in self.parties] + [
            s['codigo_baixa'] for s in self.settlements] + [
            m['nCodLanc'] for m in self.movements] + [
            s['codigo_movimento_cc'] for s in self.settlements] + [
            a['nCodCC'] for a in self.accounts] + [r.id for r in self.invoices]
        self._last_id = max(all_ids + [10 ** 9])

    # -- time ------------------------------------------------------------
    def now(self):
        return brazil_now(self.clock())

    def today(self):
        return self.now().date()

    def stamp_now(self):
        now = self.now()
        return now.date(), now.hour * 3600 + now.minute * 60 + now.second

    def own(self, record):
        """The store's private copy of a dataset record, made on first write
        (callers put the returned dict back wherever the old one was)."""
        if id(record) in self._owned:
            return record
        mine = clone(record)
        self._owned.add(id(mine))
        return mine

    def adopt(self, record):
        "Mark a record created by the store itself as already private"
        self._owned.add(id(record))
        return record

    def own_party(self, party):
        mine = self.own(party)
        if mine is not party:
            self.parties[self.parties.index(party)] = mine
            self.party_by_id[mine['codigo_cliente_omie']] = mine
            if mine.get('codigo_cliente_integracao'):
                self.party_by_code[mine['codigo_cliente_integracao']] = mine
        return mine

    def own_title(self, row):
        row.rec = self.own(row.rec)
        return row.rec

    def new_id(self):
        "Fresh ids keep growing like Omie's sequences (never reused)"
        self._last_id += 7
        return self._last_id

    def changed(self, topic=None, event=None):
        self.version += 1
        if topic and self.listener is not None:
            # Snapshot now: the record may change again before delivery.
            self.listener(topic, clone(event))

    def touch(self, info, created=False):
        "Stamp info.dAlt/hAlt/uAlt (and dInc... on creation) with now"
        day, secs = self.stamp_now()
        if created:
            info.update({'dInc': format_date(day), 'hInc': format_time(secs),
                'uInc': AUTHOR_USER, 'cImpAPI': 'S'})
        info.update({'dAlt': format_date(day), 'hAlt': format_time(secs),
            'uAlt': AUTHOR_USER})
        return info

    # -- lookups ---------------------------------------------------------
    def party(self, omie_id=None, code=None):
        if omie_id:
            party = self.party_by_id.get(parse_int(omie_id))
            if party is None:
                raise faults.not_found('Cliente', omie_id)
            return party
        if code:
            party = self.party_by_code.get(str(code))
            if party is None:
                raise faults.not_found_integration('Cliente', code)
            return party
        raise faults.validation('Informe a tag [codigo_cliente_omie] ou '
            '[codigo_cliente_integracao]!')

    def title(self, kind, omie_id=None, code=None):
        if omie_id:
            row = self.title_by_id.get(parse_int(omie_id))
            if row is None or row.receivable != (kind == 'CR'):
                raise faults.not_found('Lançamento', omie_id)
            return row
        if code:
            row = self.title_by_code[kind].get(str(code))
            if row is None:
                raise faults.not_found_integration('Lançamento', code)
            return row
        raise faults.validation('Informe a tag [codigo_lancamento_omie] ou '
            '[codigo_lancamento_integracao]!')

    def documents_to_parties(self, document):
        "Ids of parties whose CPF/CNPJ has these digits"
        wanted = digits(document)
        return {p['codigo_cliente_omie'] for p in self.parties
            if wanted and digits(p.get('cnpj_cpf')) == wanted}

    def category_name(self, code):
        category = self.category_by_code.get(code)
        return category['descricao'] if category else ''

    # -- rendering -------------------------------------------------------
    def render_party(self, party, with_obs=True, with_features=True):
        out = shapes.complete(shapes.PARTY_TEMPLATE, party)
        if not with_obs:
            out.pop('observacao', None)
        if not with_features:
            out.pop('caracteristicas', None)
        return out

    def render_title(self, row, today, spelling, with_obs=True):
        template = shapes.RECEIVABLE_TEMPLATE if row.receivable \
            else shapes.PAYABLE_TEMPLATE
        out = shapes.complete(template, row.rec)
        out['status_titulo'] = spell(row.token(today), spelling)
        out['valor_pag'] = row.paid
        if not with_obs:
            out.pop('observacao', None)
        return out

    # -- current-account entries -------------------------------------------
    def include_movement(self, data):
        "IncluirLancCC: a manual entry; nature follows the category"
        code = str(data.get('cCodIntLanc') or '')
        if code and any(m.get('cCodIntLanc') == code for m in self.movements):
            raise faults.validation('Lançamento já cadastrado para o Código '
                'de Integração [%s] !' % code)
        head = dict(data.get('cabecalho') or {})
        details = dict(data.get('detalhes') or {})
        account = self.account_by_id.get(parse_int(head.get('nCodCC')))
        if account is None:
            raise faults.account_not_found()
        try:
            day = parse_date(head.get('dDtLanc'))
        except ValueError:
            raise faults.bad_date('dDtLanc', head.get('dDtLanc'))
        if day is None:
            raise faults.required('dDtLanc')
        value = money_field('nValorLanc', head.get('nValorLanc'))
        if value <= 0:
            raise faults.required('nValorLanc')
        category_code = details.get('cCodCateg') or ''
        category = self.category_by_code.get(category_code)
        if category is None or category['totalizadora'] == 'S':
            raise faults.validation('Categoria [%s] não cadastrada ou não '
                'permite lançamentos!' % category_code)
        nature = 'R' if category['conta_receita'] == 'S' else 'P'
        target = parse_int(
            (data.get('transferencia') or {}).get('nCodCCDestino')
            or 0)
        if target and target not in self.account_by_id:
            raise faults.account_not_found()
        movement = self.adopt({
            'nCodLanc': self.new_id(), 'cCodIntLanc': code, 'nCodAgrup': 0,
            'cabecalho': {'nCodCC': account['nCodCC'],
                'dDtLanc': format_date(day), 'nValorLanc': value},
            'detalhes': {'cCodCateg': category_code,
                'aCodCateg': clone(details.get('aCodCateg') or []),
                'cTipo': str(details.get('cTipo') or '99999'),
                'cNumDoc': str(details.get('cNumDoc') or ''),
                'nCodCliente': parse_int(details.get('nCodCliente') or 0),
                'nCodProjeto': parse_int(details.get('nCodProjeto') or 0),
                'cObs': str(details.get('cObs') or '')},
            'transferencia': {'nCodCCDestino': target},
            'departamentos': clone(data.get('departamentos') or []),
            'diversos': {'cOrigem': ('TRAP' if target else
                    'MANR' if nature == 'R' else 'MANP'),
                'dDtConc': '', 'cHrConc': '', 'cUsConc': '',
                'nCodVendedor': 0, 'nCodComprador': 0, 'cNatureza': nature,
                'cIdentLanc': '', 'nCodLancCP': 0, 'nCodLancCR': 0},
            'info': self.touch({}, created=True),
        })
        self.movements.append(movement)
        self.movement_by_id[movement['nCodLanc']] = movement
        self.changed('Financas.ContaCorrente.Lancamento.Incluido',
            movement)
        return movement

    def find_movement(self, omie_id=None, code=None):
        if omie_id:
            movement = self.movement_by_id.get(parse_int(omie_id))
            if movement is None:
                raise faults.not_found('Lançamento', omie_id)
            return movement
        if code:
            for movement in self.movements:
                if movement.get('cCodIntLanc') == str(code):
                    return movement
            raise faults.not_found_integration('Lançamento', code)
        raise faults.required('nCodLanc')

    # -- categories: writes ------------------------------------------------
    def include_category(self, data):
        """A category of the user's under a group: the next code of the
        group ("2.02" → "2.02.08"), the group's type and side"""
        description = str(data.get('descricao') or '').strip()
        if not description:
            raise faults.required('descricao')
        group_code = str(data.get('categoria_superior') or '').strip()
        if not group_code:
            raise faults.required('categoria_superior')
        group = self.category_by_code.get(group_code)
        if group is None or group.get('totalizadora') != 'S':
            raise faults.validation('Categoria superior [%s] não '
                'cadastrada!' % group_code)
        children = [c for c in self.categories
            if c.get('categoria_superior') == group_code]
        number = 1 + max([int(c['codigo'].rsplit('.', 1)[-1])
                for c in children] or [0])
        category = self.adopt(clone(children[0]) if children else {})
        category.update({
                'codigo': '%s.%02d' % (group_code, number),
                'descricao': description[:50],
                'descricao_padrao': description[:50],
                'natureza': str(data.get('natureza') or description)[:200],
                'tipo_categoria': group.get('tipo_categoria', ''),
                'categoria_superior': group_code,
                'conta_despesa': group.get('conta_despesa', 'N'),
                'conta_receita': group.get('conta_receita', 'N'),
                'conta_inativa': 'N',
                'definida_pelo_usuario': 'S',
                'nao_exibir': 'N',
                'totalizadora': 'N',
                'transferencia': 'N',
                'codigo_dre': str(data.get('codigo_dre') or
                    category.get('codigo_dre', '')),
                })
        siblings = [self.categories.index(c) for c in children] or [
            self.categories.index(group)]
        self.categories.insert(max(siblings) + 1, category)
        self.category_by_code[category['codigo']] = category
        self.changed('Categoria.Incluida', dict(category))
        return category

    # -- other changes (sandbox.change) ------------------------------------
    def change_category(self, code, changes):
        category = self.category_by_code.get(code)
        if category is None:
            raise faults.not_found('Categoria', code)
        mine = self.own(category)
        self.categories[self.categories.index(category)] = mine
        self.category_by_code[code] = category = mine
        category.update(clone(changes))
        self.changed('Categoria.Alterada', dict(category))
        return category

    def change_movement(self, movement_id, changes, delete=False):
        movement = self.movement_by_id.get(parse_int(movement_id))
        if movement is None:
            raise faults.not_found('Lançamento', movement_id)
        if delete:
            self.movements.remove(movement)
            del self.movement_by_id[movement['nCodLanc']]
            self.changed('Financas.ContaCorrente.Lancamento.Excluido',
                {'nCodLanc': movement['nCodLanc']})
            return movement
        mine = self.own(movement)
        self.movements[self.movements.index(movement)] = mine
        self.movement_by_id[mine['nCodLanc']] = movement = mine
        for key, value in clone(changes).items():
            if isinstance(value, dict) and isinstance(movement.get(key), dict):
                movement[key].update(value)
            else:
                movement[key] = value
        self.touch(movement.setdefault('info', {}))
        self.changed('Financas.ContaCorrente.Lancamento.Alterado',
            copy.deepcopy(movement))
        return movement

    def change_invoice(self, invoice_id, changes):
        row = self.invoice_by_id.get(parse_int(invoice_id))
        if row is None:
            raise faults.not_found('Nota Fiscal', invoice_id)
        cancel = changes.pop('cancelar', None) or changes.pop('cancel', None)
        row.rec = self.own(row.rec)
        for key, value in clone(changes).items():
            if isinstance(value, dict) and isinstance(row.rec.get(key), dict):
                row.rec[key].update(value)
            else:
                row.rec[key] = value
        if cancel:
            row.rec['ide']['dCan'] = format_date(self.today())
        self.touch(row.rec.setdefault('info', {}))
        row.refresh()
        topic = 'NFe.NotaCancelada' if row.cancel else 'NFe.NotaAutorizada'
        self.changed(topic, self.invoice_event(row))
        return row

    def invoice_event(self, row):
        """What Omie Connect sends for NFe.NotaAutorizada/NotaCancelada:
        its NF id, order, number, key and emission, the company and links
        to the XML and DANFE in Omie's storage"""
        rec = row.rec
        key = rec['compl']['cChaveNFe']
        storage = 'https://app.omie.com.br/api/v1/produtos/dfedocs/%s' % key
        return {
            'id_nf': row.id,
            'id_pedido': rec['compl'].get('nIdPedido', 0),
            'numero_nf': rec['ide']['nNF'],
            'nfe_chave': key,
            'data_emis': iso_brazil(row.emission),
            'hora_emis': rec['ide'].get('hEmi', ''),
            'empresa_cnpj': self.company.get('cnpj', ''),
            'nfe_xml': storage + '.xml',
            'nfe_danfe': storage + '.pdf',
            'acao': 'cancelada' if row.cancel else 'autorizada',
        }
