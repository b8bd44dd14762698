# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What the Omie screens show: the answer of Test connection, the Omie mark
of linked records, entity kinds in Brazilian Portuguese"""
import json
import os

from lxml import etree

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, with_transaction)

from novagestao_integrations_base.tests.test_screens import run_wizard
from novagestao_integrations_base.tests.tools import get_brl

from .test_module import create_omie_integration
from .tools import start_sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
MODULES = ['novagestao_integrations_base', 'novagestao_omie']


class OmieScreensTestCase(TestCase):
    "Test what the screens of the Omie connector show"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('novagestao_omie')
        cls.sandbox, cls.server = start_sandbox()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        super().tearDownClass()

    @with_transaction()
    def test_view_pyson_attributes_are_encoded(self):
        "sao decodes visual, states… as JSON: a raw expression breaks it"
        pool = Pool()
        View = pool.get('ir.ui.view')
        checked = 0
        for view in View.search([
                    ('module', 'in', MODULES), ('model', '!=', None)]):
            Model = pool.get(view.model)
            view_id = view.inherit.id if view.inherit else view.id
            arch = Model.fields_view_get(view_id=view_id)['arch']
            for element in etree.fromstring(arch).iter():
                for name in ['visual', 'states', 'domain', 'context']:
                    value = element.get(name)
                    if value:
                        with self.subTest(view=view.name, attribute=name):
                            json.loads(value)
                        checked += 1
        self.assertGreater(checked, 5)

    @with_transaction()
    def test_test_connection_wizard_names_company_and_cnpj(self):
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(company, self.server.url)
            message = run_wizard(
                'integration.test_connection', [integration])
        omie_company = self.sandbox.dataset.company
        self.assertIn("Connection established successfully", message)
        self.assertIn(omie_company['razao_social'], message)
        self.assertIn(omie_company['cnpj'], message)

    @with_transaction()
    def test_linked_mark_and_its_filter(self):
        "Parties and invoices linked to an integration are marked"
        pool = Pool()
        Binding = pool.get('integration.binding')
        Party = pool.get('party.party')
        company = create_company(currency=get_brl())
        with set_company(company):
            integration = create_omie_integration(company, self.server.url)
            linked, typed = Party.create([
                    {'name': "From Omie"}, {'name': "Typed by hand"}])
            Binding.link(integration, 'party', '42', linked).save()

            self.assertEqual(
                (linked.integration_linked, typed.integration_linked),
                (True, False))
            parties = [linked, typed]
            ids = [p.id for p in parties]
            for clause, expected in [
                    (('integration_linked', '=', True), [linked]),
                    (('integration_linked', '=', False), [typed]),
                    (('integration_linked', '!=', True), [typed]),
                    (('integration_linked', '!=', False), [linked]),
                    ]:
                with self.subTest(clause=clause):
                    self.assertEqual(
                        Party.search([('id', 'in', ids), clause]), expected)
            # a binding of another model does not mark a party of its id
            Invoice = pool.get('account.invoice')
            self.assertEqual(Invoice.search([
                        ('integration_linked', '=', True)]), [])

    @with_transaction()
    def test_entity_kinds_read_in_portuguese(self):
        "Entity kinds and binding kinds show Brazilian labels, not codes"
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Integration = pool.get('integration.integration')
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        portuguese, = Lang.search([('code', '=', 'pt')])
        Lang.write([portuguese], {'translatable': True})
        for module in MODULES:
            Translation.translation_import('pt', module,
                [os.path.join(ROOT, module, 'locale', 'pt.po')])
        english = dict(Binding.get_kinds())
        with self.subTest(language='en'):
            self.assertEqual(english['receivable'], "Receivables")
        from trytond.transaction import Transaction
        with Transaction().set_context(language='pt'):
            entities = dict(Integration.get_entity_selection())
            kinds = dict(Binding.get_kinds())
            errors = dict(Error.fields_get(['kind'])['kind']['selection'])
        self.assertEqual(entities['party'], "Clientes e Fornecedores")
        self.assertEqual(entities['receivable'], "Contas a Receber")
        self.assertEqual(entities['settlement'], "Baixas")
        self.assertEqual(entities['bank_account'], "Contas Correntes")
        self.assertEqual(set(kinds), set(english))
        untranslated = {k for k, label in kinds.items()
            if label == english[k]}
        self.assertEqual(untranslated, set())
        self.assertEqual(errors['category_not_mapped'],
            "Categoria não mapeada")
