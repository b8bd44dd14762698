# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Incidents: what keeps an integration from working, one record per cause

An incident is opened the first time a cause is seen, kept (last_seen moves)
while it lasts and closed, with a note, once the cause is gone: a thousand
failed records make one incident, not a thousand.  The causes are read from
what the other models already record (runs, pending errors, the webhook
inbox, data conflicts, the remote guards), after each run and from a cron
for the causes that only time reveals."""
import datetime as dt
import logging

from trytond.i18n import gettext, ngettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .integration import SCHEDULE_INTERVALS, utcnow

logger = logging.getLogger(__name__)

CAUSES = [
    ('run_failed', "Sync failed"),
    ('credentials', "Credentials refused"),
    ('remote_block', "Blocked by the external system"),
    ('webhook_failed', "Webhook events failed"),
    ('errors_pending', "Errors pending too long"),
    ('sync_overdue', "Sync overdue"),
    ('conflicts_waiting', "Conflicts waiting"),
    ('books_differ', "Books differ from the external system"),
    ]
# the causes a failed run can name (SyncRun.failure_cause)
FAILURE_CAUSES = [
    (None, ""),
    ('credentials', "Credentials refused"),
    ('remote_block', "Blocked by the external system"),
    ]
MESSAGE = 'novagestao_integrations_base.msg_incident_%s'


def first_line(text):
    return (text or '').strip().splitlines()[0] if (text or '').strip() else ''


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    incident_error_hours = fields.Integer(
        "Errors Pending Alert (hours)", required=True,
        domain=[('incident_error_hours', '>', 0)],
        help="Open an incident when an error stays pending longer.")
    incident_overdue_minutes = fields.Integer(
        "Overdue Margin (minutes)", required=True,
        domain=[('incident_overdue_minutes', '>', 0)],
        help="Open an incident when no sync finished for one schedule "
        "interval plus this margin (the cron or the worker is down).")
    incidents = fields.One2Many(
        'integration.incident', 'integration', "Incidents", readonly=True,
        filter=[('state', '=', 'open')])

    @classmethod
    def default_incident_error_hours(cls):
        return 24

    @classmethod
    def default_incident_overdue_minutes(cls):
        return 60

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('incidents', None)
        return super().copy(integrations, default=default)

    @classmethod
    def record_run_outcome(cls, integration, run):
        pool = Pool()
        Incident = pool.get('integration.incident')
        super().record_run_outcome(integration, run)
        # an incident is a report on the run, never a reason to lose it:
        # evaluated in a short transaction of its own, which a failure
        # rolls back without the run's
        try:
            Incident.evaluate_alone(integration)
        except Exception:
            logger.exception(
                "incidents of integration %d not evaluated", integration.id)

    def incident_failure_cause(self, exception):
        """The incident cause a run failed on exception names, if any
        (connectors override it to read their own errors)"""
        return {
            'authentication': 'credentials',
            'rate_limit': 'remote_block',
            }.get(getattr(exception, 'kind', None))

    def incident_causes(self, now):
        "Return {cause: (origin, message)} of the causes present now"
        if self.status in {'draft', 'disabled'}:
            return {}
        causes = {}
        for cause, _ in CAUSES:
            found = getattr(self, '_incident_%s' % cause)(now)
            if found:
                causes[cause] = found
        return causes

    def _last_finished_run(self):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        runs = Run.search([
                ('integration', '=', self.id),
                ('state', '!=', 'running'),
                ], order=[('start', 'DESC'), ('id', 'DESC')], limit=1)
        return runs[0] if runs else None

    def _failed_run(self, failure_cause):
        run = self._last_finished_run()
        if run and run.state == 'failed' and (
                run.failure_cause or None) == failure_cause:
            return run

    def _incident_run_failed(self, now):
        run = self._failed_run(None)
        if run:
            return run, gettext(MESSAGE % 'run_failed',
                detail=first_line(run.message))

    def _incident_credentials(self, now):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        origin = self._failed_run('credentials') or next(iter(Error.search([
                        ('integration', '=', self.id),
                        ('resolved', '=', False),
                        ('kind', '=', 'authentication'),
                        ], limit=1)), None)
        if origin:
            return origin, gettext(MESSAGE % 'credentials')

    def _incident_remote_block(self, now):
        pool = Pool()
        Guard = pool.get('integration.remote.guard')
        run = self._failed_run('remote_block')
        if run:
            return run, gettext(MESSAGE % 'remote_block',
                detail=first_line(run.message))
        guards = Guard.search([
                ('integration', '=', self.id),
                ('blocked_until', '>', now),
                ], order=[('blocked_until', 'DESC')], limit=1)
        if guards:
            until = self.local_time(guards[0].blocked_until)
            return guards[0], gettext(MESSAGE % 'remote_block_until',
                method=guards[0].method, until=until.strftime('%H:%M'))

    def _incident_webhook_failed(self, now):
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        domain = [('integration', '=', self.id), ('state', '=', 'failed')]
        count = Event.search_count(domain)
        if count:
            event, = Event.search(domain, order=[('id', 'DESC')], limit=1)
            return event, ngettext(
                MESSAGE % 'webhook_failed', count, count=count)

    def _incident_errors_pending(self, now):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        hours = self.incident_error_hours or 24
        domain = [
            ('integration', '=', self.id),
            ('resolved', '=', False),
            ('first_seen', '<=', now - dt.timedelta(hours=hours)),
            ]
        count = Error.search_count(domain)
        if count:
            error, = Error.search(
                domain, order=[('first_seen', 'ASC')], limit=1)
            return error, ngettext(MESSAGE % 'errors_pending', count,
                count=count, hours=hours)

    def _incident_sync_overdue(self, now):
        if self.schedule == 'manual':
            return
        interval = SCHEDULE_INTERVALS.get(self.schedule, dt.timedelta(days=1))
        margin = dt.timedelta(minutes=self.incident_overdue_minutes or 60)
        # an integration never synchronised counts from its creation
        last = self.last_sync or self.create_date
        if last and now - last > interval + margin:
            since = self.local_time(last).strftime('%d/%m/%Y %H:%M')
            return self._last_finished_run() or self, gettext(
                MESSAGE % 'sync_overdue', since=since)

    def _incident_conflicts_waiting(self, now):
        pool = Pool()
        Conflict = pool.get('integration.conflict')
        domain = [('integration', '=', self.id), ('state', '=', 'open')]
        count = Conflict.search_count(domain)
        if count:
            conflict, = Conflict.search(
                domain, order=[('id', 'ASC')], limit=1)
            return conflict, ngettext(
                MESSAGE % 'conflicts_waiting', count, count=count)


class SyncRun(metaclass=PoolMeta):
    __name__ = 'integration.sync.run'

    failure_cause = fields.Selection(
        FAILURE_CAUSES, "Failure Cause", readonly=True, sort=False)

    def fail(self, exception):
        # set before the run is saved and its outcome evaluated
        self.failure_cause = self.integration.incident_failure_cause(
            exception)
        super().fail(exception)


class Incident(ModelSQL, ModelView):
    """Integration Incident

    One open incident per integration and cause, whatever the number of
    errors behind it; it closes itself when the cause is gone."""
    __name__ = 'integration.incident'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    cause = fields.Selection(
        CAUSES, "Cause", required=True, readonly=True, sort=False)
    cause_string = cause.translated('cause')
    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True, sort=False)
    opened_at = fields.DateTime("Opened at", required=True, readonly=True)
    last_seen = fields.DateTime("Last Seen", required=True, readonly=True)
    closed_at = fields.DateTime("Closed at", readonly=True)
    message = fields.Text("Message", required=True, readonly=True)
    closing_note = fields.Text("Closing Note", readonly=True)
    origin = fields.Reference(
        "Origin", selection='get_origins', readonly=True,
        help="The run or the record that caused it (the latest seen).")
    deliveries = fields.One2Many(
        'integration.notification.delivery', 'incident', "Notifications",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        cls._order = [('opened_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'open', 'danger', '')),
            ]

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = [
            'integration.integration', 'integration.sync.run',
            'integration.sync.error', 'integration.webhook.event',
            'integration.conflict', 'integration.remote.guard',
            'integration.books.check']
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in models]

    def get_rec_name(self, name):
        return '%s: %s' % (self.integration.rec_name, self.cause_string)

    @property
    def since(self):
        "When it opened, as people of the company read it"
        return self.integration.local_time(self.opened_at).strftime(
            '%d/%m/%Y %H:%M')

    @classmethod
    def evaluate(cls, integrations, now=None):
        """Open, keep or close the incidents of the integrations from the
        causes present now, and announce what opened or closed
        Return the incidents opened and those closed"""
        pool = Pool()
        Delivery = pool.get('integration.notification.delivery')
        now = now or utcnow()
        all_opened, all_closed = [], []
        for integration in integrations:
            found = integration.incident_causes(now)
            current = {i.cause: i for i in cls.search([
                        ('integration', '=', integration.id),
                        ('state', '=', 'open'),
                        ])}
            changed, opened, closed = [], [], []
            for cause, _ in CAUSES:
                incident = current.get(cause)
                if cause in found:
                    origin, message = found[cause]
                    if not incident:
                        incident = cls(
                            integration=integration, cause=cause,
                            state='open', opened_at=now)
                        opened.append(incident)
                    incident.last_seen = now
                    incident.origin = origin
                    incident.message = message
                    changed.append(incident)
                elif incident:
                    incident.state = 'closed'
                    incident.closed_at = now
                    incident.closing_note = gettext(
                        'novagestao_integrations_base.msg_incident_closed',
                        cause=incident.cause_string)
                    changed.append(incident)
                    closed.append(incident)
            cls.save(changed)
            all_opened.extend(opened)
            all_closed.extend(closed)
        Delivery.announce(all_opened, 'opened')
        Delivery.announce(all_closed, 'closed')
        return all_opened, all_closed

    @classmethod
    def evaluate_alone(cls, integration):
        """Evaluate the incidents of the integration in a short transaction
        of its own, the integration locked: the cron and the end of a run
        may evaluate at once, and one cause must open one incident"""
        from .sync import in_own_transaction
        pool = Pool()
        Integration = pool.get('integration.integration')

        def evaluate():
            locked = Integration(integration.id)
            Integration.lock([locked])
            return cls.evaluate([locked])
        return in_own_transaction(evaluate)[0]

    @classmethod
    def check_due(cls):
        """Evaluate every integration's incidents and send the reminders
        due (the cron: overdue syncs and old errors show with time only)"""
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        Integration = pool.get('integration.integration')
        Delivery = pool.get('integration.notification.delivery')
        transaction = Transaction()
        # the messages are kept in the users' language, as runs' are
        with transaction.set_context(
                language=transaction.context.get('language')
                or Configuration.get_language()):
            for integration in Integration.search(
                    [('status', '!=', 'draft')]):
                cls.evaluate_alone(integration)
            Delivery.remind_due()
