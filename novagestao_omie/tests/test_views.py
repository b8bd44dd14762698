# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"The views of both modules, as the web client receives them"
from lxml import etree

from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, activate_module, with_transaction

OUR_MODULES = {'novagestao_integrations_base', 'novagestao_omie'}

# The column widgets of sao's list views (Sao.View.TreeXMLViewParser.WIDGETS
# in tryton-sao 8.0): a field of another type needs a widget attribute naming
# one of them, or the list, and every form embedding it, fails to open.
SAO_TREE_WIDGETS = {
    'binary', 'boolean', 'callto', 'char', 'date', 'dict', 'email', 'float',
    'image', 'integer', 'many2many', 'many2one', 'numeric', 'one2many',
    'one2one', 'progressbar', 'reference', 'selection', 'multiselection',
    'sip', 'text', 'time', 'timedelta', 'url',
    }


class ViewsTestCase(TestCase):
    "Test the views of both modules"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('novagestao_omie')

    @with_transaction()
    def test_list_columns_have_a_web_client_widget(self):
        "Every list column of a view of ours has a widget the web client has"
        pool = Pool()
        View = pool.get('ir.ui.view')
        views = View.search([
                ('module', 'in', list(OUR_MODULES)),
                ('model', '!=', None),
                ])
        checked = 0
        problems = []
        for view in views:
            Model = pool.get(view.model)
            view_id = view.inherit.id if view.inherit else view.id
            result = Model.fields_view_get(view_id=view_id)
            if result['type'] != 'tree':
                continue
            tree = etree.fromstring(result['arch'])
            for element in tree.iter('field'):
                name = element.get('name')
                field = result['fields'][name]
                widget = element.get('widget') or field['type']
                checked += 1
                if widget not in SAO_TREE_WIDGETS:
                    problems.append('%s (%s) in %s: %s' % (
                            name, widget, view.model, view.name))
        self.assertGreater(checked, 50)
        self.assertEqual(problems, [])

