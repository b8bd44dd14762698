# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Time the books check, and its open amounts of the posted invoices

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/books.py --titles 2000

After a first sync of --titles titles (a tenth as many parties, half as
many movements; not timed), times --repeat times each: the books check as a
user asks for it (Omie's open titles and statements read, Tryton's side
read, the lines written), then the open amounts of the company's posted
invoices read as rows (novagestao_omie/open_amounts.py) and read through
Tryton's amount_to_pay field, and checks that both give the same amounts.
Prints the best wall and CPU times of each."""
import argparse
import sys
import time

from _common import (
    bench_database, company_context, create_company, create_integration,
    database_environment, database_name, dataset_of, map_categories,
    run_sync)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--titles', type=int, default=2000)
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()
    database_environment('bench_books')

    dataset = dataset_of(args.titles, seed=args.seed)
    with bench_database(dataset) as (sandbox, server):
        company_id = create_company()
        integration_id = create_integration(company_id, server.url)
        map_categories(integration_id, company_id, dataset)
        first = run_sync(integration_id, company_id)
        print("first sync of %d titles: %s in %.1f s" % (
                args.titles, first.state, first.seconds), flush=True)
        count, timings = measure(integration_id, company_id, args.repeat)
    print("%d posted invoices (open or partly paid)" % count)
    for name, (wall, cpu) in timings.items():
        print("  %-30s best %6.3f s  (CPU of this process, the sandbox's "
            "included: %.3f s)" % (name, wall, cpu))
    return 0


def measure(integration_id, company_id, repeat):
    "Return (posted invoices, {what: (best wall seconds, best CPU seconds)})"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from novagestao_omie.open_amounts import open_amounts

    def books_check():
        Integration = Pool().get('integration.integration')
        Integration.books_check([Integration(integration_id)])

    def rows():
        return open_amounts([('company', '=', company_id)])

    def tryton():
        Invoice = Pool().get('account.invoice')
        invoices = Invoice.search([
                ('company', '=', company_id), ('state', '=', 'posted')])
        return {i.id: {'party': i.party.id, 'type': i.type,
                'amount_to_pay': i.amount_to_pay} for i in invoices}

    timings, results = {}, {}
    for name, func in [
            ("books check, as a user asks", books_check),
            ("open amounts read as rows", rows),
            ("open amounts by amount_to_pay", tryton),
            ]:
        best_wall = best_cpu = None
        for _ in range(repeat):
            with Transaction().start(database_name(), 0,
                    context=company_context(company_id)) as transaction:
                wall, cpu = time.perf_counter(), time.process_time()
                results[name] = func()
                wall = time.perf_counter() - wall
                cpu = time.process_time() - cpu
                transaction.rollback()
            best_wall = min(wall, best_wall or wall)
            best_cpu = min(cpu, best_cpu or cpu)
        timings[name] = (best_wall, best_cpu)
    amounts = results["open amounts read as rows"]
    if amounts != results["open amounts by amount_to_pay"]:
        sys.exit("the open amounts read as rows differ from Tryton's")
    return len(amounts), timings


if __name__ == '__main__':
    sys.exit(main())
