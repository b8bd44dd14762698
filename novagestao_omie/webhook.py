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
from .settlement import SETTLEMENT_KIND
from .sync import OmieSync, record_client_metrics
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
CONSULT = {
    'party': ('ConsultarCliente', 'codigo_cliente_omie'),
    'payable': ('ConsultarContaPagar', 'codigo_lancamento_omie'),
    'receivable': ('ConsultarContaReceber', 'codigo_lancamento_omie'),
    'bank_account': ('ConsultarContaCorrente', 'nCodCC'),
    'category': ('ConsultarCategoria', 'codigo'),
    'nf': ('ConsultarNF', 'nCodNF'),
    }
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


class WebhookBatch:
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

    def refresh(self, entity, external_ids):
        """Read the records again and import them

        Many records of an entity are read with lists (see webhook_bulk),
        the others one by one.  A record Omie answers it does not know is
        not taken for deleted: only its deletion event says so, and a read
        may miss a record that was just created.  Its events wait and are
        tried again."""
        call, key = CONSULT[entity]
        to_read = sorted(external_ids, key=str)
        read = {}
        if self.bulk.handles(entity, len(to_read)):
            try:
                read, waits = self.bulk.read(entity, {
                        i: self.received.get((entity, i)) for i in to_read})
            except errors.OmieError as error:
                outcome = self.outcome(error)
                if outcome[0] != 'failed':
                    for external_id in to_read:
                        self.failures[('refresh', entity, external_id)] = (
                            outcome)
                    return
                # a list refused for good: each record is read on its own
                logger.info("webhook list of %s refused", entity,
                    exc_info=True)
                read, waits = {}, {}
            for external_id, seconds in waits.items():
                self.failures[('refresh', entity, external_id)] = (
                    'postpone', gettext('novagestao_omie.msg_webhook_wait',
                        seconds=seconds), seconds)
            to_read = [i for i in to_read if i not in read and i not in waits]
        for external_id in to_read:
            try:
                read[external_id] = self.sync.client.call(
                    call, **{key: external_id})
            except errors.NotFoundError:
                self.failures[('refresh', entity, external_id)] = (
                    'retry', gettext(
                        'novagestao_omie.msg_webhook_not_found',
                        entity=self.label(entity), id=external_id), None)
            except errors.OmieError as error:
                self.failures[('refresh', entity, external_id)] = (
                    self.outcome(error))
        if not read:
            return
        if entity in {'payable', 'receivable'}:
            self.refresh_missing_parties(read.values())
        # imported in the chunks of the sync: each holds its locks briefly
        ids, chunk = sorted(read, key=str), self.steps[entity].chunk
        for start in range(0, len(ids), chunk):
            self.isolated('refresh', entity, ids[start:start + chunk],
                lambda entity, ids: self.import_read(
                    entity, [read[i] for i in ids], ids))

    def import_read(self, entity, raws, external_ids):
        self.sync.with_locks(
            self.sync.import_records, self.steps[entity], raws)
        self.sync.commit()
        for external_id in external_ids:
            self.note('refresh', entity, external_id, gettext(
                    'novagestao_omie.msg_webhook_applied',
                    entity=self.label(entity), id=external_id))

    def refresh_missing_parties(self, raws):
        "Import first the clients and suppliers of titles not imported yet"
        pool = Pool()
        Binding = pool.get('integration.binding')
        wanted = {records.parse_id(r.get('codigo_cliente_fornecedor'))
            for r in raws} - {None}
        bound = Binding.lookup(self.integration, 'party', wanted)
        missing = {i for i in wanted if str(i) not in bound}
        if missing and self.integration.is_selected('party'):
            self.refresh('party', missing)

    def delete(self, entity, external_ids):
        """Cancel or deactivate the local records of records Omie says are
        deleted (a deletion event)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Mapping = pool.get('integration.mapping')
        Party = pool.get('party.party')
        external_ids = sorted(external_ids, key=str)
        if entity == 'party':
            Party.omie_deactivate(self.integration, external_ids)
            message = 'msg_webhook_party_deleted'
        elif entity in {'payable', 'receivable'}:
            self.sync.with_locks(
                Invoice.omie_delete_titles, self.integration, self.run,
                entity, [str(i) for i in external_ids])
            message = 'msg_webhook_title_deleted'
        elif entity == 'category':
            Mapping.omie_deactivate(self.integration, external_ids)
            message = 'msg_webhook_category_deleted'
        else:
            message = 'msg_webhook_kept'
        self.sync.commit()
        for external_id in external_ids:
            self.note('delete', entity, external_id, gettext(
                    'novagestao_omie.' + message, entity=self.label(entity),
                    id=external_id))

    def cancel_settlements(self, entity, settlements):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Move = pool.get('account.move')
        settlements = sorted(settlements)
        bound = Binding.lookup(
            self.integration, SETTLEMENT_KIND, [str(s) for s in settlements])
        self.sync.with_locks(
            Move.omie_cancel_settlements, self.integration, self.run,
            [str(s) for s in settlements])
        self.sync.commit()
        for settlement in settlements:
            if str(settlement) in bound:
                message = 'msg_webhook_settlement_cancelled'
            else:
                # never imported, or already reversed by an earlier event
                message = 'msg_webhook_settlement_not_bound'
            self.note('cancelled', entity, settlement, gettext(
                    'novagestao_omie.' + message, id=settlement))

    def import_settlements(self, entity, titles):
        if not self.integration.is_selected('settlement'):
            return
        step = self.steps['settlement']
        title, = titles
        self.sync.import_pages(step, dict(step.params, nCodTitulo=title))

    def forget_movements(self, movements, deleted):
        pool = Pool()
        Statement = pool.get('account.statement')
        months, done = self.sync.with_locks(
            Statement.omie_forget_movements, self.integration, self.run,
            [str(m) for m in sorted(movements)],
            [str(m) for m in deleted])
        self.sync.commit()
        for movement in movements:
            what, record = done.get(str(movement), (None, None))
            # the records come from the short transaction that did the work
            record = record.__class__(record.id) if record else None
            if what is None:
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_unknown',
                    id=movement)
            elif what == 'reversed':
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_reversed',
                    id=movement, move=record.rec_name if record else '-')
            elif what == 'kept':
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_kept_posted',
                    id=movement, statement=record.rec_name)
            else:
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_forgotten',
                    id=movement)
            self.note('delete', 'movement', movement, message)
        return months

    def import_statement(self, account, month, today):
        start = self.integration.import_from_date
        if month > today or (start and month < start.replace(day=1)):
            return
        key = ('months', 'statement', (account, month))
        self.guard([key], self._import_statement, account, month, today)

    def _import_statement(self, account, month, today):
        self.sync.import_statement_month(
            self.steps['statement'], account, month, today)
        self.sync.commit()
        self.note('months', 'statement', (account, month), gettext(
                'novagestao_omie.msg_webhook_statement_read',
                account=account, month=month.strftime('%m/%Y')))


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
