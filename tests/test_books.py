# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"End-to-end: do the books agree with Omie? (the books check)"
from decimal import Decimal

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME

from novagestao_integrations_base.tests.tools import run_committed
from novagestao_omie.omie import OmieClient, records
from novagestao_omie.omie.sandbox import Sandbox
from novagestao_omie.open_amounts import open_amounts

from . import test_sync_titles
from .tools import OmieEndToEndTestCase



def _helper(name):
    "A helper of the titles' tests (a name of their class would run them)"
    return getattr(test_sync_titles.TitlesTestCase, name)


class BooksTestCase(OmieEndToEndTestCase):
    "The books check compares bank balances and open amounts with Omie's"
    sandbox_options = {'seed': 23}

    set_integration = _helper('set_integration')
    classifying_categories = _helper('classifying_categories')
    accounts = _helper('accounts')
    map_categories = _helper('map_categories')
    open_title = _helper('open_title')

    def setUp(self):
        super().setUp()
        self.set_integration(filter_months_back=13)

    def omie_client(self):
        client = OmieClient(
            Sandbox.DEFAULT_APP_KEY, Sandbox.DEFAULT_APP_SECRET,
            base_url=self.server.url, max_retries=1)
        self.addCleanup(client.close)
        return client

    def sync(self):
        state, summary, errors = super().sync()
        self.assertNotEqual(state, 'failed', summary)

    def last_check(self):
        "The last check and its lines as (kind, subject, explained, line)"
        pool = Pool()
        Check = pool.get('integration.books.check')
        check = Check.search([
                ('integration', '=', self.integration_id),
                ], limit=1)[0]
        return check, [(l.kind, l.subject, l.explained, l)
            for l in check.lines]

    def check_now(self):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.books_check([Integration(self.integration_id)])
            transaction.commit()

    def books_incidents(self):
        pool = Pool()
        Incident = pool.get('integration.incident')
        return Incident.search([
                ('integration', '=', self.integration_id),
                ('cause', '=', 'books_differ'),
                ])

    def journal_of(self, account_id):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Integration = pool.get('integration.integration')
        return Binding.records_of(
            Integration(self.integration_id), 'bank_account',
            [account_id])[str(account_id)]

    def describe(self, lines):
        return '\n'.join('%s %s: %s - %s = %s %s\n  %s' % (
                l.kind, l.subject, l.omie_amount, l.tryton_amount,
                l.difference, 'explained' if l.explained else 'UNEXPLAINED',
                (l.explanation or '').replace('\n', '\n  '))
            for _, _, _, l in lines)

    def test_books(self):
        "The books agree after a sync; differences are explained or not"
        self.map_categories()
        self.sync()
        with self.transaction(readonly=True):
            check, lines = self.last_check()
            self.assertTrue(check.run)
            self.assertGreater(check.bank_count, 0)
            self.assertGreater(check.party_count, 0)
            self.assertEqual(lines, [], self.describe(lines))
            self.assertEqual(check.unexplained_count, 0)
            self.assertFalse(self.books_incidents())

        # in Omie, a receipt of part of an open receivable, not imported
        title = self.open_title('CR')
        account = title.account
        client = self.omie_client()
        with self.transaction(readonly=True):
            Date = Pool().get('ir.date')
            today = Date.today()
        client.call('LancarRecebimento', codigo_lancamento=title.id,
            codigo_conta_corrente=account, valor=10.0,
            data=records.format_date(today))
        self.check_now()
        with self.transaction(readonly=True):
            journal = self.journal_of(account)
            check, lines = self.last_check()
            self.assertIsNone(check.run)
            kinds = {k for k, _, _, _ in lines}
            self.assertEqual(kinds, {'bank', 'party'}, self.describe(lines))
            self.assertTrue(all(e for _, _, e, _ in lines),
                self.describe(lines))
            bank = next(l for k, _, _, l in lines if k == 'bank')
            self.assertEqual(bank.subject, journal.rec_name)
            self.assertEqual(bank.difference, Decimal('10.00'))
            party = next(l for k, _, _, l in lines if k == 'party')
            self.assertEqual(party.difference, Decimal('-10.00'))
            self.assertEqual(party.related.__name__, 'account.invoice')
            self.assertEqual(check.unexplained_count, 0)
            self.assertFalse(self.books_incidents())

        # in Tryton, a payment booked on the bank account by hand
        move_id = self.book_by_hand(account, today, Decimal('50'))
        self.check_now()
        with self.transaction(readonly=True):
            journal = self.journal_of(account)
            check, lines = self.last_check()
            bank = next(l for k, _, _, l in lines if k == 'bank')
            self.assertFalse(bank.explained, self.describe(lines))
            self.assertEqual(bank.difference, Decimal('60.00'))
            self.assertEqual(bank.related.id, move_id)
            self.assertEqual(check.unexplained_count, 1)
            incident, = self.books_incidents()
            self.assertEqual(incident.state, 'open')
            self.assertEqual(incident.origin, check)
            self.assertIn(journal.rec_name, incident.message)

        # fixed: the move reversed, the receipt imported by the next run
        self.book_by_hand(account, today, Decimal('-50'))
        self.sync()
        with self.transaction(readonly=True):
            check, lines = self.last_check()
            self.assertTrue(check.run)
            self.assertEqual(lines, [], self.describe(lines))
            incident, = self.books_incidents()
            self.assertEqual(incident.state, 'closed')
            self.assert_open_amounts()

    def assert_open_amounts(self):
        "The check's open amounts, read as rows, are Tryton's amount_to_pay"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = Invoice.search([('state', '=', 'posted')])
        # partly paid and unpaid, of both types
        self.assertTrue(any(i.payment_lines for i in invoices))
        self.assertEqual({i.type for i in invoices}, {'in', 'out'})
        self.assertEqual(open_amounts([]), {i.id: {
                    'party': i.party.id, 'type': i.type,
                    'amount_to_pay': i.amount_to_pay,
                    } for i in invoices})

    def book_by_hand(self, account, date, amount):
        """Post a move of amount from the Omie bank account to an expense,
        committed; return its id"""
        return run_committed(DB_NAME,
            lambda: self._book_by_hand(account, date, amount),
            context={'company': self.company_id,
                'companies': [self.company_id], '_skip_warnings': True})

    def _book_by_hand(self, account, date, amount):
        pool = Pool()
        journal = self.journal_of(account)
        Journal = pool.get('account.journal')
        Move = pool.get('account.move')
        Line = pool.get('account.move.line')
        Period = pool.get('account.period')
        _, expense = self.accounts()
        cash, = Journal.search([('type', '=', 'cash')], limit=1)
        company = journal.company
        credit, debit = (amount, 0) if amount > 0 else (0, -amount)
        move = Move(company=company, journal=cash, date=date,
            period=Period.find(company, date=date), lines=[
                Line(account=journal.account, debit=debit, credit=credit),
                Line(account=expense, debit=credit, credit=debit),
                ])
        move.save()
        Move.post([move])
        return move.id
