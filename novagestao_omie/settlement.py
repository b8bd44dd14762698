# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie settlements (baixas) as payments of the invoices of their titles

Each settlement is one posted payment move on the invoice, booked against
the clearing account of its Omie bank account ("settlements to clear"): the
money reaches the bank account itself when the bank statement with the same
movement is posted (see movement.py), which clears the line.  Interest and
fines (juros, multa) go to a financial revenue or expense account,
discounts (desconto) are written off to the opposite one and the bank fee
(tarifa) to the bank fees account, so the invoice is settled for exactly what
Omie settled and the clearing account holds what the bank account moved."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.modules.account.exceptions import PeriodNotFoundError
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from novagestao_integrations_base.exceptions import IntegrationError

from . import codes
from .amounts import amount_problem
from .context import POST_LATER
from .omie import records

SETTLEMENT_KIND = 'settlement'
# The clearing line of a settlement's payment, by Omie movement (nCodMovCC)
SETTLEMENT_LINE_KIND = 'settlement_line'
STATEMENT_LINE_KIND = 'statement_line'
BANK_ACCOUNT_KIND = 'bank_account'
CLEARING_KIND = 'clearing_account'
PAYMENT_METHOD_KIND = 'payment_method'
ACCOUNT_KIND = 'account'
TITLE_KINDS = ['payable', 'receivable']
ZERO = Decimal(0)
CENT = Decimal('0.01')


def month_key(bank_account_id, date):
    "The binding key of a bank account's statement of the month of date"
    return '%s:%s' % (bank_account_id, date.strftime('%Y-%m'))


def movement_id(settlement):
    "The Omie movement (nCodMovCC) of the settlement or None"
    details = (settlement.raw or {}).get('detalhes') or {}
    try:
        return records.parse_id(details.get('nCodMovCC'), 'nCodMovCC')
    except ValueError:
        return None


def settlement_stamp(settlement):
    "When Omie registered the settlement (ListarMovimentos with lDadosCad)"
    details = (settlement.raw or {}).get('detalhes') or {}
    try:
        return records.parse_datetime(
            details.get('dDtInc'), details.get('cHrInc'), 'dDtInc')
    except ValueError:
        return None


def settlement_title(raw):
    "The title of a ListarMovimentos row: its settlements are applied in turn"
    return str((raw.get('detalhes') or {}).get('nCodTitulo') or '')


class OmieAccounts:
    """The accounts and payment methods the connector keeps per integration:
    a clearing account and a payment method per Omie bank account, a
    financial revenue and a financial expense account for interest, fines
    and discounts, an expense account for bank fees, and a transit account
    for transfers between accounts.

    They are created the first time they are needed, next to similar
    accounts of the chart, and bound to the integration so users may rename
    or move them."""

    def __init__(self, integration):
        self.integration = integration
        self.company = integration.company
        self._cache = {}

    def _bound(self, kind, external_id):
        pool = Pool()
        Binding = pool.get('integration.binding')
        key = (kind, str(external_id))
        if key not in self._cache:
            record = Binding.records_of(
                self.integration, kind, [external_id]).get(str(external_id))
            self._cache[key] = record
        return self._cache[key]

    def _bind(self, kind, external_id, record):
        pool = Pool()
        Binding = pool.get('integration.binding')
        binding = Binding.lookup(
            self.integration, kind, [external_id]).get(str(external_id))
        Binding.link(
            self.integration, kind, external_id, record,
            binding=binding).save()
        self._cache[(kind, str(external_id))] = record
        return record

    def journal(self, bank_account_id):
        "The statement journal of the Omie bank account or None"
        if not bank_account_id:
            return None
        return self._bound(BANK_ACCOUNT_KIND, bank_account_id)

    def clearing(self, bank_account_id):
        "The account where the settlements of the bank account wait"
        account = self._bound(CLEARING_KIND, bank_account_id)
        if account:
            return account
        journal = self.journal(bank_account_id)
        if not journal:
            return None
        account = self._create_account_beside(
            journal.account,
            gettext('novagestao_omie.msg_clearing_account_name',
                bank=journal.name),
            reconcile=True)
        return self._bind(CLEARING_KIND, bank_account_id, account)

    def payment_method(self, bank_account_id):
        "The payment method of the settlements of the bank account"
        pool = Pool()
        Journal = pool.get('account.journal')
        PaymentMethod = pool.get('account.invoice.payment.method')
        method = self._bound(PAYMENT_METHOD_KIND, bank_account_id)
        if method:
            return method
        clearing = self.clearing(bank_account_id)
        if not clearing:
            return None
        journals = Journal.search([('type', '=', 'cash')], limit=1)
        if not journals:
            raise IntegrationError(gettext(
                    'novagestao_omie.msg_no_cash_journal'))
        journal, = journals
        method = PaymentMethod(
            company=self.company,
            name=gettext('novagestao_omie.msg_payment_method_name',
                bank=self.journal(bank_account_id).name),
            journal=journal, credit_account=clearing, debit_account=clearing)
        method.save()
        return self._bind(PAYMENT_METHOD_KIND, bank_account_id, method)

    def financial(self, side):
        """The account of interest, fines and discounts:
        side is 'revenue' or 'expense'"""
        return self._bound_beside_type('financial_%s' % side, side,
            gettext('novagestao_omie.msg_financial_%s_name' % side))

    def bank_fee(self):
        "The expense account of the bank fees (tarifa) charged on settlements"
        return self._bound_beside_type('bank_fee', 'expense',
            gettext('novagestao_omie.msg_bank_fee_account_name'))

    def _bound_beside_type(self, external_id, side, name):
        """The account bound as external_id, else one created as name next
        to the first account of the chart of that side ('revenue' or
        'expense') and bound"""
        account = self._bound(ACCOUNT_KIND, external_id)
        if account:
            return account
        account = self._create_account_beside(
            self._sibling([('type.%s' % side, '=', True)]), name)
        return self._bind(ACCOUNT_KIND, external_id, account)

    def transfer(self, bank_account_id):
        "The transit account of the transfers between bank accounts"
        account = self._bound(ACCOUNT_KIND, 'transfer')
        if account:
            return account
        journal = self.journal(bank_account_id)
        if not journal:
            return None
        account = self._create_account_beside(
            journal.account,
            gettext('novagestao_omie.msg_transfer_account_name'))
        return self._bind(ACCOUNT_KIND, 'transfer', account)

    def _create_account_beside(self, sibling, name, reconcile=False):
        "Create an account of the sibling's type under the sibling's parent"
        pool = Pool()
        Account = pool.get('account.account')
        account = Account(
            name=name, company=self.company, type=sibling.type,
            parent=sibling.parent, code=None, reconcile=reconcile)
        account.save()
        return account

    def _sibling(self, domain):
        pool = Pool()
        Account = pool.get('account.account')
        accounts = Account.search([
                ('company', '=', self.company.id),
                ('closed', '!=', True),
                ('party_required', '=', False),
                ] + domain,
            order=[('code', 'ASC'), ('id', 'ASC')], limit=1)
        if not accounts:
            raise IntegrationError(gettext(
                    'novagestao_omie.msg_no_financial_account',
                    company=self.company.rec_name))
        return accounts[0]


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def omie_import_settlements(cls, integration, run, settlements):
        """Pay the invoices of the titles with Omie's settlements, once each

        A full settlement reconciles the invoice, which becomes paid; a
        partial one leaves it posted with less to pay.  A settlement whose
        title is not imported yet stays pending."""
        counts = dict.fromkeys(
            ['created', 'updated', 'unchanged', 'skipped'], 0)
        settlements = [s for s in settlements if s and s.omie_id]
        if not settlements:
            return counts
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            return cls._omie_settlements(
                integration, run, settlements, counts)

    @classmethod
    def _omie_settlements(cls, integration, run, settlements, counts):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Invoice = pool.get('account.invoice')
        Period = pool.get('account.period')

        bindings = Binding.lookup(
            integration, SETTLEMENT_KIND, [s.omie_id for s in settlements])
        title_bindings = {}
        for kind in TITLE_KINDS:
            title_bindings[kind] = Binding.lookup(integration, kind, {
                    s.title_omie_id for s in settlements
                    if s.kind == kind and s.title_omie_id})
        invoices = Invoice._omie_bound_invoices([
                b for by_kind in title_bindings.values()
                for b in by_kind.values()])
        accounts = OmieAccounts(integration)
        states = dict(Invoice.fields_get(['state'])['state']['selection'])
        selected = {
            int(b.external_id) for b in integration.filter_bank_accounts}
        from_date = integration.import_from_date

        remaining, echoed, exported = {}, {}, []
        moves, resolved, errors, to_bind, movements = [], [], [], [], []
        settlements = sorted(settlements,
            key=lambda s: (s.date or s.credit_date or dt.date.min, s.omie_id))
        for settlement in settlements:
            external_id = str(settlement.omie_id)
            binding = bindings.get(external_id)
            if (binding and binding.record
                    and binding.record.__name__ == cls.__name__
                    and binding.record.state == 'draft'):
                # built by a shared chunk whose post Tryton refused (see
                # sync_refused): it is made again
                cls.delete([binding.record])
                binding.record = None
            if binding and binding.record:
                if binding.origin == 'export':
                    exported.append((settlement, binding.record))
                counts['unchanged'] += 1
                resolved.append(external_id)
                continue
            date = settlement.date or settlement.credit_date
            if ((selected
                        and settlement.bank_account_omie_id not in selected)
                    or (from_date and date and date < from_date)):
                counts['skipped'] += 1
                resolved.append(external_id)
                continue
            title_binding = title_bindings[settlement.kind].get(
                str(settlement.title_omie_id))
            invoice = invoices.get(title_binding.record.id) if (
                title_binding and title_binding.record) else None
            echo = cls._omie_exported_payment(
                integration, settlement, invoice, echoed)
            if echo:
                echoed[echo] = Binding.link(
                    integration, SETTLEMENT_KIND, external_id, echo,
                    binding=binding)
                echoed[echo].origin = 'export'
                exported.append((settlement, echo))
                counts['unchanged'] += 1
                resolved.append(external_id)
                continue
            problem = None
            if invoice is None and not cls._omie_title_wanted(
                    integration, settlement):
                # its title is not to import: neither is the settlement
                counts['skipped'] += 1
                resolved.append(external_id)
                continue
            elif invoice is None:
                problem = ('data_conflict',
                    gettext('novagestao_omie.msg_settlement_title_missing',
                        title=settlement.title_omie_id or ''),
                    gettext('novagestao_omie'
                        '.msg_settlement_title_missing_fix'),
                    'title:%s' % (settlement.title_omie_id or ''))
            elif invoice.state != 'posted':
                problem = ('data_conflict',
                    gettext('novagestao_omie.msg_settlement_invoice_state',
                        invoice=invoice.rec_name,
                        state=states.get(invoice.state, invoice.state)),
                    gettext('novagestao_omie'
                        '.msg_settlement_invoice_state_fix'),
                    None)
            elif not accounts.payment_method(
                    settlement.bank_account_omie_id):
                problem = ('data_conflict',
                    gettext('novagestao_omie.msg_settlement_bank_missing',
                        account=settlement.bank_account_omie_id or ''),
                    gettext('novagestao_omie'
                        '.msg_settlement_bank_missing_fix'),
                    'bank_account:%s' % (
                        settlement.bank_account_omie_id or ''))
            elif date is None:
                problem = ('validation',
                    gettext('novagestao_omie.msg_settlement_no_date'),
                    None, None)
            else:
                try:
                    Period.find(integration.company, date=date)
                except PeriodNotFoundError:
                    problem = ('validation',
                        gettext('novagestao_omie.msg_no_period', date=date),
                        gettext('novagestao_omie.msg_no_period_fix'),
                        'period:%s' % date.isoformat())
            problem = (
                amount_problem(settlement, integration.company) or problem)
            principal = (settlement.amount + settlement.discount
                - settlement.interest - settlement.fine)
            if not problem:
                left = remaining.setdefault(invoice.id, invoice.amount_to_pay)
                if principal <= 0 or principal > left:
                    problem = ('data_conflict',
                        gettext('novagestao_omie'
                            '.msg_settlement_exceeds_invoice',
                            invoice=invoice.rec_name,
                            amount=principal, left=left),
                        gettext('novagestao_omie'
                            '.msg_settlement_exceeds_invoice_fix'),
                        None)
            if problem:
                errors.append((settlement, problem))
                counts['skipped'] += 1
                continue
            remaining[invoice.id] -= principal
            moves.append((settlement, invoice, binding, cls._omie_payment(
                        invoice, settlement, date, principal, accounts)))
            counts['created'] += 1
            resolved.append(external_id)

        # as pay_invoice does, for all the settlements at once
        cls.save([m for _, _, _, m in moves])
        post_later = Transaction().context.get(POST_LATER)
        if not post_later:
            cls.post([m for _, _, _, m in moves])
        for settlement, invoice, binding, move in moves:
            to_bind.append(
                (SETTLEMENT_KIND, str(settlement.omie_id), move, binding))
            movement = movement_id(settlement)
            clearing = accounts.clearing(settlement.bank_account_omie_id)
            clearing_lines = [l for l in move.lines if l.account == clearing]
            if movement and clearing_lines:
                to_bind.append((
                        SETTLEMENT_LINE_KIND, str(movement),
                        clearing_lines[0], None))
                movements.append(movement)
        known = Binding.lookup(integration, SETTLEMENT_LINE_KIND,
            [movement_id(s) for s, _ in exported if movement_id(s)])
        for settlement, move in exported:
            # a payment sent from here: its bank movement in Omie's
            # statement settles its clearing line as an imported one's does
            movement = movement_id(settlement)
            if not movement or str(movement) in known:
                continue
            clearing = accounts.clearing(settlement.bank_account_omie_id)
            clearing_lines = [l for l in move.lines if l.account == clearing]
            if clearing_lines:
                to_bind.append((
                        SETTLEMENT_LINE_KIND, str(movement),
                        clearing_lines[0], None))
                movements.append(movement)
        if not post_later:
            cls._omie_pay([m for _, _, _, m in moves])
        movement_bindings = Binding.lookup(
            integration, SETTLEMENT_LINE_KIND,
            [i for k, i, _, _ in to_bind if k == SETTLEMENT_LINE_KIND])
        Binding.save([
                Binding.link(
                    integration, kind, external_id, record,
                    binding=binding or movement_bindings.get(external_id))
                for kind, external_id, record, binding in to_bind])
        Binding.save(list(echoed.values()))
        if not post_later:
            cls.omie_reconcile_clearing(integration, movements)
        Error.resolve(integration, SETTLEMENT_KIND, resolved)
        for settlement, (kind, message, fix, detail) in errors:
            Error.record(
                run, SETTLEMENT_KIND, str(settlement.omie_id), kind,
                message, suggested_fix=fix, payload=settlement.raw,
                detail=detail)
        return counts

    @classmethod
    def _omie_pay(cls, moves):
        """Add the lines of the posted payment moves to their invoices and
        reconcile those they pay in full"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        payments = defaultdict(list)
        for move in moves:
            invoice = move.origin
            payments[invoice].extend(
                l for l in move.lines if l.account == invoice.account)
        Invoice.add_payment_lines(payments)
        Invoice.omie_reconcile_paid(list(payments))

    @classmethod
    def omie_post_built(cls, integration, settlements):
        """Post the payment moves of Omie's settlements that a chunk's build
        left in draft (see sync_chunks), and pay their invoices"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        moves = [m for m in Binding.records_of(
                integration, SETTLEMENT_KIND,
                [s.omie_id for s in settlements]).values()
            if m.__name__ == cls.__name__ and m.state == 'draft']
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            moves = cls.browse([m.id for m in moves])
            cls.post(moves)
            cls._omie_pay(moves)
            cls.omie_reconcile_clearing(integration, [
                    movement_id(s) for s in settlements])

    @classmethod
    def _omie_exported_payment(cls, integration, settlement, invoice,
            echoed):
        """The payment move made in Tryton that the settlement is the echo
        of, when its binding is not saved yet (Omie's webhook came first, or
        the export crashed after Omie stored it): named by its integration
        code (webhooks), else the invoice's unbound payment of the same
        amount and date (ListarMovimentos shows no code)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        MoveLine = pool.get('account.move.line')
        line_id = codes.parse(
            integration, settlement.integration_code, codes.SETTLEMENT)
        if line_id:
            lines = MoveLine.search([('id', '=', line_id)])
            return lines[0].move if lines else None
        if invoice is None or integration.direction != 'bidirectional':
            return None
        principal = (settlement.amount + settlement.discount
            - settlement.interest - settlement.fine)
        date = settlement.date or settlement.credit_date
        candidates = [l.move for l in invoice.payment_lines
            if l.move.origin == invoice and l.move.date == date
            and abs(l.debit - l.credit) == principal
            and l.move not in echoed]
        bound = Binding.for_records(integration, candidates)
        return next((m for m in candidates if m not in bound), None)

    @classmethod
    def _omie_title_wanted(cls, integration, settlement):
        """Whether the filters of the integration let the title of the
        settlement import, as far as the settlement tells"""
        details = (settlement.raw or {}).get('detalhes') or {}
        status = records.normalise_status(details.get('cStatus'))
        if status == 'CANCELADO':
            return False
        if integration.filter_open_only and status in (
                records.SETTLED_STATUSES):
            return False
        from_date = integration.import_from_date
        try:
            issued = records.parse_date(details.get('dDtEmissao'))
        except ValueError:
            issued = None
        if from_date and issued and issued < from_date:
            return False
        return True

    @classmethod
    def _omie_payment(cls, invoice, settlement, date, principal, accounts):
        """Return the unsaved payment move of the settlement on the invoice

        It is the move of invoice.pay_invoice: the payment line on the
        invoice's account and its counterpart on the payment method's
        account, in the method's journal, with lines for interest and fines
        (juros, multa) on top, discounts (desconto) off and the bank fee
        (tarifa) on its own account."""
        pool = Pool()
        Line = pool.get('account.move.line')
        Period = pool.get('account.period')
        method = accounts.payment_method(settlement.bank_account_omie_id)
        out = invoice.type == 'out'

        def line(account, amount, party=None):
            "A line of amount, positive on the side of the money received"
            if not out:
                amount = -amount
            debit, credit = (amount, ZERO) if amount >= 0 else (ZERO, -amount)
            return Line(
                account=account, debit=debit, credit=credit,
                party=party if account.party_required else None)

        # the bank fee (tarifa) is withheld from what a receipt brings to the
        # bank account and added to what a payment takes from it
        fee = settlement.fee if out else -settlement.fee
        lines = [
            line(invoice.account, -principal, invoice.party),
            line(method.debit_account if out else method.credit_account,
                settlement.amount - fee),
            ]
        if fee:
            lines.append(line(accounts.bank_fee(), fee))
        extra = settlement.interest + settlement.fine
        if extra:
            lines.append(line(
                    accounts.financial('revenue' if out else 'expense'),
                    -extra))
        if settlement.discount:
            lines.append(line(
                    accounts.financial('expense' if out else 'revenue'),
                    settlement.discount))
        return cls(
            journal=method.journal,
            period=Period.find(invoice.company, date=date),
            date=date, origin=invoice, company=invoice.company,
            description=gettext(
                'novagestao_omie.msg_settlement_description',
                settlement=settlement.omie_id,
                invoice=invoice.reference or invoice.number or ''),
            lines=lines)

    @classmethod
    def omie_reconcile_clearing(cls, integration, movements):
        """Reconcile, on the clearing account, the payment of each Omie
        movement with the posted bank statement line of the same movement"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        MoveLine = pool.get('account.move.line')
        movements = [str(m) for m in movements if m]
        if not movements:
            return
        payments = Binding.records_of(
            integration, SETTLEMENT_LINE_KIND, movements)
        statement_lines = Binding.records_of(
            integration, STATEMENT_LINE_KIND, list(payments))
        to_reconcile = []
        for movement, payment in payments.items():
            statement_line = statement_lines.get(movement)
            if (not statement_line or not statement_line.move
                    or statement_line.move.state != 'posted'
                    or payment.reconciliation):
                continue
            lines = [l for l in statement_line.move.lines
                if l.origin == statement_line
                and l.account == payment.account
                and not l.reconciliation]
            if (len(lines) == 1
                    and lines[0].debit - lines[0].credit
                    == payment.credit - payment.debit):
                to_reconcile.append([payment, lines[0]])
        if to_reconcile:
            MoveLine.reconcile(*to_reconcile)
