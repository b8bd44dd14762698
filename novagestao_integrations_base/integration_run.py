# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""How an integration's syncs run: scheduled by the cron, queued as tasks,
one at a time per integration (a sync asked for meanwhile waits for the live
run), and their outcome on the integration's status"""
import logging

from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .export import IMPORTING
from .integration import utcnow
from .sync import commit_and_continue, in_own_transaction

logger = logging.getLogger(__name__)


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def enqueue_sync(cls, integrations, trigger):
        "Run the sync of the integrations as queue tasks"
        with Transaction().set_context(
                queue_name='integration', queue_batch=1):
            for integration in integrations:
                cls.__queue__.run_sync([integration], trigger)

    @classmethod
    def dispatch_due(cls, now=None):
        """Queue a sync for every integration whose schedule is due or whose
        sync waits for a run that is over (a run ended by a crash leaves
        the sync it had to run after it)"""
        pool = Pool()
        Run = pool.get('integration.sync.run')
        now = now or utcnow()
        integrations = cls.search([
                ('status', 'in', ['active', 'error']),
                ('schedule', '!=', 'manual'),
                ('next_sync', '<=', now),
                ])
        for integration in integrations:
            integration.next_sync = integration.compute_next_sync(now)
        cls.save(integrations)
        cls.enqueue_sync(integrations, 'scheduled')
        waiting = [i for i in cls.search([
                    ('status', '!=', 'disabled'),
                    ('queued_trigger', '!=', None),
                    ]) if i not in integrations and not Run.live_run(i)]
        for integration in waiting:
            cls.enqueue_sync([integration], integration.queued_trigger)
        return integrations

    @classmethod
    def run_sync(cls, integrations, trigger='manual'):
        """Synchronise each integration in a run of the sync history

        The connector commits the transaction after each bounded batch so the
        history shows the progress and a crash keeps what was done.

        An integration runs one sync at a time: when one is live, this one
        is queued after it (see queue_sync) and the live run's process runs
        it when it ends."""
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        Run = pool.get('integration.sync.run')
        transaction = Transaction()
        if not transaction.context.get('language'):
            # errors are recorded in the users' language, not the server's
            with transaction.set_context(
                    language=Configuration.get_language()):
                return cls.run_sync(integrations, trigger)
        for integration in integrations:
            integration_trigger, user = trigger, None
            while integration_trigger:
                integration = cls(integration.id)
                if integration.status == 'disabled':
                    break
                run = Run.start_run(integration, integration_trigger, user)
                if not run:
                    cls.queue_sync(integration, integration_trigger)
                    break
                cls._run(integration, run)
                integration_trigger, user = cls.take_queued_sync(
                    integration)
                if not integration_trigger:
                    cls.runs_ended(integration)

    @classmethod
    def _run(cls, integration, run):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        try:
            if run.trigger != 'export':
                with Transaction().set_context({IMPORTING: True}):
                    integration.connector_sync(run)
            if integration.exports:
                integration.connector_export(run)
        except Exception as exception:
            Transaction().rollback()
            run = Run(run.id)
            run.fail(exception)
            logger.info(
                "sync of integration %d failed", integration.id,
                exc_info=True)
        else:
            run.finish()
        cls._commit()

    @classmethod
    def runs_ended(cls, integration):
        """Called when the integration has no sync to run any more: what
        waited for its runs may go on (modules extend it)"""

    @classmethod
    def queue_sync(cls, integration, trigger):
        """Ask for a sync of the integration after its live run; a manual
        one is kept over the others, which the live run does as well"""
        user = Transaction().user or None

        def queue():
            locked = cls(integration.id)
            cls.lock([locked])
            if locked.queued_trigger in {
                    None, trigger, 'webhook', 'retry', 'export'}:
                cls.write([locked], {
                        'queued_trigger': trigger, 'queued_by': user})
        in_own_transaction(queue)

    @classmethod
    def take_queued_sync(cls, integration):
        """Return the trigger and user of the sync queued after the run and
        forget it"""
        def take():
            locked = cls(integration.id)
            cls.lock([locked])
            trigger = locked.queued_trigger
            user = locked.queued_by.id if locked.queued_by else None
            if trigger:
                cls.write([locked], {
                        'queued_trigger': None, 'queued_by': None})
            return trigger, user
        return in_own_transaction(take)[0]

    @classmethod
    def _commit(cls):
        "Commit so progress is visible and survives a later failure"
        commit_and_continue()

    @classmethod
    def record_run_outcome(cls, integration, run):
        """Set the status and error of the integration from a finished run,
        unless a run that started later has finished already: the status
        is that of the last finished run"""
        pool = Pool()
        Run = pool.get('integration.sync.run')
        if Run.search([
                    ('integration', '=', integration.id),
                    ('state', '!=', 'running'),
                    ('id', '!=', run.id),
                    ['OR',
                        ('start', '>', run.start),
                        [('start', '=', run.start), ('id', '>', run.id)],
                        ],
                    ], limit=1):
            return
        values = {'last_sync': run.end or utcnow()}
        if run.state == 'failed':
            values['status'] = 'error'
            values['last_error'] = run.message
        else:
            if integration.status == 'error':
                values['status'] = 'active'
            values['last_error'] = None
        if integration.status == 'draft':
            values['status'] = (
                'error' if run.state == 'failed' else 'active')
        cls.write([integration], values)
