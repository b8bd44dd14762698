# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The runners-up of a suggestion, and what the users' choices teach

A suggestion keeps its best three candidates with their reasons: when the
first is wrong, the user picks another in one click (Choose), which
confirms the mapping and records the first as rejected for it.

Every choice is evidence for the next suggestions, read afresh each time
(there is nothing to retrain): a confirmed mapping, accepted or chosen by
hand, and a rejection weigh for or against their account for the
categories of the same name, in the same company (its account) and in the
other companies of the database (their accounts of the same name)."""
from sql.functions import CurrentTimestamp

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import suggest

ACCOUNT = 'account.account'
# how much a choice weighs: one of the company's own against one made
# with another company's chart, matched by the account's name only
SAME_COMPANY = 1.
OTHER_COMPANY = 0.5


def _target_id(target, model=ACCOUNT):
    "Return the id of a Reference value 'model,id' of model, or None"
    if not target or not target.startswith(model + ','):
        return None
    try:
        return int(target.split(',', 1)[1])
    except ValueError:
        return None


class Mapping(metaclass=PoolMeta):
    __name__ = 'integration.mapping'

    candidates = fields.One2Many(
        'integration.mapping.candidate', 'mapping', "Candidates",
        readonly=True,
        help="The best targets of the last suggestion, with their reasons: "
        "choose another one when the first is wrong.")

    @classmethod
    def _suggest_ranked(cls, mappings, result):
        pool = Pool()
        Candidate = pool.get('integration.mapping.candidate')
        super()._suggest_ranked(mappings, result)
        # in SQL: the ORM takes a second for the 1,500 candidates of 500
        # categories, and they are only read back
        table = Candidate.__table__()
        cursor = Transaction().connection.cursor()
        user = Transaction().user
        for sub_mappings in grouped_slice(mappings):
            cursor.execute(*table.delete(
                    where=table.mapping.in_([m.id for m in sub_mappings])))
        rows = [[
                    mapping.id, rank, '%s,%s' % (ACCOUNT, suggestion.account),
                    round(suggestion.score),
                    cls._suggest_reason(suggestion.reasons),
                    user, CurrentTimestamp()]
            for mapping in mappings
            for rank, suggestion in enumerate(
                result.get(mapping.id) or [], 1)]
        for sub_rows in grouped_slice(rows):
            cursor.execute(*table.insert([
                        table.mapping, table.rank, table.target, table.score,
                        table.reason, table.create_uid, table.create_date],
                    list(sub_rows)))

    @classmethod
    def _choices(cls):
        """Yield (mapping id, company id, external name, account id,
        weight sign) of every confirmed mapping and rejection of the
        database, read in SQL across companies: they are evidence only,
        never shown"""
        pool = Pool()
        Integration = pool.get('integration.integration')
        Rejection = pool.get('integration.mapping.rejection')
        mapping = cls.__table__()
        integration = Integration.__table__()
        rejection = Rejection.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*mapping.join(integration,
                condition=mapping.integration == integration.id
                ).select(
                mapping.id, integration.company, mapping.external_name,
                mapping.target,
                where=(mapping.state == 'confirmed')
                & (mapping.target.like(ACCOUNT + ',%'))))
        for id_, company, name, target in cursor:
            yield id_, company, name, _target_id(target), 1
        cursor.execute(*rejection.join(mapping,
                condition=rejection.mapping == mapping.id
                ).join(integration,
                condition=mapping.integration == integration.id
                ).select(
                mapping.id, integration.company, mapping.external_name,
                rejection.target,
                where=rejection.target.like(ACCOUNT + ',%')))
        for id_, company, name, target in cursor:
            yield id_, company, name, _target_id(target), -1

    @classmethod
    def _mapping_learned(cls, integration, mappings, accounts):
        pool = Pool()
        Account = pool.get('account.account')
        result = super()._mapping_learned(integration, mappings, accounts)
        by_name = {}
        for mapping in mappings:
            if mapping.external_name:
                by_name.setdefault(
                    suggest.normalise(mapping.external_name), []).append(
                    mapping)
        if not by_name:
            return result
        company = integration.company.id
        own = {a.id for a in accounts}
        # another company's account counts for the accounts of this one
        # that have its name
        local = {}
        for account in accounts:
            local.setdefault(suggest.normalise(account.name), []).append(
                account.id)
        choices = []
        foreign = set()
        for id_, choice_company, name, target, sign in cls._choices():
            key = suggest.normalise(name or '')
            if target is None or key not in by_name:
                continue
            choices.append((id_, choice_company, key, target, sign))
            if choice_company != company:
                foreign.add(target)
        names = {}
        if foreign:
            accounts_table = Account.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*accounts_table.select(
                    accounts_table.id, accounts_table.name,
                    where=accounts_table.id.in_(list(foreign))))
            names = {i: suggest.normalise(n or '') for i, n in cursor}
        for id_, choice_company, key, target, sign in choices:
            if choice_company == company:
                targets, weight = ([target] if target in own else []), (
                    SAME_COMPANY)
            else:
                targets, weight = local.get(names.get(target), []), (
                    OTHER_COMPANY)
            for mapping in by_name[key]:
                # a mapping's own rejections exclude; its own confirmation
                # is what is being suggested again
                if mapping.id == id_:
                    continue
                counts = result.setdefault(mapping.id, {})
                for account in targets:
                    counts[account] = counts.get(account, 0) + sign * weight
        return result

    @classmethod
    def _mapping_siblings(cls, integration, mappings):
        result = super()._mapping_siblings(integration, mappings)
        parents = {m.id: suggest.parent_code(m.external_code)
            for m in mappings}
        wanted = {p for p in parents.values() if p}
        if not wanted:
            return result
        by_parent = {}
        for confirmed in cls.search([
                    ('integration', '=', integration.id),
                    ('state', '=', 'confirmed'),
                    ('target', 'like', ACCOUNT + ',%'),
                    ]):
            parent = suggest.parent_code(confirmed.external_code)
            if parent in wanted and confirmed.target:
                counts = by_parent.setdefault(parent, {})
                counts[confirmed.target.id] = (
                    counts.get(confirmed.target.id, 0) + 1)
        for mapping_id, parent in parents.items():
            if parent in by_parent:
                result[mapping_id] = dict(by_parent[parent])
        return result


class MappingCandidate(ModelSQL, ModelView):
    """Mapping Candidate

    One of the best targets of a mapping's last suggestion."""
    __name__ = 'integration.mapping.candidate'

    mapping = fields.Many2One(
        'integration.mapping', "Mapping", required=True, ondelete='CASCADE',
        readonly=True)
    rank = fields.Integer("Rank", readonly=True)
    target = fields.Reference(
        "Target", selection='get_targets', required=True, readonly=True)
    target_name = fields.Function(
        fields.Char("Target"), 'get_target_name')
    score = fields.Float("Score", digits=(3, 0), readonly=True)
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('mapping')
        cls._order = [('mapping', 'ASC'), ('rank', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'choose': {},
                })

    @classmethod
    def get_targets(cls):
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        return Mapping.get_targets()

    def get_target_name(self, name):
        return self.target.rec_name if self.target else None

    @classmethod
    @ModelView.button
    def choose(cls, candidates):
        """Confirm the mappings with the candidates' targets; a suggestion
        passed over is rejected for its mapping"""
        pool = Pool()
        Mapping = pool.get('integration.mapping')
        Rejection = pool.get('integration.mapping.rejection')
        chosen = {}
        for candidate in candidates:
            chosen[candidate.mapping] = candidate.target
        passed_over = [(m, m.target) for m, t in chosen.items()
            if m.state == 'suggested' and m.target and m.target != t]
        if passed_over:
            Rejection.reject(passed_over)
        mappings = []
        for mapping, target in chosen.items():
            if mapping.state == 'confirmed' and mapping.target == target:
                continue
            mapping.target = target
            mappings.append(mapping)
        if mappings:
            Mapping.save(mappings)
            Mapping.confirm(mappings)
        return 'reload'
