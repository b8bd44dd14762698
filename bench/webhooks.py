# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark the webhook route and how fast an event's change shows

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/webhooks.py --senders 8 --requests 125

Creates a fresh database (a file for SQLite), a company and an Omie
integration that receives webhooks, imports the sandbox's clients, then runs
trytond (the `trytond` server) and one `trytond-worker` as separate
processes on loopback, as in production (on SQLite, which trytond-worker
does not support, the server applies the events after answering):

1. a burst: --senders threads each POST --requests Omie events to the route,
   each on another client (8 x 125 = 1,000 events on 1,000 clients by
   default); the answer times are measured (median, 95th percentile), then
   the time until every event is applied and the Omie calls it took;
2. once the worker has drained the inbox, --changes clients are changed one
   at a time in the sandbox, whose emitter delivers the webhook; the time
   until the new name can be read in Tryton is measured."""
import argparse
import datetime as dt
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import requests
from _common import stop_process_group

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--parties', type=int, default=1000)
    parser.add_argument('--senders', type=int, default=8)
    parser.add_argument('--requests', type=int, default=125)
    parser.add_argument('--changes', type=int, default=20)
    parser.add_argument('--seed', type=int, default=7)
    args = parser.parse_args()
    uri = os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    workdir = tempfile.mkdtemp(prefix='novagestao-bench-')
    sqlite = uri.startswith('sqlite')
    if sqlite:
        os.environ['TRYTOND_DATABASE__PATH'] = workdir
    os.environ['DB_NAME'] = 'bench_webhooks_%d' % int(time.time())

    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    from novagestao_omie.omie.sandbox import (
        Sandbox, SandboxSettings, generate_dataset)

    today = dt.date(2026, 11, 21)
    dataset = generate_dataset(
        seed=args.seed, parties=args.parties, titles=0, movements=0,
        today=today)
    # Omie's rules as they are: a request repeated within a minute is refused
    sandbox = Sandbox(dataset, settings=SandboxSettings())
    omie = sandbox.serve(port=0)
    activate_module(['novagestao_omie'])
    processes = []
    try:
        company_id = run_committed(
            DB_NAME, lambda: create_brazilian_company(today=today).id)
        context = {'company': company_id, 'companies': [company_id],
            '_skip_warnings': True}

        def create_integration():
            Integration = Pool().get('integration.integration')
            integration = Integration(
                name="Benchmark", company=company_id, connector='omie',
                omie_app_key=Sandbox.DEFAULT_APP_KEY,
                omie_app_secret=Sandbox.DEFAULT_APP_SECRET,
                omie_base_url=omie.url, status='active',
                receive_webhooks=True, filter_entities=['party'],
                initial_date=today - dt.timedelta(days=500))
            integration.save()
            Integration.run_sync([integration], 'manual')
            integration = Integration(integration.id)
            return integration.id, integration.webhook_token
        integration_id, token = run_committed(
            DB_NAME, create_integration, context=context)

        port = free_port()
        config = os.path.join(workdir, 'trytond.conf')
        with open(config, 'w') as file:
            file.write('[database]\nuri = %s\n' % uri)
            if sqlite:
                file.write('path = %s\n' % workdir)
            file.write('[web]\nlisten = 127.0.0.1:%d\n' % port)
            # trytond-worker waits on PostgreSQL's notifications: on SQLite
            # the server applies the events itself, after answering's commit
            file.write('[queue]\nworker = %s\n' % (not sqlite))
        env = dict(os.environ, PYTHONWARNINGS='ignore')
        env.pop('TRYTOND_DATABASE_URI', None)
        env.pop('TRYTOND_DATABASE__PATH', None)
        bin_ = os.path.dirname(sys.executable)
        logs = open(os.path.join(workdir, 'servers.log'), 'w')
        processes.append(subprocess.Popen(
                [os.path.join(bin_, 'trytond'), '-c', config, '-d', DB_NAME],
                env=env, stdout=logs, stderr=subprocess.STDOUT,
                start_new_session=True))
        if not sqlite:
            processes.append(subprocess.Popen(
                    [os.path.join(bin_, 'trytond-worker'), '-c', config,
                        '-d', DB_NAME, '-n', '1'],
                    env=env, stdout=logs, stderr=subprocess.STDOUT,
                    start_new_session=True))
        url = 'http://127.0.0.1:%d/%s/novagestao_omie/webhook/%s' % (
            port, DB_NAME, token)
        wait_ready(url)

        sandbox.reset_stats()
        latencies = send_events(url, dataset, args.senders, args.requests)
        print("route: %d requests from %d senders: median %.1f ms, "
            "95th percentile %.1f ms, max %.1f ms" % (
                len(latencies), args.senders,
                statistics.median(latencies) * 1000,
                percentile(latencies, 95) * 1000, max(latencies) * 1000))
        drained = wait_drained(DB_NAME, integration_id, context)
        print("the %d events were applied %.1f s after the last answer" % (
                len(latencies), drained))
        print("Omie calls of the burst: %s" % ', '.join(
                '%s %d' % (call, count) for (_, call), count in sorted(
                    sandbox.stats.items())))

        # events arriving now would meet the minute of Omie's limits the
        # burst started
        print("waiting 61 s for Omie's per-minute limits to reset")
        time.sleep(61)
        sandbox.register_webhook(url)
        delays = []
        for index in range(args.changes):
            party = dataset.parties[index % len(dataset.parties)]
            name = 'Benchmark %d %s' % (index, uuid.uuid4().hex[:6])
            start = time.perf_counter()
            sandbox.change('party', party['codigo_cliente_omie'],
                razao_social=name)
            delays.append(wait_visible(
                    DB_NAME, integration_id, context,
                    party['codigo_cliente_omie'], name, start))
        print("change in Omie -> visible in Tryton: median %.2f s, max %.2f s "
            "over %d changes" % (
                statistics.median(delays), max(delays), len(delays)))
        print("benchmark peak memory %.0f MB" % (
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    finally:
        for process in processes:
            stop_process_group(process)
        omie.shutdown()
        drop_db()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def wait_ready(url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.post(url, json={'ping': 'omie'}, timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise SystemExit("trytond did not answer at %s" % url)


def send_events(url, dataset, senders, count):
    "POST count events from each of senders threads; return the latencies"
    from novagestao_omie.omie.sandbox import Sandbox
    latencies, lock = [], threading.Lock()

    def sender(offset):
        session = requests.Session()
        for index in range(count):
            party = dataset.parties[(offset * count + index)
                % len(dataset.parties)]
            message = {
                'messageId': str(uuid.uuid4()),
                'topic': 'ClienteFornecedor.Alterado',
                'event': {'codigo_cliente_omie': party['codigo_cliente_omie'],
                    'razao_social': party['razao_social']},
                'author': {'email': 'no-reply@omie.com.br',
                    'name': 'Integração', 'userId': 89},
                'appKey': Sandbox.DEFAULT_APP_KEY,
                'appHash': 'benchmark-00000000',
                'origin': 'omie-connect-2.0',
                }
            start = time.perf_counter()
            response = session.post(url, json=message, timeout=30)
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            with lock:
                latencies.append(elapsed)
    threads = [threading.Thread(target=sender, args=(i,))
        for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def percentile(values, rank):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * rank / 100))]


def wait_drained(database, integration_id, context, timeout=300):
    """Wait until every event is applied; the events Omie's limits
    postponed are queued again when due, as the cron does"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with Transaction().start(database, 0, context=context) as transaction:
            Event = Pool().get('integration.webhook.event')
            waiting = Event.search_count([
                    ('integration', '=', integration_id),
                    ('state', 'in', ['pending', 'processing']),
                    ])
            if waiting:
                Event.process_due()
                transaction.commit()
        if not waiting:
            report_inbox(database, integration_id, context)
            return time.perf_counter() - start
        time.sleep(1)
    report_inbox(database, integration_id, context)
    raise SystemExit("the worker did not drain the inbox")


def report_inbox(database, integration_id, context):
    "Print how many events ended in each state, and an error if any"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, readonly=True, context=context):
        Event = Pool().get('integration.webhook.event')
        events = Event.search([('integration', '=', integration_id)])
        states = {}
        for event in events:
            states[event.state] = states.get(event.state, 0) + 1
        print("inbox: %s" % ', '.join(
                '%s %d' % item for item in sorted(states.items())))
        for event in events:
            if event.error:
                print("  e.g. %s: %s" % (event.topic, event.error))
                break


def wait_visible(database, integration_id, context, omie_id, name, start,
        timeout=60):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    while time.perf_counter() - start < timeout:
        with Transaction().start(database, 0, readonly=True, context=context):
            pool = Pool()
            Binding = pool.get('integration.binding')
            Integration = pool.get('integration.integration')
            party = Binding.records_of(
                Integration(integration_id), 'party', [omie_id])[str(omie_id)]
            if party.name == name:
                return time.perf_counter() - start
        time.sleep(0.02)
    report_inbox(database, integration_id, context)
    raise SystemExit("the change of %s did not show in time" % omie_id)


if __name__ == '__main__':
    sys.exit(main())
