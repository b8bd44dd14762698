# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from collections import namedtuple

from trytond import backend
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)

GuardState = namedtuple(
    'GuardState', ['consecutive_errors', 'blocked_until'], defaults=(0, None))
# How often an autonomous step is restarted when it meets a lock or a
# concurrent creation of the same row.
ATTEMPTS = 5


def to_datetime(timestamp):
    "Epoch seconds to the naive UTC datetime Tryton stores"
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(
        tzinfo=None)


def to_timestamp(value):
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc).timestamp()


class RemoteGuard(ModelSQL, ModelView):
    """Remote Call Guard

    What a remote system remembers of the calls of one key: its count of
    consecutive errors per method and until when it blocks (or we pause)
    that method.  Shared by every process (worker, cron, webhooks)."""
    __name__ = 'integration.remote.guard'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    key = fields.Char(
        "Key", required=True, readonly=True, strip=False,
        help="The public key the remote system counts calls by "
        "(never a secret).")
    method = fields.Char("Method", required=True, readonly=True)
    consecutive_errors = fields.Integer("Consecutive Errors", readonly=True)
    blocked_until = fields.DateTime("Blocked Until", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('method_unique', Unique(t, t.integration, t.key, t.method),
                'novagestao_integrations_base.msg_remote_guard_unique'),
            ]

    @classmethod
    def default_consecutive_errors(cls):
        return 0

    @classmethod
    def store(cls, integration, key):
        "Return the client-side store of the guards of integration and key"
        return RemoteGuardStore(integration.id, key or '')


class RemoteGuardStore:
    """The guard store a remote client is given (duck-typed on the pure
    client's GuardStore: get, add_error, clear, block, claim, reset).

    Every step runs in its own short transaction, committed at once, so
    that every process sees it whatever its own transaction does.  On
    SQLite (one process, one connection) and for an integration created by
    the current transaction (the others cannot see it yet) the step runs in
    the current transaction instead."""

    def __init__(self, integration_id, key):
        self.integration_id = integration_id
        self.key = key
        self.database_name = Transaction().database.name

    def _autonomous(self):
        transaction = Transaction()
        if transaction.database is None:
            return True
        created = transaction.create_records.get(
            'integration.integration', ())
        return (backend.name != 'sqlite'
            and self.integration_id not in created)

    def _run(self, step):
        if not self._autonomous():
            with without_check_access(), Transaction().set_context(
                    _remote_guard_local=True):
                return step(Pool().get('integration.remote.guard'))
        extras = {}
        transaction = Transaction()
        user = transaction.user if transaction.database else 0
        for attempt in range(ATTEMPTS):
            with Transaction(new=True).start(
                    self.database_name, user, **extras) as current, \
                    without_check_access():
                try:
                    return step(Pool().get('integration.remote.guard'))
                except TransactionError as error:
                    current.rollback()
                    error.fix(extras)
                except backend.DatabaseIntegrityError:
                    # Another process created the same guard meanwhile.
                    current.rollback()
                    if attempt == ATTEMPTS - 1:
                        raise

    def _find(self, Guard, method, lock=False):
        guards = Guard.search([
                ('integration', '=', self.integration_id),
                ('key', '=', self.key),
                ('method', '=', method),
                ], limit=1)
        if guards and lock and not Transaction().context.get(
                '_remote_guard_local'):
            Guard.lock(guards)
            # Read again what the lock protects.
            guards = Guard.browse(guards)
        return guards[0] if guards else None

    def _new(self, Guard, method):
        return Guard(
            integration=self.integration_id, key=self.key, method=method,
            consecutive_errors=0)

    @staticmethod
    def _state(guard):
        if guard is None:
            return GuardState()
        return GuardState(
            guard.consecutive_errors or 0, to_timestamp(guard.blocked_until))

    def get(self, method):
        return self._run(lambda Guard: self._state(self._find(Guard, method)))

    def add_error(self, method, pause=None):
        def step(Guard):
            guard = (self._find(Guard, method, lock=True)
                or self._new(Guard, method))
            guard.consecutive_errors = (guard.consecutive_errors or 0) + 1
            until = pause(guard.consecutive_errors) if pause else None
            if until is not None:
                guard.blocked_until = to_datetime(until)
            guard.save()
            return self._state(guard)
        return self._run(step)

    def clear(self, method):
        def step(Guard):
            guard = self._find(Guard, method, lock=True)
            if guard and (guard.consecutive_errors or guard.blocked_until):
                guard.consecutive_errors = 0
                guard.blocked_until = None
                guard.save()
        self._run(step)

    def block(self, method, until, reset_errors=False):
        def step(Guard):
            guard = (self._find(Guard, method, lock=True)
                or self._new(Guard, method))
            current = to_timestamp(guard.blocked_until)
            guard.blocked_until = to_datetime(
                until if current is None else max(until, current))
            if reset_errors:
                guard.consecutive_errors = 0
            guard.save()
        self._run(step)

    def claim(self, method, seen_until, until):
        def step(Guard):
            guard = (self._find(Guard, method, lock=True)
                or self._new(Guard, method))
            current = to_timestamp(guard.blocked_until)
            if (current is None) != (seen_until is None) or (
                    current is not None and abs(current - seen_until) > 1e-3):
                return False
            guard.blocked_until = to_datetime(until)
            guard.save()
            return True
        return self._run(step)

    def reset(self, method=None):
        def step(Guard):
            domain = [
                ('integration', '=', self.integration_id),
                ('key', '=', self.key),
                ]
            if method is not None:
                domain.append(('method', '=', method))
            Guard.delete(Guard.search(domain))
        self._run(step)
