# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark: users post invoices while a first sync imports a company

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/posting_beside_sync.py --titles 2000

Creates a fresh PostgreSQL database (dropped at the end) with two Brazilian
companies, A with an Omie integration whose categories are all mapped and B
without.  A child process runs the first sync of A against the sandbox; once
it posts titles, a user of A and a user of B each post --postings draft
invoices, one every --pause seconds, each as the server serves a request
(tests/posting.py).  Prints the wait of each user beyond the time of a
posting alone (median, max), the requests that failed on a lock and were
asked again, and the sync's wall time, records/s and peak memory."""
import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--titles', type=int, default=2000)
    parser.add_argument('--parties', type=int, default=200)
    parser.add_argument('--movements', type=int, default=300)
    parser.add_argument('--postings', type=int, default=20)
    parser.add_argument('--pause', type=float, default=1.0)
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--stop-after-postings', action='store_true',
        help="stop the sync once the users have posted (a first sync of "
        "2,000 titles takes 10 minutes or more)")
    parser.add_argument('--child-sync', nargs=2, type=int,
        metavar=('INTEGRATION', 'COMPANY'), help=argparse.SUPPRESS)
    args = parser.parse_args()
    uri = os.environ.get('TRYTOND_DATABASE_URI', '')
    if not uri.startswith('postgresql'):
        parser.error("needs TRYTOND_DATABASE_URI=postgresql://…: SQLite "
            "has one writer at a time, there is nothing to measure")
    os.environ.setdefault('DB_NAME', 'bench_posting_%d' % int(time.time()))
    os.environ.setdefault('TRYTOND_EMAIL__FROM', 'tryton@localhost')
    if args.child_sync:
        return child_sync(*args.child_sync)
    return bench(args)


def bench(args):
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
    from trytond.transaction import Transaction

    from bench._common import map_categories
    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    from novagestao_omie.omie.sandbox import (
        Sandbox, SandboxSettings, generate_dataset)
    from tests.posting import (
        Poster, create_draft_invoices, figures, request, post_invoice)

    today = dt.date.today()
    dataset = generate_dataset(
        seed=args.seed, parties=args.parties, titles=args.titles,
        movements=args.movements, today=today)
    sandbox = Sandbox(dataset, settings=SandboxSettings(redundant_window=0))
    server = sandbox.serve(host='127.0.0.1', port=0)
    drop_db()
    activate_module(['novagestao_omie'])
    child = None
    try:
        company_a = run_committed(DB_NAME, lambda: create_brazilian_company(
                name="Empresa A Ltda", today=today).id)
        company_b = run_committed(DB_NAME, lambda: create_brazilian_company(
                name="Empresa B Ltda", today=today).id)
        context = {'company': company_a, 'companies': [company_a],
            '_skip_warnings': True}

        def create_integration():
            Integration = Pool().get('integration.integration')
            integration = Integration(
                name="Omie A", company=company_a, connector='omie',
                omie_app_key=Sandbox.DEFAULT_APP_KEY,
                omie_app_secret=Sandbox.DEFAULT_APP_SECRET,
                omie_base_url=server.url,
                initial_date=today - dt.timedelta(days=500))
            integration.save()
            return integration.id
        integration_id = run_committed(
            DB_NAME, create_integration, context=context)
        map_categories(integration_id, company_a, dataset)
        drafts = {}
        for company in [company_a, company_b]:
            drafts[company] = run_committed(
                DB_NAME, lambda: create_draft_invoices(
                    company, args.postings + 3, "Cliente %d" % company),
                context={'company': company, 'companies': [company]})

        # a posting alone, the time the waits are measured beyond
        baseline = {}
        for company in [company_a, company_b]:
            times = []
            for invoice_id in drafts[company][:3]:
                start = time.monotonic()
                request(DB_NAME, 0, {
                        'company': company, 'companies': [company]},
                    lambda: post_invoice(invoice_id))
                times.append(time.monotonic() - start)
            baseline[company] = min(times)

        env = dict(os.environ, DB_NAME=DB_NAME)
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), '--child-sync',
                str(integration_id), str(company_a)],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        # the users start once the sync posts titles
        while not posted_titles(DB_NAME, company_a):
            if child.poll() is not None:
                raise RuntimeError("the sync ended before posting")
            time.sleep(0.2)
        posters = [
            Poster(DB_NAME, 0, company, drafts[company][3:], args.pause)
            for company in [company_a, company_b]]
        for poster in posters:
            poster.start()
        for poster in posters:
            poster.join()
        sync_running = child.poll() is None
        print("the postings ended %s the sync, %.0f s after it started, "
            "when it had imported %d titles" % (
                "during" if sync_running else "AFTER",
                time.monotonic() - started,
                posted_titles(DB_NAME, company_a)), flush=True)
        for name, company, poster in [
                ('same company (A)', company_a, posters[0]),
                ('other company (B)', company_b, posters[1])]:
            median, longest = figures(poster.durations, baseline[company])
            print("%s: %d invoices posted, alone %.2f s each; wait beyond "
                "that: median %.2f s, max %.2f s; %d request(s) failed on "
                "a lock and were asked again" % (
                    name, len(poster.numbers), baseline[company], median,
                    longest, len(poster.errors)), flush=True)
        if args.stop_after_postings and child.poll() is None:
            child.kill()
            child.wait()
            print("sync stopped after the postings (--stop-after-postings)")
        else:
            output = child.communicate()[0]
            result = json.loads(output.strip().splitlines()[-1])
            print("first sync of %d titles: %s in %.1f s, %d records "
                "(%.0f records/s), peak memory %.0f MB (sync process)" % (
                    args.titles, result['state'], result['seconds'],
                    result['records'],
                    result['records'] / result['seconds'],
                    result['peak_mb']))
        child = None
        with Transaction().start(DB_NAME, 0, readonly=True):
            Invoice = Pool().get('account.invoice')
            for company in [company_a, company_b]:
                states = {i.state for i in Invoice.browse(drafts[company])}
                print("  company %d: the invoices posted are %s" % (
                        company, ', '.join(sorted(states))))
    finally:
        if child is not None:
            child.kill()
        server.shutdown()
        drop_db()
    return 0


def posted_titles(database, company_id):
    "How many invoices the sync posted in the company"
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with Transaction().start(database, 0, readonly=True):
        Binding = Pool().get('integration.binding')
        return Binding.search_count([
                ('kind', 'in', ['payable', 'receivable']),
                ('integration.company', '=', company_id),
                ])


def child_sync(integration_id, company_id):
    "Run the first sync as the integration queue would; print its figures"
    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME
    from trytond.transaction import Transaction

    if DB_NAME not in Pool.database_list():
        with Transaction().start(DB_NAME, 0, readonly=True):
            Pool(DB_NAME).init()
    context = {'company': company_id, 'companies': [company_id],
        '_skip_warnings': True}
    start = time.monotonic()
    with Transaction().start(DB_NAME, 0, context=context):
        Integration = Pool().get('integration.integration')
        Integration.run_sync([Integration(integration_id)], 'manual')
    seconds = time.monotonic() - start
    with Transaction().start(DB_NAME, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        run = Integration(integration_id).runs[0]
        records = sum(sum(c.values()) for c in run.summary().values())
        if run.message:
            print("sync run message: %s" % run.message, file=sys.stderr)
        print(json.dumps({
                    'state': run.state, 'seconds': seconds,
                    'records': records,
                    'peak_mb': resource.getrusage(
                        resource.RUSAGE_SELF).ru_maxrss / 1024,
                    }))
    return 0


if __name__ == '__main__':
    sys.exit(main())
