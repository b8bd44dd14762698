# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Invoices typed by hand that repeat one linked to an external system: the
same company, kind, party, amount, date and reference or number

The linked invoice is the book's record: the one typed by hand is cancelled
the accounting way (a posted one by its cancellation move, or credited when
the company does not cancel customer invoices), never deleted."""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .binding import IN_MAX
from .duplicate import DuplicateMixin, normal_reference
from .exceptions import IntegrationError


class Invoice(DuplicateMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'

    _integration_duplicate_fields = {
        'type', 'party', 'invoice_date', 'reference', 'lines'}

    @classmethod
    def integration_duplicate_kind(cls):
        return gettext(
            'novagestao_integrations_base.msg_duplicate_kind_invoice')

    def integration_duplicate_references(self):
        """Return the normalised references that tell the invoice: its
        reference and number (connectors add their document numbers)"""
        return {normal_reference(getattr(self, name, None))
            for name in ['reference', 'number']} - {''}

    def integration_duplicate_keys(self):
        if not self.party or not self.invoice_date or not self.company:
            return set()
        base = ('invoice', self.company.id, self.type, self.party.id,
            self.total_amount, self.invoice_date)
        return {base + (r,) for r in self.integration_duplicate_references()}

    def integration_duplicate_reason(self):
        return gettext(
            'novagestao_integrations_base.msg_duplicate_reason_invoice',
            party=self.party.rec_name,
            amount=self.currency.round(self.total_amount)
            if self.currency else self.total_amount,
            date=self.invoice_date.strftime('%d/%m/%Y'),
            reference=self.reference or self.number or '')

    def integration_duplicate_open(self):
        return self.state != 'cancelled'

    @classmethod
    def integration_duplicate_candidates(cls, records):
        records = [r for r in records if r.party and r.invoice_date]
        if not records:
            return []
        parties = sorted({r.party.id for r in records})
        dates = {r.invoice_date for r in records}
        companies = sorted({r.company.id for r in records})
        ids = {r.id for r in records}
        found = []
        for sub_parties in grouped_slice(parties, IN_MAX):
            found.extend(cls.search([
                        ('company', 'in', companies),
                        ('party', 'in', list(sub_parties)),
                        ('invoice_date', '>=', min(dates)),
                        ('invoice_date', '<=', max(dates)),
                        ('state', '!=', 'cancelled'),
                        ], order=[('id', 'ASC')]))
        return [i for i in found
            if i.id not in ids and i.invoice_date in dates]

    @classmethod
    def integration_merge_duplicates(cls, pairs):
        """Cancel each invoice typed by hand: the linked one books it
        already.  A paid invoice is not cancelled: its payment must be
        undone first."""
        pool = Pool()
        Date = pool.get('ir.date')
        invoices = cls.browse([i.id for i, _ in pairs])
        for invoice in invoices:
            if invoice.state == 'paid':
                raise IntegrationError(gettext(
                        'novagestao_integrations_base'
                        '.msg_duplicate_invoice_paid',
                        invoice=invoice.rec_name))
        credit = [i for i in invoices
            if i.type == 'out' and i.state == 'posted'
            and not i.company.cancel_invoice_out]
        for invoice in credit:
            with Transaction().set_context(company=invoice.company.id):
                today = Date.today()
            cls.credit([invoice], refund=True, invoice_date=today)
        others = [i for i in invoices
            if i not in credit and i.state != 'cancelled']
        if others:
            cls.cancel(others)
