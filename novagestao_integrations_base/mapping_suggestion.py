# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
from trytond.i18n import gettext, ngettext
from trytond.pool import Pool
from trytond.transaction import Transaction

from . import suggest


class MappingSuggestions:
    """The suggestions of a mapping's target: the candidates, the evidence
    (usage, the users' choices, the categories of the same group) that
    connector modules override, and the reasons shown to users"""
    __slots__ = ()

    _suggest_min_score = 40
    # the suggestion and the runners-up the user may pick instead, which
    # may score less than a suggestion must
    _suggest_limit = 3
    _candidate_min_score = 20

    @classmethod
    def suggest_targets(cls, mappings):
        """Suggest the best target of each mapping that has no target the
        user picked or confirmed, never one the user rejected

        Return the mappings that got a suggestion."""
        pool = Pool()
        Rejection = pool.get('integration.mapping.rejection')
        Synonym = pool.get('integration.mapping.synonym')
        mappings = [m for m in mappings if m.state == 'suggested'
            or (m.state in {'unmapped', 'rejected'} and not m.target)]
        by_integration = {}
        for mapping in mappings:
            by_integration.setdefault(mapping.integration, []).append(
                mapping)
        synonyms = Synonym.groups()
        excluded = Rejection.rejected(mappings)
        to_save, suggested = [], []
        for integration, integration_mappings in by_integration.items():
            suggester = suggest.Suggester(
                cls._suggest_candidates(integration), synonyms=synonyms)
            codes = [m.external_code for m in integration_mappings]
            usage = cls._mapping_usage(integration, codes)
            party_usage = cls._mapping_party_usage(integration, codes)
            learned = cls._mapping_learned(
                integration, integration_mappings, suggester.accounts)
            siblings = cls._mapping_siblings(
                integration, integration_mappings)
            categories = [
                suggest.Category(
                    key=m.id,
                    name=m.external_name or m.external_code,
                    kind=m.external_type,
                    usage=usage.get(m.external_code, {}),
                    party_usage=party_usage.get(m.external_code, {}),
                    excluded=frozenset(excluded.get(m.id, ())),
                    learned=learned.get(m.id, {}),
                    siblings=siblings.get(m.id, {}))
                for m in integration_mappings]
            result = suggester.suggest(
                categories, limit=cls._suggest_limit,
                min_score=cls._candidate_min_score)
            cls._suggest_ranked(integration_mappings, result)
            for mapping in integration_mappings:
                best = (result.get(mapping.id) or [None])[0]
                if best and best.score >= cls._suggest_min_score:
                    mapping.target = cls._suggest_target(best.account)
                    mapping.score = round(best.score)
                    mapping.reason = cls._suggest_reason(best.reasons)
                    mapping.state = 'suggested'
                    suggested.append(mapping)
                elif mapping.state == 'suggested':
                    mapping.target = None
                    mapping.score = mapping.reason = None
                    mapping.state = 'unmapped'
                else:
                    continue
                to_save.append(mapping)
        cls.save(to_save)
        return suggested

    @classmethod
    def _suggest_candidates(cls, integration):
        """Return the suggest.Account of the records the mappings of the
        integration may target: the accounts of its company that take
        entries (a type and not closed), as revenue, expense or other"""
        pool = Pool()
        Account = pool.get('account.account')
        Type = pool.get('account.account.type')
        account = Account.__table__()
        parent = Account.__table__()
        type_ = Type.__table__()
        # read in SQL: instances of thousands of accounts are slow
        query = Account.search([
                ('company', '=', integration.company.id),
                ('type', '!=', None),
                ('closed', '!=', True),
                ], query=True)
        cursor = Transaction().connection.cursor()
        # with the parent's name, which tells what a short name is about
        # ("Manutenção" under "Despesas com Veículos")
        cursor.execute(*account.join(type_,
                condition=account.type == type_.id
                ).join(parent, 'LEFT',
                condition=account.parent == parent.id
                ).select(
                account.id, account.name, type_.revenue, type_.expense,
                account.code, parent.name,
                where=account.id.in_(query)))
        candidates = []
        for id_, name, revenue, expense, code, parent_name in cursor:
            if revenue and not expense:
                kind = 'revenue'
            elif expense and not revenue:
                kind = 'expense'
            else:
                kind = 'other'
            candidates.append(
                suggest.Account(id_, name, kind, code, parent_name))
        return candidates

    @classmethod
    def _suggest_target(cls, id_):
        "Return the target record of a candidate id"
        pool = Pool()
        Account = pool.get('account.account')
        return Account(id_)

    @classmethod
    def _mapping_usage(cls, integration, codes):
        """Return {code: {target id: count}}: how often the records of each
        external code were booked on each target

        Connector modules override it with their history."""
        return {}

    @classmethod
    def _mapping_party_usage(cls, integration, codes):
        """Return {code: {target id: count}}: how often the parties of the
        records waiting for each external code were booked on each target

        Connector modules override it with their history."""
        return {}

    @classmethod
    def _mapping_learned(cls, integration, mappings, accounts):
        """Return {mapping id: {target id: weight}}: the users' choices
        (positive) and rejections (negative) for categories of the same
        name; mapping_candidate reads them"""
        return {}

    @classmethod
    def _mapping_siblings(cls, integration, mappings):
        """Return {mapping id: {target id: count}}: the targets confirmed
        for the categories of the same group"""
        return {}

    @classmethod
    def _suggest_ranked(cls, mappings, result):
        "Keep the ranked suggestions {mapping id: [Suggestion]}"
        pass

    @classmethod
    def _suggest_reason(cls, reasons):
        "Return the reasons of a suggestion as a text for users"
        texts = []
        for code, *values in reasons:
            if code == 'name':
                texts.append(gettext(
                        'novagestao_integrations_base.msg_reason_name',
                        score=values[0]))
            elif code == 'synonym':
                texts.append(gettext(
                        'novagestao_integrations_base.msg_reason_synonym',
                        score=values[0], group=values[1]))
            elif code == 'usage':
                texts.append(ngettext(
                        'novagestao_integrations_base.msg_reason_usage',
                        int(values[0]), count=values[0]))
            elif code == 'party_usage':
                texts.append(ngettext(
                        'novagestao_integrations_base'
                        '.msg_reason_party_usage',
                        int(values[0]), count=values[0]))
            elif code in {'qualifier', 'qualifier_conflict'}:
                texts.append(gettext(
                        'novagestao_integrations_base.msg_reason_' + code,
                        qualifier=values[0]))
            elif code in {'learned', 'rejected'}:
                texts.append(ngettext(
                        'novagestao_integrations_base.msg_reason_' + code,
                        int(values[0]), count=values[0]))
        return '; '.join(texts)
