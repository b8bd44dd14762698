# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark the export: invoices typed in Tryton, with their parties and
payments, sent to the sandbox

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/export.py --invoices 200

Creates a fresh database (dropped at the end), a Brazilian company, an Omie
integration that imported the sandbox's bank accounts and categories (all
mapped), then --invoices supplier invoices of --parties new parties, posted
and paid in Tryton, and runs one export.  Prints the wall time, the rate of
each Omie write method against Omie's ceiling (240 calls a minute per method
and App Key), the Omie calls and the peak memory."""
import argparse
import sys
import time
from decimal import Decimal

from _common import (
    TODAY, bench_account, bench_database, company_context, create_company,
    create_integration, database_environment, database_name, dataset_of,
    peak_memory_mb, profiled, run_sync, sandbox_calls)

CEILING = 240  # calls a minute per method and App Key (Omie's rule)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--invoices', type=int, default=200)
    parser.add_argument('--parties', type=int, default=50)
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--profile', metavar='PREFIX',
        help="write a cProfile of the export to PREFIX-export.prof")
    args = parser.parse_args()
    database_environment('bench_export')

    today = TODAY
    dataset = dataset_of(1, parties=5, movements=0, seed=args.seed)
    with bench_database(dataset) as (sandbox, server):
        database = database_name()
        company_id = create_company()
        context = company_context(company_id)
        integration_id = create_integration(company_id, server.url,
            days=30, filter_entities=['category', 'bank_account'])
        run_sync(integration_id, company_id)
        confirm_mappings(database, integration_id, context)
        turn_on(database, integration_id, context, today)
        start = time.perf_counter()
        type_invoices(database, integration_id, context, today, args)
        print("typed, posted and paid %d invoices of %d parties in Tryton "
            "in %.1f s" % (args.invoices, args.parties,
                time.perf_counter() - start))
        sandbox.reset_stats()
        result = run_sync(integration_id, company_id, 'export',
            profile=profiled(args.profile, 'export'))
        report(result, sandbox_calls(sandbox))
    return 0


def confirm_mappings(database, integration_id, context):
    "Confirm the imported categories onto two accounts of the chart"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed

    def confirm():
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        revenue, expense = [bench_account(Account, kind)
            for kind in ['revenue', 'expense']]
        mappings = Mapping.search([('integration', '=', integration_id)])
        for mapping in mappings:
            mapping.target = (revenue if mapping.external_code.startswith('1.')
                else expense)
            mapping.state = 'confirmed'
        Mapping.save(mappings)
    run_committed(database, confirm, context=context)


def turn_on(database, integration_id, context, today):
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed

    def write():
        pool = Pool()
        Binding = pool.get('integration.binding')
        Integration = pool.get('integration.integration')
        bank = Binding.search([
                ('integration', '=', integration_id),
                ('kind', '=', 'bank_account'),
                ], limit=1)[0]
        Integration.write([Integration(integration_id)], {
                'direction': 'bidirectional', 'export_from': today,
                'export_bank_account': bank.id})
    run_committed(database, write, context=context)


def type_invoices(database, integration_id, context, today, args):
    "Create, post and pay the invoices in chunks of committed transactions"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed
    from novagestao_omie.settlement import OmieAccounts
    from stdnum.br import cnpj

    def parties():
        pool = Pool()
        Account = pool.get('account.account')
        Address = pool.get('party.address')
        Identifier = pool.get('party.identifier')
        Party = pool.get('party.party')
        payable, = Account.search([('type.payable', '=', True),
                ('closed', '!=', True)], limit=1)
        records = []
        for index in range(args.parties):
            base = '%08d0001' % (10000000 + index)
            records.append(Party(name='Fornecedor %04d Ltda' % index,
                    account_payable=payable,
                    addresses=[Address(street="Rua %d" % index)],
                    identifiers=[Identifier(
                            type='br_vat',
                            code=base + cnpj.calc_check_digits(base))]))
        Party.save(records)
        return [p.id for p in records]
    party_ids = run_committed(database, parties, context=context)

    def chunk(indexes):
        pool = Pool()
        Account = pool.get('account.account')
        Integration = pool.get('integration.integration')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        MoveLine = pool.get('account.move.line')
        Party = pool.get('party.party')
        integration = Integration(integration_id)
        expense, = Account.search([('name', '=', 'Benchmark expense')])
        method = OmieAccounts(integration).payment_method(
            int(integration.export_bank_account.external_id))
        invoices = []
        for index in indexes:
            invoice = Invoice(type='in', invoice_date=today,
                party=Party(party_ids[index % len(party_ids)]),
                reference='NF %05d' % index)
            invoice.on_change_type()
            invoice.on_change_party()
            invoice.lines = [Line(account=expense, quantity=1,
                    unit_price=Decimal(100 + index % 900),
                    description="Benchmark")]
            invoices.append(invoice)
        Invoice.save(invoices)
        Invoice.post(invoices)
        for invoice in invoices:
            lines = invoice.pay_invoice(
                invoice.total_amount, method, today)
            MoveLine.reconcile(list(invoice.lines_to_pay) + lines)
        Invoice.process(invoices)
    for start in range(0, args.invoices, 50):
        run_committed(database, lambda: chunk(
                range(start, min(start + 50, args.invoices))),
            context=context)


def report(result, calls):
    exported = result.count('exported')
    print("export: %s in %.1f s, %d records exported (%.1f records/s), "
        "%d Omie calls, %d errors, peak memory %.0f MB" % (
            result.state, result.seconds, exported,
            exported / result.seconds, result.calls, result.errors,
            peak_memory_mb()))
    seconds = result.seconds
    for call, count in sorted(calls.items()):
        print("  %-22s %5d calls" % (call, count))
    # the methods run beside each other, each under its own limit: the
    # busiest one sets the pace (its first 240 calls of a minute may go at
    # once, so a run shorter than two minutes can pass 100%)
    call, busiest = max(calls.items(), key=lambda i: i[1])
    rate = busiest / seconds * 60
    print("busiest method %s: %.0f calls a minute, %.0f%% of Omie's "
        "ceiling of %d a minute per method" % (
            call, rate, rate / CEILING * 100, CEILING))


if __name__ == '__main__':
    sys.exit(main())
