# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie's NF-e on the invoices of their titles: number, series and key"""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta

from .invoice import INVOICE_TYPES, NF_KIND


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def omie_import_nfs(cls, integration, run, nfs):
        """Set the number, series and key of Omie's NF-e on the invoices of
        their titles; note the cancelled ones"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        counts = dict.fromkeys(
            ['created', 'updated', 'unchanged', 'skipped'], 0)
        nfs = [n for n in nfs if n.omie_id]
        if not nfs:
            return counts
        bindings = Binding.lookup(
            integration, NF_KIND, [n.omie_id for n in nfs])
        title_ids = {t for n in nfs for t in n.title_omie_ids}
        titles = {}
        for kind in INVOICE_TYPES:
            for external_id, binding in Binding.lookup(
                    integration, kind, title_ids).items():
                titles[external_id] = binding
        invoices = cls._omie_bound_invoices(titles.values())
        waiting = {e.external_id for e in Error.search([
                    ('integration', '=', integration.id),
                    ('entity', 'in', list(INVOICE_TYPES)),
                    ('external_id', 'in', [str(i) for i in title_ids]),
                    ('resolved', '=', False),
                    ])}

        to_save, to_bind, resolved, pending = [], [], [], []
        for nf in nfs:
            external_id = str(nf.omie_id)
            binding = bindings.get(external_id)
            content_hash = nf.content_hash()
            if binding and binding.content_hash == content_hash:
                counts['unchanged'] += 1
                resolved.append(external_id)
                continue
            nf_invoices = []
            for title_id in nf.title_omie_ids:
                title_binding = titles.get(str(title_id))
                if title_binding and title_binding.record:
                    invoice = invoices.get(title_binding.record.id)
                    if invoice:
                        nf_invoices.append(invoice)
            if not nf_invoices:
                if not nf.cancelled and any(
                        str(t) in waiting for t in nf.title_omie_ids):
                    pending.append(nf)
                    counts['skipped'] += 1
                else:
                    counts['unchanged'] += 1
                    resolved.append(external_id)
                    to_bind.append((nf, binding))
                continue
            changed = False
            for invoice in nf_invoices:
                if invoice._omie_set_nf(nf):
                    to_save.append(invoice)
                    changed = True
            counts['updated' if binding and changed else
                'created' if changed else 'unchanged'] += 1
            to_bind.append((nf, binding))
            resolved.append(external_id)
        cls.save(to_save)
        Binding.save([
                Binding.link(
                    integration, NF_KIND, str(nf.omie_id),
                    remote_stamp=(nf.altered_at.isoformat()
                        if nf.altered_at else None),
                    content_hash=nf.content_hash(), binding=binding)
                for nf, binding in to_bind])
        Error.resolve(integration, NF_KIND, resolved)
        for nf in pending:
            Error.record(
                run, NF_KIND, str(nf.omie_id), 'data_conflict',
                gettext('novagestao_omie.msg_nf_titles_missing',
                    number=nf.number or nf.omie_id),
                suggested_fix=gettext(
                    'novagestao_omie.msg_nf_titles_missing_fix'),
                payload=nf.raw,
                detail='title:%s' % next(
                    (t for t in nf.title_omie_ids if str(t) in waiting),
                    ''))
        return counts

    def _omie_set_nf(self, nf):
        "Set the NF fields from Omie's NF; return whether any changed"
        values = {
            'omie_nf_number': nf.number or self.omie_nf_number,
            'omie_nf_series': nf.series or self.omie_nf_series,
            'omie_nf_key': nf.key or self.omie_nf_key,
            'omie_nf_cancelled': nf.cancelled,
            }
        changed = False
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        return changed
