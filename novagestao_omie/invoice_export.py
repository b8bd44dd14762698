# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Which invoices and payments of Tryton go to Omie, the changes that
queue their export, and Omie's changes of the titles exported"""
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from novagestao_integrations_base.binding import IN_MAX
from novagestao_integrations_base.conflict import (
    KEEPING_REMOTE, LOCAL, REMOTE, WAIT, view_hash)
from novagestao_integrations_base.export import IMPORTING, importing

from .conflict import (
    agree_title, local_title_view, material_change, title_labels, title_view)

TITLE_KINDS = ['payable', 'receivable']
SETTLEMENT_KIND = 'settlement'


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def omie_invoices_to_export(cls, integration):
        """The posted invoices created in Tryton from the export day on
        that Omie does not hold yet"""
        company = integration.company
        invoices = cls.search([
                ('company', '=', company.id),
                ('type', 'in', ['in', 'out']),
                ('state', 'in', ['posted', 'paid']),
                ('invoice_date', '>=', integration.export_from),
                ('currency', '=', company.currency.id),
                ('integration_linked', '=', False),
                ], order=[('invoice_date', 'ASC'), ('id', 'ASC')])
        # a credit note is no Omie title (their value is positive), such
        # as those that cancel imported invoices the company may not cancel
        return [i for i in invoices if i.total_amount > 0]

    @classmethod
    def omie_changed_to_export(cls, integration):
        """The invoices exported whose exported fields changed here since
        both systems last agreed, unless a conflict of theirs waits"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Conflict = pool.get('integration.conflict')
        bindings = {b.record.id: b for b in Binding.search([
                    ('integration', '=', integration.id),
                    ('kind', 'in', TITLE_KINDS),
                    ('origin', '=', 'export'),
                    ('local_hash', 'not in', [None, 'cancelled']),
                    ]) if b.record}
        # read together, and only a write since can have changed them
        changed = [(i, bindings[i.id]) for i in cls.browse(list(bindings))
            if i.state in {'posted', 'paid'} and i.write_date
            and bindings[i.id].last_synced
            and i.write_date >= bindings[i.id].last_synced]
        waiting = Conflict.waiting(integration, [b for _, b in changed])
        return [i for i, b in changed if b not in waiting
            and view_hash(local_title_view(integration, i)) != b.local_hash]

    def _omie_settle_exported(self, integration, run, binding, title):
        """Apply Omie's change of the title of this exported invoice unless
        it conflicts with one made here (the integration's policy or a
        person decides then)

        Return 'wait' (a person decides), 'replace' (Omie's amount or due
        date: cancelled and replaced like an imported title), 'updated' (its
        texts taken) or 'unchanged'; the binding is updated to match."""
        pool = Pool()
        Conflict = pool.get('integration.conflict')
        decision = Conflict.arbitrate(run, binding,
            local_title_view(integration, self),
            title_view(integration, title.raw), title_labels(integration),
            remote_data=title.raw, content_hash=title.content_hash())
        if decision == WAIT:
            return 'wait'
        if decision == LOCAL:
            # Tryton's version goes at the export
            agree_title(integration, binding, self, title.raw, local=False)
            return 'unchanged'
        if decision == REMOTE and material_change(
                integration, self, title.raw):
            binding.origin = 'import'
            return 'replace'
        changed = decision == REMOTE and self._omie_set_exported_texts(
            integration, title)
        agree_title(integration, binding, self, title.raw)
        return 'updated' if changed else 'unchanged'

    def _omie_set_exported_texts(self, integration, title):
        """Set the exported texts of the invoice as Omie's title has them
        Return whether any changed"""
        chosen = set(integration.export_invoice_fields or [])
        values = {}
        if 'document_number' in chosen:
            values['reference'] = title.raw.get('numero_documento') or None
        if 'observation' in chosen:
            values['description'] = title.raw.get('observacao') or None
        changed = False
        for name, value in values.items():
            if getattr(self, name, None) != value:
                setattr(self, name, value)
                changed = True
        return changed

    @classmethod
    def omie_keep_titles(cls, integration, run, titles):
        "Apply Omie's version of the titles: a person or the policy kept it"
        with Transaction().set_context(
                {IMPORTING: True, KEEPING_REMOTE: True}):
            for kind in TITLE_KINDS:
                cls._omie_import_titles(integration, run,
                    [t for t in titles if t.kind == kind], kind)

    @classmethod
    def omie_cancelled_to_export(cls, integration):
        "The bindings of exported titles whose invoice was cancelled since"
        pool = Pool()
        Binding = pool.get('integration.binding')
        bindings = Binding.search([
                ('integration', '=', integration.id),
                ('kind', 'in', TITLE_KINDS),
                ('origin', '=', 'export'),
                ('local_hash', '!=', 'cancelled'),
                ])
        return [b for b in bindings
            if b.record and b.record.state == 'cancelled']

    @classmethod
    def omie_payments_to_export(cls, integration, invoices=None):
        """[(payment line, title binding)] of the payments made in Tryton,
        from the export day on, of invoices that Omie holds (of invoices
        only, when given)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        PaymentLine = pool.get('account.invoice-account.move.line')
        links = PaymentLine.search([
                ('invoice.company', '=', integration.company.id),
                ('line.move.state', '=', 'posted'),
                ('line.move.date', '>=', integration.export_from),
                ] + ([('invoice', 'in', [i.id for i in invoices])]
                if invoices is not None else []),
            order=[('line.move.date', 'ASC'), ('id', 'ASC')])
        # a payment of Tryton's pay wizard has its invoice as origin, the
        # settlements imported from Omie are bound, a statement's are not
        # the invoice's
        links = [l for l in links if l.line.move.origin == l.invoice]
        moves = {l.line.move for l in links}
        bound_moves = set()
        for sub in grouped_slice(list(moves), IN_MAX):
            bound_moves.update(Binding.for_records(integration, list(sub)))
        titles = {}
        for sub in grouped_slice(list({l.invoice for l in links}), IN_MAX):
            titles.update({invoice: b for invoice, b in Binding.for_records(
                        integration, list(sub)).items()
                    if b.kind in TITLE_KINDS})
        return [(l.line, titles[l.invoice]) for l in links
            if l.line.move not in bound_moves and l.invoice in titles]

    @classmethod
    def omie_reversed_to_export(cls, integration):
        """[(settlement binding, title kind)] of the exported payments that
        no longer pay their invoice"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        result = []
        for binding in Binding.search([
                    ('integration', '=', integration.id),
                    ('kind', '=', SETTLEMENT_KIND),
                    ('origin', '=', 'export'),
                    ]):
            move = binding.record
            invoice = move.origin if move else None
            if (move is None or invoice is None
                    or invoice.__name__ != cls.__name__):
                continue
            if not set(move.lines) & set(invoice.payment_lines):
                result.append((binding,
                        'receivable' if invoice.type == 'out'
                        else 'payable'))
        return result

    # the changes that queue an export soon

    @classmethod
    def post(cls, invoices):
        super().post(invoices)
        cls._omie_export_soon(invoices, 'export_invoices')

    @classmethod
    def cancel(cls, invoices):
        super().cancel(invoices)
        cls._omie_export_soon(invoices, 'export_invoices')

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        paid, edited = [], []
        for invoices, values in zip(actions, actions):
            if 'payment_lines' in values:
                paid.extend(invoices)
            # what a posted invoice lets users change, and Omie shows
            if values.keys() & {'reference', 'description'}:
                edited.extend(i for i in invoices
                    if i.state in {'posted', 'paid'})
        cls._omie_export_soon(paid, 'export_payments')
        cls._omie_export_soon(edited, 'export_invoices')

    @classmethod
    def _omie_export_soon(cls, invoices, switch):
        pool = Pool()
        Integration = pool.get('integration.integration')
        if importing():
            return
        for company in {i.company for i in invoices}:
            Integration.export_soon(Integration.exporting(switch, company))
