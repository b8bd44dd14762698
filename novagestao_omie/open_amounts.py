# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The amounts to pay of a whole ledger's open invoices, read as rows

Tryton computes an invoice's amount_to_pay record by record: its lines to
pay (the lines of its move, and of its additional moves, on its account) and
its payment lines, those not reconciled, in the invoice's currency.  Over
the thousands of open invoices of a books check that is most of the check's
time, so the amounts of the invoices in their company's currency (all of
Omie's, which books in reais) are summed from the same lines read as rows;
those in another currency keep Tryton's own computation (with its rates)."""
from collections import defaultdict
from decimal import Decimal

from trytond.pool import Pool

from novagestao_integrations_base.rows import search_columns

ZERO = Decimal(0)


def open_amounts(domain):
    """{invoice id: {'party', 'type', 'amount_to_pay'}} of the posted
    invoices matching domain, amount_to_pay as Tryton computes it"""
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Company = pool.get('company.company')
    MoveLine = pool.get('account.move.line')
    PaymentLine = pool.get('account.invoice-account.move.line')
    AdditionalMove = pool.get('account.invoice-additional-account.move')

    domain = [('state', '=', 'posted'), domain]
    invoices = {row['id']: row for row in search_columns(Invoice, domain,
            ['party', 'type', 'move', 'account', 'currency', 'company'])}
    currencies = {c.id: c.currency.id for c in Company.browse(
            list({r['company'] for r in invoices.values()}))}
    foreign = [i for i, r in invoices.items()
        if r['currency'] != currencies[r['company']]]
    ids = Invoice.search(domain, query=True)

    # a line to pay is on the invoice's account, in its move or one of its
    # additional moves
    owner = {(r['move'], r['account']): i for i, r in invoices.items()}
    for row in search_columns(AdditionalMove, [('invoice', 'in', ids)],
            ['invoice', 'move']):
        account = invoices[row['invoice']]['account']
        owner[(row['move'], account)] = row['invoice']
    # (sub-queries, not lists of ids: SQLite bounds a query's parameters)
    invoice = Invoice.__table__()
    additional = AdditionalMove.__table__()
    moves = (invoice.select(invoice.move, where=invoice.id.in_(ids))
        | additional.select(additional.move,
            where=additional.invoice.in_(ids)))
    amounts = defaultdict(lambda: ZERO)
    for line in search_columns(MoveLine, [
                ('move', 'in', moves),
                ('reconciliation', '=', None),
                ], ['move', 'account', 'debit', 'credit']):
        invoice_id = owner.get((line['move'], line['account']))
        if invoice_id is not None:
            amounts[invoice_id] += line['debit'] - line['credit']
    payment = PaymentLine.__table__()
    payments = {row['line']: row['invoice'] for row in search_columns(
            PaymentLine, [('invoice', 'in', ids)], ['invoice', 'line'])}
    for line in search_columns(MoveLine, [
                ('id', 'in', payment.select(payment.line,
                        where=payment.invoice.in_(ids))),
                ('reconciliation', '=', None),
                ], ['debit', 'credit']):
        amounts[payments[line['id']]] += line['debit'] - line['credit']

    result = {}
    for invoice_id, row in invoices.items():
        amount = amounts[invoice_id]
        # a supplier invoice's lines to pay are credits
        result[invoice_id] = {
            'party': row['party'], 'type': row['type'],
            'amount_to_pay': -amount if row['type'] == 'in' else amount,
            }
    for row in Invoice.read(foreign, ['amount_to_pay']):
        result[row['id']]['amount_to_pay'] = row['amount_to_pay']
    return result
