# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The set-up that the benchmarks share

A benchmark calls database_environment() before it imports trytond (the
database URI and name are read at import), then, inside bench_database(),
builds its company, integration and sandbox with the functions below:

    from _common import database_environment, bench_database, ...
    database_environment('bench_sync')
    with bench_database(dataset) as (sandbox, server):
        company_id = create_company()
        integration_id = create_integration(company_id, server.url)

SQLite in memory is the default; TRYTOND_DATABASE_URI=postgresql://… picks
PostgreSQL, where the database gets a name of its own and is dropped at the
end."""
import contextlib
import cProfile
import datetime as dt
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    # tests.posting, the benchmarks' own modules as bench.<name>
    sys.path.insert(0, ROOT)

from tests.processes import stop_process_group  # noqa: E402

# The sandbox's datasets are dated around this day: the runs are the same
# whatever day they are made.
TODAY = dt.date(2026, 11, 21)
# The share of each entity in a dataset of N titles (the sizes:
# 10,000 titles, 1,000 parties, 5,000 movements)
PARTIES_PER_TITLE = 0.1
MOVEMENTS_PER_TITLE = 0.5


def database_environment(prefix, memory=True, file=False):
    """Set the database of the benchmark before trytond is imported
    Return the work directory of a SQLite file database, else None

    memory: SQLite in memory (one process); file: a SQLite file in a new
    directory (several processes).  PostgreSQL gets a new database named
    prefix_<time>."""
    uri = os.environ.setdefault('TRYTOND_DATABASE_URI', 'sqlite://')
    workdir = None
    if uri.startswith('sqlite'):
        if file or not memory:
            workdir = tempfile.mkdtemp(prefix='novagestao-bench-')
            os.environ['TRYTOND_DATABASE__PATH'] = workdir
            os.environ['DB_NAME'] = '%s_%d' % (prefix, int(time.time()))
        else:
            os.environ.setdefault('DB_NAME', ':memory:')
    else:
        os.environ.setdefault('DB_NAME', '%s_%d' % (prefix, int(time.time())))
    return workdir


def is_postgresql():
    return os.environ.get('TRYTOND_DATABASE_URI', '').startswith('postgresql')


def dataset_of(titles, parties=None, movements=None, seed=7, today=TODAY):
    "A sandbox dataset of titles, with parties and movements in proportion"
    from novagestao_omie.omie.sandbox import generate_dataset
    if parties is None:
        parties = max(1, round(titles * PARTIES_PER_TITLE))
    if movements is None:
        movements = round(titles * MOVEMENTS_PER_TITLE)
    return generate_dataset(seed=seed, parties=parties, titles=titles,
        movements=movements, today=today)


@contextlib.contextmanager
def bench_database(dataset=None, modules=('novagestao_omie',)):
    """A new database with the modules and, for a dataset, a sandbox that
    serves it on loopback, Omie's redundant-call rule off (the benchmarks
    read on purpose what they just read); both gone at the end
    Yield (sandbox, server), None for both without dataset"""
    from trytond.tests.test_tryton import activate_module, drop_db

    from novagestao_omie.omie.sandbox import Sandbox, SandboxSettings
    sandbox = server = None
    if dataset is not None:
        sandbox = Sandbox(
            dataset, settings=SandboxSettings(redundant_window=0))
        server = sandbox.serve(host='127.0.0.1', port=0)
    drop_db()
    activate_module(list(modules))
    try:
        yield sandbox, server
    finally:
        if server is not None:
            server.shutdown()
        drop_db()


def queue_workers(count):
    """Let runs share their title chunks with count more processes: set
    before trytond is imported ([queue] worker, [integration]
    import_workers), PostgreSQL only"""
    if count > 1:
        os.environ['TRYTOND_QUEUE__WORKER'] = 'True'
        os.environ['TRYTOND_INTEGRATION__IMPORT_WORKERS'] = str(count)


@contextlib.contextmanager
def worker_processes(count):
    """trytond-worker on the benchmark's database with count processes
    (none for 0), stopped at the end"""
    if count < 1:
        yield None
        return
    env = dict(os.environ)
    env['TRYTOND_DATABASE__URI'] = os.environ['TRYTOND_DATABASE_URI']
    process = subprocess.Popen([
            os.path.join(os.path.dirname(sys.executable), 'trytond-worker'),
            '-d', database_name(), '-n', str(count), '--name', 'integration'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        yield process
    finally:
        stop_process_group(process)


def database_name():
    from trytond.tests.test_tryton import DB_NAME
    return DB_NAME


def company_context(company_id):
    return {'company': company_id, 'companies': [company_id],
        '_skip_warnings': True}


def create_company(name="NovaGestão Demo Ltda", today=TODAY):
    "Create a Brazilian company with its chart; return its id"
    from novagestao_integrations_base.tests.tools import (
        create_brazilian_company, run_committed)
    return run_committed(database_name(), lambda: create_brazilian_company(
            name=name, today=today).id)


def create_integration(company_id, server_url, today=TODAY, days=500,
        **values):
    "Create an Omie integration of the company on the sandbox; return its id"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed
    from novagestao_omie.omie.sandbox import Sandbox

    def create():
        Integration = Pool().get('integration.integration')
        integration = Integration(
            name=values.pop('name', "Benchmark"), company=company_id,
            connector='omie', omie_app_key=Sandbox.DEFAULT_APP_KEY,
            omie_app_secret=Sandbox.DEFAULT_APP_SECRET,
            omie_base_url=server_url,
            initial_date=today - dt.timedelta(days=days), **values)
        integration.save()
        return integration.id
    return run_committed(
        database_name(), create, context=company_context(company_id))


def bench_account(Account, kind, company=None):
    "A new account beside one of the chart's accounts of the kind"
    domain = [
        ('type.%s' % kind, '=', True),
        ('closed', '!=', True),
        ('childs', '=', None),
        ]
    if company is not None:
        domain.append(('company', '=', company))
    sibling, = Account.search(domain, order=[('id', 'ASC')], limit=1)
    account = Account(
        name='Benchmark %s' % kind, code='9.%s' % kind, type=sibling.type,
        parent=sibling.parent, company=sibling.company)
    account.save()
    return account


def map_categories(integration_id, company_id, dataset):
    "Confirm a mapping of every Omie category onto the chart's accounts"
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed

    def confirm():
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        revenue, expense = [bench_account(Account, kind, company_id)
            for kind in ['revenue', 'expense']]
        mappings = []
        for category in dataset.categories:
            if category.get('totalizadora') == 'S':
                continue
            is_revenue = category['codigo'].startswith('1.')
            mappings.append(Mapping(
                    integration=integration_id,
                    external_code=category['codigo'],
                    external_name=category.get('descricao'),
                    external_type='revenue' if is_revenue else 'expense',
                    target=revenue if is_revenue else expense,
                    state='confirmed'))
        Mapping.save(mappings)
    run_committed(
        database_name(), confirm, context=company_context(company_id))


def set_integration(integration_id, company_id, **values):
    from trytond.pool import Pool

    from novagestao_integrations_base.tests.tools import run_committed

    def write():
        Integration = Pool().get('integration.integration')
        Integration.write([Integration(integration_id)], values)
    run_committed(
        database_name(), write, context=company_context(company_id))


@dataclass
class SyncResult:
    "What a benchmark reports of a sync run"
    seconds: float
    cpu: float  # seconds of CPU of this process (the sandbox's included)
    state: str
    calls: int
    summary: dict
    errors: int

    @property
    def records(self):
        "The records the run read, whatever it did with them"
        return sum(sum(c.values()) for c in self.summary.values())

    def count(self, *names, entities=None):
        return sum(counts.get(name, 0)
            for entity, counts in self.summary.items()
            if entities is None or entity in entities
            for name in names)


def run_sync(integration_id, company_id, trigger='manual', profile=None,
        show_errors=8):
    """Run a sync of the integration as the queue would, timed
    Return a SyncResult"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    database = database_name()
    context = company_context(company_id)
    steps = StepTimes()
    logging.getLogger('novagestao_omie.sync').addHandler(steps)
    logging.getLogger('novagestao_omie.sync').setLevel(logging.INFO)
    start, cpu = time.perf_counter(), time.process_time()
    with Transaction().start(database, 0, context=context):
        Integration = Pool().get('integration.integration')
        if profile:
            profile.enable()
        Integration.run_sync([Integration(integration_id)], trigger)
        if profile:
            profile.disable()
            profile.dump_stats(profile.path)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    logging.getLogger('novagestao_omie.sync').removeHandler(steps)
    print("  steps: %s" % ', '.join(steps.lines), file=sys.stderr)
    with Transaction().start(database, 0, readonly=True):
        Integration = Pool().get('integration.integration')
        run = Integration(integration_id).runs[0]
        messages = {}
        for error in run.errors:
            key = (error.entity, error.kind, error.message[:90])
            messages[key] = messages.get(key, 0) + 1
        for (entity, kind, message), count in sorted(
                messages.items(), key=lambda i: -i[1])[:show_errors]:
            print("  error x%d %s %s: %s" % (count, entity, kind, message),
                file=sys.stderr)
        return SyncResult(seconds, cpu, run.state, run.remote_calls or 0,
            run.summary(), len(run.errors))


class StepTimes(logging.Handler):
    "Keeps the times of the steps that the sync logs"

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        message = record.getMessage()
        if ': step ' in message:
            self.lines.append(message.split(': step ', 1)[1])


def profiled(prefix, name):
    "A cProfile to write to prefix-name.prof, or None without prefix"
    if prefix:
        profile = cProfile.Profile()
        profile.path = '%s-%s.prof' % (prefix, name)
        return profile


def peak_memory_mb():
    "The peak resident memory of this process so far, in MB"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sandbox_calls(sandbox):
    "{Omie call: count} the sandbox answered"
    with sandbox.stats.lock:
        calls = {}
        for (_, call), count in sandbox.stats.items():
            calls[call] = calls.get(call, 0) + count
        return calls


def change_titles(sandbox, dataset, count, note='Alterado no benchmark'):
    "Change the note of count payables that Omie lets change (not cancelled)"
    changed = 0
    for payable in dataset.payables:
        if changed >= count:
            break
        if payable.get('status_titulo', '').upper() == 'CANCELADO':
            continue
        try:
            sandbox.change('payable', payable['codigo_lancamento_omie'],
                observacao=note)
        except Exception:  # e.g. cancelled since the dataset was made
            continue
        changed += 1
    return changed


def print_table(headers, rows):
    "Print rows under headers, as a Markdown table"
    widths = [max(len(str(c)) for c in column)
        for column in zip(headers, *rows)]
    line = '| %s |' % ' | '.join('%%-%ds' % w for w in widths)
    print(line % tuple(headers))
    print('|%s|' % '|'.join('-' * (w + 2) for w in widths))
    for row in rows:
        print(line % tuple(row))
