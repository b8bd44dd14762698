# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Incidents: one per integration and cause, opened by runs and by the cron,
closed when the cause is gone, told once to the channels"""
import datetime as dt
from unittest.mock import patch

from freezegun import freeze_time

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .test_module import create_integration
from .tools import DBTestCase, get_brl, patch_entities

_entities = patch_entities()

T0 = dt.datetime(2026, 11, 20, 12, 0)


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


class KeysRefused(UserError):
    "A connector's error as the Omie client's: it names its kind"
    kind = 'authentication'


def run_tasks(model='integration.notification.delivery'):
    "Run the queued tasks of model as a worker does; return how many"
    Queue = Pool().get('ir.queue')
    tasks = [t for t in Queue.search([('finished_at', '=', None)],
            order=[('id', 'ASC')]) if t.data['model'] == model]
    for task in tasks:
        task.run()
    return len(tasks)


class IncidentTestCase(DBTestCase):
    "Test the incidents of the integrations"
    modules = ['novagestao_integrations_base']

    def setUp(self):
        super().setUp()
        with freeze_time(T0), Transaction().start(
                DB_NAME, 0, context={'language': 'en'}) as transaction:
            pool = Pool()
            Channel = pool.get('integration.notification.channel')
            Delivery = pool.get('integration.notification.delivery')
            Incident = pool.get('integration.incident')
            Integration = pool.get('integration.integration')
            # each test has an integration and a channel of its own
            Delivery.delete(Delivery.search([]))
            Channel.delete(Channel.search([]))
            Incident.delete(Incident.search([]))
            Integration.write(Integration.search([]), {'status': 'disabled'})
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_integration(
                    company, status='active', schedule='every_6_hours',
                    last_sync=T0)
            admin = pool.get('res.user')(1)
            Channel(name="In-app", kind='tryton', users=[admin]).save()
            transaction.commit()
            self.company_id, self.integration_id = company.id, integration.id

    def start(self):
        return Transaction().start(DB_NAME, 0, context={
                'company': self.company_id, 'language': 'en'})

    def run_sync(self, side_effect=None):
        with self.start():
            Integration = Pool().get('integration.integration')
            with patch.object(
                    Integration, 'connector_sync', autospec=True,
                    side_effect=side_effect):
                Integration.run_sync(
                    [Integration(self.integration_id)], 'manual')

    def check_due(self):
        with self.start() as transaction:
            Pool().get('integration.incident').check_due()
            transaction.commit()

    def incidents(self, state=None):
        "[(cause, state)] of the integration's incidents"
        with Transaction().start(DB_NAME, 0, readonly=True):
            Incident = Pool().get('integration.incident')
            domain = [('integration', '=', self.integration_id)]
            if state:
                domain.append(('state', '=', state))
            return sorted((i.cause, i.state) for i in Incident.search(domain))

    def deliveries(self):
        "[(cause, event)] of the messages queued for the incidents"
        with Transaction().start(DB_NAME, 0, readonly=True):
            Delivery = Pool().get('integration.notification.delivery')
            return sorted((d.incident.cause, d.event)
                for d in Delivery.search([
                        ('incident.integration', '=', self.integration_id),
                        ]))

    def test_thousand_errors_one_incident_one_message(self):
        "1,000 errors pending too long make one incident and one message"
        def many_errors(integration, run):
            Error = Pool().get('integration.sync.error')
            for number in range(1000):
                Error.record(run, 'payable', str(number), 'validation',
                    "Título %d sem categoria" % number)
        with freeze_time(T0):
            self.run_sync(many_errors)
        # young errors are no incident yet
        self.assertEqual(self.incidents(), [])
        for hours in [25, 26, 30]:
            with freeze_time(T0 + dt.timedelta(hours=hours)):
                self.check_due()
        self.assertIn(('errors_pending', 'open'), self.incidents())
        self.assertEqual(
            [d for d in self.deliveries() if d[0] == 'errors_pending'],
            [('errors_pending', 'opened')])
        with self.start():
            Incident = Pool().get('integration.incident')
            incident, = Incident.search([('cause', '=', 'errors_pending')])
            self.assertIn('1000', incident.message)
            self.assertEqual(incident.opened_at, T0 + dt.timedelta(hours=25))
            self.assertEqual(incident.last_seen, T0 + dt.timedelta(hours=30))
            self.assertEqual(
                incident.origin.__name__, 'integration.sync.error')

        # the errors resolved, the incident closes itself and says so
        with self.start() as transaction:
            Error = Pool().get('integration.sync.error')
            Error.write(Error.search([]), {'resolved': True})
            transaction.commit()
        with freeze_time(T0 + dt.timedelta(hours=31)):
            self.run_sync()
        # the cron saw no run finish for 25 h meanwhile
        self.assertEqual(self.incidents(), [
                ('errors_pending', 'closed'), ('sync_overdue', 'closed')])
        with self.start():
            Incident = Pool().get('integration.incident')
            incident, = Incident.search([('cause', '=', 'errors_pending')])
            self.assertEqual(incident.closed_at, T0 + dt.timedelta(hours=31))
            self.assertIn("Errors pending too long", incident.closing_note)
        self.assertEqual(
            [d for d in self.deliveries() if d[0] == 'errors_pending'], [
                ('errors_pending', 'closed'), ('errors_pending', 'opened')])

    def test_refused_credentials(self):
        "A run refused its credentials opens a credentials incident"
        def refused(integration, run):
            raise KeysRefused("The keys were refused.")
        with freeze_time(T0):
            self.run_sync(refused)
            self.run_sync(refused)
        self.assertEqual(self.incidents(), [('credentials', 'open')])
        with self.start():
            Incident = Pool().get('integration.incident')
            incident, = Incident.search([])
            self.assertEqual(incident.origin.__name__, 'integration.sync.run')
            self.assertEqual(incident.origin.failure_cause, 'credentials')
            self.assertEqual(incident.integration.status, 'error')
        with freeze_time(T0 + dt.timedelta(minutes=5)):
            self.run_sync()
        self.assertEqual(self.incidents(), [('credentials', 'closed')])

    def test_run_failed_then_recovered(self):
        def crash(integration, run):
            raise RuntimeError("boom")
        with freeze_time(T0):
            self.run_sync(crash)
        self.assertEqual(self.incidents('open'), [('run_failed', 'open')])
        with freeze_time(T0 + dt.timedelta(minutes=5)):
            self.run_sync()
        self.assertEqual(self.incidents('open'), [])

    def test_sync_overdue(self):
        "No finished run for an interval and its margin: the cron says so"
        with freeze_time(T0 + dt.timedelta(hours=6, minutes=59)):
            self.check_due()
        self.assertEqual(self.incidents(), [])
        with freeze_time(T0 + dt.timedelta(hours=7, minutes=1)):
            self.check_due()
        self.assertEqual(self.incidents(), [('sync_overdue', 'open')])
        with self.start():
            Incident = Pool().get('integration.incident')
            incident, = Incident.search([])
            # the company's time (São Paulo, UTC-3)
            self.assertIn('20/11/2026 09:00', incident.message)
        with freeze_time(T0 + dt.timedelta(hours=7, minutes=2)):
            self.run_sync()
        self.assertEqual(self.incidents(), [('sync_overdue', 'closed')])
        # manual integrations are never overdue
        with self.start() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'schedule': 'manual'})
            transaction.commit()
        with freeze_time(T0 + dt.timedelta(days=5)):
            self.check_due()
        self.assertEqual(self.incidents('open'), [])

    @freeze_time(T0)
    def test_webhook_failed(self):
        "An event failed for good opens an incident until it is applied"
        with self.start() as transaction:
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Incident = pool.get('integration.incident')
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            event = Event(integration=integration, message_id='m1',
                topic='Cliente.Alterado', payload='{}', state='failed',
                error="not found")
            event.save()
            Incident.evaluate([integration])
            incident, = Incident.search([
                    ('integration', '=', integration.id),
                    ('state', '=', 'open'),
                    ])
            self.assertEqual(incident.cause, 'webhook_failed')
            self.assertEqual(incident.origin, event)
            Event.write([event], {'state': 'done'})
            Incident.evaluate([integration])
            self.assertEqual(Incident.search([
                        ('integration', '=', integration.id),
                        ('state', '=', 'open'),
                        ]), [])
            transaction.rollback()

    def test_in_app_notification_once(self):
        "The in-app channel tells its users once per opening and closing"
        def crash(integration, run):
            raise RuntimeError("boom")
        with freeze_time(T0):
            self.run_sync(crash)
            self.run_sync(crash)
        with self.start() as transaction:
            pool = Pool()
            Delivery = pool.get('integration.notification.delivery')
            self.assertEqual(run_tasks(), 1)
            delivery, = Delivery.search([])
            self.assertEqual(delivery.state, 'sent')
            self.assertEqual(delivery.event, 'opened')
            notification, = transaction.user_notifications
            self.assertEqual(notification.user.id, 1)
            self.assertEqual(notification.model, 'integration.incident')
            self.assertIn("Sync failed", notification.label)
            self.assertIn("Since 20/11/2026 09:00", delivery.body)
            self.assertIn('/model/integration.sync.run/', delivery.link)

    def test_reminder_after_set_time(self):
        def crash(integration, run):
            raise RuntimeError("boom")
        with freeze_time(T0):
            self.run_sync(crash)
        for hours in [1, 23]:
            with freeze_time(T0 + dt.timedelta(hours=hours)):
                self.check_due()
        def failed():
            return [d for d in self.deliveries() if d[0] == 'run_failed']
        self.assertEqual(failed(), [('run_failed', 'opened')])
        with freeze_time(T0 + dt.timedelta(hours=24, minutes=5)):
            self.check_due()
        with freeze_time(T0 + dt.timedelta(hours=25)):
            self.check_due()
        self.assertEqual(failed(), [
                ('run_failed', 'opened'), ('run_failed', 'reminder')])
