# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What Omie and Tryton each hold of the exported fields of a party or an
invoice, to tell which side changed since they last agreed (conflicts of a
bidirectional sync), and Omie's version applied when a person keeps it"""
import json

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from novagestao_integrations_base.conflict import view_hash

from .export_payloads import (
    ExportProblem, invoice_due_date, money, party_payload)
from .omie import records

TITLE_KINDS = {'payable', 'receivable'}

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


# the fields of an exported title either side may change; its category
# comes from the accounts of the invoice, which a posted invoice keeps
TITLE_VIEW = {
    'numero_documento': ('document_number', 'msg_export_field_document_number'),
    'observacao': ('observation', 'msg_export_field_observation'),
    'valor_documento': (None, 'msg_view_amount'),
    'data_vencimento': (None, 'msg_view_due_date'),
    }
# what a posted invoice cannot take without being cancelled and replaced
TITLE_MATERIAL = {'valor_documento', 'data_vencimento'}


def title_labels(integration):
    "{view key: label} of the invoice fields the integration exports"
    chosen = set(integration.export_invoice_fields or [])
    return {key: gettext('novagestao_omie.%s' % message)
        for key, (field, message) in TITLE_VIEW.items()
        if field is None or field in chosen}


def title_view(integration, data):
    """{view key: value} of a conta_pagar/receber_cadastro: Omie's title,
    or what local_title_view makes of an invoice"""
    values = {
        'numero_documento': records.clean_text(data.get('numero_documento')),
        'observacao': records.clean_text(data.get('observacao')),
        'valor_documento': '%.2f' % float(data.get('valor_documento') or 0),
        'data_vencimento': records.clean_text(data.get('data_vencimento')),
        }
    return {key: values[key] for key in title_labels(integration)}


def local_title_view(integration, invoice):
    "{view key: value} of the Tryton invoice as the export sends it"
    try:
        due = records.format_date(invoice_due_date(invoice))
    except ExportProblem:
        due = ''
    return title_view(integration, {
            'numero_documento': (invoice.reference or invoice.number
                or '')[:20],
            'observacao': invoice.description,
            'valor_documento': money(invoice.total_amount),
            'data_vencimento': due,
            })


def material_change(integration, invoice, omie_data):
    "Whether Omie's title differs from the invoice on its amount or due date"
    local = local_title_view(integration, invoice)
    remote = title_view(integration, omie_data)
    return any(local[k] != remote[k] for k in TITLE_MATERIAL)


def agree_title(integration, binding, invoice, omie_data, local=True):
    """Record on the binding of a title that both systems now agree on the
    exported fields (on Omie's side only, when local is False: Tryton's
    version is still to be sent)"""
    if local:
        binding.local_hash = view_hash(local_title_view(integration, invoice))
    binding.remote_hash = view_hash(title_view(integration, omie_data))


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def get_conflict_policies(cls):
        return [(policy, gettext('novagestao_omie.msg_conflict_policy_remote')
                if policy == 'remote' else label)
            for policy, label in super().get_conflict_policies()]

    def conflict_keep_remote(self, conflict):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        binding = conflict.binding
        if self.connector != 'omie' or binding.kind not in (
                TITLE_KINDS | {'party'}):
            return super().conflict_keep_remote(conflict)
        data = json.loads(conflict.remote_data)
        if binding.kind == 'party':
            omie_party = records.Party.from_omie(data)
            Party.omie_keep_version(self, binding, omie_party)
            binding.content_hash = conflict.content_hash
            binding.save()
        else:
            # as the import applies it: a posted invoice whose amount or
            # due date changed is cancelled and replaced
            Invoice.omie_keep_titles(self, conflict.run or self.runs[0],
                [records.Title.from_omie(data, binding.kind)])
