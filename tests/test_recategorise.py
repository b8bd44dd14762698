# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"End-to-end: a new account for categories moves the imported titles"
from decimal import Decimal
from unittest import mock

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME

from novagestao_integrations_base.tests.tools import run_committed
from novagestao_omie.invoice import omie_reference
from novagestao_omie.omie import OmieClient, records
from novagestao_omie.omie.sandbox import Sandbox

from .tools import OmieEndToEndTestCase

ENTITIES = [
    'category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement', 'nf']


class RecategoriseTestCase(OmieEndToEndTestCase):
    "Re-categorise titles already imported, draft, posted and paid"
    sandbox_options = {'seed': 29, 'titles': 80}

    def setUp(self):
        super().setUp()
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'filter_months_back': 13,
                    'filter_entities': ENTITIES,
                    })
            transaction.commit()

    # helpers

    def account(self, kind, name):
        "Return a new account of kind beside the chart's, named name"
        pool = Pool()
        Account = pool.get('account.account')
        accounts = Account.search([('name', '=', name)])
        if accounts:
            return accounts[0]
        sibling, = Account.search([
                ('type.%s' % kind, '=', True),
                ('company', '=', self.company_id),
                ], limit=1)
        account = Account(
            name=name, type=sibling.type, parent=sibling.parent,
            company=self.company_id)
        account.save()
        return account

    def categories(self):
        return {c['codigo']: c for c in self.sandbox.dataset.categories
            if c['totalizadora'] != 'S' and c['transferencia'] != 'S'}

    def targets(self, suffix=''):
        "Return {code: account} of every category, by its kind"
        revenue = self.account('revenue', 'Omie revenue' + suffix)
        expense = self.account('expense', 'Omie expense' + suffix)
        return {code: revenue if c['conta_receita'] == 'S' else expense
            for code, c in self.categories().items()}

    def map_categories(self):
        with self.transaction() as transaction:
            Mapping = Pool().get('integration.mapping')
            to_save = []
            for code, target in self.targets().items():
                to_save.append(Mapping(
                        integration=self.integration_id, external_code=code,
                        external_name=self.categories()[code]['descricao'],
                        target=target, state='confirmed'))
            Mapping.save(to_save)
            transaction.commit()

    def open_title(self, kind, codes):
        "An open title of the categories without settlements nor NF"
        store = self.sandbox.store
        for row in store.titles[kind]:
            if (not row.settlements and not row.cancelled
                    and row.category in codes
                    and row.token(store.today()) in {'AVENCER', 'ATRASADO'}
                    and not row.rec.get('numero_documento_fiscal')):
                return row
        self.fail("no open title")

    def invoices_by_title(self):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return {int(b.external_id): b.record for b in Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', 'in', ['payable', 'receivable']),
                    ])}

    def sync(self):
        state, summary, errors = super().sync()
        self.assertNotEqual(state, 'failed')
        return summary

    def run_change_tasks(self):
        """Run the queued re-categorisations as Tryton does after the commit

        They are read from the queue: the ids of the thread's task list may
        be those of an earlier test's database, whose ids start again."""
        def pending():
            Queue = Pool().get('ir.queue')
            return [t.id for t in Queue.search([('finished_at', '=', None)])
                if t.data['model'] == 'integration.mapping.change']
        tasks = run_committed(DB_NAME, pending)

        def run(task_id):
            Queue = Pool().get('ir.queue')
            tasks = Queue.search([('id', '=', task_id)])
            if not tasks:
                return
            task, = tasks
            if (task.data['model'] == 'integration.mapping.change'
                    and not task.finished_at):
                task.run()
                return True
        self.assertTrue(
            sum(bool(run_committed(DB_NAME, lambda: run(t))) for t in tasks))

    def snapshot(self):
        "{title id: (invoice, state, amount to pay, payments, accounts)}"
        return {
            title_id: (invoice, invoice.state, invoice.amount_to_pay,
                len(invoice.payment_lines),
                {l.omie_category: l.account for l in invoice.lines})
            for title_id, invoice in self.invoices_by_title().items()}

    # test

    def test_recategorise_history(self):
        "Draft lines move, posted invoices are replaced, payments kept"
        categories = sorted(self.categories())
        changed = set(categories[::2])
        draft_row = self.open_title('CP', changed)
        partial_row = self.open_title('CR', changed)
        self.map_categories()

        # a title whose invoice stays draft
        with self.transaction():
            Invoice = Pool().get('account.invoice')
        post = Invoice.post
        draft_reference = omie_reference(records.Title.from_omie(
                self.sandbox.store.render_title(
                    draft_row, self.sandbox.store.today(), 'A VENCER'),
                'payable'))

        def post_but_draft(invoices):
            return post([i for i in invoices
                    if i.reference != draft_reference])
        with mock.patch.object(Invoice, 'post', post_but_draft):
            self.sync()
        # and one partly paid
        client = OmieClient(
            Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
            base_url=self.server.url, max_retries=1)
        self.addCleanup(client.close)
        amount = records.parse_decimal(partial_row.value)
        part = (amount / 3).quantize(Decimal('0.01'))
        client.call('LancarRecebimento', codigo_lancamento=partial_row.id,
            codigo_conta_corrente=partial_row.account, valor=float(part),
            data=records.format_date(self.sandbox.store.today()))
        summary = self.sync()
        self.assertEqual(summary['settlement']['created'], 1)

        with self.transaction(readonly=True):
            before = self.snapshot()
            old_targets = self.targets()
            self.assertEqual(before[draft_row.id][1], 'draft')
            self.assertEqual(
                before[partial_row.id][2], amount - part)
            moved = {t for t, (_, _, _, _, accounts) in before.items()
                if set(accounts) & changed}
            states = {before[t][1] for t in moved}
            self.assertEqual(states, {'draft', 'posted', 'paid'})
            invoice_count = Pool().get('account.invoice').search_count([])

        # new accounts for half of the categories
        with self.transaction() as transaction:
            Mapping = Pool().get('integration.mapping')
            new_targets = self.targets(' (new)')
            mappings = Mapping.search([
                    ('integration', '=', self.integration_id),
                    ('external_code', 'in', list(changed)),
                    ])
            self.assertEqual(len(mappings), len(changed))
            for mapping in mappings:
                mapping.target = new_targets[mapping.external_code]
            Mapping.save(mappings)
            transaction.commit()
        self.run_change_tasks()

        with self.transaction(readonly=True):
            pool = Pool()
            Change = pool.get('integration.mapping.change')
            Invoice = pool.get('account.invoice')
            after = self.snapshot()
            new_targets = self.targets(' (new)')
            replaced = 0
            for title_id, (old, state, to_pay, payments, accounts) in (
                    before.items()):
                invoice, new_state, new_to_pay, new_payments, new_accounts = (
                    after[title_id])
                expected = {
                    code: (new_targets if code in changed
                        else old_targets)[code]
                    for code in accounts}
                self.assertEqual(new_accounts, expected, title_id)
                self.assertEqual(
                    (new_state, new_to_pay, new_payments),
                    (state, to_pay, payments), title_id)
                if title_id not in moved or state == 'draft':
                    self.assertEqual(invoice, old, title_id)
                    continue
                # the posted invoice is cancelled, its accounting kept
                replaced += 1
                old = Invoice(old.id)
                self.assertEqual(invoice.omie_replaces, old)
                self.assertEqual(old.state, 'cancelled')
                self.assertEqual(old.move.state, 'posted')
                self.assertEqual(old.cancel_move.state, 'posted')
                self.assertEqual(
                    {l.omie_category: l.account for l in old.lines},
                    accounts)
                self.assertEqual(
                    {l.account for l in old.move.lines} & set(
                        new_targets.values()), set())
                for name in ['party', 'type', 'invoice_date',
                        'payment_term_date', 'reference', 'total_amount',
                        'account', 'omie_nf_key']:
                    self.assertEqual(
                        getattr(invoice, name), getattr(old, name), name)
                if invoice.type == 'out':
                    self.assertEqual(invoice.number, old.number)
            self.assertGreater(replaced, 2)
            self.assertEqual(
                Invoice(before[draft_row.id][0].id).lines[0].account,
                new_targets[draft_row.category])

            # the report
            changes = Change.search([
                    ('integration', '=', self.integration_id)])
            self.assertEqual(
                {c.mapping.external_code for c in changes}, changed)
            lines = [l for c in changes for l in c.lines]
            for change in changes:
                self.assertEqual(change.state, 'done')
                self.assertEqual(
                    change.old_target,
                    old_targets[change.mapping.external_code])
                self.assertEqual(
                    change.new_target,
                    new_targets[change.mapping.external_code])
            self.assertEqual(
                sum(c.updated_count for c in changes), 1)
            self.assertEqual(
                sum(c.replaced_count for c in changes),
                len([l for l in lines if l.method == 'replaced']))
            self.assertEqual(
                {l.document.id for l in lines},
                {before[t][0].id for t in moved})
            for line in lines:
                title_id = next(t for t in moved
                    if before[t][0] == line.document)
                self.assertEqual(line.correction, (
                        None if line.method == 'updated'
                        else after[title_id][0]))
                self.assertEqual(
                    line.old_target, before[title_id][4][
                        line.change.mapping.external_code])
                self.assertEqual(line.method,
                    'updated' if before[title_id][1] == 'draft'
                    else 'replaced')
                self.assertTrue(line.amount)
            self.assertEqual(
                Invoice.search_count([]) - invoice_count,
                # a new invoice for each replaced, a credit note for each
                # customer invoice among them
                replaced + len([t for t in moved
                        if Invoice(before[t][0].id).type == 'out'
                        and before[t][1] != 'draft']))
            invoice_count = Invoice.search_count([])

        # again: nothing more to move
        with self.transaction() as transaction:
            Mapping = Pool().get('integration.mapping')
            Mapping.recategorise(Mapping.search([
                        ('integration', '=', self.integration_id),
                        ]))
            transaction.commit()
        self.run_change_tasks()
        with self.transaction(readonly=True):
            pool = Pool()
            Change = pool.get('integration.mapping.change')
            Invoice = pool.get('account.invoice')
            self.assertEqual(Invoice.search_count([]), invoice_count)
            changes = Change.search([
                    ('integration', '=', self.integration_id),
                    ('old_target', '=', None),
                    ])
            self.assertEqual(len(changes), len(self.categories()))
            self.assertEqual([l for c in changes for l in c.lines], [])
            self.assertEqual({c.state for c in changes}, {'done'})

        # the next sync neither duplicates nor replaces again
        summary = self.sync()
        for kind in ['payable', 'receivable', 'settlement']:
            self.assertEqual(summary[kind].get('created', 0), 0, kind)
            self.assertEqual(summary[kind].get('updated', 0), 0, kind)
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            self.assertEqual(Invoice.search_count([]), invoice_count)
            self.assertEqual(
                {t: i for t, (i, *_) in self.snapshot().items()},
                {t: i for t, (i, *_) in after.items()})
