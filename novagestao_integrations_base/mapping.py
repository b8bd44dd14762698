# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from sql import Literal, Null
from sql.aggregate import Count
from sql.conditionals import Coalesce

from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from . import suggest
from .mapping_suggestion import MappingSuggestions

PENDING_KIND = 'category_not_mapped'


class Mapping(MappingSuggestions, ModelSQL, ModelView):
    """Mapping

    Maps an external classification (such as an Omie category) onto the local
    record that stands for it (such as an account)."""
    __name__ = 'integration.mapping'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE')
    external_code = fields.Char("External Code", required=True)
    external_name = fields.Char("External Name")
    external_type = fields.Selection([
            (None, ""),
            ('revenue', "Revenue"),
            ('expense', "Expense"),
            ('other', "Other"),
            ], "External Type", sort=False)
    external_active = fields.Boolean("External Active")
    target = fields.Reference(
        "Local Target", selection='get_targets',
        states={
            'required': Eval('state') == 'confirmed',
            })
    target_name = fields.Function(
        fields.Char("Local Target"), 'on_change_with_target_name')
    state = fields.Selection([
            ('unmapped', "Unmapped"),
            ('suggested', "Suggested"),
            ('confirmed', "Confirmed"),
            ('rejected', "Rejected"),
            ], "State", required=True, sort=False)
    score = fields.Float("Score", digits=(3, 0), readonly=True,
        help="How likely the suggested target is right, from 0 to 100.")
    reason = fields.Char("Reason", readonly=True,
        help="Why the target is suggested.")
    pending_count = fields.Function(fields.Integer(
            "Pending Titles",
            help="The records that wait for this mapping to import."),
        'get_pending_count', searcher='search_pending_count')
    rejections = fields.One2Many(
        'integration.mapping.rejection', 'mapping', "Rejected Suggestions",
        readonly=True,
        help="The targets the user rejected: they are not suggested again.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.integration, t.external_code),
                'novagestao_integrations_base.msg_mapping_code_unique'),
            ]
        cls._order = [
            ('integration', 'ASC'), ('external_code', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'confirm': {
                    'invisible': Eval('state') == 'confirmed',
                    'readonly': ~Eval('target'),
                    'depends': ['state', 'target'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'suggested',
                    'depends': ['state'],
                    },
                'suggest': {
                    'invisible': Eval('state') == 'confirmed',
                    'depends': ['state'],
                    },
                'create_account': {
                    'invisible': Eval('state') == 'confirmed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'rejected', 'muted', '')),
            ]

    @classmethod
    def default_state(cls):
        return 'unmapped'

    @classmethod
    def default_external_active(cls):
        return True

    @classmethod
    def _get_targets(cls):
        "Return the models that a mapping may target"
        return ['account.account']

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in cls._get_targets()]

    def get_rec_name(self, name):
        if self.external_name:
            return '%s - %s' % (self.external_code, self.external_name)
        return self.external_code

    @fields.depends('target')
    def on_change_with_target_name(self, name=None):
        return self.target.rec_name if self.target else None

    @fields.depends('target', 'state')
    def on_change_target(self):
        # a target the user picks is no more the suggestion
        if self.state == 'suggested':
            self.state = 'unmapped'
            self.score = None
            self.reason = None

    @classmethod
    def _pending_counts(cls, where=None):
        "Return the query of the pending records per integration and code"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        error = Error.__table__()
        condition = ((error.kind == PENDING_KIND)
            & ((error.resolved == Literal(False)) | (error.resolved == Null))
            & (error.detail != Null))
        if where is not None:
            condition &= where(error)
        return error.select(
            error.integration, error.detail,
            Count().as_('count'),
            where=condition,
            group_by=[error.integration, error.detail])

    @classmethod
    def get_pending_count(cls, mappings, name):
        integrations = list({m.integration.id for m in mappings})
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls._pending_counts(
                lambda error: error.integration.in_(integrations)))
        counts = {(i, d): c for i, d, c in cursor}
        return {
            m.id: counts.get((m.integration.id, m.external_code), 0)
            for m in mappings}

    @classmethod
    def search_pending_count(cls, name, clause):
        _, operator, value = clause
        Operator = fields.SQL_OPERATORS[operator]
        mapping = cls.__table__()
        counts = cls._pending_counts()
        query = mapping.join(counts, 'LEFT',
            condition=(mapping.integration == counts.integration)
            & (mapping.external_code == counts.detail)
            ).select(mapping.id,
                where=Operator(Coalesce(counts.count, 0), value or 0))
        return [('id', 'in', query)]

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause[:3]
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('external_code', operator, value),
            ('external_name', operator, value),
            ]

    @classmethod
    @ModelView.button
    def confirm(cls, mappings):
        cls.write(mappings, {'state': 'confirmed'})
        cls.mappings_confirmed(mappings)
        # the tabs count the mappings by state
        return 'reload'

    @classmethod
    @ModelView.button
    def reject(cls, mappings):
        "Reject the targets: they are not suggested again for the mappings"
        pool = Pool()
        Rejection = pool.get('integration.mapping.rejection')
        Rejection.reject([(m, m.target) for m in mappings if m.target])
        cls.write(mappings, {
                'state': 'rejected',
                'target': None,
                'score': None,
                'reason': None,
                })
        return 'reload'

    @classmethod
    @ModelView.button
    def suggest(cls, mappings):
        "Suggest a target for the mappings that are not confirmed"
        cls.suggest_targets(mappings)
        return 'reload'

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_mapping_create_account')
    def create_account(cls, mappings):
        pass

    @classmethod
    def mappings_confirmed(cls, mappings):
        """Hook called when mappings are confirmed, to release pending records

        A sync run retries the records of the integrations that wait for
        the confirmed codes, after the transaction is committed."""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Integration = pool.get('integration.integration')
        codes = {}
        for mapping in mappings:
            if mapping.target:
                codes.setdefault(mapping.integration, set()).add(
                    mapping.external_code)
        integrations = []
        for integration, integration_codes in codes.items():
            if integration.status == 'disabled':
                continue
            if Error.search([
                        ('integration', '=', integration.id),
                        ('kind', '=', PENDING_KIND),
                        ('detail', 'in', list(integration_codes)),
                        ('resolved', '=', False),
                        ], limit=1):
                integrations.append(integration)
        if integrations:
            Integration.enqueue_sync(integrations, 'retry')

    @classmethod
    def target_of(cls, integration, codes):
        "Return {external code: target} for the confirmed mappings of codes"
        return {
            m.external_code: m.target for m in cls.search([
                    ('integration', '=', integration.id),
                    ('external_code', 'in', list(codes)),
                    ('state', '=', 'confirmed'),
                    ])
            if m.target}


class MappingRejection(ModelSQL, ModelView):
    """Mapping Rejection

    A target the user rejected for a mapping, never suggested again."""
    __name__ = 'integration.mapping.rejection'

    mapping = fields.Many2One(
        'integration.mapping', "Mapping", required=True, ondelete='CASCADE',
        readonly=True)
    target = fields.Reference(
        "Target", selection='get_targets', required=True, readonly=True)
    target_name = fields.Function(
        fields.Char("Target"), 'get_target_name')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('mapping')
        t = cls.__table__()
        cls._sql_constraints += [
            ('mapping_target_unique', Unique(t, t.mapping, t.target),
                'novagestao_integrations_base.msg_rejection_unique'),
            ]

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        return Mapping.get_targets()

    def get_target_name(self, name):
        return self.target.rec_name if self.target else None

    @classmethod
    def reject(cls, pairs):
        "Record the (mapping, target) pairs as rejected"
        rejected = cls.rejected([m for m, _ in pairs])
        to_create = {}
        for mapping, target in pairs:
            if target.id not in rejected.get(mapping.id, set()):
                to_create[(mapping.id, str(target))] = {
                    'mapping': mapping.id,
                    'target': str(target),
                    }
        if to_create:
            cls.create(list(to_create.values()))

    @classmethod
    def rejected(cls, mappings):
        "Return {mapping id: {rejected target id}}"
        result = {}
        for rejection in cls.search([
                    ('mapping', 'in', [m.id for m in mappings]),
                    ]):
            if rejection.target:
                result.setdefault(rejection.mapping.id, set()).add(
                    rejection.target.id)
        return result


class MappingSynonym(DeactivableMixin, ModelSQL, ModelView):
    """Mapping Synonym

    A group of terms that name the same thing, added to the shipped table
    of Brazilian accounting synonyms that the suggestions use."""
    __name__ = 'integration.mapping.synonym'

    name = fields.Char(
        "Name", required=True,
        help="What the terms name.\n"
        "Start it with \"Família\" for a broad group that relates "
        "specific terms to broader accounts.")
    terms = fields.Text(
        "Terms", required=True,
        help="One term per line, such as \"Folha de Pagamento\".\n"
        "Case, accents, plurals and abbreviations do not matter.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('name', 'ASC'))

    def get_terms(self):
        return [t.strip() for t in (self.terms or '').splitlines()
            if t.strip()]

    @classmethod
    def groups(cls):
        "Return the synonym groups: the shipped ones and the users'"
        return _shipped_synonyms() + [
            (s.name, s.get_terms()) for s in cls.search([])]


_SHIPPED = []


def _shipped_synonyms():
    if not _SHIPPED:
        _SHIPPED.extend(suggest.load_synonyms())
    return list(_SHIPPED)
