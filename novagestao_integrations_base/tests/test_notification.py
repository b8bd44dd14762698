# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Notification channels through the real path: email to an SMTP server
(aiosmtpd), Slack and Twilio requests to HTTP receivers on loopback, the
secrets never readable nor logged"""
import base64
import datetime as dt
import json
import socket
import threading
import urllib.parse
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from aiosmtpd.controller import Controller
from freezegun import freeze_time

from trytond.config import config
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from ..secret import SECRET_PLACEHOLDER
from .test_incident import run_tasks
from .test_module import create_integration
from .tools import (
    DBTestCase, create_integration_user, get_brl, patch_entities)

_entities = patch_entities()
SLACK_SECRET = '/services/T000/B000/slack-secret-XYZ'
TWILIO_TOKEN = 'twilio-token-secret-123'


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Mailbox:
    "aiosmtpd handler keeping what it receives"
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return '250 OK'


class Receiver(ThreadingHTTPServer):
    "An HTTP server on loopback keeping the requests; answers status"
    status = 200
    answer = b'ok'

    def __init__(self):
        self.requests = []
        super().__init__(('127.0.0.1', 0), ReceiverHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]

    def stop(self):
        self.shutdown()
        self.server_close()


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        self.server.requests.append((self.path, dict(self.headers), body))
        self.send_response(self.server.status)
        self.send_header('Content-Length', str(len(self.server.answer)))
        self.end_headers()
        self.wfile.write(self.server.answer)

    def log_message(self, *args):
        pass


class NotificationTestCase(DBTestCase):
    "Test the notification channels"
    modules = ['novagestao_integrations_base']

    def setUp(self):
        super().setUp()
        self.receiver = Receiver()
        self.addCleanup(self.receiver.stop)
        with Transaction().start(
                DB_NAME, 0, context={'language': 'en'}) as transaction:
            pool = Pool()
            Channel = pool.get('integration.notification.channel')
            Integration = pool.get('integration.integration')
            Channel.delete(Channel.search([]))
            Integration.write(Integration.search([]), {'status': 'disabled'})
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_integration(
                    company, status='active', schedule='manual')
            self.admin_id = create_integration_user(
                company, 'channel_admin', 'group_integration_admin').id
            self.user_id = create_integration_user(
                company, 'channel_user').id
            transaction.commit()
            self.company_id, self.integration_id = company.id, integration.id

    def start(self, user=0):
        return Transaction().start(DB_NAME, user, context={
                'company': self.company_id, 'language': 'en'})

    def open_incident(self, **channel):
        "Create the channel, fail a run and send what was queued"
        def crash(integration, run):
            raise RuntimeError("boom")
        with self.start() as transaction:
            pool = Pool()
            Channel = pool.get('integration.notification.channel')
            Integration = pool.get('integration.integration')
            channel = Channel(name="Test", **channel)
            channel.save()
            transaction.commit()
            with patch.object(Integration, 'connector_sync', autospec=True,
                    side_effect=crash):
                Integration.run_sync(
                    [Integration(self.integration_id)], 'manual')
        with self.start() as transaction:
            run_tasks()
            transaction.commit()
        return channel.id

    def delivery(self, channel_id):
        Delivery = Pool().get('integration.notification.delivery')
        delivery, = Delivery.search([('channel', '=', channel_id)])
        return delivery

    def test_email_through_smtp(self):
        mailbox = Mailbox()
        port = free_port()
        controller = Controller(mailbox, hostname='127.0.0.1', port=port)
        controller.start()
        self.addCleanup(controller.stop)
        uri = config.get('email', 'uri')
        config.set('email', 'uri', 'smtp://127.0.0.1:%d' % port)
        self.addCleanup(config.set, 'email', 'uri', uri)
        with self.start() as transaction:
            admin = Pool().get('res.user')(self.admin_id)
            admin.email = 'admin@example.com'
            admin.save()
            transaction.commit()
        channel_id = self.open_incident(
            kind='email', users=[self.admin_id],
            addresses='ops@example.com\n')
        envelope, = mailbox.envelopes
        self.assertEqual(sorted(envelope.rcpt_tos),
            ['admin@example.com', 'ops@example.com'])
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.assertIn("Incident: Sync failed", message['Subject'])
        body = message.get_content()
        self.assertIn("RuntimeError", body)
        self.assertIn('/model/integration.sync.run/', body)
        with self.start():
            self.assertEqual(self.delivery(channel_id).state, 'sent')

    def test_slack_webhook(self):
        channel_id = self.open_incident(
            kind='slack', secret=self.receiver.url + SLACK_SECRET)
        (path, headers, body), = self.receiver.requests
        self.assertEqual(path, SLACK_SECRET)
        self.assertEqual(headers['Content-Type'], 'application/json')
        payload = json.loads(body)
        self.assertIsInstance(payload['text'], str)
        self.assertIn("Sync failed", payload['text'])
        # a link back to the run, in Slack's <url|text> form
        self.assertRegex(
            payload['text'], r'<http[^|>]+/model/integration\.sync\.run/\d+\|')
        self.assertEqual(payload['blocks'][0]['type'], 'section')
        with self.start():
            self.assertEqual(self.delivery(channel_id).state, 'sent')

    def test_twilio_sms(self):
        # Twilio answers 201 Created with the message
        self.receiver.status, self.receiver.answer = 201, b'{"sid": "SM1"}'
        channel_id = self.open_incident(
            kind='sms', sms_provider='twilio', sms_account='AC123',
            sms_sender='+15005550006', secret=TWILIO_TOKEN,
            sms_base_url=self.receiver.url,
            addresses='+5511999990000\n+5511999990001')
        requests = self.receiver.requests
        self.assertEqual(len(requests), 2)
        path, headers, body = requests[0]
        self.assertEqual(path, '/2010-04-01/Accounts/AC123/Messages.json')
        self.assertEqual(headers['Content-Type'],
            'application/x-www-form-urlencoded')
        self.assertEqual(headers['Authorization'], 'Basic ' + base64.b64encode(
                ('AC123:' + TWILIO_TOKEN).encode()).decode())
        form = urllib.parse.parse_qs(body.decode())
        self.assertEqual(form['To'], ['+5511999990000'])
        self.assertEqual(form['From'], ['+15005550006'])
        self.assertIn("Sync failed", form['Body'][0])
        with self.start():
            self.assertEqual(self.delivery(channel_id).state, 'sent')

    def test_channel_down_is_retried_and_never_breaks_the_run(self):
        self.receiver.status = 500
        with self.assertLogs(
                'novagestao_integrations_base', level='INFO') as logs:
            channel_id = self.open_incident(
                kind='slack', secret=self.receiver.url + SLACK_SECRET)
        with self.start():
            pool = Pool()
            Incident = pool.get('integration.incident')
            Integration = pool.get('integration.integration')
            self.assertEqual(
                Integration(self.integration_id).runs[0].state, 'failed')
            self.assertTrue(Incident.search([
                        ('integration', '=', self.integration_id),
                        ('state', '=', 'open'),
                        ]))
            delivery = self.delivery(channel_id)
            self.assertEqual(
                (delivery.state, delivery.attempts, delivery.error),
                ('pending', 1, 'HTTP 500'))
            self.assertGreater(delivery.next_attempt, delivery.queued_at)
        for record in logs.output:
            self.assertNotIn('slack-secret', record)

        # the channel back, the cron sends it once due
        self.receiver.status = 200
        with self.start() as transaction:
            Delivery = Pool().get('integration.notification.delivery')
            Delivery.process_due()
            self.assertEqual(run_tasks(), 0)
            transaction.commit()
        with freeze_time(dt.datetime.now() + dt.timedelta(minutes=5)), \
                self.start() as transaction:
            Delivery.process_due()
            run_tasks()
            transaction.commit()
        with self.start():
            delivery = self.delivery(channel_id)
            self.assertEqual((delivery.state, delivery.attempts), ('sent', 2))
            self.assertEqual(len(self.receiver.requests), 2)

    def test_secret_never_readable(self):
        with self.start() as transaction:
            Channel = Pool().get('integration.notification.channel')
            channel = Channel(name="Slack", kind='slack',
                secret=self.receiver.url + SLACK_SECRET)
            channel.save()
            transaction.commit()
        # an integrations user has no access to the channels at all
        with self.start(self.user_id) as transaction:
            Channel = Pool().get('integration.notification.channel')
            with transaction.set_context(_check_access=True):
                with self.assertRaises(AccessError):
                    Channel.read([channel.id], ['secret'])
        # their administrator reads and exports a placeholder only
        with self.start(self.admin_id) as transaction:
            Channel = Pool().get('integration.notification.channel')
            with transaction.set_context(_check_access=True):
                row, = Channel.read([channel.id], ['secret', 'name'])
                self.assertEqual(row['secret'], SECRET_PLACEHOLDER)
                exported = Channel.export_data(
                    [Channel(channel.id)], ['secret'])
                self.assertEqual(exported, [[SECRET_PLACEHOLDER]])
                with self.assertRaises(AccessError):
                    Channel.search([('secret', 'like', '%slack%')])
                # writing the placeholder back keeps the value
                Channel.write([Channel(channel.id)], {
                        'secret': SECRET_PLACEHOLDER, 'name': "Renamed"})
            transaction.commit()
        with self.start():
            Channel = Pool().get('integration.notification.channel')
            self.assertEqual(Channel(channel.id).secret,
                self.receiver.url + SLACK_SECRET)

    def test_send_test_button(self):
        with self.start() as transaction:
            Channel = Pool().get('integration.notification.channel')
            good = Channel(name="Slack", kind='slack',
                secret=self.receiver.url + SLACK_SECRET)
            down = Channel(name="Down", kind='slack',
                secret='http://127.0.0.1:%d%s' % (free_port(), SLACK_SECRET))
            Channel.save([good, down])
            transaction.commit()
        with self.start(self.admin_id) as transaction:
            Channel = Pool().get('integration.notification.channel')
            with transaction.set_context(_check_access=True):
                Channel.send_test([Channel(good.id)])
                with self.assertRaises(UserError) as context:
                    Channel.send_test([Channel(down.id)])
        self.assertIn('connection failed', context.exception.message)
        self.assertNotIn('slack-secret', context.exception.message)
        (path, _, body), = self.receiver.requests
        self.assertIn('Test of the notification channel', body.decode())


