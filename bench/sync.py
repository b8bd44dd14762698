# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark the first full sync and an incremental sync against the sandbox

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/sync.py --sizes 1000,5000

For each size (titles; a tenth as many parties and half as many movements,
as the issue's 10,000 / 1,000 / 5,000), in a process of its own: a fresh
database (dropped at the end), a Brazilian company, an Omie integration
whose categories are all mapped, the first sync, then --changed titles
changed in the sandbox and the incremental sync.  Prints a table: records
read per second, wall time, peak memory, Omie calls, the linearity ratio
(records/s of the size ÷ records/s of the first size: 1 when the cost grows
linearly) and the incremental time.

    .venv/bin/python bench/sync.py --titles 600 --parties 100 --movements 300

runs one size in this process and prints its runs in detail.  --workers 2
(PostgreSQL) has a trytond-worker process build title chunks beside the
first sync (see novagestao_omie/sync_chunks.py)."""
import argparse
import json
import os
import subprocess
import sys

from _common import (
    change_titles, create_company, create_integration, database_environment,
    database_name, dataset_of, map_categories, peak_memory_mb, print_table,
    profiled, queue_workers, run_sync, bench_database, worker_processes)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument('--sizes', metavar='N,N…',
        help="titles of each size, a process each, e.g. 1000,5000,10000")
    parser.add_argument('--titles', type=int, default=1000)
    parser.add_argument('--parties', type=int,
        help="default: a tenth of the titles")
    parser.add_argument('--movements', type=int,
        help="default: half the titles")
    parser.add_argument('--changed', type=int, default=100,
        help="titles changed in Omie before the incremental sync")
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--workers', type=int, default=1,
        help="processes that build the title chunks of a run: the run and "
        "N-1 trytond-worker processes (PostgreSQL)")
    parser.add_argument('--profile', metavar='PREFIX',
        help="write a cProfile of each sync to PREFIX-<sync>.prof")
    parser.add_argument('--json', action='store_true',
        help="print the figures as a JSON line at the end")
    args = parser.parse_args()
    if args.sizes:
        return sizes(args)
    database_environment('bench_sync')
    queue_workers(args.workers)
    result = bench(args)
    if args.json:
        print(json.dumps(result))
    return 0


def bench(args):
    dataset = dataset_of(args.titles, args.parties, args.movements,
        seed=args.seed)
    with bench_database(dataset) as (sandbox, server):
        company_id = create_company()
        integration_id = create_integration(company_id, server.url)
        map_categories(integration_id, company_id, dataset)
        with worker_processes(args.workers - 1):
            first = run_sync(integration_id, company_id,
                profile=profiled(args.profile, 'first'))
            report("first sync", first)
            report_chunks()
            changed = change_titles(sandbox, dataset, args.changed)
            print("changed %d titles in the sandbox" % changed)
            incremental = run_sync(integration_id, company_id,
                profile=profiled(args.profile, 'incremental'))
            report("incremental sync", incremental)
    return {
        'titles': len(dataset.payables) + len(dataset.receivables),
        'parties': len(dataset.parties),
        'movements': len(dataset.movements),
        'records': first.records,
        'seconds': first.seconds,
        'cpu': first.cpu,
        'calls': first.calls,
        'errors': first.errors,
        'peak_mb': peak_memory_mb(),
        'changed': changed,
        'incremental_seconds': incremental.seconds,
        'incremental_cpu': incremental.cpu,
        'incremental_calls': incremental.calls,
        'incremental_updated': incremental.count('updated', 'created'),
        }


def report(title, result):
    print("%s: %s in %.1f s (%.1f s of CPU in this process), %d records "
        "(%.1f records/s), %d Omie calls, %d errors, peak memory %.0f MB" % (
            title, result.state, result.seconds, result.cpu, result.records,
            result.records / result.seconds, result.calls, result.errors,
            peak_memory_mb()), flush=True)
    for entity, counts in result.summary.items():
        print("  %-14s %s" % (entity, ' '.join(
                    '%s=%d' % item for item in counts.items() if item[1])))


def report_chunks():
    "Print who built the shared chunks, and the build and post times"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(database_name(), 0, readonly=True):
        Chunk = Pool().get('integration.sync.chunk')
        chunks = Chunk.search([])
        if not chunks:
            return
        builders = {}
        for chunk in chunks:
            builders.setdefault(chunk.built_by, []).append(chunk)
        print("  shared chunks: %d; built %s; posted by the run in %.1f s" % (
                len(chunks), ', '.join(
                    '%d in %.1f s by %s' % (len(c), sum(
                            x.build_seconds or 0 for x in c), b)
                    for b, c in sorted(builders.items())),
                sum(c.post_seconds or 0 for c in chunks)), flush=True)


def sizes(args):
    "Run each size in a process of its own; print the table"
    results = []
    for size in [int(s) for s in args.sizes.split(',') if s.strip()]:
        command = [sys.executable, os.path.abspath(__file__),
            '--titles', str(size), '--changed', str(args.changed),
            '--seed', str(args.seed), '--workers', str(args.workers),
            '--json']
        if args.profile:
            command += ['--profile', '%s-%d' % (args.profile, size)]
        print("size %d titles…" % size, file=sys.stderr, flush=True)
        lines = subprocess.run(command, check=True, stdout=subprocess.PIPE,
            text=True).stdout.strip().splitlines()
        # the runs in detail, apart from the table
        print('\n'.join(lines[:-1]), file=sys.stderr, flush=True)
        results.append(json.loads(lines[-1]))
    base = results[0]['records'] / results[0]['seconds']
    base_cpu = results[0]['records'] / results[0]['cpu']
    rows = []
    for r in results:
        rate = r['records'] / r['seconds']
        rate_cpu = r['records'] / r['cpu']
        rows.append([
                '%d / %d / %d' % (r['titles'], r['parties'], r['movements']),
                r['records'],
                '%.0f s (%.0f s CPU)' % (r['seconds'], r['cpu']),
                '%.1f' % rate,
                '%.0f MB' % r['peak_mb'], r['calls'], '%.2f (CPU %.2f)' % (rate / base, rate_cpu / base_cpu),
                '%.1f s (%.1f s CPU, %d calls)' % (
                    r['incremental_seconds'], r['incremental_cpu'],
                    r['incremental_calls']),
                ])
    print_table([
            'titles / parties / movements', 'records', 'first sync',
            'records/s', 'peak memory', 'Omie calls', 'linearity',
            'incremental, %d changed' % args.changed,
            ], rows)
    return 0


if __name__ == '__main__':
    sys.exit(main())
