# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Webhooks: an inbox of the deliveries an external system pushes

A delivery is stored in the transaction that acknowledges it, so once the
sender reads 200 nothing can be lost; a queue task then hands the pending
events to the connector.  An event that fails stays pending with its error
and is tried again later, with a growing delay, until it succeeds or the
attempts run out; the user may retry it at any time."""
import datetime as dt
import hmac
import json
import logging
import math
import re
import secrets
import time

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.url import http_host

from .exceptions import WebhookInputError
from .export import IMPORTING
from .integration import utcnow
from .sync import commit_and_continue

logger = logging.getLogger(__name__)

# The events one task processes at most; the others wait for the next task
BATCH_SIZE = 200
# After this many failed attempts an event waits for a user's Retry
MAX_ATTEMPTS = 8
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=1)
# An event claimed by a task that died is given to another after this delay
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# Events that meet a live sync of their integration wait this long for it
LIVE_RUN_WAIT = dt.timedelta(minutes=1)
# The payload of a rejected delivery is kept up to this many characters
REJECTED_PAYLOAD_SIZE = 4000
# Events nest a few levels (event, list of titles, title): a deeper body is
# not an event, and parsing it must not exhaust Python's recursion
MAX_DEPTH = 32
# Text no database column takes (NUL) and no UTF-8 encodes (lone surrogates)
_UNSAFE_TEXT = re.compile('[\x00\ud800-\udfff]')


def _reject_constant(name):
    raise WebhookInputError(gettext(
            'novagestao_integrations_base.msg_webhook_bad_number'))


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        # 1e999999 is inf for Python: no sender meant that
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_bad_number'))
    return value


def decode_json(body):
    """Return the JSON object of a delivery's raw body, decoded strictly

    The body must be UTF-8 and standard JSON: no NaN, Infinity or numbers
    beyond a float, no NUL or lone surrogate in any text or key, at most
    MAX_DEPTH levels of nesting.  Raise WebhookInputError otherwise."""
    try:
        text = body.decode('utf-8')
        payload = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float)
    except WebhookInputError:
        raise
    except RecursionError:
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_too_deep',
                limit=MAX_DEPTH))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_bad_json'))
    if not isinstance(payload, dict):
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_not_object'))
    # iterative, as the body may nest deeper than Python recurses
    stack = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise WebhookInputError(gettext(
                        'novagestao_integrations_base.msg_webhook_too_deep',
                        limit=MAX_DEPTH))
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)
    return payload


def _check_text(text):
    if _UNSAFE_TEXT.search(text):
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_webhook_bad_text'))


def safe_text(data, size=REJECTED_PAYLOAD_SIZE):
    """Text of raw bytes or str that any database stores: what is not UTF-8
    and NUL are written as backslash escapes"""
    if isinstance(data, bytes):
        text = data[:size * 4].decode('utf-8', 'backslashreplace')
    else:
        text = str(data).encode('utf-8', 'backslashreplace').decode('utf-8')
    return text[:size].replace('\x00', '\\x00')


def new_token():
    return secrets.token_urlsafe(32)


def backoff(attempts):
    "The delay before the next attempt after attempts failed ones"
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    webhook_token = fields.Char(
        "Webhook Token", readonly=True, strip=False,
        help="The secret part of the webhook address.\n"
        "Regenerate it when the address may have leaked.")
    webhook_url = fields.Function(
        fields.Char(
            "Webhook Address",
            states={
                'invisible': ~Eval('receive_webhooks', False),
                },
            help="Copy this address into the external system's "
            "webhook settings."),
        'get_webhook_url')
    webhook_events = fields.One2Many(
        'integration.webhook.event', 'integration', "Webhook Events",
        readonly=True, order=[('received_at', 'DESC'), ('id', 'DESC')])
    webhook_pending_count = fields.Function(
        fields.Integer("Pending Webhook Events"), 'get_webhook_pending_count')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'regenerate_webhook_token': {
                    'invisible': ~Eval('receive_webhooks', False),
                    'depends': ['receive_webhooks'],
                    },
                })

    @classmethod
    def default_webhook_token(cls):
        return new_token()

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('webhook_events', None)
        default.setdefault('webhook_token', lambda data: new_token())
        return super().copy(integrations, default=default)

    @classmethod
    def create(cls, vlist):
        vlist = [dict(v) for v in vlist]
        for values in vlist:
            if not values.get('webhook_token'):
                values['webhook_token'] = new_token()
        return super().create(vlist)

    def get_webhook_url(self, name):
        route = self.connector_webhook_route()
        if not route or not self.webhook_token:
            return None
        database = Transaction().database.name
        return '%s/%s/%s/%s' % (
            http_host(), database, route.strip('/'), self.webhook_token)

    @classmethod
    def get_webhook_pending_count(cls, integrations, name):
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        return cls._count_by_integration(
            Event, integrations,
            [('state', 'in', ['pending', 'processing', 'failed'])])

    @classmethod
    @ModelView.button
    def regenerate_webhook_token(cls, integrations):
        for integration in integrations:
            integration.webhook_token = new_token()
        cls.save(integrations)

    @classmethod
    def runs_ended(cls, integration):
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        super().runs_ended(integration)
        Event.resume_waiting(integration)

    @classmethod
    def by_webhook_token(cls, token):
        """Return the integration that receives webhooks with token, or None

        Every candidate is compared in constant time, so the answer's
        timing tells nothing of the tokens."""
        token = (token or '').encode('utf-8')
        found = None
        for integration in cls.search([
                    ('receive_webhooks', '=', True),
                    ('status', 'in', ['active', 'error']),
                    ('webhook_token', '!=', None),
                    ]):
            if hmac.compare_digest(
                    integration.webhook_token.encode('utf-8'), token):
                found = integration
        return found

    # Hooks that connector modules override

    def connector_webhook_route(self):
        "The path of the connector's webhook route, without the database"
        return None

    def connector_parse_webhook(self, payload):
        """Check a decoded delivery and return its description:
        {'message_id', 'topic', 'author'}, or None for a test delivery that
        is only acknowledged.  Raise WebhookInputError when it is malformed
        and PermissionError when it is not the integration's."""
        raise WebhookInputError(gettext(
                'novagestao_integrations_base.msg_connector_not_installed',
                integration=self.rec_name, connector=self.connector))

    def connector_process_webhooks(self, run, events):
        """Apply the events, recording on run; return {event id: outcome}
        where an outcome is ('done' or 'ignored', text), ('postpone',
        reason, seconds) when the remote system asks to wait, ('retry',
        error, seconds to wait or None) or ('failed', error, None)"""
        return {e.id: ('ignored', None) for e in events}


class WebhookEvent(ModelSQL, ModelView):
    "Webhook Event"
    __name__ = 'integration.webhook.event'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    # never stripped: "abc " and "abc" are two deliveries, not one
    message_id = fields.Char(
        "Message ID", readonly=True, strip=False,
        help="The sender's identifier of the delivery; a delivery sent again "
        "with the same one is acknowledged and ignored.")
    topic = fields.Char("Topic", readonly=True, strip=False)
    author = fields.Char("Author", readonly=True)
    received_at = fields.DateTime("Received at", required=True, readonly=True)
    ack_ms = fields.Integer(
        "Answered in (ms)", readonly=True,
        help="The time from the arrival of the delivery to its answer: "
        "the sender gives up on a slow answer and sends it again.")
    state = fields.Selection([
            ('pending', "Pending"),
            ('processing', "Processing"),
            ('done', "Done"),
            ('ignored', "Ignored"),
            ('failed', "Failed"),
            ('rejected', "Rejected"),
            ], "State", required=True, readonly=True, sort=False)
    attempts = fields.Integer("Attempts", required=True, readonly=True)
    next_attempt = fields.DateTime(
        "Next Attempt", readonly=True,
        help="When the event is processed (again) at the latest.")
    processed_at = fields.DateTime("Processed at", readonly=True)
    result = fields.Text("Result", readonly=True)
    error = fields.Text("Error", readonly=True)
    payload = fields.Text("Payload", readonly=True)
    run = fields.Many2One(
        'integration.sync.run', "Sync Run", readonly=True,
        ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('message_unique', Unique(t, t.integration, t.message_id),
                'novagestao_integrations_base.msg_webhook_message_unique'),
            ]
        cls._sql_indexes.update({
                Index(t,
                    (t.state, Index.Equality()),
                    (t.next_attempt, Index.Range())),
                })
        cls._order = [('received_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'retry': {
                    'invisible': ~Eval('state').in_(['pending', 'failed']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    @classmethod
    def default_received_at(cls):
        return utcnow()

    def get_rec_name(self, name):
        return '%s %s' % (self.topic or '?', self.message_id or self.id)

    # Receiving

    @classmethod
    def receive(cls, integration, body, arrived=None):
        """Store a delivery of integration; return (HTTP status, answer)

        body is the raw request body; arrived the time.monotonic() of its
        arrival (now by default), from which the answer time is recorded.  A malformed delivery is recorded as
        rejected; a delivery that is not the integration's raises
        PermissionError."""
        try:
            payload = decode_json(body)
            described = integration.connector_parse_webhook(payload)
        except WebhookInputError as exception:
            cls.reject(integration, exception.message, body)
            return exception.status, {
                'status': 'rejected', 'error': exception.message}
        if described is None:
            return 200, {'status': 'ok', 'pong': True}
        existing = cls.search([
                ('integration', '=', integration.id),
                ('message_id', '=', described['message_id']),
                ], limit=1)
        if existing:
            return 200, {'status': 'duplicate'}
        event = cls(
            integration=integration,
            message_id=described['message_id'],
            topic=described.get('topic'),
            author=described.get('author'),
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            next_attempt=utcnow())
        # the answer follows the store at once: its time is the delay
        # until now (the commit is left out)
        if arrived is not None:
            event.ack_ms = round((time.monotonic() - arrived) * 1000)
        event.save()
        with Transaction().set_context(queue_name='integration'):
            cls.__queue__.process([event])
        return 200, {'status': 'accepted'}

    @classmethod
    def reject(cls, integration, message, body=b''):
        """Record a malformed delivery so the administrator can see it

        Its body is kept as text any database stores (see safe_text)."""
        cls.create([{
                    'integration': integration.id,
                    'state': 'rejected',
                    'error': safe_text(message),
                    'payload': safe_text(body or b''),
                    }])
        logger.info(
            "webhook delivery to integration %d rejected: %s",
            integration.id, safe_text(message))

    # Processing

    @classmethod
    @ModelView.button
    def retry(cls, events):
        events = [e for e in events if e.state in {'pending', 'failed'}]
        cls.write(events, {'state': 'pending', 'next_attempt': utcnow()})
        with Transaction().set_context(queue_name='integration'):
            cls.__queue__.process(events)

    @classmethod
    def process_due(cls):
        "Queue the processing of the events whose time has come (cron)"
        now = utcnow()
        events = cls.search([
                ('state', 'in', ['pending', 'processing']),
                ('next_attempt', '<=', now),
                ], order=[('received_at', 'ASC'), ('id', 'ASC')])
        by_integration = {}
        for event in events:
            by_integration.setdefault(event.integration, event)
        with Transaction().set_context(queue_name='integration'):
            for event in by_integration.values():
                cls.__queue__.process([event])

    @classmethod
    def resume_waiting(cls, integration):
        """Queue at once the events of integration that waited for its
        runs to end (see _process), rather than at their next attempt"""
        now = utcnow()
        events = cls.search([
                ('integration', '=', integration.id),
                ('state', '=', 'pending'),
                ('next_attempt', '>', now),
                ('next_attempt', '<=', now + LIVE_RUN_WAIT),
                ], order=[('received_at', 'ASC'), ('id', 'ASC')])
        if events:
            cls.write(events, {'next_attempt': now})
            with Transaction().set_context(queue_name='integration'):
                cls.__queue__.process(events[:1])

    @classmethod
    def process(cls, events):
        """Process the due events of the integrations of events, oldest
        first, so that a burst of deliveries is applied in few runs"""
        pool = Pool()
        Configuration = pool.get('ir.configuration')
        transaction = Transaction()
        if not transaction.context.get('language'):
            with transaction.set_context(
                    language=Configuration.get_language()):
                return cls.process(events)
        if not transaction.context.get(IMPORTING):
            with transaction.set_context({IMPORTING: True}):
                return cls.process(events)
        for integration in {e.integration for e in events}:
            while True:
                claimed = cls.claim(integration)
                if not claimed:
                    break
                cls._process(integration, claimed)
                if len(claimed) < BATCH_SIZE:
                    break

    @classmethod
    def claim(cls, integration):
        """Mark as processing the due events of integration and commit, so
        that another task leaves them alone; return them"""
        now = utcnow()
        events = cls.search([
                ('integration', '=', integration.id),
                ('state', 'in', ['pending', 'processing']),
                ('next_attempt', '<=', now),
                ], order=[('received_at', 'ASC'), ('id', 'ASC')],
            limit=BATCH_SIZE)
        if events:
            cls.write(events, {
                    'state': 'processing',
                    'next_attempt': now + CLAIM_TIMEOUT,
                    })
            commit_and_continue()
        return events

    @classmethod
    def _process(cls, integration, events):
        pool = Pool()
        Integration = pool.get('integration.integration')
        Run = pool.get('integration.sync.run')
        integration = Integration(integration.id)
        if not integration.receive_webhooks or integration.status in {
                'draft', 'disabled'}:
            message = gettext(
                'novagestao_integrations_base.msg_webhook_integration_off',
                integration=integration.rec_name)
            cls.write(list(events), {
                    'state': 'ignored',
                    'result': message,
                    'processed_at': utcnow(),
                    })
            commit_and_continue()
            return
        run = Run.start_run(integration, 'webhook')
        if not run:
            # a sync of the integration is live: the events wait for it,
            # which costs them no attempt
            cls.write(list(events), {
                    'state': 'pending',
                    'next_attempt': utcnow() + LIVE_RUN_WAIT,
                    'result': gettext(
                        'novagestao_integrations_base.msg_webhook_waits_run'),
                    })
            commit_and_continue()
            return
        try:
            outcomes = integration.connector_process_webhooks(run, events)
        except Exception as exception:
            Transaction().rollback()
            logger.info(
                "webhook events of integration %d failed", integration.id,
                exc_info=True)
            run = Run(run.id)
            run.fail(exception)
            message = run.message
            outcomes = {e.id: ('retry', message, None) for e in events}
        else:
            Run(run.id).finish()
        cls._record_outcomes(cls.browse(events), outcomes, run)
        commit_and_continue()

    @classmethod
    def _record_outcomes(cls, events, outcomes, run):
        now = utcnow()
        to_write = []
        for event in events:
            outcome = outcomes.get(event.id) or ('done', None)
            state = outcome[0]
            values = {'run': run.id}
            if state in {'done', 'ignored'}:
                values.update({
                        'state': state, 'result': outcome[1], 'error': None,
                        'processed_at': now, 'next_attempt': None,
                        })
            elif state == 'postpone':
                # not a failure: the remote system asks to call later
                values.update({
                        'state': 'pending', 'error': outcome[1],
                        'result': None,
                        'next_attempt': now + dt.timedelta(
                            seconds=outcome[2] or 0),
                        })
            else:
                attempts = event.attempts + 1
                # what the event waited for is over: its error says why now
                values.update({
                        'attempts': attempts, 'error': outcome[1],
                        'result': None,
                        })
                wait = outcome[2] if state == 'retry' else None
                if state == 'failed' or attempts >= MAX_ATTEMPTS:
                    values.update({'state': 'failed', 'next_attempt': None})
                else:
                    delay = backoff(attempts)
                    if wait:
                        delay = max(delay, dt.timedelta(seconds=wait))
                    values.update({
                            'state': 'pending', 'next_attempt': now + delay,
                            })
            to_write.extend(([event], values))
        if to_write:
            cls.write(*to_write)
