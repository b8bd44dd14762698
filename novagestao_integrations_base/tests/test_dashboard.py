# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Monitoring: the alerts of the integrations list, the remote methods of a
run and the dashboard's figures per day"""
import datetime as dt
from zoneinfo import ZoneInfo

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..integration import utcnow
from .test_module import create_integration
from .tools import DBTestCase, get_brl, patch_entities

_entities = patch_entities()


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def local_day(value):
    "The day of a naive UTC date-time in São Paulo, as the reports count"
    return value.replace(tzinfo=dt.timezone.utc).astimezone(
        ZoneInfo('America/Sao_Paulo')).date()


class DashboardTestCase(DBTestCase):
    "Test the alerts, the run metrics and the dashboard's SQL views"
    modules = ['novagestao_integrations_base']

    def integrations(self, count=2):
        company = create_company(currency=get_brl())
        with set_company(company):
            return company, [
                create_integration(
                    company, name="Integration %d" % i, status='active')
                for i in range(count)]

    @with_transaction(context={'language': 'en'})
    def test_alerts(self):
        "The alerts show the open incidents, the most serious first"
        pool = Pool()
        Incident = pool.get('integration.incident')
        Integration = pool.get('integration.integration')
        _, (first, second) = self.integrations()
        now = utcnow()
        incidents = Incident.create([{
                    'integration': first.id, 'cause': cause, 'state': state,
                    'opened_at': now, 'last_seen': now, 'message': cause,
                    } for cause, state in [
                    ('conflicts_waiting', 'open'),
                    ('credentials', 'open'),
                    ('run_failed', 'closed'),
                    ]])

        def alerts():
            return [(i.alert_count, i.alerts, i.alert_level)
                for i in Integration.browse([first.id, second.id])]
        self.assertEqual(alerts(), [
                (2, "Credentials refused (+1)", 'danger'),
                (0, None, None),
                ])
        Incident.write([incidents[1]], {'state': 'closed'})
        self.assertEqual(alerts(), [
                (1, "Conflicts waiting", 'warning'),
                (0, None, None),
                ])
        Incident.write([incidents[0]], {'state': 'closed'})
        self.assertEqual(alerts()[0], (0, None, None))

    @with_transaction()
    def test_method_metrics_merge(self):
        "A method called in two parts of a run adds up on one line"
        pool = Pool()
        Run = pool.get('integration.sync.run')
        _, (integration, _) = self.integrations()
        run = Run(integration=integration, trigger='manual', start=utcnow())
        run.save()
        run.add_method_metrics({
                'ListarClientes': {'requests': 3, 'retries': 1,
                    'waited': 2.5, 'p50_ms': 100, 'p95_ms': 400},
                'ListarEmpresas': {'requests': 0, 'retries': 0,
                    'waited': 0, 'p50_ms': None, 'p95_ms': None},
                })
        run.add_method_metrics({
                'ListarClientes': {'requests': 1, 'retries': 0,
                    'waited': 0, 'p50_ms': 300, 'p95_ms': 300},
                })
        # stored when the run ends, failed or not
        self.assertEqual(Run(run.id).methods, ())
        run.store_method_metrics()
        method, = Run(run.id).methods
        self.assertEqual(
            (method.method, method.calls, method.retries, method.waited,
                method.p50_ms, method.p95_ms),
            ('ListarClientes', 4, 1, 2.5, 150, 400))

    @with_transaction()
    def test_reports_count_per_day(self):
        "The SQL views count the runs, records, methods and webhook events"
        pool = Pool()
        Counter = pool.get('integration.sync.run.counter')
        Event = pool.get('integration.webhook.event')
        Method = pool.get('integration.sync.run.method')
        Run = pool.get('integration.sync.run')
        RunReport = pool.get('integration.report.run')
        EntityReport = pool.get('integration.report.entity')
        MethodReport = pool.get('integration.report.method')
        WebhookReport = pool.get('integration.report.webhook')
        company, (integration, other) = self.integrations()
        # noon in São Paulo two days and one day ago, and 40 days ago
        today = local_day(utcnow())
        noon = dt.datetime.combine(today, dt.time(15))
        day1, day2, old = (noon - dt.timedelta(days=d) for d in [2, 1, 40])

        def run(integration, start, state, counters=(), methods=()):
            run = Run(integration=integration, trigger='scheduled',
                start=start, end=start + dt.timedelta(minutes=1),
                state=state)
            run.save()
            Counter.create([{'run': run.id, 'entity': entity, **values}
                    for entity, values in counters])
            Method.create([{'run': run.id, 'method': name, 'calls': calls,
                        'retries': retries, 'waited': waited,
                        'p50_ms': p50, 'p95_ms': p95}
                    for name, calls, retries, waited, p50, p95 in methods])
            run.store_totals()
            run.save()
            return run
        run(integration, day1, 'done',
            [('party', {'created': 3}), ('payable', {'updated': 2})],
            [('ListarClientes', 4, 1, 2.0, 100, 300)])
        run(integration, day1 + dt.timedelta(hours=1), 'failed',
            methods=[('ListarClientes', 2, 2, 10.0, 200, 900)])
        run(integration, day1 + dt.timedelta(hours=2), 'partial',
            [('payable', {'failed': 1, 'exported': 4})])
        run(integration, day2, 'done', [('party', {'created': 1})],
            [('ConsultarCliente', 1, 0, 0, 50, 50)])
        # out of the days shown, or of another integration
        run(integration, old, 'failed', [('party', {'created': 9})],
            [('ListarClientes', 9, 0, 0, 999, 999)])
        run(other, day1, 'failed', [('party', {'created': 5})],
            [('ListarClientes', 5, 0, 0, 10, 10)])
        Event.create([{
                    'integration': integration.id, 'message_id': str(i),
                    'received_at': day1, 'state': state, 'ack_ms': ack,
                    } for i, (state, ack) in enumerate([
                        ('done', 10), ('done', 30), ('rejected', None),
                        ('pending', 20)])])

        with Transaction().set_context(dashboard_integration=integration.id):
            self.assertEqual([(r.date, r.runs, r.done, r.partial, r.failed,
                        r.error_rate, r.records, r.calls, r.retries,
                        r.waited, r.p50_ms, r.p95_ms)
                    for r in RunReport.search([])], [
                    (local_day(day1), 3, 1, 1, 1, 33.3, 10, 6, 3, 12.0,
                        133, 900),
                    (local_day(day2), 1, 1, 0, 0, 0.0, 1, 1, 0, 0.0, 50, 50),
                    ])
            self.assertEqual([(r.date, r.entity, r.records, r.created,
                        r.updated, r.exported, r.failed)
                    for r in EntityReport.search([])], [
                    (local_day(day1), 'party', 3, 3, 0, 0, 0),
                    (local_day(day1), 'payable', 7, 0, 2, 4, 1),
                    (local_day(day2), 'party', 1, 1, 0, 0, 0),
                    ])
            self.assertEqual([(r.method, r.runs, r.calls, r.retries,
                        r.p50_ms, r.p95_ms)
                    for r in MethodReport.search([])], [
                    ('ListarClientes', 2, 6, 3, 133, 900),
                    ('ConsultarCliente', 1, 1, 0, 50, 50),
                    ])
            self.assertEqual([(r.date, r.received, r.done, r.rejected,
                        r.waiting, r.failed, r.ack_ms, r.ack_max_ms)
                    for r in WebhookReport.search([])], [
                    (local_day(day1), 4, 2, 1, 1, 0, 20, 30),
                    ])
            # a day searched for, as the graphs' domain may ask
            self.assertEqual(len(RunReport.search(
                        [('date', '=', local_day(day2))])), 1)
        # all the integrations of the company
        with Transaction().set_context(companies=[company.id]):
            day, _ = RunReport.search([])
            self.assertEqual((day.runs, day.failed), (4, 2))
            self.assertEqual(
                sum(r.calls for r in MethodReport.search([])), 12)
