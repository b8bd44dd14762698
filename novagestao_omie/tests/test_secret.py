# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Secrets are write-only through the API, for administrators too: no read,
export, search, order or dotted path returns or tests them."""
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from novagestao_integrations_base.integration import utcnow
from novagestao_integrations_base.secret import SECRET_PLACEHOLDER
from novagestao_integrations_base.tests.tools import (
    DBTestCase, create_integration_user, get_brl)

from .test_module import SECRET, create_omie_integration
from .tools import start_sandbox

SECRETS = ['omie_app_secret', 'webhook_token']


class OmieSecretFieldsTestCase(DBTestCase):
    "Test that no API path returns or tests a secret"
    modules = ['novagestao_omie']

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox, cls.server = start_sandbox()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        with Transaction().start(DB_NAME, 0) as transaction:
            pool = Pool()
            SyncRun = pool.get('integration.sync.run')
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_omie_integration(
                    company, self.server.url, receive_webhooks=True,
                    status='active')
                run = SyncRun(
                    integration=integration, trigger='manual',
                    start=utcnow())
                run.save()
            self.integration_id, self.run_id = integration.id, run.id
            self.token = integration.webhook_token
            self.users = {
                'admin': create_integration_user(
                    company, 'admin', 'group_integration_admin').id,
                'user': create_integration_user(company, 'user').id,
                }
            transaction.commit()

    def as_user(self, group, func):
        "Run func(pool) through the API (access checked) as the group"
        with Transaction().start(
                DB_NAME, self.users[group],
                context={'_skip_warnings': True}) as transaction:
            with transaction.set_context(_check_access=True):
                return func(Pool())

    def assertHidden(self, group, func):
        "func either is refused or returns no secret"
        try:
            result = self.as_user(group, func)
        except AccessError:
            return
        text = repr(result)
        self.assertNotIn(SECRET, text)
        self.assertNotIn(self.token, text)
        self.assertIn(SECRET_PLACEHOLDER, text)

    def assertRefused(self, group, func):
        with self.assertRaises(AccessError):
            self.as_user(group, func)

    def for_each(self):
        for group in self.users:
            for name in SECRETS:
                with self.subTest(group=group, field=name):
                    yield group, name

    def test_read(self):
        for group, name in self.for_each():
            self.assertHidden(group, lambda pool: pool.get(
                    'integration.integration').read(
                    [self.integration_id], [name]))
        # The administrator's read gives the placeholder, not an error.
        row, = self.as_user('admin', lambda pool: pool.get(
                'integration.integration').read(
                [self.integration_id], SECRETS))
        self.assertEqual(
            [row[n] for n in SECRETS], [SECRET_PLACEHOLDER] * 2)

    def test_export(self):
        for group, name in self.for_each():
            self.assertHidden(group, lambda pool: pool.get(
                    'integration.integration').export_data(
                    [pool.get('integration.integration')(
                            self.integration_id)], ['name', name]))
        data = self.as_user('admin', lambda pool: pool.get(
                'integration.integration').export_data_domain(
                [], ['name'] + SECRETS))
        self.assertEqual(data, [["Omie"] + [SECRET_PLACEHOLDER] * 2])

    def test_search_domain_is_refused(self):
        for group, name in self.for_each():
            value = SECRET if name == 'omie_app_secret' else self.token
            for clause in [
                    (name, '=', value),
                    (name, 'like', value[0] + '%'),
                    (name, '!=', None),
                    ]:
                self.assertRefused(group, lambda pool: pool.get(
                        'integration.integration').search([clause]))
            self.assertRefused(group, lambda pool: pool.get(
                    'integration.integration').search_count(
                    [(name, 'like', value[0] + '%')]))

    def test_order_is_refused(self):
        for group, name in self.for_each():
            self.assertRefused(group, lambda pool: pool.get(
                    'integration.integration').search(
                    [], order=[(name, 'ASC')]))

    def test_dotted_path_from_a_related_model(self):
        for group, name in self.for_each():
            path = 'integration.' + name
            self.assertHidden(group, lambda pool: pool.get(
                    'integration.sync.run').read([self.run_id], [path]))
            self.assertHidden(group, lambda pool: pool.get(
                    'integration.sync.run').export_data(
                    [pool.get('integration.sync.run')(self.run_id)],
                    ['integration/' + name]))
            self.assertRefused(group, lambda pool: pool.get(
                    'integration.sync.run').search(
                    [(path, 'like', 'a%')]))
            self.assertRefused(group, lambda pool: pool.get(
                    'integration.sync.run').search(
                    [], order=[(path, 'DESC')]))
            self.assertRefused(group, lambda pool: pool.get(
                    'integration.sync.run').search([
                        ('integration', 'where', [(name, 'like', 'a%')]),
                        ]))

    def test_admin_writes_a_new_secret_and_the_server_uses_it(self):
        def write(pool):
            Integration = pool.get('integration.integration')
            Integration.write(
                [Integration(self.integration_id)],
                {'omie_app_secret': 'f' * 32})
        self.as_user('admin', write)
        with Transaction().start(DB_NAME, 0):
            Integration = Pool().get('integration.integration')
            self.assertEqual(
                Integration(self.integration_id).omie_app_secret, 'f' * 32)

    def test_server_reads_the_secret_in_a_button(self):
        "Test connection (a button) builds its client with the real secret"
        def test_connection(pool):
            Integration = pool.get('integration.integration')
            integration = Integration(self.integration_id)
            Integration.test_connection([integration])
            return integration.omie_company_name
        name = self.as_user('admin', test_connection)
        self.assertEqual(name, self.sandbox.dataset.company['razao_social'])

    def test_admin_reads_the_webhook_address(self):
        url, = self.as_user('admin', lambda pool: [
                r['webhook_url'] for r in pool.get(
                    'integration.integration').read(
                    [self.integration_id], ['webhook_url'])])
        self.assertTrue(url.endswith('/' + self.token))
        self.assertRefused('user', lambda pool: pool.get(
                'integration.integration').read(
                [self.integration_id], ['webhook_url']))
