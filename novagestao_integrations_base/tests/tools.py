# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Server-side helpers to set up a Brazilian company for tests and the demo"
import datetime as dt
from decimal import Decimal
from unittest.mock import patch

from trytond import backend
from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, TestCase, activate_module, drop_db)
from trytond.transaction import Transaction, TransactionError

from .. import integration

# The entity kinds the tests of the base module use: it has no connector
TEST_ENTITIES = [('party', "Parties"), ('payable', "Payables")]


def patch_entities():
    """Return a patch giving the integrations the test entity kinds, for the
    modules' setUpModule and tearDownModule"""
    return patch.object(
        integration.Integration, 'get_entity_selection',
        classmethod(lambda cls: list(TEST_ENTITIES)))


def run_committed(database, func, user=0, context=None):
    """Run func in a transaction that is committed, restarting it as the
    server does when it needs locks it did not take up front"""
    extras = {}
    while True:
        with Transaction().start(
                database, user, context=context, **extras) as transaction:
            try:
                result = func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            transaction.commit()
            return result


class DBTestCase(TestCase):
    """A test case on a database with the modules activated, for tests that
    commit their transactions as the server does"""
    modules = []

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_test_db()
        activate_module(cls.modules)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_test_db()


def drop_test_db():
    """Drop the test database; on PostgreSQL, a session that a pool's thread
    opened late (under freezegun, its timeouts misread the clock) is ended
    first, as it would keep the database from being dropped"""
    try:
        drop_db()
    except backend.DatabaseOperationalError:
        if backend.name != 'postgresql':
            raise
        with Transaction().start(
                None, 0, close=True, autocommit=True) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                'WHERE datname = %s AND pid <> pg_backend_pid()', (DB_NAME,))
        drop_db()


def get_brl():
    pool = Pool()
    Currency = pool.get('currency.currency')
    currencies = Currency.search([('code', '=', 'BRL')], limit=1)
    if currencies:
        return currencies[0]
    currency = Currency(
        name="Real", symbol="R$", code='BRL', numeric_code='986',
        rounding=Decimal('0.01'), digits=2)
    currency.save()
    return currency


def create_brazilian_company(name="NovaGestão Demo Ltda", chart=True,
        today=None):
    """Create a company in BRL and São Paulo time, with a chart of accounts
    and fiscal years with invoice sequences around today"""
    pool = Pool()
    Date = pool.get('ir.date')
    company = create_company(name=name, currency=get_brl())
    company.timezone = 'America/Sao_Paulo'
    company.save()
    with set_company(company):
        if chart:
            create_chart(company)
        today = today or Date.today()
        for year in range(today.year - 1, today.year + 2):
            create_fiscalyear(company, dt.date(year, 1, 1))
    return company


def create_fiscalyear(company, start):
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    try:
        from trytond.modules.account_invoice.tests import (
            set_invoice_sequences)
    except ImportError:
        set_invoice_sequences = None
    fiscalyear = get_fiscalyear(company, today=start)
    if set_invoice_sequences:
        set_invoice_sequences(fiscalyear)
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])
    return fiscalyear


def create_integration_user(company, login, group='group_integration'):
    "Create a user of the company in one of the integrations groups"
    pool = Pool()
    Group = pool.get('res.group')
    ModelData = pool.get('ir.model.data')
    User = pool.get('res.user')
    user = User(
        login='%s_%s' % (login, company.id), name=login,
        companies=[company], company=company,
        groups=[Group(ModelData.get_id('novagestao_integrations_base', group))])
    user.save()
    return user


def company_context(company):
    return Transaction().set_context(
        company=company.id, companies=[company.id])
