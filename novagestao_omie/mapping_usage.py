# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The booking history that the mapping suggestions of Omie categories use

* the invoice lines imported for an Omie category (omie_category) that
  were booked, or re-booked by the user, on an account;
* the invoice lines, imported or entered by hand, of the suppliers and
  customers of the titles that wait for the category."""
import json

from sql.aggregate import Count

from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

PARTY_KIND = 'party'


def payload_party(payload):
    "Return the Omie id of the party of a title's payload, or None"
    try:
        data = json.loads(payload or '')
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    details = data.get('detalhes')
    for value in [
            data.get('codigo_cliente_fornecedor'),
            details.get('nCodCliente') if isinstance(details, dict)
            else None]:
        if value not in (None, '', 0, '0'):
            return str(value)


class Mapping(metaclass=PoolMeta):
    __name__ = 'integration.mapping'

    @classmethod
    def _usage_lines(cls):
        "Return the invoice line and invoice tables and the line condition"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.invoice.line')
        line = Line.__table__()
        invoice = Invoice.__table__()
        return line, invoice, (
            (line.type == 'line') & (invoice.state != 'cancelled'))

    @classmethod
    def _mapping_usage(cls, integration, codes):
        usage = super()._mapping_usage(integration, codes)
        if integration.connector != 'omie' or not codes:
            return usage
        line, invoice, condition = cls._usage_lines()
        cursor = Transaction().connection.cursor()
        for sub_codes in grouped_slice(list(codes)):
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id
                    ).select(
                    line.omie_category, line.account, Count(),
                    where=condition
                    & (invoice.company == integration.company.id)
                    & line.omie_category.in_(list(sub_codes)),
                    group_by=[line.omie_category, line.account]))
            for code, account, count in cursor:
                counts = usage.setdefault(code, {})
                counts[account] = counts.get(account, 0) + count
        return usage

    @classmethod
    def _mapping_party_usage(cls, integration, codes):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        usage = super()._mapping_party_usage(integration, codes)
        if integration.connector != 'omie' or not codes:
            return usage
        waiting = {}
        for error in Error.search([
                    ('integration', '=', integration.id),
                    ('kind', '=', 'category_not_mapped'),
                    ('detail', 'in', list(codes)),
                    ('resolved', '=', False),
                    ]):
            party = payload_party(error.payload)
            if party:
                waiting.setdefault(error.detail, set()).add(party)
        parties = Binding.records_of(
            integration, PARTY_KIND, set().union(*waiting.values()))
        by_party = cls._party_account_counts(
            integration, {p.id for p in parties.values()})
        for code, omie_ids in waiting.items():
            counts = usage.setdefault(code, {})
            for party in {parties[i].id for i in omie_ids if i in parties}:
                for account, count in by_party.get(party, {}).items():
                    counts[account] = counts.get(account, 0) + count
        return usage

    @classmethod
    def _party_account_counts(cls, integration, party_ids):
        "Return {party id: {account id: count}} of their invoice lines"
        line, invoice, condition = cls._usage_lines()
        cursor = Transaction().connection.cursor()
        result = {}
        for sub_ids in grouped_slice(list(party_ids)):
            cursor.execute(*line.join(invoice,
                    condition=line.invoice == invoice.id
                    ).select(
                    invoice.party, line.account, Count(),
                    where=condition
                    & (invoice.company == integration.company.id)
                    & invoice.party.in_(list(sub_ids)),
                    group_by=[invoice.party, line.account]))
            for party, account, count in cursor:
                result.setdefault(party, {})[account] = count
        return result
