# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Users who post invoices beside a sync, as the Tryton server serves them

request() runs a function the way trytond's dispatcher runs a request: in a
transaction started again with the locks it asks for (TransactionError.fix)
and retried on a lock conflict up to [database] retry times.  A request that
still fails is what the user would see as an error: post_invoices() counts it
and asks again, as a user clicks again, and measures the whole wait."""
import datetime as dt
import statistics
import threading
import time
from decimal import Decimal

from trytond import backend, config
from trytond.pool import Pool
from trytond.transaction import Transaction, TransactionError


def request(database, user, context, func):
    "Run func as trytond's dispatcher runs a request, committed"
    retry = config.getint('database', 'retry')
    count = 0
    extras = {}
    while True:
        if count:
            time.sleep(0.02 * count)
        with Transaction().start(
                database, user, context=context, **extras) as transaction:
            try:
                result = func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            except backend.DatabaseOperationalError:
                if count < retry:
                    transaction.rollback()
                    count += 1
                    continue
                raise
            transaction.commit()
            return result


def create_draft_invoices(company_id, count, name):
    """Create count draft customer invoices of the company (in the current
    transaction, with its company context); return their ids"""
    pool = Pool()
    Account = pool.get('account.account')
    Invoice = pool.get('account.invoice')
    Line = pool.get('account.invoice.line')
    Party = pool.get('party.party')
    Address = pool.get('party.address')
    receivable, = Account.search([
            ('type.receivable', '=', True),
            ('company', '=', company_id),
            ('closed', '!=', True),
            ('childs', '=', None),
            ], limit=1)
    revenue, = Account.search([
            ('type.revenue', '=', True),
            ('company', '=', company_id),
            ('closed', '!=', True),
            ('childs', '=', None),
            ], limit=1)
    party = Party(
        name=name, account_receivable=receivable,
        addresses=[Address(street="Rua das Flores, 100")])
    party.save()
    invoices = []
    for index in range(count):
        invoice = Invoice(
            company=company_id, type='out', party=party,
            invoice_date=dt.date.today(),
            description='%s %d' % (name, index))
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.lines = [Line(
                type='line', account=revenue, quantity=1,
                unit_price=Decimal('10.00') + index,
                description='Serviço %d' % index)]
        invoices.append(invoice)
    Invoice.save(invoices)
    return [i.id for i in invoices]


def post_invoice(invoice_id):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    invoice = Invoice(invoice_id)
    Invoice.post([invoice])
    return invoice.number


class Poster(threading.Thread):
    """A user of a company who posts invoices one by one, pause seconds
    apart; durations are the seconds each took, errors the requests that
    failed (and were asked again)"""

    def __init__(self, database, user, company_id, invoice_ids, pause=0.5):
        super().__init__(daemon=True)
        self.database = database
        self.user = user
        self.context = {
            'company': company_id, 'companies': [company_id],
            '_skip_warnings': True}
        self.invoice_ids = invoice_ids
        self.pause = pause
        self.durations = []
        self.errors = []
        self.numbers = []

    def run(self):
        for invoice_id in self.invoice_ids:
            start = time.monotonic()
            while True:
                try:
                    number = request(
                        self.database, self.user, self.context,
                        lambda: post_invoice(invoice_id))
                except backend.DatabaseOperationalError as error:
                    self.errors.append(repr(error))
                    if time.monotonic() - start > 300:
                        raise
                    continue
                break
            self.durations.append(time.monotonic() - start)
            self.numbers.append(number)
            time.sleep(self.pause)


def figures(durations, baseline):
    "(median wait, max wait) beyond the baseline time of a posting alone"
    waits = [max(0, d - baseline) for d in durations]
    return statistics.median(waits), max(waits)
