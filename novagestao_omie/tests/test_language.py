# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"Brazilian Portuguese (pt_BR) on our screens and on Tryton's that users reach"
import datetime as dt
import os
import subprocess
import sys
import unittest
from decimal import Decimal

from trytond.i18n import ngettext
from trytond.ir.lang import get_parent_language
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, activate_module, with_transaction
from trytond.transaction import Transaction


class LanguageTestCase(TestCase):
    "Test pt_BR as a user of the modules sees it"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('novagestao_omie')

    def load_pt_br(self):
        "Load pt_BR as Administration › Localization › Load translations does"
        pool = Pool()
        Lang = pool.get('ir.lang')
        pt_br, = Lang.search([('code', '=', 'pt_BR')])
        Lang.load_translations([pt_br])
        return pt_br

    def model_string(self, model):
        Model = Pool().get('ir.model')
        record, = Model.search([('name', '=', model)])
        return record.string

    def field_strings(self, model, *names):
        Model = Pool().get(model)
        return Model.fields_get(list(names))

    def record_string(self, model, xml_id, field='name'):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Model = pool.get(model)
        module, fs_id = xml_id.split('.')
        return getattr(Model(ModelData.get_id(module, fs_id)), field)

    @with_transaction()
    def test_language_record(self):
        "pt_BR is Brazil's language, translatable, its parent pt"
        pool = Pool()
        Lang = pool.get('ir.lang')
        pt_br, = Lang.search([('code', '=', 'pt_BR')])
        self.assertEqual(pt_br.name, "Português (Brasil)")
        self.assertTrue(pt_br.translatable)
        self.assertEqual(get_parent_language('pt_BR'), 'pt')
        self.assertEqual(
            pt_br.strftime(dt.date(2026, 12, 2)), '02/12/2026')
        self.assertEqual(
            pt_br.format('%.2f', Decimal('1234567.891'), grouping=True),
            '1.234.567,89')
        # the web client formats dates and numbers with the user's locale
        User = pool.get('res.user')
        user = User(login='financeiro', name="Financeiro", language=pt_br)
        user.save()
        with Transaction().set_user(user.id):
            locale = User.get_preferences()['locale']
        self.assertEqual(locale['date'], '%d/%m/%Y')
        self.assertEqual(
            (locale['decimal_point'], locale['thousands_sep']), (',', '.'))

    @with_transaction()
    def test_tryton_screens_in_brazilian(self):
        "Tryton's statements, invoices and parties read Brazilian wording"
        self.load_pt_br()
        with Transaction().set_context(language='pt_BR'):
            # labels and selections: pt_BR translations of ours
            statement = self.field_strings(
                'account.statement', 'state', 'total_amount')
            self.assertEqual(
                dict(statement['state']['selection']), {
                    'draft': "Rascunho", 'validated': "Validado",
                    'posted': "Lançado", 'cancelled': "Cancelado"})
            self.assertEqual(
                statement['total_amount']['string'], "Valor Total")
            line = self.field_strings('account.statement.line', 'related_to')
            self.assertEqual(line['related_to']['string'], "Relacionado a")
            invoice = self.field_strings(
                'account.invoice', 'state', 'tax_identifier')
            self.assertEqual(
                dict(invoice['state']['selection'])['posted'], "Lançado")
            self.assertEqual(
                invoice['tax_identifier']['string'], "CNPJ/CPF")
            self.assertEqual(
                self.model_string('account.statement.journal'),
                "Diário de Extrato")
            # records of Tryton's modules: their overridden pt rows
            self.assertEqual(
                self.record_string(
                    'ir.ui.menu', 'account_statement.menu_statements'),
                "Extratos")
            self.assertEqual(
                self.record_string(
                    'ir.action.act_window',
                    'account_statement.act_statement_form'),
                "Extratos")
            self.assertEqual(
                self.record_string('ir.model.button',
                    'account_statement.statement_reconcile_button', 'string'),
                "Conciliar")

    @with_transaction()
    def test_fallback_to_pt(self):
        "What pt_BR does not translate, it reads in pt, ours included"
        self.load_pt_br()
        with Transaction().set_context(language='pt_BR'):
            # Tryton's pt, not overridden
            self.assertEqual(
                self.model_string('account.move'), "Lançamento Contábil")
            party = self.field_strings('party.party', 'identifiers')
            self.assertEqual(
                party['identifiers']['string'], "Identificadores")
            # ours, from our pt.po
            self.assertEqual(
                self.model_string('integration.integration'), "Integração")
        # European Portuguese keeps Tryton's own label where pt_BR differs
        with Transaction().set_context(language='pt'):
            statement = self.field_strings('account.statement', 'state')
            self.assertEqual(
                dict(statement['state']['selection'])['posted'],
                "Confirmado")


    @with_transaction()
    def test_counts_read_singular_and_plural(self):
        "A message of a count reads one thing in the singular, more plural"
        self.load_pt_br()
        message = 'novagestao_integrations_base.msg_incident_conflicts_waiting'
        texts = {}
        for language in ['en', 'pt_BR']:
            with Transaction().set_context(language=language):
                texts[language] = [
                    ngettext(message, n, count=n) for n in [1, 3]]
        self.assertEqual([t.split('.')[0] for t in texts['en']], [
                "1 data conflict waits for a decision",
                "3 data conflicts wait for a decision"])
        self.assertEqual([t.split('.')[0] for t in texts['pt_BR']], [
                "1 conflito de dados aguarda uma decisão",
                "3 conflitos de dados aguardam uma decisão"])
        # the answers of the retry wizards, a message per count
        base = 'novagestao_integrations_base.'
        with Transaction().set_context(language='pt_BR'):
            self.assertEqual([
                    ngettext(base + message, n, count=n)
                    for message in ['msg_retry_resolved', 'msg_retry_pending',
                        'msg_webhook_retry_skipped']
                    for n in [1, 2]], [
                    "1 resolvido", "2 resolvidos",
                    "1 ainda pendente.", "2 ainda pendentes.",
                    "1 evento já processado é mantido como está.",
                    "2 eventos já processados são mantidos como estão."])

class OverridesFileTestCase(unittest.TestCase):
    "Test the pt_BR overrides follow the installed Tryton modules"

    def test_overrides_up_to_date(self):
        "setup/ptbr-overrides finds every string reviewed and written"
        root = os.path.dirname(os.path.dirname(os.path.dirname(
                    os.path.abspath(__file__))))
        script = os.path.join(root, 'setup', 'ptbr_overrides.py')
        if not os.path.exists(script):
            self.skipTest("not run from a source checkout")
        result = subprocess.run(
            [sys.executable, script, '--check'],
            capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
