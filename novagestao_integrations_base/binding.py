# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from sql import Null

from trytond import backend
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice

from .integration import utcnow

# How many ids a search takes at once: trytond 8.0's grouped_slice without a
# size slices one by one, which cost a query per id.  Half the backend's
# limit leaves room for the other parameters of the domain.
IN_MAX = backend.MAX_QUERY_PARAMS // 2


class Binding(ModelSQL, ModelView):
    """Binding

    Links a record of the external system to the local record it became, so
    that nothing is imported twice."""
    __name__ = 'integration.binding'

    integration = fields.Many2One(
        'integration.integration', "Integration", required=True,
        ondelete='CASCADE', readonly=True)
    kind = fields.Selection(
        'get_kinds', "External Kind", required=True, readonly=True,
        help="The kind of external record, such as a client or a payable.")
    kind_string = kind.translated('kind')
    external_id = fields.Char("External ID", required=True, readonly=True)
    record = fields.Reference(
        "Local Record", selection='get_models', readonly=True)
    remote_stamp = fields.Char(
        "Remote Change Stamp", readonly=True,
        help="When the external system last changed the record.")
    content_hash = fields.Char("Content Hash", readonly=True)
    origin = fields.Selection([
            ('import', "Imported"),
            ('export', "Exported"),
            ], "Origin", required=True, readonly=True, sort=False,
        help="Whether the record came from the external system or was "
        "sent to it from here.")
    local_hash = fields.Char(
        "Local Content Hash", readonly=True,
        help="What the local record held of the exported fields when both "
        "systems last agreed.")
    remote_hash = fields.Char(
        "External Content Hash", readonly=True,
        help="What the external record held of the exported fields when "
        "both systems last agreed.")
    material_hash = fields.Char(
        "Accounting Hash", readonly=True,
        help="What the accounting of the local record was made of when it "
        "was last imported: a change of the external record that leaves it "
        "the same changes no accounting.")
    last_synced = fields.DateTime("Last Synced", readonly=True)
    record_name = fields.Function(
        fields.Char("Local Record"), 'get_record_name')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('integration')
        t = cls.__table__()
        cls._sql_constraints += [
            ('external_unique',
                Unique(t, t.integration, t.kind, t.external_id),
                'novagestao_integrations_base.msg_binding_external_unique'),
            ('record_unique', Unique(t, t.integration, t.record),
                'novagestao_integrations_base.msg_binding_record_unique'),
            ]
        cls._order = [('integration', 'ASC'), ('kind', 'ASC'), ('id', 'ASC')]
        # the records of every integration are looked up at once (whether
        # an invoice being posted is linked, its external ids…)
        cls._sql_indexes.add(Index(t,
                (t.record, Index.Equality()),
                where=t.record != Null))

    @classmethod
    def default_origin(cls):
        return 'import'

    @classmethod
    def _get_models(cls):
        "Return the models that bindings may point at"
        return ['party.party']

    @classmethod
    def get_models(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        return [(None, '')] + [
            (m, Model.get_name(m)) for m in cls._get_models()]

    @classmethod
    def get_kinds(cls):
        """Return the (value, label) kinds of external records: the entity
        kinds of the connectors and the other kinds they bind"""
        pool = Pool()
        Integration = pool.get('integration.integration')
        return Integration.get_entity_selection()

    def get_rec_name(self, name):
        if self.record:
            # as users know it: "Banco do Brasil - Conta Movimento (4000…)"
            return '%s (%s)' % (self.record.rec_name, self.external_id)
        return '%s %s' % (self.kind_string, self.external_id)

    def get_record_name(self, name):
        return self.record.rec_name if self.record else ''

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('external_id',) + tuple(clause[1:])]

    @classmethod
    def lookup(cls, integration, kind, external_ids):
        "Return {external_id: binding} for the external ids that are bound"
        result = {}
        external_ids = sorted({str(i) for i in external_ids})
        for sub_ids in grouped_slice(external_ids, IN_MAX):
            for binding in cls.search([
                        ('integration', '=', integration.id),
                        ('kind', '=', kind),
                        ('external_id', 'in', list(sub_ids)),
                        ]):
                result[binding.external_id] = binding
        return result

    @classmethod
    def records_of(cls, integration, kind, external_ids):
        "Return {external_id: local record} for the bound external ids"
        return {
            external_id: binding.record
            for external_id, binding in cls.lookup(
                integration, kind, external_ids).items()
            if binding.record}

    @classmethod
    def for_records(cls, integration, records):
        "Return {local record: binding} for the local records"
        result = {}
        references = [str(r) for r in records]
        for sub_refs in grouped_slice(references, IN_MAX):
            for binding in cls.search([
                        ('integration', '=', integration.id),
                        ('record', 'in', list(sub_refs)),
                        ]):
                result[binding.record] = binding
        return result

    @classmethod
    def link(cls, integration, kind, external_id, record=None,
            remote_stamp=None, content_hash=None, binding=None):
        "Return an unsaved binding of external_id to record, updated"
        if binding is None:
            binding = cls(
                integration=integration, kind=kind,
                external_id=str(external_id))
        if record is not None:
            binding.record = record
        binding.remote_stamp = remote_stamp
        binding.content_hash = content_hash
        binding.last_synced = utcnow()
        return binding


class BindingMixin:
    "Show on a record its links to external systems"
    __slots__ = ()

    integration_bindings = fields.Function(
        fields.Many2Many(
            'integration.binding', None, None, "External Links",
            readonly=True),
        'get_integration_bindings', searcher='search_integration_bindings')
    integration_linked = fields.Function(
        fields.Boolean(
            "Linked",
            help="Imported from or linked to an external system."),
        'get_integration_linked', searcher='search_integration_linked')
    external_ids = fields.Function(
        fields.Char("External IDs", readonly=True),
        'get_external_ids', searcher='search_external_ids')

    @classmethod
    def get_integration_bindings(cls, records, name):
        pool = Pool()
        Binding = pool.get('integration.binding')
        result = {r.id: [] for r in records}
        for sub_records in grouped_slice(records, IN_MAX):
            for binding in Binding.search([
                        ('record', 'in', [str(r) for r in sub_records]),
                        ]):
                result[binding.record.id].append(binding.id)
        return result

    @classmethod
    def _linked_query(cls):
        "Return the query of the ids of the records that have a binding"
        pool = Pool()
        Binding = pool.get('integration.binding')
        binding = Binding.__table__()
        prefix = cls.__name__ + ','
        return binding.select(
            Binding.record.sql_id(binding.record, cls),
            where=binding.record.like(prefix + '%'))

    @classmethod
    def get_integration_linked(cls, records, name):
        pool = Pool()
        Binding = pool.get('integration.binding')
        linked = set()
        for sub_records in grouped_slice(records, IN_MAX):
            linked.update(b.record.id for b in Binding.search([
                        ('record', 'in', [str(r) for r in sub_records]),
                        ]) if b.record)
        return {r.id: r.id in linked for r in records}

    @classmethod
    def search_integration_linked(cls, name, clause):
        _, operator, value = clause[:3]
        if operator not in {'=', '!='}:
            return [('id', '=', None)]
        linked = bool(value) == (operator == '=')
        return [('id', 'in' if linked else 'not in', cls._linked_query())]

    @classmethod
    def search_integration_bindings(cls, name, clause):
        return cls._search_bindings(clause)

    def get_external_ids(self, name):
        return ', '.join(sorted({
                    b.external_id for b in self.integration_bindings}))

    @classmethod
    def search_external_ids(cls, name, clause):
        _, operator, value = clause[:3]
        return cls._search_bindings(
            ('integration_bindings', 'where', [
                    ('external_id', operator, value)]))

    @classmethod
    def _search_bindings(cls, clause):
        pool = Pool()
        Binding = pool.get('integration.binding')
        _, operator, value = clause[:3]
        domain = value if operator == 'where' else [
            ('id',) + tuple(clause[1:])]
        bindings = Binding.search(
            [('record', 'like', cls.__name__ + ',%')] + list(domain))
        return [('id', 'in', [b.record.id for b in bindings if b.record])]
