# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Duplicates: records typed by hand that repeat one linked to Omie are
found, linked (a party replaced, an invoice cancelled the accounting way)
or ignored; saving one warns the user, never the import; the import links
the record typed here instead of creating a second one, as set"""
from decimal import Decimal

from stdnum.br import cnpj

from trytond.exceptions import UserWarning
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from novagestao_integrations_base.export import IMPORTING
from novagestao_integrations_base.tests.tools import run_committed
from novagestao_omie.omie import records
from novagestao_omie.party import document_identifier
from novagestao_omie.tests.tools import SANDBOX_TODAY

from .tools import OmieEndToEndTestCase


def new_cnpj(seed):
    "A valid CNPJ of its own for each test"
    base = '%08d0001' % (71000000 + seed)
    return base + cnpj.calc_check_digits(base)


class DuplicatesTestCase(OmieEndToEndTestCase):
    "Records typed here beside the ones linked to Omie"
    sandbox_options = {'parties': 6, 'titles': 12, 'movements': 4}

    # helpers

    def user_transaction(self, **context):
        "A transaction of the admin user, who is shown warnings"
        with Transaction().start(DB_NAME, 0, readonly=True):
            User = Pool().get('res.user')
            admin, = User.search([('login', '=', 'admin')])
            admin_id = admin.id
        context.update(company=self.company_id, companies=[self.company_id])
        return Transaction().start(DB_NAME, admin_id, context=context)

    def committed(self, func):
        "Run func committed, restarted as the server does for its locks"
        return run_committed(DB_NAME, func, context={
                'company': self.company_id,
                'companies': [self.company_id],
                '_skip_warnings': True,
                })

    def bind(self, record, kind, external_id):
        Binding = Pool().get('integration.binding')
        Binding(integration=self.integration_id, kind=kind,
            external_id=external_id, record=record).save()

    def party(self, name, code, external_id=None):
        Party = Pool().get('party.party')
        party = Party(name=name, addresses=[{}], identifiers=[
                {'type': 'br_vat', 'code': code}])
        party.save()
        if external_id:
            self.bind(party, 'party', external_id)
        return party

    def set_integration(self, **values):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], values)
            transaction.commit()

    def map_categories(self):
        "Confirm a mapping of every Omie category to an account of its kind"
        with self.transaction() as transaction:
            pool = Pool()
            Account = pool.get('account.account')
            Mapping = pool.get('integration.mapping')
            targets = {kind: Account.search([
                        ('type.%s' % kind, '=', True),
                        ('company', '=', self.company_id),
                        ('closed', '!=', True),
                        ('childs', '=', None),
                        ], limit=1)[0] for kind in ['revenue', 'expense']}
            categories = {c['codigo']: c
                for c in self.sandbox.dataset.categories}
            mappings = Mapping.search([
                    ('integration', '=', self.integration_id)])
            for mapping in mappings:
                category = categories.get(mapping.external_code, {})
                mapping.target = targets['revenue'
                    if category.get('conta_receita') == 'S' else 'expense']
                mapping.state = 'confirmed'
            Mapping.save(mappings)
            transaction.commit()

    def supplier_invoice(self, party, reference, amount, post=True,
            date=SANDBOX_TODAY):
        pool = Pool()
        Account = pool.get('account.account')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        expense, = Account.search([
                ('type.expense', '=', True),
                ('company', '=', self.company_id),
                ('closed', '!=', True),
                ('childs', '=', None),
                ], limit=1)
        invoice = Invoice(
            company=self.company_id, type='in', party=party,
            invoice_date=date, reference=reference)
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.lines = [Line(
                type='line', account=expense, quantity=1,
                unit_price=amount, description="Aluguel")]
        invoice.save()
        if post:
            Invoice.post([invoice])
        return invoice

    def wizard(self, actions=None):
        """Run Find Duplicates from the integration's form as the client
        does: return the pairs it shows, then those left after applying
        {(record, linked): action}"""
        pool = Pool()
        Wizard = pool.get('integration.duplicate.find', type='wizard')
        with Transaction().set_context(
                active_model='integration.integration',
                active_id=self.integration_id,
                active_ids=[self.integration_id]):
            session_id, _, _ = Wizard.create()
            shown = Wizard.execute(session_id, {}, 'start')[
                'view']['defaults']['pairs']
            if actions is None:
                return shown, None
            for pair in shown:
                pair['action'] = actions.get(
                    (pair['record'], pair['linked']))
            left = Wizard.execute(
                session_id, {'start': {'pairs': shown}}, 'apply')[
                'view']['defaults']['pairs']
            Wizard.delete(session_id)
            return shown, left

    # tests

    def test_party_by_tax_id_linked_by_replace(self):
        code = new_cnpj(1)

        def prepare():
            linked = self.party("Comercial Exemplo Ltda", code, '9001')
            # typed here with the CNPJ formatted: the same digits
            manual = self.party("Comercial Exemplo", cnpj.format(code))
            self.party("Outra Empresa", new_cnpj(2))
            invoice = self.supplier_invoice(
                manual, "NF 77", Decimal('90.00'), post=False)
            return str(linked), str(manual), invoice.id
        linked, manual, invoice_id = self.committed(prepare)

        with self.transaction():
            shown, _ = self.wizard()
        self.assertEqual(
            [(p['record'], p['linked'], p['record_name'],
                    p['linked_name']) for p in shown],
            [(manual, linked, "Comercial Exemplo",
                    "Comercial Exemplo Ltda")])
        self.assertIn(cnpj.format(code), shown[0]['reason'])
        self.assertIn('9001', shown[0]['external'])

        shown, left = self.committed(
            lambda: self.wizard({(manual, linked): 'link'}))
        self.assertEqual(left, [])
        with self.transaction(readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Party = pool.get('party.party')
            manual = Party(int(manual.split(',')[1]))
            self.assertFalse(manual.active)
            self.assertEqual(str(manual.replaced_by), linked)
            # the documents of the party typed here went to the linked one
            self.assertEqual(str(Invoice(invoice_id).party), linked)

    def test_invoice_by_party_amount_date_number(self):
        def prepare():
            supplier = self.party("Imobiliária Central", new_cnpj(3), '9003')
            linked = self.supplier_invoice(
                supplier, "NF 4821", Decimal('1520.35'))
            self.bind(linked, 'payable', '7001')
            posted = self.supplier_invoice(
                supplier, "nf-4821", Decimal('1520.35'))
            draft = self.supplier_invoice(
                supplier, "NF4821", Decimal('1520.35'), post=False)
            # another amount, another number: not the same
            self.supplier_invoice(supplier, "NF 4821", Decimal('1520.36'))
            self.supplier_invoice(supplier, "NF 4822", Decimal('1520.35'))
            return str(linked), str(posted), str(draft)
        linked, posted, draft = self.committed(prepare)

        shown, left = self.committed(lambda: self.wizard({
                    (posted, linked): 'link',
                    (draft, linked): 'ignore',
                    }))
        self.assertEqual(
            sorted((p['record'], p['linked']) for p in shown),
            sorted([(posted, linked), (draft, linked)]))
        # the ignored pair is not proposed again
        self.assertEqual(left, [])
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            # cancelled the accounting way, kept
            posted = Invoice(int(posted.split(',')[1]))
            self.assertEqual(posted.state, 'cancelled')
            self.assertEqual(posted.move.state, 'posted')
            self.assertEqual(posted.cancel_move.state, 'posted')
            self.assertEqual(
                [l.reconciliation is not None for l in
                    posted.move.lines + posted.cancel_move.lines
                    if l.account == posted.account], [True, True])
            self.assertEqual(
                Invoice(int(draft.split(',')[1])).state, 'draft')
            self.assertEqual(
                Invoice(int(linked.split(',')[1])).state, 'posted')
        with self.transaction():
            self.assertEqual(self.wizard()[0], [])

    def test_user_warned_import_not(self):
        code = new_cnpj(4)

        def prepare():
            supplier = self.party("Posto Avenida Ltda", code, '9004')
            linked = self.supplier_invoice(
                supplier, "NF 15", Decimal('300.00'))
            self.bind(linked, 'payable', '7004')
            return supplier.id
        supplier_id = self.committed(prepare)

        with self.user_transaction() as transaction:
            pool = Pool()
            Party = pool.get('party.party')
            Warning = pool.get('res.user.warning')
            with self.assertRaises(UserWarning) as raised:
                Party.create([{'name': "Posto Avenida", 'identifiers': [
                                ('create', [{'type': 'br_vat',
                                            'code': code}])]}])
            self.assertIn("Posto Avenida Ltda", raised.exception.message)
            self.assertIn('9004', raised.exception.message)
            transaction.rollback()
            # the user chose to save anyway
            Warning.skip(raised.exception.name)
            party, = Party.create([{'name': "Posto Avenida", 'identifiers': [
                            ('create', [{'type': 'br_vat', 'code': code}])]}])
            self.assertEqual(party.identifiers[0].code_compact, code)

            # the same invoice typed by hand
            with self.assertRaises(UserWarning) as raised:
                self.supplier_invoice(
                    Party(supplier_id), "nf 15", Decimal('300.00'),
                    post=False)
            self.assertIn("NF 15", raised.exception.message)
            transaction.rollback()

        with self.user_transaction(**{IMPORTING: True}) as transaction:
            Party = Pool().get('party.party')
            party, = Party.create([{'name': "Posto Avenida", 'identifiers': [
                            ('create', [{'type': 'br_vat', 'code': code}])]}])
            self.supplier_invoice(
                Party(supplier_id), "nf 15", Decimal('300.00'), post=False)
            transaction.rollback()

    def test_import_links_manual_party_or_creates(self):
        first = next(p for p in (records.Party.from_omie(p)
                for p in self.sandbox.dataset.parties)
            if len(p.document) == 14 and document_identifier(p.document))
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            self.assertTrue(integration.link_manual_parties)
            self.assertFalse(integration.link_manual_invoices)
            typed = self.party("Typed here", cnpj.format(first.document))
            transaction.commit()
        self.sync()
        with self.transaction() as transaction:
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            bound = Binding.records_of(integration, 'party', [first.omie_id])
            # linked, not created
            self.assertEqual(bound[str(first.omie_id)], typed)
            # the setting off: a new Omie client is created beside the
            # party typed here
            integration.link_manual_parties = False
            integration.save()
            code = new_cnpj(5)
            manual = self.party("Cliente Novo", code)
            transaction.commit()
        new = self.sandbox.store.include_party({
                'razao_social': "Cliente Novo Ltda",
                'cnpj_cpf': cnpj.format(code)})
        self.sync()
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            created = Binding.records_of(
                integration, 'party', [new['codigo_cliente_omie']])[
                str(new['codigo_cliente_omie'])]
            self.assertNotEqual(created, manual)
            self.assertEqual(created.name, "Cliente Novo Ltda")
            self.assertEqual(
                [i.code_compact for i in created.identifiers], [code])
            # and the pair is proposed
            self.assertIn((manual, created),
                integration.find_duplicate_pairs())

    def test_import_links_manual_invoice(self):
        "Set on, a new title links the invoice typed here that repeats it"
        self.set_integration(
            filter_entities=['category', 'bank_account', 'party'])
        self.sync()
        self.map_categories()
        store = self.sandbox.store
        titles = [records.Title.from_omie(
                store.render_title(row, store.today(), 'A VENCER'),
                'payable') for row in store.titles['CP']
            if not row.cancelled]
        title = next(t for t in titles
            if t.document_number and t.amount > 0
            and (t.issue_date or t.due_date).year >= SANDBOX_TODAY.year - 1)

        def prepare():
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            party = Binding.records_of(
                Integration(self.integration_id), 'party',
                [title.party_omie_id])[str(title.party_omie_id)]
            invoice = self.supplier_invoice(
                party, title.document_number, title.amount,
                date=title.issue_date or title.due_date)
            return invoice.id
        invoice_id = self.committed(prepare)
        self.set_integration(link_manual_invoices=True, filter_entities=[
                'category', 'bank_account', 'party', 'payable'])
        self.sync()
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            Invoice = pool.get('account.invoice')
            integration = Integration(self.integration_id)
            invoice = Binding.records_of(integration, 'payable', [
                    title.omie_id])[str(title.omie_id)]
            self.assertEqual(invoice.id, invoice_id)
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(Invoice.search([
                        ('party', '=', invoice.party.id),
                        ('total_amount', '=', title.amount),
                        ('invoice_date', '=', invoice.invoice_date),
                        ]), [invoice])
            # other titles were created as usual
            self.assertGreater(len(Binding.search([
                            ('integration', '=', self.integration_id),
                            ('kind', '=', 'payable'),
                            ])), 1)
