# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
import datetime as dt
from unittest.mock import patch

from freezegun import freeze_time

from trytond import backend
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, SQLConstraintError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction

from .tools import (
    DBTestCase, create_integration_user, get_brl, patch_entities)

TEST_CONNECTOR = ('test', "Test")


_entities = patch_entities()


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def add_test_connector():
    "Give the base module a connector as a connector module would"
    Integration = Pool().get('integration.integration')
    if TEST_CONNECTOR not in Integration.connector.selection:
        Integration.connector.selection.append(TEST_CONNECTOR)


def create_integration(company, **values):
    Integration = Pool().get('integration.integration')
    add_test_connector()
    values.setdefault('name', "Test")
    integration = Integration(company=company, connector='test', **values)
    integration.save()
    return integration


class IntegrationsBaseTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the NovaGestão integrations base module"
    module = 'novagestao_integrations_base'

    @with_transaction()
    def test_defaults(self):
        "A new integration is a draft importing every 6 hours from 90 days ago"
        pool = Pool()
        Date = pool.get('ir.date')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            self.assertEqual(integration.status, 'draft')
            self.assertEqual(integration.schedule, 'every_6_hours')
            self.assertEqual(integration.direction, 'import')
            self.assertEqual(
                integration.initial_date, Date.today() - dt.timedelta(90))
            self.assertIsNone(integration.next_sync)

    @with_transaction()
    def test_every_6_hours_next_sync(self):
        "Enabling an integration on every 6 hours schedules it 6 hours later"
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company), freeze_time('2026-11-21 14:00:00'):
            integration = create_integration(company)
            Integration.enable([integration])
            self.assertEqual(integration.status, 'active')
            self.assertEqual(
                integration.next_sync, dt.datetime(2026, 11, 21, 20, 0))

    @with_transaction()
    def test_daily_is_midnight_in_sao_paulo(self):
        "A daily integration runs at the next midnight of the company's zone"
        company = create_company(currency=get_brl())
        company.timezone = 'America/Sao_Paulo'
        company.save()
        with set_company(company):
            integration = create_integration(
                company, schedule='daily', status='active')
            # 11:00 in São Paulo: next midnight is 03:00 UTC tomorrow
            self.assertEqual(
                integration.compute_next_sync(
                    dt.datetime(2026, 11, 21, 14, 0)),
                dt.datetime(2026, 11, 22, 3, 0))
            # 23:30 in São Paulo but already the 22nd in UTC
            self.assertEqual(
                integration.compute_next_sync(
                    dt.datetime(2026, 11, 22, 2, 30)),
                dt.datetime(2026, 11, 22, 3, 0))
            # 00:30 in São Paulo: the next midnight is a day later
            self.assertEqual(
                integration.compute_next_sync(
                    dt.datetime(2026, 11, 22, 3, 30)),
                dt.datetime(2026, 11, 23, 3, 0))

    @with_transaction()
    def test_manual_and_disabled_have_no_next_sync(self):
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            Integration.enable([integration])
            self.assertIsNotNone(integration.next_sync)
            integration.schedule = 'manual'
            integration.save()
            self.assertIsNone(integration.next_sync)
            integration.schedule = 'every_6_hours'
            integration.save()
            self.assertIsNotNone(integration.next_sync)
            Integration.disable([integration])
            self.assertEqual(integration.status, 'disabled')
            self.assertIsNone(integration.next_sync)

    @with_transaction()
    def test_dispatch_due_queues_due_integrations(self):
        "The cron queues only the active integrations that are due"
        pool = Pool()
        Integration = pool.get('integration.integration')
        Queue = pool.get('ir.queue')
        company = create_company(currency=get_brl())
        with set_company(company):
            with freeze_time('2026-11-21 08:00:00'):
                due = create_integration(company, name="Due")
                later = create_integration(company, name="Later")
                manual = create_integration(
                    company, name="Manual", schedule='manual')
                draft = create_integration(company, name="Draft")
                Integration.enable([due, later, manual])
            later.next_sync = dt.datetime(2026, 11, 21, 20, 0)
            later.save()
            with freeze_time('2026-11-21 15:00:00'):
                dispatched = Integration.dispatch_due()
            self.assertEqual(dispatched, [due])
            self.assertEqual(due.next_sync, dt.datetime(2026, 11, 21, 21, 0))
            tasks = Queue.search([
                    ('data.model', '=', 'integration.integration'),
                    ])
            self.assertEqual(len(tasks), 1)
            task, = tasks
            self.assertEqual(task.name, 'integration')
            self.assertEqual(task.data['method'], 'run_sync')
            self.assertEqual(list(task.data['instances']), [due.id])
            self.assertEqual(list(task.data['args']), ['scheduled'])
            self.assertEqual(draft.status, 'draft')

    def sync_now(self, integration, state='start'):
        "Run the Sync now wizard of integration; return its message"
        pool = Pool()
        SyncNow = pool.get('integration.sync_now', type='wizard')
        session_id, _, _ = SyncNow.create()
        with Transaction().set_context(
                active_model='integration.integration',
                active_id=integration.id, active_ids=[integration.id]):
            result = SyncNow.execute(session_id, {}, state)
        SyncNow.delete(session_id)
        return result['view']['defaults']['message'], result['view']['state']

    @with_transaction()
    def test_sync_now_queues_a_manual_run(self):
        "Sync now queues the run and says so at once"
        pool = Pool()
        Integration = pool.get('integration.integration')
        Queue = pool.get('ir.queue')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            message, state = self.sync_now(integration)
            self.assertEqual(state, 'started')
            self.assertIn(integration.rec_name, message)
            task, = Queue.search([
                    ('data.model', '=', 'integration.integration'),
                    ])
            self.assertEqual(list(task.data['args']), ['manual'])
            Integration.disable([integration])
            with self.assertRaises(UserError):
                self.sync_now(integration)

    @with_transaction()
    def test_sync_now_during_a_live_run(self):
        "Sync now says which run is live and since when, and queues nothing"
        pool = Pool()
        Queue = pool.get('ir.queue')
        Run = pool.get('integration.sync.run')
        from ..sync import current_process
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            run = Run(
                integration=integration, trigger='scheduled',
                start=dt.datetime(2026, 11, 21, 13, 5),
                process=current_process())
            run.save()
            message, state = self.sync_now(integration)
            self.assertEqual(state, 'live')
            # São Paulo time
            self.assertIn('21/11/2026 10:05', message)
            self.assertIn('(run %d)' % run.id, message)
            self.assertEqual(Queue.search([
                        ('data.model', '=', 'integration.integration'),
                        ]), [])

    @with_transaction()
    def test_binding_unique_on_external_id(self):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Party = pool.get('party.party')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            party1, party2 = Party.create([{'name': "A"}, {'name': "B"}])
            Binding.create([{
                        'integration': integration.id, 'kind': 'party',
                        'external_id': '1', 'record': str(party1),
                        }])
            with self.assertRaises(SQLConstraintError):
                Binding.create([{
                            'integration': integration.id, 'kind': 'party',
                            'external_id': '1', 'record': str(party2),
                            }])

    @with_transaction()
    def test_binding_unique_on_record(self):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Party = pool.get('party.party')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            other = create_integration(company, name="Other")
            party = Party(name="A")
            party.save()
            Binding.create([{
                        'integration': integration.id, 'kind': 'party',
                        'external_id': '1', 'record': str(party),
                        }])
            # Another integration may link the same record
            Binding.create([{
                        'integration': other.id, 'kind': 'party',
                        'external_id': '1', 'record': str(party),
                        }])
            with self.assertRaises(SQLConstraintError):
                Binding.create([{
                            'integration': integration.id, 'kind': 'party',
                            'external_id': '2', 'record': str(party),
                            }])

    @with_transaction()
    def test_binding_lookup(self):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Party = pool.get('party.party')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            parties = Party.create([{'name': str(i)} for i in range(3)])
            Binding.save([
                    Binding.link(integration, 'party', i, party)
                    for i, party in enumerate(parties)])
            found = Binding.records_of(integration, 'party', [0, 2, 7])
            self.assertEqual(found, {'0': parties[0], '2': parties[2]})

    @with_transaction()
    def test_sync_error_keeps_one_pending_error_per_record(self):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Run = pool.get('integration.sync.run')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            run = Run(integration=integration, trigger='manual',
                start=dt.datetime(2026, 1, 1))
            run.save()
            first = Error.record(
                run, 'payable', '42', 'category_not_mapped', "Not mapped",
                payload={'codigo': 42})
            second = Error.record(
                run, 'payable', '42', 'category_not_mapped', "Still not")
            self.assertEqual(first, second)
            self.assertEqual(second.attempts, 2)
            self.assertEqual(len(Error.pending(integration, 'payable')), 1)
            Error.resolve(integration, 'payable', ['42'])
            self.assertEqual(Error.pending(integration, 'payable'), [])


class IntegrationsBaseRunTestCase(DBTestCase):
    "Test the runs of the integrations base with committed transactions"
    modules = ['novagestao_integrations_base']

    def setUp(self):
        super().setUp()
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_integration(company)
            transaction.commit()
            self.company_id, self.integration_id = company.id, integration.id

    def run_sync(self, side_effect=None):
        with Transaction().start(
                DB_NAME, 0, context={'company': self.company_id}):
            Integration = Pool().get('integration.integration')
            with patch.object(
                    Integration, 'connector_sync', autospec=True,
                    side_effect=side_effect):
                Integration.run_sync(
                    [Integration(self.integration_id)], 'manual')

    def read(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            run = integration.runs[0]
            return (integration.status, integration.last_error,
                run.state, run.message, run.progress, run.end)

    def test_success_activates_a_draft(self):
        self.run_sync()
        status, last_error, state, _, progress, end = self.read()
        self.assertEqual((status, last_error, state), ('active', None, 'done'))
        self.assertEqual(progress, 1)
        self.assertIsNotNone(end)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            run = integration.runs[0]
            # the start as people read it, in the company's time
            self.assertEqual(integration.last_run, run)
            self.assertEqual(run.rec_name, '%s @ %s' % (
                    integration.rec_name,
                    integration.local_time(run.start).strftime(
                        '%d/%m/%Y %H:%M:%S')))

    def test_failure_sets_error_and_recovery_sets_active(self):
        def fail(integration, run):
            raise UserError("The remote system refused the keys.")
        self.run_sync(fail)
        status, last_error, state, message, _, _ = self.read()
        self.assertEqual((status, state), ('error', 'failed'))
        self.assertEqual(last_error, "The remote system refused the keys.")
        self.assertEqual(message, last_error)

        self.run_sync()
        status, last_error, state, _, _, _ = self.read()
        self.assertEqual((status, last_error, state), ('active', None, 'done'))

    def test_unexpected_failure_message_names_no_detail(self):
        def crash(integration, run):
            raise RuntimeError("secret-token-in-exception")
        self.run_sync(crash)
        status, last_error, _, message, _, _ = self.read()
        self.assertEqual(status, 'error')
        self.assertIn('RuntimeError', message)
        self.assertNotIn('secret-token-in-exception', message)

    def test_failed_run_keeps_committed_progress(self):
        "Work committed before a failure stays; the uncommitted part is lost"
        def half_way(integration, run):
            Party = Pool().get('party.party')
            Party(name="Committed").save()
            run.add_counts('party', created=1)
            run.set_progress(50)
            Transaction().commit()
            Party(name="Lost").save()
            raise UserError("Stopped")
        self.run_sync(half_way)
        with Transaction().start(DB_NAME, 0, readonly=True):
            Party = Pool().get('party.party')
            names = {p.name for p in Party.search([
                        ('name', 'in', ["Committed", "Lost"])])}
            self.assertIn("Committed", names)
            if backend.name == 'postgresql':
                # in-memory SQLite does not roll back after a commit
                self.assertNotIn("Lost", names)
        *_, progress, _ = self.read()
        self.assertEqual(progress, 0.5)


class IntegrationsBaseAccessTestCase(DBTestCase):
    "Test the access rights of the integrations"
    modules = ['novagestao_integrations_base']

    def setUp(self):
        super().setUp()
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company(currency=get_brl())
            other_company = create_company(
                name="Other", currency=get_brl())
            with set_company(company):
                self.integration_id = create_integration(company).id
            with set_company(other_company):
                self.other_id = create_integration(
                    other_company, name="Other").id
            self.user_id = create_integration_user(
                company, 'integration_user').id
            transaction.commit()

    def test_user_reads_but_cannot_write(self):
        with Transaction().start(DB_NAME, self.user_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(_check_access=True):
                integration, = Integration.search([])
                self.assertEqual(integration.id, self.integration_id)
                self.assertEqual(integration.name, "Test")
                with self.assertRaises(AccessError):
                    Integration.write([integration], {'name': "Changed"})

    def test_user_does_not_see_other_company(self):
        with Transaction().start(DB_NAME, self.user_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(_check_access=True):
                ids = [i.id for i in Integration.search([])]
                self.assertNotIn(self.other_id, ids)


del ModuleTestCase
