# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"End-to-end: titles, settlements, bank statements and NF from the sandbox"
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from unittest.mock import patch

from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from novagestao_omie.omie import OmieClient, records
from novagestao_omie.omie.sandbox import Sandbox

from .tools import OmieEndToEndTestCase

ALL_BUT_STATEMENTS = [
    'category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement', 'nf']


class TitlesTestCase(OmieEndToEndTestCase):
    "Titles, settlements, statements and NF imported into the accounting"
    sandbox_options = {'seed': 23}

    def setUp(self):
        super().setUp()
        # a year of titles is enough and keeps the statements few
        self.set_integration(filter_months_back=13)

    # helpers

    def set_integration(self, **values):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], values)
            transaction.commit()

    def omie_client(self):
        client = OmieClient(
            Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
            base_url=self.server.url, max_retries=1)
        self.addCleanup(client.close)
        return client

    def classifying_categories(self):
        return {c['codigo']: c for c in self.sandbox.dataset.categories
            if c['totalizadora'] != 'S' and c['transferencia'] != 'S'}

    def accounts(self):
        "Return (revenue, expense) accounts of the chart for the mappings"
        pool = Pool()
        Account = pool.get('account.account')
        result = []
        for kind in ['revenue', 'expense']:
            name = 'Omie test %s' % kind
            accounts = Account.search([('name', '=', name)])
            if not accounts:
                sibling, = Account.search([
                        ('type.%s' % kind, '=', True),
                        ('company', '=', self.company_id),
                        ], limit=1)
                account = Account(
                    name=name, type=sibling.type, parent=sibling.parent,
                    company=self.company_id)
                account.save()
            else:
                account, = accounts
            result.append(account)
        return result

    def map_categories(self, codes=None):
        "Confirm mappings of the categories (all by default)"
        categories = self.classifying_categories()
        if codes is None:
            codes = list(categories)
        with self.transaction() as transaction:
            pool = Pool()
            Mapping = pool.get('integration.mapping')
            revenue, expense = self.accounts()
            existing = {m.external_code: m for m in Mapping.search([
                        ('integration', '=', self.integration_id)])}
            to_save = []
            for code in codes:
                category = categories[code]
                mapping = existing.get(code) or Mapping(
                    integration=self.integration_id, external_code=code,
                    external_name=category['descricao'])
                mapping.target = (revenue
                    if category['conta_receita'] == 'S' else expense)
                mapping.state = 'confirmed'
                to_save.append(mapping)
            Mapping.save(to_save)
            transaction.commit()

    def titles(self):
        "The Omie titles as the sandbox holds them now, parsed"
        store = self.sandbox.store
        return [
            records.Title.from_omie(
                store.render_title(row, store.today(), 'A VENCER'),
                'receivable' if row.receivable else 'payable')
            for kind in ['CP', 'CR'] for row in store.titles[kind]]

    def principal_paid(self):
        "{title id: principal settled} from Omie's settlements"
        paid = defaultdict(Decimal)
        for settlement in self.sandbox.store.settlements:
            paid[settlement['codigo_lancamento']] += (
                records.parse_decimal(settlement['valor'])
                + records.parse_decimal(settlement['desconto'])
                - records.parse_decimal(settlement['juros'])
                - records.parse_decimal(settlement['multa']))
        return paid

    def import_mapped(self):
        """Import everything but the statements, every category mapped
        Return what sync returns"""
        self.set_integration(filter_entities=ALL_BUT_STATEMENTS)
        self.map_categories()
        return self.sync()

    def invoices_by_title(self):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return {int(b.external_id): b.record for b in Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', 'in', ['payable', 'receivable']),
                    ])}

    def open_title(self, kind, without_nf=True):
        "An open title without settlements (of kind 'CP' or 'CR')"
        store = self.sandbox.store
        for row in store.titles[kind]:
            if (not row.settlements and not row.cancelled
                    and row.token(store.today()) in {'AVENCER', 'ATRASADO'}
                    and (not without_nf
                        or not row.rec.get('numero_documento_fiscal'))):
                return row
        self.fail("no open title")

    def sync(self, trigger='manual'):
        "Sync; fail the test with the run's message when the run failed"
        state, summary, errors = super().sync(trigger)
        if state == 'failed':
            with self.transaction(readonly=True):
                Integration = Pool().get('integration.integration')
                self.fail(Integration(self.integration_id).runs[0].message)
        return state, summary, errors

    def title_errors(self, errors):
        "The errors other than the parties' document warnings"
        return [e for e in errors if e[0] != 'party']

    # tests

    def test_titles_settlements_and_nf(self):
        "Titles are posted invoices, settled ones paid, NF keys set"
        state, summary, errors = self.import_mapped()
        self.assertEqual(self.title_errors(errors), [])
        titles = self.titles()
        paid = self.principal_paid()
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            invoices = self.invoices_by_title()
            imported = [t for t in titles if not t.cancelled]
            self.assertEqual(
                {t.omie_id for t in imported}, set(invoices))
            revenue, expense = self.accounts()
            for title in imported:
                invoice = invoices[title.omie_id]
                self.assertEqual(
                    invoice.type, 'in' if title.kind == 'payable' else 'out')
                self.assertEqual(invoice.total_amount, title.amount)
                self.assertEqual(invoice.invoice_date, title.issue_date)
                self.assertEqual(
                    [l.maturity_date for l in invoice.lines_to_pay],
                    [title.due_date])
                line, = invoice.lines
                self.assertEqual(line.account,
                    revenue if title.kind == 'receivable' else expense)
                self.assertEqual(line.omie_category, title.category_code)
                self.assertIn(title.instalment, invoice.reference)
                self.assertEqual(invoice.party, Binding.records_of(
                        integration, 'party', [title.party_omie_id])[
                        str(title.party_omie_id)])
                left = title.amount - paid.get(title.omie_id, 0)
                if left:
                    self.assertEqual(invoice.state, 'posted', title)
                    self.assertEqual(invoice.amount_to_pay, left)
                else:
                    self.assertEqual(invoice.state, 'paid', title)
                if title.nfe_key:
                    self.assertEqual(invoice.omie_nf_key, title.nfe_key)
            # NF: number, series and key on the invoices of their titles
            for nf in self.sandbox.dataset.invoices:
                for title in nf['titulos']:
                    invoice = invoices.get(title['nCodTitulo'])
                    if invoice is None:
                        continue
                    self.assertEqual(invoice.omie_nf_number, nf['ide']['nNF'])
                    self.assertEqual(
                        invoice.omie_nf_series, nf['ide']['serie'])
                    self.assertEqual(
                        invoice.omie_nf_key, nf['compl']['cChaveNFe'])
                    self.assertFalse(invoice.omie_nf_cancelled)

        # an NF cancelled in Omie is noted on its invoices
        nf = next(n for n in self.sandbox.dataset.invoices
            if not n['ide']['dCan'])
        self.sandbox.change('invoice', nf['compl']['nIdNF'], cancelar=True)
        state, summary, errors = self.sync()
        self.assertEqual(summary['nf']['updated'], 1)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            for title in nf['titulos']:
                self.assertTrue(
                    invoices[title['nCodTitulo']].omie_nf_cancelled)

    def test_second_run_changes_nothing(self):
        "A second run creates, updates and duplicates nothing"
        self.map_categories()
        self.sync()
        with self.transaction(readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            Move = pool.get('account.move')
            Statement = pool.get('account.statement')
            StatementLine = pool.get('account.statement.line')
            before = (
                Invoice.search_count([]), Move.search_count([]),
                Statement.search_count([]), StatementLine.search_count([]))
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        for entity in ['payable', 'receivable', 'settlement', 'statement',
                'nf']:
            counters = summary.get(entity, {})
            self.assertEqual(counters.get('created', 0), 0, entity)
            self.assertEqual(counters.get('updated', 0), 0, entity)
        with self.transaction(readonly=True):
            self.assertEqual(before, (
                    Invoice.search_count([]), Move.search_count([]),
                    Statement.search_count([]),
                    StatementLine.search_count([])))

    def test_imported_invoices_queue_no_report(self):
        "The report of an invoice Omie issued is made only when printed"
        from trytond.worker import run_task

        from .posting import create_draft_invoices, request
        self.map_categories()
        self.sync()
        with self.transaction(readonly=True):
            Queue = Pool().get('ir.queue')
            prints = [t.id for t in Queue.search([
                        ('dequeued_at', '=', None)])
                if t.data.get('method') == 'print_invoice']
        self.assertTrue(prints)
        for task in prints:
            run_task(DB_NAME, task)
        with self.transaction(readonly=True):
            imported = [i for i in self.invoices_by_title().values()
                if i.type == 'out' and i.state in {'posted', 'paid'}]
            self.assertTrue(imported)
            self.assertEqual(
                [i.number for i in imported if i.invoice_report_cache], [])
        # an invoice typed in Tryton (a draft: the tests of this class share
        # the company's invoice sequence) still has its report made
        context = {'company': self.company_id,
            'companies': [self.company_id]}
        typed, = request(DB_NAME, 0, context,
            lambda: create_draft_invoices(self.company_id, 1, "Balcão"))
        with self.transaction() as transaction:
            pool = Pool()
            Invoice = pool.get('account.invoice')
            InvoiceReport = pool.get('account.invoice', type='report')
            with patch.object(InvoiceReport, 'execute') as execute:
                Invoice.print_invoice(Invoice.browse(
                        [i.id for i in imported[:3]] + [typed]))
            self.assertEqual(
                [c.args[0] for c in execute.call_args_list], [[typed]])
            Invoice.delete([Invoice(typed)])
            transaction.commit()

    def test_unmapped_category_pending_then_released(self):
        "A title of an unmapped category waits for its mapping"
        titles = [t for t in self.titles() if not t.cancelled]
        # the category of fewest titles stays unmapped
        by_category = defaultdict(list)
        for title in titles:
            by_category[title.category_code].append(title)
        code, waiting = min(
            by_category.items(), key=lambda i: (len(i[1]), i[0]))
        self.set_integration(filter_entities=ALL_BUT_STATEMENTS)
        self.map_categories(
            [c for c in self.classifying_categories() if c != code])
        state, summary, errors = self.sync()
        self.assertEqual(state, 'partial')
        name = self.classifying_categories()[code]['descricao']
        pending = [e for e in errors if e[0] in {'payable', 'receivable'}]
        self.assertEqual(
            {int(e[1]) for e in pending}, {t.omie_id for t in waiting})
        for entity, external_id, kind, message in pending:
            self.assertEqual(kind, 'category_not_mapped')
            self.assertEqual(message,
                "Category %s – %s is not mapped to an account." % (
                    code, name))
        # skipped: the pending ones and the cancelled ones not imported
        self.assertEqual(
            sum(summary[k]['skipped'] for k in ['payable', 'receivable']),
            len(waiting) + len([t for t in self.titles() if t.cancelled]))
        with self.transaction(readonly=True):
            pool = Pool()
            Error = pool.get('integration.sync.error')
            error, = Error.search([
                    ('integration', '=', self.integration_id),
                    ('external_id', '=', str(waiting[0].omie_id)),
                    ])
            self.assertEqual(error.detail, code)
            self.assertIn("Category Mappings", error.suggested_fix)
            invoices = self.invoices_by_title()
            self.assertFalse({t.omie_id for t in waiting} & set(invoices))

        # a run without the mapping still waits
        state, summary, errors = self.sync()
        self.assertEqual(
            {int(e[1]) for e in errors if e[0] in {'payable', 'receivable'}},
            {t.omie_id for t in waiting})

        self.map_categories([code])
        stats_before = dict(self.sandbox.stats)
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        consulted = sum(n for (path, call), n in self.sandbox.stats.items()
            if call.startswith('ConsultarConta')) - sum(
            n for (path, call), n in stats_before.items()
            if call.startswith('ConsultarConta'))
        self.assertEqual(consulted, len(waiting))
        paid = self.principal_paid()
        with self.transaction(readonly=True):
            pool = Pool()
            Error = pool.get('integration.sync.error')
            invoices = self.invoices_by_title()
            for title in waiting:
                invoice = invoices[title.omie_id]
                self.assertEqual(invoice.total_amount, title.amount)
                self.assertEqual(invoice.state,
                    'paid' if paid.get(title.omie_id) == title.amount
                    else 'posted')
            self.assertFalse(Error.search([
                        ('integration', '=', self.integration_id),
                        ('entity', 'in', ['payable', 'receivable',
                                'settlement']),
                        ('resolved', '=', False),
                        ]))

    def drop_invoice_sequences(self, month):
        """Number the invoices of the fiscal year of month by period, every
        period but month's, as an accountant may leave it; the sequences
        are as before after the test.  Return what restores them."""
        fields = ['company', 'fiscalyear', 'period', 'in_invoice_sequence',
            'in_credit_note_sequence', 'out_invoice_sequence',
            'out_credit_note_sequence']
        with self.transaction() as transaction:
            pool = Pool()
            Period = pool.get('account.period')
            InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
            period = Period.find(self.company_id, date=month)
            fiscalyear = period.fiscalyear
            sequences = list(fiscalyear.invoice_sequences)
            before = [{f: getattr(getattr(s, f), 'id', None) for f in fields}
                for s in sequences]
            InvoiceSequence.delete(sequences)
            by_period = InvoiceSequence.create([
                    dict(before[0], period=p.id)
                    for p in fiscalyear.periods
                    if p.type == 'standard' and p != period])
            by_period = [s.id for s in by_period]
            transaction.commit()

        def restore():
            with self.transaction() as transaction:
                InvoiceSequence = Pool().get(
                    'account.fiscalyear.invoice_sequence')
                left = InvoiceSequence.browse(by_period)
                if InvoiceSequence.search([('id', 'in', by_period)]):
                    InvoiceSequence.delete(left)
                    InvoiceSequence.create(before)
                transaction.commit()
        self.addCleanup(restore)
        return restore

    def test_refused_titles_wait_alone(self):
        """A title that Tryton refuses to post waits alone with Tryton's
        reason; the others of its chunk import, and it imports once the
        cause is fixed"""
        self.check_refused_titles()

    def test_refused_titles_of_shared_chunks(self):
        """The chunks shared with workers (the run builds them all here)
        keep a title Tryton refuses to build or to post apart: the others
        of its chunk are posted, it is pending, its draft is posted once
        the cause is fixed"""
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
        payables = [t for t in self.titles()
            if t.kind == 'payable' and not t.cancelled]
        unbuildable = payables[-1]
        set_title = Invoice._omie_set

        def refuse_one(invoice, title, checker):
            if title.omie_id == unbuildable.omie_id:
                raise UserError("This title cannot be built here.")
            return set_title(invoice, title, checker)
        refusing = patch.object(Invoice, '_omie_set', refuse_one)
        with patch('novagestao_omie.sync_chunks.import_workers',
                return_value=2):
            refusing.start()
            self.addCleanup(patch.stopall)
            self.check_refused_titles(unbuildable, fix=refusing.stop)
        with self.transaction(readonly=True):
            Chunk = Pool().get('integration.sync.chunk')
            chunks = Chunk.search([
                    ('run.integration', '=', self.integration_id)])
            self.assertEqual({c.state for c in chunks}, {'done'})
            self.assertLessEqual({'payable', 'settlement'},
                {c.entity for c in chunks})
            # the refused build split its chunk in chunks of one title
            self.assertIn(1, {sum(json.loads(c.counts).values())
                    for c in chunks})

    def check_refused_titles(self, unbuildable=None, fix=None):
        """Import with the supplier invoices of a month refused by Tryton
        (and unbuildable refused at once), then fix it and import again"""
        titles = {t.omie_id: t for t in self.titles()}

        def month(title):
            return (title.issue_date or title.due_date).replace(day=1)
        payables = [t for t in titles.values()
            if t.kind == 'payable' and not t.cancelled]
        # a month of some of the supplier invoices (Omie numbers the
        # customer ones: only supplier invoices need Tryton's sequence)
        months = defaultdict(set)
        for title in payables:
            if title != unbuildable:
                months[month(title)].add(title.omie_id)
        refused_month, expected = max(
            months.items(), key=lambda i: (len(i[1]), i[0]))
        self.assertLess(len(expected), len(payables) - 1)
        restore = self.drop_invoice_sequences(refused_month)
        state, summary, errors = self.import_mapped()
        self.assertEqual(state, 'partial')
        refused = {int(e[1]): e for e in errors if e[0] == 'payable'}
        if unbuildable:
            *_, message = refused.pop(unbuildable.omie_id)
            self.assertEqual(message, "Tryton refused to record it: "
                "This title cannot be built here.")
        self.assertEqual(set(refused), expected)
        for entity, external_id, kind, message in refused.values():
            self.assertEqual(kind, 'validation')
            self.assertTrue(message.startswith(
                    "Tryton refused to record it: "), message)
            self.assertIn("sequence", message)
        self.assertEqual(summary['payable']['failed'],
            len(refused) + bool(unbuildable))
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            # a shared chunk keeps the drafts it built
            self.assertFalse([i for i in set(refused) if i in invoices
                    and invoices[i].state != 'draft'])
            imported = [t for t in payables if t.omie_id in invoices
                and t.omie_id not in refused]
            self.assertEqual(
                len(imported), len(payables) - len(expected) - bool(
                    unbuildable))
            self.assertTrue(all(invoices[t.omie_id].state in {
                        'posted', 'paid'} for t in imported))

        restore()
        if fix:
            fix()
        for _ in range(len(expected) // 20 + 2):
            state, summary, errors = self.sync()
            if not [e for e in errors if e[0] in {'payable', 'settlement'}]:
                break
        self.assertEqual(self.title_errors(errors), [])
        paid = self.principal_paid()
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            for omie_id in list(refused) + (
                    [unbuildable.omie_id] if unbuildable else []):
                title = titles[omie_id]
                invoice = invoices[omie_id]
                self.assertEqual(invoice.invoice_date, title.issue_date
                    or title.due_date)
                self.assertEqual(invoice.total_amount, title.amount)
                self.assertEqual(invoice.state,
                    'paid' if paid.get(omie_id) == title.amount
                    else 'posted')

    def test_nothing_mapped_then_everything(self):
        "Many pending titles are read again with their list"
        self.set_integration(filter_entities=ALL_BUT_STATEMENTS)
        state, summary, errors = self.sync()
        titles = [t for t in self.titles() if not t.cancelled]
        self.assertEqual(
            {int(e[1]) for e in errors if e[0] in {'payable', 'receivable'}},
            {t.omie_id for t in titles})
        # their settlements wait for them
        self.assertTrue([e for e in errors if e[0] == 'settlement'])
        self.map_categories()
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            self.assertEqual(set(invoices), {t.omie_id for t in titles})
            paid = self.principal_paid()
            for title in titles:
                self.assertEqual(invoices[title.omie_id].state,
                    'paid' if paid.get(title.omie_id) == title.amount
                    else 'posted')

    def test_full_and_partial_settlements(self):
        "A partial settlement lowers what is left to pay, the last pays"
        self.import_mapped()
        receivable = self.open_title('CR')
        payable = self.open_title('CP')
        client = self.omie_client()
        today = records.format_date(self.sandbox.store.today())
        r_amount = records.parse_decimal(receivable.value)
        p_amount = records.parse_decimal(payable.value)
        r_part = (r_amount / 3).quantize(Decimal('0.01'))
        client.call('LancarRecebimento', codigo_lancamento=receivable.id,
            codigo_conta_corrente=receivable.account, valor=float(r_part),
            data=today)
        client.call('LancarPagamento', codigo_lancamento=payable.id,
            codigo_conta_corrente=payable.account, valor=float(p_amount),
            data=today)
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        self.assertEqual(summary['settlement']['created'], 2)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            invoice = invoices[receivable.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.amount_to_pay, r_amount - r_part)
            self.assertEqual(invoices[payable.id].state, 'paid')

        # the rest, late: interest and a fine on top
        rest = r_amount - r_part
        client.call('LancarRecebimento', codigo_lancamento=receivable.id,
            codigo_conta_corrente=receivable.account,
            valor=float(rest + Decimal('12.50')), juros=10.0, multa=2.5,
            data=today)
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        self.assertEqual(summary['settlement']['created'], 1)
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(invoice.state, 'paid')
            self.assertEqual(invoice.amount_to_pay, 0)
            moves = {l.move for l in invoice.payment_lines}
            self.assertEqual(len(moves), 2)
            financial = Binding.records_of(
                invoice.integration_bindings[0].integration, 'account',
                ['financial_revenue'])['financial_revenue']
            interest = [l for m in moves for l in m.lines
                if l.account == financial]
            self.assertEqual(
                sum(l.credit - l.debit for l in interest), Decimal('12.50'))
            for move in moves:
                self.assertEqual(move.state, 'posted')
                self.assertEqual(move.origin, invoice)

    def test_note_changed_in_omie_reaches_the_invoice(self):
        "Omie lists notes only when asked: a changed note is read and kept"
        self.import_mapped()
        payable = self.open_title('CP')
        self.sandbox.change(
            'payable', payable.id, observacao='Vencimento renegociado')
        state, summary, errors = self.sync()
        self.assertEqual(summary['payable']['updated'], 1)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertIn('Vencimento renegociado', invoice.description)
            self.assertEqual(invoice.state, 'posted')
            self.assertFalse(invoice.omie_replaces)

    def test_unchanged_titles_read_no_invoice(self):
        """Titles Omie lists again as they were imported never reach their
        importer; a changed note does, without the invoice's lines read back"""
        self.import_mapped()
        with self.transaction(readonly=True):
            Invoice = Pool().get('account.invoice')
            bound = {str(i) for i, invoice in self.invoices_by_title().items()
                if invoice}
        self.assertTrue(bound)
        handed = []
        original = Invoice._omie_titles

        def spy(integration, run, titles, kind, counts):
            handed.extend(str(t.omie_id) for t in titles)
            return original(integration, run, titles, kind, counts)

        with patch.object(Invoice, '_omie_titles', side_effect=spy), \
                patch.object(Invoice, '_omie_material', autospec=True,
                    side_effect=Invoice._omie_material) as material:
            state, summary, errors = self.sync()
            unchanged = (summary['payable']['unchanged']
                + summary['receivable']['unchanged'])
            # the re-poll window lists them again, unchanged
            self.assertGreater(unchanged, 0)
            self.assertEqual(bound & set(handed), set())
            self.assertEqual(material.call_count, 0)

            payable = self.open_title('CP')
            self.sandbox.change(
                'payable', payable.id, observacao='Pago em duas vezes')
            handed.clear()
            state, summary, errors = self.sync()
            self.assertEqual(summary['payable']['updated'], 1)
            self.assertEqual(bound & set(handed), {str(payable.id)})
            self.assertEqual(material.call_count, 0)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertIn('Pago em duas vezes', invoice.description)
            self.assertFalse(invoice.omie_replaces)

    def test_cancelled_titles(self):
        "A title cancelled in Omie cancels its invoice"
        self.import_mapped()
        receivable = self.open_title('CR')
        payable = self.open_title('CP')
        self.sandbox.change('receivable', receivable.id,
            status_titulo='CANCELADO')
        self.sandbox.change('payable', payable.id, status_titulo='CANCELADO')
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        self.assertEqual(summary['receivable']['updated'], 1)
        self.assertEqual(summary['payable']['updated'], 1)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            for title in [receivable, payable]:
                invoice = invoices[title.id]
                self.assertEqual(invoice.state, 'cancelled')
                self.assertTrue(invoice.cancel_move)
                self.assertEqual(invoice.cancel_move.state, 'posted')
                self.assertTrue(invoice.reconciled)
        # and again: nothing more
        state, summary, errors = self.sync()
        self.assertEqual(summary['receivable']['updated'], 0)
        self.assertEqual(summary['payable']['updated'], 0)

    def test_title_changed_after_posting(self):
        "A posted invoice whose title changed is replaced, payments kept"
        self.import_mapped()
        receivable = self.open_title('CR')
        amount = records.parse_decimal(receivable.value)
        part = (amount / 4).quantize(Decimal('0.01'))
        client = self.omie_client()
        client.call('LancarRecebimento', codigo_lancamento=receivable.id,
            codigo_conta_corrente=receivable.account, valor=float(part),
            data=records.format_date(self.sandbox.store.today()))
        self.sync()
        new_amount = amount + Decimal('100.00')
        new_due = receivable.due + dt.timedelta(days=15)
        self.sandbox.change('receivable', receivable.id,
            valor_documento=float(new_amount),
            data_vencimento=records.format_date(new_due))
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        self.assertEqual(summary['receivable']['updated'], 1)
        with self.transaction(readonly=True):
            pool = Pool()
            Invoice = pool.get('account.invoice')
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.total_amount, new_amount)
            self.assertEqual(
                [l.maturity_date for l in invoice.lines_to_pay], [new_due])
            self.assertEqual(invoice.amount_to_pay, new_amount - part)
            old = invoice.omie_replaces
            self.assertEqual(old.state, 'cancelled')
            self.assertEqual(old.total_amount, amount)
            self.assertEqual(old.omie_replaced_by, (invoice,))
            self.assertEqual(Invoice.search([
                        ('external_ids', '=', str(receivable.id)),
                        ]), [invoice])
        state, summary, errors = self.sync()
        self.assertEqual(summary['receivable']['updated'], 0)

    def test_statements(self):
        "Bank movements are monthly statements without the balance rows"
        self.map_categories()
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        today = self.sandbox.store.today()
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Statement = pool.get('account.statement')
            Integration = pool.get('integration.integration')
            journals = Binding.records_of(
                Integration(self.integration_id), 'bank_account',
                [a['nCodCC'] for a in self.sandbox.dataset.accounts])
            client = self.omie_client()
            checked = 0
            for account_id, journal in journals.items():
                for statement in Statement.search([
                            ('journal', '=', journal.id)]):
                    start = statement.date.replace(day=1)
                    omie = records.Statement.from_omie(client.call(
                            'ListarExtrato', nCodCC=int(account_id),
                            dPeriodoInicial=records.format_date(start),
                            dPeriodoFinal=records.format_date(
                                statement.date)))
                    self.assertEqual(
                        sorted(l.amount for l in statement.lines),
                        sorted(l.amount for l in omie.lines))
                    self.assertFalse([l for l in statement.lines
                            if (l.description or '').startswith('SALDO')])
                    self.assertEqual(
                        statement.start_balance, omie.opening_balance)
                    self.assertEqual(
                        statement.end_balance, omie.closing_balance)
                    if statement.date.replace(day=1) == today.replace(day=1):
                        self.assertEqual(statement.state, 'draft')
                    else:
                        self.assertEqual(statement.state, 'posted')
                    checked += 1
            self.assertGreater(checked, 0)
            # the settlements and the statement lines of the same movements
            # meet on the clearing accounts
            payments = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'settlement_line'),
                    ])
            self.assertTrue(payments)
            for payment in payments:
                line = payment.record
                if line.move.date.replace(day=1) != today.replace(day=1):
                    self.assertTrue(line.reconciliation, line.move.date)

    def test_filters(self):
        "Open titles of one bank account only; their settlements only"
        account = self.sandbox.dataset.accounts[0]['nCodCC']
        self.set_integration(filter_entities=ALL_BUT_STATEMENTS)
        state, summary, errors = self.sync()
        with self.transaction() as transaction:
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'bank_account'),
                    ('external_id', '=', str(account)),
                    ])
            Integration.write([Integration(self.integration_id)], {
                    'filter_open_only': True,
                    'filter_bank_accounts': [('add', [binding.id])],
                    })
            transaction.commit()
        self.map_categories()
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        wanted = {t.omie_id for t in self.titles()
            if not t.cancelled and not t.settled
            and t.bank_account_omie_id == account}
        self.assertTrue(wanted)
        with self.transaction(readonly=True):
            invoices = self.invoices_by_title()
            self.assertEqual(set(invoices), wanted)
            pool = Pool()
            Error = pool.get('integration.sync.error')
            self.assertFalse(Error.search([
                    ('integration', '=', self.integration_id),
                    ('entity', '!=', 'party'),
                    ('resolved', '=', False),
                    ]))

    def test_statement_waits_for_category(self):
        "A month with a movement of an unmapped category is posted later"
        today = self.sandbox.store.today()
        movement = next(m for m in self.sandbox.store.movements
            if not m['diversos']['cOrigem'].startswith('TRA')
            and records.parse_date(m['cabecalho']['dDtLanc']).replace(
                day=1) < today.replace(day=1))
        code = movement['detalhes']['cCodCateg']
        day = records.parse_date(movement['cabecalho']['dDtLanc'])
        self.map_categories(
            [c for c in self.classifying_categories() if c != code])
        state, summary, errors = self.sync()
        pending = [e for e in errors if e[0] == 'statement']
        self.assertIn(str(movement['nCodLanc']), {e[1] for e in pending})
        self.assertEqual({e[2] for e in pending}, {'category_not_mapped'})

        def statement():
            pool = Pool()
            Binding = pool.get('integration.binding')
            key = '%s:%s' % (
                movement['cabecalho']['nCodCC'], day.strftime('%Y-%m'))
            binding, = Binding.search([
                    ('integration', '=', self.integration_id),
                    ('kind', '=', 'statement'),
                    ('external_id', '=', key),
                    ])
            return binding.record

        with self.transaction(readonly=True):
            self.assertEqual(statement().state, 'draft')
        self.map_categories([code])
        state, summary, errors = self.sync()
        self.assertFalse([e for e in errors if e[0] == 'statement'])
        with self.transaction(readonly=True):
            self.assertEqual(statement().state, 'posted')
            self.assertIn(
                records.parse_decimal(movement['cabecalho']['nValorLanc']),
                [abs(l.amount) for l in statement().lines])

    # settlements cancelled and titles deleted in Omie

    def settled_title(self, kind, paid=True):
        """A title of kind ('CP' or 'CR') imported with its settlements, the
        one with most settlements; its invoice paid or not"""
        store = self.sandbox.store
        with self.transaction(readonly=True):
            states = {i: inv.state
                for i, inv in self.invoices_by_title().items()}
        rows = [r for r in store.titles[kind]
            if r.settlements and states.get(r.id) and (
                (states[r.id] == 'paid') == paid)]
        self.assertTrue(rows)
        return max(rows, key=lambda r: (len(r.settlements), r.id))

    def settlement_moves(self, invoice):
        "{Omie settlement id: payment move} of the bound settlements"
        pool = Pool()
        Binding = pool.get('integration.binding')
        moves = {l.move for l in invoice.payment_lines}
        return {b.external_id: b.record
            for b in Binding.for_records(
                invoice.integration_bindings[0].integration,
                list(moves)).values()
            if b.kind == 'settlement'}

    def run_locked(self, func, commit=True):
        """Run func in a transaction restarted with the locks it needs, as
        the server does for a request (a webhook…); commit or roll back"""
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 0, context={
                        'company': self.company_id,
                        'companies': [self.company_id],
                        '_skip_warnings': True,
                        }, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                if commit:
                    transaction.commit()
                else:
                    transaction.rollback()
                return result

    def movements_calls(self):
        return sum(n for (path, call), n in self.sandbox.stats.items()
            if call == 'ListarMovimentos')

    def test_cancelled_settlement(self):
        "A settlement cancelled in Omie is reversed, the invoice open again"
        self.import_mapped()
        row = self.settled_title('CR')
        settlement = row.settlements[-1]
        baixa = str(settlement['codigo_baixa'])
        principal = (
            records.parse_decimal(settlement['valor'])
            + records.parse_decimal(settlement['desconto'])
            - records.parse_decimal(settlement['juros'])
            - records.parse_decimal(settlement['multa']))
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[row.id]
            self.assertEqual(invoice.state, 'paid')
            move = self.settlement_moves(invoice)[baixa]
            moves_before = len(self.settlement_moves(invoice))
        client = self.omie_client()
        raw, = [m for m in client.call('ListarMovimentos',
                nCodTitulo=row.id, cTpLancamento='BX',
                lDadosCad='S')['movimentos']
            if str(m['detalhes']['nCodBaixa']) == baixa]
        client.call('CancelarRecebimento', codigo_baixa=int(baixa))

        calls = self.movements_calls()
        state, summary, errors = self.sync()
        cancelling_calls = self.movements_calls() - calls
        self.assertEqual(self.title_errors(errors), [])
        self.assertEqual(summary['settlement']['updated'], 1)
        with self.transaction(readonly=True):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Move = pool.get('account.move')
            invoice = self.invoices_by_title()[row.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.amount_to_pay, principal)
            self.assertEqual(
                len(self.settlement_moves(invoice)), moves_before - 1)
            move = Move(move.id)
            self.assertEqual(move.state, 'posted')
            reversal, = Move.search([('origin', '=', str(move))])
            self.assertEqual(reversal.state, 'posted')
            self.assertEqual(reversal.date, move.date)
            self.assertEqual(
                sorted((l.account, l.credit, l.debit) for l in move.lines),
                sorted((l.account, l.debit, l.credit)
                    for l in reversal.lines))
            for line in move.lines + reversal.lines:
                if line.account.reconcile:
                    self.assertTrue(line.reconciliation)
            self.assertNotIn(move, {l.move for l in invoice.payment_lines})
            self.assertFalse(Binding.search([
                        ('integration', '=', self.integration_id),
                        ('kind', '=', 'settlement'),
                        ('external_id', '=', baixa),
                        ]))

        # again: nothing changes, and the title is not read again
        state, summary, errors = self.sync()
        self.assertEqual(summary['settlement']['updated'], 0)
        self.assertEqual(summary['settlement']['created'], 0)
        self.assertEqual(
            self.movements_calls() - calls - cancelling_calls,
            cancelling_calls - 1)

        def webhook():
            pool = Pool()
            Integration = pool.get('integration.integration')
            Move = pool.get('account.move')
            integration = Integration(self.integration_id)
            run = integration.runs[0]
            count = Move.search_count([])
            # as a webhook would, twice: nothing more to undo
            self.assertEqual(Move.omie_cancel_settlements(
                    integration, run, [baixa]),
                {'updated': 0, 'unchanged': 1})
            self.assertEqual(Move.search_count([]), count)
            # were Omie to list it again, it would import again
            counts = Move.omie_import_settlements(
                integration, run, [records.Settlement.from_movement(raw)])
            self.assertEqual(counts['created'], 1)
            self.assertEqual(self.invoices_by_title()[row.id].state, 'paid')
        self.run_locked(webhook, commit=False)

    def test_cancelled_partial_settlement_of_payable(self):
        "A partial settlement of a payable cancelled in Omie is reversed"
        self.import_mapped()
        payable = self.open_title('CP')
        amount = records.parse_decimal(payable.value)
        part = (amount / 3).quantize(Decimal('0.01'))
        client = self.omie_client()
        today = records.format_date(self.sandbox.store.today())
        client.call('LancarPagamento', codigo_lancamento=payable.id,
            codigo_conta_corrente=payable.account, valor=float(part),
            data=today)
        second = client.call('LancarPagamento',
            codigo_lancamento=payable.id,
            codigo_conta_corrente=payable.account, valor=float(part),
            data=today)
        self.sync()
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(invoice.amount_to_pay, amount - 2 * part)
        client.call('CancelarPagamento', codigo_baixa=second['codigo_baixa'])
        state, summary, errors = self.sync()
        self.assertEqual(summary['settlement']['updated'], 1)
        with self.transaction(readonly=True):
            invoice = self.invoices_by_title()[payable.id]
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.amount_to_pay, amount - part)
            self.assertEqual(
                list(self.settlement_moves(invoice)),
                [str(payable.settlements[0]['codigo_baixa'])])

    def test_deleted_title(self):
        "A title deleted in Omie cancels its invoice, never deletes it"
        self.import_mapped()
        receivable = self.open_title('CR')
        client = self.omie_client()
        client.call('ExcluirContaReceber', chave_lancamento=receivable.id)
        # as the webhook of the deletion would, twice

        def webhook():
            pool = Pool()
            Integration = pool.get('integration.integration')
            Invoice = pool.get('account.invoice')
            integration = Integration(self.integration_id)
            run = integration.runs[0]
            count = Invoice.search_count([])
            self.assertEqual(Invoice.omie_delete_titles(
                    integration, run, 'receivable', [receivable.id]),
                {'updated': 1, 'unchanged': 0})
            invoice = self.invoices_by_title()[receivable.id]
            self.assertEqual(invoice.state, 'cancelled')
            self.assertEqual(Invoice.omie_delete_titles(
                    integration, run, 'receivable', [receivable.id]),
                {'updated': 0, 'unchanged': 1})
            self.assertEqual(self.invoices_by_title()[receivable.id].state,
                'cancelled')
            # the credit note of the cancellation, nothing deleted
            self.assertEqual(Invoice.search_count([]), count + 1)
        self.run_locked(webhook)

    def test_deleted_pending_title(self):
        "A pending title found deleted in Omie is undone, payments first"
        self.import_mapped()
        row = self.settled_title('CP')
        # changed after its invoice was paid: pending
        self.sandbox.change('payable', row.id,
            data_vencimento=records.format_date(
                row.due + dt.timedelta(days=10)))
        state, summary, errors = self.sync()
        self.assertIn(str(row.id), {e[1] for e in errors})
        # its settlements cancelled, then the title deleted in Omie
        client = self.omie_client()
        for settlement in list(row.settlements):
            client.call('CancelarPagamento',
                codigo_baixa=settlement['codigo_baixa'])
        client.call('ExcluirContaPagar', codigo_lancamento_omie=row.id)
        state, summary, errors = self.sync()
        self.assertEqual(self.title_errors(errors), [])
        with self.transaction(readonly=True):
            pool = Pool()
            Error = pool.get('integration.sync.error')
            invoice = self.invoices_by_title()[row.id]
            self.assertEqual(invoice.state, 'cancelled')
            self.assertFalse(invoice.payment_lines)
            self.assertFalse(self.settlement_moves(invoice))
            self.assertTrue(invoice.cancel_move)
            self.assertFalse(Error.search([
                        ('integration', '=', self.integration_id),
                        ('entity', 'in', ['payable', 'settlement']),
                        ('resolved', '=', False),
                        ]))
        state, summary, errors = self.sync()
        self.assertEqual(summary['payable']['updated'], 0)
        self.assertEqual(summary.get('settlement', {}).get('updated', 0), 0)
