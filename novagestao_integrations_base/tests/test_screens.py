# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"What the screens show: frozen run history, durations, the wizards' answers"
import datetime as dt
import unittest

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, with_transaction)
from trytond.transaction import Transaction

from ..sync import format_duration
from .test_mapping import (
    company_chart, create_integration, create_mappings, record_pending)
from .tools import get_brl, patch_entities

_entities = patch_entities()


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def run_wizard(name, records):
    "Run the wizard name on records from its start; return its message"
    pool = Pool()
    Wizard = pool.get(name, type='wizard')
    session_id, _, _ = Wizard.create()
    with Transaction().set_context(
            active_model=records[0].__name__,
            active_id=records[0].id,
            active_ids=[r.id for r in records]):
        result = Wizard.execute(session_id, {}, 'start')
    Wizard.delete(session_id)
    view = result['view']
    assert view['state'] == 'answer', view['state']
    return view['defaults']['message']


class DurationTestCase(unittest.TestCase):
    "Durations read as people read them"

    def test_format_duration(self):
        for seconds, text in [
                (3.456789, "3 s"),
                (0, "0 s"),
                (101.999, "1 min 41 s"),
                (7500, "2 h 05 min"),
                (3600, "1 h 00 min"),
                ]:
            with self.subTest(seconds=seconds):
                self.assertEqual(
                    format_duration(dt.timedelta(seconds=seconds)), text)
        self.assertEqual(format_duration(None), '')


class ScreensTestCase(TestCase):
    "Test what the screens of the integrations base show"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('novagestao_integrations_base')

    def start_run(self, integration, start):
        Run = Pool().get('integration.sync.run')
        run = Run(integration=integration, trigger='manual', start=start)
        run.save()
        return run

    @with_transaction()
    def test_run_history_stays_as_the_run_reported_it(self):
        "A later run neither takes a run's errors nor changes its counts"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Run = pool.get('integration.sync.run')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            first = self.start_run(integration, dt.datetime(2026, 1, 1))
            first.add_counts('party', created=3, failed=1)
            first.add_counts('payable', created=2, skipped=4)
            for external_id in ['1', '2', '3']:
                Error.record(
                    first, 'payable', external_id, 'data_conflict',
                    "Title %s waits" % external_id)
            # the same record failing twice in a run is one error of it
            Error.record(first, 'payable', '3', 'data_conflict', "Again")
            first.finish()

            second = self.start_run(integration, dt.datetime(2026, 1, 2))
            Error.resolve(integration, 'payable', ['1', '2'])
            Error.record(second, 'payable', '3', 'validation', "Still bad")
            second.add_counts('payable', updated=1)
            second.finish()

            first, second = Run.browse([first.id, second.id])
            self.assertEqual(
                (first.created, first.updated, first.skipped, first.failed),
                (5, 0, 4, 1))
            self.assertEqual(first.error_count, 3)
            self.assertEqual(
                sorted((i.external_id, i.kind, i.message)
                    for i in first.issues), [
                    ('1', 'data_conflict', "Title 1 waits"),
                    ('2', 'data_conflict', "Title 2 waits"),
                    ('3', 'data_conflict', "Again"),
                    ])
            self.assertEqual(first.state, 'partial')
            self.assertEqual((second.updated, second.error_count), (1, 1))
            issue, = second.issues
            self.assertEqual((issue.external_id, issue.kind),
                ('3', 'validation'))
            # the pending list is what is still pending, seen last in second
            pending, = Error.search([
                    ('integration', '=', integration.id),
                    ('resolved', '=', False),
                    ])
            self.assertEqual((pending.external_id, pending.run),
                ('3', second))
            self.assertEqual(issue.error, pending)

    @with_transaction()
    def test_run_duration_text(self):
        pool = Pool()
        Run = pool.get('integration.sync.run')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            run = self.start_run(
                integration, dt.datetime(2026, 1, 1, 10, 0, 0, 123456))
            run.end = dt.datetime(2026, 1, 1, 10, 1, 41, 999999)
            run.save()
            self.assertEqual(Run(run.id).duration_text, "1 min 41 s")

    @with_transaction()
    def test_entities_are_selections_with_labels(self):
        "Errors, counters and bindings show the connector's entity labels"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            run = self.start_run(integration, dt.datetime(2026, 1, 1))
            error = Error.record(
                run, 'payable', '7', 'category_not_mapped', "Not mapped")
            run.add_counts('party', created=1)
            # the labels of the connectors, whichever are installed
            labels = dict(
                Pool().get('integration.integration').get_entity_selection())
            self.assertEqual(error.entity_string, labels['payable'])
            self.assertEqual(run.counters[0].entity_string, labels['party'])
            self.assertEqual(run.counters[0].entity_name, labels['party'])
            self.assertNotEqual(labels['party'], 'party')
            self.assertEqual(error.kind_string, "Category not mapped")

    @with_transaction()
    def test_suggest_wizard_counts_the_suggestions(self):
        with company_chart() as (integration, accounts, types):
            create_mappings(integration, [
                    ('2.01', "Energia Elétrica", 'expense'),
                    ('2.02', "Folha de Pagamento", 'expense'),
                    ('2.03', "Xyzzy Quux", 'expense'),
                    ])
            message = run_wizard(
                'integration.suggest_mappings', [integration])
            Mapping = Pool().get('integration.mapping')
            suggested = Mapping.search([
                    ('integration', '=', integration.id),
                    ('state', '=', 'suggested'),
                    ])
            above = [m for m in suggested if m.score >= 85]
            without = 3 - len(suggested)
            self.assertTrue(suggested)
            self.assertEqual(message,
                "%s suggestions, %s at 85%% or more. %s categories without "
                "a suggestion wait to be mapped by hand." % (
                    len(suggested), len(above), without))
            # the list shows the target by its name, not "Account,…"
            self.assertEqual(
                suggested[0].target_name, suggested[0].target.rec_name)

    @with_transaction()
    def test_retry_wizard_says_what_is_still_pending(self):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        with company_chart() as (integration, accounts, types):
            errors = record_pending(integration, '2.01', count=2)
            resolved = record_pending(integration, '2.02', resolved=True)
            message = run_wizard(
                'integration.sync.error.retry', errors + resolved)
            lines = message.splitlines()
            self.assertEqual(lines[0], "0 resolved, 2 still pending.")
            self.assertEqual(lines[1], "Category not mapped: 2")
            self.assertEqual(
                lines[2:4], ['- %s' % e.rec_name for e in errors])
            self.assertIn("next run", lines[-1])
            self.assertFalse(any(e.resolved for e in Error.browse(errors)))

            message = run_wizard('integration.sync.error.retry', resolved)
            self.assertEqual(message,
                "These errors are already resolved: nothing to retry.")

    @with_transaction()
    def test_retry_events_says_what_is_queued_and_left(self):
        "Retrying webhook events counts those queued and those left alone"
        pool = Pool()
        Event = pool.get('integration.webhook.event')
        with company_chart() as (integration, accounts, types):
            events = Event.create([{
                        'integration': integration.id, 'message_id': str(i),
                        'received_at': dt.datetime(2026, 1, 1),
                        'state': state, 'attempts': 1,
                        } for i, state in enumerate(['failed', 'done'])])
            self.assertEqual(
                run_wizard('integration.webhook.event.retry', events),
                "1 event queued to be processed again. 1 event already "
                "processed is left as it is.")
            self.assertEqual(
                [e.state for e in Event.browse(events)], ['pending', 'done'])
            more = Event.create([{
                        'integration': integration.id,
                        'message_id': str(i + 2),
                        'received_at': dt.datetime(2026, 1, 1),
                        'state': 'failed', 'attempts': 1,
                        } for i in range(2)])
            self.assertEqual(
                run_wizard('integration.webhook.event.retry', more),
                "2 events queued to be processed again.")

    @with_transaction()
    def test_test_connection_wizard_raises_the_connector_error(self):
        "A failed test ends the wizard with the connector's clear error"
        from trytond.exceptions import UserError
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_integration(company)
            with self.assertRaises(UserError):
                run_wizard('integration.test_connection', [integration])
