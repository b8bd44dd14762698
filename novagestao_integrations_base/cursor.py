# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.model import ModelSQL, ModelView, Unique, fields

from .integration import utcnow
from .sync import entity_selection


class Cursor(ModelSQL, ModelView):
    """Cursor

    Where the last committed import of an entity stopped; the importer moves
    it only after the records it covers are committed."""
    __name__ = 'integration.cursor'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    entity = fields.Selection(
        'get_entities', "Entity", required=True, readonly=True)
    value = fields.Char("Value", readonly=True)
    updated = fields.DateTime("Updated", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('entity_unique', Unique(t, t.integration, t.entity),
                'novagestao_integrations_base.msg_cursor_unique'),
            ]

    @classmethod
    def get_entities(cls):
        "The entity kinds of the connectors, translated"
        return entity_selection()

    @classmethod
    def get(cls, integration, entity):
        "Return the value of the cursor of entity or None"
        cursors = cls.search([
                ('integration', '=', integration.id),
                ('entity', '=', entity),
                ], limit=1)
        return cursors[0].value if cursors else None

    @classmethod
    def set(cls, integration, entity, value):
        cursors = cls.search([
                ('integration', '=', integration.id),
                ('entity', '=', entity),
                ], limit=1)
        cursor = cursors[0] if cursors else cls(
            integration=integration, entity=entity)
        cursor.value = value
        cursor.updated = utcnow()
        cursor.save()
