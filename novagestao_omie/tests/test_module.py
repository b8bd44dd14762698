# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.exceptions import UserError, UserWarning
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase, with_transaction)
from trytond.transaction import Transaction

from novagestao_integrations_base.tests.tools import (
    DBTestCase, create_integration_user, get_brl)

from ..omie.sandbox import Sandbox
from .tools import start_sandbox

SECRET = Sandbox.DEFAULT_APP_SECRET


def create_omie_integration(company, url, **values):
    pool = Pool()
    Integration = pool.get('integration.integration')
    values.setdefault('omie_app_key', Sandbox.DEFAULT_APP_KEY)
    values.setdefault('omie_app_secret', SECRET)
    integration = Integration(
        name="Omie", company=company, connector='omie',
        omie_base_url=url, **values)
    integration.save()
    return integration


class OmieTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the Omie connector module"
    module = 'novagestao_omie'

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
        self.sandbox.settings.fail_next = []

    @with_transaction()
    def test_test_connection_succeeds(self):
        "Test connection names the Omie company and CNPJ"
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(company, self.server.url)
            Integration.test_connection([integration])
            omie_company = self.sandbox.dataset.company
            self.assertEqual(
                integration.omie_company_name, omie_company['razao_social'])
            self.assertEqual(integration.omie_company_cnpj,
                omie_company['cnpj'])
            message = integration.connector_test_connection()
            self.assertIn("Connection established successfully", message)
            self.assertIn(omie_company['cnpj'], message)

    @with_transaction()
    def test_test_connection_strips_credentials(self):
        "Keys pasted with spaces around still work"
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(
                company, self.server.url,
                omie_app_key='  %s ' % Sandbox.DEFAULT_APP_KEY)
            integration.omie_app_secret = ' %s\n' % SECRET
            integration.save()
            Integration.test_connection([integration])
            self.assertTrue(integration.omie_company_name)

    @with_transaction()
    def test_test_connection_wrong_keys(self):
        "Wrong keys say what to do and never show the secret"
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(
                company, self.server.url,
                omie_app_secret='ffffffffffffffffffffffffffffffff')
            with self.assertRaises(UserError) as cm:
                Integration.test_connection([integration])
            self.assertIn("refused the App Key or the App Secret",
                cm.exception.message)
            self.assertNotIn('ffffffffffffffff', cm.exception.message)
            self.assertIsNone(integration.omie_company_name)

    @with_transaction()
    def test_test_connection_unreachable(self):
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(
                company, 'http://127.0.0.1:9')
            with self.assertRaises(UserError) as cm:
                Integration.test_connection([integration])
            self.assertIn("could not be reached at http://127.0.0.1:9",
                cm.exception.message)

    @with_transaction()
    def test_test_connection_blocked(self):
        "A misuse block tells how long to wait"
        Integration = Pool().get('integration.integration')
        company = create_company(currency=get_brl())
        self.sandbox.settings.misuse_block_seconds = 1800
        self.sandbox.settings.fail_next = ['misuse'] * 3
        with set_company(company):
            integration = create_omie_integration(company, self.server.url)
            with self.assertRaises(UserError) as cm:
                Integration.test_connection([integration])
            self.assertIn("blocking", cm.exception.message)
            self.assertRegex(cm.exception.message, r"\b1[0-9]{3} seconds")


class OmieSecretTestCase(DBTestCase):
    "Only integrations administrators read the App Secret, masked"
    modules = ['novagestao_omie']

    def setUp(self):
        super().setUp()
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_omie_integration(
                    company, 'http://127.0.0.1:9')
            self.integration_id = integration.id

            self.user_id = create_integration_user(company, 'user').id
            self.admin_id = create_integration_user(
                company, 'admin', 'group_integration_admin').id
            transaction.commit()

    def read_secret(self, user_id, field='omie_app_secret'):
        with Transaction().start(DB_NAME, user_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(_check_access=True):
                return Integration.read(
                    [self.integration_id], [field])[0][field]

    def test_user_cannot_read_secret(self):
        with self.assertRaises(AccessError):
            self.read_secret(self.user_id)

    def test_only_admin_reads_the_webhook_address(self):
        for field in ['webhook_token', 'webhook_url']:
            with self.assertRaises(AccessError):
                self.read_secret(self.user_id, field)
        # The token itself is write-only, even for administrators.
        self.assertNotIn(
            self.read_secret(self.admin_id, 'webhook_token'), [None, ''])
        with Transaction().start(DB_NAME, 0):
            Integration = Pool().get('integration.integration')
            token = Integration(self.integration_id).webhook_token
        self.assertGreaterEqual(len(token), 40)
        self.assertNotEqual(
            self.read_secret(self.admin_id, 'webhook_token'), token)
        self.assertTrue(self.read_secret(self.admin_id, 'webhook_url')
            .endswith('/novagestao_omie/webhook/' + token))

    def test_admin_reads_a_mask(self):
        secret = self.read_secret(self.admin_id)
        self.assertTrue(secret)
        self.assertNotIn(SECRET, secret)

    def test_masked_value_written_back_keeps_the_secret(self):
        with Transaction().start(DB_NAME, self.admin_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(
                    _check_access=True, _skip_warnings=True):
                mask = Integration.read(
                    [self.integration_id], ['omie_app_secret'])[0][
                    'omie_app_secret']
                Integration.write(
                    [Integration(self.integration_id)],
                    {'omie_app_secret': mask, 'name': "Renamed"})
        with Transaction().start(DB_NAME, 0):
            Integration = Pool().get('integration.integration')
            self.assertEqual(
                Integration(self.integration_id).omie_app_secret, SECRET)

    def test_credential_change_asks_confirmation(self):
        with Transaction().start(DB_NAME, self.admin_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(_check_access=True):
                with self.assertRaises(UserWarning) as cm:
                    Integration.write(
                        [Integration(self.integration_id)],
                        {'omie_app_key': '999'})
            self.assertIn("changing the Omie credentials",
                cm.exception.message)

    def test_credentials_saved_unchanged_ask_nothing(self):
        "A form saved with the credentials it shows does not warn"
        with Transaction().start(DB_NAME, self.admin_id) as transaction:
            Integration = Pool().get('integration.integration')
            with transaction.set_context(_check_access=True):
                shown, = Integration.read([self.integration_id], [
                        'omie_app_key', 'omie_app_secret', 'omie_base_url'])
                del shown['id']
                Integration.write(
                    [Integration(self.integration_id)], shown)
                with self.assertRaises(UserWarning):
                    Integration.write([Integration(self.integration_id)],
                        dict(shown, omie_app_secret='another secret'))


del ModuleTestCase
