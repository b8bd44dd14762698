# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Records typed by hand that repeat one linked to an external system

A model takes part through DuplicateMixin: the keys a duplicate shares with
a record (a party's tax identifier, an invoice's party, amount, date and
reference), a cheap search of the records that may share them, and how a
duplicate is merged into the linked record.  Pairs a person ignored are
remembered and never proposed, nor warned about, again."""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice

from .binding import IN_MAX
from .exceptions import IntegrationWarning
from .export import importing


def only_digits(code):
    return ''.join(c for c in code or '' if c.isdigit())


def normal_reference(text):
    "'NF 4821-A' and 'nf4821a' alike"
    return ''.join(c for c in text or '' if c.isalnum()).upper()


def linked_records(records):
    "Return the set of the records that some integration binds"
    pool = Pool()
    Binding = pool.get('integration.binding')
    linked = set()
    for sub_records in grouped_slice(records, IN_MAX):
        linked.update(b.record for b in Binding.search([
                    ('record', 'in', [str(r) for r in sub_records]),
                    ]) if b.record)
    return linked


def external_names(record):
    "Return 'Integration: Kind external id' of the links of the record"
    pool = Pool()
    Binding = pool.get('integration.binding')
    return ', '.join(sorted({
                '%s: %s %s' % (
                    b.integration.rec_name, b.kind_string, b.external_id)
                for b in Binding.search([('record', '=', str(record))])}))


def match(records, others):
    "Return [(record, other)] of the records sharing a key with another"
    index = defaultdict(list)
    for other in others:
        for key in other.integration_duplicate_keys():
            index[key].append(other)
    pairs = []
    for record in records:
        seen = set()
        for key in sorted(record.integration_duplicate_keys(), key=str):
            for other in index.get(key, []):
                if other != record and other not in seen:
                    seen.add(other)
                    pairs.append((record, other))
    return pairs


class DuplicateMixin:
    """A model whose records typed by hand may repeat one linked to an
    external system"""
    __slots__ = ()

    # the fields whose change may make a record a duplicate
    _integration_duplicate_fields = set()

    @classmethod
    def integration_duplicate_kind(cls):
        "Return the name of the kind of records, as users say it"
        pool = Pool()
        Model = pool.get('ir.model')
        return Model.get_name(cls.__name__)

    def integration_duplicate_keys(self):
        "Return the set of keys that a duplicate of the record shares"
        return set()

    def integration_duplicate_reason(self):
        "Return what makes a duplicate of the record, to show"
        return ''

    def integration_duplicate_open(self):
        "Whether the record still counts: not inactive, not cancelled"
        return getattr(self, 'active', True)

    @classmethod
    def integration_duplicate_candidates(cls, records):
        """Return the records, besides these, that may share their keys:
        a cheap search that the keys then decide"""
        return []

    @classmethod
    def integration_merge_duplicates(cls, pairs):
        """Make each (record typed by hand, linked record) one: the linked
        record is the one kept"""
        raise NotImplementedError

    @classmethod
    def integration_duplicates_of(cls, records, linked=True):
        """Return [(record, other)] of the open records and the open others
        that share a key and are (linked=True) or are not linked, without
        the pairs a person ignored"""
        pool = Pool()
        Ignored = pool.get('integration.duplicate.ignored')
        records = [r for r in records if r.integration_duplicate_open()]
        others = [o for o in cls.integration_duplicate_candidates(records)
            if o.integration_duplicate_open()]
        bound = linked_records(others)
        others = [o for o in others if (o in bound) == linked]
        return Ignored.forget(match(records, others))

    @classmethod
    def integration_check_duplicates(cls, records):
        """Warn the user who saves records typed by hand that repeat a
        linked one; the imports of an integration are never warned"""
        pool = Pool()
        Warning = pool.get('res.user.warning')
        if importing() or not records:
            return
        records = [r for r in cls.browse(records)
            if r not in linked_records(records)]
        pairs = cls.integration_duplicates_of(records, linked=True)
        if not pairs:
            return
        # the key must be the same when the user saves again: new records
        # get new ids, the linked ones keep theirs
        others = sorted({o for _, o in pairs}, key=lambda o: o.id)
        name = Warning.format('integration_duplicate', others)
        if Warning.check(name):
            record, other = pairs[0]
            raise IntegrationWarning(name, gettext(
                    'novagestao_integrations_base.msg_duplicate_warning',
                    record=record.rec_name,
                    reason=other.integration_duplicate_reason(),
                    linked=other.rec_name,
                    external=external_names(other)))

    @classmethod
    def create(cls, vlist):
        records = super().create(vlist)
        cls.integration_check_duplicates(records)
        return records

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        changed = []
        for records, values in zip(actions, actions):
            if values.keys() & cls._integration_duplicate_fields:
                changed.extend(records)
        cls.integration_check_duplicates(changed)


class Ignored(ModelSQL):
    """Ignored Duplicate

    A record typed by hand and a linked one that a person said are not the
    same thing"""
    __name__ = 'integration.duplicate.ignored'

    record = fields.Reference(
        "Record", selection='get_models', required=True)
    linked = fields.Reference(
        "Linked Record", selection='get_models', required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('pair_unique', Unique(t, t.record, t.linked),
                'novagestao_integrations_base.msg_duplicate_ignored_unique'),
            ]

    @classmethod
    def get_models(cls):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return Binding.get_models()

    @classmethod
    def forget(cls, pairs):
        "Return the pairs that were not ignored"
        ignored = set()
        records = sorted({str(r) for pair in pairs for r in pair})
        for sub_records in grouped_slice(records, IN_MAX):
            ignored.update(
                (str(i.record), str(i.linked)) for i in cls.search(['OR',
                        ('record', 'in', list(sub_records)),
                        ('linked', 'in', list(sub_records)),
                        ]))
        return [(r, o) for r, o in pairs
            if (str(r), str(o)) not in ignored
            and (str(o), str(r)) not in ignored]

    @classmethod
    def ignore(cls, pairs):
        "Remember the (record, linked) pairs as not the same thing"
        pairs = {(str(r), str(o)) for r, o in cls.forget(pairs)}
        cls.save([cls(record=r, linked=o) for r, o in sorted(pairs)])


class Party(DuplicateMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    _integration_duplicate_fields = {'identifiers', 'active'}

    @classmethod
    def integration_duplicate_kind(cls):
        return gettext('novagestao_integrations_base.msg_duplicate_kind_party')

    @classmethod
    def integration_identifier_types(cls):
        "The identifier types that tell a party: its tax identifiers"
        return set(cls.tax_identifier_types()) | {'br_cpf'}

    def _integration_identifiers(self):
        types = self.integration_identifier_types()
        return [i for i in self.identifiers
            if i.type in types and only_digits(i.code_compact)]

    def integration_duplicate_keys(self):
        return {('tax', only_digits(i.code_compact))
            for i in self._integration_identifiers()}

    def integration_duplicate_reason(self):
        return gettext(
            'novagestao_integrations_base.msg_duplicate_reason_party',
            identifiers=', '.join(
                i.code for i in self._integration_identifiers()))

    @classmethod
    def integration_duplicate_candidates(cls, records):
        pool = Pool()
        Identifier = pool.get('party.identifier')
        codes = sorted({i.code_compact
                for r in records for i in r._integration_identifiers()})
        found = set()
        for sub_codes in grouped_slice(codes, IN_MAX):
            found.update(i.party for i in Identifier.search([
                        ('code_compact', 'in', list(sub_codes)),
                        ('type', 'in', list(
                                cls.integration_identifier_types())),
                        ]))
        return sorted(found - set(records), key=lambda p: p.id)

    @classmethod
    def integration_merge_duplicates(cls, pairs):
        """Replace each party typed by hand by the linked one, as Tryton's
        Replace wizard does: its documents go to the linked party and it is
        deactivated"""
        pool = Pool()
        Replace = pool.get('party.replace', type='wizard')
        for party, linked in pairs:
            session_id, _, _ = Replace.create()
            try:
                replace = Replace(session_id)
                replace.ask.source = party
                replace.ask.destination = linked
                replace.transition_replace()
            finally:
                Replace.delete(session_id)


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    link_manual_parties = fields.Boolean(
        "Link Contacts Typed Here",
        help="When the import meets a new contact of the external system "
        "with the tax identifier of a party typed here, it links that "
        "party instead of creating a second one.")
    link_manual_invoices = fields.Boolean(
        "Link Invoices Typed Here",
        help="When the import meets a new title of the external system "
        "with the party, amount, date and number of an invoice typed "
        "here, it links that invoice instead of creating a second one.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'find_duplicates': {
                    'invisible': Eval('status') == 'draft',
                    'depends': ['status'],
                    },
                })

    @classmethod
    def default_link_manual_parties(cls):
        return True

    @classmethod
    def default_link_manual_invoices(cls):
        return False

    @classmethod
    @ModelView.button_action(
        'novagestao_integrations_base.wizard_find_duplicates')
    def find_duplicates(cls, integrations):
        pass

    def find_duplicate_pairs(self):
        """Return [(record typed by hand, linked record)] of the records
        linked by the integration that a record typed by hand repeats"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        pairs = []
        for model in Binding._get_models():
            Model = pool.get(model)
            if not issubclass(Model, DuplicateMixin):
                continue
            linked = []
            for binding in Binding.search([
                        ('integration', '=', self.id),
                        ('record', 'like', model + ',%'),
                        ], order=[('id', 'ASC')]):
                if binding.record:
                    linked.append(binding.record)
            linked = Model.browse(sorted({r.id for r in linked}))
            pairs.extend((record, other) for other, record
                in Model.integration_duplicates_of(linked, linked=False))
        return pairs
