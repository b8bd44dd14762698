# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The actions of the Category Mapping tab: suggest, accept the suggestions
above a score, create an account from a category"""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import IntegrationError

DEFAULT_THRESHOLD = 85


def account_type_domain(kind, prefix=''):
    "The domain of the account types a category of kind may book on"
    if kind == 'revenue':
        return [
            (prefix + 'revenue', '=', True),
            (prefix + 'expense', '=', False),
            ]
    if kind == 'expense':
        return [
            (prefix + 'expense', '=', True),
            (prefix + 'revenue', '=', False),
            ]
    return []


def compatible_type(kind, type_):
    "Tell whether a category of kind may book on accounts of type_"
    if kind == 'revenue':
        return bool(type_.revenue and not type_.expense)
    if kind == 'expense':
        return bool(type_.expense and not type_.revenue)
    return True


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'suggest_mappings': {
                    'invisible': Eval('status') == 'disabled',
                    'depends': ['status'],
                    },
                'accept_suggestions': {
                    'invisible': Eval('status') == 'disabled',
                    'depends': ['status'],
                    },
                })

    @classmethod
    @ModelView.button
    def suggest_mappings(cls, integrations):
        """Suggest a target for every mapping that is not confirmed
        Return the mappings that got a suggestion"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        return Mapping.suggest_targets(Mapping.search([
                    ('integration', 'in', [i.id for i in integrations]),
                    ('state', '!=', 'confirmed'),
                    ]))

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_mapping_accept')
    def accept_suggestions(cls, integrations):
        pass


class AcceptSuggestionsStart(ModelView):
    "Accept Suggested Mappings"
    __name__ = 'integration.mapping.accept.start'

    threshold = fields.Float(
        "Minimal Score", digits=(3, 0), required=True,
        domain=[
            ('threshold', '>=', 0),
            ('threshold', '<=', 100),
            ],
        help="Confirm the suggestions that score at least this.")

    @classmethod
    def default_threshold(cls):
        return DEFAULT_THRESHOLD


class AcceptSuggestions(Wizard):
    "Accept Suggested Mappings"
    __name__ = 'integration.mapping.accept'

    start = StateView('integration.mapping.accept.start',
        'novagestao_integrations_base.mapping_accept_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Accept", 'accept', 'tryton-ok', default=True),
            ])
    accept = StateTransition()

    def transition_accept(self):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        domain = [
            ('state', '=', 'suggested'),
            ('target', '!=', None),
            ('score', '>=', self.start.threshold),
            ]
        if self.model and self.model.__name__ == 'integration.integration':
            domain.append(
                ('integration', 'in', [r.id for r in self.records]))
        else:
            domain.append(('id', 'in', [r.id for r in self.records]))
        Mapping.confirm(Mapping.search(domain))
        return 'end'


class CreateAccountStart(ModelView):
    "Create Account from Category"
    __name__ = 'integration.mapping.create_account.start'

    mapping = fields.Many2One(
        'integration.mapping', "Mapping", readonly=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    external_type = fields.Selection([
            (None, ""),
            ('revenue', "Revenue"),
            ('expense', "Expense"),
            ('other', "Other"),
            ], "External Type", readonly=True)
    name = fields.Char("Name", required=True)
    code = fields.Char("Code")
    parent = fields.Many2One(
        'account.account', "Parent", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('closed', '!=', True),
            If(Eval('external_type').in_(['revenue', 'expense']),
                ['OR',
                    ('type', '=', None),
                    If(Eval('external_type') == 'revenue',
                        account_type_domain('revenue', 'type.'),
                        account_type_domain('expense', 'type.')),
                    ],
                []),
            ],
        help="The account under which the new account is created.")
    type = fields.Many2One(
        'account.account.type', "Type", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('external_type') == 'revenue',
                account_type_domain('revenue'),
                If(Eval('external_type') == 'expense',
                    account_type_domain('expense'),
                    [])),
            ],
        help="The type of the new account; the parent's when it has one.")

    @fields.depends('parent', 'type')
    def on_change_parent(self):
        if self.parent and self.parent.type:
            self.type = self.parent.type


class CreateAccount(Wizard):
    "Create Account from Category"
    __name__ = 'integration.mapping.create_account'

    start = StateView('integration.mapping.create_account.start',
        'novagestao_integrations_base'
        '.mapping_create_account_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Create", 'create_', 'tryton-ok', default=True),
            ])
    create_ = StateTransition()

    def default_start(self, fields):
        mapping = self.record
        if mapping.state == 'confirmed':
            raise IntegrationError(gettext(
                    'novagestao_integrations_base'
                    '.msg_mapping_create_account_confirmed',
                    mapping=mapping.rec_name))
        return {
            'mapping': mapping.id,
            'company': mapping.integration.company.id,
            'external_type': mapping.external_type,
            'name': mapping.external_name or mapping.external_code,
            }

    def transition_create_(self):
        pool = Pool()
        Account = pool.get('account.account')
        Mapping = pool.get('integration.mapping')
        mapping = self.record
        if mapping.state == 'confirmed':
            raise IntegrationError(gettext(
                    'novagestao_integrations_base'
                    '.msg_mapping_create_account_confirmed',
                    mapping=mapping.rec_name))
        type_ = self.start.type
        if (type_.company != mapping.integration.company
                or not compatible_type(mapping.external_type, type_)):
            raise IntegrationError(gettext(
                    'novagestao_integrations_base'
                    '.msg_mapping_create_account_type',
                    mapping=mapping.rec_name, type=type_.rec_name))
        account = Account(
            company=mapping.integration.company,
            name=self.start.name,
            code=self.start.code,
            parent=self.start.parent,
            type=self.start.type)
        account.save()
        mapping.target = account
        mapping.score = None
        mapping.reason = None
        mapping.save()
        Mapping.confirm([mapping])
        return 'end'
