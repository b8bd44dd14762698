# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""What the events of a webhook batch do to the records: read again and
imported, deleted, settlements cancelled or read, statement months read"""
import logging

from trytond.i18n import gettext
from trytond.pool import Pool

from .omie import errors, records
from .settlement import SETTLEMENT_KIND

logger = logging.getLogger(__name__)

# The Omie method that reads one record of each entity, and its key
CONSULT = {
    'party': ('ConsultarCliente', 'codigo_cliente_omie'),
    'payable': ('ConsultarContaPagar', 'codigo_lancamento_omie'),
    'receivable': ('ConsultarContaReceber', 'codigo_lancamento_omie'),
    'bank_account': ('ConsultarContaCorrente', 'nCodCC'),
    'category': ('ConsultarCategoria', 'codigo'),
    'nf': ('ConsultarNF', 'nCodNF'),
    }


class WebhookActions:
    """The actions of a WebhookBatch, each noting what it did for the
    events that asked it (see WebhookBatch.note and .isolated)"""

    def refresh(self, entity, external_ids):
        """Read the records again and import them

        Many records of an entity are read with lists (see webhook_bulk),
        the others one by one.  A record Omie answers it does not know is
        not taken for deleted: only its deletion event says so, and a read
        may miss a record that was just created.  Its events wait and are
        tried again."""
        call, key = CONSULT[entity]
        to_read = sorted(external_ids, key=str)
        read = {}
        if self.bulk.handles(entity, len(to_read)):
            try:
                read, waits = self.bulk.read(entity, {
                        i: self.received.get((entity, i)) for i in to_read})
            except errors.OmieError as error:
                outcome = self.outcome(error)
                if outcome[0] != 'failed':
                    for external_id in to_read:
                        self.failures[('refresh', entity, external_id)] = (
                            outcome)
                    return
                # a list refused for good: each record is read on its own
                logger.info("webhook list of %s refused", entity,
                    exc_info=True)
                read, waits = {}, {}
            for external_id, seconds in waits.items():
                self.failures[('refresh', entity, external_id)] = (
                    'postpone', gettext('novagestao_omie.msg_webhook_wait',
                        seconds=seconds), seconds)
            to_read = [i for i in to_read if i not in read and i not in waits]
        for external_id in to_read:
            try:
                read[external_id] = self.sync.client.call(
                    call, **{key: external_id})
            except errors.NotFoundError:
                self.failures[('refresh', entity, external_id)] = (
                    'retry', gettext(
                        'novagestao_omie.msg_webhook_not_found',
                        entity=self.label(entity), id=external_id), None)
            except errors.OmieError as error:
                self.failures[('refresh', entity, external_id)] = (
                    self.outcome(error))
        if not read:
            return
        if entity in {'payable', 'receivable'}:
            self.refresh_missing_parties(read.values())
        # imported in the chunks of the sync: each holds its locks briefly
        ids, chunk = sorted(read, key=str), self.steps[entity].chunk
        for start in range(0, len(ids), chunk):
            self.isolated('refresh', entity, ids[start:start + chunk],
                lambda entity, ids: self.import_read(
                    entity, [read[i] for i in ids], ids))

    def import_read(self, entity, raws, external_ids):
        self.sync.with_locks(
            self.sync.import_records, self.steps[entity], raws)
        self.sync.commit()
        for external_id in external_ids:
            self.note('refresh', entity, external_id, gettext(
                    'novagestao_omie.msg_webhook_applied',
                    entity=self.label(entity), id=external_id))

    def refresh_missing_parties(self, raws):
        "Import first the clients and suppliers of titles not imported yet"
        pool = Pool()
        Binding = pool.get('integration.binding')
        wanted = {records.parse_id(r.get('codigo_cliente_fornecedor'))
            for r in raws} - {None}
        bound = Binding.lookup(self.integration, 'party', wanted)
        missing = {i for i in wanted if str(i) not in bound}
        if missing and self.integration.is_selected('party'):
            self.refresh('party', missing)

    def delete(self, entity, external_ids):
        """Cancel or deactivate the local records of records Omie says are
        deleted (a deletion event)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Mapping = pool.get('integration.mapping')
        Party = pool.get('party.party')
        external_ids = sorted(external_ids, key=str)
        if entity == 'party':
            Party.omie_deactivate(self.integration, external_ids)
            message = 'msg_webhook_party_deleted'
        elif entity in {'payable', 'receivable'}:
            self.sync.with_locks(
                Invoice.omie_delete_titles, self.integration, self.run,
                entity, [str(i) for i in external_ids])
            message = 'msg_webhook_title_deleted'
        elif entity == 'category':
            Mapping.omie_deactivate(self.integration, external_ids)
            message = 'msg_webhook_category_deleted'
        else:
            message = 'msg_webhook_kept'
        self.sync.commit()
        for external_id in external_ids:
            self.note('delete', entity, external_id, gettext(
                    'novagestao_omie.' + message, entity=self.label(entity),
                    id=external_id))

    def cancel_settlements(self, entity, settlements):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Move = pool.get('account.move')
        settlements = sorted(settlements)
        bound = Binding.lookup(
            self.integration, SETTLEMENT_KIND, [str(s) for s in settlements])
        self.sync.with_locks(
            Move.omie_cancel_settlements, self.integration, self.run,
            [str(s) for s in settlements])
        self.sync.commit()
        for settlement in settlements:
            if str(settlement) in bound:
                message = 'msg_webhook_settlement_cancelled'
            else:
                # never imported, or already reversed by an earlier event
                message = 'msg_webhook_settlement_not_bound'
            self.note('cancelled', entity, settlement, gettext(
                    'novagestao_omie.' + message, id=settlement))

    def import_settlements(self, entity, titles):
        if not self.integration.is_selected('settlement'):
            return
        step = self.steps['settlement']
        title, = titles
        self.sync.import_pages(step, dict(step.params, nCodTitulo=title))

    def forget_movements(self, movements, deleted):
        pool = Pool()
        Statement = pool.get('account.statement')
        months, done = self.sync.with_locks(
            Statement.omie_forget_movements, self.integration, self.run,
            [str(m) for m in sorted(movements)],
            [str(m) for m in deleted])
        self.sync.commit()
        for movement in movements:
            what, record = done.get(str(movement), (None, None))
            # the records come from the short transaction that did the work
            record = record.__class__(record.id) if record else None
            if what is None:
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_unknown',
                    id=movement)
            elif what == 'reversed':
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_reversed',
                    id=movement, move=record.rec_name if record else '-')
            elif what == 'kept':
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_kept_posted',
                    id=movement, statement=record.rec_name)
            else:
                message = gettext(
                    'novagestao_omie.msg_webhook_movement_forgotten',
                    id=movement)
            self.note('delete', 'movement', movement, message)
        return months

    def import_statement(self, account, month, today):
        start = self.integration.import_from_date
        if month > today or (start and month < start.replace(day=1)):
            return
        key = ('months', 'statement', (account, month))
        self.guard([key], self._import_statement, account, month, today)

    def _import_statement(self, account, month, today):
        self.sync.import_statement_month(
            self.steps['statement'], account, month, today)
        self.sync.commit()
        self.note('months', 'statement', (account, month), gettext(
                'novagestao_omie.msg_webhook_statement_read',
                account=account, month=month.strftime('%m/%Y')))
