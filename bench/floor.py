# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Compare the title sync with plain ORM calls posting the same invoices

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/floor.py --titles 600

Imports the sandbox's parties into a first company (not timed), then times
the sync of its payables and receivables.  A second company of the same
database then creates and posts the same invoices (same parties, dates,
amounts, lines, numbers of the customer invoices) with plain ORM calls
(Invoice.save, Invoice.post), in transactions of as many invoices as a
chunk of the sync.  Prints both times and their ratio: the floor that
Tryton's own create and post puts under the sync."""
import argparse
import sys
import time

from _common import (
    bench_account, bench_database, company_context, create_company,
    create_integration, database_environment, database_name, dataset_of,
    map_categories, peak_memory_mb, run_sync, set_integration)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--titles', type=int, default=600)
    parser.add_argument('--parties', type=int,
        help="default: a tenth of the titles")
    parser.add_argument('--seed', type=int, default=7)
    args = parser.parse_args()
    database_environment('bench_floor')

    from novagestao_omie.sync import POSTING_CHUNK

    dataset = dataset_of(args.titles, args.parties, movements=0,
        seed=args.seed)
    with bench_database(dataset) as (sandbox, server):
        company_id = create_company("Empresa Sync Ltda")
        integration_id = create_integration(company_id, server.url)
        map_categories(integration_id, company_id, dataset)
        set_integration(integration_id, company_id,
            filter_entities=['category', 'bank_account', 'party'])
        run_sync(integration_id, company_id)
        set_integration(integration_id, company_id,
            filter_entities=['payable', 'receivable'])
        sync = run_sync(integration_id, company_id)
        invoices = invoice_values(company_id)
        print("title sync: %s in %.1f s, %d invoices posted (%.1f "
            "invoices/s), %d titles read, %d Omie calls" % (
                sync.state, sync.seconds, len(invoices),
                len(invoices) / sync.seconds, sync.records, sync.calls),
            flush=True)

        floor_id = create_company("Empresa Piso Ltda")
        seconds = post_plainly(floor_id, invoices, POSTING_CHUNK)
        print("plain ORM: %d invoices created and posted in %.1f s "
            "(%.1f invoices/s), %d a transaction" % (
                len(invoices), seconds, len(invoices) / seconds,
                POSTING_CHUNK))
        print("ratio plain ORM time ÷ title sync time: %.2f (above 1: the "
            "sync is faster than plain create and post); peak memory "
            "%.0f MB" % (seconds / sync.seconds, peak_memory_mb()))
    return 0


def invoice_values(company_id):
    "What the plain ORM needs of each invoice the sync posted, by date"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database_name(), 0, readonly=True,
            context=company_context(company_id)):
        Invoice = Pool().get('account.invoice')
        result = []
        for invoice in Invoice.search([
                    ('company', '=', company_id),
                    ('state', 'in', ['posted', 'paid']),
                    ], order=[('invoice_date', 'ASC'), ('id', 'ASC')]):
            result.append({
                    'type': invoice.type,
                    'party': invoice.party.id,
                    'invoice_date': invoice.invoice_date,
                    'payment_term_date': invoice.payment_term_date,
                    'reference': invoice.reference,
                    'description': invoice.description,
                    'number': invoice.number if invoice.type == 'out'
                    else None,
                    'lines': [(
                            'revenue' if invoice.type == 'out'
                            else 'expense',
                            line.description, line.unit_price)
                        for line in invoice.line_lines],
                    })
        return result


def post_plainly(company_id, invoices, chunk):
    "Create and post the invoices in the company; return the seconds taken"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed
    from tests.posting import request

    def accounts():
        Account = Pool().get('account.account')
        return {kind: bench_account(Account, kind, company_id).id
            for kind in ['revenue', 'expense']}
    context = company_context(company_id)
    targets = run_committed(database_name(), accounts, context=context)
    def post(values_list):
        pool = Pool()
        Company = pool.get('company.company')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        company = Company(company_id)
        batch = []
        for values in values_list:
            invoice = Invoice(company=company, type=values['type'],
                currency=company.currency, party=values['party'])
            invoice.on_change_type()
            invoice.on_change_party()
            invoice.payment_term = None
            invoice.invoice_date = values['invoice_date']
            invoice.payment_term_date = values['payment_term_date']
            invoice.reference = values['reference']
            invoice.description = values['description']
            if values['number']:
                invoice.number = values['number']
            invoice.lines = [Line(type='line', company=company,
                    currency=company.currency, account=targets[kind],
                    description=description, quantity=1,
                    unit_price=amount, taxes=[])
                for kind, description, amount in values['lines']]
            batch.append(invoice)
        Invoice.save(batch)
        Invoice.post(batch)

    start = time.perf_counter()
    for index in range(0, len(invoices), chunk):
        # as trytond's dispatcher runs a request: started again with the
        # locks of the sequences that posting asks for
        request(database_name(), 0, context,
            lambda: post(invoices[index:index + chunk]))
    return time.perf_counter() - start


if __name__ == '__main__':
    sys.exit(main())
