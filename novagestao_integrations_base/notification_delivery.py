# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Deliveries: the log of each message a channel sends, and its retries

An incident gives each subscribed channel one message when it opens, one
when it closes and a reminder per the channel's reminder_hours while it
stays open: never one per error.  Messages go through queue tasks; a
failure is recorded here and retried with a growing delay, never raised
into the run or the request that opened the incident."""
import datetime as dt
import logging

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .integration import utcnow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=2)
QUEUE = 'integration_notification'


def backoff(attempts):
    "The delay before the next attempt after attempts failed ones"
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


class Delivery(ModelSQL, ModelView):
    "Notification Delivery"
    __name__ = 'integration.notification.delivery'

    channel = fields.Many2One(
        'integration.notification.channel', "Channel", required=True,
        ondelete='CASCADE', readonly=True)
    incident = fields.Many2One(
        'integration.incident', "Incident", ondelete='CASCADE',
        readonly=True)
    event = fields.Selection([
            ('opened', "Opened"),
            ('closed', "Closed"),
            ('reminder', "Reminder"),
            ('test', "Test"),
            ], "Event", required=True, readonly=True, sort=False)
    state = fields.Selection([
            ('pending', "Pending"),
            ('sent', "Sent"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    subject = fields.Char("Subject", required=True, readonly=True)
    body = fields.Text("Body", readonly=True)
    link = fields.Char("Link", readonly=True)
    queued_at = fields.DateTime("Queued at", required=True, readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt = fields.DateTime("Next Attempt", readonly=True)
    sent_at = fields.DateTime("Sent at", readonly=True)
    error = fields.Text("Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('channel')
        cls._order = [('queued_at', 'DESC'), ('id', 'DESC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'failed', 'danger',
                    If(Eval('state') == 'pending', 'warning', ''))),
            ]

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def prepare(cls, channel, incident, event):
        "An unsaved delivery of event with its message written now"
        msg = 'novagestao_integrations_base.msg_notification_%s' % event
        if incident is None:
            return cls(channel=channel, event=event,
                subject=gettext(msg + '_subject', channel=channel.rec_name),
                body=gettext(msg + '_body'), queued_at=utcnow(),
                next_attempt=utcnow())
        origin = incident.origin
        link = None
        if origin and getattr(origin, 'id', -1) >= 0:
            link = origin.__href__
        values = {
            'integration': incident.integration.rec_name,
            'cause': incident.cause_string,
            'message': incident.message,
            'since': incident.since,
            'note': incident.closing_note or '',
            }
        return cls(channel=channel, incident=incident, event=event,
            subject=gettext(msg + '_subject', **values),
            body=gettext(msg + '_body', **values), link=link,
            queued_at=utcnow(), next_attempt=utcnow())

    @classmethod
    def announce(cls, incidents, event):
        """Create and queue one delivery of event per incident and
        subscribed channel, unless it was sent already (a cause seen again
        never sends a second message)"""
        pool = Pool()
        Channel = pool.get('integration.notification.channel')
        if not incidents:
            return []
        channels = Channel.search([('active', '=', True)])
        deliveries = []
        for incident in incidents:
            for channel in channels:
                if not channel.subscribes(incident):
                    continue
                if event != 'reminder' and cls.search([
                            ('channel', '=', channel.id),
                            ('incident', '=', incident.id),
                            ('event', '=', event),
                            ], limit=1):
                    continue
                deliveries.append(cls.prepare(channel, incident, event))
        cls.save(deliveries)
        cls.enqueue(deliveries)
        return deliveries

    @classmethod
    def enqueue(cls, deliveries):
        "Send each delivery in a task of its own: a slow channel waits alone"
        with Transaction().set_context(queue_name=QUEUE):
            for delivery in deliveries:
                cls.__queue__.deliver([delivery])

    @classmethod
    def deliver(cls, deliveries):
        """Send the pending deliveries; a failure is recorded and retried
        later with a growing delay, never raised"""
        now = utcnow()
        for delivery in deliveries:
            if delivery.state != 'pending':
                continue
            channel = delivery.channel
            record = delivery.incident or channel
            try:
                channel.send(
                    delivery.subject, delivery.body, delivery.link, record)
            except Exception as error:
                delivery.attempts = (delivery.attempts or 0) + 1
                delivery.error = channel.redact(error)
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.state = 'failed'
                    delivery.next_attempt = None
                else:
                    delivery.next_attempt = now + backoff(delivery.attempts)
                logger.info("notification %d not sent (%s)",
                    delivery.id, delivery.error)
            else:
                delivery.attempts = (delivery.attempts or 0) + 1
                delivery.state = 'sent'
                delivery.sent_at = now
                delivery.error = None
                delivery.next_attempt = None
            delivery.save()

    @classmethod
    def process_due(cls):
        "Queue again the deliveries whose next attempt is due (the cron)"
        deliveries = cls.search([
                ('state', '=', 'pending'),
                ('next_attempt', '<=', utcnow()),
                ])
        cls.enqueue(deliveries)

    @classmethod
    def remind_due(cls):
        """Queue a reminder of each open incident on each channel whose last
        message of it is older than the channel's reminder_hours; a channel
        subscribed since the incident opened is told of it"""
        pool = Pool()
        Channel = pool.get('integration.notification.channel')
        Incident = pool.get('integration.incident')
        now = utcnow()
        incidents = Incident.search([('state', '=', 'open')])
        if not incidents:
            return []
        channels = Channel.search([('active', '=', True)])
        reminders, missed = [], []
        for incident in incidents:
            for channel in channels:
                if not channel.subscribes(incident):
                    continue
                last = cls.search([
                        ('channel', '=', channel.id),
                        ('incident', '=', incident.id),
                        ], order=[('queued_at', 'DESC'), ('id', 'DESC')],
                    limit=1)
                if not last:
                    missed.append((channel, incident))
                elif (channel.reminder_hours
                        and now - last[0].queued_at
                        >= dt.timedelta(hours=channel.reminder_hours)):
                    reminders.append(
                        cls.prepare(channel, incident, 'reminder'))
        reminders += [cls.prepare(c, i, 'opened') for c, i in missed]
        cls.save(reminders)
        cls.enqueue(reminders)
        return reminders
