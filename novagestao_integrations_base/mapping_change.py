# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Re-categorisation: when the target of a confirmed mapping changes, the
records already imported under it move to the new target, by the
connector, in a queued task that reports what it changed"""
import logging

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)

from .integration import utcnow

logger = logging.getLogger(__name__)


class Mapping(metaclass=PoolMeta):
    __name__ = 'integration.mapping'

    changes = fields.One2Many(
        'integration.mapping.change', 'mapping', "Re-categorisations",
        readonly=True,
        help="The moves of the imported records to a new target.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'recategorise': {
                    'invisible': Eval('state') != 'confirmed',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        old_targets = {}
        for mappings, values in zip(actions, actions):
            if 'target' in values:
                for mapping in mappings:
                    old_targets.setdefault(mapping.id, mapping.target)
        super().write(*args)
        changed = [m for m in cls.browse(list(old_targets))
            if m.state == 'confirmed' and m.target
            and old_targets[m.id] and m.target != old_targets[m.id]]
        if changed:
            cls.recategorise_history(changed, old_targets)

    @classmethod
    @ModelView.button
    def recategorise(cls, mappings):
        "Move the records imported under the mappings to their target again"
        cls.recategorise_history(
            [m for m in mappings if m.state == 'confirmed' and m.target])

    @classmethod
    def recategorise_history(cls, mappings, old_targets=None):
        """Record a change of each mapping and queue the move of its
        records, after the commit, one task per integration"""
        pool = Pool()
        Change = pool.get('integration.mapping.change')
        old_targets = old_targets or {}
        # users who may change a mapping may not write its report
        with without_check_access():
            changes = Change.create([{
                        'mapping': m.id,
                        'old_target': (
                            str(old_targets[m.id]) if old_targets.get(m.id)
                            else None),
                        'new_target': str(m.target),
                        } for m in mappings])
            Change.enqueue(changes)
        return changes


class Change(ModelSQL, ModelView):
    """Mapping Change

    The records a new target of a mapping moved: draft ones updated, posted
    ones replaced by a correcting record."""
    __name__ = 'integration.mapping.change'

    mapping = fields.Many2One(
        'integration.mapping', "Mapping", required=True, ondelete='CASCADE',
        readonly=True)
    integration = fields.Function(
        fields.Many2One('integration.integration', "Integration"),
        'on_change_with_integration', searcher='search_integration')
    date = fields.DateTime("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    old_target = fields.Reference(
        "Old Target", selection='get_targets', readonly=True)
    new_target = fields.Reference(
        "New Target", selection='get_targets', readonly=True)
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "State", required=True, readonly=True, sort=False)
    message = fields.Text("Message", readonly=True)
    lines = fields.One2Many(
        'integration.mapping.change.line', 'change', "Lines", readonly=True)
    updated_count = fields.Function(
        fields.Integer("Updated",
            help="The draft records whose lines were updated."),
        'get_counts')
    replaced_count = fields.Function(
        fields.Integer("Replaced",
            help="The posted records cancelled and replaced."),
        'get_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('mapping')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return utcnow()

    @classmethod
    def default_user(cls):
        return Transaction().user

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        return Mapping.get_targets()

    @fields.depends('mapping', '_parent_mapping.integration')
    def on_change_with_integration(self, name=None):
        return self.mapping.integration if self.mapping else None

    @classmethod
    def search_integration(cls, name, clause):
        return [('mapping.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def get_counts(cls, changes, names):
        result = {n: {c.id: 0 for c in changes} for n in names}
        for change in changes:
            for line in change.lines:
                name = '%s_count' % line.method
                if name in result:
                    result[name][change.id] += 1
        return result

    def get_rec_name(self, name):
        return self.mapping.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('mapping.rec_name',) + tuple(clause[1:])]

    @classmethod
    def enqueue(cls, changes):
        "Process the changes as queue tasks, one per integration"
        by_integration = {}
        for change in changes:
            by_integration.setdefault(
                change.mapping.integration, []).append(change)
        with Transaction().set_context(
                queue_name='integration', queue_batch=1):
            for integration_changes in by_integration.values():
                cls.__queue__.process(integration_changes)

    @classmethod
    def process(cls, changes):
        """Have the connector move the records of the waiting changes to the
        current target of their mapping, and report the moves

        A failure leaves the records as they were and the change failed
        with its reason."""
        pool = Pool()
        Line = pool.get('integration.mapping.change.line')
        changes = [c for c in changes if c.state == 'waiting']
        by_integration = {}
        for change in changes:
            by_integration.setdefault(
                change.mapping.integration, []).append(change)
        for integration, integration_changes in by_integration.items():
            by_mapping = {c.mapping: c for c in integration_changes}
            try:
                with Transaction().set_context(
                        company=integration.company.id):
                    results = integration.connector_recategorise(
                        list(by_mapping))
            except (TransactionError, backend.DatabaseOperationalError):
                # the worker starts the task again, as Tryton does
                raise
            except Exception as exception:
                Transaction().rollback()
                logger.info(
                    "re-categorisation of integration %d failed",
                    integration.id, exc_info=True)
                cls.write(cls.browse(integration_changes), {
                        'state': 'failed',
                        'message': integration.describe_exception(
                            exception),
                        })
                continue
            lines = []
            for result in results:
                values = dict(result)
                change = by_mapping[values.pop('mapping')]
                for name in ['document', 'old_target', 'new_target',
                        'correction']:
                    if values.get(name) is not None:
                        values[name] = str(values[name])
                lines.append(Line(change=change, **values))
            Line.save(lines)
            cls.write(integration_changes, {'state': 'done'})


class ChangeLine(ModelSQL, ModelView):
    """Mapping Change Line

    A line of a record that a mapping change moved to its new target."""
    __name__ = 'integration.mapping.change.line'

    change = fields.Many2One(
        'integration.mapping.change', "Change", required=True,
        ondelete='CASCADE', readonly=True)
    document = fields.Reference(
        "Document", selection='get_documents', readonly=True,
        help="The record that booked on the old target.")
    old_target = fields.Reference(
        "Old Target", selection='get_targets', readonly=True)
    new_target = fields.Reference(
        "New Target", selection='get_targets', readonly=True)
    method = fields.Selection([
            ('updated', "Updated"),
            ('replaced', "Replaced"),
            ], "Method", required=True, readonly=True, sort=False,
        help="Updated: a draft record, changed in place.\n"
        "Replaced: a posted record, cancelled and replaced by the "
        "correction.")
    correction = fields.Reference(
        "Correction", selection='get_documents', readonly=True,
        help="The record that replaces the document.")
    amount = fields.Numeric("Amount", digits=(16, 2), readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('change')

    @classmethod
    def _get_documents(cls):
        "Return the models that connectors move to a new target"
        return []

    @classmethod
    def get_documents(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in cls._get_documents()]

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        return Mapping.get_targets()
