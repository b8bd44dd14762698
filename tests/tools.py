# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Shared set-up of the end-to-end tests: a company, an integration, a sandbox"
import zlib

from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from novagestao_integrations_base.tests.tools import (
    DBTestCase, create_brazilian_company, run_committed)
from novagestao_omie.omie.sandbox import Sandbox
from novagestao_omie.tests.tools import SANDBOX_TODAY, start_sandbox


class OmieEndToEndTestCase(DBTestCase):
    "A committed database with a Brazilian company and the Omie connector"
    modules = ['novagestao_omie']
    sandbox_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_id = run_committed(
            DB_NAME, lambda: create_brazilian_company(today=SANDBOX_TODAY).id)

    def setUp(self):
        super().setUp()
        # tests of a class share the database: each gets its own Omie company
        options = dict(self.sandbox_options)
        options['seed'] = zlib.crc32(self.id().encode()) + options.get(
            'seed', 0)
        self.sandbox, self.server = start_sandbox(**options)
        self.addCleanup(self.server.shutdown)
        self.integration_id = self.create_integration()

    def transaction(self, readonly=False):
        return Transaction().start(
            DB_NAME, 0, readonly=readonly,
            context={
                'company': self.company_id,
                'companies': [self.company_id],
                '_skip_warnings': True,
                })

    def create_integration(self, **values):
        with self.transaction() as transaction:
            Integration = Pool().get('integration.integration')
            integration = Integration(
                name="Omie %s" % self.id(), company=self.company_id,
                connector='omie', omie_app_key=Sandbox.DEFAULT_APP_KEY,
                omie_app_secret=Sandbox.DEFAULT_APP_SECRET,
                omie_base_url=self.server.url,
                initial_date=SANDBOX_TODAY.replace(
                    year=SANDBOX_TODAY.year - 2), **values)
            integration.save()
            transaction.commit()
            return integration.id

    def sync(self, trigger='manual'):
        "Run a sync as the queue would; return (state, summary, errors)"
        with self.transaction():
            Integration = Pool().get('integration.integration')
            Integration.run_sync(
                [Integration(self.integration_id)], trigger)
        with self.transaction(readonly=True):
            Integration = Pool().get('integration.integration')
            run = Integration(self.integration_id).runs[0]
            return run.state, run.summary(), [
                (e.entity, e.external_id, e.kind, e.message)
                for e in run.errors]
