# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Category mappings in Tryton: suggest, accept, reject, create, release"
import datetime as dt
from contextlib import contextmanager

from trytond.exceptions import UserError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from .tools import DBTestCase, get_brl, patch_entities

TEST_CONNECTOR = ('test', "Test")


_entities = patch_entities()


def setUpModule():
    _entities.start()


def tearDownModule():
    _entities.stop()


def create_integration(company, **values):
    Integration = Pool().get('integration.integration')
    if TEST_CONNECTOR not in Integration.connector.selection:
        Integration.connector.selection.append(TEST_CONNECTOR)
    values.setdefault('name', "Test")
    integration = Integration(company=company, connector='test', **values)
    integration.save()
    return integration


def create_chart(company):
    """Create a small Brazilian chart; return {name: account} and
    {name: type}"""
    pool = Pool()
    Account = pool.get('account.account')
    Type = pool.get('account.account.type')
    types = {t.name: t for t in Type.create([{
                    'name': "Receitas", 'company': company.id,
                    'statement': 'income', 'revenue': True,
                    }, {
                    'name': "Despesas", 'company': company.id,
                    'statement': 'income', 'expense': True,
                    }, {
                    'name': "Ativo", 'company': company.id,
                    'statement': 'balance', 'assets': True,
                    }])}
    root, = Account.create([{'name': "Plano de Contas", 'company': company}])
    expenses, = Account.create([{
                'name': "Despesas Operacionais", 'company': company,
                'parent': root.id,
                }])
    values = [
        ("Folha de Pagamento", "Despesas", False),
        ("Energia Elétrica", "Despesas", False),
        ("Aluguel de Imóveis", "Despesas", False),
        ("Tarifas Bancárias", "Despesas", False),
        ("Salários e Ordenados", "Despesas", True),
        ("Vendas de Mercadorias", "Receitas", False),
        ("Receita de Serviços", "Receitas", False),
        # a revenue account with the name of an expense category
        ("Despesas com Pessoal", "Receitas", False),
        ("Bancos", "Ativo", False),
        ]
    accounts = Account.create([{
                'name': name, 'company': company.id,
                'parent': expenses.id, 'type': types[type_].id,
                'closed': closed,
                } for name, type_, closed in values])
    accounts = {a.name: a for a in accounts}
    accounts[expenses.name] = expenses
    return accounts, types


@contextmanager
def company_chart():
    "Yield an integration of a new company with a chart, accounts and types"
    company = create_company(currency=get_brl())
    with set_company(company):
        accounts, types = create_chart(company)
        yield create_integration(company), accounts, types


def create_mappings(integration, rows):
    Mapping = Pool().get('integration.mapping')
    return Mapping.create([{
                'integration': integration.id, 'external_code': code,
                'external_name': name, 'external_type': type_,
                } for code, name, type_ in rows])


def record_pending(integration, code, count=1, resolved=False):
    "Record count titles that wait for the category code"
    pool = Pool()
    Error = pool.get('integration.sync.error')
    Run = pool.get('integration.sync.run')
    run = Run(integration=integration, trigger='manual',
        start=dt.datetime(2026, 1, 1))
    run.save()
    errors = [
        Error.record(
            run, 'payable', '%s-%s' % (code, i), 'category_not_mapped',
            "Category %s is not mapped" % code, detail=code)
        for i in range(count)]
    if resolved:
        Error.write(errors, {'resolved': True})
    return errors


def retry_tasks():
    Queue = Pool().get('ir.queue')
    return [t for t in Queue.search([
                ('data.model', '=', 'integration.integration'),
                ])
        if t.data['method'] == 'run_sync'
        and list(t.data['args']) == ['retry']]


class MappingTestCase(DBTestCase):
    "Test the category mappings of the integrations"
    modules = ['novagestao_integrations_base']


    @with_transaction()
    def test_suggest_fills_compatible_accounts(self):
        "Suggest fills unmapped mappings with accounts of their type only"
        pool = Pool()
        Integration = pool.get('integration.integration')
        with company_chart() as (integration, accounts, _):
            staff, sales, light, unknown, done = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('1.01', "Receita de Vendas", 'revenue'),
                    ('2.02', "Conta de Luz", 'expense'),
                    ('2.99', "Xyzzy Plugh", 'expense'),
                    ('2.03', "Aluguel", 'expense'),
                    ])
            done.target = accounts["Energia Elétrica"]
            done.state = 'confirmed'
            done.save()

            Integration.suggest_mappings([integration])

            self.assertEqual(staff.state, 'suggested')
            self.assertEqual(staff.target, accounts["Folha de Pagamento"])
            self.assertEqual(sales.target, accounts["Vendas de Mercadorias"])
            self.assertEqual(light.target, accounts["Energia Elétrica"])
            for mapping in [staff, sales, light]:
                self.assertTrue(0 < mapping.score <= 100, mapping.score)
                self.assertTrue(mapping.reason)
            self.assertIn('synonym', staff.reason)
            # no account is close enough
            self.assertEqual(unknown.state, 'unmapped')
            self.assertIsNone(unknown.target)
            # a confirmed mapping is never touched
            self.assertEqual(done.state, 'confirmed')
            self.assertEqual(done.target, accounts["Energia Elétrica"])

    @with_transaction()
    def test_suggest_never_crosses_types(self):
        """A revenue category never gets an expense account nor the other
        way round; closed and view accounts are never suggested"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mappings = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('1.01', "Folha de Pagamento", 'revenue'),
                    ('2.02', "Salários e Ordenados", 'expense'),
                    ('2.03', "Despesas Operacionais", 'expense'),
                    ('1.02', "Energia", 'revenue'),
                    ])
            Mapping.suggest(mappings)
            for mapping in mappings:
                if not mapping.target:
                    continue
                type_ = mapping.target.type
                self.assertIsNotNone(type_, mapping.rec_name)
                self.assertFalse(mapping.target.closed, mapping.rec_name)
                if mapping.external_type == 'revenue':
                    self.assertTrue(type_.revenue, mapping.rec_name)
                else:
                    self.assertTrue(type_.expense, mapping.rec_name)
            staff = mappings[0]
            self.assertNotEqual(staff.target, accounts["Despesas com Pessoal"])
            self.assertEqual(staff.target, accounts["Folha de Pagamento"])
            self.assertNotEqual(
                mappings[2].target, accounts["Salários e Ordenados"])
            self.assertNotEqual(
                mappings[3].target, accounts["Despesas Operacionais"])

    @with_transaction()
    def test_accept_above_threshold(self):
        "The wizard confirms the suggestions that score at least the threshold"
        pool = Pool()
        Integration = pool.get('integration.integration')
        Accept = pool.get('integration.mapping.accept', type='wizard')
        with company_chart() as (integration, accounts, _):
            exact, weak = create_mappings(integration, [
                    ('2.02', "Energia Elétrica", 'expense'),
                    ('2.05', "Tarifas", 'expense'),
                    ])
            Integration.suggest_mappings([integration])
            exact.score, weak.score = 100, 70
            exact.save()
            weak.save()

            with Transaction().set_context(
                    active_model='integration.integration',
                    active_id=integration.id, active_ids=[integration.id]):
                session_id, _, _ = Accept.create()
                Accept.execute(session_id, {
                        'start': {'threshold': 85},
                        }, 'accept')
                Accept.delete(session_id)
            self.assertEqual(exact.state, 'confirmed')
            self.assertEqual(exact.target, accounts["Energia Elétrica"])
            self.assertEqual(weak.state, 'suggested')

            with Transaction().set_context(
                    active_model='integration.mapping',
                    active_id=weak.id, active_ids=[weak.id]):
                session_id, _, _ = Accept.create()
                Accept.execute(session_id, {
                        'start': {'threshold': 60},
                        }, 'accept')
                Accept.delete(session_id)
            self.assertEqual(weak.state, 'confirmed')

    @with_transaction()
    def test_reject_is_not_suggested_again(self):
        "A rejected account is never proposed again for the category"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ])
            Mapping.suggest([mapping])
            rejected = mapping.target
            self.assertEqual(rejected, accounts["Folha de Pagamento"])

            Mapping.reject([mapping])
            self.assertEqual(mapping.state, 'rejected')
            self.assertIsNone(mapping.target)
            self.assertEqual(
                [r.target for r in mapping.rejections], [rejected])

            for _ in range(2):
                Mapping.suggest([mapping])
                self.assertNotEqual(mapping.target, rejected)
            if mapping.target:
                self.assertEqual(mapping.state, 'suggested')
                Mapping.reject([mapping])
                self.assertEqual(len(mapping.rejections), 2)

    @with_transaction()
    def test_picked_target_is_kept(self):
        "A target the user picks is no more a suggestion, nor replaced"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ])
            Mapping.suggest([mapping])
            mapping.target = accounts["Aluguel de Imóveis"]
            mapping.on_change_target()
            self.assertEqual(mapping.state, 'unmapped')
            self.assertIsNone(mapping.score)
            mapping.save()
            Mapping.suggest([mapping])
            self.assertEqual(mapping.target, accounts["Aluguel de Imóveis"])

    @with_transaction()
    def test_user_synonyms(self):
        "Synonyms the user adds extend the shipped table"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        Synonym = pool.get('integration.mapping.synonym')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.09', "Plataforma Xpto", 'expense'),
                    ])
            Mapping.suggest([mapping])
            self.assertNotEqual(mapping.target, accounts["Tarifas Bancárias"])
            Synonym.create([{
                        'name': "Xpto",
                        'terms': "Plataforma Xpto\nTarifas Bancárias\n",
                        }])
            Mapping.suggest([mapping])
            self.assertEqual(mapping.target, accounts["Tarifas Bancárias"])
            self.assertIn("Xpto", mapping.reason)

    @with_transaction()
    def test_suggest_reads_the_parent_name(self):
        """An account of a short name is read with its parent's: the
        "Manutenção" under "Despesas com Veículos" for a vehicle's"""
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, types):
            root = accounts["Despesas Operacionais"].parent
            vehicles, buildings = Account.create([{
                        'name': name, 'company': integration.company.id,
                        'parent': root.id,
                        } for name in [
                        "Despesas com Veículos", "Despesas com Imóveis"]])
            vehicle_upkeep, building_upkeep = Account.create([{
                        'name': "Manutenção",
                        'company': integration.company.id,
                        'parent': parent.id,
                        'type': types["Despesas"].id,
                        } for parent in [vehicles, buildings]])
            car, sede = create_mappings(integration, [
                    ('2.10', "Manutenção de Veículos", 'expense'),
                    ('2.11', "Manutenção Predial", 'expense'),
                    ])
            Mapping.suggest([car, sede])
            self.assertEqual(car.target, vehicle_upkeep)
            self.assertEqual(sede.target, building_upkeep)

    @with_transaction()
    def test_usage_hook(self):
        "The connector's usage history raises an account with its reason"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            mapping, = create_mappings(integration, [
                    ('2.09', "Serviços Diversos", 'expense'),
                    ])
            account = accounts["Aluguel de Imóveis"]
            original = Mapping._mapping_usage.__func__

            def usage(cls, integration, codes):
                return {'2.09': {account.id: 14}}
            try:
                Mapping._mapping_usage = classmethod(usage)
                Mapping.suggest([mapping])
            finally:
                Mapping._mapping_usage = classmethod(original)
            self.assertEqual(mapping.target, account)
            self.assertIn("14", mapping.reason)

    @with_transaction()
    def test_create_account(self):
        "An account named after the category is created and mapped"
        pool = Pool()
        CreateAccount = pool.get(
            'integration.mapping.create_account', type='wizard')
        with company_chart() as (integration, accounts, types):
            mapping, revenue = create_mappings(integration, [
                    ('2.07', "Seguros", 'expense'),
                    ('1.07', "Receita de Aluguéis", 'revenue'),
                    ])
            parent = accounts["Despesas Operacionais"]

            with Transaction().set_context(
                    active_model='integration.mapping',
                    active_id=mapping.id, active_ids=[mapping.id]):
                session_id, _, _ = CreateAccount.create()
                result = CreateAccount.execute(session_id, {}, 'start')
                defaults = result['view']['defaults']
                self.assertEqual(defaults['name'], "Seguros")
                CreateAccount.execute(session_id, {
                        'start': {
                            'mapping': mapping.id,
                            'company': integration.company.id,
                            'external_type': 'expense',
                            'name': "Seguros Empresariais",
                            'code': '5.1.3.17',
                            'parent': parent.id,
                            'type': types["Despesas"].id,
                            },
                        }, 'create_')
                CreateAccount.delete(session_id)
            self.assertEqual(mapping.state, 'confirmed')
            account = mapping.target
            self.assertEqual(account.name, "Seguros Empresariais")
            self.assertEqual(account.code, '5.1.3.17')
            self.assertEqual(account.parent, parent)
            self.assertEqual(account.type, types["Despesas"])
            self.assertEqual(account.company, integration.company)

            # a revenue category does not get an expense account
            with Transaction().set_context(
                    active_model='integration.mapping',
                    active_id=revenue.id, active_ids=[revenue.id]):
                session_id, _, _ = CreateAccount.create()
                with self.assertRaises(UserError):
                    CreateAccount.execute(session_id, {
                            'start': {
                                'mapping': revenue.id,
                                'company': integration.company.id,
                                'external_type': 'revenue',
                                'name': "Receita de Aluguéis",
                                'parent': parent.id,
                                'type': types["Despesas"].id,
                                },
                            }, 'create_')
            self.assertEqual(revenue.state, 'unmapped')

            # nor is a confirmed mapping remapped
            with Transaction().set_context(
                    active_model='integration.mapping',
                    active_id=mapping.id, active_ids=[mapping.id]):
                session_id, _, _ = CreateAccount.create()
                with self.assertRaises(UserError):
                    CreateAccount.execute(session_id, {}, 'start')

    @with_transaction()
    def test_pending_count(self):
        "Count and search the mappings that pending titles wait for"
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, _, _):
            other = create_integration(integration.company, name="Other")
            staff, light, rent = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('2.02', "Energia Elétrica", 'expense'),
                    ('2.03', "Aluguel", 'expense'),
                    ])
            other_staff, = create_mappings(other, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ])
            record_pending(integration, '2.01', count=3)
            record_pending(integration, '2.02', count=2, resolved=True)
            record_pending(other, '2.02', count=1)

            self.assertEqual(
                [m.pending_count for m in Mapping.browse(
                        [staff, light, rent, other_staff])],
                [3, 0, 0, 0])
            self.assertEqual(
                Mapping.search([('pending_count', '>', 0)]), [staff])
            self.assertEqual(
                Mapping.search([
                        ('integration', '=', integration.id),
                        ('pending_count', '=', 0),
                        ]), [light, rent])

    @with_transaction()
    def test_confirm_releases_pending_titles(self):
        "Confirming a mapping that titles wait for queues a retry run"
        pool = Pool()
        Integration = pool.get('integration.integration')
        Mapping = pool.get('integration.mapping')
        with company_chart() as (integration, accounts, _):
            staff, light = create_mappings(integration, [
                    ('2.01', "Despesas com Pessoal", 'expense'),
                    ('2.02', "Energia Elétrica", 'expense'),
                    ])
            record_pending(integration, '2.01', count=2)

            light.target = accounts["Energia Elétrica"]
            light.save()
            Mapping.confirm([light])
            self.assertEqual(retry_tasks(), [])

            staff.target = accounts["Folha de Pagamento"]
            staff.save()
            Mapping.confirm([staff])
            task, = retry_tasks()
            self.assertEqual(task.name, 'integration')
            self.assertEqual(list(task.data['instances']), [integration.id])

            # a disabled integration is not synchronised
            Integration.disable([integration])
            Mapping.write([staff], {'state': 'suggested'})
            Mapping.confirm([staff])
            self.assertEqual(len(retry_tasks()), 1)


del DBTestCase
