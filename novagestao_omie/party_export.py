# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The export of parties to Omie's clients and suppliers (UpsertCliente),
and the conflicts of a party changed in both systems"""
import re

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from novagestao_integrations_base.conflict import REMOTE, WAIT
from novagestao_integrations_base.export import IMPORTING

from . import codes
from .conflict import agree, local_party_view, party_labels, party_view
from .export_payloads import ExportProblem, party_payload
from .omie import errors, records

KIND = 'party'
# "Cliente já cadastrado para o CPF/CNPJ [..] com o Id [..] e código de
# integração [..] !": the Omie client that has the document already
DUPLICATE_ID = re.compile(r'com o Id \[(\d+)\]')


class NotSent(Exception):
    "The record is not sent: a conflict waits, or Omie's version was kept"


def settle_changes_both_sides(run, binding, current, views, keep_remote):
    """Before a record changed here is sent again: when its Omie version
    (current, as parsed) changed as well, the integration's policy or a
    person decides whose version goes on; raise NotSent when it is not this
    one.  views() returns (this version, Omie's, the labels) as the
    conflict shows them; keep_remote(content_hash) applies Omie's here."""
    pool = Pool()
    Conflict = pool.get('integration.conflict')
    content_hash = current.content_hash()
    if content_hash == binding.content_hash:
        return
    local_view, remote_view, labels = views()
    decision = Conflict.arbitrate(run, binding, local_view, remote_view,
        labels, remote_data=current.raw, content_hash=content_hash)
    if decision == WAIT:
        raise NotSent()
    if decision == REMOTE:
        keep_remote(content_hash)
        raise NotSent()


class PartyExport:
    """The parties of an export (OmieExport): those created or changed
    here, and those its invoices need"""

    def parties_to_export(self, invoices):
        """The parties to send: those of the invoices that Omie does not
        know yet, and those created or changed here since their export"""
        pool = Pool()
        Party = pool.get('party.party')
        roles = {}
        for invoice in invoices:
            roles.setdefault(invoice.party, set()).add(invoice.type)
        self._roles = roles
        parties = set()
        if self.integration.export_parties:
            parties.update(Party.omie_parties_to_export(self.integration))
        bound = self._party_bindings(list(roles))
        parties.update(p for p in roles if p not in bound)
        return sorted(parties, key=lambda p: p.id)

    def _party_bindings(self, parties):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return {party: binding for party, binding in Binding.for_records(
                self.integration, parties).items()
            if binding.kind == KIND}

    def party_roles(self, party):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        roles = set(self._roles.get(party, ()))
        for type_ in ('in', 'out'):
            if type_ not in roles and Invoice.search([
                        ('party', '=', party.id),
                        ('type', '=', type_),
                        ('company', '=', self.integration.company.id),
                        ], limit=1):
                roles.add(type_)
        return roles

    def export_party(self, party):
        pool = Pool()
        Binding = pool.get('integration.binding')
        binding = self._party_bindings([party]).get(party)
        if not self.integration.export_parties and not binding:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_party_off',
                    party=party.rec_name),
                gettext('novagestao_omie.msg_export_party_off_fix'),
                kind='data_conflict')
        if binding is not None:
            self.settle_changes(party, binding)
        payload = party_payload(
            self.integration, party, self.party_roles(party))
        try:
            answer = self.client.call('UpsertCliente', **payload)
        except errors.DuplicateError as error:
            answer = self._adopt_party(party, error)
        omie_id = records.parse_id(
            answer.get('codigo_cliente_omie'), 'codigo_cliente_omie')
        # by its code: the same call as settle_changes' would be answered
        # from the client's cache, and is one Omie refuses within a minute
        consulted = records.Party.from_omie(as_listed(self.client.call(
                    'ConsultarCliente',
                    codigo_cliente_integracao=payload[
                        'codigo_cliente_integracao'])))
        # Omie's webhook of the client may have bound it meanwhile
        binding = binding or Binding.lookup(
            self.integration, KIND, [omie_id]).get(str(omie_id))
        binding = Binding.link(
            self.integration, KIND, omie_id, party,
            remote_stamp=stamp(consulted),
            content_hash=consulted.content_hash(), binding=binding)
        binding.origin = 'export'
        agree(self.integration, binding, consulted.raw)
        binding.save()

    def settle_changes(self, party, binding):
        """Before a party changed here is sent again: when its Omie client
        changed as well, the integration's policy or a person decides
        whose version goes on (NotSent when it is not this one)"""
        pool = Pool()
        Party = pool.get('party.party')
        omie_id = int(binding.external_id)
        current = records.Party.from_omie(as_listed(self.client.call(
                    'ConsultarCliente', codigo_cliente_omie=omie_id)))

        def views():
            return (local_party_view(self.integration, party),
                party_view(self.integration, current.raw),
                party_labels(self.integration))

        def keep_remote(content_hash):
            with Transaction().set_context({IMPORTING: True}):
                Party.omie_keep_version(self.integration, binding, current)
            binding.content_hash = content_hash
            binding.save()
        settle_changes_both_sides(
            self.run, binding, current, views, keep_remote)

    def _adopt_party(self, party, error):
        """Omie has a client of the party's CNPJ/CPF already: when no
        Tryton party stands for it yet, it is the same one; link it"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        omie_id = DUPLICATE_ID.search(error.faultstring or '')
        if omie_id and not Binding.lookup(
                self.integration, KIND, [omie_id.group(1)]):
            code = codes.make(self.integration, codes.PARTY, party.id)
            return self.client.call('AssociarCodIntCliente',
                codigo_cliente_omie=int(omie_id.group(1)),
                codigo_cliente_integracao=code)
        raise ExportProblem(
            gettext('novagestao_omie.msg_export_party_duplicate',
                party=party.rec_name, error=error.faultstring or ''),
            gettext('novagestao_omie.msg_export_party_duplicate_fix'),
            kind='data_conflict')

    def party_omie_id(self, party):
        binding = self._party_bindings([party]).get(party)
        if binding is None:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_party_missing',
                    party=party.rec_name),
                gettext('novagestao_omie.msg_export_party_missing_fix'),
                kind='data_conflict')
        return int(binding.external_id)


def as_listed(client):
    """The client as ListarClientes shows it to the import, which asks
    for neither its notes (exibir_obs) nor its features
    (exibir_caracteristicas): its content hash is then the import's"""
    return {k: v for k, v in client.items()
        if k not in {'observacao', 'caracteristicas'}}


def stamp(record):
    "The remote stamp of a binding: when Omie last changed the record"
    return record.altered_at.isoformat() if record.altered_at else None
