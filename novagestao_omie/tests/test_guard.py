# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie's misuse rule is counted per App Key and method in the database, so
that every client (each webhook batch, the worker, the cron) shares it.

Real HTTP to the sandbox, which blocks a method for 30 minutes at the 10th
consecutive error, as Omie does."""
from trytond import backend
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from novagestao_integrations_base.tests.tools import DBTestCase, get_brl

from ..omie import errors
from ..omie.sandbox import Sandbox
from .test_module import create_omie_integration
from .tools import start_sandbox

METHOD = 'ConsultarCliente'


class OmieGuardTestCase(DBTestCase):
    "Test the guard shared by the Omie clients of an integration"
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
        self.sandbox.rules.reset()
        self.sandbox.settings.fail_next = []
        with Transaction().start(DB_NAME, 0) as transaction:
            company = create_company(currency=get_brl())
            with set_company(company):
                integration = create_omie_integration(
                    company, self.server.url)
            transaction.commit()
        self.integration_id = integration.id

    def batch(self, ids, commit=True):
        """Consult each id with a new client, as a webhook batch does;
        return the error class of each answer and the client's calls"""
        with Transaction().start(DB_NAME, 0) as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(self.integration_id)
            client = integration.omie_client(max_retries=0)
            raised = []
            try:
                for id_ in ids:
                    try:
                        client.call(METHOD, codigo_cliente_omie=id_)
                        raised.append(None)
                    except errors.OmieError as error:
                        raised.append(type(error))
            finally:
                client.close()
            if commit:
                transaction.commit()
            else:
                transaction.rollback()
        return raised, client.calls

    def sandbox_failures(self):
        rules = self.sandbox.rules
        return max(rules.failures.values(), default=0), dict(
            rules.blocked_until)

    def existing_id(self):
        return next(iter(self.sandbox.dataset.parties))['codigo_cliente_omie']

    def guard(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            Guard = Pool().get('integration.remote.guard')
            guards = Guard.search([
                    ('integration', '=', self.integration_id),
                    ('method', '=', METHOD),
                    ])
            return [(g.key, g.consecutive_errors, g.blocked_until)
                for g in guards]

    def test_two_clients_share_the_count(self):
        "Two batches' clients stop together before Omie's 10th error"
        missing = range(900000001, 900000013)
        first, first_calls = self.batch(missing[:5])
        self.assertEqual(first, [errors.NotFoundError] * 5)
        (key, count, _), = self.guard()
        self.assertEqual((key, count), (Sandbox.DEFAULT_APP_KEY, 5))

        second, second_calls = self.batch(missing[5:])
        self.assertEqual(second, [errors.NotFoundError] * 3
            + [errors.CircuitOpenError] * 4)
        self.assertEqual(first_calls + second_calls, 8)
        failures, blocked = self.sandbox_failures()
        self.assertEqual((failures, blocked), (8, {}))

        # A third batch (another process) refuses without calling.
        third, third_calls = self.batch(missing[:2])
        self.assertEqual(
            (third, third_calls), ([errors.CircuitOpenError] * 2, 0))
        self.assertEqual(self.sandbox_failures(), (8, {}))

    def test_success_resets_the_shared_count(self):
        missing = range(900000101, 900000108)
        self.batch(missing)
        raised, _ = self.batch([self.existing_id()])
        self.assertEqual(raised, [None])
        (_, count, blocked_until), = self.guard()
        self.assertEqual((count, blocked_until), (0, None))
        # Seven more errors are allowed again, and Omie still never blocks.
        raised, _ = self.batch(missing)
        self.assertEqual(raised, [errors.NotFoundError] * 7)
        self.assertEqual(self.sandbox_failures()[1], {})

    def test_count_survives_the_batch_rollback(self):
        "A batch that fails after its calls still leaves their count"
        if backend.name == 'sqlite':
            self.skipTest("SQLite serves one process in one transaction")
        self.batch(range(900000201, 900000207), commit=False)
        (_, count, _), = self.guard()
        self.assertEqual(count, 6)

    def test_fresh_client_waits_out_omies_block(self):
        "After Omie announced a block, no client of any process calls"
        self.sandbox.settings.fail_next = ['misuse']
        raised, calls = self.batch([self.existing_id()])
        self.assertEqual((raised, calls), ([errors.MisuseBlockedError], 1))
        total = self.sandbox.stats_json()['total']

        with Transaction().start(DB_NAME, 0):
            Integration = Pool().get('integration.integration')
            client = Integration(self.integration_id).omie_client()
            with self.assertRaises(errors.CircuitOpenError) as raised:
                client.call(METHOD, codigo_cliente_omie=self.existing_id())
            self.assertEqual(client.calls, 0)
            self.assertGreater(raised.exception.retry_after, 1700)
            self.assertLessEqual(raised.exception.retry_after, 1800)
            self.assertEqual(client.circuit_state(METHOD), 'open')
            # Other methods are not blocked.
            client.call('ListarCategorias', pagina=1)
        self.assertEqual(self.sandbox.stats_json()['total'], total + 1)
        (_, count, blocked_until), = self.guard()
        self.assertIsNotNone(blocked_until)
