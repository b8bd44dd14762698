# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Amounts beyond the bound, finer than a cent or in another currency stay
pending with their fix; none is posted (sandbox + the real importers)."""
from decimal import Decimal

from trytond.pool import Pool

from novagestao_omie.omie import records

from . import test_sync_titles


class AmountsTestCase(test_sync_titles.TitlesTestCase):
    "Amounts and currencies of titles, settlements and movements"

    def errors_of(self, errors, external_id):
        return [e for e in errors if e[1] == str(external_id)]

    def pending(self, kind, external_id):
        with self.transaction(readonly=True):
            Error = Pool().get('integration.sync.error')
            return [(e.kind, e.message, e.suggested_fix)
                for e in Error.search([
                        ('integration', '=', self.integration_id),
                        ('entity', '=', kind),
                        ('external_id', '=', str(external_id)),
                        ('resolved', '=', False),
                        ])]

    def largest_invoice(self):
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            return max(abs(i.total_amount) for i in Invoice.search([
                        ('company', '=', self.company_id)]))

    def test_huge_title_stays_pending_then_imports_once_fixed(self):
        receivable = self.open_title('CR')
        amount = records.parse_decimal(receivable.value)
        self.sandbox.change('receivable', receivable.id,
            valor_documento=1e20)
        state, summary, errors = self.import_mapped()
        self.assertNotEqual(state, 'failed')
        (kind, message, fix), = self.pending('receivable', receivable.id)
        self.assertEqual(kind, 'validation')
        self.assertIn('valor_documento', message)
        self.assertIn('1e+20', message)
        self.assertIn('Omie', fix)
        with self.transaction(readonly=True):
            self.assertNotIn(receivable.id, self.invoices_by_title())
        self.assertLess(self.largest_invoice(), records.AMOUNT_LIMIT)
        # Others were imported.
        self.assertGreater(summary['receivable']['created'], 0)

        self.sandbox.change('receivable', receivable.id,
            valor_documento=float(amount))
        self.sync()
        self.assertEqual(self.pending('receivable', receivable.id), [])
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(
                (invoice.state, invoice.total_amount), ('posted', amount))

    def test_changed_title_beyond_the_bound_keeps_its_invoice(self):
        self.import_mapped()
        payable = self.open_title('CP')
        with self.transaction(readonly=True):
            before = self.invoices_by_title()[payable.id].total_amount
        self.sandbox.change('payable', payable.id,
            valor_documento=2e12)
        self.sync()
        (kind, message, _), = self.pending('payable', payable.id)
        self.assertEqual(kind, 'validation')
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(
                (invoice.state, invoice.total_amount), ('posted', before))
            Invoice = Pool().get('account.invoice')
            self.assertEqual(Invoice.search([
                        ('external_ids', '=', str(payable.id)),
                        ('state', '=', 'draft'),
                        ]), [])

    def test_amount_finer_than_a_cent_stays_pending(self):
        "Omie rounds to cents, as the sandbox does: the record is built"
        self.import_mapped()
        receivable = self.open_title('CR')
        store = self.sandbox.store
        raw = store.render_title(receivable, store.today(), 'A VENCER')
        raw['valor_documento'] = float(receivable.value) + 0.005
        title = records.Title.from_omie(raw, 'receivable')
        with self.transaction() as transaction:
            pool = Pool()
            Integration = pool.get('integration.integration')
            Invoice = pool.get('account.invoice')
            SyncRun = pool.get('integration.sync.run')
            integration = Integration(self.integration_id)
            run, = SyncRun.create([{
                        'integration': integration.id,
                        'trigger': 'manual',
                        'start': integration.last_sync,
                        }])
            before = self.invoices_by_title()[receivable.id].total_amount
            counts = Invoice.omie_import_receivables(
                integration, run, [title])
            transaction.commit()
        self.assertEqual(counts['skipped'], 1)
        (kind, message, fix), = self.pending('receivable', receivable.id)
        self.assertEqual(kind, 'validation')
        self.assertIn('more than two decimals', message)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(
                (invoice.state, invoice.total_amount), ('posted', before))

    def test_title_in_another_currency_stays_pending(self):
        receivable, payable = self.open_title('CR'), self.open_title('CP')
        self.sandbox.change('receivable', receivable.id, moeda='USD')
        # the real, named as Omie might, is the company's currency
        self.sandbox.change('payable', payable.id, codigo_moeda='R$')
        self.import_mapped()
        (kind, message, fix), = self.pending('receivable', receivable.id)
        self.assertEqual(kind, 'validation')
        self.assertIn('USD', message)
        self.assertIn('BRL', fix)
        self.assertEqual(self.pending('payable', payable.id), [])
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            self.assertNotIn(receivable.id, invoices)
            self.assertEqual(invoices[payable.id].state, 'posted')

    def test_settlement_with_huge_interest_is_not_posted(self):
        self.import_mapped()
        receivable = self.open_title('CR')
        amount = records.parse_decimal(receivable.value)
        part = (amount / 4).quantize(Decimal('0.01'))
        answer = self.omie_client().call(
            'LancarRecebimento', codigo_lancamento=receivable.id,
            codigo_conta_corrente=receivable.account,
            valor=float(part) + 5e15, juros=5e15,
            data=records.format_date(self.sandbox.store.today()))
        self.sync()
        (kind, message, _), = self.pending(
            'settlement', answer['codigo_baixa'])
        self.assertEqual(kind, 'validation')
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(invoice.amount_to_pay, amount)
            self.assertEqual(invoice.payment_lines, ())


# Only the tests above: the inherited ones run in test_sync_titles.
for _name in dir(test_sync_titles.TitlesTestCase):
    if _name.startswith('test_') and _name not in vars(AmountsTestCase):
        setattr(AmountsTestCase, _name, None)
del _name
