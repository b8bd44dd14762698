# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end: malformed deliveries to trytond's webhook route, and events
that fail alone"""
import datetime as dt
import json
import random
import uuid

from trytond.pool import Pool

from novagestao_omie.routes import MAX_BODY
from novagestao_omie.webhook import MESSAGE_ID_SIZE, TOPIC_SIZE, is_identifier

from .test_webhooks import WebhookCase

FUZZ_SEED = 20261202
FUZZ_BODIES = 320
JSON = 'application/json'
# topics no importer handles: a fuzzed delivery that is valid is ignored
# without reading Omie
FUZZ_TOPICS = ['Fuzz.Teste', 'VendaProduto.Incluida', 'Outro.Topico']


class RouteCase(WebhookCase):

    def check_answer(self, response, statuses):
        "The answer is JSON with one of statuses, never HTML nor a 5xx"
        self.assertIn(response.status_code, statuses, response.get_data())
        self.assertEqual(response.mimetype, 'application/json')
        self.assertNotIn(b'<', response.get_data()[:1])
        return response.get_json()

    def rejected_count(self):
        return len(self.events(state='rejected'))


class RouteTestCase(RouteCase):
    "The route refuses whatever is not an Omie event, in JSON, and records it"

    def test_malformed_bodies_are_rejected_in_json_and_recorded(self):
        valid = self.message('ClienteFornecedor.Alterado',
            {'codigo_cliente_omie': 1})

        def body(**changes):
            return json.dumps(dict(valid, **changes))

        deep = '[' * 1200 + ']' * 1200
        cases = [
            # (description, raw body, content type, expected status)
            ('NUL in messageId', body(messageId='abc\x00def'), JSON, 400),
            ('NUL in topic', body(topic='ClienteFornecedor.Alterado\x00'),
                JSON, 400),
            ('raw NUL byte', b'{"messageId": "a\x00", "topic": "t"}', JSON,
                400),
            ('lone surrogate', body().replace(
                    '"event": {', '"event": {"x": "\\ud800", '), JSON, 400),
            ('lone surrogate in id', body(messageId='\ud83d'), JSON, 400),
            ('encoded surrogate bytes', b'{"messageId": "\xed\xa0\x80"}',
                JSON, 400),
            ('nesting of 1,200', body().replace(
                    '"event": {', '"event": {"deep": %s, ' % deep), JSON,
                400),
            ('nesting of 100,000', '{"a": ' + '[' * 100000 + ']' * 100000
                + '}', JSON, 400),
            ('nesting of 40', body(event={'a': json.loads(
                            '[' * 40 + ']' * 40)}), JSON, 400),
            ('messageId list', body(messageId=['a']), JSON, 400),
            ('messageId object', body(messageId={'a': 1}), JSON, 400),
            ('messageId true', body(messageId=True), JSON, 400),
            ('messageId number', body(messageId=12345), JSON, 400),
            ('topic number', body(topic=42), JSON, 400),
            ('topic list', body(topic=['ClienteFornecedor.Alterado']), JSON,
                400),
            ('topic object', body(topic={'a': 'b'}), JSON, 400),
            ('topic false', body(topic=False), JSON, 400),
            ('messageId NaN', body().replace(
                    '"messageId": "%s"' % valid['messageId'],
                    '"messageId": NaN'), JSON, 400),
            ('Infinity', body().replace('"codigo_cliente_omie": 1',
                    '"codigo_cliente_omie": Infinity'), JSON, 400),
            ('1e999999', body().replace(
                    '"messageId": "%s"' % valid['messageId'],
                    '"messageId": 1e999999'), JSON, 400),
            ('-1e999999 in event', body().replace(
                    '"codigo_cliente_omie": 1',
                    '"codigo_cliente_omie": -1e999999'), JSON, 400),
            ('messageId of 103', body(messageId='x' * 103), JSON, 400),
            ('topic of 201', body(topic='T' * (TOPIC_SIZE + 1)), JSON, 400),
            ('messageId with a trailing space', body(messageId='abc '), JSON,
                400),
            ('event a string', body(event='x'), JSON, 400),
            ('event a number', body(event=3), JSON, 400),
            ('latin1', body(topic='Categoria.Alterada').encode('utf-8'),
                JSON + '; charset=latin1', 415),
            ('iso-8859-1 bytes', body(messageId='ação').encode('latin-1'),
                JSON + '; charset=iso-8859-1', 415),
            ('invalid UTF-8', b'{"messageId": "a\xe7\xe3o"}', JSON, 400),
            ('text/plain', body(), 'text/plain', 415),
            ('form', 'messageId=1', 'application/x-www-form-urlencoded',
                415),
            ('no content type', body(), '', 415),
            ('too large', b'{"a": "' + b'x' * MAX_BODY + b'"}', JSON, 413),
            ('a number', b'1e999999', JSON, 400),
            ('NaN alone', b'NaN', JSON, 400),
            ('empty', b'', JSON, 400),
            ]
        for description, raw, content_type, status in cases:
            with self.subTest(description):
                before = self.rejected_count()
                response = self.post(raw, content_type=content_type)
                data = self.check_answer(response, {status})
                self.assertEqual(data['status'], 'rejected')
                self.assertTrue(data['error'])
                self.assertEqual(self.rejected_count(), before + 1)
        rejected = self.events(state='rejected')
        self.assertEqual(len(rejected), len(cases))
        # nothing else was stored, and the body is kept readable
        self.assertEqual(len(self.events()), len(cases))
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            for event in Event.search([
                        ('integration', '=', self.integration_id)]):
                self.assertIsNone(event.message_id)
                self.assertNotIn('\x00', event.payload)
                self.assertNotIn('\x00', event.error)
                event.payload.encode('utf-8')
            payloads = [e.payload for e in Event.search([
                        ('integration', '=', self.integration_id)])]
            # the NUL byte is kept as an escape, readable and storable
            self.assertIn('{"messageId": "a\\x00", "topic": "t"}', payloads)
        # the route still works
        self.check_answer(self.post({'ping': 'omie'}), {200})

    def test_ids_are_whole_or_refused_never_merged(self):
        "A long id is not cut into another, a space does not merge two"
        topic = 'VendaProduto.Incluida'
        longest = 'x' * MESSAGE_ID_SIZE
        self.check_answer(self.post(self.message(
                    topic, {}, messageId=longest)), {200})
        # 103 characters whose first 100 are the id above: refused
        data = self.check_answer(self.post(self.message(
                    topic, {}, messageId=longest + 'yyy')), {400})
        self.assertIn(str(MESSAGE_ID_SIZE), data['error'])
        self.check_answer(self.post(self.message(
                    topic, {}, messageId='abc')), {200})
        self.check_answer(self.post(self.message(
                    topic, {}, messageId='abc ')), {400})
        self.check_answer(self.post(self.message(
                    topic, {}, messageId=' abc')), {400})
        # accented and non-Latin ids are ids like any other
        self.check_answer(self.post(self.message(
                    topic, {}, messageId='ação-日本')), {200})
        stored = sorted(e[2] for e in self.events() if e[1] != 'rejected')
        self.assertEqual(stored, sorted([longest, 'abc', 'ação-日本']))
        self.assertEqual(len(self.events(state='rejected')), 3)
        # the same ids again are duplicates, not new events
        for message_id in [longest, 'abc']:
            data = self.check_answer(self.post(self.message(
                        topic, {}, messageId=message_id)), {200})
            self.assertEqual(data, {'status': 'duplicate'})

    def test_delivery_without_message_id_is_kept_once(self):
        "Omie's event without messageId is taken, its body identifies it"
        topic = 'VendaProduto.Incluida'
        first = self.message(topic, {'codigo_pedido': 1})
        del first['messageId']
        empty = self.message(topic, {'codigo_pedido': 2}, messageId='')
        for payload in [first, empty]:
            data = self.check_answer(self.post(payload), {200})
            self.assertNotEqual(data['status'], 'duplicate', data)
        # delivered again, even with its keys in another order: a duplicate
        again = json.dumps(dict(reversed(list(first.items()))))
        data = self.check_answer(self.post(again), {200})
        self.assertEqual(data, {'status': 'duplicate'})
        events = [e for e in self.events() if e[1] != 'rejected']
        self.assertEqual(len(events), 2, events)
        for event in events:
            self.assertRegex(event[2], r'^sha256:[0-9a-f]{64}$')
            self.assertTrue(is_identifier(event[2], MESSAGE_ID_SIZE))
        self.assertNotEqual(events[0][2], events[1][2])
        # an id that is there but not a string is still refused
        self.check_answer(self.post(self.message(
                    topic, {}, messageId=7)), {400})

    def test_fuzzed_bodies(self):
        """A bounded, seeded fuzz: no 5xx, no HTML, every rejection
        recorded, no pending garbage"""
        rng = random.Random(FUZZ_SEED)
        answers = {}
        for index in range(FUZZ_BODIES):
            raw, content_type = fuzz_body(rng, self.message)
            before = self.rejected_count()
            response = self.post(raw, content_type=content_type)
            data = self.check_answer(response, {200, 400, 403, 413, 415})
            answers.setdefault(response.status_code, 0)
            answers[response.status_code] += 1
            if response.status_code in {400, 413, 415}:
                self.assertEqual(data['status'], 'rejected')
                self.assertEqual(
                    self.rejected_count(), before + 1, (index, raw))
            else:
                self.assertEqual(self.rejected_count(), before, (index, raw))
        # the fuzz reached each kind of answer
        self.assertGreater(answers.get(200, 0), 10, answers)
        self.assertGreater(answers.get(400, 0), 100, answers)
        self.assertTrue(answers.get(415), answers)
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            events = Event.search([
                    ('integration', '=', self.integration_id)])
            self.assertEqual(
                len([e for e in events if e.state == 'rejected']),
                answers.get(400, 0) + answers.get(413, 0)
                + answers.get(415, 0))
            for event in events:
                self.assertNotIn('\x00', event.payload or '')
                if event.state == 'rejected':
                    continue
                # what was accepted is a well-formed event, and was handled
                self.assertEqual(event.state, 'ignored', event.payload)
                self.assertTrue(is_identifier(
                        event.message_id, MESSAGE_ID_SIZE))
                self.assertTrue(is_identifier(event.topic, TOPIC_SIZE))
                payload = json.loads(event.payload)
                self.assertIsInstance(payload['event'], (dict, list))


def fuzz_body(rng, message):
    "A random delivery: (raw body, content type)"
    valid = message(rng.choice(FUZZ_TOPICS), {'id': rng.randint(1, 10 ** 6)})
    weird_values = [
        None, True, False, 0, -1, 1.5, 10 ** 30, '', ' ', 'a' * 101,
        'x\x00y', '\ud800', '\udfff', 'ok', [], ['a'], {}, {'a': 1},
        'ação', '\t', 'a\nb', '\u2028', '日本語', 'x ' * 3]
    kind = rng.randrange(12)
    content_type = JSON
    if kind == 0:
        # a valid event, maybe under another id
        if rng.random() < 0.5:
            valid['messageId'] = str(uuid.UUID(int=rng.getrandbits(128)))
        raw = json.dumps(valid)
    elif kind in {1, 2}:
        # a key of the envelope takes a strange value
        key = rng.choice(['messageId', 'topic', 'event', 'appKey', 'author'])
        valid[key] = rng.choice(weird_values)
        raw = json.dumps(valid)
    elif kind == 3:
        # a key is missing
        del valid[rng.choice(['messageId', 'topic', 'event'])]
        raw = json.dumps(valid)
    elif kind == 4:
        # bytes flipped, inserted or cut
        data = bytearray(json.dumps(valid, ensure_ascii=False).encode())
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(data))
            choice = rng.randrange(3)
            if choice == 0:
                data[position] = rng.randrange(256)
            elif choice == 1:
                data.insert(position, rng.randrange(256))
            else:
                del data[position:position + rng.randint(1, 8)]
        raw = bytes(data)
    elif kind == 5:
        # deep nesting in the event
        depth = rng.choice([33, 100, 999, 1001, 5000])
        opening, closing = rng.choice([('[', ']'), ('{"a":', '}')])
        raw = json.dumps(valid).replace(
            '"event": {', '"event": {"n": %s%s, ' % (
                opening * depth, closing * depth))
    elif kind == 6:
        # non-finite or huge numbers
        token = rng.choice(['NaN', 'Infinity', '-Infinity', '1e999999',
                '-1e400', '1' * 5000])
        raw = json.dumps(valid).replace(
            '"id": ', '"id": %s, "was": ' % token)
    elif kind == 7:
        # another content type or charset
        content_type = rng.choice([
                'text/plain', 'application/xml', 'multipart/form-data',
                JSON + '; charset=latin1', JSON + '; charset=utf-16',
                JSON + '; charset=iso-8859-1', 'application/x-json',
                'text/html'])
        raw = json.dumps(valid)
    elif kind == 8:
        # not an object
        raw = json.dumps(rng.choice([[valid], 'x', 1, None, True, []]))
    elif kind == 9:
        # a lone surrogate or NUL escaped somewhere
        escape = rng.choice(['\\ud800', '\\udc00', '\\u0000', '\\ud83d'])
        raw = json.dumps(valid).replace(
            '"origin": "', '"origin": "%s' % escape, 1)
        if rng.random() < 0.5:
            raw = raw.replace(
                '"messageId": "', '"messageId": "%s' % escape, 1)
    elif kind == 10:
        # random bytes
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    else:
        # ids at and over their limit
        size = rng.choice([MESSAGE_ID_SIZE, MESSAGE_ID_SIZE + 1,
                MESSAGE_ID_SIZE + 3])
        valid['messageId'] = ''.join(
            rng.choice('abcdef0123456789') for _ in range(size))
        raw = json.dumps(valid)
    return raw, content_type


class IsolationTestCase(RouteCase):
    "One event's failure is its own"
    sandbox_options = {'seed': 53, 'parties': 24}

    def insert(self, topic, event, message_id=None):
        "Store an event as the route would, or poisoned, in the database"
        payload = self.message(topic, event)
        if message_id:
            payload['messageId'] = message_id
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            stored, = Event.create([{
                        'integration': self.integration_id,
                        'message_id': payload['messageId'],
                        'topic': str(topic),
                        'payload': json.dumps(payload),
                        'next_attempt': dt.datetime.utcnow(),
                        }])
            transaction.commit()
            return stored.id

    def process(self, event_ids):
        "Process the events as the queue task would"
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            Event.process(Event.browse(event_ids))
            transaction.commit()

    def test_poisoned_events_leave_the_others_alone(self):
        parties = [p['codigo_cliente_omie']
            for p in self.sandbox.dataset.parties[:20]]
        self.assertEqual(len(parties), 20)
        for index, omie_id in enumerate(parties):
            self.sandbox.store.update_party(
                self.sandbox.store.party(omie_id),
                {'razao_social': 'Isolada %02d Ltda' % index})
        ids = [self.insert(42, {'codigo_cliente_omie': parties[0]})]
        ids += [self.insert('ClienteFornecedor.Alterado',
                {'codigo_cliente_omie': omie_id}) for omie_id in parties]
        ids.append(self.insert(['ClienteFornecedor.Alterado'],
                {'codigo_cliente_omie': parties[1]}))
        ids.append(self.insert('ClienteFornecedor.Alterado', 'not an event'))
        self.process(ids)
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            events = Event.browse(ids)
            poisoned = [events[0], events[-2], events[-1]]
            valid = events[1:-2]
            self.assertEqual(
                [e.state for e in valid], ['done'] * 20,
                [(e.state, e.error) for e in valid])
            for event in valid:
                self.assertEqual(event.attempts, 0)
                self.assertIsNone(event.error)
            for event in poisoned:
                self.assertEqual(event.state, 'failed')
                self.assertTrue(event.error)
            self.assertIn('topic', poisoned[0].error)
            for index, omie_id in enumerate(parties):
                self.assertEqual(
                    self.party(omie_id).name, 'Isolada %02d Ltda' % index)

    def test_not_found_is_not_deleted(self):
        "An event whose record Omie does not find waits; nothing is deleted"
        omie_id = self.sandbox.dataset.parties[4]['codigo_cliente_omie']
        other = self.sandbox.dataset.parties[5]['codigo_cliente_omie']
        first = self.insert('ClienteFornecedor.Alterado',
            {'codigo_cliente_omie': omie_id})
        self.process([first])
        with self.transaction(readonly=True):
            self.assertTrue(self.party(omie_id).active)
        # deleted in Omie, but the deletion event has not come (yet)
        self.sandbox.change('party', omie_id, _delete=True)
        before = dt.datetime.utcnow()
        ids = [self.insert(topic, {'codigo_cliente_omie': omie_id})
            for topic in ['ClienteFornecedor.Alterado',
                'ClienteFornecedor.Incluido']]
        ids.append(self.insert('ClienteFornecedor.Alterado',
                {'codigo_cliente_omie': other}))
        self.process(ids)
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            waiting, waiting2, applied = Event.browse(ids)
            self.assertEqual(applied.state, 'done')
            for event in [waiting, waiting2]:
                self.assertEqual(event.state, 'pending')
                self.assertEqual(event.attempts, 1)
                self.assertIn('does not exist', event.error)
                self.assertIn(str(omie_id), event.error)
                self.assertGreater(
                    event.next_attempt, before + dt.timedelta(seconds=25))
            self.assertTrue(self.party(omie_id).active)
        # Omie's deletion event concludes it
        deleted = self.insert('ClienteFornecedor.Excluido',
            {'codigo_cliente_omie': omie_id})
        self.process([deleted])
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            self.assertEqual(Event(deleted).state, 'done')
            self.assertFalse(self.party(omie_id).active)

