# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Bidirectional sync: what is created in Tryton reaches Omie once, through
the sandbox's HTTP API, and the next import recognises it"""
import datetime as dt
import zlib
from decimal import Decimal

from stdnum.br import cnpj

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from novagestao_integrations_base.exceptions import IntegrationWarning
from novagestao_integrations_base.tests.tools import (
    create_brazilian_company, run_committed)
from novagestao_omie.omie import records
from novagestao_omie.settlement import OmieAccounts
from novagestao_omie.tests.tools import SANDBOX_TODAY

from .posting import request
from .tools import OmieEndToEndTestCase


def new_cnpj(seed):
    "A valid CNPJ of its own for each test"
    base = '%012d' % (zlib.crc32(seed.encode()) % 10 ** 8 * 10 ** 4 + 1)
    return base + cnpj.calc_check_digits(base)


ENTITIES = ['category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement']


class ExportCase(OmieEndToEndTestCase):
    "A company of its own with a bidirectional integration, and helpers"
    sandbox_options = {'seed': 61, 'parties': 6, 'titles': 8, 'movements': 0}

    def setUp(self):
        # a company of its own: what a test typed in Tryton is not
        # exported by the integration of the next one
        self.company_id = run_committed(DB_NAME,
            lambda: create_brazilian_company(
                name="Export %s" % self._testMethodName,
                today=SANDBOX_TODAY).id)
        self.cnpj = new_cnpj(self.id())
        super().setUp()
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'filter_entities': ENTITIES})
            transaction.commit()
        state, _, _ = self.sync()
        self.assertIn(state, {'done', 'partial'})
        self.expense, self.revenue = self.map_one_category_per_side()
        # the titles of the mapped categories import now, not in the test
        self.sync()
        with self.transaction() as transaction:
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            bank, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'bank_account'),
                    ], order=[('external_id', 'ASC')], limit=1)
            self.bank_id = int(bank.external_id)
            Integration.write([Integration(self.integration_id)], {
                    'direction': 'bidirectional',
                    'export_from': SANDBOX_TODAY - dt.timedelta(days=30),
                    'export_bank_account': bank.id,
                    })
            transaction.commit()

    # helpers

    def sync(self, trigger='manual'):
        "A run that never stops on an unexpected error"
        state, summary, errors = super().sync(trigger)
        if state == 'failed':
            with self.transaction(readonly=True):
                Integration = Pool().get('integration.integration')
                self.fail(Integration(self.integration_id).runs[0].message)
        return state, summary, errors

    def map_one_category_per_side(self):
        """Confirm one expense and one revenue category onto new accounts;
        return ((code, account id), (code, account id))"""
        result = []
        with self.transaction() as transaction:
            pool = Pool()
            Account = pool.get('account.account')
            Mapping = pool.get('integration.mapping')
            for side, type_ in [('D', 'expense'), ('R', 'revenue')]:
                category = next(c for c in self.sandbox.dataset.categories
                    if c['totalizadora'] != 'S'
                    and c['transferencia'] != 'S'
                    and c['codigo'].startswith('2.' if side == 'D' else '1.'))
                sibling, = Account.search([
                        ('type.%s' % type_, '=', True),
                        ('company', '=', self.company_id),
                        ('childs', '=', None),
                        ], limit=1)
                account = Account(name='Export %s' % type_,
                    type=sibling.type, parent=sibling.parent,
                    company=self.company_id)
                account.save()
                mapping, = Mapping.search([
                        ('integration', '=', self.integration_id),
                        ('external_code', '=', category['codigo']),
                        ])
                mapping.target = account
                mapping.state = 'confirmed'
                mapping.save()
                result.append((category['codigo'], account.id))
            transaction.commit()
        return result

    def create_invoice(self, type_, account_id, amount, name="Fornecedor "
            "Exportado Ltda", post=True):
        """Create (and post) an invoice typed in Tryton, of a party of the
        test; return its id"""
        name = '%s %s' % (name, self.cnpj[:8])

        def create():
            pool = Pool()
            Account = pool.get('account.account')
            Address = pool.get('party.address')
            Contact = pool.get('party.contact_mechanism')
            Identifier = pool.get('party.identifier')
            Invoice = pool.get('account.invoice')
            Line = pool.get('account.invoice.line')
            Party = pool.get('party.party')
            parties = Party.search([('name', '=', name)])
            if parties:
                party, = parties
            else:
                payable, = Account.search([
                        ('type.payable', '=', True),
                        ('company', '=', self.company_id),
                        ('closed', '!=', True),
                        ], limit=1)
                receivable, = Account.search([
                        ('type.receivable', '=', True),
                        ('company', '=', self.company_id),
                        ('closed', '!=', True),
                        ], limit=1)
                party = Party(name=name,
                    account_payable=payable, account_receivable=receivable,
                    identifiers=[Identifier(type='br_vat', code=self.cnpj)],
                    addresses=[Address(street="Rua das Flores, 100\nCentro",
                            postal_code='01310-100', city="São Paulo")],
                    contact_mechanisms=[
                        Contact(type='email', value='financeiro@exportado.com'),
                        Contact(type='phone', value='(11) 3456-7890')])
                party.save()
            invoice = Invoice(company=self.company_id, type=type_,
                party=party, invoice_date=SANDBOX_TODAY,
                reference='NF-%s' % amount, description="Typed in Tryton")
            invoice.on_change_type()
            invoice.on_change_party()
            invoice.lines = [Line(account=Account(account_id), quantity=1,
                    unit_price=Decimal(amount), description="Serviço")]
            invoice.save()
            if post:
                Invoice.post([invoice])
            return invoice.id
        return request(DB_NAME, 0, self.context(), create)

    def context(self):
        return {'company': self.company_id, 'companies': [self.company_id],
            '_skip_warnings': True}

    def pay(self, invoice_id, amount):
        "Pay the invoice through the Omie bank account's payment method"
        def pay():
            pool = Pool()
            MoveLine = pool.get('account.move.line')
            Integration = pool.get('integration.integration')
            Invoice = pool.get('account.invoice')
            invoice = Invoice(invoice_id)
            method = OmieAccounts(
                Integration(self.integration_id)).payment_method(self.bank_id)
            lines = invoice.pay_invoice(Decimal(amount), method,
                SANDBOX_TODAY)
            if Decimal(amount) == invoice.total_amount:
                # as the pay wizard does when the invoice is paid in full
                MoveLine.reconcile(list(invoice.lines_to_pay) + lines)
                # what the queue does after a reconciliation
                Invoice.process([invoice])
            return [l.id for l in lines]
        return request(DB_NAME, 0, self.context(), pay)

    def code(self, prefix, record_id):
        return 'NG%d-%s-%d' % (self.integration_id, prefix, record_id)

    def store(self):
        return self.sandbox.store

    def pending_errors(self):
        with self.transaction(readonly=True):
            Error = Pool().get('integration.sync.error')
            return [(e.entity, e.external_id, e.kind, e.message,
                    e.suggested_fix) for e in Error.search([
                        ('integration', '=', self.integration_id),
                        ('resolved', '=', False),
                        ('detail', '=', 'export'),
                        ])]



class ExportTestCase(ExportCase):

    def test_supplier_invoice_and_payment_reach_omie_once(self):
        "A party, its supplier invoice and payment are exported, once"
        code, account_id = self.expense
        invoice_id = self.create_invoice('in', account_id, '150.00')
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(summary['party']['exported'], 1)
        self.assertEqual(summary['payable']['exported'], 1)
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            party_id = Invoice(invoice_id).party.id
        store = self.store()
        party = store.party_by_code[self.code('P', party_id)]
        self.assertEqual(party['razao_social'],
            "Fornecedor Exportado Ltda %s" % self.cnpj[:8])
        self.assertEqual(records.only_digits(party['cnpj_cpf']), self.cnpj)
        self.assertEqual(party['email'], 'financeiro@exportado.com')
        self.assertEqual(
            (party['telefone1_ddd'], party['telefone1_numero']),
            ('11', '34567890'))
        self.assertEqual([t['tag'] for t in party['tags']], ['Fornecedor'])
        title = store.title_by_code['CP'][self.code('CP', invoice_id)]
        self.assertEqual(title.rec['valor_documento'], 150.0)
        self.assertEqual(title.rec['codigo_categoria'], code)
        self.assertEqual(title.rec['id_conta_corrente'], self.bank_id)
        self.assertEqual(title.rec['codigo_cliente_fornecedor'],
            party['codigo_cliente_omie'])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            line, = Invoice(invoice_id).lines_to_pay
            self.assertEqual(title.rec['data_vencimento'],
                line.maturity_date.strftime('%d/%m/%Y'))
        self.assertEqual(title.rec['numero_documento'], 'NF-150.00')

        line_ids = self.pay(invoice_id, '150.00')
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(summary['settlement']['exported'], 1)
        settlement = store.settlement_by_code[self.code('BX', line_ids[0])]
        self.assertEqual(settlement['valor'], 150.0)
        self.assertEqual(settlement['codigo_conta_corrente'], self.bank_id)
        self.assertLessEqual(title.open_amount, 0.01)

        # the next import knows them all: nothing created twice, on either
        # side, and exporting again sends nothing
        state, summary, errors = self.sync('manual')
        for entity in ['party', 'payable', 'settlement']:
            self.assertEqual(summary.get(entity, {}).get('created', 0), 0,
                entity)
            self.assertEqual(summary.get(entity, {}).get('exported', 0), 0,
                entity)
        self.assertEqual(summary['party']['updated'], 0)
        with self.transaction(readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Move = pool.get('account.move')
            Party = pool.get('party.party')
            self.assertEqual(len(Party.search([('name', '=',
                                "Fornecedor Exportado Ltda %s"
                                % self.cnpj[:8])])), 1)
            invoice = Invoice(invoice_id)
            self.assertEqual(invoice.state, 'paid')
            self.assertEqual(len(Invoice.search([
                            ('reference', '=', 'NF-150.00')])), 1)
            payment, = Move.search([
                    ('origin', '=', str(invoice)),
                    ('journal.type', '=', 'cash'),
                    ])
            # its bank movement in Omie settles its clearing line
            Binding = pool.get('integration.binding')
            movement, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'settlement_line'),
                    ('record', 'in', [str(l) for l in payment.lines]),
                    ])
            self.assertEqual(int(movement.external_id),
                settlement['codigo_movimento_cc'])
            self.assertTrue(movement.record.account.reconcile)
        self.assertEqual(len(store.title_by_code['CP']), len(
                [r for r in store.titles['CP'] if r.code]))
        self.assertEqual([s for s in store.settlements
                if s['codigo_lancamento'] == title.id], [settlement])

    def test_lost_answers_never_create_twice(self):
        "An answer lost after Omie stored the write: sent again, held once"
        _, account_id = self.revenue
        invoice_id = self.create_invoice('out', account_id, '99.90',
            name="Cliente Exportado SA")
        settings = self.sandbox.settings
        settings.timeout_seconds = 0.2
        settings.fail_next.append(
            {'kind': 'lost_answer', 'call': 'UpsertCliente'})
        state, summary, errors = self.sync('export')
        # a timeout stops the export: the rest waits for the next run
        self.assertEqual([(e[0], e[2]) for e in errors],
            [('party', 'timeout')])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            party = Invoice(invoice_id).party
            party_id, party_name = party.id, party.name
        self.assertIn(self.code('P', party_id), self.store().party_by_code)

        # the import meets the client first: it is the party sent, linked;
        # the export that follows in the run loses the title's answer
        settings.fail_next.append(
            {'kind': 'lost_answer', 'call': 'UpsertContaReceber'})
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['party']['created'], 0)
        self.assertIn(('receivable', 'timeout'),
            [(e[0], e[2]) for e in errors])
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Party = pool.get('party.party')
            self.assertEqual(len(Party.search([('name', '=', party_name)])),
                1)
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('record', '=', str(Party(party_id))),
                    ])
            self.assertEqual(int(binding.external_id), self.store(
                    ).party_by_code[self.code('P', party_id)][
                    'codigo_cliente_omie'])

        code = self.code('CR', invoice_id)
        self.assertIn(code, self.store().title_by_code['CR'])
        # the import meets the title first: it is the invoice sent
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['receivable']['created'], 0)
        self.assertEqual(summary.get('receivable', {}).get('exported'), 0)
        self.assertEqual(self.pending_errors(), [])
        titles = [r for r in self.store().titles['CR'] if r.code == code]
        self.assertEqual(len(titles), 1)
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            self.assertEqual(Invoice.search_count([
                        ('party', '=', party_id)]), 1)

        line_ids = self.pay(invoice_id, '40.00')
        settings.fail_next.append(
            {'kind': 'lost_answer', 'call': 'LancarRecebimento'})
        state, summary, errors = self.sync('export')
        self.assertEqual([(e[0], e[2]) for e in errors],
            [('settlement', 'timeout')])
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        settlements = [s for s in self.store().settlements
            if s['codigo_baixa_integracao'] == self.code('BX', line_ids[0])]
        self.assertEqual(len(settlements), 1)
        with self.transaction(readonly=True):
            Binding = Pool().get('integration.binding')
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'settlement'),
                    ('origin', '=', 'export'),
                    ])
            self.assertEqual(int(binding.external_id),
                settlements[0]['codigo_baixa'])

        # another payment whose answer is lost: the import meets it first
        # (ListarMovimentos shows no integration code): the same amount on
        # the same day, it is the payment sent, not a second one
        second = self.pay(invoice_id, '20.00')
        settings.fail_next.append(
            {'kind': 'lost_answer', 'call': 'LancarRecebimento'})
        state, summary, errors = self.sync('export')
        self.assertEqual([(e[0], e[2]) for e in errors],
            [('settlement', 'timeout')])
        state, summary, errors = self.sync('manual')
        self.assertEqual(summary['settlement']['created'], 0)
        self.assertEqual(summary['settlement']['exported'], 0)
        self.assertEqual(len([s for s in self.store().settlements
                    if s['codigo_lancamento'] == titles[0].id]), 2)
        with self.transaction(readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            MoveLine = pool.get('account.move.line')
            invoice = Invoice(invoice_id)
            self.assertEqual(len(invoice.payment_lines), 2)
            self.assertEqual(invoice.amount_to_pay, Decimal('39.90'))
            Binding = pool.get('integration.binding')
            self.assertTrue(Binding.for_records(
                    invoice.integration_bindings[0].integration,
                    [MoveLine(second[0]).move]))

        # reversed in Tryton: cancelled in Omie
        with self.transaction() as transaction:
            Invoice = Pool().get('account.invoice')
            MoveLine = Pool().get('account.move.line')
            Invoice.remove_payment_lines(
                [MoveLine(line_ids[0]), MoveLine(second[0])])
            transaction.commit()
        state, summary, errors = self.sync('export')
        self.assertEqual((state, errors), ('done', []))
        self.assertEqual(summary['settlement']['exported'], 2)
        self.assertEqual([s for s in self.store().settlements
                if s['codigo_lancamento'] == titles[0].id], [])

    def test_refusals_wait_with_their_fix(self):
        "An unmapped account or a missing bank account waits, then goes"
        with self.transaction() as transaction:
            pool = Pool()
            Account = pool.get('account.account')
            sibling, = Account.search([
                    ('type.expense', '=', True),
                    ('company', '=', self.company_id),
                    ('childs', '=', None),
                    ], limit=1)
            unmapped = Account(name='Export unmapped', type=sibling.type,
                parent=sibling.parent, company=self.company_id)
            unmapped.save()
            transaction.commit()
        invoice_id = self.create_invoice('in', unmapped.id, '10.00')
        state, summary, errors = self.sync('export')
        (entity, external_id, kind, message), = errors
        self.assertEqual((entity, kind), ('payable', 'category_not_mapped'))
        self.assertEqual(external_id, self.code('CP', invoice_id))
        self.assertIn('Export unmapped', message)
        self.assertNotIn(self.code('CP', invoice_id),
            self.store().title_by_code['CP'])

        with self.transaction() as transaction:
            Mapping = Pool().get('integration.mapping')
            mapping, = Mapping.search([
                    ('integration', '=', self.integration_id),
                    ('external_code', '=', self.expense[0]),
                    ])
            mapping.target = unmapped
            mapping.save()
            transaction.commit()
        # Omie refuses a bank account it does not have: a remote error
        with self.transaction() as transaction:
            pool = Pool()
            Binding = pool.get('integration.binding')
            bank, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'bank_account'),
                    ('external_id', '=', str(self.bank_id)),
                    ])
            bank.external_id = '1'
            bank.save()
            transaction.commit()
        state, summary, errors = self.sync('export')
        (entity, _, kind, message), = errors
        self.assertEqual((entity, kind), ('payable', 'remote_error'))
        self.assertIn('id_conta_corrente', message)
        with self.transaction() as transaction:
            Binding = Pool().get('integration.binding')
            bank, = Binding.search([('external_id', '=', '1'),
                    ('integration', '=', self.integration_id)])
            bank.external_id = str(self.bank_id)
            bank.save()
            transaction.commit()
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(self.pending_errors(), [])
        self.assertIn(self.code('CP', invoice_id),
            self.store().title_by_code['CP'])

    def test_field_choice_and_cancellation(self):
        "Only the chosen fields are sent; a cancelled invoice is cancelled"
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'export_party_fields': ['address'],
                    'export_invoice_fields': ['category'],
                    })
            transaction.commit()
        _, account_id = self.revenue
        invoice_id = self.create_invoice('out', account_id, '20.00',
            name="Cliente Campos SA")
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            party_id = Invoice(invoice_id).party.id
        party = self.store().party_by_code[self.code('P', party_id)]
        self.assertFalse(party.get('cnpj_cpf'))
        self.assertFalse(party.get('email'))
        self.assertFalse(party.get('tags'))
        self.assertEqual(party['cep'], '01310100')
        row = self.store().title_by_code['CR'][self.code('CR', invoice_id)]
        self.assertFalse(row.rec.get('numero_documento'))

        # a change of the party here goes to Omie; the import does not
        # bring it back as a change
        with self.transaction() as transaction:
            Address = Pool().get('party.address')
            address, = Address.search([('party', '=', party_id)])
            address.postal_code = '20040-002'
            address.save()
            transaction.commit()
        state, summary, errors = self.sync('export')
        self.assertEqual(summary['party']['exported'], 1)
        self.assertEqual(party['cep'], '20040002')

        def cancel():
            pool = Pool()
            Company = pool.get('company.company')
            Invoice = pool.get('account.invoice')
            # the company lets its posted customer invoices be cancelled
            Company.write([Company(self.company_id)],
                {'cancel_invoice_out': True})
            Invoice.cancel([Invoice(invoice_id)])
        request(DB_NAME, 0, self.context(), cancel)
        state, summary, errors = self.sync('manual')
        self.assertTrue(row.cancelled)
        self.assertEqual(summary['receivable']['created'], 0)
        self.assertEqual(summary['party']['updated'], 0)
        self.assertEqual([e for e in errors
                if e[1] in {str(party['codigo_cliente_omie']), str(row.id)}
                or e[0] in {'party', 'receivable'}], [])

    def test_changes_queue_an_export_and_bidirectional_asks_first(self):
        "Posting queues an export run; turning two-way on warns of duplicates"
        _, account_id = self.expense
        invoice_id = self.create_invoice('in', account_id, '5.00',
            post=False)
        def post():
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Queue = pool.get('ir.queue')
            before = Queue.search_count([])
            Invoice.post([Invoice(invoice_id)])
            return [(t.data['method'], t.data['args'], t.data['instances'])
                for t in Queue.search([], order=[('id', 'DESC')],
                    limit=Queue.search_count([]) - before)]
        tasks = request(DB_NAME, 0, self.context(), post)
        self.assertIn(('run_sync', ('export',), (self.integration_id,)),
            tasks)
        # the task a worker runs
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(summary['payable']['exported'], 1)

        # as the administrator, who is asked (the root user never is)
        with Transaction().start(DB_NAME, 0) as transaction:
            admin, = Pool().get('res.user').search([('login', '=', 'admin')])
        with Transaction().start(DB_NAME, admin.id, context={
                    'company': self.company_id,
                    'companies': [self.company_id]}) as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            Integration.write([integration], {'direction': 'import'})
            with self.assertRaises(IntegrationWarning) as raised:
                Integration.write([integration],
                    {'direction': 'bidirectional'})
            self.assertIn('duplicate', raised.exception.message)
            transaction.rollback()

    def test_custom_categories_created_once_under_the_group(self):
        "An account no category maps to becomes one Omie category, once"
        expense_code, mapped_account_id = self.expense
        group = expense_code.rpartition('.')[0]
        with self.transaction() as transaction:
            Account = Pool().get('account.account')
            mapped = Account(mapped_account_id)
            account = Account(name="Consultoria em Sustentabilidade",
                type=mapped.type, parent=mapped.parent,
                company=self.company_id)
            account.save()
            account_id = account.id
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'export_categories': True})
            transaction.commit()
        first = self.create_invoice('in', account_id, '75.00')
        state, summary, errors = self.sync('export')
        # no group chosen: the category waits, and the invoice with it
        self.assertEqual(sorted((e[0], e[2]) for e in errors),
            [('category', 'category_not_mapped'),
                ('payable', 'category_not_mapped')])
        fix, = [e[4] for e in self.pending_errors() if e[0] == 'category']
        self.assertIn('Export', fix)

        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            self.assertIn(group,
                [g for g, _ in integration.get_category_groups()])
            Integration.write([integration], {'export_expense_group': group})
            transaction.commit()
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(summary['category']['exported'], 1)
        created = [c for c in self.store().categories
            if c['descricao'] == "Consultoria em Sustentabilidade"]
        self.assertEqual(len(created), 1)
        code = created[0]['codigo']
        self.assertEqual(created[0]['categoria_superior'], group)
        self.assertEqual((created[0]['conta_despesa'],
                created[0]['totalizadora']), ('S', 'N'))
        row = self.store().title_by_code['CP'][self.code('CP', first)]
        self.assertEqual(row.rec['codigo_categoria'], code)

        # its mapping lost (a crash before the commit): Omie's category of
        # the account's name is taken, not created again
        with self.transaction() as transaction:
            Mapping = Pool().get('integration.mapping')
            mapping, = Mapping.search([
                    ('integration', '=', self.integration_id),
                    ('external_code', '=', code),
                    ])
            self.assertEqual((mapping.state, mapping.target.id),
                ('confirmed', account_id))
            Mapping.delete([mapping])
            transaction.commit()
        second = self.create_invoice('in', account_id, '80.00')
        state, summary, errors = self.sync('export')
        self.assertEqual(errors, [])
        self.assertEqual(len([c for c in self.store().categories
                    if c['descricao'] == "Consultoria em Sustentabilidade"]),
            1)
        row = self.store().title_by_code['CP'][self.code('CP', second)]
        self.assertEqual(row.rec['codigo_categoria'], code)
        # the import knows it as the mapping it is
        state, summary, errors = self.sync('manual')
        with self.transaction(readonly=True):
            Mapping = Pool().get('integration.mapping')
            mapping, = Mapping.search([
                    ('integration', '=', self.integration_id),
                    ('external_code', '=', code),
                    ])
            self.assertEqual((mapping.state, mapping.target.id),
                ('confirmed', account_id))
