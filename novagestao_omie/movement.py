# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Omie bank movements as bank statements, one per bank account and month

The statement of a month holds a line per realised movement of Omie's
statement (ListarExtrato; the balance marker rows and the forecasts of open
titles are not movements).  A movement that settles a title is booked on
the clearing account where its settlement's payment waits (settlement.py),
so posting the statement moves the money to the bank account without paying
the invoice twice; a transfer goes through a transit account; any other
movement books on the account its category is mapped to.

The statement of the current month stays in draft and grows at each run;
the statement of a past month is validated and posted once every movement
of the month is in it and Omie's balances agree with its lines."""
import datetime as dt
import re
import unicodedata

from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from novagestao_integrations_base.binding import BindingMixin

from .amounts import amount_problem
from .context import POST_LATER
from .settlement import STATEMENT_LINE_KIND, OmieAccounts, month_key

STATEMENT_KIND = 'statement'
PARTY_KIND = 'party'
TRANSFER_ORIGINS = {'TRAP', 'TRAR', 'TRANSFERENCIA'}


def month_end(date):
    following = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def _fold(text):
    text = unicodedata.normalize('NFKD', text or '')
    text = ''.join(c for c in text if not unicodedata.combining(c))
    return re.sub(r'[^A-Z]', '', text.upper())


def is_transfer(line):
    "Whether the statement line is a transfer between the company's accounts"
    return (_fold(line.origin) in TRANSFER_ORIGINS
        or line.category.startswith('0.'))


class Statement(BindingMixin, metaclass=PoolMeta):
    __name__ = 'account.statement'

    @classmethod
    def omie_import_statements(cls, integration, run, statements):
        """Add the new movements of Omie's statements (one account and
        month each) to the statements of their month, and post the
        complete statements of past months

        Counts movements: a movement already in a statement is unchanged."""
        counts = dict.fromkeys(
            ['created', 'updated', 'unchanged', 'skipped'], 0)
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            accounts = OmieAccounts(integration)
            for statement in statements:
                cls._omie_statement(
                    integration, run, statement, accounts, counts)
        return counts

    @classmethod
    def _omie_statement(cls, integration, run, omie, accounts, counts):
        pool = Pool()
        Binding = pool.get('integration.binding')
        Date = pool.get('ir.date')
        Line = pool.get('account.statement.line')
        Mapping = pool.get('integration.mapping')

        journal = accounts.journal(omie.account_omie_id)
        if not journal or not omie.start_date:
            counts['skipped'] += len(omie.lines)
            return
        today = Date.today()
        rows = [l for l in omie.lines if l.omie_id]
        bindings = Binding.lookup(
            integration, STATEMENT_LINE_KIND, [r.omie_id for r in rows])
        key = month_key(omie.account_omie_id, omie.start_date)
        statement_binding = Binding.lookup(
            integration, STATEMENT_KIND, [key]).get(key)
        statement = statement_binding.record if statement_binding else None
        if statement and not cls.search([('id', '=', statement.id)]):
            statement = None

        parties = Binding.records_of(
            integration, PARTY_KIND,
            {r.party_omie_id for r in rows if r.party_omie_id})
        codes = {r.category for r in rows if r.category}
        mappings = {m.external_code: m for m in Mapping.search([
                    ('integration', '=', integration.id),
                    ('external_code', 'in', list(codes)),
                    ])}

        new_lines, resolved, errors = [], [], []
        for row in rows:
            external_id = str(row.omie_id)
            binding = bindings.get(external_id)
            if binding and binding.record:
                counts['unchanged'] += 1
                resolved.append(external_id)
                continue
            account, problem = cls._omie_line_account(
                row, omie, accounts, mappings)
            problem = amount_problem(row, integration.company) or problem
            party = parties.get(str(row.party_omie_id))
            if not problem and account.party_required and not party:
                problem = ('data_conflict',
                    gettext('novagestao_omie.msg_movement_party_missing',
                        party=row.party_name or row.party_omie_id or ''),
                    gettext('novagestao_omie.msg_title_party_missing_fix'),
                    'party:%s' % (row.party_omie_id or ''))
            if problem:
                errors.append((row, problem))
                counts['skipped'] += 1
                continue
            description = ' - '.join(filter(None, [
                        row.description, row.observation]))
            new_lines.append((row, Line(
                        number=row.document or None, date=row.date,
                        amount=row.amount, party=party, account=account,
                        description=description or None)))
            counts['created'] += 1
            resolved.append(external_id)

        if statement is None or statement.state != 'draft':
            if not new_lines:
                cls._omie_post_complete(
                    integration, omie, statement, errors, today)
                cls._omie_record_errors(
                    integration, run, omie, resolved, errors)
                return
            statement = cls(
                company=integration.company, journal=journal, lines=[],
                name=cls._omie_name(journal, omie, statement))
            statement_binding = Binding.link(
                integration, STATEMENT_KIND, key, statement,
                binding=statement_binding)
        # a draft statement follows Omie: drop the movements deleted there
        current = {str(r.omie_id) for r in rows}
        saved = [l for l in statement.lines if l.id is not None and l.id >= 0]
        movements = {b.record.id: b.external_id for b in Binding.search([
                    ('integration', '=', integration.id),
                    ('kind', '=', STATEMENT_LINE_KIND),
                    ('record', 'in', [str(l) for l in saved]),
                    ])} if saved else {}
        removed = [l for l in saved
            if l.id in movements and movements[l.id] not in current]
        if removed:
            Binding.delete(Binding.search([
                        ('integration', '=', integration.id),
                        ('kind', '=', STATEMENT_LINE_KIND),
                        ('record', 'in', [str(l) for l in removed]),
                        ]))
            Line.delete(removed)
        date = min(omie.end_date or today, today)
        if (not new_lines and not removed and statement.id is not None
                and (statement.date, statement.start_balance,
                    statement.end_balance) == (
                    date, omie.opening_balance, omie.closing_balance)):
            # read again unchanged: nothing to write
            cls._omie_post_complete(
                integration, omie, statement, errors, today)
            cls._omie_record_errors(integration, run, omie, resolved, errors)
            return
        statement.date = date
        statement.start_balance = omie.opening_balance
        statement.end_balance = omie.closing_balance
        if getattr(statement, 'total_amount', None) is None:
            statement.total_amount = 0
        statement.save()
        for _, line in new_lines:
            line.statement = statement
        Line.save([l for _, l in new_lines])
        statement = cls(statement.id)
        statement.total_amount = sum(l.amount for l in statement.lines)
        statement.save()
        statement_binding.record = statement
        statement_binding.save()
        Binding.save([
                Binding.link(
                    integration, STATEMENT_LINE_KIND, str(row.omie_id),
                    line, content_hash=row.content_hash(),
                    binding=bindings.get(str(row.omie_id)))
                for row, line in new_lines])
        cls._omie_post_complete(integration, omie, statement, errors, today)
        cls._omie_record_errors(integration, run, omie, resolved, errors)

    @classmethod
    def omie_forget_movements(cls, integration, run, movement_ids,
            deleted=()):
        """Take out of their draft statement the lines of movements changed
        or deleted in Omie, so that reading their month again brings them
        back as Omie holds them now.  The line of a movement deleted in Omie
        whose statement is already posted is reversed (see
        _omie_reverse_line); one changed there is kept and reported.

        deleted holds the ids of movements Omie says are deleted.
        Return ({(Omie bank account, first day of month) to read again},
        {movement id: (what was done, statement or reversing move)}) where
        what was done is 'forgotten', 'reversed' or 'kept'."""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Error = pool.get('integration.sync.error')
        Line = pool.get('account.statement.line')
        deleted = {str(m) for m in deleted}
        bindings = [b for b in Binding.lookup(
                integration, STATEMENT_LINE_KIND, movement_ids).values()
            if b.record]
        lines = Line.browse([b.record.id for b in bindings])
        existing = {l.id for l in Line.search(
                [('id', 'in', [l.id for l in lines])])}
        statements = {l.statement for l in lines if l.id in existing}
        keys = {b.record.id: b.external_id for b in Binding.for_records(
                integration, list(statements)).values()} if statements else {}
        months, to_forget, to_reverse, done = set(), [], [], {}
        for binding in bindings:
            if binding.record.id not in existing:
                to_forget.append(binding)
                done[binding.external_id] = ('forgotten', None)
                continue
            statement = Line(binding.record.id).statement
            if statement.state == 'draft':
                to_forget.append(binding)
                done[binding.external_id] = ('forgotten', statement)
                key = keys.get(statement.id, '')
                account, _, month = key.partition(':')
                if account and month:
                    months.add((int(account), dt.date.fromisoformat(
                                month + '-01')))
            elif binding.external_id in deleted:
                to_reverse.append(binding)
            else:
                done[binding.external_id] = ('kept', statement)
                Error.record(
                    run, STATEMENT_KIND, binding.external_id,
                    'data_conflict',
                    gettext('novagestao_omie.msg_movement_changed_posted',
                        statement=statement.rec_name),
                    suggested_fix=gettext(
                        'novagestao_omie.msg_movement_changed_posted_fix'))
        Line.delete([Line(b.record.id) for b in to_forget
                if b.record.id in existing])
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            for binding in to_reverse:
                move = cls._omie_reverse_line(Line(binding.record.id))
                done[binding.external_id] = ('reversed', move)
        # a reversed line stays in its statement but is no movement of Omie
        # any more: unbound, a repeated event finds nothing to reverse
        Binding.delete(to_forget + to_reverse)
        return months, done

    @classmethod
    def _omie_reverse_line(cls, line):
        """Book a posted move that reverses the accounting of a line of a
        posted statement, and return it

        A posted statement is part of the books: an accountant never
        deletes its line but reverses it.  Tryton's statement move groups
        several lines, so only this line's move line and its share of the
        bank account are reversed, on the statement's journal and at the
        line's date (today when its period is closed), as the Cancel Moves
        wizard dates a cancellation; the reversed line and its reversal
        are reconciled on a reconcilable account (what the line cleared is
        open again, as the money never reached the bank)."""
        pool = Pool()
        Date = pool.get('ir.date')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        Reconciliation = pool.get('account.move.reconciliation')
        statement = line.statement
        company = statement.company
        originals = MoveLine.search([
                ('move', '=', line.move.id if line.move else -1),
                ('origin', '=', str(line)),
                ])
        if not originals:
            # a line of zero books nothing: nothing to reverse
            return None
        date = line.date
        periods = Period.search([
                ('company', '=', company.id),
                ('start_date', '<=', date), ('end_date', '>=', date),
                ('type', '=', 'standard'),
                ], limit=1)
        if not periods or periods[0].state == 'closed':
            date = Date.today()
        move = Move(
            company=company, journal=statement.journal.journal, date=date,
            # the origin Tryton's Cancel Moves gives: the move reversed
            period=Period.find(company, date=date), origin=line.move,
            description=gettext(
                'novagestao_omie.msg_movement_reversal_description',
                statement=statement.rec_name))
        reversals = []
        for original in originals:
            reversals.append(MoveLine(
                    account=original.account, party=original.party,
                    debit=original.credit, credit=original.debit,
                    second_currency=original.second_currency,
                    amount_second_currency=(
                        -original.amount_second_currency
                        if original.amount_second_currency else None)))
            # the journal's bank account gave the counterpart
            reversals.append(MoveLine(
                    account=statement.journal.account,
                    debit=original.debit, credit=original.credit))
        move.save()
        for reversal in reversals:
            reversal.move = move
        MoveLine.save(reversals)
        Move.post([move])
        to_reconcile = []
        for original, reversal in zip(originals, reversals[::2]):
            if not original.account.reconcile:
                continue
            if original.reconciliation:
                Reconciliation.delete([original.reconciliation])
            to_reconcile.append([MoveLine(original.id), reversal])
        if to_reconcile:
            MoveLine.reconcile(*to_reconcile)
        return move

    @classmethod
    def _omie_line_account(cls, row, omie, accounts, mappings):
        "Return (account, None) or (None, pending error) of a movement"
        if row.title_omie_id:
            return accounts.clearing(omie.account_omie_id), None
        if is_transfer(row):
            return accounts.transfer(omie.account_omie_id), None
        if not row.category:
            return None, ('validation',
                gettext('novagestao_omie.msg_movement_no_category'),
                gettext('novagestao_omie.msg_movement_no_category_fix'),
                None)
        mapping = mappings.get(row.category)
        if mapping and mapping.state == 'confirmed' and mapping.target:
            target = mapping.target
            if not target.closed and target.type:
                return target, None
        name = (mapping.external_name if mapping else None) or (
            row.category_description)
        label = ' – '.join(filter(None, [row.category, name]))
        return None, ('category_not_mapped',
            gettext('novagestao_omie.msg_category_not_mapped',
                category=label),
            gettext('novagestao_omie.msg_movement_category_not_mapped_fix'),
            row.category)

    @classmethod
    def _omie_name(cls, journal, omie, previous):
        name = '%s %s' % (journal.name, omie.start_date.strftime('%Y-%m'))
        if previous:
            # the statement of the month is closed: a supplement
            count = cls.search_count([
                    ('journal', '=', journal.id),
                    ('name', 'like', name + '%'),
                    ])
            name = '%s (%s)' % (name, count + 1)
        return name

    @classmethod
    def _omie_post_complete(cls, integration, omie, statement, errors, today):
        """Validate and post the draft statement of a past month when it
        holds every movement of the month and Omie's balances agree"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Move = pool.get('account.move')
        rows = [str(l.omie_id) for l in omie.lines if l.omie_id]
        if (statement is not None and statement.state == 'validated'
                and not Transaction().context.get(POST_LATER)):
            # validated by a shared chunk whose post Tryton refused (see
            # sync_refused): posted now that its month is read again
            cls.post([statement])
            Move.omie_reconcile_clearing(integration, rows)
            return
        if (statement is None or statement.state != 'draft' or errors
                or not omie.end_date or omie.end_date >= today
                or month_end(omie.end_date) != omie.end_date
                or not omie.balanced):
            return
        bound = Binding.lookup(integration, STATEMENT_LINE_KIND, rows)
        if len(bound) != len(rows) or not statement.lines:
            return
        cls.validate_statement([statement])
        if Transaction().context.get(POST_LATER):
            # the run posts it in a transaction of its own
            return
        cls.post([statement])
        Move.omie_reconcile_clearing(integration, rows)

    @classmethod
    def omie_post_built(cls, integration, statements):
        """Post the statements of Omie's (one account and month each) that
        a chunk's build validated (see sync_chunks)"""
        pool = Pool()
        Binding = pool.get('integration.binding')
        Move = pool.get('account.move')
        keys = {month_key(s.account_omie_id, s.start_date): s
            for s in statements if s.start_date}
        with Transaction().set_context(
                company=integration.company.id, _skip_warnings=True):
            for key, binding in Binding.lookup(
                    integration, STATEMENT_KIND, list(keys)).items():
                statement = binding.record
                if not statement or statement.state != 'validated':
                    continue
                cls.post([statement])
                Move.omie_reconcile_clearing(integration, [
                        str(l.omie_id) for l in keys[key].lines
                        if l.omie_id])

    @classmethod
    def _omie_record_errors(cls, integration, run, omie, resolved, errors):
        pool = Pool()
        Error = pool.get('integration.sync.error')
        # the month itself may be pending, refused by Tryton (sync_refused)
        Error.resolve(integration, STATEMENT_KIND, resolved + [
                month_key(omie.account_omie_id, omie.start_date)])
        for row, (kind, message, fix, detail) in errors:
            payload = dict(row.raw, nCodCC=omie.account_omie_id)
            Error.record(
                run, STATEMENT_KIND, str(row.omie_id), kind, message,
                suggested_fix=fix, payload=payload, detail=detail)

