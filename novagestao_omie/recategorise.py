# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Re-categorise the imported titles when a category mapping changes

A draft invoice gets the new account on its lines.  A posted (or paid)
invoice is never rewritten: as when its title changes after posting, it is
cancelled and replaced by a new posted invoice on the new account, which
takes its payments and its Omie link."""
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .invoice import INVOICE_TYPES, _TitleChecker

KINDS = {v: k for k, v in INVOICE_TYPES.items()}


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    def connector_recategorise(self, mappings):
        if self.connector != 'omie':
            return super().connector_recategorise(mappings)
        pool = Pool()
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(
                company=self.company.id, _skip_warnings=True):
            return Invoice.omie_recategorise(self, mappings)


class ChangeLine(metaclass=PoolMeta):
    __name__ = 'integration.mapping.change.line'

    @classmethod
    def _get_documents(cls):
        return super()._get_documents() + ['account.invoice']


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def omie_recategorise(cls, integration, mappings):
        """Move the lines of the titles of the integration that book the
        categories of the mappings on another account than their target
        Return the changes as integration.mapping.change.line values"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Line = pool.get('account.invoice.line')

        by_code = {m.external_code: m for m in mappings
            if m.state == 'confirmed' and m.target
            and m.target.__name__ == 'account.account'}
        if not by_code:
            return []
        lines = Line.search([
                ('omie_category', 'in', list(by_code)),
                ('invoice.company', '=', integration.company.id),
                ('invoice.state', '!=', 'cancelled'),
                ])
        checkers = {
            kind: _TitleChecker(integration, kind, {}, {})
            for kind in INVOICE_TYPES}
        to_move = {}
        for line in lines:
            target = by_code[line.omie_category].target
            if (line.account != target
                    and checkers[KINDS[line.invoice.type]]._usable(target)):
                to_move.setdefault(line.invoice, []).append(line)
        bindings = {
            r: b for r, b in Binding.for_records(
                integration, list(to_move)).items()
            if b.kind in INVOICE_TYPES}
        to_move = {i: l for i, l in to_move.items() if i in bindings}

        def result(line, method, correction=None):
            return {
                'mapping': by_code[line.omie_category],
                'document': line.invoice,
                'old_target': line.account,
                'new_target': by_code[line.omie_category].target,
                'method': method,
                'correction': correction,
                'amount': line.amount,
                }

        results = []
        drafts = [i for i in to_move if i.state in {'draft', 'validated'}]
        if drafts:
            results.extend(
                result(l, 'updated') for i in drafts for l in to_move[i])
            cls._omie_recategorise_drafts(
                drafts, {l: by_code[l.omie_category].target
                    for i in drafts for l in to_move[i]})
        posted = sorted(
            (i for i in to_move if i.state in {'posted', 'paid'}),
            key=lambda i: i.id)
        if posted:
            targets = {
                c: m.target.id for c, m in by_code.items()}
            replacements = cls._omie_recategorise_posted(posted, targets)
            for old, new in zip(posted, replacements):
                results.extend(
                    result(l, 'replaced', new) for l in to_move[old])
            for old, new in zip(posted, replacements):
                binding = bindings[old]
                binding.record = new
            Binding.save([bindings[i] for i in posted])
        return results

    @classmethod
    def _omie_recategorise_drafts(cls, invoices, targets):
        "Write the target account on the lines of the draft invoices"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        validated = [i for i in invoices if i.state == 'validated']
        if validated:
            cls.draft(validated)
        to_write = []
        for line, target in targets.items():
            to_write.extend([[line], {'account': target.id}])
        Line.write(*to_write)
        if validated:
            cls.validate_invoice(cls.browse(validated))

    @classmethod
    def _omie_recategorise_posted(cls, invoices, targets):
        """Cancel the posted invoices and replace each by a posted copy that
        books its categories on targets {code: account id} and takes its
        payments; paid invoices are unreconciled first
        Return the new invoices, in the order of invoices"""
        pool = Pool()
        Reconciliation = pool.get('account.move.reconciliation')

        paid = [i for i in invoices if i.state == 'paid']
        if paid:
            reconciliations = {
                l.reconciliation for i in paid for l in i.lines_to_pay
                if l.reconciliation}
            Reconciliation.delete(list(reconciliations))
            # back to posted, as the queued task of the unreconciliation
            cls.process(cls.browse([i.id for i in paid]))
        invoices = cls.browse([i.id for i in invoices])

        def keep(name):
            return lambda data: data[name]

        def account(data):
            return targets.get(data['omie_category'], data['account'])

        new_invoices = cls.copy(invoices, default={
                'number': lambda data: (
                    data['number'] if data['type'] == 'out' else None),
                'reference': keep('reference'),
                'invoice_date': keep('invoice_date'),
                'accounting_date': keep('accounting_date'),
                'payment_term_date': keep('payment_term_date'),
                'omie_nf_number': keep('omie_nf_number'),
                'omie_nf_series': keep('omie_nf_series'),
                'omie_nf_key': keep('omie_nf_key'),
                'omie_nf_cancelled': keep('omie_nf_cancelled'),
                'omie_replaces': keep('id'),
                'lines.omie_category': keep('omie_category'),
                'lines.account': account,
                })
        payments = cls._omie_detach_payments(
            list(zip(invoices, new_invoices)))
        cls._omie_cancel(cls.browse([i.id for i in invoices]))
        cls.post(new_invoices)
        cls._omie_attach_payments(payments)
        return cls.browse([i.id for i in new_invoices])
