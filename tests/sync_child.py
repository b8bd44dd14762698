# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""A process of its own on the database DB_NAME, for tests that kill a sync

    python -m tests.sync_child setup OMIE_URL   set up the company, the
        integration and the mappings of the categories read on stdin
    python -m tests.sync_child sync [ENTITY:N]  run a sync; with ENTITY:N,
        print KILL-ME and wait to be killed once the N-th page of ENTITY is
        imported and not committed yet
    python -m tests.sync_child sync post:ENTITY:N  the same once the N-th
        chunk of ENTITY shared with queue workers is posted, not committed
    python -m tests.sync_child chunks           print those chunks as JSON
    python -m tests.sync_child snapshot         print the database as JSON,
                                                without ids nor timestamps
    python -m tests.sync_child drop             drop the database

It takes the database from the environment as trytond's tests do:
TRYTOND_DATABASE_URI, DB_NAME, DB_CACHE (and TRYTOND_DATABASE__PATH for a
SQLite file).  Everything it prints but KILL-ME is one JSON line."""
import json
import sys
import time

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

from novagestao_integrations_base.tests.tools import (
    create_brazilian_company, run_committed)
from novagestao_omie.omie.sandbox import Sandbox
from novagestao_omie.tests.tools import SANDBOX_TODAY

MODULES = ['novagestao_omie']
# the cursors whose value is a time of the run, not of Omie's data
TIMED_CURSORS = {'category', 'bank_account'}


def start(readonly=False):
    if DB_NAME not in Pool.database_list():
        Pool(DB_NAME).init()
    Transaction().start(DB_NAME, 0, readonly=readonly)
    company_id, integration_id = _ids()
    Transaction().stop()
    return Transaction().start(
        DB_NAME, 0, readonly=readonly, context={
            'company': company_id,
            'companies': [company_id],
            '_skip_warnings': True,
            }), integration_id


def _ids():
    Integration = Pool().get('integration.integration')
    integration, = Integration.search([])
    return integration.company.id, integration.id


def setup(url, categories):
    """categories: [(code, name, is revenue)] to map, the classifying
    categories of the sandbox"""
    activate_module(MODULES)
    company_id = run_committed(
        DB_NAME, lambda: create_brazilian_company(today=SANDBOX_TODAY).id)

    def create():
        pool = Pool()
        Account = pool.get('account.account')
        Integration = pool.get('integration.integration')
        Mapping = pool.get('integration.mapping')
        integration = Integration(
            name="Omie", company=company_id, connector='omie',
            omie_app_key=Sandbox.DEFAULT_APP_KEY,
            omie_app_secret=Sandbox.DEFAULT_APP_SECRET, omie_base_url=url,
            initial_date=SANDBOX_TODAY.replace(year=SANDBOX_TODAY.year - 2),
            filter_months_back=13)
        integration.save()
        targets = {}
        for kind in ['revenue', 'expense']:
            sibling, = Account.search([
                    ('type.%s' % kind, '=', True),
                    ('company', '=', company_id),
                    ], order=[('id', 'ASC')], limit=1)
            targets[kind] = Account(
                name='Omie test %s' % kind, type=sibling.type,
                parent=sibling.parent, company=company_id)
            targets[kind].save()
        Mapping.save([Mapping(
                    integration=integration, external_code=code,
                    external_name=name,
                    target=targets['revenue' if revenue else 'expense'],
                    state='confirmed')
                for code, name, revenue in categories])
        return integration.id
    integration_id = run_committed(
        DB_NAME, create,
        context={'company': company_id, 'companies': [company_id]})
    return {'integration': integration_id}


def sync(die_at=None):
    from novagestao_omie.sync import OmieSync
    if die_at and die_at.startswith('post:'):
        _, entity, count = die_at.split(':')
        original_post = OmieSync.post_chunk
        posted = []

        def post_chunk(self, step, run):
            done = original_post(self, step, run)
            if done and step.entity == entity:
                posted.append(step)
                if len(posted) == int(count):
                    # posted, not committed: now is the time to die
                    print('KILL-ME', flush=True)
                    time.sleep(600)
            return done
        OmieSync.post_chunk = post_chunk
    elif die_at:
        entity, page = die_at.split(':')
        page = int(page)
        original = OmieSync.import_records
        seen = []

        def import_records(self, step, raws, **options):
            parsed = original(self, step, raws, **options)
            if step.entity == entity:
                seen.append(step)
                if len(seen) == page:
                    # imported, not committed: now is the time to die
                    print('KILL-ME', flush=True)
                    time.sleep(600)
            return parsed
        OmieSync.import_records = import_records
    transaction, integration_id = start()
    with transaction:
        Integration = Pool().get('integration.integration')
        Integration.run_sync([Integration(integration_id)], 'manual')
    transaction, integration_id = start(readonly=True)
    with transaction:
        Integration = Pool().get('integration.integration')
        run = Integration(integration_id).runs[0]
        return {'state': run.state, 'message': run.message,
            'summary': run.summary()}


def ordered(items):
    "Sort items that may hold None, by their JSON"
    return sorted(items, key=lambda i: json.dumps(
            i, default=str, sort_keys=True))


def move_number(move):
    """The number of the move, but of a statement's: Tryton posts the moves
    of a statement in the order of a set, which changes between processes"""
    origin = move.origin
    if origin is not None and origin.__name__.startswith(
            'account.statement'):
        return None
    return move.number


def natural(record):
    "What tells a record from the others, without its id"
    if record is None:
        return None
    name = record.__name__
    if record.id is None or record.id < 0:
        return [name, None]
    if name == 'party.party':
        return [name, record.name, ordered(
                i.code for i in record.identifiers)]
    if name == 'account.invoice':
        return [name, record.type, record.number, record.reference,
            str(record.total_amount)]
    if name == 'account.move':
        return [name, record.journal.name, move_number(record),
            record.date.isoformat(), record.description]
    if name == 'account.move.line':
        return [name, natural(record.move), record.account.name,
            str(record.debit), str(record.credit)]
    if name == 'account.statement':
        return [name, record.journal.name, record.name,
            record.date.isoformat()]
    if name == 'account.statement.line':
        return [name, natural(record.statement), record.number,
            record.date.isoformat(), str(record.amount), record.description]
    if name == 'account.account':
        return [name, record.code, record.name]
    return [name, record.rec_name]


def snapshot():
    transaction, integration_id = start(readonly=True)
    with transaction:
        pool = Pool()
        Binding = pool.get('integration.binding')
        Cursor = pool.get('integration.cursor')
        Error = pool.get('integration.sync.error')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        Party = pool.get('party.party')
        Reconciliation = pool.get('account.move.reconciliation')
        Run = pool.get('integration.sync.run')
        Statement = pool.get('account.statement')
        Account = pool.get('account.account')
        PaymentMethod = pool.get('account.invoice.payment.method')

        bindings = ordered([
                b.kind, b.external_id, natural(b.record), b.content_hash,
                b.remote_stamp]
            for b in Binding.search([('integration', '=', integration_id)]))
        invoices = ordered([
                i.type, i.number, i.reference, i.state,
                str(i.total_amount), str(i.amount_to_pay),
                i.invoice_date.isoformat() if i.invoice_date else None,
                i.party.name, i.reconciled is not None and bool(i.reconciled),
                ordered([l.omie_category, l.account.name, str(l.amount)]
                    for l in i.lines),
                ordered(natural(l) for l in i.payment_lines),
                natural(i.cancel_move), i.omie_nf_key, i.omie_nf_number]
            for i in Invoice.search([]))
        moves = ordered([
                m.journal.name, move_number(m), m.date.isoformat(), m.state,
                m.description, natural(m.origin),
                ordered([l.account.name, l.party.name if l.party else None,
                        str(l.debit), str(l.credit),
                        bool(l.reconciliation)] for l in m.lines)]
            for m in Move.search([]))
        statements = ordered([
                s.journal.name, s.name, s.date.isoformat(), s.state,
                str(s.start_balance), str(s.end_balance),
                ordered([l.number, l.date.isoformat(), str(l.amount),
                        l.description, l.party.name if l.party else None]
                    for l in s.lines)]
            for s in Statement.search([]))
        cursors = {c.entity: (None if c.entity in TIMED_CURSORS else c.value)
            for c in Cursor.search([('integration', '=', integration_id)])}
        errors = ordered([
                e.entity, e.external_id, e.kind, e.message, e.detail]
            for e in Error.search([
                    ('integration', '=', integration_id),
                    ('resolved', '=', False),
                    ]))
        runs = [[r.state, r.message, r.process is not None]
            for r in Run.search([('integration', '=', integration_id)],
                order=[('id', 'ASC')])]
        return {
            'bindings': bindings,
            'invoices': invoices,
            'moves': moves,
            'statements': statements,
            'cursors': cursors,
            'errors': errors,
            'parties': ordered(p.name for p in Party.search([])),
            'accounts': ordered(
                [a.code, a.name] for a in Account.search([])),
            'payment_methods': ordered(
                m.name for m in PaymentMethod.search([])),
            'reconciliations': Reconciliation.search_count([]),
            'move_numbers': ordered(
                [m.period.fiscalyear.name, m.number]
                for m in Move.search([])),
            'runs': runs,
            }


def chunks():
    "The chunks of the runs shared with queue workers"
    transaction, _ = start(readonly=True)
    with transaction:
        Chunk = Pool().get('integration.sync.chunk')
        return [[c.entity, c.state, c.built_by, json.loads(c.counts or '{}'),
                c.payload is None]
            for c in Chunk.search([])]


def main(argv):
    command = argv[0]
    if command == 'setup':
        result = setup(argv[1], json.loads(sys.stdin.read()))
    elif command == 'sync':
        result = sync(argv[1] if len(argv) > 1 else None)
    elif command == 'snapshot':
        result = snapshot()
    elif command == 'chunks':
        result = chunks()
    elif command == 'drop':
        drop_db()
        result = {}
    else:
        raise SystemExit("unknown command %r" % command)
    print(json.dumps(result, default=str, sort_keys=True), flush=True)


if __name__ == '__main__':
    main(sys.argv[1:])
