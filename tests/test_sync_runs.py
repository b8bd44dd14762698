# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""End-to-end: one live run per integration, and a step's outage ends that
step only"""
import datetime as dt
import json
from unittest.mock import patch

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.worker import run_task

from novagestao_integrations_base.sync import current_process
from novagestao_omie.omie.sandbox import Sandbox
from novagestao_omie.sync import STEP_ERROR, OmieSync

from .tools import OmieEndToEndTestCase

WITHOUT_STATEMENTS = [
    'category', 'bank_account', 'party', 'payable', 'receivable',
    'settlement', 'nf']


class SyncRunsTestCase(OmieEndToEndTestCase):
    sandbox_options = {'seed': 5}

    def setUp(self):
        super().setUp()
        with self.transaction() as transaction:
            pool = Pool()
            Integration = pool.get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'filter_months_back': 13,
                    'filter_entities': WITHOUT_STATEMENTS,
                    })
            self.map_categories()
            transaction.commit()

    def map_categories(self):
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        targets = {}
        for kind in ['revenue', 'expense']:
            name = 'Omie runs %s' % kind
            accounts = Account.search([('name', '=', name)])
            if accounts:
                targets[kind], = accounts
                continue
            sibling, = Account.search([
                    ('type.%s' % kind, '=', True),
                    ('company', '=', self.company_id),
                    ], order=[('id', 'ASC')], limit=1)
            targets[kind] = Account(
                name=name, type=sibling.type, parent=sibling.parent,
                company=self.company_id)
            targets[kind].save()
        Mapping.save([Mapping(
                    integration=self.integration_id,
                    external_code=c['codigo'], external_name=c['descricao'],
                    target=targets[
                        'revenue' if c['conta_receita'] == 'S'
                        else 'expense'],
                    state='confirmed')
                for c in self.sandbox.dataset.categories
                if c['totalizadora'] != 'S' and c['transferencia'] != 'S'])

    def runs(self):
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            return [(r.trigger, r.state) for r in reversed(integration.runs)]

    def integration_state(self):
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            return integration.status, integration.queued_trigger

    def step_errors(self):
        with self.transaction(readonly=True):
            Error = Pool().get('integration.sync.error')
            return sorted((e.entity, e.kind) for e in Error.search([
                        ('integration', '=', self.integration_id),
                        ('detail', '=', STEP_ERROR),
                        ('resolved', '=', False),
                        ]))

    def cursor(self, entity):
        with self.transaction(readonly=True):
            pool = Pool()
            Cursor = pool.get('integration.cursor')
            Integration = pool.get('integration.integration')
            return Cursor.get(Integration(self.integration_id), entity)

    def live_run(self):
        "A run of the integration that this process runs now"
        with self.transaction() as transaction:
            Run = Pool().get('integration.sync.run')
            run = Run(
                integration=self.integration_id, trigger='manual',
                start=dt.datetime.now(), process=current_process())
            run.save()
            transaction.commit()
            return run.id

    def end_run(self, run_id):
        with self.transaction() as transaction:
            Run = Pool().get('integration.sync.run')
            run = Run(run_id)
            run.finish()
            transaction.commit()

    # one live run

    def test_sync_during_a_live_run_waits_for_it(self):
        "A scheduled sync asked for during a run runs when that run ends"
        original = OmieSync.run_step
        asked = []

        def run_step(sync, step, *args):
            if not asked:
                # the cron asks for a sync while this one runs
                asked.append(step.entity)
                pool = Pool()
                Integration = pool.get('integration.integration')
                integration = Integration(self.integration_id)
                Integration.run_sync([integration], 'scheduled')
                self.assertEqual(
                    Integration(integration.id).queued_trigger, 'scheduled')
            return original(sync, step, *args)
        with patch.object(OmieSync, 'run_step', run_step):
            state, summary, errors = self.sync()
        self.assertEqual(asked, ['category'])
        runs = self.runs()
        self.assertEqual([t for t, _ in runs], ['manual', 'scheduled'])
        self.assertNotIn('failed', [s for _, s in runs])
        self.assertEqual(self.integration_state(), ('active', None))

    def test_sync_beside_a_live_run_is_queued_not_failed(self):
        "A run of another process is live: the sync is queued after it"
        live = self.live_run()
        self.sync('scheduled')
        self.assertEqual(self.runs(), [('manual', 'running')])
        self.assertEqual(self.integration_state(), ('draft', 'scheduled'))

        # the live run ends (its process would run the queued sync; a
        # crash leaves it to the cron)
        self.end_run(live)
        with self.transaction() as transaction:
            pool = Pool()
            Integration = pool.get('integration.integration')
            Integration.write(
                [Integration(self.integration_id)], {'status': 'active'})
            with patch.object(Integration, 'enqueue_sync') as enqueue:
                Integration.dispatch_due()
            transaction.commit()
        queued = [(sorted(i.id for i in c.args[0]), c.args[1])
            for c in enqueue.call_args_list if c.args[0]]
        self.assertEqual(queued, [([self.integration_id], 'scheduled')])

    def test_status_is_the_last_finished_run(self):
        "A run that started earlier and ends later leaves the status alone"
        with self.transaction() as transaction:
            pool = Pool()
            Run = pool.get('integration.sync.run')
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            old = Run(integration=integration, trigger='scheduled',
                start=dt.datetime.now() - dt.timedelta(hours=1),
                process=current_process())
            new = Run(integration=integration, trigger='manual',
                start=dt.datetime.now(), process=current_process())
            Run.save([old, new])
            new.finish()
            old.fail(RuntimeError("late"))
            transaction.commit()
        self.assertEqual(self.integration_state()[0], 'active')

    def test_webhook_batch_waits_for_a_live_run(self):
        """Webhook events that meet a live run wait for it without using an
        attempt, and are queued as soon as the run ends"""
        party = min(self.sandbox.store.party_by_id)
        with self.transaction() as transaction:
            Event = Pool().get('integration.webhook.event')
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'status': 'active', 'receive_webhooks': True})
            event = Event(
                integration=self.integration_id, message_id='m-1',
                topic='ClienteFornecedor.Alterado',
                payload=json.dumps({
                        'messageId': 'm-1',
                        'topic': 'ClienteFornecedor.Alterado',
                        'appKey': Sandbox.DEFAULT_APP_KEY,
                        'event': {'codigo_cliente_omie': party}}),
                next_attempt=dt.datetime.now() - dt.timedelta(seconds=1))
            event.save()
            event_id = event.id
            transaction.commit()
        original = OmieSync.run_step
        during = []

        def run_step(sync, step, *args):
            if not during:
                # the webhook's task runs while the sync is live
                Event = Pool().get('integration.webhook.event')
                Event.process([Event(event_id)])
                event = Event(event_id)
                during.append((event.state, event.attempts,
                        event.next_attempt > dt.datetime.now(),
                        bool(event.result)))
            return original(sync, step, *args)
        with patch.object(OmieSync, 'run_step', run_step):
            self.sync()
        self.assertEqual(during, [('pending', 0, True, True)])
        with self.transaction(readonly=True):
            pool = Pool()
            Event = pool.get('integration.webhook.event')
            Queue = pool.get('ir.queue')
            event = Event(event_id)
            self.assertEqual(event.state, 'pending')
            self.assertLessEqual(event.next_attempt, dt.datetime.now())
            tasks = [t.id for t in Queue.search([('dequeued_at', '=', None)])
                if t.data.get('model') == 'integration.webhook.event']
        self.assertEqual(len(tasks), 1)
        run_task(DB_NAME, tasks[0])
        with self.transaction(readonly=True):
            Event = Pool().get('integration.webhook.event')
            event = Event(event_id)
            self.assertEqual(
                (event.state, event.attempts), ('done', 0), event.error)
            self.assertEqual(event.run.trigger, 'webhook')

    # a step's outage

    def test_outage_of_a_step_ends_that_step_only(self):
        "Omie fails on payables: the rest imports, payables come next run"
        self.sandbox.configure(fail_next=[
                {'call': 'ListarContasPagar', 'kind': 'html'}] * 5)
        state, summary, errors = self.sync()
        self.assertEqual(state, 'partial')
        self.assertEqual(summary.get('payable', {}).get('created', 0), 0)
        self.assertGreater(summary['receivable']['created'], 0)
        self.assertIn('settlement', summary)
        self.assertIn('nf', summary)
        self.assertEqual(self.step_errors(), [('payable', 'remote_error')])
        self.assertIsNone(self.cursor('payable'))
        self.assertIsNotNone(self.cursor('receivable'))
        # the run keeps its remote calls per method: the five refusals of
        # the payables (four retries, each after a wait) and the answer
        # times of the others
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            run = Integration(self.integration_id).runs[0]
            methods = {m.method: (m.calls, m.retries, m.waited, m.p50_ms,
                    m.p95_ms) for m in run.methods}
            self.assertEqual(
                sum(m[0] for m in methods.values()), run.remote_calls)
        calls, retries, waited, _, _ = methods['ListarContasPagar']
        self.assertEqual((calls, retries), (5, 4))
        self.assertGreater(waited, 0)
        calls, retries, waited, p50, p95 = methods['ListarClientes']
        self.assertGreaterEqual(calls, 1)
        self.assertEqual((retries, waited), (0, 0))
        self.assertIsNotNone(p50)
        self.assertLessEqual(p50, p95)

        state, summary, errors = self.sync()
        self.assertGreater(summary['payable']['created'], 0)
        self.assertEqual(self.step_errors(), [])
        self.assertIsNotNone(self.cursor('payable'))

    def test_statements_read_a_minute_ago_wait_for_the_next_run(self):
        "A run right after another reads no statement month Omie refuses"
        # Omie refuses the same read again within a minute
        self.sandbox.configure(redundant_window=60)
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            Integration.write([Integration(self.integration_id)], {
                    'filter_months_back': 1,
                    'filter_entities': ['bank_account', 'statement'],
                    })
            transaction.commit()
        def extrato():
            return sum(n for (_, call), n in self.sandbox.stats.items()
                if call == 'ListarExtrato')

        state, summary, errors = self.sync()
        self.assertNotEqual(state, 'failed')
        read = extrato()
        self.assertGreater(read, 0)
        cursor = self.cursor('statement')

        state, summary, errors = self.sync()
        self.assertNotEqual(state, 'failed')
        self.assertEqual(extrato(), read)
        self.assertEqual(self.sandbox.stats.faults['SOAP-ENV:Client-6'], 0)
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            self.assertEqual(
                Integration(self.integration_id).runs[0].remote_calls, 0)
        # the months left are read by the next run a minute later
        self.assertEqual(self.cursor('statement'), cursor)
        with self.transaction() as transaction:
            Cursor = Pool().get('integration.cursor')
            cursors = Cursor.search([
                    ('integration', '=', self.integration_id),
                    ('entity', '=', 'statement'),
                    ])
            Cursor.write(cursors, {
                    'updated': cursors[0].updated - dt.timedelta(minutes=1)})
            transaction.commit()
        self.sandbox.configure(redundant_window=0)
        state, summary, errors = self.sync()
        self.assertGreater(extrato(), read)

    def test_outage_of_parties_waits_the_titles(self):
        "Titles need their parties: they wait for the next run"
        self.sandbox.configure(fail_next=[
                {'call': 'ListarClientes', 'kind': 'html'}] * 5)
        state, summary, errors = self.sync()
        self.assertEqual(state, 'partial')
        self.assertNotIn('payable', summary)
        self.assertNotIn('receivable', summary)
        self.assertEqual(self.step_errors(), [
                ('party', 'remote_error'),
                ('payable', 'data_conflict'),
                ('receivable', 'data_conflict'),
                ])
        state, summary, errors = self.sync()
        self.assertGreater(summary['payable']['created'], 0)
        self.assertEqual(self.step_errors(), [])

    # the end of a run reaches its user

    def test_end_of_a_manual_run_notifies_its_user(self):
        with self.transaction() as transaction:
            pool = Pool()
            Integration = pool.get('integration.integration')
            with transaction.set_user(1):
                Integration.run_sync(
                    [Integration(self.integration_id)], 'manual')
        with self.transaction(readonly=True):
            pool = Pool()
            Notification = pool.get('res.notification')
            Integration = pool.get('integration.integration')
            run = Integration(self.integration_id).runs[0]
            notification, = Notification.search([
                    ('model', '=', 'integration.sync.run'),
                    ('user', '=', 1),
                    ])
            self.assertEqual(json.loads(notification.records), [run.id])
            self.assertIn(run.integration.rec_name, notification.label)
            self.assertRegex(notification.description, r' s\.$')
            self.assertEqual(run.user.id, 1)
