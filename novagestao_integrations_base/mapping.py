# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval


class Mapping(ModelSQL, ModelView):
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
    state = fields.Selection([
            ('unmapped', "Unmapped"),
            ('suggested', "Suggested"),
            ('confirmed', "Confirmed"),
            ('rejected', "Rejected"),
            ], "State", required=True, sort=False)
    score = fields.Float("Score", digits=(3, 0), readonly=True)
    reason = fields.Char("Reason", readonly=True)

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
                })

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

    @classmethod
    @ModelView.button
    def reject(cls, mappings):
        cls.write(mappings, {
                'state': 'rejected',
                'target': None,
                })

    @classmethod
    def mappings_confirmed(cls, mappings):
        "Hook called when mappings are confirmed, to release pending records"
        pass

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
