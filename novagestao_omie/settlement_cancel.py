# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Settlements cancelled in Omie (BaixaCancelada): their payments undone
in the books, and the titles whose settlements Omie may have cancelled
without notice found"""
from collections import defaultdict

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .settlement import (
    ACCOUNT_KIND, CENT, SETTLEMENT_KIND, SETTLEMENT_LINE_KIND, TITLE_KINDS,
    ZERO)


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def omie_cancel_settlements(cls, integration, run,
            settlement_external_ids):
        """Undo the payments of the settlements cancelled in Omie (by their
        codigo_baixa / nCodBaixa), as an accountant would: the invoice's
        lines are unreconciled, the payment move is cancelled by a posted
        reversal move reconciled with it, and the invoice is open again for
        what the settlement paid.  The settlement is unbound, so that it
        would import again if Omie listed it again.

        Settlements not bound (never imported, or already cancelled) are
        left alone: calling it again changes nothing.  Return the counts
        (updated: cancelled, unchanged: nothing to do)."""
        counts = dict.fromkeys(['updated', 'unchanged'], 0)
        external_ids = sorted({str(i) for i in settlement_external_ids
                if i not in (None, '')})
        if not external_ids:
            return counts
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            return cls._omie_cancel_settlements(
                integration, run, external_ids, counts)

    @classmethod
    def _omie_cancel_settlements(cls, integration, run, external_ids,
            counts):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Invoice = pool.get('account.invoice')
        Line = pool.get('account.move.line')
        PaymentLine = pool.get('account.invoice-account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')

        bindings = Binding.lookup(integration, SETTLEMENT_KIND, external_ids)
        moves, to_unbind, settlement_of = [], [], {}
        for external_id in external_ids:
            binding = bindings.get(external_id)
            if binding is None:
                counts['unchanged'] += 1
                continue
            to_unbind.append(binding)
            record, move = binding.record, None
            if record and record.__name__ == cls.__name__:
                # the move may have been deleted by hand
                move = next(iter(cls.search([('id', '=', record.id)])), None)
            if move is None:
                counts['unchanged'] += 1
            elif move.state != 'posted':
                cls.delete([move])
                counts['updated'] += 1
            else:
                moves.append(move)
                settlement_of[move.id] = external_id
                counts['updated'] += 1
        # the bindings of their clearing lines, met by the bank statements
        lines = [l for m in moves for l in m.lines]
        to_unbind.extend(b for b in Binding.for_records(
                integration, lines).values()
            if b.kind == SETTLEMENT_LINE_KIND)

        payments = PaymentLine.search([('line', 'in', [l.id for l in lines])])
        invoices = Invoice.browse(sorted({p.invoice.id for p in payments}))
        # unreconcile, as the Cancel Moves wizard does; a paid invoice
        # turns back to posted once its lines are not reconciled
        reconciliations = list({
                l.reconciliation for l in lines if l.reconciliation})
        if reconciliations:
            Reconciliation.delete(reconciliations)
        paid = [i for i in invoices if i.state == 'paid']
        if paid:
            Invoice.process(Invoice.browse([i.id for i in paid]))
        if payments:
            Invoice.remove_payment_lines([p.line for p in payments])

        moves = cls.browse([m.id for m in moves])
        cancel_moves = []
        for move in moves:
            cancel_moves.append(move.cancel(default={
                        'description': gettext(
                            'novagestao_omie'
                            '.msg_settlement_cancel_description',
                            settlement=settlement_of[move.id]),
                        }, reversal=True))
        if cancel_moves:
            cls.post(cancel_moves)
        to_reconcile = []
        for move, cancel_move in zip(moves, cancel_moves):
            by_account = defaultdict(list)
            for line in move.lines + cancel_move.lines:
                if line.account.reconcile and not line.reconciliation:
                    by_account[(line.account, line.party)].append(line)
            to_reconcile.extend(l for l in by_account.values() if len(l) > 1)
        if to_reconcile:
            Line.reconcile(*to_reconcile)
        if invoices:
            # the other payments of the invoices may pay them still
            Invoice.omie_reconcile_paid(
                Invoice.browse([i.id for i in invoices]))
        Binding.delete(to_unbind)
        # a pending settlement cancelled in Omie is pending no more
        Error.resolve(integration, SETTLEMENT_KIND, external_ids)
        return counts

    @classmethod
    def omie_settlements_to_check(cls, integration, titles):
        """Return {title Omie id: [settlement Omie ids]} for the titles
        whose invoice holds more settlements than Omie says are paid
        (valor_pag): some were cancelled in Omie.  The bound settlements of
        each are listed, to compare with those Omie still lists.  A title as
        it was imported (same content hash, which covers what Omie says is
        paid and when it last changed the title) is not checked."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Invoice = pool.get('account.invoice')
        PaymentLine = pool.get('account.invoice-account.move.line')
        result = {}
        for kind in TITLE_KINDS:
            kind_titles = {str(t.omie_id): t for t in titles
                if t and t.omie_id and t.kind == kind}
            if not kind_titles:
                continue
            title_bindings = {
                external_id: binding
                for external_id, binding in Binding.lookup(
                    integration, kind, kind_titles).items()
                if binding.content_hash
                != kind_titles[external_id].content_hash()}
            invoices = Invoice._omie_bound_invoices(title_bindings.values())
            if not invoices:
                continue
            payments = defaultdict(list)
            for payment in PaymentLine.search([
                        ('invoice', 'in', list(invoices)),
                        ]):
                payments[payment.invoice.id].append(payment.line)
            if not payments:
                continue
            settlements = {
                b.record: b.external_id for b in Binding.for_records(
                    integration, list({l.move for ls in payments.values()
                            for l in ls})).values()
                if b.kind == SETTLEMENT_KIND}
            financial = set(Binding.records_of(
                    integration, ACCOUNT_KIND,
                    ['financial_revenue', 'financial_expense']).values())
            for external_id, binding in title_bindings.items():
                invoice = invoices.get(binding.record.id) if (
                    binding.record) else None
                if invoice is None:
                    continue
                moves = {l.move for l in payments.get(invoice.id, [])
                    if l.move in settlements}
                if not moves:
                    continue
                # what Omie settled in money: the line of the bank's
                # clearing account, not the invoice's nor interest's
                paid = sum((abs(l.debit - l.credit)
                        for m in moves for l in m.lines
                        if l.account != invoice.account
                        and l.account not in financial), ZERO)
                title = kind_titles[external_id]
                if (title.paid_amount or ZERO) < paid - CENT:
                    result[title.omie_id] = sorted(
                        settlements[m] for m in moves)
        return result
