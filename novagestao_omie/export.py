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
import re

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.transaction import Transaction

from novagestao_integrations_base.export import EXPORT_DETAIL
from novagestao_integrations_base.sync import commit_and_continue

from . import codes
from .export_payloads import (
    ExportProblem, invoice_categories, party_payload, settlement_payload,
    title_payload)
from .omie import errors, records
from .sync import error_kind

logger = logging.getLogger(__name__)

PARTY_KIND = 'party'
SETTLEMENT_KIND = 'settlement'
CLEARING_KIND = 'clearing_account'
TITLE_KINDS = {'in': 'payable', 'out': 'receivable'}
TITLE_PATHS = {
    'payable': ('financas/contapagar/', 'UpsertContaPagar',
        'ConsultarContaPagar', 'LancarPagamento', 'CancelarPagamento'),
    'receivable': ('financas/contareceber/', 'UpsertContaReceber',
        'ConsultarContaReceber', 'LancarRecebimento', 'CancelarRecebimento'),
    }
# "Cliente já cadastrado para o CPF/CNPJ [..] com o Id [..] e código de
# integração [..] !": the Omie client that has the document already
DUPLICATE_ID = re.compile(r'com o Id \[(\d+)\]')


class ExportStopped(Exception):
    "Omie takes no write now: what is left waits for the next run"


class OmieExport:
    """The export of an integration in a run: parties, then invoices and
    their cancellations, then payments and their reversals"""

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
        return item.external_id  # a binding

    def record_error(self, entity, code, kind, message, fix):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        Error.record(self.run, entity, code, kind, message,
            suggested_fix=fix, detail=EXPORT_DETAIL)
        self.run.add_counts(entity, failed=1)

    # -- parties ---------------------------------------------------------
    def parties_to_export(self, invoices):
        """The parties to send: those of the invoices that Omie does not
        know yet, and those created or changed here since their export"""
        pool = Pool()
        Party = pool.get('party.party')
        roles = {}
        for invoice in invoices:
            roles.setdefault(invoice.party, set()).add(invoice.type)
        self._roles = roles
        parties = set()
        if self.integration.export_parties:
            parties.update(Party.omie_parties_to_export(
                    self.integration, lambda p: party_payload(
                        self.integration, p, self.party_roles(p))))
        bound = self._party_bindings(list(roles))
        parties.update(p for p in roles if p not in bound)
        return sorted(parties, key=lambda p: p.id)

    def _party_bindings(self, parties):
        pool = Pool()
        Binding = pool.get('integration.binding')
        return {party: binding for party, binding in Binding.for_records(
                self.integration, parties).items()
            if binding.kind == PARTY_KIND}

    def party_roles(self, party):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        roles = set(self._roles.get(party, ()))
        for type_ in ('in', 'out'):
            if type_ not in roles and Invoice.search([
                        ('party', '=', party.id),
                        ('type', '=', type_),
                        ('company', '=', self.integration.company.id),
                        ], limit=1):
                roles.add(type_)
        return roles

    def export_party(self, party):
        pool = Pool()
        Binding = pool.get('integration.binding')
        binding = self._party_bindings([party]).get(party)
        if not self.integration.export_parties and not binding:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_party_off',
                    party=party.rec_name),
                gettext('novagestao_omie.msg_export_party_off_fix'),
                kind='data_conflict')
        payload = party_payload(
            self.integration, party, self.party_roles(party))
        try:
            answer = self.client.call('UpsertCliente', **payload)
        except errors.DuplicateError as error:
            answer = self._adopt_party(party, error)
        omie_id = records.parse_id(
            answer.get('codigo_cliente_omie'), 'codigo_cliente_omie')
        consulted = records.Party.from_omie(_as_listed(self.client.call(
                    'ConsultarCliente', codigo_cliente_omie=omie_id)))
        # Omie's webhook of the client may have bound it meanwhile
        binding = binding or Binding.lookup(
            self.integration, PARTY_KIND, [omie_id]).get(str(omie_id))
        binding = Binding.link(
            self.integration, PARTY_KIND, omie_id, party,
            remote_stamp=_stamp(consulted),
            content_hash=consulted.content_hash(), binding=binding)
        binding.origin = 'export'
        binding.local_hash = records.content_hash(payload)
        binding.save()

    def _adopt_party(self, party, error):
        """Omie has a client of the party's CNPJ/CPF already: when no
        Tryton party stands for it yet, it is the same one; link it"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        omie_id = DUPLICATE_ID.search(error.faultstring or '')
        if omie_id and not Binding.lookup(
                self.integration, PARTY_KIND, [omie_id.group(1)]):
            code = codes.make(self.integration, codes.PARTY, party.id)
            return self.client.call('AssociarCodIntCliente',
                codigo_cliente_omie=int(omie_id.group(1)),
                codigo_cliente_integracao=code)
        raise ExportProblem(
            gettext('novagestao_omie.msg_export_party_duplicate',
                party=party.rec_name, error=error.faultstring or ''),
            gettext('novagestao_omie.msg_export_party_duplicate_fix'),
            kind='data_conflict')

    def party_omie_id(self, party):
        binding = self._party_bindings([party]).get(party)
        if binding is None:
            raise ExportProblem(
                gettext('novagestao_omie.msg_export_party_missing',
                    party=party.rec_name),
                gettext('novagestao_omie.msg_export_party_missing_fix'),
                kind='data_conflict')
        return int(binding.external_id)

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
        payload = title_payload(
            self.integration, invoice, self.party_omie_id(invoice.party),
            invoice_categories(self.integration, invoice)
            if 'category' in (self.integration.export_invoice_fields or [])
            else [],
            self.default_bank_account())
        answer = self.client.call(upsert, path=path, **payload)
        omie_id = records.parse_id(answer.get('codigo_lancamento_omie'),
            'codigo_lancamento_omie')
        title = records.Title.from_omie(self.client.call(consult, path=path,
                codigo_lancamento_omie=omie_id), kind)
        binding = Binding.link(
            self.integration, kind, omie_id, invoice,
            remote_stamp=_stamp(title), content_hash=title.content_hash(),
            # Omie's webhook of the title may have bound it meanwhile
            binding=Binding.lookup(
                self.integration, kind, [omie_id]).get(str(omie_id)))
        binding.origin = 'export'
        binding.local_hash = invoice.state
        binding.save()

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
        except errors.DuplicateError:
            # sent before, its answer lost (a timeout, a crash): Omie holds
            # it under its code, bind it instead of paying twice
            omie_id = self._settlement_id(
                int(title_binding.external_id),
                payload['codigo_baixa_integracao'])
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


def _as_listed(client):
    """The client as ListarClientes shows it to the import, which asks
    for neither its notes (exibir_obs) nor its features
    (exibir_caracteristicas): its content hash is then the import's"""
    return {k: v for k, v in client.items()
        if k not in {'observacao', 'caracteristicas'}}


def _stamp(record):
    return record.altered_at.isoformat() if record.altered_at else None


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
