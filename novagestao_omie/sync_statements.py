# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Statements: one ListarExtrato per bank account and month

The bank statements are read per account and month, not page by page: from
the month before the cursor's (Omie accepts movements dated in the past) to
today, and the months of pending movements; months read less than a minute
before are left out, as Omie would refuse to read them again yet."""
import datetime as dt
import json

from trytond.pool import Pool
from trytond.transaction import Transaction

from .omie import records

# The statements of this many months before the cursor's are read again:
# Omie accepts movements dated in the past.
STATEMENT_OVERLAP_MONTHS = 1
# Statement months read from Omie before they are shared with the workers
# (see sync_chunks), a chunk each
STATEMENT_BATCH = 20
# Omie refuses the same read again within a minute (its redundant-call
# rule): the statement months read by a step that ended less than this ago
# are not read again, unless a pending movement of theirs may import now.
REDUNDANT_WINDOW = dt.timedelta(seconds=60)


class StatementMonths:
    "The statement part of OmieSync"

    def run_statement_step(self, step, start_progress, share):
        """Import the statements of each bank account month by month, from
        the month before the cursor's (or the import date) to today, and
        the months of pending movements"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Cursor = pool.get('integration.cursor')
        Date = pool.get('ir.date')
        Error = pool.get('integration.sync.error')
        with Transaction().set_context(company=self.integration.company.id):
            today = Date.today()
        accounts = self.selected_bank_accounts() or sorted(
            int(b.external_id) for b in Binding.search([
                    ('integration', '=', self.integration.id),
                    ('kind', '=', 'bank_account'),
                    ]) if b.record)
        cursor = Cursor.get(self.integration, step.entity)
        start = self.integration.import_from_date or today
        if cursor:
            start = max(start, months_before(
                    dt.date.fromisoformat(cursor[:10]),
                    STATEMENT_OVERLAP_MONTHS))
        wanted = {a: set(month_starts(start, today)) for a in accounts}
        read_lately = self.statements_read_lately(step, accounts)
        retry = set()
        released, other = self.releasable(
            Error.pending(self.integration, step.entity))
        for error in released + other:
            month, account = pending_statement_month(error)
            if account in wanted and month and month <= today:
                wanted[account].add(month)
        for error in released:
            month, account = pending_statement_month(error)
            retry.add((account, month))
        periods = [(a, m) for a in accounts for m in sorted(wanted[a])]
        skipped = [p for p in periods
            if p in read_lately and p not in retry]
        periods = [p for p in periods if p not in skipped]
        shared = self.shares_chunks(step, periods)
        months = []
        for index, (account, month) in enumerate(periods, 1):
            if not shared:
                self.import_statement_month(step, account, month, today)
            else:
                # a chunk per month, shared with the workers by batches
                months.append([self.read_statement_month(
                            step, account, month, today)])
                if len(months) < STATEMENT_BATCH and index < len(periods):
                    continue
                self.import_shared(step, months)
                months = []
            self.run.set_progress(
                start_progress + share * 100 * index / len(periods),
                remote_calls=self.client.calls)
            self.commit()
        # the months left were read less than a minute before: as far as
        # Omie's rule goes, they count as read now with the others
        Cursor.set(self.integration, step.entity, today.isoformat())
        self.commit()

    def statements_read_lately(self, step, accounts):
        """The (bank account, month) that the last statement step read less
        than REDUNDANT_WINDOW ago: Omie would refuse to read them again yet

        The step that ended then read every month from the one before its
        cursor's to its end, of the accounts bound before it ended (or left
        them, as read less than a minute before it)."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Cursor = pool.get('integration.cursor')
        cursors = Cursor.search([
                ('integration', '=', self.integration.id),
                ('entity', '=', step.entity),
                ], limit=1)
        if not cursors or not cursors[0].value or not cursors[0].updated:
            return set()
        cursor, = cursors
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        if now - cursor.updated >= REDUNDANT_WINDOW:
            return set()
        end = dt.date.fromisoformat(cursor.value[:10])
        months = list(month_starts(
                months_before(end, STATEMENT_OVERLAP_MONTHS), end))
        bound = Binding.lookup(self.integration, 'bank_account', accounts)
        return {(int(external_id), month)
            for external_id, binding in bound.items()
            if binding.create_date and binding.create_date <= cursor.updated
            for month in months}

    def import_statement_month(self, step, account, month, today):
        "Import Omie's statement of the bank account for the month"
        data = self.read_statement_month(step, account, month, today)
        self.import_isolated(step, [data])

    def read_statement_month(self, step, account, month, today):
        "Return Omie's statement of the bank account for the month"
        end = min(last_day(month), today)
        data = self.client.call(
            step.call, nCodCC=account,
            dPeriodoInicial=records.format_date(month),
            dPeriodoFinal=records.format_date(end))
        # Omie leaves these out when the account did not move
        data.setdefault('nCodCC', account)
        data.setdefault('dPeriodoInicial', records.format_date(month))
        data.setdefault('dPeriodoFinal', records.format_date(end))
        if end == today:
            self.current_statements[account] = data
        return data


def months_before(date, count):
    "The first day of the month count months before the month of date"
    day = date.replace(day=1)
    for _ in range(count):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return day


def last_day(date):
    following = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def month_starts(start, end):
    day = start.replace(day=1)
    while day <= end:
        yield day
        day = last_day(day) + dt.timedelta(days=1)


def pending_statement_month(error):
    "(first day of the month, Omie bank account) of a pending movement"
    try:
        row = json.loads(error.payload or '{}')
        # a movement, or a month's statement that Tryton refused
        date = records.parse_date(
            row.get('dDataLancamento') or row.get('dPeriodoInicial'))
        account = records.parse_id(row.get('nCodCC'))
    except (ValueError, TypeError, AttributeError):
        return None, None
    return (date.replace(day=1) if date else None), account
