# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Titles undone in Omie (deleted, cancelled, their settlements replaced):
their invoices cancelled, their payments detached and attached again, the
invoices paid in full reconciled"""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def omie_delete_titles(cls, integration, run, kind, external_ids):
        """Undo the invoices of the titles deleted in Omie (ExcluirConta…)

        Posted accounting is never deleted: the settlements imported for
        the title are cancelled first (see account.move
        omie_cancel_settlements), then the invoice is cancelled as a
        cancelled title is.  Only a draft invoice without number is
        deleted, with its binding.  A title neither imported nor pending,
        or already undone, changes nothing: calling it again is harmless.
        Return the counts (updated, unchanged)."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Move = pool.get('account.move')
        counts = dict.fromkeys(['updated', 'unchanged'], 0)
        external_ids = sorted({str(i) for i in external_ids
                if i not in (None, '')})
        if not external_ids:
            return counts
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            bindings = Binding.lookup(integration, kind, external_ids)
            invoices = cls._omie_bound_invoices(bindings.values())
            to_cancel, to_delete, to_unbind = [], [], []
            for external_id in external_ids:
                binding = bindings.get(external_id)
                invoice = invoices.get(binding.record.id) if (
                    binding and binding.record) else None
                if invoice is None:
                    if binding:
                        to_unbind.append(binding)
                    counts['unchanged'] += 1
                elif invoice.state == 'cancelled':
                    counts['unchanged'] += 1
                elif invoice.state == 'draft' and not invoice.number:
                    to_delete.append(invoice)
                    to_unbind.append(binding)
                    counts['updated'] += 1
                else:
                    to_cancel.append(invoice)
                    counts['updated'] += 1
            # Omie deletes a title only once its settlements are cancelled
            settlements = Binding.for_records(integration, list({
                        l.move for i in to_cancel for l in i.payment_lines}))
            Move.omie_cancel_settlements(integration, run, [
                    b.external_id for b in settlements.values()
                    if b.kind == 'settlement'])
            cls._omie_cancel(cls.browse([i.id for i in to_cancel]))
            Binding.delete(to_unbind)
            cls.delete(to_delete)
            # a deleted title is pending no more
            Error.resolve(integration, kind, external_ids)
            # unless paid by payments of its own
            for invoice in cls.browse([i.id for i in to_cancel]):
                if invoice.state == 'cancelled':
                    continue
                counts['updated'] -= 1
                counts['skipped'] = counts.get('skipped', 0) + 1
                external_id, = [e for e, b in bindings.items()
                    if b.record == invoice]
                Error.record(
                    run, kind, external_id, 'data_conflict',
                    gettext('novagestao_omie.msg_title_deleted_paid',
                        invoice=invoice.rec_name),
                    suggested_fix=gettext(
                        'novagestao_omie.msg_title_deleted_paid_fix'))
        return counts

    @classmethod
    def _omie_cancel(cls, invoices):
        """Cancel the invoices, posted ones by a cancellation move; a
        posted customer invoice is credited when the company does not allow
        cancelling them"""
        pool = Pool()
        Date = pool.get('ir.date')
        invoices = [i for i in invoices if i.state != 'cancelled']
        credit = [i for i in invoices
            if i.type == 'out' and i.state in {'posted', 'validated'}
            and i.move and not i.company.cancel_invoice_out]
        if credit:
            with Transaction().set_context(company=credit[0].company.id):
                today = Date.today()
            cls.credit(credit, refund=True, invoice_date=today)
        others = [i for i in invoices if i not in credit]
        if others:
            cls.cancel(others)

    @classmethod
    def _omie_detach_payments(cls, replacements):
        """Take the payments off the invoices being replaced
        Return [(new invoice, payment lines)] to give them to"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        result, lines = [], []
        for old, new in replacements:
            payments = [l for l in old.payment_lines if not l.reconciliation]
            if payments and old.state != 'cancelled' and (
                    old.party == new.party):
                result.append((new, payments))
                lines.extend(payments)
        if lines:
            Invoice.remove_payment_lines(lines)
        return result

    @classmethod
    def _omie_attach_payments(cls, payments):
        "Give the payment lines to the new invoices, reconcile the paid"
        if not payments:
            return
        cls.add_payment_lines({
                invoice: lines for invoice, lines in payments
                if invoice.account == lines[0].account})
        cls.omie_reconcile_paid([invoice for invoice, _ in payments])

    @classmethod
    def omie_reconcile_paid(cls, invoices):
        """Reconcile the invoices whose payments cover them and mark them
        paid, as the Pay wizard does"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        invoices = cls.browse(sorted({i.id for i in invoices}))
        to_reconcile, paid = [], []
        for invoice in invoices:
            if invoice.state != 'posted':
                continue
            lines = [l for l in invoice.lines_to_pay + invoice.payment_lines
                if not l.reconciliation]
            if not lines or any(l.account != invoice.account for l in lines):
                continue
            if sum(l.debit - l.credit for l in lines) == 0 and any(
                    l in invoice.payment_lines for l in lines):
                to_reconcile.append(lines)
                paid.append(invoice)
        if to_reconcile:
            MoveLine.reconcile(*to_reconcile)
            # as the queued task of the reconciliation would
            cls.process(paid)
        return paid
