# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Re-categorisation: a new target of a confirmed mapping moves the history"
from decimal import Decimal
from unittest import mock

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, with_transaction
from trytond.transaction import Transaction

from .test_mapping import company_chart, create_chart, create_mappings
from .test_mapping import create_integration
from .tools import (
    DBTestCase, create_integration_user, get_brl, patch_entities)


_entities = patch_entities()


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def change_tasks():
    "The queued tasks of re-categorisation (the tests commit some)"
    Queue = Pool().get('ir.queue')
    return [t for t in Queue.search([
                ('data.model', '=', 'integration.mapping.change'),
                ], order=[('id', 'ASC')])
        if t.data['method'] == 'process']


def confirm(mapping, target):
    Mapping = Pool().get('integration.mapping')
    mapping.target = target
    mapping.save()
    Mapping.confirm([mapping])


class MappingChangeTestCase(DBTestCase):
    "Test the re-categorisation of the history of mappings"
    modules = ['novagestao_integrations_base']

    @with_transaction()
    def test_new_target_queues_recategorisation(self):
        "Only a new target of a confirmed mapping records and queues a change"
        pool = Pool()
        Change = pool.get('integration.mapping.change')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            staff, light = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('2.02', "Energia Elétrica", 'expense'),
                    ])
            tasks = change_tasks()
            # a first target and its confirmation move nothing
            confirm(staff, accounts["Folha de Pagamento"])
            light.target = accounts["Energia Elétrica"]
            light.save()
            light.target = accounts["Aluguel de Imóveis"]
            light.save()
            # nor does writing the same target again
            Mapping.write([staff], {'target': str(staff.target)})
            changes = [('integration', '=', integration.id)]
            self.assertEqual(Change.search(changes), [])
            self.assertEqual(change_tasks(), tasks)

            Mapping.write([staff], {
                    'target': str(accounts["Salários e Ordenados"])})
            change, = Change.search(changes)
            self.assertEqual(change.mapping, staff)
            self.assertEqual(change.integration, integration)
            self.assertEqual(
                change.old_target, accounts["Folha de Pagamento"])
            self.assertEqual(
                change.new_target, accounts["Salários e Ordenados"])
            self.assertEqual(change.state, 'waiting')
            self.assertEqual(change.user.id, Transaction().user)
            self.assertTrue(change.date)
            self.assertEqual(staff.changes, (change,))
            task, = change_tasks()[len(tasks):]
            self.assertEqual(task.name, 'integration')
            self.assertEqual(list(task.data['instances']), [change.id])

    @with_transaction()
    def test_button_reruns(self):
        "The button queues a re-categorisation of confirmed mappings only"
        pool = Pool()
        Change = pool.get('integration.mapping.change')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            staff, light = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('2.02', "Energia Elétrica", 'expense'),
                    ])
            confirm(staff, accounts["Folha de Pagamento"])
            tasks = change_tasks()
            Mapping.recategorise([])
            Mapping.recategorise([staff, light])
            change, = Change.search([('integration', '=', integration.id)])
            self.assertEqual(change.mapping, staff)
            self.assertIsNone(change.old_target)
            self.assertEqual(change.new_target, accounts["Folha de Pagamento"])
            self.assertEqual(len(change_tasks()), len(tasks) + 1)

    @with_transaction()
    def test_process_reports_the_connector_changes(self):
        "The task stores the connector's changes as lines of the report"
        pool = Pool()
        Change = pool.get('integration.mapping.change')
        Integration = pool.get('integration.integration')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            staff, light = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('2.02', "Energia Elétrica", 'expense'),
                    ])
            confirm(staff, accounts["Folha de Pagamento"])
            confirm(light, accounts["Energia Elétrica"])
            Mapping.write([staff], {
                    'target': str(accounts["Salários e Ordenados"])})
            Mapping.write([light], {
                    'target': str(accounts["Aluguel de Imóveis"])})
            changes = Change.search([
                    ('integration', '=', integration.id),
                    ], order=[('id', 'ASC')])
            self.assertEqual(len(changes), 2)
            calls = []

            def recategorise(self, mappings):
                calls.append((self, sorted(m.id for m in mappings)))
                old = accounts["Folha de Pagamento"]
                return [{
                        'mapping': staff, 'old_target': old,
                        'new_target': staff.target, 'method': method,
                        'amount': Decimal(amount),
                        } for method, amount in [
                        ('updated', '10.00'), ('replaced', '20.00'),
                        ('replaced', '30.00')]]
            with mock.patch.object(
                    Integration, 'connector_recategorise', recategorise):
                Change.process(changes)
                # a change is processed once
                Change.process(changes)
            self.assertEqual(
                calls, [(integration, sorted([staff.id, light.id]))])
            staff_change, light_change = Change.browse(changes)
            self.assertEqual(staff_change.state, 'done')
            self.assertEqual(light_change.state, 'done')
            self.assertEqual(
                (staff_change.updated_count, staff_change.replaced_count),
                (1, 2))
            self.assertEqual(
                sorted(l.amount for l in staff_change.lines),
                [Decimal('10.00'), Decimal('20.00'), Decimal('30.00')])
            for line in staff_change.lines:
                self.assertEqual(
                    line.old_target, accounts["Folha de Pagamento"])
                self.assertEqual(
                    line.new_target, accounts["Salários e Ordenados"])
            self.assertEqual(light_change.lines, ())
            self.assertEqual(
                (light_change.updated_count, light_change.replaced_count),
                (0, 0))
            self.assertEqual(
                Change.search([('integration', '=', integration.id)]),
                sorted(changes, key=lambda c: -c.id))

    def test_failure_keeps_the_records(self):
        "A connector failure undoes its work and marks the change failed"
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Mapping = pool.get('integration.mapping')
            company = create_company(currency=get_brl())
            with set_company(company):
                accounts, _ = create_chart(company)
                integration = create_integration(company)
                staff, = create_mappings(integration, [
                        ('2.01', "Despesas com Pessoal", 'expense'),
                        ])
                confirm(staff, accounts["Folha de Pagamento"])
                Mapping.write([staff], {
                        'target': str(accounts["Salários e Ordenados"])})
                staff_id, account_id = staff.id, accounts["Bancos"].id
            transaction.commit()

        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            Account = pool.get('account.account')
            Change = pool.get('integration.mapping.change')
            Integration = pool.get('integration.integration')

            def recategorise(self, mappings):
                Account.write([Account(account_id)], {'name': "Changed"})
                raise UserError("Period closed")
            with mock.patch.object(
                    Integration, 'connector_recategorise', recategorise):
                Change.process(Change.search([('mapping', '=', staff_id)]))
            transaction.commit()

        with Transaction().start(DB_NAME, 0, readonly=True):
            pool = Pool()
            Account = pool.get('account.account')
            Change = pool.get('integration.mapping.change')
            change, = Change.search([('mapping', '=', staff_id)])
            self.assertEqual(change.state, 'failed')
            self.assertEqual(change.message, "Period closed")
            self.assertEqual(Account(account_id).name, "Bancos")

    def test_access(self):
        """An administrator's new target records the change; users read the
        changes of their companies and write none"""
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company(currency=get_brl())
            other = create_company(name="Other", currency=get_brl())
            with set_company(company):
                accounts, _ = create_chart(company)
                integration = create_integration(company)
                staff, = create_mappings(integration, [
                        ('2.01', "Despesas com Pessoal", 'expense'),
                        ])
                confirm(staff, accounts["Folha de Pagamento"])
            with set_company(other):
                other_accounts, _ = create_chart(other)
                other_integration = create_integration(other, name="Other")
                other_staff, = create_mappings(other_integration, [
                        ('2.01', "Despesas com Pessoal", 'expense'),
                        ])
                confirm(other_staff, other_accounts["Folha de Pagamento"])
                Pool().get('integration.mapping').recategorise([other_staff])
            admin = create_integration_user(
                company, 'recat_admin', group='group_integration_admin')
            user = create_integration_user(company, 'recat_user')
            staff_id, account_id = (
                staff.id, accounts["Salários e Ordenados"].id)
            transaction.commit()

        with Transaction().start(DB_NAME, admin.id) as transaction:
            pool = Pool()
            Change = pool.get('integration.mapping.change')
            Mapping = pool.get('integration.mapping')
            with transaction.set_context(_check_access=True):
                Mapping.write([Mapping(staff_id)], {
                        'target': 'account.account,%s' % account_id})
                change, = Change.search([])
                self.assertEqual(change.mapping.id, staff_id)
            transaction.commit()

        with Transaction().start(DB_NAME, user.id) as transaction:
            pool = Pool()
            Change = pool.get('integration.mapping.change')
            Mapping = pool.get('integration.mapping')
            with transaction.set_context(_check_access=True):
                change, = Change.search([])
                self.assertEqual(change.mapping.id, staff_id)
                with self.assertRaises(AccessError):
                    Change.write([change], {'state': 'done'})
                with self.assertRaises(AccessButtonError):
                    Mapping.recategorise([change.mapping])


del DBTestCase
