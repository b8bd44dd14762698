# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The Omie sync engine: one step per entity, in dependency order

Each step reads Omie page by page, hands a page of parsed records to the
importer of its Tryton model, commits, and moves the entity's cursor only once
everything the cursor covers is committed.

A step may also, before its incremental read, read again the records left
pending (a sync error) whose cause may be gone — one by one when they are
few, with the whole list otherwise — and, after it, read again a window of
recent records that Omie changes without notice.  The bank statements are
read per account and month instead of page by page.

Each chunk of records is imported in a short transaction of its own, like
a request of a user: importers that post accounting entries number them with
strict sequences, which Tryton locks when the transaction starts, so a chunk
starts again with the locks it asks for and holds them until its commit
only.  Users who post beside a sync wait for a chunk at most."""
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from novagestao_integrations_base.binding import IN_MAX
from novagestao_integrations_base.sync import (
    commit_and_continue, in_own_transaction)

from .omie import errors, records
from .settlement import settlement_stamp, settlement_title
from .sync_chunks import SharedChunks, partitioned
from .sync_filters import IntegrationFilters
from .sync_pending import PendingRecords
from .sync_refused import RefusedRecords, external_id_of
from .sync_statements import StatementMonths

logger = logging.getLogger(__name__)

# Omie stamps changes to the second in São Paulo time and may commit them a
# little late: each incremental run reads again a window before the cursor.
OVERLAP = dt.timedelta(hours=1)
# Lists without a date filter (categories, bank accounts) are read again only
# after this delay: Omie refuses the same read within 60 seconds, and their
# changes also arrive through webhooks.
REFERENCE_REFRESH = dt.timedelta(minutes=10)
# Runs of webhook events check the books once in this interval at most
BOOKS_CHECK_INTERVAL = dt.timedelta(minutes=10)
# The detail of the pending error of a step that Omie failed to answer
STEP_ERROR = 'step'
# Omie lists the titles without their note unless asked
TITLE_PARAMS = {'exibir_obs': 'S'}
# Records handed to an importer at once, then committed: Tryton checks every
# id of a record list for each record it builds from the list, a cost in the
# square of its length, so a page of Omie (500) is cut in chunks.
IMPORT_CHUNK = 100
# Records of a step that posts (invoices, moves) imported at once: a chunk
# holds the strict sequences of its company from its start to its commit,
# and a user who posts meanwhile waits for it, so it is kept short.
POSTING_CHUNK = 10
# Seconds a chunk that held locks leaves them free before the next chunk
# takes them again: users who post retry within this time and go first.
LOCK_PAUSE = 0.1


def _altered_at(record):
    return getattr(record, 'altered_at', None)


class SettlementMovement:
    "The settlements (baixas) of a ListarMovimentos page; other rows are None"

    @staticmethod
    def from_omie(movement):
        return records.Settlement.from_movement(movement)


@dataclass
class Step:
    "How one entity is read from Omie and which importer takes it"
    entity: str
    call: str
    parser: type
    importer: str  # 'model.name|classmethod'
    params: dict = field(default_factory=dict)
    incremental: bool = True
    weight: int = 1
    # records imported at once, in a transaction
    chunk: int = IMPORT_CHUNK
    # the steps whose records this one needs: it waits for the next run
    # when one of them failed
    requires: tuple = ()
    # the Omie filter of an incremental read: changes since the cursor
    cursor_key: str = 'filtrar_por_data_de'
    # when Omie last changed a parsed record, to move the cursor
    stamp: Callable = _altered_at
    # OmieSync methods for what differs from reading pages of a list:
    filters: str = None  # (step) -> Omie params of the integration filters
    pending: str = None  # (step) -> read the pending records again first
    repoll: str = None  # (step) -> Omie params of a second read, or None
    runner: str = None  # (step, progress, share) -> runs the whole step
    before: str = None  # (step, raw records) -> runs before their import
    deleted: str = None  # (step, external ids) -> records gone from Omie
    # (step, raw records) -> posts what a chunk built in draft: the chunks
    # of the step may then be built by queue workers (see sync_chunks)
    post: str = None
    # (raw record) -> what keeps records in one shared chunk: those of one
    # key must not be built side by side
    partition: Callable = None
    # whether a record imported as Omie holds it now (the content hash of
    # its binding) is told apart before its chunk: see split_unchanged
    skip_unchanged: bool = False

    def importer_method(self):
        model, method = self.importer.split('|')
        return getattr(Pool().get(model), method)


def record_client_metrics(run, client):
    "Hand the run the calls, retries, waits and answer times per method"
    run.add_method_metrics(client.method_stats())


class OmieSync(SharedChunks, RefusedRecords, PendingRecords,
        StatementMonths, IntegrationFilters):
    "Synchronise one Omie integration inside one sync run"

    def __init__(self, integration, run, client=None):
        super().__init__()
        self.integration = integration
        self.run = run
        self.client = client or integration.omie_client()
        # {Omie bank account: ListarExtrato of its month up to today} read
        # by the statement step, which the books check reuses
        self.current_statements = {}
        # The locks that the last chunk of each kind asked for, taken at
        # the start of the next chunk of that kind to save it an attempt:
        # they are the strict sequences of the integration's company only.
        self.chunk_locks = {}

    def commit(self):
        "Commit what the run wrote outside its chunks (cursors, progress…)"
        commit_and_continue(Transaction())

    def with_locks(self, func, *args):
        """Run func as a chunk of work: in a short transaction of its own
        that starts with the locks the chunk asks for and ends with them at
        its commit (see in_own_transaction), so that users who post beside
        a sync wait for one chunk at most and a crash keeps whole chunks"""
        pool = Pool()
        Integration = pool.get('integration.integration')
        Run = pool.get('integration.sync.run')
        integration, run = self.integration, self.run
        kind = chunk_kind(func, args)

        def chunk():
            # the chunk reads and writes on its own transaction
            self.integration = Integration(integration.id)
            self.run = Run(run.id)
            try:
                return func(*args)
            finally:
                self.integration, self.run = integration, run
        result, extras = in_own_transaction(
            chunk, extras=self.chunk_locks.get(kind))
        # only the records are taken again (the strict sequences of the
        # company): a table lock (a journal's period created…) would block
        # every company, it is taken by the chunk that asks for it only
        self.chunk_locks[kind] = {
            k: v for k, v in extras.items() if k == '_lock_records'}
        if extras:
            time.sleep(LOCK_PAUSE)
        return result

    @classmethod
    def steps(cls):
        "The entity steps in dependency order; connectors append to it"
        return [
            Step('category', 'ListarCategorias', records.Category,
                'integration.mapping|omie_import_categories',
                incremental=False),
            Step('bank_account', 'ListarContasCorrentes', records.BankAccount,
                'account.statement.journal|omie_import_bank_accounts',
                incremental=False),
            Step('party', 'ListarClientes', records.Party,
                'party.party|omie_import_parties', weight=2),
            Step('payable', 'ListarContasPagar',
                TitleParser('payable'),
                'account.invoice|omie_import_payables', weight=3,
                params=TITLE_PARAMS, chunk=POSTING_CHUNK,
                requires=('party',),
                filters='title_filters', pending='retry_pending_titles',
                repoll='title_repoll', before='cancelled_settlements',
                deleted='deleted_titles', skip_unchanged=True,
                post='post_titles'),
            Step('receivable', 'ListarContasReceber',
                TitleParser('receivable'),
                'account.invoice|omie_import_receivables', weight=3,
                params=TITLE_PARAMS, chunk=POSTING_CHUNK,
                requires=('party',),
                filters='title_filters', pending='retry_pending_titles',
                repoll='title_repoll', before='cancelled_settlements',
                deleted='deleted_titles', skip_unchanged=True,
                post='post_titles'),
            Step('settlement', 'ListarMovimentos', SettlementMovement,
                'account.move|omie_import_settlements', weight=2,
                params={'cTpLancamento': 'BX', 'lDadosCad': 'S'},
                cursor_key='dDtIncDe', stamp=settlement_stamp,
                chunk=POSTING_CHUNK, requires=('bank_account',),
                filters='settlement_filters',
                pending='retry_pending_settlements',
                post='post_settlements', partition=settlement_title),
            Step('statement', 'ListarExtrato', records.Statement,
                'account.statement|omie_import_statements', weight=3,
                runner='run_statement_step', requires=('bank_account',),
                post='post_statements'),
            Step('nf', 'ListarNF', records.Invoice,
                'account.invoice|omie_import_nfs',
                filters='nf_filters', pending='retry_pending_nfs'),
            ]

    def selected_steps(self):
        return [s for s in self.steps()
            if self.integration.is_selected(s.entity)]

    def synchronise(self):
        """Run the selected steps; a step that Omie fails to answer (an
        outage, a timeout…) ends alone: it is recorded as a pending error,
        the steps that need its records wait, the others run, and the next
        run reads it again from its cursor, which did not move"""
        steps = self.selected_steps()
        total = sum(s.weight for s in steps) or 1
        done = 0
        failed = {}
        try:
            for step in steps:
                needed = [e for e in step.requires if e in failed]
                if needed:
                    self.step_waits(step, needed[0])
                else:
                    self.run.current_step = self.entity_label(step.entity)
                    self.run.save()
                    self.commit()
                    started = time.monotonic()
                    try:
                        self.run_step(
                            step, done / total * 100, step.weight / total)
                    except errors.OmieError as error:
                        if not error.transient:
                            raise
                        self.step_failed(step, error)
                        failed[step.entity] = error
                    else:
                        self.step_done(step)
                    logger.info("run %d: step %s in %.1f s", self.run.id,
                        step.entity, time.monotonic() - started)
                done += step.weight
            if not failed:
                self.check_books()
        finally:
            self.run.set_progress(remote_calls=self.client.calls)
            record_client_metrics(self.run, self.client)
            self.client.close()

    def check_books(self):
        """Compare the books with Omie once the run has imported what Omie
        holds, reusing what it read; in a short transaction of its own, as a
        report on the run that never fails it"""
        pool = Pool()
        Check = pool.get('integration.books.check')
        Integration = pool.get('integration.integration')
        Run = pool.get('integration.sync.run')
        integration_id, run_id = self.integration.id, self.run.id
        if self.run.trigger == 'webhook' and Check.search([
                    ('integration', '=', integration_id),
                    ('checked_at', '>', dt.datetime.now(dt.timezone.utc
                            ).replace(tzinfo=None) - BOOKS_CHECK_INTERVAL),
                    ], limit=1):
            # webhooks may run the sync every minute: their runs check the
            # books at most once per interval
            return

        def check():
            integration = Integration(integration_id)
            with Transaction().set_context(company=integration.company.id):
                integration.connector_books_check(
                    run=Run(run_id), source=self)
        try:
            in_own_transaction(check)
        except Exception:
            logger.warning("books of integration %d not checked",
                integration_id, exc_info=True)

    def step_failed(self, step, error):
        "Record the outage that ended the step as its pending error"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Transaction().rollback()
        logger.info("step %s of run %d failed", step.entity, self.run.id,
            exc_info=True)
        Error.record(
            self.run, step.entity, None, error_kind(error),
            self.integration.describe_exception(error),
            suggested_fix=gettext('novagestao_omie.msg_step_retried'),
            detail=STEP_ERROR)
        self.commit()

    def step_waits(self, step, needed):
        "Record that the step waits for the next run, as a step it needs failed"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Error.record(
            self.run, step.entity, None, 'data_conflict',
            gettext('novagestao_omie.msg_step_waits',
                step=self.entity_label(step.entity),
                needed=self.entity_label(needed)),
            suggested_fix=gettext('novagestao_omie.msg_step_retried'),
            detail=STEP_ERROR)
        self.commit()

    def step_done(self, step):
        "Resolve the pending error of a step that failed in an earlier run"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        pending = Error.search([
                ('integration', '=', self.integration.id),
                ('entity', '=', step.entity),
                ('detail', '=', STEP_ERROR),
                ('resolved', '=', False),
                ])
        if pending:
            Error.write(pending, {'resolved': True})
            self.commit()

    def entity_label(self, entity):
        return dict(self.integration.get_entity_selection()).get(
            entity, entity)

    def cursor_params(self, step):
        "The Omie filters of an incremental read from the entity's cursor"
        pool = Pool()
        Cursor = pool.get('integration.cursor')
        cursor = Cursor.get(self.integration, step.entity)
        if not step.incremental or not cursor:
            return {}
        since = dt.datetime.fromisoformat(cursor) - OVERLAP
        return {step.cursor_key: records.format_date(since)}

    def run_step(self, step, start_progress, share):
        pool = Pool()
        Cursor = pool.get('integration.cursor')
        if step.post:
            self.finish_left_chunks(step)
        if step.runner:
            return getattr(self, step.runner)(step, start_progress, share)
        if not step.incremental:
            last_read = Cursor.get(self.integration, step.entity)
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            if last_read and (
                    now - dt.datetime.fromisoformat(last_read)
                    < REFERENCE_REFRESH):
                return
        full = False
        if step.pending:
            # True when the pending records are better read with the list
            full = getattr(self, step.pending)(step)
        # A read of the pending records goes without Omie's filters: a
        # record may be pending and excluded by filters changed since; the
        # importer applies the filters itself.
        filters = getattr(self, step.filters)(step) if (
            step.filters and not full) else {}
        cursor = {} if full else self.cursor_params(step)
        params = {**step.params, **filters, **cursor}
        newest = self.import_pages(step, params, start_progress, share)
        if step.repoll and cursor:
            repoll = getattr(self, step.repoll)(step)
            if repoll is not None:
                self.import_pages(step, {**step.params, **filters, **repoll})
        if not step.incremental:
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            Cursor.set(self.integration, step.entity, now.isoformat())
            self.commit()
        elif newest:
            Cursor.set(self.integration, step.entity, newest.isoformat())
            self.commit()

    def import_pages(self, step, params, start_progress=None, share=None):
        """Read the pages of the step's list with params, importing and
        committing each; return the newest change stamp read"""
        newest = None
        for page in self.client.iterate_pages(step.call, **params):
            raws = page.records
            if step.skip_unchanged:
                raws, unchanged = self.split_unchanged(step, raws)
                for record in unchanged:
                    altered = step.stamp(record)
                    if altered and (newest is None or altered > newest):
                        newest = altered
                if unchanged:
                    self.run.add_counts(step.entity, unchanged=len(unchanged))
                    self.commit()
            chunks = [raws[start:start + step.chunk]
                for start in range(0, len(raws), step.chunk)]
            if self.shares_chunks(step, chunks):
                if step.partition:
                    chunks = partitioned(raws, step.partition, step.chunk)
                parsed_lists = [self.import_shared(step, chunks)]
            else:
                parsed_lists = (self.import_chunk(step, c) for c in chunks)
            for parsed in parsed_lists:
                for record in parsed:
                    altered = step.stamp(record)
                    if altered and (newest is None or altered > newest):
                        newest = altered
            if start_progress is not None:
                total_pages = page.total_pages or page.number
                self.run.set_progress(
                    start_progress + share * 100 * page.number / total_pages,
                    remote_calls=self.client.calls)
                self.commit()
        return newest

    def import_chunk(self, step, raws):
        "Import a chunk of records in a transaction; return them parsed"
        if step.before:
            getattr(self, step.before)(step, raws)
        parsed = self.import_isolated(step, raws)
        self.commit()
        return parsed

    def import_records(self, step, raws, counts=None):
        """Parse the Omie records and hand them to the importer of the step;
        add what it did to counts, or to the run's counters
        Return the parsed records"""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        parsed, failed = [], 0
        for raw in raws:
            try:
                record = step.parser.from_omie(raw)
            except ValueError as exception:
                failed += 1
                Error.record(
                    self.run, step.entity, external_id_of(raw),
                    'validation', str(exception),
                    suggested_fix=None, payload=raw)
            else:
                if record is not None:
                    parsed.append(record)
        parsed, stale = self.drop_stale(step, parsed)
        done = step.importer_method()(self.integration, self.run, parsed)
        done['failed'] = done.get('failed', 0) + failed
        done['unchanged'] = done.get('unchanged', 0) + len(stale)
        if counts is None:
            self.run.add_counts(step.entity, **done)
        else:
            for name, value in done.items():
                counts[name] = counts.get(name, 0) + value
        return parsed + stale

    def split_unchanged(self, step, raws):
        """Split off the records imported as Omie holds them now, without
        reading their local records: the content hash of their binding is
        theirs, the record it points at exists and nothing of theirs is
        pending.  Omie lists again many records that did not change (the
        re-poll window of the titles): they cost a look-up in the bindings
        of their page, read at once, instead of a chunk of their importer.
        Return (raws to import, unchanged parsed records)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        parsed = {}
        for index, raw in enumerate(raws):
            try:
                record = step.parser.from_omie(raw)
            except ValueError:
                continue  # the importer's chunk records the error
            if record is not None and getattr(record, 'omie_id', None):
                parsed[index] = record
        if not parsed:
            return raws, []
        external_ids = [str(r.omie_id) for r in parsed.values()]
        hashes = {}
        for sub_ids in grouped_slice(external_ids, IN_MAX):
            for row in Binding.search_read([
                        ('integration', '=', self.integration.id),
                        ('kind', '=', step.entity),
                        ('external_id', 'in', list(sub_ids)),
                        ('origin', '=', 'import'),
                        ('record', '!=', None),
                        ('content_hash', '!=', None),
                        ], fields_names=[
                        'external_id', 'content_hash', 'record']):
                hashes[row['external_id']] = (
                    row['content_hash'], row['record'])
        same = {i for i, r in parsed.items()
            if hashes.get(str(r.omie_id), (None,))[0] == r.content_hash()}
        if not same:
            return raws, []
        # the local records still there (a user may delete a draft or
        # cancelled one: it is imported again)
        by_model = {}
        for index in same:
            model, id_ = hashes[str(parsed[index].omie_id)][1].split(',')
            by_model.setdefault(model, set()).add(int(id_))
        existing = set()
        with Transaction().set_context(active_test=False):
            for model, ids in by_model.items():
                Model = pool.get(model)
                for sub_ids in grouped_slice(sorted(ids), IN_MAX):
                    existing.update('%s,%s' % (model, r.id)
                        for r in Model.search([('id', 'in', list(sub_ids))]))
        pending = set()
        for sub_ids in grouped_slice(external_ids, IN_MAX):
            pending.update(e.external_id for e in Error.search([
                        ('integration', '=', self.integration.id),
                        ('entity', '=', step.entity),
                        ('external_id', 'in', list(sub_ids)),
                        ('resolved', '=', False),
                        ]))
        same = {i for i in same
            if hashes[str(parsed[i].omie_id)][1] in existing
            and str(parsed[i].omie_id) not in pending}
        return ([r for i, r in enumerate(raws) if i not in same],
            [parsed[i] for i in sorted(same)])

    def drop_stale(self, step, parsed):
        """Split off the records older than their imported version: a page
        read before a webhook applied a newer change must not undo it
        Return (records to import, stale records)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        stamped = [r for r in parsed
            if _altered_at(r) and getattr(r, 'omie_id', None)]
        if not stamped:
            return parsed, []
        bindings = Binding.lookup(
            self.integration, step.entity, [r.omie_id for r in stamped])
        stale = set()
        for record in stamped:
            binding = bindings.get(str(record.omie_id))
            if (binding and binding.remote_stamp
                    and record.altered_at.isoformat() < binding.remote_stamp):
                stale.add(id(record))
        return ([r for r in parsed if id(r) not in stale],
            [r for r in parsed if id(r) in stale])


class TitleParser:
    "The titles of a ListarContasPagar / ListarContasReceber page"

    def __init__(self, kind):
        self.kind = kind

    def from_omie(self, raw):
        return records.Title.from_omie(raw, self.kind)


def chunk_kind(func, args):
    "What tells chunks apart for the locks they need: function and entity"
    entity = args[0].entity if args and isinstance(args[0], Step) else None
    return (getattr(func, '__qualname__', repr(func)), entity)


def error_kind(exception):
    "The sync error kind of an Omie error"
    return {
        'authentication': 'authentication',
        'timeout': 'timeout',
        'connection': 'timeout',
        'rate_limit': 'rate_limit',
        'validation': 'validation',
        }.get(getattr(exception, 'kind', None), 'remote_error')


__all__ = ['OmieSync', 'Step', 'errors', 'error_kind',
    'record_client_metrics']
