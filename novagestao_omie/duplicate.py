# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie's side of the duplicates: an invoice is also told by its NF number,
and the import links the invoice typed here that a new title repeats
instead of creating a second one (when the integration says so)"""
from trytond.pool import PoolMeta

from novagestao_integrations_base.duplicate import (
    linked_records, normal_reference)

from .invoice import INVOICE_TYPES, omie_reference


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    def integration_duplicate_references(self):
        return super().integration_duplicate_references() | (
            {normal_reference(self.omie_nf_number)} - {''})

    @classmethod
    def omie_manual_invoices(cls, integration, titles, checker):
        """Return {external id: invoice typed here} of the titles that an
        invoice no integration links repeats: same kind, party, amount,
        date and number (Omie's document or NF number)"""
        if not integration.link_manual_invoices:
            return {}
        keys = {}
        for title in titles:
            party = checker.party(title)
            date = title.issue_date or title.due_date
            if party is None or date is None:
                continue
            base = ('invoice', integration.company.id,
                INVOICE_TYPES[title.kind], party.id, title.amount, date)
            references = {normal_reference(r) for r in [
                    omie_reference(title), title.document_number,
                    title.fiscal_number]} - {''}
            for reference in references:
                keys.setdefault(base + (reference,), str(title.omie_id))
        if not keys:
            return {}
        probes = [cls(company=integration.company, party=k[3],
                invoice_date=k[5]) for k in keys]
        candidates = [i for i in cls.integration_duplicate_candidates(probes)
            if i.integration_duplicate_open()]
        bound = linked_records(candidates)
        result, used = {}, set()
        for invoice in candidates:
            if invoice in bound:
                continue
            for key in sorted(invoice.integration_duplicate_keys(), key=str):
                external_id = keys.get(key)
                if (external_id and external_id not in result
                        and invoice not in used):
                    result[external_id] = invoice
                    used.add(invoice)
        return result
