# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie's side of the books check (see novagestao_integrations_base/books)

Per bank account, Omie's balance today (ListarExtrato's nSaldoAtual, one
call per account, or the answer the run has just read) is compared with
the balance of the statement journal bound to it: the opening balance its
first statement took from Omie, plus what is booked on its account, plus
the lines of the statements not booked yet.

Per party and direction, the open amount of Omie's titles (one listing of
the open receivables, one of the open payables) is compared with the
amounts to pay of the posted invoices.

A difference is explained when the records listed account for it and will
go by themselves: a record pending on an error, a movement or a change not
imported yet, a manual invoice that Omie does not know."""
import json
import logging
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from novagestao_integrations_base.exceptions import IntegrationError
from novagestao_integrations_base.rows import search_columns, search_ids

from .omie import errors, records
from .open_amounts import open_amounts
from .settlement import BANK_ACCOUNT_KIND, STATEMENT_LINE_KIND, TITLE_KINDS
from .sync import OmieSync
from .sync_pending import pending_settlement_title
from .sync_statements import STATEMENT_OVERLAP_MONTHS, months_before

logger = logging.getLogger(__name__)
ZERO = Decimal(0)
INVOICE_KINDS = {'in': 'payable', 'out': 'receivable'}
# The Omie filters that list the open titles only
OPEN_TITLES = {
    'payable': ('ListarContasPagar', {'filtrar_por_status': 'EMABERTO'}),
    'receivable': ('ListarContasReceber',
        {'filtrar_apenas_titulos_em_aberto': 'S'}),
    }
# The explanation names this many records, then says how many more
LISTED = 5


def _first_line(text):
    return (text or '').strip().splitlines()[0] if (text or '').strip() else ''


def _money(value):
    text = '{:,.2f}'.format(value)
    return text.replace(',', '\0').replace('.', ',').replace('\0', '.')


class Difference:
    "What is known of one subject: its amounts and what explains them"

    def __init__(self, kind, subject):
        self.kind = kind
        self.subject = subject
        self.omie = ZERO
        self.tryton = ZERO
        self.unreadable = None
        # (amount explained, text, record, explained)
        self.items = []

    def add(self, amount, text, record=None, explained=True):
        self.items.append((amount, text, record, explained))

    def values(self):
        "The values of the check line, or None when the amounts agree"
        if self.unreadable:
            return {
                'kind': self.kind, 'subject': self.subject,
                'omie_amount': None, 'tryton_amount': self.tryton,
                'explanation': self.unreadable, 'explained': True,
                'related': None}
        difference = self.omie - self.tryton
        if not difference:
            return None
        explained = sum(
            (a for a, _, _, e in self.items if e), ZERO)
        texts = ['%s (%s)' % (t, _money(a)) for a, t, _, _ in self.items]
        if len(texts) > LISTED:
            texts = texts[:LISTED] + [gettext(
                    'novagestao_omie.msg_books_more',
                    count=len(texts) - LISTED)]
        rest = difference - explained
        if rest:
            texts.append(gettext(
                    'novagestao_omie.msg_books_unexplained',
                    amount=_money(rest)))
        # the first record to look at: an unexplained one first
        related = next((r for _, _, r, e in self.items if r and not e),
            None) or next((r for _, _, r, _ in self.items if r), None)
        return {
            'kind': self.kind, 'subject': self.subject,
            'omie_amount': self.omie, 'tryton_amount': self.tryton,
            'explanation': '\n'.join(texts), 'explained': not rest,
            'related': str(related) if related else None}


class OmieBooks:
    """Gather the differences of an Omie integration's books

    statements: {Omie bank account id: the ListarExtrato answer of its
    current month up to today} that the run has read already."""

    def __init__(self, integration, client, statements=None, asked=False):
        self.integration = integration
        self.client = client
        self.statements = statements or {}
        # asked by a user, not after a run
        self.asked = asked
        self.sync = OmieSync(integration, None, client=client)

    def today(self):
        pool = Pool()
        Date = pool.get('ir.date')
        with Transaction().set_context(company=self.integration.company.id):
            return Date.today()

    def pending(self, entities):
        "{entity: [pending errors]}"
        pool = Pool()
        Error = pool.get('integration.sync.error')
        result = defaultdict(list)
        for error in Error.search([
                    ('integration', '=', self.integration.id),
                    ('entity', 'in', entities),
                    ('resolved', '=', False),
                    ], order=[('id', 'ASC')]):
            result[error.entity].append(error)
        return result

    # Bank accounts

    def bank_differences(self):
        "Return (accounts checked, [Difference])"
        pool = Pool()
        Binding = pool.get('integration.binding')
        integration = self.integration
        if not integration.is_selected('statement'):
            return 0, []
        selected = set(self.sync.selected_bank_accounts())
        journals = {int(b.external_id): b.record for b in Binding.search([
                    ('integration', '=', integration.id),
                    ('kind', '=', BANK_ACCOUNT_KIND),
                    ]) if b.record
            and (not selected or int(b.external_id) in selected)}
        if not journals:
            return 0, []
        today = self.today()
        tryton = self.journal_balances(list(journals.values()), today)
        pending = defaultdict(list)
        for error in self.pending(['statement'])['statement']:
            try:
                row = json.loads(error.payload or '{}')
                pending[records.parse_id(row.get('nCodCC'))].append(
                    (error, records.parse_decimal(
                            row.get('nValorDocumento'))))
            except (ValueError, TypeError, AttributeError):
                continue
        differences = []
        if not self.asked:
            # after a run, only the accounts whose statement it read: it
            # left the others, read by the run before it less than a minute
            # ago (and checked then), as Omie would refuse them
            journals = {a: j for a, j in journals.items()
                if a in self.statements}
        for account_id, journal in sorted(journals.items()):
            difference = Difference('bank', journal.rec_name)
            difference.tryton = tryton[journal.id]
            differences.append(difference)
            try:
                statement = records.Statement.from_omie(
                    self.statement(account_id, today))
            except errors.RedundantRequestError:
                raise
            except errors.OmieError as error:
                difference.unreadable = gettext(
                    'novagestao_omie.msg_books_unreadable',
                    error=integration.describe_exception(error))
                continue
            except ValueError as error:
                difference.unreadable = str(error)
                continue
            difference.omie = statement.closing_balance
            if difference.omie == difference.tryton:
                continue
            seen = set()
            for error, amount in pending.get(account_id, []):
                seen.add(error.external_id)
                difference.add(amount, gettext(
                        'novagestao_omie.msg_books_movement_pending',
                        error=_first_line(error.message)), error)
            rows = [r for r in statement.lines
                if r.omie_id and str(r.omie_id) not in seen]
            bound = Binding.lookup(
                integration, STATEMENT_LINE_KIND, [r.omie_id for r in rows])
            for row in rows:
                if str(row.omie_id) not in bound:
                    difference.add(row.amount, gettext(
                            'novagestao_omie.msg_books_movement_new',
                            date=row.date.strftime('%d/%m/%Y')
                            if row.date else '',
                            description=row.description or row.omie_id))
            if difference.omie - difference.tryton - sum(
                    a for a, _, _, _ in difference.items):
                for line in self.outside_moves(journal, today):
                    difference.add(line.credit - line.debit, gettext(
                            'novagestao_omie.msg_books_move_outside',
                            move=line.move.rec_name), line.move,
                        explained=False)
        return len(journals), differences

    def statement(self, account_id, today):
        "Omie's statement of the account up to today, read once"
        data = self.statements.get(account_id)
        if data is None:
            # cExibirApenasSaldo is named so that the read never repeats the
            # run's (Omie refuses the same read within a minute)
            # from the months the next run reads again: their movements
            # not imported yet are listed
            data = self.client.call(
                'ListarExtrato', nCodCC=account_id,
                dPeriodoInicial=records.format_date(months_before(
                        today, STATEMENT_OVERLAP_MONTHS)),
                dPeriodoFinal=records.format_date(today),
                cExibirApenasSaldo='N')
        return data

    def journal_balances(self, journals, today):
        """{journal id: opening balance of its first statement + balance of
        its account + lines of its statements not booked yet}"""
        pool = Pool()
        Account = pool.get('account.account')
        Statement = pool.get('account.statement')
        Line = pool.get('account.statement.line')
        company = self.integration.company
        result = defaultdict(lambda: ZERO)
        with Transaction().set_context(company=company.id, to_date=today):
            accounts = Account.browse(list({j.account.id for j in journals}))
            balances = {a.id: a.balance for a in accounts}
        journal_ids = [j.id for j in journals]
        first = {}
        for statement in Statement.search([
                    ('journal', 'in', journal_ids),
                    ('state', '!=', 'cancelled'),
                    ], order=[('date', 'DESC'), ('id', 'DESC')]):
            first[statement.journal.id] = statement
        for line in Line.search([
                    ('statement.journal', 'in', journal_ids),
                    ('statement.state', '=', 'draft'),
                    ('date', '<=', today),
                    ]):
            result[line.statement.journal.id] += line.amount
        for journal in journals:
            opening = first[journal.id].start_balance if (
                journal.id in first) else ZERO
            result[journal.id] += (opening or ZERO) + balances.get(
                journal.account.id, ZERO)
        return result

    def outside_moves(self, journal, today):
        """The lines booked on the journal's account by no statement of
        Omie's (a payment entered in Tryton…), the latest first"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        return MoveLine.search([
                ('account', '=', journal.account.id),
                ('move.date', '<=', today),
                ['OR',
                    ('move.origin', '=', None),
                    [('move.origin', 'not like', 'account.statement,%'),
                        ('move.origin', 'not like', 'account.move,%')],
                    ],
                ], order=[('date', 'DESC'), ('id', 'DESC')], limit=LISTED)

    # Parties

    def party_differences(self):
        """Return (parties checked, [Difference])

        The bindings and invoices of the whole ledger are read as rows, not
        browsed (see novagestao_integrations_base/rows.py)."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Invoice = pool.get('account.invoice')
        Party = pool.get('party.party')
        integration = self.integration
        kinds = [k for k in TITLE_KINDS if integration.is_selected(k)]
        if not kinds:
            return 0, []
        titles = {}
        for kind in kinds:
            titles[kind] = self.open_titles(kind)
        types = [k for k, v in INVOICE_KINDS.items() if v in kinds]
        # a title's binding counts while its invoice exists
        existing = set(search_ids(Invoice, [('type', 'in', types)]))
        bindings, title_of = {}, {}
        for row in search_columns(Binding, [
                    ('integration', '=', integration.id),
                    ('kind', 'in', kinds),
                    ('record', 'like', 'account.invoice,%'),
                    ], ['kind', 'external_id', 'record']):
            invoice_id = int(row['record'].split(',')[1])
            if invoice_id in existing:
                key = (row['kind'], row['external_id'])
                bindings[key] = row
                title_of[invoice_id] = key
        invoices = open_amounts([
                ('company', '=', integration.company.id),
                ('type', 'in', types),
                ])
        parties = {external_id: party.id
            for external_id, party in Binding.records_of(
                integration, 'party', {
                    t.party_omie_id for k in kinds for t in titles[k]
                    if t.party_omie_id}).items()}
        pending = self.pending(kinds + ['settlement'])
        title_errors = {(k, e.external_id): e for k in kinds
            for e in pending[k]}
        settlement_errors = {}
        for error in pending['settlement']:
            settlement_errors.setdefault(
                str(pending_settlement_title(error)), error)
        wanted = Invoice._omie_title_filter(integration)

        differences = {}

        def difference(party_id, kind, party_omie_id=None):
            key = (party_id or 'omie:%s' % party_omie_id, kind)
            if key not in differences:
                label = gettext('novagestao_omie.msg_books_%s' % kind)
                name = Party(party_id).rec_name if party_id else gettext(
                    'novagestao_omie.msg_books_omie_party',
                    party=party_omie_id)
                differences[key] = Difference(
                    'party', '%s (%s)' % (name, label))
            return differences[key]

        listed = set()
        for kind in kinds:
            for title in titles[kind]:
                key = (kind, str(title.omie_id))
                listed.add(key)
                binding = bindings.get(key)
                invoice_id = int(binding['record'].split(',')[1]) if (
                    binding) else None
                invoice = invoices.get(invoice_id)
                party_id = invoice['party'] if invoice else parties.get(
                    str(title.party_omie_id))
                if not invoice and not binding and not wanted(title):
                    continue
                item = difference(party_id, kind, title.party_omie_id)
                item.omie += title.open_amount
                amount = (invoice['amount_to_pay'] or ZERO) if invoice else (
                    ZERO)
                item.tryton += amount
                gap = title.open_amount - amount
                if gap:
                    self.explain_title(item, gap, title,
                        Binding(binding['id']) if binding else None,
                        Invoice(invoice_id) if invoice else None,
                        title_errors.get(key),
                        settlement_errors.get(str(title.omie_id)))
        for invoice_id, row in invoices.items():
            amount = row['amount_to_pay'] or ZERO
            key = title_of.get(invoice_id)
            if not amount or key in listed:
                continue
            invoice = Invoice(invoice_id)
            kind = INVOICE_KINDS[row['type']]
            item = difference(row['party'], kind)
            item.tryton += amount
            if key is None:
                item.add(-amount, gettext(
                        'novagestao_omie.msg_books_invoice_manual',
                        invoice=invoice.rec_name), invoice)
            elif key[1] in settlement_errors:
                error = settlement_errors[key[1]]
                item.add(-amount, gettext(
                        'novagestao_omie.msg_books_settlement_pending',
                        invoice=invoice.rec_name,
                        error=_first_line(error.message)), error)
            else:
                item.add(-amount, gettext(
                        'novagestao_omie.msg_books_invoice_closed',
                        invoice=invoice.rec_name), invoice, explained=False)
        return len(differences), list(differences.values())

    def explain_title(self, item, gap, title, binding, invoice, error,
            settlement_error):
        name = ' '.join(filter(None, [
                    title.document_number, title.instalment])) or str(
            title.omie_id)
        if error:
            item.add(gap, gettext(
                    'novagestao_omie.msg_books_title_pending',
                    title=name, error=_first_line(error.message)), error)
        elif settlement_error:
            item.add(gap, gettext(
                    'novagestao_omie.msg_books_settlement_pending',
                    invoice=invoice.rec_name if invoice else name,
                    error=_first_line(settlement_error.message)),
                settlement_error)
        elif binding is None:
            item.add(gap, gettext(
                    'novagestao_omie.msg_books_title_new', title=name))
        elif binding.content_hash != title.content_hash():
            item.add(gap, gettext(
                    'novagestao_omie.msg_books_title_changed', title=name),
                invoice or binding)
        else:
            item.add(gap, gettext(
                    'novagestao_omie.msg_books_title_differs',
                    title=name,
                    invoice=invoice.rec_name if invoice else name),
                invoice or binding, explained=False)

    def open_titles(self, kind):
        "The open titles of Omie of the kind, as the run's filters read them"
        call, params = OPEN_TITLES[kind]
        params = dict(params, **self.sync.date_and_account_filters(
                'filtrar_por_emissao_de', 'filtrar_conta_corrente'))
        if self.asked:
            # Omie refuses a read repeated within a minute: the check a user
            # asks for never repeats the one after a run (notes left out)
            params['exibir_obs'] = 'N'
        result = []
        for page in self.client.iterate_pages(call, **params):
            for raw in page.records:
                try:
                    title = records.Title.from_omie(raw, kind)
                except ValueError:
                    continue
                if title.omie_id and not title.cancelled and (
                        title.open_amount):
                    result.append(title)
        return result


class Integration(metaclass=PoolMeta):
    __name__ = 'integration.integration'

    @classmethod
    def books_related_models(cls):
        return super().books_related_models() + [
            'account.invoice', 'account.statement']

    def connector_books_check(self, run=None, source=None):
        """Check the books against Omie; source is the OmieSync of the run
        that has just read Omie (the statements it read are reused)

        The check waits for nothing: Omie refusing a read repeated within
        its minute skips the check of a run (the next run checks) and tells
        the user who asked to try again."""
        pool = Pool()
        Check = pool.get('integration.books.check')
        if self.connector != 'omie':
            return super().connector_books_check(run=run, source=source)
        # no read cache: a read of the last minute (see the client's
        # answer to a redundant refusal) would show differences that are
        # gone
        client = self.omie_client(max_retries=0, cache_ttl=0)
        try:
            books = OmieBooks(self, client,
                statements=source.current_statements if source else None,
                asked=run is None)
            banks, bank_lines = books.bank_differences()
            parties, party_lines = books.party_differences()
        except errors.OmieError as error:
            if run is not None and error.transient:
                logger.info("books of integration %d not checked after "
                    "run %d: %s", self.id, run.id, error)
                return None
            raise IntegrationError(gettext(
                    'novagestao_omie.msg_books_failed',
                    error=self.describe_exception(error))) from error
        finally:
            client.close()
        lines = [d.values() for d in bank_lines + party_lines]
        return Check.record(
            self, [l for l in lines if l], bank_count=banks,
            party_count=parties, run=run)


__all__ = ['OmieBooks', 'Integration']
