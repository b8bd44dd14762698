# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The export of custom categories: an account of an exported invoice that
no Omie category maps to becomes a category of Omie (IncluirCategoria) under
the group the user chose, mapped to the account"""
from trytond.i18n import gettext
from trytond.pool import Pool

from novagestao_integrations_base.conflict import normalise

from .export_payloads import ExportProblem
from .omie import records

KIND = 'category'
SIDES = {'out': 'revenue', 'in': 'expense'}


class CategoryExport:
    """The categories of an export (OmieExport)

    Omie's categories carry no integration code: before creating one, the
    group's categories are read and one of the account's name is taken,
    so that a category created before a crash is not created twice."""
    _omie_categories = None  # {group: {normalised name: code}}

    def categories_to_export(self, invoices):
        """[(account, side)] of the invoices' lines whose account no
        confirmed mapping targets"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        if not self.integration.export_categories:
            return []
        accounts = {}
        for invoice in invoices:
            for line in invoice.lines:
                if getattr(line, 'type', 'line') == 'line' and line.account:
                    accounts.setdefault(line.account, SIDES[invoice.type])
        mapped = {m.target for m in Mapping.search([
                    ('integration', '=', self.integration.id),
                    ('state', '=', 'confirmed'),
                    ('target', 'in', [str(a) for a in accounts]),
                    ])}
        return sorted(((a, side) for a, side in accounts.items()
                if a not in mapped), key=lambda i: i[0].id)

    def export_category(self, item):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        account, side = item
        integration = self.integration
        group = (integration.export_revenue_group if side == 'revenue'
            else integration.export_expense_group)
        if not group:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_category_group',
                    account=account.rec_name),
                gettext('novagestao_omie.msg_export_category_group_fix'),
                kind='category_not_mapped')
        name = account.name[:50]
        code = self.omie_category_named(group, name)
        if code is None:
            answer = self.client.call('IncluirCategoria',
                categoria_superior=group, descricao=name,
                natureza=account.name)
            code = records.clean_text(answer.get('codigo'))
            self._omie_categories[group][normalise(name)] = code
        mapping, = Mapping.search([
                ('integration', '=', integration.id),
                ('external_code', '=', code),
                ]) or [Mapping(integration=integration, external_code=code)]
        mapping.external_name = name
        mapping.external_type = side
        mapping.external_active = True
        mapping.target = account
        mapping.state = 'confirmed'
        mapping.save()

    def omie_category_named(self, group, name):
        "The code of the category of name under group in Omie, or None"
        if self._omie_categories is None:
            self._omie_categories = {}
            for page in self.client.iterate_pages('ListarCategorias'):
                for row in page.records:
                    code = records.clean_text(row.get('codigo'))
                    parent, _, _ = code.rpartition('.')
                    self._omie_categories.setdefault(parent, {})[
                        normalise(row.get('descricao'))] = code
        return self._omie_categories.setdefault(group, {}).get(
            normalise(name))
