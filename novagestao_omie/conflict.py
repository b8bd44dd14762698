# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What Omie and Tryton each hold of the exported fields of a party, to
tell which side changed since they last agreed (conflicts of a
bidirectional sync), and Omie's version applied when a person keeps it"""
import json

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from novagestao_integrations_base.conflict import view_hash

from .export_payloads import party_payload
from .omie import records

# {view key: (export field that sends it or None, message of its label)}
PARTY_VIEW = {
    'razao_social': (None, 'msg_view_name'),
    'cnpj_cpf': ('document', 'msg_export_field_document'),
    'email': ('email', 'msg_export_field_email'),
    'telefone': ('phone', 'msg_export_field_phone'),
    'endereco': ('address', 'msg_view_street'),
    'bairro': ('address', 'msg_view_district'),
    'cep': ('address', 'msg_view_postal_code'),
    'cidade': ('address', 'msg_view_city'),
    }


def party_labels(integration):
    "{view key: label} of the party fields the integration exports"
    chosen = set(integration.export_party_fields or [])
    return {key: gettext('novagestao_omie.%s' % message)
        for key, (field, message) in PARTY_VIEW.items()
        if field is None or field in chosen}


def party_view(integration, data):
    """{view key: value} of a clientes_cadastro: Omie's client, or the
    payload of a Tryton party"""
    street = ', '.join(filter(None, [
                records.clean_text(data.get(k))
                for k in ('endereco', 'endereco_numero', 'complemento')]))
    values = {
        'razao_social': records.clean_text(data.get('razao_social')),
        'cnpj_cpf': records.only_digits(data.get('cnpj_cpf')),
        'email': records.clean_text(data.get('email')),
        'telefone': records.only_digits(data.get('telefone1_ddd'))
        + records.only_digits(data.get('telefone1_numero')),
        'endereco': street,
        'bairro': records.clean_text(data.get('bairro')),
        'cep': records.only_digits(data.get('cep')),
        # Omie shows the city with its state: "SAO PAULO (SP)"
        'cidade': records.city_name(data.get('cidade')),
        }
    return {key: values[key] for key in party_labels(integration)}


def local_party_view(integration, party):
    "{view key: value} of the Tryton party as the export sends it"
    return party_view(integration, party_payload(integration, party, ()))


def agree(integration, binding, omie_data):
    """Record on the binding of a party that both systems now agree: the
    hashes of each side's exported fields"""
    binding.local_hash = view_hash(
        local_party_view(integration, binding.record))
    binding.remote_hash = view_hash(party_view(integration, omie_data))


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def get_conflict_policies(cls):
        return [(policy, gettext('novagestao_omie.msg_conflict_policy_remote')
                if policy == 'remote' else label)
            for policy, label in super().get_conflict_policies()]

    def conflict_keep_remote(self, conflict):
        pool = Pool()
        Party = pool.get('party.party')
        binding = conflict.binding
        if self.connector != 'omie' or binding.kind != 'party':
            return super().conflict_keep_remote(conflict)
        omie_party = records.Party.from_omie(json.loads(conflict.remote_data))
        Party.omie_keep_version(self, binding, omie_party)
        binding.content_hash = conflict.content_hash
        binding.save()
