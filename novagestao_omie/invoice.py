# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie payables and receivables as supplier and customer invoices

A title (conta a pagar / a receber) becomes one posted invoice: the party
from the party binding, one line per category on the account the
integration maps the category to, the maturity on Omie's due date.  A title
that cannot import yet (category not mapped, party not imported, no open
period…) stays pending as a sync error until a later run imports it."""
import hashlib
import json
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import dualmethod, fields
from trytond.modules.account.exceptions import PeriodNotFoundError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from novagestao_integrations_base.binding import BindingMixin

from . import codes
from .amounts import amount_problem
from .context import POST_LATER

INVOICE_TYPES = {'payable': 'in', 'receivable': 'out'}
PARTY_KIND = 'party'
BANK_ACCOUNT_KIND = 'bank_account'
NF_KIND = 'nf'
ZERO = Decimal(0)
CENT = Decimal('0.01')


def omie_reference(title):
    "'NF 4821 001/003': Omie's document number and instalment"
    return ' '.join(filter(None, [
                title.document_number, title.instalment])) or None


def material_hash(material):
    "A hash of the material of a title (see _TitleChecker.material)"
    def canonical(value):
        if isinstance(value, Decimal):
            # 100, 100.0 and 100.00 are the same amount
            return format(value.normalize(), 'f')
        if isinstance(value, (tuple, list)):
            return [canonical(v) for v in value]
        if value is None or isinstance(value, (int, str)):
            return value
        return str(value)
    return hashlib.sha256(json.dumps(
            canonical(material), separators=(',', ':')).encode()).hexdigest()


def title_splits(title):
    """Return [(category code, amount)] of the title, merged by code

    A split (rateio) whose amounts do not add up to the title is spread by
    its percentages, the last category taking the rounding."""
    splits = [s for s in title.categories if s.code]
    if len(splits) <= 1:
        code = title.category_code or (splits[0].code if splits else '')
        return [(code, title.amount)] if code else []
    amounts = [s.amount for s in splits]
    if sum(amounts) != title.amount:
        total = sum(s.percent for s in splits) or Decimal(100)
        amounts = [
            (title.amount * s.percent / total).quantize(CENT)
            for s in splits[:-1]]
        amounts.append(title.amount - sum(amounts))
    result = {}
    for split, amount in zip(splits, amounts):
        result[split.code] = result.get(split.code, ZERO) + amount
    return list(result.items())


class Binding(metaclass=PoolMeta):
    __name__ = 'integration.binding'

    @classmethod
    def _get_models(cls):
        return super()._get_models() + [
            'account.account',
            'account.invoice.payment.method',
            'account.move',
            'account.move.line',
            ]


class Invoice(BindingMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice'

    omie_nf_number = fields.Char(
        "NF Number", readonly=True,
        help="The number of the fiscal document (NF-e) in Omie.")
    omie_nf_series = fields.Char("NF Series", readonly=True)
    omie_nf_key = fields.Char(
        "NF-e Access Key", readonly=True, strip=False,
        help="The 44 digits that identify the NF-e at SEFAZ.")
    omie_nf_cancelled = fields.Boolean(
        "NF Cancelled", readonly=True,
        states={
            'invisible': ~Eval('omie_nf_cancelled', False),
            },
        help="The NF-e of this invoice was cancelled in Omie.")
    omie_replaces = fields.Many2One(
        'account.invoice', "Replaces", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('omie_replaces'),
            },
        help="The invoice that was cancelled because its Omie title "
        "changed after posting.")
    omie_replaced_by = fields.One2Many(
        'account.invoice', 'omie_replaces', "Replaced By", readonly=True,
        states={
            'invisible': ~Eval('omie_replaced_by'),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._check_modify_exclude |= {
            'omie_nf_number', 'omie_nf_series', 'omie_nf_key',
            'omie_nf_cancelled', 'omie_replaces'}

    @classmethod
    def copy(cls, invoices, default=None):
        default = default.copy() if default is not None else {}
        for name in ['omie_nf_number', 'omie_nf_series', 'omie_nf_key',
                'omie_nf_cancelled', 'omie_replaces', 'omie_replaced_by']:
            default.setdefault(name, None)
        return super().copy(invoices, default=default)

    @dualmethod
    def print_invoice(cls, invoices):
        # Posting queues the report of each customer invoice; Omie issues
        # the documents of those it sends (NF-e, boletos), so an imported
        # invoice's report is made only when someone prints it
        super().print_invoice(
            [i for i in invoices if not i.integration_linked])

    # Titles

    @classmethod
    def omie_import_payables(cls, integration, run, titles):
        "Import Omie's contas a pagar as posted supplier invoices"
        return cls._omie_import_titles(integration, run, titles, 'payable')

    @classmethod
    def omie_import_receivables(cls, integration, run, titles):
        "Import Omie's contas a receber as posted customer invoices"
        return cls._omie_import_titles(
            integration, run, titles, 'receivable')

    @classmethod
    def _omie_import_titles(cls, integration, run, titles, kind):
        """Create, post, replace or cancel the invoices of a page of titles

        An unchanged title costs nothing; a changed one is compared with
        its invoice on what matters to accounting (party, amount,
        categories, dates): a draft invoice is rewritten, a posted one is
        cancelled and replaced by a new invoice that keeps the payments."""
        counts = dict.fromkeys(
            ['created', 'updated', 'unchanged', 'skipped'], 0)
        titles = [t for t in titles if t.omie_id and t.kind == kind]
        if not titles:
            return counts
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            return cls._omie_titles(integration, run, titles, kind, counts)

    @classmethod
    def _omie_titles(cls, integration, run, titles, kind, counts):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Mapping = pool.get('integration.mapping')

        bindings = Binding.lookup(
            integration, kind, [t.omie_id for t in titles])
        bindings.update(cls._omie_exported(integration, kind, [
                    t for t in titles if str(t.omie_id) not in bindings]))
        invoices = cls._omie_bound_invoices(bindings.values())
        parties = Binding.records_of(
            integration, PARTY_KIND,
            {t.party_omie_id for t in titles if t.party_omie_id})
        category_codes = {c for t in titles for c, _ in title_splits(t)}
        mappings = {m.external_code: m for m in Mapping.search([
                    ('integration', '=', integration.id),
                    ('external_code', 'in', list(category_codes)),
                    ])}
        wanted = cls._omie_title_filter(integration)
        checker = _TitleChecker(integration, kind, parties, mappings)
        # the invoices typed here that new titles repeat are linked
        manual = cls.omie_manual_invoices(integration, [
                t for t in titles if not t.cancelled
                and str(t.omie_id) not in bindings], checker)

        to_create, to_cancel, to_replace, to_write = [], [], [], []
        to_bind, resolved, errors = [], [], []
        for title in titles:
            external_id = str(title.omie_id)
            binding = bindings.get(external_id)
            invoice = invoices.get(binding.record.id) if (
                binding and binding.record) else None
            content_hash = title.content_hash()
            if invoice and binding.content_hash == content_hash:
                counts['unchanged'] += 1
                resolved.append(external_id)
                continue
            if invoice and binding.origin == 'export' and not (
                    title.cancelled):
                # sent from here: Omie's change of it is applied unless it
                # conflicts with one made here since
                outcome = invoice._omie_settle_exported(
                    integration, run, binding, title)
                if outcome == 'wait':
                    counts['skipped'] += 1
                    continue
                if outcome != 'replace':
                    if outcome == 'updated':
                        to_write.append(invoice)
                    counts['updated' if outcome == 'updated'
                        else 'unchanged'] += 1
                    to_bind.append((title, invoice, binding))
                    resolved.append(external_id)
                    continue
            if invoice is None:
                if title.cancelled or not wanted(title):
                    # never imported and not to import: nothing is pending
                    counts['skipped'] += 1
                    resolved.append(external_id)
                    continue
                problem = checker.check(title)
                if problem:
                    errors.append((title, problem))
                    counts['skipped'] += 1
                    continue
                if external_id in manual:
                    to_bind.append((title, manual[external_id], binding))
                    resolved.append(external_id)
                    counts['updated'] += 1
                    continue
                to_create.append(
                    (title, cls._omie_new_invoice(integration, title,
                            checker), binding))
                counts['created'] += 1
                continue

            if title.cancelled:
                if invoice.state == 'paid':
                    errors.append((title, checker.paid_conflict(invoice)))
                    counts['skipped'] += 1
                    continue
                if invoice.state != 'cancelled':
                    to_cancel.append(invoice)
                    counts['updated'] += 1
                else:
                    counts['unchanged'] += 1
                to_bind.append((title, invoice, binding))
                resolved.append(external_id)
                continue

            problem = amount_problem(title, integration.company)
            if problem:
                # even when the rounded amount is the invoice's
                errors.append((title, problem))
                counts['skipped'] += 1
                continue
            # a draft whose post Tryton refused forgot its content (see
            # sync_refused): it is set and posted again
            retried = invoice.state == 'draft' and not binding.content_hash
            if (invoice.state != 'cancelled' and not retried
                    and invoice._omie_same_material(
                        binding, checker.material(title))):
                if invoice._omie_set_texts(title, kind):
                    to_write.append(invoice)
                    counts['updated'] += 1
                else:
                    counts['unchanged'] += 1
                to_bind.append((title, invoice, binding))
                resolved.append(external_id)
                continue

            problem = checker.check(title)
            if not problem and invoice.state == 'paid':
                problem = checker.paid_conflict(invoice)
            if problem:
                errors.append((title, problem))
                counts['skipped'] += 1
                continue
            if invoice.state == 'draft':
                invoice._omie_set(title, checker)
                to_create.append((title, invoice, binding))
            else:
                new = cls._omie_new_invoice(integration, title, checker)
                new.omie_replaces = invoice
                new.omie_nf_series = invoice.omie_nf_series
                new.omie_nf_cancelled = invoice.omie_nf_cancelled
                to_replace.append((invoice, new))
                to_create.append((title, new, binding))
            counts['updated'] += 1

        cls.save(to_write)
        cls._omie_cancel(to_cancel)
        payments = cls._omie_detach_payments(
            [(old, new) for old, new in to_replace])
        cls._omie_cancel([old for old, _ in to_replace])
        new_invoices = [i for _, i, _ in to_create]
        cls.save(new_invoices)
        if Transaction().context.get(POST_LATER):
            # the run posts the others in a transaction of their own; a
            # replacement takes the payments of its invoice at once
            cls.post([i for i in new_invoices if i.omie_replaces])
        else:
            cls.post(new_invoices)
        cls._omie_attach_payments(payments)

        to_bind.extend(to_create)
        to_link = []
        for title, invoice, binding in to_bind:
            binding = Binding.link(
                integration, kind, str(title.omie_id), invoice,
                remote_stamp=(title.altered_at.isoformat()
                    if title.altered_at else None),
                content_hash=title.content_hash(), binding=binding)
            # what the invoice is made of now, as Omie's title says
            binding.material_hash = material_hash(checker.material(title)) \
                if not title.cancelled and invoice.state != 'cancelled' \
                else None
            to_link.append(binding)
        Binding.save(to_link)
        Error.resolve(integration, kind, resolved + [
                str(t.omie_id) for t, _, _ in to_create] + [
                # the export of a title Omie holds now is done
                codes.make(integration, codes.TITLE_PREFIXES[kind],
                    b.record.id)
                for b in bindings.values()
                if b.origin == 'export' and b.record])
        for title, (error_kind, message, fix, detail) in errors:
            Error.record(
                run, kind, str(title.omie_id), error_kind, message,
                suggested_fix=fix, payload=title.raw, detail=detail)
        return counts

    @classmethod
    def omie_post_built(cls, integration, kind, external_ids):
        """Post the invoices of the titles that a chunk's build left in
        draft (see sync_chunks)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        bindings = Binding.lookup(integration, kind, external_ids)
        invoices = [i for i in cls._omie_bound_invoices(
                    bindings.values()).values()
            if i.state == 'draft']
        if invoices:
            with Transaction().set_context(
                    company=integration.company.id, _skip_warnings=True):
                cls.post(cls.browse([i.id for i in invoices]))

    @classmethod
    def _omie_exported(cls, integration, kind, titles):
        """{external id: unsaved binding} of the titles exported from an
        invoice whose binding is not saved yet (the title's webhook came
        first, or the export crashed after Omie stored it)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        prefix = codes.TITLE_PREFIXES[kind]
        by_invoice = {
            codes.parse(integration, t.integration_code, prefix): t
            for t in titles}
        by_invoice.pop(None, None)
        invoices = cls.search([('id', 'in', list(by_invoice))]) \
            if by_invoice else []
        return {
            str(by_invoice[i.id].omie_id): Binding(
                integration=integration, kind=kind, record=i,
                external_id=str(by_invoice[i.id].omie_id), origin='export',
                content_hash=None, remote_stamp=None, local_hash=None,
                remote_hash=None)
            for i in invoices}

    @classmethod
    def _omie_bound_invoices(cls, bindings):
        "Return {id: invoice} of the bound invoices that still exist"
        ids = [b.record.id for b in bindings
            if b.record and b.record.__name__ == cls.__name__]
        return {i.id: i for i in cls.search([('id', 'in', ids)])}

    @classmethod
    def _omie_title_filter(cls, integration):
        """Return a function telling whether a title not imported yet passes
        the filters of the integration"""
        from_date = integration.import_from_date
        accounts = {
            int(b.external_id) for b in integration.filter_bank_accounts
            if b.kind == BANK_ACCOUNT_KIND}
        open_only = integration.filter_open_only

        def wanted(title):
            if open_only and (title.settled or title.cancelled):
                return False
            if accounts and title.bank_account_omie_id not in accounts:
                return False
            date = title.issue_date or title.due_date
            if from_date and date and date < from_date:
                return False
            return True
        return wanted

    @classmethod
    def _omie_new_invoice(cls, integration, title, checker):
        "Return an unsaved invoice for the title"
        company = integration.company
        invoice = cls(
            company=company, type=INVOICE_TYPES[title.kind],
            currency=company.currency, lines=[])
        invoice._omie_set(title, checker)
        return invoice

    def _omie_set(self, title, checker):
        "Set the invoice from the title (the checker found no problem)"
        pool = Pool()
        Line = pool.get('account.invoice.line')
        self.party = checker.party(title)
        self.on_change_type()
        # no payment term: the only maturity is Omie's due date
        self.payment_term = None
        self.invoice_date = title.issue_date or title.due_date
        self.accounting_date = None
        self.payment_term_date = title.due_date or self.invoice_date
        self._omie_set_texts(title, title.kind)
        if self.type == 'out':
            # Omie numbers the documents of its customers; Tryton's
            # sequence would refuse the historical ones dated before an
            # invoice it already numbered.
            self.number = self.reference or 'Omie %s' % title.omie_id
        lines = []
        for code, amount in title_splits(title):
            lines.append(Line(
                    invoice=self, type='line', company=self.company,
                    currency=self.currency, account=checker.target(code),
                    description=checker.category_label(code),
                    omie_category=code, quantity=1, unit_price=amount,
                    taxes=[]))
        self.lines = lines

    def _omie_set_texts(self, title, kind):
        """Set the fields that may change on a posted invoice
        Return whether any changed"""
        reference = omie_reference(title)
        description = ' - '.join(filter(None, [
                    reference, title.observation])) or None
        values = {
            'reference': reference,
            'description': description,
            'omie_nf_number': title.fiscal_number or getattr(
                self, 'omie_nf_number', None) or None,
            'omie_nf_key': title.nfe_key or getattr(
                self, 'omie_nf_key', None) or None,
            }
        changed = False
        for name, value in values.items():
            if getattr(self, name, None) != value:
                setattr(self, name, value)
                changed = True
        return changed

    def _omie_same_material(self, binding, material):
        """Whether the accounting of the invoice is the material of a title
        (see _TitleChecker.material): the hash stored on its binding when
        it was imported tells it without reading the invoice's lines back;
        the lines are read when the hash differs or is missing"""
        if (binding.origin == 'import' and binding.material_hash
                and self.state in {'posted', 'paid'}
                and binding.material_hash == material_hash(material)):
            return True
        return self._omie_material() == material

    def _omie_material(self):
        "What the accounting of the invoice depends on, to compare"
        return (
            self.party.id,
            self.total_amount,
            self.invoice_date,
            self.payment_term_date,
            tuple(sorted(
                    (line.omie_category or '', line.amount)
                    for line in self.line_lines)),
            )









class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    omie_category = fields.Char(
        "Omie Category", readonly=True,
        help="The code of the Omie category that the line books.")

    @classmethod
    def copy(cls, lines, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('omie_category', None)
        return super().copy(lines, default=default)


class _TitleChecker:
    """Tell whether a title can import now and, when it can, where to:
    its party, and the account of each of its categories"""

    def __init__(self, integration, kind, parties, mappings):
        self.integration = integration
        self.kind = kind
        self.parties = parties
        self.mappings = mappings
        self._periods = {}
        self._accounts = {}

    def party(self, title):
        return self.parties.get(str(title.party_omie_id))

    def target(self, code):
        mapping = self.mappings.get(code)
        if mapping and mapping.state == 'confirmed':
            return mapping.target

    def category_label(self, code):
        mapping = self.mappings.get(code)
        if mapping and mapping.external_name:
            return '%s - %s' % (code, mapping.external_name)
        return code

    def material(self, title):
        "What the accounting of the title depends on, like _omie_material"
        party = self.party(title)
        issue = title.issue_date or title.due_date
        return (
            party.id if party else None,
            title.amount,
            issue,
            title.due_date or issue,
            tuple(sorted(title_splits(title))),
            )

    def check(self, title):
        """Return None when the title can import, else the pending error as
        (kind, message, suggested fix, detail)"""
        pool = Pool()
        Period = pool.get('account.period')
        problem = amount_problem(title, self.integration.company)
        if problem:
            return problem
        party = self.party(title)
        if party is None:
            return ('data_conflict',
                gettext('novagestao_omie.msg_title_party_missing',
                    party=title.party_omie_id or ''),
                gettext('novagestao_omie.msg_title_party_missing_fix'),
                'party:%s' % (title.party_omie_id or ''))
        splits = title_splits(title)
        if not splits:
            return ('validation',
                gettext('novagestao_omie.msg_title_no_category'),
                gettext('novagestao_omie.msg_title_no_category_fix'),
                None)
        if title.amount <= 0:
            return ('validation',
                gettext('novagestao_omie.msg_title_no_amount'),
                gettext('novagestao_omie.msg_title_no_amount_fix'),
                None)
        for code, _ in splits:
            target = self.target(code)
            if target is None:
                return ('category_not_mapped',
                    gettext('novagestao_omie.msg_category_not_mapped',
                        category=self.category_label(code).replace(
                            ' - ', ' – ', 1)),
                    gettext('novagestao_omie.msg_category_not_mapped_fix'),
                    code)
            if not self._usable(target):
                return ('category_not_mapped',
                    gettext('novagestao_omie.msg_category_wrong_account',
                        category=self.category_label(code),
                        account=target.rec_name),
                    gettext('novagestao_omie'
                        '.msg_category_wrong_account_fix'),
                    code)
        if party.id not in self._accounts:
            self._accounts[party.id] = (
                party.account_payable_used if self.kind == 'payable'
                else party.account_receivable_used)
        if not self._accounts[party.id]:
            return ('validation',
                gettext('novagestao_omie.msg_title_party_no_account',
                    party=party.rec_name),
                gettext('novagestao_omie.msg_title_party_no_account_fix'),
                None)
        date = title.issue_date or title.due_date
        if date is None:
            return ('validation',
                gettext('novagestao_omie.msg_title_no_date'),
                gettext('novagestao_omie.msg_title_no_date_fix'),
                None)
        if date not in self._periods:
            try:
                Period.find(self.integration.company, date=date)
                self._periods[date] = True
            except PeriodNotFoundError:
                self._periods[date] = False
        if not self._periods[date]:
            return ('validation',
                gettext('novagestao_omie.msg_no_period', date=date),
                gettext('novagestao_omie.msg_no_period_fix'),
                'period:%s' % date.isoformat())

    def _usable(self, account):
        "Whether invoices of the kind may book on the account"
        if (account.company != self.integration.company or account.closed
                or not account.type):
            return False
        if self.kind == 'receivable':
            return bool(account.type.revenue)
        return bool(account.type.expense or account.type.debt)

    def paid_conflict(self, invoice):
        return ('data_conflict',
            gettext('novagestao_omie.msg_title_changed_paid',
                invoice=invoice.rec_name),
            gettext('novagestao_omie.msg_title_changed_paid_fix'),
            None)

