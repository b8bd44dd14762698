# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie Connect webhooks applied to the records the sync imports

An event names the Omie record that changed; the record itself is read
again through the API, so an event delivered late or twice never brings
back older data, and the importers of the sync apply it.  The events of a
batch that name the same record are read once, as Omie refuses to be asked
the same thing twice within a minute; when it refuses anyway the events
wait the time Omie asks for."""
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from novagestao_integrations_base.exceptions import WebhookInputError
from novagestao_integrations_base.integration import utcnow

from .omie import errors, records
from .sync import OmieSync, record_client_metrics
from .webhook_actions import WebhookActions
from .webhook_bulk import BulkReader

logger = logging.getLogger(__name__)

ROUTE = 'novagestao_omie/webhook'
# Topic prefixes, longest first, and the entity their events change
TOPICS = [
    ('Financas.ContaCorrente.Lancamento.', 'movement'),
    ('Financas.ContaCorrente.', 'bank_account'),
    ('Financas.ContaPagar.', 'payable'),
    ('Financas.ContaReceber.', 'receivable'),
    ('ClienteFornecedor.', 'party'),
    ('Categoria.', 'category'),
    ('NFe.', 'nf'),
    ]
# The filter entity that selects each webhook entity
FILTER_ENTITY = {'movement': 'statement'}
DELETES = {'Excluido', 'Excluida'}
EVENT_KEYS = {
    'party': ['codigo_cliente_omie'],
    'payable': ['codigo_lancamento_omie'],
    'receivable': ['codigo_lancamento_omie'],
    'bank_account': ['nCodCC', 'codigo_conta_corrente'],
    'category': ['codigo'],
    # Omie Connect sends id_nf (ListarNF's nIdNF); the links it sends to
    # the XML and DANFE are never fetched
    'nf': ['id_nf'],
    'movement': ['nCodLanc'],
    }
# The order in which the records of a batch are applied: what a record
# depends on comes first
ORDER = ['category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement', 'statement', 'nf']
OUTCOME_GRAVITY = {'postpone': 0, 'retry': 1, 'failed': 2}


# messageId and topic are stored whole or refused, never cut or stripped
MESSAGE_ID_SIZE = 100
TOPIC_SIZE = 200
AUTHOR_SIZE = 200


def is_identifier(value, limit):
    """Whether value is a non-empty string of at most limit characters,
    printable and without surrounding spaces, as Omie's ids and topics are"""
    return (isinstance(value, str) and 0 < len(value) <= limit
        and value == value.strip() and value.isprintable())


def body_id(payload):
    "The id of a delivery without messageId: a hash of its whole body"
    body = json.dumps(payload, sort_keys=True, ensure_ascii=False,
        separators=(',', ':'))
    return 'sha256:' + hashlib.sha256(
        body.encode('utf-8', 'surrogatepass')).hexdigest()


def author_of(author):
    "The author of an event as text to show, or None"
    if isinstance(author, dict):
        author = ' '.join(filter(None, [
                    author.get('name') if isinstance(author.get('name'), str)
                    else '',
                    '<%s>' % author['email']
                    if isinstance(author.get('email'), str)
                    and author['email'] else '']))
    if not isinstance(author, str):
        return None
    # informative only: shortened and made printable
    author = ''.join(c if c.isprintable() else ' ' for c in author)
    return author.strip()[:AUTHOR_SIZE] or None


def topic_entity(topic):
    "(entity, action) of an Omie topic, or (None, None) when not handled"
    if not isinstance(topic, str):
        return None, None
    for prefix, entity in TOPICS:
        if topic.startswith(prefix):
            return entity, topic[len(prefix):]
    return None, None


@dataclass
class Plan:
    "What a batch of events asks to apply, coalesced by record"
    refresh: dict = field(default_factory=dict)  # entity -> {id}
    delete: dict = field(default_factory=dict)  # entity -> {id}
    settlements: dict = field(default_factory=dict)  # entity -> {title}
    cancelled: dict = field(default_factory=dict)  # entity -> {baixa}
    lookup: dict = field(default_factory=dict)  # entity -> {id}
    # 'statement' -> {(Omie bank account, first day of the month)}
    months: dict = field(default_factory=dict)
    # event id -> [keys of what it asked]
    asked: dict = field(default_factory=dict)
    # the movements Omie says are deleted (the others were changed)
    deleted_movements: set = field(default_factory=set)
    # (entity, id) -> when the newest event asking to read it was received
    received: dict = field(default_factory=dict)

    def add(self, event, bucket, entity, value):
        getattr(self, bucket).setdefault(entity, set()).add(value)
        self.asked.setdefault(event.id, []).append((bucket, entity, value))
        if bucket == 'refresh':
            newest = self.received.get((entity, value))
            if newest is None or event.received_at > newest:
                self.received[(entity, value)] = event.received_at


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    def connector_webhook_route(self):
        if self.connector != 'omie':
            return super().connector_webhook_route()
        return ROUTE

    def connector_parse_webhook(self, payload):
        if self.connector != 'omie':
            return super().connector_parse_webhook(payload)
        if payload.get('ping') is not None and 'topic' not in payload:
            return None
        app_key = str(payload.get('appKey') or '')
        if not hmac.compare_digest(
                app_key.encode('utf-8'),
                str(self.omie_app_key or '').encode('utf-8')):
            raise PermissionError
        missing = [k for k in ['topic', 'event']
            if payload.get(k) in (None, '')]
        if missing:
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_missing_keys',
                    keys=', '.join(missing)))
        message_id = payload.get('messageId')
        if message_id in (None, ''):
            # Omie documents the key, but an authenticated delivery without
            # it is Omie's change all the same: its body identifies it, so a
            # redelivery is still recognised
            message_id = body_id(payload)
        for key, value, limit in [
                ('messageId', message_id, MESSAGE_ID_SIZE),
                ('topic', payload['topic'], TOPIC_SIZE)]:
            if not is_identifier(value, limit):
                raise WebhookInputError(gettext(
                        'novagestao_omie.msg_webhook_bad_identifier',
                        key=key, limit=limit))
        if not isinstance(payload['event'], (dict, list)):
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_bad_event',
                    topic=payload['topic']))
        return {
            'message_id': message_id,
            'topic': payload['topic'],
            'author': author_of(payload.get('author')),
            }

    def connector_process_webhooks(self, run, events):
        if self.connector != 'omie':
            return super().connector_process_webhooks(run, events)
        return WebhookBatch(self, run).apply(events)


class WebhookBatch(WebhookActions):
    "Apply a batch of Omie events of one integration"

    def __init__(self, integration, run):
        # Omie's wait for a redundant read is a minute: better to let the
        # event wait than to hold a worker.  No read cache: an event asks
        # for Omie's record as it is now, never for a read of the last minute
        # (the bursts' lists, received before the events they serve, are
        # webhook_bulk's).
        client = integration.omie_client(
            max_retries=2, max_wait=10, cache_ttl=0)
        self.integration = integration
        self.run = run
        self.sync = OmieSync(integration, run, client=client)
        self.bulk = BulkReader(client, integration.id, utcnow)
        self.received = {}
        self.steps = {s.entity: s for s in self.sync.steps()}
        # (bucket, entity, value) -> outcome of what failed
        self.failures = {}
        self.results = {}

    def apply(self, events):
        plan, outcomes = self.plan(events)
        self.received = plan.received
        try:
            self.execute(plan)
        finally:
            self.run.set_progress(remote_calls=self.sync.client.calls)
            record_client_metrics(self.run, self.sync.client)
            self.sync.client.close()
        for event in events:
            if event.id in outcomes:
                continue
            asked = plan.asked.get(event.id, [])
            failed = [self.failures[a] for a in asked if a in self.failures]
            if failed:
                # the gravest outcome, then the longest wait, decides
                outcomes[event.id] = max(failed, key=lambda o: (
                        OUTCOME_GRAVITY[o[0]], o[2] or 0))
            else:
                outcomes[event.id] = ('done', '\n'.join(
                        self.results[a] for a in asked if a in self.results)
                    or None)
        return outcomes

    # Planning: what each event asks

    def plan(self, events):
        plan, outcomes = Plan(), {}
        for event in events:
            try:
                payload = event_payload(event)
                self.plan_event(plan, event, payload)
            except WebhookInputError as exception:
                outcomes[event.id] = ('failed', exception.message)
            except IgnoredEvent as ignored:
                outcomes[event.id] = ('ignored', ignored.reason)
            except Exception as exception:
                # reading an event touches nothing: what fails here fails
                # again, and only for this event
                logger.info("webhook event %d not understood", event.id,
                    exc_info=True)
                plan.asked.pop(event.id, None)
                outcomes[event.id] = (
                    'failed', self.integration.describe_exception(exception))
        for event_id in outcomes:
            # what a refused event had asked before failing stays asked by
            # the others only
            plan.asked.pop(event_id, None)
        return plan, outcomes

    def plan_event(self, plan, event, payload):
        topic = payload.get('topic')
        if not is_identifier(topic, TOPIC_SIZE):
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_bad_identifier',
                    key='topic', limit=TOPIC_SIZE))
        entity, action = topic_entity(topic)
        if entity is None:
            raise IgnoredEvent(gettext(
                    'novagestao_omie.msg_webhook_topic_unknown', topic=topic))
        if not self.integration.is_selected(FILTER_ENTITY.get(entity, entity)):
            raise IgnoredEvent(gettext(
                    'novagestao_omie.msg_webhook_entity_filtered',
                    topic=topic))
        body = payload.get('event')
        if action in {'BaixaRealizada', 'BaixaCancelada'}:
            items = body if isinstance(body, list) else [body]
            for item in items:
                for title in title_ids(item, entity):
                    plan.add(event, 'refresh', entity, title)
                    if action == 'BaixaRealizada':
                        plan.add(event, 'settlements', entity, title)
                if action == 'BaixaCancelada':
                    settlement = records.parse_id(
                        (item or {}).get('codigo_baixa'))
                    if settlement:
                        plan.add(event, 'cancelled', entity, settlement)
            if not plan.asked.get(event.id):
                raise WebhookInputError(gettext(
                        'novagestao_omie.msg_webhook_no_id',
                        topic=topic, keys='codigo_lancamento_omie'))
            return
        if not isinstance(body, dict):
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_bad_event', topic=topic))
        if entity == 'movement':
            return self.plan_movement(plan, event, topic, action, body)
        external_id = event_id_of(body, entity)
        if external_id is None:
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_no_id', topic=topic,
                    keys=' / '.join(EVENT_KEYS[entity])))
        if action in DELETES:
            plan.add(event, 'delete', entity, external_id)
        else:
            plan.add(event, 'refresh', entity, external_id)

    def plan_movement(self, plan, event, topic, action, body):
        movement = records.parse_id(body.get('nCodLanc'))
        if movement is None:
            raise WebhookInputError(gettext(
                    'novagestao_omie.msg_webhook_no_id', topic=topic,
                    keys='nCodLanc'))
        if action in DELETES or action == 'Alterado':
            # the line leaves its statement (when still a draft)
            plan.add(event, 'delete', 'movement', movement)
        if action in DELETES:
            plan.deleted_movements.add(movement)
            return
        month = movement_month(body)
        if month:
            plan.add(event, 'months', 'statement', month)
        else:
            # the event does not say where: Omie's record does
            plan.add(event, 'lookup', 'movement', movement)

    # Execution, in dependency order

    def execute(self, plan):
        pool = Pool()
        Date = pool.get('ir.date')
        for entity in ORDER:
            if plan.delete.get(entity) and entity != 'movement':
                self.isolated(
                    'delete', entity, plan.delete[entity], self.delete)
            refresh = set(plan.refresh.get(entity, ())) - set(
                plan.delete.get(entity, ()))
            if entity in {'payable', 'receivable'}:
                if plan.cancelled.get(entity):
                    self.isolated('cancelled', entity,
                        plan.cancelled[entity], self.cancel_settlements)
            if refresh:
                self.refresh(entity, refresh)
            if entity in {'payable', 'receivable'}:
                for title in sorted(plan.settlements.get(entity, ())):
                    self.isolated('settlements', entity, [title],
                        self.import_settlements)
        for movement in sorted(plan.lookup.get('movement', ())):
            key = ('lookup', 'movement', movement)
            found = self.guard(
                [key], lambda: self.sync.client.call(
                    'ConsultaLancCC', nCodLanc=movement))
            if found is not None:
                month = movement_month(found)
                if month:
                    plan.months.setdefault('statement', set()).add(month)
                    self.note(*key, gettext(
                            'novagestao_omie.msg_webhook_applied',
                            entity=self.label('movement'), id=movement))
        if plan.delete.get('movement'):
            months = set()
            self.isolated('delete', 'movement', plan.delete['movement'],
                lambda _, movements: months.update(self.forget_movements(
                        movements, plan.deleted_movements)))
            plan.months.setdefault('statement', set()).update(months)
        if plan.months.get('statement'):
            today = Date.today()
            for account, month in sorted(plan.months['statement']):
                self.import_statement(account, month, today)

    def isolated(self, bucket, entity, values, func):
        """Apply func(entity, values); when it fails on anything but an
        answer of Omie, roll back to the last commit and apply it again
        value by value, so that one record's failure is only the failure
        of the events that name it"""
        values = sorted(values, key=str)
        try:
            func(entity, values)
        except errors.OmieError as error:
            outcome = self.outcome(error)
            for value in values:
                self.failures[(bucket, entity, value)] = outcome
        except Exception as exception:
            Transaction().rollback()
            if len(values) > 1:
                for value in values:
                    self.isolated(bucket, entity, [value], func)
                return
            logger.info(
                "webhook %s of %s %s failed", bucket, entity, values[0],
                exc_info=True)
            self.failures[(bucket, entity, values[0])] = (
                'retry', self.integration.describe_exception(exception),
                None)

    def guard(self, keys, func, *args):
        """Run func; on an Omie error, note the outcome of keys instead of
        failing the batch"""
        try:
            return func(*args)
        except errors.OmieError as error:
            outcome = self.outcome(error)
            for key in keys:
                self.failures[key] = outcome
        except Exception as exception:
            Transaction().rollback()
            logger.info("webhook %s failed", keys, exc_info=True)
            for key in keys:
                self.failures[key] = (
                    'retry', self.integration.describe_exception(exception),
                    None)

    def outcome(self, error):
        if isinstance(error, (errors.RedundantRequestError,
                    errors.RateLimitError, errors.ConcurrencyError,
                    errors.MisuseBlockedError)):
            seconds = int(error.retry_after or 60) + 1
            return ('postpone', gettext(
                    'novagestao_omie.msg_webhook_wait',
                    seconds=seconds), seconds)
        message = self.integration.describe_exception(error)
        # not found is no deletion (only a deletion event says so): wait
        if error.transient or isinstance(error, (
                    errors.AuthenticationError, errors.NotFoundError)):
            return ('retry', message, error.retry_after)
        return ('failed', message, None)

    def note(self, bucket, entity, value, message):
        self.results[(bucket, entity, value)] = message

    def label(self, entity):
        "The entity as Omie names it in its topics, which users know"
        for prefix, topic_entity_ in TOPICS:
            if topic_entity_ == entity:
                return prefix.rstrip('.')
        return entity



class IgnoredEvent(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def event_payload(event):
    try:
        payload = json.loads(event.payload or '{}')
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise WebhookInputError(gettext(
                'novagestao_omie.msg_webhook_bad_event',
                topic=event.topic or ''))
    return payload


def movement_month(movement):
    """(Omie bank account, first day of the month) of a current-account
    entry as the API or an event shows it, or None"""
    head = movement.get('cabecalho') or {}
    try:
        account = records.parse_id(
            head.get('nCodCC') or movement.get('nCodCC'))
        day = records.parse_date(
            head.get('dDtLanc') or movement.get('dDtLanc'))
    except (ValueError, TypeError):
        return None
    if account and day:
        return account, day.replace(day=1)


def event_id_of(body, entity):
    for key in EVENT_KEYS[entity]:
        value = body.get(key)
        if value in (None, ''):
            continue
        if entity == 'category':
            return str(value).strip() or None
        try:
            return records.parse_id(value)
        except ValueError:
            return None
    return None


def title_ids(item, entity):
    "The Omie titles a settlement event item concerns"
    key = 'conta_a_receber' if entity == 'receivable' else 'conta_a_pagar'
    result = []
    if not isinstance(item, dict):
        return result
    for title in item.get(key) or []:
        try:
            title_id = records.parse_id(
                (title or {}).get('codigo_lancamento_omie'))
        except (ValueError, AttributeError):
            continue
        if title_id:
            result.append(title_id)
    if not result:
        try:
            title_id = records.parse_id(item.get('codigo_lancamento_omie'))
        except ValueError:
            title_id = None
        if title_id:
            result.append(title_id)
    return result
