# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Pending records: a sync reads again those whose cause may be gone

A record that could not import waits as a pending sync error.  Before its
incremental read, a step reads again the pending records whose cause is gone
(a category now mapped, a party, title or bank account now imported, a
period now open) and a few of the others: one by one with Omie's Consultar…
when they are few, with the whole list otherwise.  It also undoes what Omie
deleted or cancelled without its lists showing it."""
import datetime as dt
import json
from operator import attrgetter

from trytond.exceptions import UserError
from trytond.pool import Pool

from .omie import errors, records
from .settlement import settlement_title

# Up to this many pending records are read again one by one; more are read
# again with the entity's list, which costs a call per page instead.
PENDING_CONSULT_LIMIT = 20


class PendingRecords:
    "The pending records and hidden changes part of OmieSync"

    def releasable(self, errors):
        """Split the pending errors in those whose cause is gone (a category
        now mapped, a party, title or bank account now imported, a period
        now open) and those of another cause, that a new read may fix"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Mapping = pool.get('integration.mapping')
        Period = pool.get('account.period')
        codes = {e.detail for e in errors
            if e.kind == 'category_not_mapped' and e.detail}
        mapped = set(Mapping.target_of(self.integration, codes))
        needed = {}
        for error in errors:
            if error.kind != 'category_not_mapped' and ':' in (
                    error.detail or ''):
                kind, external_id = error.detail.split(':', 1)
                needed.setdefault(kind, set()).add(external_id)
        gone = set()
        for kind, external_ids in needed.items():
            if kind == 'period':
                for date in external_ids:
                    try:
                        Period.find(self.integration.company,
                            date=dt.date.fromisoformat(date))
                    except (UserError, ValueError):
                        continue
                    gone.add((kind, date))
                continue
            kinds = ['payable', 'receivable'] if kind == 'title' else [kind]
            for kind_ in kinds:
                gone |= {(kind, i) for i in Binding.records_of(
                        self.integration, kind_, external_ids)}
        if needed.get('title'):
            # a title that is neither imported nor pending was left out by
            # the filters: its records are read again to be left out too
            waiting = {e.external_id for e in Error.search([
                        ('integration', '=', self.integration.id),
                        ('entity', 'in', ['payable', 'receivable']),
                        ('external_id', 'in', list(needed['title'])),
                        ('resolved', '=', False),
                        ])}
            gone |= {('title', i) for i in needed['title'] - waiting}
        released, other = [], []
        for error in errors:
            if error.kind == 'category_not_mapped':
                if error.detail in mapped:
                    released.append(error)
            elif ':' in (error.detail or ''):
                if tuple(error.detail.split(':', 1)) in gone:
                    released.append(error)
            else:
                other.append(error)
        return released, other

    def pending_to_read(self, step, key, others=True):
        """The keys (as key(error) gives them: external ids, titles…) of
        the step's pending records to read again: those whose cause is gone
        and, with others, a few of the others, whose cause is fixed in Omie
        (which the incremental read sees) or in the configuration; None when
        so many are released that the list is better read whole"""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        released, other = self.releasable(
            Error.pending(self.integration, step.entity))
        keys = sorted(filter(None, {key(e) for e in released}))
        if len(keys) > PENDING_CONSULT_LIMIT:
            return None
        for error in sorted(other if others else [],
                key=attrgetter('last_seen')):
            if len(keys) >= PENDING_CONSULT_LIMIT:
                break
            value = key(error)
            if value and value not in keys:
                keys.append(value)
        return keys

    def retry_pending_titles(self, step):
        """Read again with Consultar… the pending titles that may import
        now; return True when there are so many that the list is better
        read whole"""
        ids = self.pending_to_read(step, attrgetter('external_id'))
        if ids is None:
            return True
        call = {
            'payable': 'ConsultarContaPagar',
            'receivable': 'ConsultarContaReceber',
            }[step.entity]
        self._consult(step, call, 'codigo_lancamento_omie', ids)
        return False

    def retry_pending_settlements(self, step):
        """Read again the settlements of the titles now imported; return
        True when the list is better read whole"""
        titles = self.pending_to_read(step, pending_settlement_title)
        if titles is None:
            return True
        for title in titles:
            self.import_pages(step, dict(step.params, nCodTitulo=title))
        return False

    def retry_pending_nfs(self, step):
        "Read again the NF whose titles are imported now"
        ids = self.pending_to_read(
            step, attrgetter('external_id'), others=False)
        if ids is None:
            return True
        self._consult(step, 'ConsultarNF', 'nCodNF', ids)
        return False

    def _consult(self, step, call, key, external_ids):
        "Read records one by one and import them; forget the deleted ones"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        raws, gone = [], []
        for external_id in external_ids:
            try:
                raws.append(self.client.call(
                        call, **{key: int(external_id)}))
            except errors.NotFoundError:
                gone.append(external_id)
        if gone and step.deleted:
            self.with_locks(getattr(self, step.deleted), step, gone)
            self.commit()
        Error.resolve(self.integration, step.entity, gone)
        if raws:
            if step.before:
                getattr(self, step.before)(step, raws)
            self.import_isolated(step, raws)
        self.commit()

    # Records changed in Omie in ways their lists do not show

    def deleted_titles(self, step, external_ids):
        "Undo the invoices of the titles deleted in Omie"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        counts = Invoice.omie_delete_titles(
            self.integration, self.run, step.entity, external_ids)
        self.run.add_counts(step.entity, **counts)

    def cancelled_settlements(self, step, raws):
        """Cancel the settlements of these titles that Omie no longer has

        Only the titles whose invoice holds more settlements than Omie says
        are paid are read again, with ListarMovimentos: a call each."""
        pool = Pool()
        Move = pool.get('account.move')
        if not self.integration.is_selected('settlement'):
            return
        titles = []
        for raw in raws:
            try:
                titles.append(step.parser.from_omie(raw))
            except ValueError:
                continue
        gone = []
        for title, bound in sorted(Move.omie_settlements_to_check(
                    self.integration, titles).items()):
            listed = set()
            for page in self.client.iterate_pages(
                    'ListarMovimentos', cTpLancamento='BX',
                    nCodTitulo=title):
                for raw in page.records:
                    try:
                        settlement = records.Settlement.from_movement(raw)
                    except ValueError:
                        continue
                    if settlement:
                        listed.add(str(settlement.omie_id))
            gone.extend(i for i in bound if i not in listed)
        if gone:
            self.with_locks(self._cancel_settlements, gone)
            self.commit()

    def _cancel_settlements(self, external_ids):
        pool = Pool()
        Move = pool.get('account.move')
        counts = Move.omie_cancel_settlements(
            self.integration, self.run, external_ids)
        self.run.add_counts('settlement', **counts)


def pending_settlement_title(error):
    "The Omie title of a pending settlement, from the error or its payload"
    if (error.detail or '').startswith('title:'):
        return records.parse_id(error.detail.split(':', 1)[1])
    try:
        return records.parse_id(
            settlement_title(json.loads(error.payload or '{}')))
    except (ValueError, TypeError, AttributeError):
        return None
