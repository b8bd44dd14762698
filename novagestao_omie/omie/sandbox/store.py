"""The in-memory Omie: records, indexes, derived title status and writes.

Records stay Omie-shaped dicts (from the Dataset); small "row" objects sit
beside the titles and invoices holding parsed dates and settlement sums so
that list filters compare integers and dates instead of re-parsing strings.
Every change bumps ``version`` (list caches key on it) and is reported to
``listener(topic, event)`` so the sandbox can emit webhooks.
"""
import copy
import marshal
import threading

from stdnum.br import cnpj as cnpj_rules
from stdnum.br import cpf as cpf_rules

from . import faults, names, shapes
from .formats import (ascii_upper, brazil_now, digits, format_date,
    format_time, is_yes, iso_brazil, money, parse_date, stamp_of)

AUTHOR_USER = 'WEBSERVICE'
CENT = 0.005


def status_token(receivable, cancelled, value, principal, discount, due,
        today):
    """Omie's status_titulo rule, as a filter token (AVENCER, PAGO...).

    Closed titles: PAGO/RECEBIDO, or LIQUIDADO when closed with a discount
    (less money than the document value).  Open ones depend on the due date
    relative to ``today`` (Brasília), so they are derived at read time.
    """
    if cancelled:
        return 'CANCELADO'
    if principal >= value - CENT and value > 0:
        if discount > CENT:
            return 'LIQUIDADO'
        return 'RECEBIDO' if receivable else 'PAGO'
    if principal > CENT:
        return 'PAGTO_PARCIAL'
    if due is None or due > today:
        return 'AVENCER'
    if due == today:
        return 'VENCEHOJE'
    return 'ATRASADO'


SPACED = {'AVENCER': 'A VENCER', 'VENCEHOJE': 'VENCE HOJE'}


def spell(token, spelling):
    "Token -> status_titulo as printed ('A VENCER' or 'AVENCER' style)"
    if spelling == 'A VENCER':
        return SPACED.get(token, token)
    return token


def title_status(receivable, cancelled, value, principal, discount, due,
        today, spelling='A VENCER'):
    return spell(status_token(receivable, cancelled, value, principal,
        discount, due, today), spelling)


class TitleRow:
    "Parsed view of one payable/receivable, refreshed after every change"
    __slots__ = ('rec', 'receivable', 'id', 'code', 'due', 'emission',
        'previsao', 'registro', 'inc', 'alt', 'client', 'account',
        'cancelled', 'settlements', 'principal', 'paid', 'desconto',
        'juros', 'multa', 'last_payment', 'value', 'category', 'imported')

    def __init__(self, rec, receivable):
        self.rec = rec
        self.receivable = receivable
        self.settlements = []
        self.cancelled = rec.get('status_titulo') == 'CANCELADO'
        self.refresh()

    def refresh(self):
        rec = self.rec
        self.id = rec['codigo_lancamento_omie']
        self.code = rec.get('codigo_lancamento_integracao') or ''
        self.due = parse_date(rec.get('data_vencimento'))
        self.emission = parse_date(rec.get('data_emissao'))
        self.previsao = parse_date(rec.get('data_previsao')) or self.due
        self.registro = parse_date(rec.get('data_registro')
            or rec.get('data_entrada')) or self.emission
        info = rec.get('info') or {}
        self.inc = stamp_of(info.get('dInc'), info.get('hInc'))
        self.alt = stamp_of(info.get('dAlt'), info.get('hAlt')) or self.inc
        self.imported = info.get('cImpAPI') == 'S'
        self.client = rec.get('codigo_cliente_fornecedor') or 0
        self.account = rec.get('id_conta_corrente') or 0
        self.value = rec.get('valor_documento') or 0.0
        self.category = rec.get('codigo_categoria') or ''
        self.refresh_settlements()

    def refresh_settlements(self):
        principal = paid = desconto = juros = multa = 0.0
        last = None
        for s in self.settlements:
            paid += s['valor']
            desconto += s['desconto']
            juros += s['juros']
            multa += s['multa']
            principal += s['valor'] + s['desconto'] - s['juros'] - s['multa']
            day = parse_date(s['data'])
            if last is None or day > last:
                last = day
        self.principal = principal
        self.paid = money(paid)
        self.desconto = money(desconto)
        self.juros = money(juros)
        self.multa = money(multa)
        self.last_payment = last

    def token(self, today):
        return status_token(self.receivable, self.cancelled, self.value,
            self.principal, self.desconto, self.due, today)

    @property
    def open_amount(self):
        if self.cancelled:
            return 0.0
        return money(max(self.value - self.principal, 0.0))


class InvoiceRow:
    __slots__ = ('rec', 'id', 'number', 'emission', 'cancel', 'inc', 'alt',
        'client', 'reg', 'serie')

    def __init__(self, rec):
        self.rec = rec
        self.refresh()

    def refresh(self):
        rec = self.rec
        ide = rec['ide']
        self.id = rec['compl']['nIdNF']
        self.number = int(ide['nNF'] or 0)
        self.serie = ide.get('serie', '')
        self.emission = parse_date(ide['dEmi'])
        self.cancel = parse_date(ide.get('dCan'))
        self.reg = parse_date(ide.get('dReg'))
        info = rec.get('info') or {}
        self.inc = stamp_of(info.get('dInc'), info.get('hInc'))
        self.alt = stamp_of(info.get('dAlt'), info.get('hAlt')) or self.inc
        self.client = rec['nfDestInt']['nCodCli']


class Store:
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
            party = self.party_by_id.get(_int(omie_id))
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
            row = self.title_by_id.get(_int(omie_id))
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

    # -- clients: writes ---------------------------------------------------
    def _normalise_party_input(self, data, existing=None):
        out = {}
        for key, value in data.items():
            if key in ('codigo_cliente_omie', 'info'):
                continue
            out[key] = value
        if 'tags' in out:
            tags = []
            for tag in out['tags'] or []:
                name = tag.get('tag') if isinstance(tag, dict) else tag
                if name and name not in [t['tag'] for t in tags]:
                    tags.append({'tag': str(name)})
            out['tags'] = tags
        if 'cnpj_cpf' in out:
            out['cnpj_cpf'] = _format_document(out['cnpj_cpf'])
            number = digits(out['cnpj_cpf'])
            if number and not (cpf_rules.is_valid(number) or
                    cnpj_rules.is_valid(number)):
                raise faults.validation(
                    'CPF/CNPJ [%s] informado é inválido!' % out['cnpj_cpf'])
            if len(number) == 11 and 'pessoa_fisica' not in out:
                out['pessoa_fisica'] = 'S'
        if 'cidade' in out or 'cidade_ibge' in out:
            out.update(_resolve_city(out.get('cidade', ''),
                out.get('cidade_ibge', ''),
                out.get('estado') or (existing or {}).get('estado', '')))
        for nested in shapes.PARTY_NESTED:
            if nested in out and existing and isinstance(out[nested], dict):
                merged = dict(existing.get(nested) or {})
                merged.update(out[nested])
                out[nested] = merged
        for key in ('valor_limite_credito',):
            if key in out:
                out[key] = _money_field(key, out[key])
        return out

    def _check_party_duplicates(self, data, current_id=None):
        code = data.get('codigo_cliente_integracao')
        if code:
            other = self.party_by_code.get(code)
            if other is not None and other['codigo_cliente_omie'] != \
                    current_id:
                raise faults.validation(
                    'Cliente já cadastrado para o Código de Integração [%s] !'
                    % code)
        number = digits(data.get('cnpj_cpf'))
        if number:
            for party in self.parties:
                if party['codigo_cliente_omie'] != current_id and \
                        digits(party.get('cnpj_cpf')) == number:
                    raise faults.validation(
                        'Cliente já cadastrado para o CPF/CNPJ [%s] com o Id '
                        '[%s] e código de integração [%s] ! (add)' % (
                            data['cnpj_cpf'], party['codigo_cliente_omie'],
                            party.get('codigo_cliente_integracao', '')))

    def include_party(self, data):
        if not str(data.get('razao_social') or '').strip():
            raise faults.required('razao_social')
        record = self.adopt(clone(self._normalise_party_input(data)))
        self._check_party_duplicates(record)
        record['codigo_cliente_omie'] = self.new_id()
        record.setdefault('codigo_cliente_integracao', '')
        record.setdefault('tags', [])
        record['importado_api'] = 'S'
        record['info'] = self.touch({}, created=True)
        self.parties.append(record)
        self.party_by_id[record['codigo_cliente_omie']] = record
        if record['codigo_cliente_integracao']:
            self.party_by_code[record['codigo_cliente_integracao']] = record
        self.changed('ClienteFornecedor.Incluido', self.render_party(record))
        return record

    def alter_party(self, data, key_from_code=False):
        party = self.party(data.get('codigo_cliente_omie') if not
            key_from_code else None, data.get('codigo_cliente_integracao'))
        return self.update_party(party, data)

    def update_party(self, party, data):
        if 'razao_social' in data and not str(data['razao_social']).strip():
            raise faults.required('razao_social')
        changes = self._normalise_party_input(data, existing=party)
        if not changes.get('codigo_cliente_integracao'):
            # A blank code on AlterarCliente keeps the current one.
            changes.pop('codigo_cliente_integracao', None)
        self._check_party_duplicates(dict(changes, cnpj_cpf=changes.get(
            'cnpj_cpf', '')), current_id=party['codigo_cliente_omie'])
        party = self.own_party(party)
        old_code = party.get('codigo_cliente_integracao')
        party.update(clone(changes))
        if party.get('codigo_cliente_integracao') != old_code:
            self.party_by_code.pop(old_code, None)
            if party.get('codigo_cliente_integracao'):
                self.party_by_code[party['codigo_cliente_integracao']] = party
        self.touch(party.setdefault('info', {}))
        self.changed('ClienteFornecedor.Alterado', self.render_party(party))
        return party

    def upsert_party(self, data):
        code = data.get('codigo_cliente_integracao')
        if not code:
            raise faults.required('codigo_cliente_integracao')
        party = self.party_by_code.get(str(code))
        if party is None:
            return self.include_party(data), True
        return self.update_party(party, data), False

    def delete_party(self, party):
        self.parties.remove(party)
        self.party_by_id.pop(party['codigo_cliente_omie'], None)
        self.party_by_code.pop(party.get('codigo_cliente_integracao'), None)
        self.changed('ClienteFornecedor.Excluido',
            {'codigo_cliente_omie': party['codigo_cliente_omie']})

    # -- titles: writes --------------------------------------------------
    def _title_input(self, kind, data, row=None):
        "Validate and normalise conta_pagar/receber_cadastro fields"
        out = {}
        for key, value in data.items():
            if key in ('codigo_lancamento_omie', 'info', 'status_titulo',
                    'valor_pag', 'pagamento', 'recebimento'):
                continue
            out[key] = value
        party_code = out.get('codigo_cliente_fornecedor_integracao')
        if not out.get('codigo_cliente_fornecedor') and party_code:
            party = self.party_by_code.get(str(party_code))
            if party is None:
                raise faults.validation('Cliente/Fornecedor não cadastrado '
                    'para o Código de Integração [%s] !' % party_code)
            out['codigo_cliente_fornecedor'] = party['codigo_cliente_omie']
        if 'codigo_cliente_fornecedor' in out:
            party = self.party_by_id.get(
                _int(out['codigo_cliente_fornecedor']))
            if party is None:
                raise faults.validation('Cliente/Fornecedor [%s] não '
                    'encontrado! Verifique a tag [codigo_cliente_fornecedor].'
                    % out['codigo_cliente_fornecedor'])
            out['codigo_cliente_fornecedor'] = party['codigo_cliente_omie']
            out['codigo_cliente_fornecedor_integracao'] = \
                party.get('codigo_cliente_integracao', '')
        for key in ('data_vencimento', 'data_previsao', 'data_emissao',
                'data_entrada', 'data_registro'):
            if key in out and out[key] not in (None, ''):
                try:
                    out[key] = format_date(parse_date(out[key]))
                except ValueError:
                    raise faults.bad_date(key, out[key])
        if 'valor_documento' in out:
            value = _money_field('valor_documento', out['valor_documento'])
            if value <= 0:
                raise faults.validation('O valor do documento deve ser maior '
                    'que zero!')
            out['valor_documento'] = value
        if out.get('codigo_categoria'):
            self._check_category(out['codigo_categoria'])
        if out.get('categorias'):
            rateio = []
            for item in out['categorias']:
                code = item.get('codigo_categoria', '')
                self._check_category(code)
                rateio.append({'codigo_categoria': code,
                    'valor': money(item.get('valor') or 0),
                    'percentual': float(item.get('percentual') or 0)})
            out['categorias'] = rateio
        if 'id_conta_corrente' in out and out['id_conta_corrente']:
            account = self.account_by_id.get(_int(out['id_conta_corrente']))
            if account is None:
                raise faults.validation('Conta corrente [%s] não cadastrada! '
                    'Verifique a tag [id_conta_corrente].'
                    % out['id_conta_corrente'])
            out['id_conta_corrente'] = account['nCodCC']
        for key in list(out):
            if key.startswith('valor_') and key != 'valor_documento':
                out[key] = _money_field(key, out[key])
        return out

    def _check_category(self, code):
        category = self.category_by_code.get(code)
        if category is None or category['totalizadora'] == 'S':
            raise faults.validation(
                'Categoria [%s] não cadastrada ou não permite lançamentos!'
                % code)

    def include_title(self, kind, data):
        for tag in ('codigo_lancamento_integracao',
                'codigo_cliente_fornecedor',
                'data_vencimento', 'valor_documento'):
            if tag == 'codigo_cliente_fornecedor' and \
                    data.get('codigo_cliente_fornecedor_integracao'):
                continue
            if data.get(tag) in (None, '', 0):
                raise faults.required(tag)
        code = str(data['codigo_lancamento_integracao'])
        if code in self.title_by_code[kind]:
            raise faults.validation('Lançamento já cadastrado para o Código '
                'de Integração [%s] !' % code)
        record = self.adopt(clone(self._title_input(kind, data)))
        if not record.get('id_conta_corrente'):
            raise faults.validation('A tag [id_conta_corrente] não foi '
                'informada e o cliente/fornecedor não possui conta corrente '
                'padrão!')
        today = format_date(self.today())
        record.setdefault('data_previsao', record['data_vencimento'])
        record.setdefault('data_emissao', today)
        record.setdefault('numero_parcela', '001/001')
        if kind == 'CP':
            record.setdefault('data_entrada', today)
        else:
            record.setdefault('data_registro', today)
        if record.get('codigo_categoria') and not record.get('categorias'):
            record['categorias'] = [{
                'codigo_categoria': record['codigo_categoria'],
                'valor': record['valor_documento'], 'percentual': 100.0}]
        elif record.get('categorias') and not record.get('codigo_categoria'):
            record['codigo_categoria'] = record['categorias'][0][
                'codigo_categoria']
        record['codigo_lancamento_integracao'] = code
        record['codigo_lancamento_omie'] = self.new_id()
        record['id_origem'] = 'APIR' if kind == 'CR' else 'APIP'
        record['importado_api'] = 'S'
        record['status_titulo'] = ''
        record['info'] = self.touch({}, created=True)
        row = TitleRow(record, kind == 'CR')
        self.titles[kind].append(row)
        self.title_by_id[row.id] = row
        self.title_by_code[kind][code] = row
        self.changed(_title_topic(kind, 'Incluido'),
            self.title_event(row))
        inline = data.get('pagamento' if kind == 'CP' else 'recebimento')
        if isinstance(inline, dict) and inline.get('valor'):
            self.settle(kind, dict(inline, codigo_lancamento=row.id))
        return row

    def alter_title(self, kind, data, key_from_code=False):
        row = self.title(kind, None if key_from_code else
            data.get('codigo_lancamento_omie'),
            data.get('codigo_lancamento_integracao'))
        return self.update_title(row, data)

    def update_title(self, row, data, topic=True):
        kind = 'CR' if row.receivable else 'CP'
        changes = self._title_input(kind, data, row)
        changes.pop('codigo_lancamento_integracao', None)
        if row.cancelled and changes:
            raise faults.validation('Não é possível alterar um lançamento '
                'cancelado!')
        if 'valor_documento' in changes and row.settlements and \
                changes['valor_documento'] < row.principal - CENT:
            raise faults.validation('O valor do documento não pode ser '
                'menor que o valor já baixado!')
        self.own_title(row).update(clone(changes))
        if 'codigo_categoria' in changes and 'categorias' not in changes:
            row.rec['categorias'] = [{
                'codigo_categoria': changes['codigo_categoria'],
                'valor': row.rec['valor_documento'], 'percentual': 100.0}]
        elif 'valor_documento' in changes and len(
                row.rec.get('categorias') or []) == 1:
            row.rec['categorias'] = [dict(row.rec['categorias'][0],
                valor=row.rec['valor_documento'])]
        self.touch(row.rec.setdefault('info', {}))
        row.refresh()
        if topic:
            self.changed(_title_topic(kind, 'Alterado'),
                self.title_event(row))
        return row

    def upsert_title(self, kind, data):
        code = data.get('codigo_lancamento_integracao')
        if not code:
            raise faults.required('codigo_lancamento_integracao')
        row = self.title_by_code[kind].get(str(code))
        if row is None:
            return self.include_title(kind, data), True
        return self.update_title(row, data), False

    def cancel_title(self, row):
        if row.settlements:
            raise faults.validation('Não é possível cancelar um lançamento '
                'que possui baixas!')
        row.cancelled = True
        self.own_title(row)['status_titulo'] = 'CANCELADO'
        self.touch(row.rec.setdefault('info', {}))
        row.refresh()
        kind = 'CR' if row.receivable else 'CP'
        self.changed(_title_topic(kind, 'Alterado'), self.title_event(row))
        return row

    def delete_title(self, row):
        if row.settlements:
            raise faults.validation('Não é possível excluir um lançamento que '
                'possui baixas! Cancele as baixas antes de excluir.')
        kind = 'CR' if row.receivable else 'CP'
        self.titles[kind].remove(row)
        self.title_by_id.pop(row.id, None)
        if row.code:
            self.title_by_code[kind].pop(row.code, None)
        self.changed(_title_topic(kind, 'Excluido'),
            {'codigo_lancamento_omie': row.id})
        return row

    def settle(self, kind, data, fee=0.0):
        """LancarPagamento / LancarRecebimento: one baixa on one title; fee
        is the bank fee (tarifa) the bank account charges on it"""
        row = self.title(kind, data.get('codigo_lancamento'),
            data.get('codigo_lancamento_integracao'))
        if row.cancelled:
            raise faults.validation('Não é possível baixar um lançamento '
                'cancelado!')
        value = _money_field('valor', data.get('valor'))
        if value <= 0:
            raise faults.required('valor')
        desconto = _money_field('desconto', data.get('desconto') or 0)
        juros = _money_field('juros', data.get('juros') or 0)
        multa = _money_field('multa', data.get('multa') or 0)
        principal = money(value + desconto - juros - multa)
        if row.open_amount <= CENT:
            raise faults.validation('O lançamento [%s] já está liquidado!'
                % row.id)
        if principal > row.open_amount + CENT:
            raise faults.validation('O valor da baixa [%.2f] é maior que o '
                'saldo em aberto do lançamento [%.2f] !' % (
                    principal, row.open_amount))
        code = str(data.get('codigo_baixa_integracao') or '')
        if code and code in self.settlement_by_code:
            raise faults.validation('Baixa já cadastrada para o Código de '
                'Integração [%s] !' % code)
        account_id = data.get('codigo_conta_corrente') or row.account
        account_code = data.get('codigo_conta_corrente_integracao')
        if account_code and not data.get('codigo_conta_corrente'):
            match = [a for a in self.accounts
                if a['cCodCCInt'] == account_code]
            if not match:
                raise faults.account_not_found()
            account_id = match[0]['nCodCC']
        account = self.account_by_id.get(_int(account_id))
        if account is None:
            raise faults.account_not_found()
        today = self.today()
        try:
            day = parse_date(data.get('data')) or today
        except ValueError:
            raise faults.bad_date('data', data.get('data'))
        stamp_day, stamp_secs = self.stamp_now()
        info = self.touch({}, created=True)
        settlement = {
            'codigo_baixa': self.new_id(),
            'codigo_baixa_integracao': code,
            'codigo_lancamento': row.id,
            'codigo_lancamento_integracao': row.code,
            'natureza': 'R' if row.receivable else 'P',
            'codigo_movimento_cc': self.new_id(),
            'codigo_conta_corrente': account['nCodCC'],
            'data': format_date(day),
            'valor': value, 'desconto': desconto, 'juros': juros,
            'multa': multa, 'tarifa': money(fee or 0),
            'observacao': str(data.get('observacao') or ''),
            'data_conciliacao': format_date(stamp_day) if is_yes(
                data.get('conciliar_documento')) else '',
            'info': info,
        }
        self.settlements.append(settlement)
        self.settlement_by_id[settlement['codigo_baixa']] = settlement
        if code:
            self.settlement_by_code[code] = settlement
        row.settlements.append(settlement)
        self.touch(self.own_title(row).setdefault('info', {}))
        row.refresh()
        self.changed(_title_topic(kind, 'BaixaRealizada'),
            [self.settlement_event(settlement, row)])
        return settlement, row

    def cancel_settlement(self, kind, data):
        code = data.get('codigo_baixa_integracao')
        settlement = None
        if data.get('codigo_baixa'):
            settlement = self.settlement_by_id.get(_int(data['codigo_baixa']))
            if settlement is None:
                raise faults.not_found('Baixa', data['codigo_baixa'])
        elif code:
            settlement = self.settlement_by_code.get(str(code))
            if settlement is None:
                raise faults.not_found_integration('Baixa', code)
        else:
            raise faults.required('codigo_baixa')
        row = self.title_by_id.get(settlement['codigo_lancamento'])
        if row is None or row.receivable != (kind == 'CR'):
            raise faults.not_found('Baixa', settlement['codigo_baixa'])
        event = [self.settlement_event(settlement, row)]
        self.settlements.remove(settlement)
        self.settlement_by_id.pop(settlement['codigo_baixa'], None)
        self.settlement_by_code.pop(settlement.get(
            'codigo_baixa_integracao'), None)
        row.settlements.remove(settlement)
        self.touch(self.own_title(row).setdefault('info', {}))
        row.refresh()
        self.changed(_title_topic(kind, 'BaixaCancelada'), event)
        return settlement, row

    # -- webhook payloads --------------------------------------------------
    def title_event(self, row):
        rec = row.rec
        token = row.token(self.today())
        return {
            'codigo_lancamento_omie': row.id,
            'codigo_lancamento_integracao': row.code,
            'codigo_cliente_fornecedor': rec.get('codigo_cliente_fornecedor'),
            'codigo_categoria': rec.get('codigo_categoria', ''),
            'categorias': rec.get('categorias', []),
            'data_emissao': iso_brazil(row.emission),
            'data_vencimento': iso_brazil(row.due),
            'data_previsao': iso_brazil(row.previsao),
            'valor_documento': rec.get('valor_documento'),
            'id_conta_corrente': rec.get('id_conta_corrente'),
            'numero_documento': rec.get('numero_documento', ''),
            'numero_documento_fiscal': rec.get('numero_documento_fiscal', ''),
            'numero_parcela': rec.get('numero_parcela', ''),
            'chave_nfe': rec.get('chave_nfe', ''),
            'codigo_tipo_documento': rec.get('codigo_tipo_documento', ''),
            'id_origem': rec.get('id_origem', ''),
            'observacao': rec.get('observacao', ''),
            'situacao': shapes.STATUS_LABELS.get(token, token),
        }

    def settlement_event(self, settlement, row):
        rec = row.rec
        key = 'conta_a_receber' if row.receivable else 'conta_a_pagar'
        day = parse_date(settlement['data'])
        return {
            'codigo_baixa': settlement['codigo_baixa'],
            'codigo_baixa_integracao': settlement.get(
                'codigo_baixa_integracao', ''),
            'codigo_cliente_fornecedor': rec.get('codigo_cliente_fornecedor'),
            'codigo_conta_corrente': settlement['codigo_conta_corrente'],
            key: [{
                'codigo_lancamento_omie': row.id,
                'codigo_lancamento_integracao': row.code,
                'codigo_categoria': rec.get('codigo_categoria', ''),
                'data_emissao': iso_brazil(row.emission),
                'data_vencimento': iso_brazil(row.due),
                'numero_documento': rec.get('numero_documento', ''),
                'numero_parcela': rec.get('numero_parcela', ''),
                'valor_documento': rec.get('valor_documento'),
                'situacao': shapes.STATUS_LABELS.get(
                    row.token(self.today()), ''),
            }],
            'data': iso_brazil(day),
            'data_cred': iso_brazil(day),
            'desconto': settlement['desconto'],
            'juros': settlement['juros'],
            'multa': settlement['multa'],
            'tarifa': settlement.get('tarifa', 0.0),
            'valor': settlement['valor'],
            'observacao': settlement.get('observacao', ''),
            'liquidado': 'S' if row.open_amount <= CENT else 'N',
        }

    # -- current-account entries -------------------------------------------
    def include_movement(self, data):
        "IncluirLancCC: a manual entry; nature follows the category"
        code = str(data.get('cCodIntLanc') or '')
        if code and any(m.get('cCodIntLanc') == code for m in self.movements):
            raise faults.validation('Lançamento já cadastrado para o Código '
                'de Integração [%s] !' % code)
        head = dict(data.get('cabecalho') or {})
        details = dict(data.get('detalhes') or {})
        account = self.account_by_id.get(_int(head.get('nCodCC')))
        if account is None:
            raise faults.account_not_found()
        try:
            day = parse_date(head.get('dDtLanc'))
        except ValueError:
            raise faults.bad_date('dDtLanc', head.get('dDtLanc'))
        if day is None:
            raise faults.required('dDtLanc')
        value = _money_field('nValorLanc', head.get('nValorLanc'))
        if value <= 0:
            raise faults.required('nValorLanc')
        category_code = details.get('cCodCateg') or ''
        category = self.category_by_code.get(category_code)
        if category is None or category['totalizadora'] == 'S':
            raise faults.validation('Categoria [%s] não cadastrada ou não '
                'permite lançamentos!' % category_code)
        nature = 'R' if category['conta_receita'] == 'S' else 'P'
        target = _int((data.get('transferencia') or {}).get('nCodCCDestino')
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
                'nCodCliente': _int(details.get('nCodCliente') or 0),
                'nCodProjeto': _int(details.get('nCodProjeto') or 0),
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
            movement = self.movement_by_id.get(_int(omie_id))
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
        movement = self.movement_by_id.get(_int(movement_id))
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
        row = self.invoice_by_id.get(_int(invoice_id))
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


def bank_moved(settlement):
    """What a baixa moves in its bank account: the bank fee (tarifa) is
    withheld from a receipt and added to a payment"""
    fee = settlement.get('tarifa') or 0.0
    if settlement['natureza'] == 'R':
        return money(settlement['valor'] - fee)
    return money(settlement['valor'] + fee)


def clone(value):
    """Deep copy of plain JSON-like data; marshal does it at C speed"""
    return marshal.loads(marshal.dumps(value))


def _title_topic(kind, action):
    return 'Financas.%s.%s' % (
        'ContaReceber' if kind == 'CR' else 'ContaPagar', action)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _money_field(tag, value):
    if isinstance(value, bool):
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, tag))
    try:
        return money(value)
    except (TypeError, ValueError):
        raise faults.validation('Valor inválido [%s] na tag [%s]!'
            % (value, tag))


def _format_document(value):
    number = digits(value)
    if len(number) == 14:
        return cnpj_rules.format(number)
    if len(number) == 11:
        return cpf_rules.format(number)
    return str(value or '')


_CITY_BY_IBGE = {city[2]: city for city in names.CITIES}
_CITY_BY_NAME = {(ascii_upper(city[0]), city[1]): city
    for city in names.CITIES}


def _resolve_city(cidade, ibge, estado):
    """Omie accepts a city name or an IBGE code and prints 'NAME (UF)'"""
    cidade = str(cidade or '').strip()
    ibge = str(ibge or '').strip()
    if cidade.isdigit() and not ibge:
        ibge = cidade
    city = _CITY_BY_IBGE.get(ibge)
    if city is None and cidade:
        name = cidade.rsplit(' (', 1)[0]
        uf = estado or (cidade.rsplit('(', 1)[-1].rstrip(')')
            if cidade.endswith(')') else '')
        city = _CITY_BY_NAME.get((ascii_upper(name), uf.upper()))
    if city is not None:
        return {'cidade': '%s (%s)' % (ascii_upper(city[0]), city[1]),
            'cidade_ibge': city[2], 'estado': city[1]}
    if cidade and not cidade.endswith(')') and estado and estado != 'EX':
        cidade = '%s (%s)' % (ascii_upper(cidade), estado.upper())
    elif cidade:
        cidade = ascii_upper(cidade)
    return {'cidade': cidade, 'cidade_ibge': ibge}
