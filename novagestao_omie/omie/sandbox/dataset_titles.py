# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The payables and receivables of a generated dataset, their instalments,
NF-e and settlements, in the final shape Omie lists them"""
import datetime as dt

from .drafting import IdSequence, make_info, nfe_key
from .formats import format_date, money
# The status rule lives with the store's rows, applied again at read time.
from .rows import title_status

# Which expense categories each supplier profile bills.
PROFILE_EXPENSES = {
    'goods': ['2.04.01'] * 6 + ['2.04.02'],
    'carrier': ['2.04.02'],
    'rent': ['2.02.01'],
    'energy': ['2.02.02'],
    'water': ['2.02.03'],
    'telecom': ['2.02.04'],
    'office': ['2.02.05'],
    'accounting': ['2.02.06'],
    'employee': ['2.01.01'] * 4 + ['2.01.03', '2.01.04'],
    'partner': ['2.01.05'],
    'government': ['2.03.01', '2.03.02', '2.03.03', '2.03.04', '2.01.02'],
    'both': ['2.04.01'],
}
PROFILE_REVENUES = {
    'retail': ['1.01.01'] * 5 + ['1.01.03'],
    'services': ['1.01.02'],
    'consumer': ['1.01.01', '1.01.02', '1.01.03'],
    'both': ['1.01.01', '1.01.02'],
    'foreign': ['1.01.01'],
}
DOCUMENT_TYPES_CP = ['BOL'] * 6 + ['NF'] * 2 + ['99999', 'TRA', 'PIX', 'REC']
DOCUMENT_TYPES_CR = ['BOL'] * 5 + ['DUP'] * 2 + ['PIX', '99999', 'CRT']


class TitleDrafts:
    "The titles and settlements part of the dataset's generator"

    def pick_party(self, receivable):
        rng = self.rng
        if receivable:
            return rng.choice(self.clients)
        return rng.choice(self.suppliers)

    def profile_of(self, party, receivable):
        profile = self.profile_by_party.get(party['codigo_cliente_omie'],
            'both')
        # A "both" party bills as a supplier and buys as a client.
        if receivable and profile not in PROFILE_REVENUES:
            return 'both'
        if not receivable and profile not in PROFILE_EXPENSES:
            return 'both'
        return profile

    def build_titles(self):
        """Documents split in instalments; each instalment is one title."""
        rng = self.rng
        n_cp = self.n_titles // 2
        n_cr = self.n_titles - n_cp
        drafts = []
        for receivable, wanted in ((False, n_cp), (True, n_cr)):
            made = 0
            while made < wanted:
                party = self.pick_party(receivable)
                profile = self.profile_of(party, receivable)
                parcels = min(wanted - made, self.instalment_count(
                    receivable, profile))
                drafts.extend(self.document_drafts(
                    receivable, party, profile, parcels))
                made += parcels
        self.attach_invoices(drafts)
        drafts.sort(key=lambda d: (d['inc'], d['inc_secs']))
        next_id = IdSequence(rng, rng.randint(6, 7) * 10 ** 9)
        counters = {False: 0, True: 0}
        for draft in drafts:
            draft['record']['codigo_lancamento_omie'] = next_id()
            receivable = draft['receivable']
            counters[receivable] += 1
            if draft['via_api']:
                draft['record']['codigo_lancamento_integracao'] = '%s%07d' % (
                    'CR' if receivable else 'CP', counters[receivable])
        self.title_drafts = drafts

    def instalment_count(self, receivable, profile):
        rng = self.rng
        if profile in ('employee', 'partner', 'energy', 'water', 'telecom',
                'rent', 'accounting'):
            return 1
        if receivable:
            return rng.choices([1, 2, 3, 4, 6], [50, 15, 20, 8, 7])[0]
        return rng.choices([1, 2, 3, 4], [65, 15, 15, 5])[0]

    def document_drafts(self, receivable, party, profile, parcels):
        rng = self.rng
        today = self.today
        # Due dates span the 12 months before today and 3 months after.
        first_due = self.day_between(today - dt.timedelta(days=365),
            today + dt.timedelta(days=90))
        last_due = first_due + dt.timedelta(days=30 * (parcels - 1))
        horizon = today + dt.timedelta(days=90)
        if last_due > horizon:
            first_due -= last_due - horizon
        term = rng.choice([0, 7, 14, 21, 28, 30, 30, 30, 45])
        emission = min(first_due - dt.timedelta(days=term), today)
        if receivable:
            category = rng.choice(PROFILE_REVENUES.get(profile,
                ['1.01.01']))
        else:
            category = rng.choice(PROFILE_EXPENSES.get(profile,
                ['2.04.01']))
        if profile == 'employee':
            total = rng.choice([1850.0, 2200.0, 2780.0, 3450.0, 4900.0])
        elif profile == 'partner':
            total = 8000.0
        elif profile in ('energy', 'water', 'telecom'):
            total = rng.uniform(180, 2400)
        elif profile == 'rent':
            total = rng.choice([3500.0, 6800.0, 12000.0])
        else:
            total = min(max(rng.lognormvariate(7.0, 1.05), 35.0), 180000.0)
            if receivable:
                # A healthy company sells more than it buys.
                total *= 1.45
        total = money(total)
        via_api = rng.random() < 0.4
        if receivable:
            doc_type = rng.choice(DOCUMENT_TYPES_CR)
            number = '%s%d' % (rng.choice(['', 'PV-', 'OS-']),
                rng.randint(1000, 99999))
        else:
            doc_type = rng.choice(DOCUMENT_TYPES_CP)
            number = rng.choice(['NF %d', 'BOL %d', '%d', 'FAT-%d']) % (
                rng.randint(100, 999999))
        account = rng.choices(self.active_accounts, self.active_weights)[0]
        if account == self.cash_account and total > 1500:
            account = self.bank_accounts[0]
        rateio = (rng.random() < 0.06 and not receivable
                and profile in ('goods', 'both'))
        base = money(total / parcels)
        inc = min(emission + dt.timedelta(days=rng.choice([0, 0, 0, 1, 2])),
            today)
        inc_secs = self.office_hours()
        note = '' if rng.random() < 0.85 else rng.choice([
            'Pagamento conforme contrato.', 'Referente ao pedido do mês.',
            'Negociado com o financeiro.', 'Parcela renegociada.'])
        drafts = []
        for index in range(parcels):
            value = base if index < parcels - 1 else money(
                total - base * (parcels - 1))
            due = first_due + dt.timedelta(days=30 * index)
            record = {
                'codigo_lancamento_omie': 0,
                'codigo_lancamento_integracao': '',
                'codigo_cliente_fornecedor': party['codigo_cliente_omie'],
                'codigo_cliente_fornecedor_integracao':
                    party['codigo_cliente_integracao'],
                'data_vencimento': format_date(due),
                'data_previsao': format_date(due),
                'data_emissao': format_date(emission),
                'valor_documento': value,
                'codigo_categoria': category,
                'categorias': [{'codigo_categoria': category,
                    'valor': value, 'percentual': 100.0}],
                'id_conta_corrente': account,
                'numero_documento': number,
                'numero_documento_fiscal': '',
                'numero_parcela': '%03d/%03d' % (index + 1, parcels),
                'codigo_tipo_documento': doc_type,
                'chave_nfe': '',
                'observacao': note,
                'id_origem': ('APIR' if via_api else 'MANR') if receivable
                    else ('APIP' if via_api else 'MANP'),
                'importado_api': 'S' if via_api else 'N',
            }
            if receivable:
                record['data_registro'] = format_date(inc)
                record['boleto'] = {
                    'cGerado': 'S' if doc_type == 'BOL' else 'N',
                    'dDtEmBol': format_date(inc) if doc_type == 'BOL' else '',
                    'cNumBoleto': str(rng.randint(10 ** 9, 10 ** 10))
                        if doc_type == 'BOL' else '',
                    'cNumBancario': '', 'nPerJuros': 0.0, 'nPerMulta': 0.0}
            else:
                record['data_entrada'] = format_date(inc)
                if doc_type == 'BOL':
                    record['codigo_barras_ficha_compensacao'] = \
                        '%047d' % rng.randrange(10 ** 47)
            if rateio:
                second = '2.04.02'
                share = rng.choice([10.0, 15.0, 20.0, 25.0])
                part = money(value * share / 100)
                record['categorias'] = [
                    {'codigo_categoria': category,
                     'valor': money(value - part),
                     'percentual': 100.0 - share},
                    {'codigo_categoria': second, 'valor': part,
                     'percentual': share}]
            drafts.append({
                'record': record, 'receivable': receivable, 'party': party,
                'profile': profile, 'due': due, 'emission': emission,
                'inc': inc, 'inc_secs': inc_secs, 'via_api': via_api,
                'value': value, 'account': account,
            })
        return drafts

    def attach_invoices(self, drafts):
        """Sales of goods get an NF-e; some purchases carry the supplier's."""
        rng = self.rng
        documents = {}
        for draft in drafts:
            record = draft['record']
            key = (draft['receivable'], record['codigo_cliente_fornecedor'],
                record['numero_documento'], record['data_emissao'])
            documents.setdefault(key, []).append(draft)
        sales = []
        for key, group in documents.items():
            first = group[0]
            category = first['record']['codigo_categoria']
            if first['receivable'] and category == '1.01.01' and \
                    first['party']['codigo_pais'] == '1058' and \
                    rng.random() < 0.65:
                sales.append(group)
            elif not first['receivable'] and category == '2.04.01' and \
                    rng.random() < 0.5:
                supplier_cnpj = ''.join(ch for ch in
                    first['party']['cnpj_cpf'] if ch.isdigit()).rjust(14, '0')
                number = rng.randint(1000, 999999)
                chave = nfe_key(35, first['emission'], supplier_cnpj[:14], 1,
                    number, rng)
                for draft in group:
                    draft['record']['numero_documento_fiscal'] = str(number)
                    draft['record']['chave_nfe'] = chave
                    draft['record']['id_origem'] = 'NFEP' if \
                        rng.random() < 0.5 else 'XMLP'
        sales.sort(key=lambda g: (g[0]['emission'], g[0]['inc_secs']))
        self.sale_documents = sales
        number = 1000 + rng.randint(0, 500)
        for index, group in enumerate(sales):
            number += 1
            first = group[0]
            chave = nfe_key(35, first['emission'], self.company_cnpj, 1,
                number, rng)
            # ~3% cancelled, and always the fourth so small datasets have one
            cancelled = rng.random() < 0.03 or index == 3
            for draft in group:
                record = draft['record']
                record['numero_documento'] = '%09d' % number
                record['numero_documento_fiscal'] = str(number)
                record['chave_nfe'] = chave
                record['id_origem'] = 'NFER'
                record['codigo_tipo_documento'] = 'BOL' if \
                    record['codigo_tipo_documento'] == 'BOL' else 'DUP'
                draft['nf_number'] = number
                draft['nf_cancelled'] = cancelled

    def settle_titles(self):
        """Decide each title's fate relative to today and write the baixas."""
        rng = self.rng
        today = self.today
        self.settlement_drafts = []
        for draft in self.title_drafts:
            due = draft['due']
            value = draft['value']
            cancelled = draft.get('nf_cancelled', False)
            plan = []   # list of (date, principal, desconto, juros, multa)
            roll = rng.random()
            if not cancelled and roll < 0.025:
                cancelled = True
            elif cancelled:
                pass
            elif due < today:
                if roll < 0.86:
                    plan = self.full_payment(draft, due)
                elif roll < 0.92:
                    plan = [self.partial_payment(draft, due)]
            elif due == today:
                if roll < 0.3:
                    plan = [(today, value, 0.0, 0.0, 0.0)]
            else:
                if roll < 0.08:
                    plan = self.full_payment(draft, due)
                elif roll < 0.11:
                    plan = [self.partial_payment(draft, due)]
            draft['cancelled'] = cancelled
            draft['alt'], draft['alt_secs'] = draft['inc'], draft['inc_secs']
            if cancelled:
                cancel_day = self.day_between(draft['inc'], min(due, today))
                draft['alt'], draft['alt_secs'] = cancel_day, \
                    self.office_hours()
                if cancel_day == draft['inc']:
                    draft['alt_secs'] = max(draft['alt_secs'],
                        draft['inc_secs'])
            principal_total = 0.0
            for day, principal, desconto, juros, multa in plan:
                principal_total += principal
                paid = money(principal - desconto + juros + multa)
                account = draft['account'] if rng.random() < 0.9 else \
                    rng.choice(self.bank_accounts)
                secs = self.office_hours()
                self.settlement_drafts.append({
                    'title': draft, 'date': day, 'secs': secs,
                    'principal': principal, 'valor': paid,
                    'desconto': desconto, 'juros': juros, 'multa': multa,
                    'account': account,
                })
                if (day, secs) > (draft['alt'], draft['alt_secs']):
                    draft['alt'], draft['alt_secs'] = day, secs
            if not plan and not cancelled and rng.random() < 0.12:
                # Someone edited the title (due date, note...) after creation.
                edit = self.day_between(draft['inc'], today)
                secs = self.office_hours()
                if (edit, secs) > (draft['inc'], draft['inc_secs']):
                    draft['alt'], draft['alt_secs'] = edit, secs

    def full_payment(self, draft, due):
        rng = self.rng
        today = self.today
        value = draft['value']
        shift = rng.choices([-5, -2, -1, 0, 0, 0, 1, 3, 7, 15],
            [4, 4, 5, 30, 20, 10, 6, 6, 5, 4])[0]
        day = min(max(due + dt.timedelta(days=shift), draft['emission']),
            today)
        desconto = juros = multa = 0.0
        late_days = (day - due).days
        if late_days > 0 and rng.random() < 0.6:
            juros = money(value * 0.00033 * late_days)
            multa = money(value * 0.02)
        elif late_days < 0 and rng.random() < 0.25:
            desconto = money(value * rng.choice([0.02, 0.03, 0.05]))
        if rng.random() < 0.1 and value > 100:
            # Two baixas: a first part earlier, the rest on the final day.
            first_part = money(value * rng.choice([0.3, 0.4, 0.5]))
            first_day = self.day_between(draft['emission'], day)
            return [(first_day, first_part, 0.0, 0.0, 0.0),
                (day, money(value - first_part), desconto, juros, multa)]
        return [(day, value, desconto, juros, multa)]

    def partial_payment(self, draft, due):
        rng = self.rng
        value = draft['value']
        day = min(self.day_between(draft['emission'],
            due + dt.timedelta(days=10)), self.today)
        part = money(value * rng.choice([0.2, 0.3, 0.4, 0.5, 0.6, 0.7]))
        return (day, part, 0.0, 0.0, 0.0)

    def finish_titles(self):
        self.payables = []
        self.receivables = []
        settlements_by_title = {}
        for settlement in self.settlements:
            settlements_by_title.setdefault(
                settlement['codigo_lancamento'], []).append(settlement)
        for draft in self.title_drafts:
            record = draft['record']
            mine = settlements_by_title.get(record['codigo_lancamento_omie'],
                [])
            paid = money(sum(s['valor'] for s in mine))
            principal = sum(s['valor'] + s['desconto'] - s['juros']
                - s['multa'] for s in mine)
            discount = sum(s['desconto'] for s in mine)
            record['valor_pag'] = paid
            record['status_titulo'] = title_status(
                receivable=draft['receivable'], cancelled=draft['cancelled'],
                value=record['valor_documento'], principal=principal,
                discount=discount, due=draft['due'], today=self.today,
                spelling='A VENCER')
            via_api = draft['via_api']
            record['info'] = make_info(draft['inc'], draft['inc_secs'],
                draft['alt'], draft['alt_secs'],
                'WEBSERVICE' if via_api else self.user(),
                'WEBSERVICE' if via_api and draft['alt'] == draft['inc']
                else self.user(), via_api)
            (self.receivables if draft['receivable'] else
                self.payables).append(record)
