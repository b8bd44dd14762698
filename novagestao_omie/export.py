# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Send to Omie the parties, invoices and payments created in Tryton

Each record is sent in its own short transaction: the Omie call, its
binding, commit.  Its integration code is derived from the record
(codes.py), so sending it again after a timeout or a crash names the same
Omie record: parties and titles go through Omie's Upsert calls, and a
payment Omie already holds is looked up and bound instead of sent twice."""
import datetime as dt
import logging

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from novagestao_integrations_base.export import EXPORT_DETAIL
from novagestao_integrations_base.sync import commit_and_continue

from . import codes
from .category_export import KIND as CATEGORY_KIND
from .category_export import CategoryExport
from .conflict import (
    agree_title, local_title_view, title_labels, title_view)
from .export_payloads import (
    ExportProblem, invoice_categories, settlement_payload, title_payload)
from .omie import errors, records
from .party_export import KIND as PARTY_KIND
from .party_export import (
    NotSent, PartyExport, settle_changes_both_sides, stamp)
from .sync import error_kind, record_client_metrics

logger = logging.getLogger(__name__)

SETTLEMENT_KIND = 'settlement'
CLEARING_KIND = 'clearing_account'
TITLE_KINDS = {'in': 'payable', 'out': 'receivable'}
TITLE_PATHS = {
    'payable': ('financas/contapagar/', 'UpsertContaPagar',
        'ConsultarContaPagar', 'LancarPagamento', 'CancelarPagamento'),
    'receivable': ('financas/contareceber/', 'UpsertContaReceber',
        'ConsultarContaReceber', 'LancarRecebimento', 'CancelarRecebimento'),
    }


class ExportStopped(Exception):
    "Omie takes no write now: what is left waits for the next run"


class OmieExport(CategoryExport, PartyExport):
    """The export of an integration in a run: custom categories, parties,
    then invoices (new, changed, cancelled), then payments and their
    reversals"""

    def __init__(self, integration, run, client=None):
        self.integration = integration
        self.run = run
        self.client = client or integration.omie_client()
        # {party: invoice types} of the invoices this run exports
        self._roles = {}

    def export(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        integration = self.integration
        try:
            with Transaction().set_context(company=integration.company.id):
                invoices = (Invoice.omie_invoices_to_export(integration)
                    if integration.export_invoices else [])
                self.each(CATEGORY_KIND, self.categories_to_export(invoices),
                    self.export_category)
                self.each(PARTY_KIND, self.parties_to_export(invoices),
                    self.export_party)
                for invoice in invoices:
                    self.each(TITLE_KINDS[invoice.type], [invoice],
                        self.export_invoice)
                    if integration.export_payments:
                        # at once: the payments' calls are of another
                        # method, whose limit runs beside the titles'
                        for item in Invoice.omie_payments_to_export(
                                integration, [invoice]):
                            self.each(SETTLEMENT_KIND, [item],
                                self.export_payment)
                for invoice in Invoice.omie_changed_to_export(integration):
                    self.each(TITLE_KINDS[invoice.type], [invoice],
                        self.export_invoice)
                for binding in Invoice.omie_cancelled_to_export(integration):
                    self.each(binding.kind, [binding], self.cancel_title)
                if integration.export_payments:
                    for line, binding in Invoice.omie_payments_to_export(
                            integration):
                        self.each(SETTLEMENT_KIND, [(line, binding)],
                            self.export_payment)
                    for item in Invoice.omie_reversed_to_export(
                            integration):
                        self.each(SETTLEMENT_KIND, [item],
                            self.reverse_payment)
        except ExportStopped:
            pass
        finally:
            self.run.set_progress(remote_calls=(
                    self.run.remote_calls or 0) + self.client.calls)
            record_client_metrics(self.run, self.client)
            self.client.close()

    def each(self, entity, items, send):
        """Send each item in its own transaction; a refusal is recorded as
        the item's pending error, an outage stops the export"""
        pool = Pool()
        Error = pool.get('integration.sync.error')
        for item in items:
            code = self.code_of(item)
            try:
                send(_alone(item))
            except NotSent:
                pass  # a conflict found or settled: the run counts it
            except ExportProblem as problem:
                Transaction().rollback()
                self.record_error(entity, code, problem.kind,
                    problem.message, problem.fix)
            except errors.OmieError as error:
                Transaction().rollback()
                logger.info("export of %s failed", code, exc_info=True)
                self.record_error(entity, code, _error_kind(error),
                    self.integration.describe_exception(error),
                    _error_fix(error))
                if error.transient:
                    commit_and_continue()
                    raise ExportStopped() from error
            else:
                Error.resolve(self.integration, entity, [code])
                self.run.add_counts(entity, exported=1)
            commit_and_continue()

    def code_of(self, item):
        if isinstance(item, tuple):
            item = item[0]
        if item.__name__ == 'party.party':
            return codes.make(self.integration, codes.PARTY, item.id)
        if item.__name__ == 'account.invoice':
            return codes.make(self.integration,
                codes.TITLE_PREFIXES[TITLE_KINDS[item.type]], item.id)
        if item.__name__ == 'account.move.line':
            return codes.make(self.integration, codes.SETTLEMENT, item.id)
        if item.__name__ == 'account.account':
            return codes.make(self.integration, codes.CATEGORY, item.id)
        return item.external_id  # a binding

    def record_error(self, entity, code, kind, message, fix):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Error.record(self.run, entity, code, kind, message,
            suggested_fix=fix, detail=EXPORT_DETAIL)
        self.run.add_counts(entity, failed=1)

    # -- invoices --------------------------------------------------------
    def default_bank_account(self):
        account = self.integration.export_bank_account
        if account is None:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_no_bank_account',
                    integration=self.integration.rec_name),
                gettext('novagestao_omie.msg_export_no_bank_account_fix'))
        return int(account.external_id)

    def export_invoice(self, invoice):
        pool = Pool()
        Binding = pool.get('integration.binding')
        kind = TITLE_KINDS[invoice.type]
        path, upsert, consult, _, _ = TITLE_PATHS[kind]
        binding = {b.kind: b for b in Binding.for_records(
                self.integration, [invoice]).values()}.get(kind)
        if binding is not None:
            self.settle_title_changes(invoice, binding)
        payload = title_payload(
            self.integration, invoice, self.party_omie_id(invoice.party),
            invoice_categories(self.integration, invoice)
            if 'category' in (self.integration.export_invoice_fields or [])
            else [],
            self.default_bank_account())
        answer = self.client.call(upsert, path=path, **payload)
        omie_id = records.parse_id(answer.get('codigo_lancamento_omie'),
            'codigo_lancamento_omie')
        # by its code: settle_title_changes' call would be answered from
        # the client's cache, and is one Omie refuses within a minute
        title = records.Title.from_omie(self.client.call(consult, path=path,
                codigo_lancamento_integracao=payload[
                    'codigo_lancamento_integracao']), kind)
        binding = Binding.link(
            self.integration, kind, omie_id, invoice,
            remote_stamp=stamp(title), content_hash=title.content_hash(),
            # Omie's webhook of the title may have bound it meanwhile
            binding=binding or Binding.lookup(
                self.integration, kind, [omie_id]).get(str(omie_id)))
        binding.origin = 'export'
        agree_title(self.integration, binding, invoice, title.raw)
        binding.save()

    def settle_title_changes(self, invoice, binding):
        """Before an invoice changed here is sent again: when its Omie title
        changed as well, the integration's policy or a person decides
        whose version goes on (NotSent when it is not this one)"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        path, _, consult, _, _ = TITLE_PATHS[binding.kind]
        current = records.Title.from_omie(self.client.call(consult,
                path=path, codigo_lancamento_omie=int(binding.external_id)),
            binding.kind)
        if (current.cancelled
                and current.content_hash() != binding.content_hash):
            raise NotSent()  # the import cancels the invoice

        def views():
            return (local_title_view(self.integration, invoice),
                title_view(self.integration, current.raw),
                title_labels(self.integration))

        def keep_remote(content_hash):
            Invoice.omie_keep_titles(self.integration, self.run, [current])
        settle_changes_both_sides(
            self.run, binding, current, views, keep_remote)

    def cancel_title(self, binding):
        "Cancel (receivable) or delete (payable) the title of an invoice"
        pool = Pool()
        Binding = pool.get('integration.binding')
        omie_id = int(binding.external_id)
        if binding.kind == 'receivable':
            self.client.call('CancelarContaReceber',
                path='financas/contareceber/', chave_lancamento=omie_id)
            binding.local_hash = 'cancelled'
            binding.save()
        else:
            # Omie cancels no payable through its API: it is deleted
            try:
                self.client.call('ExcluirContaPagar',
                    path='financas/contapagar/',
                    codigo_lancamento_omie=omie_id)
            except errors.NotFoundError:
                pass
            Binding.delete([binding])

    # -- payments --------------------------------------------------------
    def payment_bank_account(self, line):
        """The Omie bank account of a payment: the one of the clearing
        account its counterpart went to, else the default one"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        accounts = [l.account for l in line.move.lines if l != line]
        for account, binding in Binding.for_records(
                self.integration, accounts).items():
            if binding.kind == CLEARING_KIND:
                return int(binding.external_id)
        return self.default_bank_account()

    def export_payment(self, item):
        pool = Pool()
        Binding = pool.get('integration.binding')
        line, title_binding = item
        path, _, _, settle, _ = TITLE_PATHS[title_binding.kind]
        payload = settlement_payload(
            self.integration, line, int(title_binding.external_id),
            self.payment_bank_account(line))
        try:
            answer = self.client.call(settle, path=path, **payload)
            omie_id = answer.get('codigo_baixa')
        except errors.OmieError as error:
            if error.transient:
                raise
            # sent before, its answer lost (a timeout, a crash): Omie holds
            # it under its code, bind it instead of paying twice.  Omie
            # may say so ("já cadastrado") or refuse the title as paid
            # already ("já está liquidado")
            try:
                omie_id = self._settlement_id(
                    int(title_binding.external_id),
                    payload['codigo_baixa_integracao'])
            except errors.NotFoundError:
                raise error from None
        binding = Binding.link(
            self.integration, SETTLEMENT_KIND,
            records.parse_id(omie_id, 'codigo_baixa'), line.move)
        binding.origin = 'export'
        binding.local_hash = payload['codigo_baixa_integracao']
        binding.save()

    def _settlement_id(self, title_omie_id, code):
        "The codigo_baixa of the settlement Omie holds under code"
        entry = self.client.call('ConsultaLancCC', cCodIntLanc=code)
        movement = entry.get('nCodLanc')
        for page in self.client.iterate_pages('ListarMovimentos',
                nCodTitulo=title_omie_id, cTpLancamento='BX', lDadosCad='S'):
            for row in page.records:
                details = row.get('detalhes') or {}
                if str(details.get('nCodMovCC')) == str(movement):
                    return details.get('nCodBaixa')
        raise errors.NotFoundError(
            faultstring='Baixa %s' % code, call='ListarMovimentos')

    def reverse_payment(self, item):
        pool = Pool()
        Binding = pool.get('integration.binding')
        binding, kind = item
        path, _, _, _, cancel = TITLE_PATHS[kind]
        try:
            self.client.call(cancel, path=path,
                codigo_baixa=int(binding.external_id))
        except errors.NotFoundError:
            pass
        Binding.delete([binding])


def _alone(item):
    """The record(s) of item read afresh on their own: a record of a long
    list would read each field it is asked for for the whole list, again
    after each commit"""
    if isinstance(item, tuple):
        return tuple(_alone(i) for i in item)
    if isinstance(item, Model):
        return item.__class__(item.id)
    return item


def _error_kind(error):
    "The sync error kind of an Omie error on a write: the import's, except"
    if isinstance(error, errors.ServerError):
        # Omie may have run the write before failing to answer
        return 'timeout'
    if isinstance(error, errors.DuplicateError):
        return 'data_conflict'
    kind = error_kind(error)
    # a refused write is Omie's word on the record, not a parsing problem
    return 'remote_error' if kind == 'validation' else kind


def _error_fix(error):
    if _error_kind(error) == 'timeout':
        return gettext('novagestao_omie.msg_export_lost_answer_fix')
    if error.transient:
        return gettext('novagestao_omie.msg_export_retried')
    return gettext('novagestao_omie.msg_export_refused_fix')


def export_since(integration):
    "The naive UTC start of the integration's export_from day"
    start = dt.datetime.combine(integration.export_from or dt.date.min,
        dt.time(0), tzinfo=integration.timezone)
    return start.astimezone(dt.timezone.utc).replace(tzinfo=None)
