# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Data conflicts of a bidirectional sync: a record changed in both systems
since they last agreed

A binding remembers what both sides held of the exported fields when they
last agreed (local_hash for here, remote_hash for the external system).  A
connector hands each side's view of those fields ({key: value}) to
Conflict.arbitrate, which tells whose version goes on; when both changed,
the integration's policy decides, or a person does."""
import hashlib
import json
import unicodedata

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import IntegrationError
from .export import CONFLICT_DETAIL, IMPORTING
from .integration import utcnow

# what arbitrate answers
REMOTE, LOCAL, WAIT = 'remote', 'local', 'wait'
# set while a person's choice of the external version is applied: the
# connector's import applies it without asking again
KEEPING_REMOTE = '_integration_keeping_remote'


def normalise(value):
    "Compare texts as people read them: case, accents and spaces aside"
    text = unicodedata.normalize('NFKD', str(value or ''))
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return ' '.join(text.casefold().split())


def view_hash(view):
    "The hash of a side's view of the exported fields"
    text = json.dumps({k: normalise(v) for k, v in view.items()},
        sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    conflict_policy = fields.Selection(
        'get_conflict_policies', "Conflicts",
        states={
            'readonly': Eval('direction') != 'bidirectional',
            },
        help="What happens to a record changed in both systems since the "
        "last sync: one of them wins and the run says so, or the record "
        "waits for a person to choose the version to keep.")

    @classmethod
    def default_conflict_policy(cls):
        return 'ask'

    @classmethod
    def get_conflict_policies(cls):
        "The (value, label) policies; connectors name their system"
        return [(p, gettext(
                    'novagestao_integrations_base.msg_conflict_policy_%s' % p))
            for p in ['ask', 'remote', 'local']]

    def conflict_keep_remote(self, conflict):
        """Apply to the record the external version kept in conflict
        (connectors override it)"""
        raise NotImplementedError

    def conflict_keep_local(self, conflict):
        """Have the local version of conflict sent at the next export:
        what the external system holds now is the new agreement"""
        binding = conflict.binding
        binding.remote_hash = conflict.remote_hash
        binding.content_hash = conflict.content_hash
        binding.save()


class Conflict(Workflow, ModelSQL, ModelView):
    "Data Conflict"
    __name__ = 'integration.conflict'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        readonly=True, ondelete='CASCADE')
    run = fields.Many2One(
        'integration.sync.run', "Found In", readonly=True,
        ondelete='SET NULL')
    binding = fields.Many2One(
        'integration.binding', "Link", required=True, readonly=True,
        ondelete='CASCADE')
    record = fields.Function(
        fields.Reference("Record", selection='get_models'), 'get_record')
    state = fields.Selection([
            ('open', "Waiting"),
            ('remote', "External Version Kept"),
            ('local', "Tryton Version Kept"),
            ], "State", required=True, readonly=True, sort=False)
    decided_by = fields.Selection([
            (None, ""),
            ('policy', "Integration Policy"),
            ('user', "User"),
            ], "Decided By", readonly=True)
    decided_user = fields.Many2One(
        'res.user', "Decided By User", readonly=True)
    decided_at = fields.DateTime("Decided At", readonly=True)
    found_at = fields.DateTime("Found At", required=True, readonly=True)
    differences = fields.Char("Fields Changed", readonly=True)
    lines = fields.One2Many(
        'integration.conflict.field', 'conflict', "Fields", readonly=True)
    local_hash = fields.Char("Local Hash", readonly=True)
    remote_hash = fields.Char("External Hash", readonly=True)
    content_hash = fields.Char("External Content Hash", readonly=True)
    remote_data = fields.Text("External Record", readonly=True,
        help="The external record as it was read, applied when its "
        "version is kept.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        cls._order = [('found_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'remote'),
            ('open', 'local'),
            }
        cls._buttons.update({
                'keep_remote': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'keep_local': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def get_models(cls):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return Binding.get_models()

    def get_record(self, name):
        record = self.binding.record if self.binding else None
        return str(record) if record else None

    def get_rec_name(self, name):
        return self.binding.rec_name if self.binding else str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('binding.rec_name',) + tuple(clause[1:])]

    @classmethod
    def waiting(cls, integration, bindings):
        "Return {binding: open conflict} of the bindings"
        return {c.binding: c for c in cls.search([
                    ('integration', '=', integration.id),
                    ('binding', 'in', [b.id for b in bindings if b.id]),
                    ('state', '=', 'open'),
                    ])}

    @classmethod
    def arbitrate(cls, run, binding, local_view, remote_view, labels,
            remote_data=None, content_hash=None):
        """Tell whose version of the binding's record goes on: REMOTE (apply
        the external one here), LOCAL (send this one), WAIT (a person
        decides first) or None (neither side changed the exported fields)

        local_view and remote_view are {key: value} of the exported fields,
        labels {key: label}; remote_data is the external record to apply
        when a person keeps it."""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        if Transaction().context.get(KEEPING_REMOTE):
            return REMOTE
        integration = binding.integration
        local_hash, remote_hash = view_hash(local_view), view_hash(remote_view)
        local_changed = bool(binding.local_hash) and (
            local_hash != binding.local_hash)
        remote_changed = remote_hash != binding.remote_hash
        differing = [k for k in labels
            if normalise(local_view.get(k)) != normalise(remote_view.get(k))]
        conflict = cls.waiting(integration, [binding]).get(binding)
        if conflict is None and not (
                local_changed and remote_changed and differing):
            if remote_changed:
                return REMOTE
            return LOCAL if local_changed else None
        if conflict is None:
            conflict = cls(integration=integration, binding=binding,
                found_at=utcnow())
        # a record read twice in a run (a re-poll) is one conflict of it
        counted = getattr(conflict, 'run', None) == run
        conflict.run = run
        conflict.local_hash = local_hash
        conflict.remote_hash = remote_hash
        conflict.content_hash = content_hash
        conflict.remote_data = json.dumps(
            remote_data, ensure_ascii=False, sort_keys=True, default=str
            ) if remote_data is not None else None
        conflict.set_lines(local_view, remote_view, labels, differing)
        policy = integration.conflict_policy
        if policy in {REMOTE, LOCAL}:
            conflict.state = policy
            conflict.decided_by = 'policy'
            conflict.decided_at = utcnow()
            conflict.save()
            run.add_counts(binding.kind, conflicts=1)
            return policy
        conflict.save()
        if counted:
            return WAIT
        Error.record(run, binding.kind, binding.external_id, 'data_conflict',
            gettext('novagestao_integrations_base.msg_conflict',
                record=binding.rec_name,
                fields=conflict.differences),
            suggested_fix=gettext(
                'novagestao_integrations_base.msg_conflict_fix'),
            detail=CONFLICT_DETAIL)
        run.add_counts(binding.kind, conflicts=1)
        return WAIT

    def set_lines(self, local_view, remote_view, labels, differing):
        pool = Pool()
        Line = pool.get('integration.conflict.field')
        self.lines = [Line(
                name=labels[k], sequence=i,
                remote_value=str(remote_view.get(k) or ''),
                local_value=str(local_view.get(k) or ''),
                differs=k in differing)
            for i, k in enumerate(labels)]
        self.differences = ', '.join(labels[k] for k in differing)

    @classmethod
    @ModelView.button
    @Workflow.transition('remote')
    def keep_remote(cls, conflicts):
        cls._decide(conflicts)
        for conflict in conflicts:
            if not conflict.remote_data:
                raise IntegrationError(gettext(
                        'novagestao_integrations_base'
                        '.msg_conflict_no_remote_data',
                        conflict=conflict.rec_name))
            with Transaction().set_context(
                    {IMPORTING: True, KEEPING_REMOTE: True}):
                conflict.integration.conflict_keep_remote(conflict)

    @classmethod
    @ModelView.button
    @Workflow.transition('local')
    def keep_local(cls, conflicts):
        pool = Pool()
        Integration = pool.get('integration.integration')
        cls._decide(conflicts)
        for conflict in conflicts:
            conflict.integration.conflict_keep_local(conflict)
        Integration.export_soon(list({c.integration for c in conflicts}))

    @classmethod
    def _decide(cls, conflicts):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        cls.write(conflicts, {
                'decided_by': 'user',
                'decided_user': Transaction().user,
                'decided_at': utcnow(),
                })
        for conflict in conflicts:
            binding = conflict.binding
            Error.resolve(
                conflict.integration, binding.kind, [binding.external_id])


class ConflictField(ModelSQL, ModelView):
    "Data Conflict Field"
    __name__ = 'integration.conflict.field'

    conflict = fields.Many2One(
        'integration.conflict', "Conflict", required=True,
        ondelete='CASCADE')
    sequence = fields.Integer("Sequence")
    name = fields.Char("Field", readonly=True)
    remote_value = fields.Char("External Version", readonly=True)
    local_value = fields.Char("Tryton Version", readonly=True)
    differs = fields.Boolean("Differs", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('conflict')
        cls._order = [('sequence', 'ASC'), ('id', 'ASC')]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('differs'), 'warning', '')),
            ]
