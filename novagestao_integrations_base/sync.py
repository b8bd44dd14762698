# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
import json
import os
import socket
import time

from trytond import backend, config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, TransactionError

from .exceptions import IntegrationError
from .export import CONFLICT_DETAIL, EXPORT_DETAIL
from .integration import utcnow

TRIGGERS = [
    ('manual', "Manual"),
    ('scheduled', "Scheduled"),
    ('webhook', "Webhook"),
    ('retry', "Retry"),
    ('export', "Export"),
    ]
ERROR_KINDS = [
    ('authentication', "Authentication"),
    ('timeout', "Timeout"),
    ('rate_limit', "Rate limit"),
    ('data_conflict', "Data conflict"),
    ('category_not_mapped', "Category not mapped"),
    ('validation', "Validation"),
    ('remote_error', "Remote error"),
    ]
COUNTERS = [
    'created', 'updated', 'unchanged', 'skipped', 'failed', 'exported',
    'conflicts']


def format_duration(delta):
    """Return a duration as people read it: "3 s", "1 min 41 s",
    "2 h 05 min", without fractions of a second"""
    if delta is None:
        return ''
    seconds = max(int(delta.total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return '%d h %02d min' % (hours, minutes)
    if minutes:
        return '%d min %02d s' % (minutes, seconds)
    return '%d s' % seconds


def hide_when_empty(name):
    """Return the view attributes that hide the group of id name, holding
    the text field name, while the field is empty"""
    return [('//group[@id="%s"]' % name, 'states', {
                'invisible': ~Eval(name),
                })]


def entity_selection():
    "The entity kinds of the installed connectors, as (value, label)"
    pool = Pool()
    Integration = pool.get('integration.integration')
    return Integration.get_entity_selection()


def commit_and_continue(transaction=None):
    """Commit the transaction and go on with it, as a sync does after each
    batch so that a crash keeps what is committed and nothing else

    On SQLite, trytond's cache commits its resets on the transaction's own
    connection, put in autocommit mode and left so: everything written
    after would be committed at once, and a rollback or a crash would keep
    half a batch.  The connection is put back in transaction mode."""
    transaction = transaction or Transaction()
    transaction.commit()
    connection = transaction.connection
    if (backend.name == 'sqlite' and connection is not None
            and connection.isolation_level is None):
        # as the SQLite backend's get_connection does
        connection.isolation_level = 'IMMEDIATE'


# How many times a short transaction starts again to take the locks it asks
LOCK_ATTEMPTS = 10
# How long, in seconds, a short transaction starts again while users hold
# its locks or write the same records: the users go first
LOCK_WAIT = 120


def in_own_transaction(func, *args, extras=None, wait=LOCK_WAIT):
    """Run func(*args) in a short transaction of its own, committed when it
    returns, as Tryton runs a request; return (result, extras)

    Tryton takes the locks a transaction needs (the strict sequences that
    number what is posted, a record to check and change atomically…) when
    it starts: when func asks for one it did not take, the transaction is
    rolled back and started again with it (TransactionError.fix), the way
    Tryton's dispatcher restarts a request.  The locks end with the commit.
    A transaction that meets a lock held by someone else or the same record
    written meanwhile is also rolled back and started again, for up to wait
    seconds.  extras are the locks to take at once (the returned extras of
    a previous call of the same kind save it an attempt).

    The current transaction is committed first: nothing of it may stay
    uncommitted beside the short one (on SQLite they share a connection,
    on PostgreSQL the short one would wait for the current one's locks)."""
    outer = Transaction()
    commit_and_continue(outer)
    extras = copy_extras(extras or {})
    deadline = time.monotonic() + wait
    # each kind of retry has its own bound: waiting for users must not use
    # up the attempts that take the locks
    fixes = conflicts = waits = 0
    while True:
        try:
            with outer.new_transaction(**extras):
                result = func(*args)
            break
        except TransactionError as error:
            fixes += 1
            if fixes >= LOCK_ATTEMPTS:
                raise
            error.fix(extras)
            extras = copy_extras(extras)
        except (backend.DatabaseIntegrityError, SQLConstraintError):
            # the same record written meanwhile: the next attempt sees it
            conflicts += 1
            if conflicts >= LOCK_ATTEMPTS:
                raise
            time.sleep(0.05 * conflicts)
        except backend.DatabaseOperationalError:
            # a lock held by someone else, or a serialisation failure
            waits += 1
            if time.monotonic() >= deadline:
                raise
            time.sleep(min(0.05 * waits, 1))
    commit_and_continue(outer)
    return result, extras


def copy_extras(extras):
    "A copy of transaction extras (the locks to take) with each id once"
    copy = {}
    if extras.get('_lock_tables'):
        copy['_lock_tables'] = sorted(set(extras['_lock_tables']))
    for table, ids in extras.get('_lock_records', {}).items():
        copy.setdefault('_lock_records', {})[table] = sorted(set(ids))
    return copy


def current_process():
    "'host:pid' of this process, as a run records who runs it"
    return '%s:%s' % (socket.gethostname(), os.getpid())


def process_alive(process):
    """Whether the process 'host:pid' may still run: False only when it is
    of this host and no such process exists"""
    host, _, pid = (process or '').rpartition(':')
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


class SyncRun(ModelSQL, ModelView):
    "Sync Run"
    __name__ = 'integration.sync.run'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    trigger = fields.Selection(
        TRIGGERS, "Trigger", required=True, readonly=True, sort=False)
    start = fields.DateTime("Start", required=True, readonly=True)
    end = fields.DateTime("End", readonly=True)
    duration = fields.Function(
        fields.TimeDelta("Duration"), 'get_duration')
    duration_text = fields.Function(
        fields.Char("Duration"), 'get_duration_text')
    state = fields.Selection([
            ('running', "Running"),
            ('done', "Done"),
            ('partial', "Partial"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    progress = fields.Float(
        "Progress", digits=(1, 4), readonly=True,
        help="The part of the run that is done.")
    message = fields.Text("Message", readonly=True)
    remote_calls = fields.Integer("Remote Calls", readonly=True)
    process = fields.Char(
        "Process", readonly=True,
        help="The host and process id that runs it.")
    user = fields.Many2One(
        'res.user', "Started by", readonly=True, ondelete='SET NULL',
        help="The user who asked for the run, notified when it ends.")
    current_step = fields.Char("Current Step", readonly=True)
    counters = fields.One2Many(
        'integration.sync.run.counter', 'run', "Counters", readonly=True)
    errors = fields.One2Many(
        'integration.sync.error', 'run', "Pending Errors", readonly=True,
        help="The errors still pending that this run saw last.")
    issues = fields.One2Many(
        'integration.sync.run.issue', 'run', "Errors", readonly=True,
        help="The errors this run reported, as it reported them.")
    created = fields.Integer("Created", readonly=True)
    updated = fields.Integer("Updated", readonly=True)
    unchanged = fields.Integer("Unchanged", readonly=True)
    skipped = fields.Integer("Skipped", readonly=True)
    failed = fields.Integer("Failed", readonly=True)
    exported = fields.Integer(
        "Exported", readonly=True,
        help="The records sent to the external system.")
    conflicts = fields.Integer(
        "Conflicts", readonly=True,
        help="The records changed in both systems since their last sync.")
    error_count = fields.Integer(
        "Errors", readonly=True,
        help="How many records this run reported in error.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + hide_when_empty('message') + [
            ('/tree', 'visual', If(Eval('state') == 'failed', 'danger',
                    If(Eval('state') == 'partial', 'warning', ''))),
            ]

    @classmethod
    def default_state(cls):
        return 'running'

    @classmethod
    def default_progress(cls):
        return 0

    @classmethod
    def default_remote_calls(cls):
        return 0

    @fields.depends('integration', '_parent_integration.company')
    def on_change_with_company(self, name=None):
        return self.integration.company if self.integration else None

    @classmethod
    def search_company(cls, name, clause):
        return [('integration.' + clause[0],) + tuple(clause[1:])]

    def get_duration(self, name):
        if self.start:
            return (self.end or utcnow()) - self.start

    def get_duration_text(self, name):
        return format_duration(self.duration)

    def get_rec_name(self, name):
        # as people read it: the company's time, dd/mm/aaaa
        start = self.integration.local_time(self.start).strftime(
            '%d/%m/%Y %H:%M:%S') if self.start else ''
        return '%s @ %s' % (self.integration.rec_name, start)

    @classmethod
    def start_run(cls, integration, trigger, user=None):
        """Create a running run and commit it so users see it at once, and
        return it; return None when another run of the integration is live:
        an integration runs one sync at a time.

        The check and the creation are one short transaction that locks the
        integration, so two processes never both start.  The runs of the
        integration left running by a stopped process end as failed first.
        user (the current user by default) is notified when the run ends."""
        pool = Pool()
        Integration = pool.get('integration.integration')
        user = user or Transaction().user or None

        def start():
            locked = Integration(integration.id)
            Integration.lock([locked])
            if cls.live_run(locked):
                return None
            run = cls(
                integration=locked, trigger=trigger, start=utcnow(),
                process=current_process(), user=user)
            run.save()
            return run.id
        run_id, _ = in_own_transaction(start)
        return cls(run_id) if run_id is not None else None

    @classmethod
    def live_run(cls, integration):
        """The run of the integration that is running now, or None
        A run is live while its process is alive and it moves (see
        fail_interrupted, which ends the others first)."""
        cls.fail_interrupted(integration)
        runs = cls.search([
                ('integration', '=', integration.id),
                ('state', '=', 'running'),
                ], order=[('start', 'ASC'), ('id', 'ASC')], limit=1)
        return runs[0] if runs else None

    @classmethod
    def fail_interrupted(cls, integration):
        """End as failed the runs of the integration that were interrupted:
        their process is gone (killed, crashed, restarted) or they have not
        moved for the stale_run_minutes of the [integration] configuration
        (60 by default).  What they committed stays: the next run resumes
        from it.  Return the runs ended."""
        now = utcnow()
        delay = dt.timedelta(minutes=config.getint(
                'integration', 'stale_run_minutes', default=60))
        runs = cls.search([
                ('integration', '=', integration.id),
                ('state', '=', 'running'),
                ])
        interrupted = []
        for run in runs:
            last = run.write_date or run.create_date or run.start
            if now - last > delay or not process_alive(run.process):
                run.state = 'failed'
                run.end = last
                run.message = gettext(
                    'novagestao_integrations_base.msg_run_interrupted')
                interrupted.append(run)
        cls.save(interrupted)
        return interrupted

    def add_counts(self, entity, **counts):
        "Add to the counters of the entity (created=2, failed=1, …)"
        pool = Pool()
        Counter = pool.get('integration.sync.run.counter')
        counter, = (
            [c for c in Counter.search([
                        ('run', '=', self.id),
                        ('entity', '=', entity),
                        ])]
            or [Counter(run=self, entity=entity)])
        for name, value in counts.items():
            setattr(counter, name, (getattr(counter, name, 0) or 0) + value)
        counter.save()

    def set_progress(self, percent=None, remote_calls=None):
        "Record how far the run is (0 to 100) and the remote calls it made"
        if percent is not None:
            self.progress = round(max(0, min(100, percent)) / 100, 4)
        if remote_calls is not None:
            self.remote_calls = remote_calls
        self.save()

    def finish(self):
        "End the run: done, or partial when some records failed"
        pool = Pool()
        Integration = pool.get('integration.integration')
        Counter = pool.get('integration.sync.run.counter')
        failed = sum(c.failed for c in Counter.search([('run', '=', self.id)]))
        self.state = 'partial' if failed or self.errors else 'done'
        self.progress = 1
        self.end = utcnow()
        self.store_totals()
        self.current_step = None
        self.save()
        Integration.record_run_outcome(self.integration, self)
        self.notify_end()

    def fail(self, exception):
        "End the run as failed with a message that a user can act on"
        pool = Pool()
        Integration = pool.get('integration.integration')
        self.state = 'failed'
        self.end = utcnow()
        self.message = self.integration.describe_exception(exception)
        self.store_totals()
        self.current_step = None
        self.save()
        Integration.record_run_outcome(self.integration, self)
        self.notify_end()

    def notify_end(self):
        """Tell the user who asked for the run how it ended, with a link to
        it (a Tryton notification, stored at the commit)"""
        if not self.user or self.trigger not in {'manual', 'retry'}:
            return
        # the totals the run keeps (store_totals)
        records = sum(getattr(self, name) or 0 for name in COUNTERS)
        errors = self.error_count or 0
        state = dict(self.fields_get(['state'])['state']['selection'])[
            self.state]
        icon = {
            'done': 'tryton-ok',
            'partial': 'tryton-warning',
            }.get(self.state, 'tryton-error')
        description = gettext(
            'novagestao_integrations_base.msg_run_ended_description',
            records=records, errors=errors,
            duration=format_duration(self.end - self.start))
        if self.state == 'failed' and self.message:
            description += '\n' + self.message
        self.__class__.notify_user(
            [self], icon,
            gettext('novagestao_integrations_base.msg_run_ended',
                integration=self.integration.rec_name, state=state),
            description, user=self.user.id)

    def store_totals(self):
        """Set on the run its counter totals and its error count, so its
        history stays as it was when it ended (not saved)"""
        pool = Pool()
        Counter = pool.get('integration.sync.run.counter')
        Issue = pool.get('integration.sync.run.issue')
        counters = Counter.search([('run', '=', self.id)])
        for name in COUNTERS:
            setattr(self, name, sum(getattr(c, name) or 0 for c in counters))
        self.error_count = Issue.search_count([('run', '=', self.id)])

    def summary(self):
        "Return the counters as {entity: {counter: value}}"
        return {
            c.entity: {name: getattr(c, name) for name in COUNTERS}
            for c in self.counters}


class SyncRunCounter(ModelSQL, ModelView):
    "Sync Run Counter"
    __name__ = 'integration.sync.run.counter'

    run = fields.Many2One(
        'integration.sync.run', "Run", required=True, ondelete='CASCADE',
        readonly=True)
    entity = fields.Selection(
        'get_entities', "Entity", required=True, readonly=True)
    entity_string = entity.translated('entity')
    entity_name = fields.Function(
        fields.Char("Entity"), 'get_entity_name')
    created = fields.Integer("Created", required=True, readonly=True)
    updated = fields.Integer("Updated", required=True, readonly=True)
    unchanged = fields.Integer("Unchanged", required=True, readonly=True)
    skipped = fields.Integer("Skipped", required=True, readonly=True)
    failed = fields.Integer("Failed", required=True, readonly=True)
    exported = fields.Integer("Exported", required=True, readonly=True)
    conflicts = fields.Integer("Conflicts", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        t = cls.__table__()
        cls._sql_constraints += [
            ('run_entity_unique', Unique(t, t.run, t.entity),
                'novagestao_integrations_base.msg_counter_unique'),
            ]

    @classmethod
    def default_created(cls):
        return 0

    default_updated = default_unchanged = default_skipped = default_failed = (
        default_exported) = default_conflicts = default_created

    @classmethod
    def get_entities(cls):
        return entity_selection()

    def get_entity_name(self, name):
        return dict(self.run.integration.get_entity_selection()).get(
            self.entity, self.entity)


class SyncError(ModelSQL, ModelView):
    """Sync Error

    An unresolved error is also the record of something still pending: the
    connector retries it on every run until it imports."""
    __name__ = 'integration.sync.error'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    run = fields.Many2One(
        'integration.sync.run', "Last Run", ondelete='SET NULL',
        readonly=True,
        domain=[('integration', '=', Eval('integration', -1))],
        help="The last run that tried the record.")
    entity = fields.Selection(
        'get_entities', "Entity", required=True, readonly=True)
    entity_string = entity.translated('entity')
    external_id = fields.Char("External ID", readonly=True)
    kind = fields.Selection(
        ERROR_KINDS, "Kind", required=True, readonly=True, sort=False)
    kind_string = kind.translated('kind')
    message = fields.Text("Message", required=True, readonly=True)
    suggested_fix = fields.Text("Suggested Fix", readonly=True)
    payload = fields.Text("Payload", readonly=True)
    detail = fields.Char("Detail", readonly=True,
        help="A machine key for the cause, such as the unmapped code.")
    attempts = fields.Integer("Attempts", readonly=True)
    first_seen = fields.DateTime("First Seen", readonly=True)
    last_seen = fields.DateTime("Last Seen", readonly=True)
    resolved = fields.Boolean("Resolved")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        cls._order = [('last_seen', 'DESC'), ('id', 'DESC')]
        t = cls.__table__()
        # the sync looks up the errors of each chunk of records it imports,
        # among those of every run before
        cls._sql_indexes.add(Index(t,
                (t.integration, Index.Range()),
                (t.entity, Index.Equality()),
                (t.external_id, Index.Equality())))
        cls._buttons.update({
                'retry': {
                    'invisible': Eval('resolved', False),
                    'depends': ['resolved'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + hide_when_empty('suggested_fix')

    @classmethod
    def default_resolved(cls):
        return False

    @classmethod
    def default_attempts(cls):
        return 1

    @classmethod
    def get_entities(cls):
        return entity_selection()

    def get_rec_name(self, name):
        return '%s %s: %s' % (
            self.entity_string, self.external_id or '',
            self.message.splitlines()[0])

    @classmethod
    def record(cls, run, entity, external_id, kind, message,
            suggested_fix=None, payload=None, detail=None):
        """Record that the record external_id of entity failed in run

        The same pending record keeps one error, updated at each attempt;
        the run keeps its own issue of it, which later runs do not change."""
        pool = Pool()
        Issue = pool.get('integration.sync.run.issue')
        if payload is not None and not isinstance(payload, str):
            payload = json.dumps(
                payload, ensure_ascii=False, indent=1, sort_keys=True,
                default=str)
        now = utcnow()
        existing = cls.search([
                ('integration', '=', run.integration.id),
                ('entity', '=', entity),
                ('external_id', '=', external_id),
                ('resolved', '=', False),
                ], limit=1)
        if existing:
            error, = existing
            error.attempts = (error.attempts or 0) + 1
        else:
            error = cls(
                integration=run.integration, entity=entity,
                external_id=external_id, first_seen=now, attempts=1)
        error.run = run
        error.kind = kind
        error.message = message
        error.suggested_fix = suggested_fix
        error.payload = payload
        error.detail = detail
        error.last_seen = now
        error.save()
        Issue.report(run, error)
        return error

    @classmethod
    def resolve(cls, integration, entity, external_ids):
        "Mark resolved the pending errors of records that now imported"
        external_ids = list(external_ids)
        if not external_ids:
            return
        errors = cls.search([
                ('integration', '=', integration.id),
                ('entity', '=', entity),
                ('external_id', 'in', external_ids),
                ('resolved', '=', False),
                ])
        if errors:
            cls.write(errors, {'resolved': True})

    @classmethod
    def pending(cls, integration, entity):
        "Return the pending errors of the entity's import"
        return cls.search([
                ('integration', '=', integration.id),
                ('entity', '=', entity),
                ('resolved', '=', False),
                ['OR',
                    ('detail', '=', None),
                    # what only the export or a person's decision resolves
                    ('detail', 'not in', [EXPORT_DETAIL, CONFLICT_DETAIL]),
                    ],
                ])

    @classmethod
    @ModelView.button
    def retry(cls, errors):
        """Import again the records of the errors, at once
        Return the errors that are now resolved"""
        resolved = []
        by_integration = {}
        for error in errors:
            by_integration.setdefault(error.integration, []).append(error)
        for integration, integration_errors in by_integration.items():
            if integration.status == 'disabled':
                raise IntegrationError(gettext(
                        'novagestao_integrations_base.msg_integration_disabled',
                        integration=integration.rec_name))
            resolved.extend(
                integration.connector_retry(integration_errors) or [])
        return resolved


class SyncRunIssue(ModelSQL, ModelView):
    """Sync Run Issue

    An error as a run reported it: the run's own record, which stays as it
    was when the error is retried, resolved or seen again by later runs."""
    __name__ = 'integration.sync.run.issue'

    run = fields.Many2One(
        'integration.sync.run', "Run", required=True, ondelete='CASCADE',
        readonly=True)
    error = fields.Many2One(
        'integration.sync.error', "Pending Error", ondelete='SET NULL',
        readonly=True)
    entity = fields.Selection(
        'get_entities', "Entity", required=True, readonly=True)
    entity_string = entity.translated('entity')
    external_id = fields.Char("External ID", readonly=True)
    kind = fields.Selection(
        ERROR_KINDS, "Kind", required=True, readonly=True, sort=False)
    kind_string = kind.translated('kind')
    message = fields.Text("Message", required=True, readonly=True)
    suggested_fix = fields.Text("Suggested Fix", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        cls._order = [('run', 'DESC'), ('id', 'ASC')]
        t = cls.__table__()
        # a run looks up its issue of each error it records
        cls._sql_indexes.add(Index(t,
                (t.run, Index.Range()),
                (t.entity, Index.Equality()),
                (t.external_id, Index.Equality())))

    @classmethod
    def get_entities(cls):
        return entity_selection()

    def get_rec_name(self, name):
        return '%s %s: %s' % (
            self.entity_string, self.external_id or '',
            self.message.splitlines()[0])

    @classmethod
    def report(cls, run, error):
        "Record in run the error as it is now: one issue per record and run"
        issues = cls.search([
                ('run', '=', run.id),
                ('entity', '=', error.entity),
                ('external_id', '=', error.external_id),
                ], limit=1)
        issue, = issues or [cls(run=run)]
        issue.error = error
        issue.entity = error.entity
        issue.external_id = error.external_id
        issue.kind = error.kind
        issue.message = error.message
        issue.suggested_fix = error.suggested_fix
        issue.save()
        return issue
