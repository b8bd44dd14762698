# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Benchmark the first full sync and an incremental sync against the sandbox

    TRYTOND_DATABASE_URI=postgresql://postgres@127.0.0.1:5432/ \\
        .venv/bin/python bench/sync.py --titles 2000 --parties 200 --movements 1000

Creates a fresh database (dropped at the end), a Brazilian company, an Omie
integration whose categories are all mapped, runs the first sync, changes
--changed titles in the sandbox and runs the incremental sync.  Prints, per
run, the wall time, records per second, Omie calls and the peak memory."""
import argparse
import cProfile
import datetime as dt
import os
import resource
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--titles', type=int, default=2000)
    parser.add_argument('--parties', type=int, default=200)
    parser.add_argument('--movements', type=int, default=1000)
    parser.add_argument('--changed', type=int, default=100)
    parser.add_argument('--seed', type=int, default=7)
    parser.add_argument('--profile', metavar='PREFIX',
        help="write a cProfile of each sync to PREFIX-<sync>.prof")
    args = parser.parse_args()
    os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    os.environ.setdefault('DB_NAME', 'bench_%d' % int(time.time()) if not
        os.environ['TRYTOND_DATABASE_URI'].startswith('sqlite') else ':memory:')

    from trytond.pool import Pool
    from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db

    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    from novagestao_omie.omie.sandbox import (
        Sandbox, SandboxSettings, generate_dataset)

    today = dt.date(2026, 11, 21)
    dataset = generate_dataset(
        seed=args.seed, parties=args.parties, titles=args.titles,
        movements=args.movements, today=today)
    sandbox = Sandbox(dataset, settings=SandboxSettings(redundant_window=0))
    server = sandbox.serve(port=0)
    drop_db()
    activate_module(['novagestao_omie'])
    try:
        company_id = run_committed(
            DB_NAME, lambda: create_brazilian_company(today=today).id)
        context = {'company': company_id, 'companies': [company_id],
            '_skip_warnings': True}

        def create_integration():
            pool = Pool()
            Integration = pool.get('integration.integration')
            integration = Integration(
                name="Benchmark", company=company_id, connector='omie',
                omie_app_key=Sandbox.DEFAULT_APP_KEY,
                omie_app_secret=Sandbox.DEFAULT_APP_SECRET,
                omie_base_url=server.url,
                initial_date=today - dt.timedelta(days=500))
            integration.save()
            return integration.id
        integration_id = run_committed(DB_NAME, create_integration, context=context)
        map_categories(DB_NAME, integration_id, context, dataset)
        report("first sync", run(DB_NAME, integration_id, context,
                profiled(args.profile, 'first')))
        changed = change_titles(sandbox, dataset, args.changed)
        print("changed %d titles in the sandbox" % changed)
        report("incremental sync", run(DB_NAME, integration_id, context,
                profiled(args.profile, 'incremental')))
    finally:
        server.shutdown()
        drop_db()
    return 0


def map_categories(database, integration_id, context, dataset):
    "Confirm a mapping of every Omie category onto the chart's accounts"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed

    def confirm():
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        Integration = pool.get('integration.integration')
        integration = Integration(integration_id)
        revenue, expense = [
            bench_account(Account, kind) for kind in ['revenue', 'expense']]
        mappings = []
        for category in dataset.categories:
            if category.get('totalizadora') == 'S':
                continue
            is_revenue = category['codigo'].startswith('1.')
            mappings.append(Mapping(
                    integration=integration,
                    external_code=category['codigo'],
                    external_name=category.get('descricao'),
                    external_type='revenue' if is_revenue else 'expense',
                    target=revenue if is_revenue else expense,
                    state='confirmed'))
        Mapping.save(mappings)
    run_committed(database, confirm, context=context)


def bench_account(Account, kind):
    "A new account beside one of the chart's accounts of the kind"
    sibling, = Account.search([
            ('type.%s' % kind, '=', True),
            ('closed', '!=', True),
            ('childs', '=', None),
            ], limit=1)
    account = Account(
        name='Benchmark %s' % kind, code='9.%s' % kind, type=sibling.type,
        parent=sibling.parent, company=sibling.company)
    account.save()
    return account


def profiled(prefix, name):
    "A cProfile to write to prefix-name.prof, or None without prefix"
    if prefix:
        profile = cProfile.Profile()
        profile.path = '%s-%s.prof' % (prefix, name)
        return profile


def run(database, integration_id, context, profile=None):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    start = time.perf_counter()
    with Transaction().start(database, 0, context=context):
        Integration = Pool().get('integration.integration')
        if profile:
            profile.enable()
        Integration.run_sync([Integration(integration_id)], 'manual')
        if profile:
            profile.disable()
            profile.dump_stats(profile.path)
    seconds = time.perf_counter() - start
    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        run = Integration(integration_id).runs[0]
        messages = {}
        for error in run.errors:
            key = (error.entity, error.kind, error.message[:90])
            messages[key] = messages.get(key, 0) + 1
        for (entity, kind, message), count in sorted(
                messages.items(), key=lambda i: -i[1])[:8]:
            print("  error x%d %s %s: %s" % (count, entity, kind, message))
        return seconds, run.state, run.remote_calls, run.summary(), len(
            run.errors)


def report(title, result):
    seconds, state, calls, summary, errors = result
    records = sum(sum(c.values()) for c in summary.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("%s: %s in %.1f s, %d records (%.0f records/s), %d Omie calls, "
        "%d errors, peak memory %.0f MB" % (
            title, state, seconds, records, records / seconds, calls or 0,
            errors, peak))
    for entity, counts in summary.items():
        print("  %-14s %s" % (entity, ' '.join(
                    '%s=%d' % item for item in counts.items() if item[1])))


def change_titles(sandbox, dataset, count):
    "Change the note of count payables that Omie lets change (not cancelled)"
    changed = 0
    for payable in dataset.payables:
        if changed >= count:
            break
        if payable.get('status_titulo', '').upper() == 'CANCELADO':
            continue
        try:
            sandbox.change('payable', payable['codigo_lancamento_omie'],
                observacao='Alterado no benchmark')
        except Exception:  # e.g. cancelled since the dataset was made
            continue
        changed += 1
    return changed


if __name__ == '__main__':
    sys.exit(main())
