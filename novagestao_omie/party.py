# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from stdnum.br import cnpj, cpf

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice

from novagestao_integrations_base.binding import IN_MAX, BindingMixin
from novagestao_integrations_base.conflict import (
    LOCAL, REMOTE, WAIT, view_hash)
from novagestao_integrations_base.export import importing

from . import codes
from .conflict import agree, local_party_view, party_labels, party_view

KIND = 'party'


def document_identifier(document):
    "Return the Tryton identifier (type, code) of a CNPJ/CPF, or None"
    if len(document) == 14 and cnpj.is_valid(document):
        return 'br_vat', document
    if len(document) == 11 and cpf.is_valid(document):
        return 'br_cpf', document
    return None


class Party(BindingMixin, metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def omie_import_parties(cls, integration, run, omie_parties):
        """Create or update the parties of Omie clients and suppliers

        Bound parties are updated only when Omie's content changed; an
        unbound client is linked to the party typed here with the same
        CNPJ/CPF when the integration links contacts typed here.  A
        party exported from here and changed in both systems since is a
        conflict, settled by the integration's policy or by a person."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Conflict = pool.get('integration.conflict')
        Error = pool.get('integration.sync.error')
        counts = dict.fromkeys(['created', 'updated', 'unchanged'], 0)
        if not omie_parties:
            return counts
        bindings = Binding.lookup(
            integration, KIND, [p.omie_id for p in omie_parties])
        # a party typed here with the CNPJ/CPF of a new client is linked
        # instead of creating a second one, as the integration says
        by_document = cls._omie_parties_by_document(
            [p.document for p in omie_parties
                if str(p.omie_id) not in bindings]
            ) if integration.link_manual_parties else {}
        # a party already bound to another Omie register is not linked again
        already_bound = Binding.for_records(
            integration, list(by_document.values()))
        by_document = {
            document: party for document, party in by_document.items()
            if party not in already_bound}
        categories = cls._omie_categories(
            {t for p in omie_parties for t in p.tags})
        to_save, to_bind, warnings, waiting, agreed = [], [], [], set(), []
        for omie_party in omie_parties:
            external_id = str(omie_party.omie_id)
            binding = bindings.get(external_id)
            content_hash = omie_party.content_hash()
            if binding and binding.record and (
                    binding.content_hash == content_hash):
                counts['unchanged'] += 1
                continue
            decision = None
            if binding and binding.record and binding.origin == 'export':
                decision = Conflict.arbitrate(run, binding,
                    local_party_view(integration, binding.record),
                    party_view(integration, omie_party.raw),
                    party_labels(integration), remote_data=omie_party.raw,
                    content_hash=content_hash)
            if decision == WAIT:
                waiting.add(external_id)
                continue
            if decision == LOCAL:
                # Tryton's version goes at the export: what Omie holds now
                # is what it replaces
                binding.content_hash = content_hash
                binding.remote_hash = view_hash(
                    party_view(integration, omie_party.raw))
                agreed.append(binding)
                counts['unchanged'] += 1
                continue
            if binding and binding.record:
                party = binding.record
                counts['updated'] += 1
            else:
                party = cls._omie_exported(integration, omie_party)
                if party is None:
                    party = by_document.pop(omie_party.document, None)
                if party is None:
                    party = cls()
                    counts['created'] += 1
                else:
                    counts['updated'] += 1
            if decision == REMOTE:
                party._omie_set_exported(integration, omie_party)
            warning = party._omie_set(omie_party, categories)
            if warning:
                warnings.append((omie_party, warning))
            to_save.append(party)
            to_bind.append((external_id, party, omie_party, binding))
        cls.save(to_save)
        Binding.save(agreed)
        links = []
        for external_id, party, omie_party, binding in to_bind:
            link = Binding.link(
                integration, KIND, external_id, party,
                remote_stamp=(omie_party.altered_at.isoformat()
                    if omie_party.altered_at else None),
                content_hash=omie_party.content_hash(), binding=binding)
            if codes.parse(integration, omie_party.integration_code,
                    codes.PARTY) == party.id:
                # the client was sent from here: it stays Tryton's
                link.origin = 'export'
            if getattr(link, 'origin', None) == 'export':
                agree(integration, link, omie_party.raw)
            links.append(link)
        Binding.save(links)
        warned = {str(p.omie_id) for p, _ in warnings} | waiting
        Error.resolve(integration, KIND, [
                str(p.omie_id) for p in omie_parties
                if str(p.omie_id) not in warned] + [
                # the export of a party Omie holds now is done
                codes.make(integration, codes.PARTY, party.id)
                for _, party, omie_party, _ in to_bind
                if codes.parse(integration, omie_party.integration_code,
                    codes.PARTY) == party.id])
        for omie_party, warning in warnings:
            Error.record(
                run, KIND, str(omie_party.omie_id), 'validation', warning,
                suggested_fix=gettext(
                    'novagestao_omie.msg_party_document_fix'),
                payload=omie_party.raw)
        return counts

    @classmethod
    def omie_parties_to_export(cls, integration):
        """The parties to send to Omie: those created from the export day
        on that no external system knows, and those exported whose fields
        changed here since both systems last agreed, unless a conflict of
        theirs waits for a person"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Company = pool.get('company.company')
        Conflict = pool.get('integration.conflict')
        from .export import export_since
        companies = {c.party for c in Company.search([])}
        parties = [p for p in cls.search([
                    ('create_date', '>=', export_since(integration)),
                    ('integration_linked', '=', False),
                    ], order=[('id', 'ASC')])
            if p not in companies]
        bindings = Binding.search([
                ('integration', '=', integration.id),
                ('kind', '=', KIND),
                ('origin', '=', 'export'),
                ('record', '!=', None),
                ])
        waiting = Conflict.waiting(integration, bindings)
        for binding in bindings:
            local_hash = view_hash(
                local_party_view(integration, binding.record))
            if binding.local_hash != local_hash and binding not in waiting:
                parties.append(binding.record)
        return parties

    @classmethod
    def create(cls, vlist):
        parties = super().create(vlist)
        cls._omie_export_soon()
        return parties

    @classmethod
    def write(cls, *args):
        super().write(*args)
        cls._omie_export_soon()

    @classmethod
    def _omie_export_soon(cls):
        pool = Pool()
        Integration = pool.get('integration.integration')
        if importing():
            return
        # parties belong to no company: every company's export
        Integration.export_soon(Integration.exporting('export_parties'))

    @classmethod
    def omie_deactivate(cls, integration, external_ids):
        """Deactivate the parties of Omie registers deleted there; their
        documents and accounting stay"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        parties = Binding.records_of(integration, KIND, external_ids)
        parties = [p for p in cls.browse(
                [p.id for p in parties.values()]) if p.active]
        if parties:
            cls.write(parties, {'active': False})

    @classmethod
    def omie_keep_version(cls, integration, binding, omie_party):
        """Apply to the party of binding the version of its Omie client: a
        person kept it in a conflict"""
        party = binding.record
        party._omie_set_exported(integration, omie_party)
        party._omie_set(
            omie_party, cls._omie_categories(set(omie_party.tags)))
        party.save()
        agree(integration, binding, omie_party.raw)

    def _omie_set_exported(self, integration, omie_party):
        """Set the exported fields as the Omie client has them, replacing
        what was typed here (the import alone only adds contacts); the
        address is _omie_set's, which follows and already replaces it"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        ContactMechanism = pool.get('party.contact_mechanism')
        chosen = set(integration.export_party_fields or [])
        identifier = document_identifier(omie_party.document)
        if 'document' in chosen and identifier:
            type_, code = identifier
            others = [i for i in self.identifiers
                if i.type not in {'br_vat', 'br_cpf'}]
            if not any(i.type == type_ and i.code_compact == code
                    for i in self.identifiers):
                self.identifiers = others + [
                    Identifier(type=type_, code=code)]
        mechanisms = list(self.contact_mechanisms)
        for field, type_, value in [
                ('email', 'email', omie_party.email),
                ('phone', 'phone',
                    omie_party.phones[0] if omie_party.phones else '')]:
            if field not in chosen:
                continue
            kinds = {type_, 'mobile'} if type_ == 'phone' else {type_}
            # the first of its kind is the one the export sends
            first = next((m for m in mechanisms if m.type in kinds), None)
            if first is not None and value:
                first.value = value
            elif first is not None:
                mechanisms.remove(first)
            elif value:
                mechanisms.append(ContactMechanism(type=type_, value=value))
            self.contact_mechanisms = mechanisms

    @classmethod
    def _omie_exported(cls, integration, omie_party):
        """The party exported as the Omie client, when its binding is not
        saved yet (the client's webhook came first, or the export crashed
        after Omie stored it)"""
        party_id = codes.parse(
            integration, omie_party.integration_code, codes.PARTY)
        parties = cls.search([('id', '=', party_id)]) if party_id else []
        return parties[0] if parties else None

    @classmethod
    def _omie_parties_by_document(cls, documents):
        "Return {digits: party} of the parties with these CNPJ/CPF"
        pool = Pool()
        Identifier = pool.get('party.identifier')
        documents = sorted({d for d in documents if d})
        result = {}
        for sub_documents in grouped_slice(documents, IN_MAX):
            for identifier in Identifier.search([
                        ('code_compact', 'in', list(sub_documents)),
                        ('type', 'in', ['br_vat', 'br_cpf']),
                        ]):
                result.setdefault(identifier.code_compact, identifier.party)
        return result

    @classmethod
    def _omie_categories(cls, tags):
        "Return {tag: party category}, creating the missing categories"
        pool = Pool()
        Category = pool.get('party.category')
        tags = sorted(tags)
        existing = {c.name: c for c in Category.search([
                    ('name', 'in', tags),
                    ('parent', '=', None),
                    ])}
        missing = [Category(name=t) for t in tags if t not in existing]
        Category.save(missing)
        existing.update({c.name: c for c in missing})
        return existing

    def _omie_set(self, omie_party, categories):
        """Set the fields of the party from Omie's record
        Return a warning for the user or None"""
        pool = Pool()
        Identifier = pool.get('party.identifier')
        warning = None
        name = omie_party.name or omie_party.trade_name
        if getattr(self, 'name', None) != name:
            self.name = name
        if getattr(self, 'active', True) != omie_party.active:
            self.active = omie_party.active
        identifier = document_identifier(omie_party.document)
        identifiers = list(getattr(self, 'identifiers', None) or [])
        if identifier:
            type_, code = identifier
            if not any(i.type == type_ and i.code_compact == code
                    for i in identifiers):
                identifiers.append(Identifier(type=type_, code=code))
                self.identifiers = identifiers
        elif omie_party.foreign:
            warning = gettext(
                'novagestao_omie.msg_party_foreign', party=name)
        elif omie_party.document:
            warning = gettext(
                'novagestao_omie.msg_party_invalid_document',
                party=name, document=omie_party.document)
        else:
            warning = gettext(
                'novagestao_omie.msg_party_no_document', party=name)
        self._omie_set_address(omie_party)
        self._omie_set_contacts(omie_party)
        wanted = {categories[t] for t in omie_party.tags if t in categories}
        current = set(getattr(self, 'categories', None) or [])
        if not wanted <= current:
            self.categories = list(current | wanted)
        return warning

    def _omie_set_address(self, omie_party):
        pool = Pool()
        Address = pool.get('party.address')
        street = ', '.join(filter(None, [
                    omie_party.street, omie_party.number,
                    omie_party.complement]))
        if omie_party.district:
            street = '\n'.join(filter(None, [street, omie_party.district]))
        values = {
            'street': street or None,
            'postal_code': omie_party.zip or None,
            'city': omie_party.city or None,
            }
        addresses = list(getattr(self, 'addresses', None) or [])
        address = addresses[0] if addresses else Address()
        changed = False
        for name, value in values.items():
            if getattr(address, name, None) != value:
                setattr(address, name, value)
                changed = True
        if not addresses:
            self.addresses = [address]
        elif changed:
            self.addresses = addresses

    def _omie_set_contacts(self, omie_party):
        pool = Pool()
        ContactMechanism = pool.get('party.contact_mechanism')
        mechanisms = list(getattr(self, 'contact_mechanisms', None) or [])
        known = {(m.type, m.value) for m in mechanisms}
        wanted = []
        if omie_party.email:
            for email in omie_party.email.replace(';', ',').split(','):
                if email.strip():
                    wanted.append(('email', email.strip()))
        wanted.extend(('phone', phone) for phone in omie_party.phones)
        added = [ContactMechanism(type=t, value=v)
            for t, v in wanted if (t, v) not in known]
        if added:
            self.contact_mechanisms = mechanisms + added
