# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark the retention purge of the webhook inbox and the sync runs

    .venv/bin/python bench/webhook_retention.py --deliveries 10000
    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/webhook_retention.py

Creates a fresh database, a company and an Omie integration, then floods the
inbox with --deliveries events (direct ORM inserts of 2 KB payloads, as the
route stores them: done, ignored and rejected, and --pending still to do)
and a webhook run per --per-run events, some with an open error.  It ages
them past the retention, runs the purge the cron task runs, and shows the
inbox back to its bound: only what is still to do, and what is recent."""
import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--deliveries', type=int, default=10000)
    parser.add_argument('--pending', type=int, default=50)
    parser.add_argument('--recent', type=int, default=200)
    parser.add_argument('--per-run', type=int, default=10)
    args = parser.parse_args()
    uri = os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    workdir = tempfile.mkdtemp(prefix='novagestao-bench-')
    if uri.startswith('sqlite'):
        os.environ['TRYTOND_DATABASE__PATH'] = workdir
    os.environ['DB_NAME'] = 'bench_retention_%d' % int(time.time())

    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

    from novagestao_integrations_base.integration import utcnow
    from novagestao_integrations_base.retention import (
        PURGE_BATCH, retention_days)
    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)

    activate_module(['novagestao_omie'])
    try:
        company_id = run_committed(
            DB_NAME, lambda: create_brazilian_company(
                today=dt.date.today()).id)
        context = {'company': company_id, 'companies': [company_id],
            '_skip_warnings': True}

        def create_integration():
            Integration = Pool().get('integration.integration')
            integration = Integration(
                name="Benchmark", company=company_id, connector='omie',
                omie_app_key='1234567890123', omie_app_secret='secret',
                omie_base_url='http://127.0.0.1:9', status='active',
                receive_webhooks=True)
            integration.save()
            return integration.id
        integration_id = run_committed(
            DB_NAME, create_integration, context=context)
        days = retention_days()
        old = utcnow() - dt.timedelta(days=days + 10)
        payload = json.dumps({'event': {'descricao': 'x' * 2000}})

        def flood(count, received_at, states):
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Run = pool.get('integration.sync.run')
            Error = pool.get('integration.sync.error')
            for start in range(0, count, 1000):
                size = min(1000, count - start)
                runs = Run.create([{
                            'integration': integration_id,
                            'trigger': 'webhook', 'state': 'done',
                            'start': received_at, 'end': received_at,
                            } for _ in range(
                            max(1, size // args.per_run))])
                # one run in 20 keeps an open error: it stays
                Error.create([{
                            'integration': integration_id, 'run': r.id,
                            'entity': 'party', 'external_id': str(r.id),
                            'kind': 'validation', 'message': 'open',
                            } for r in runs[::20]])
                Event.create([{
                            'integration': integration_id,
                            'message_id': str(uuid.uuid4()),
                            'topic': 'ClienteFornecedor.Alterado',
                            'state': states[i % len(states)],
                            'received_at': received_at,
                            'next_attempt': received_at,
                            'run': runs[i % len(runs)].id,
                            'payload': payload,
                            } for i in range(size)])

        started = time.perf_counter()
        run_committed(DB_NAME, lambda: flood(
                args.deliveries, old, ['done', 'done', 'ignored', 'rejected']),
            context=context)
        run_committed(DB_NAME, lambda: flood(
                args.pending, old, ['pending', 'failed']), context=context)
        run_committed(DB_NAME, lambda: flood(
                args.recent, utcnow(), ['done']), context=context)
        flooded = time.perf_counter() - started

        def counts():
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Run = pool.get('integration.sync.run')
            return (Event.search_count([]), Run.search_count([]))

        before = run_committed(DB_NAME, counts, context=context)
        print("flooded %d old deliveries, %d old pending or failed, %d recent "
            "in %.1f s: inbox %d events, %d runs" % (
                args.deliveries, args.pending, args.recent, flooded,
                *before))

        def purge():
            Integration = Pool().get('integration.integration')
            return Integration.purge_old_records()
        started = time.perf_counter()
        purged = run_committed(DB_NAME, purge, context=context)
        elapsed = time.perf_counter() - started
        after = run_committed(DB_NAME, counts, context=context)
        bound = args.pending + args.recent
        print("purge (retention %d days, batches of %d committed): %d events "
            "and %d runs in %.1f s (%.0f records/s)" % (
                days, PURGE_BATCH, purged[0], purged[1], elapsed,
                sum(purged) / elapsed if elapsed else 0))
        print("inbox after: %d events (bound: %d pending/failed + recent), "
            "%d runs (the ones with an open error, and the recent)" % (
                after[0], bound, after[1]))
        print("peak memory %.0f MB" % (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
        again = run_committed(DB_NAME, purge, context=context)
        print("a second purge deletes %d events and %d runs" % again)
        return 0 if after[0] == bound else 1
    finally:
        drop_db()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
