# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Rank the local accounts that an external category may map to

A pure engine, without Tryton: the mapping model feeds it the categories
and the accounts, and turns its suggestions into records.  Each candidate
is scored from 0 to 100 on

* the similarity of the names, token-based (rapidfuzz) on Portuguese text
  normalised for case, accents, stop words, plurals, abbreviations
  ("desp." → despesas, "c/" → com), acronyms ("VR", "PLR"), English terms
  ("bank fees") and kinds ("Diesel" → combustível) by suggest_text, and
  for misspelt or cut words (suggest_reading); the words compared by the
  roots of their families ("Rastreador" ~ "Rastreamento"), the names also
  as their qualifiers' values ("Imposto de Renda PJ" ~ "IRPJ") and an
  account's also with its parent's name ("Manutenção" under "Despesas com
  Veículos"), a little more weakly;
* synonyms: a table of Brazilian accounting terms that name the same thing
  ("Despesas com Pessoal" ↔ "Folha de Pagamento"), which the user extends.
  The phrases of the table found in a name become the token of their group
  and the names are compared again; a word of a group's terms that no
  phrase covers (a keyword) hints at the group, more weakly; broad groups
  ("Família: …") relate specific terms to the broader accounts of simple
  charts ("Vale-transporte" → "Benefícios a Empregados"), more weakly too,
  the family's head first; phrases that together name a narrower group
  name it ("INSS" + "Pró-labore"), see suggest_reading;
* qualifiers (suggest_concepts): a tax, regime, object, direction… of the
  category that the account contradicts, lacks or adds lowers its score,
  so "ICMS ST" does not tie with "ICMS sobre Vendas";
* the chart's words (suggest_words): a word of the category that some
  accounts have and the candidate lacks lowers its score, the more so the
  rarer it is; a synonym match that only a keyword makes, beside words the
  account lacks, is weaker;
* evidence: how often the account was used for the category, or for the
  parties of its titles, and the users' accepts, rejections and choices
  for categories of the same name (learned), which close part of the gap
  to 100; a clear history outranks any guess from the names, a
  category's only entry any synonym guess.  Ties (the same whole score)
  are broken by a match closer than a family's, by evidence, then by the
  code structure (the accounts chosen for the categories of the same
  group), then by the similarity of the names.  Among the first three, no
  more than two share one synonym reading, so that the others offer
  another reading of the name.

A revenue category is never given an expense account, nor an account
of the balance sheet, nor the other way round: the candidates are
filtered on type before they are ranked.  To be fast on large charts,
only a few candidates per category are scored fully: the closest by
ratio of the sorted words (rapidfuzz.process.extract), those that share
its rarest words or synonym groups, and those of its history."""
import csv
import os
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .suggest_reading import NameReader, is_family
from .suggest_text import clear_caches, drop_weak, normalise, tokens
from .suggest_words import WordEvidence, diversify

__all__ = [
    'Account', 'Category', 'Suggestion', 'Suggester',
    'normalise', 'tokens', 'load_synonyms', 'compatible',
    'parent_code', 'is_family', 'SYNONYMS_PATH', 'clear_caches',
    ]

SYNONYMS_PATH = os.path.join(
    os.path.dirname(__file__), 'data', 'synonyms_pt.csv')


def compatible(category_kind, account_kind):
    """Tell whether an account of account_kind ('revenue', 'expense' or
    'other') may be suggested for a category of category_kind

    A revenue category takes revenue accounts, an expense one expense
    accounts and one of another type (a transfer, a loan, a capital
    contribution) balance sheet accounts: a suggestion never crosses
    types.  A category of unknown type may take any account."""
    if category_kind in {'revenue', 'expense', 'other'}:
        return account_kind == category_kind
    return True


def load_synonyms(path=SYNONYMS_PATH):
    """Return [(group label, [terms])] from a CSV of group,term rows (a
    group's first row names it; # starts a comment)"""
    groups = {}
    with open(path, encoding='utf-8', newline='') as file:
        for row in csv.reader(file):
            if not row or row[0].startswith('#') or len(row) < 2:
                continue
            group, term = row[0].strip(), row[1].strip()
            if group == 'group' and term == 'term':
                continue
            if group and term:
                groups.setdefault(group, []).append(term)
    return list(groups.items())


@dataclass
class Account:
    """A candidate: id, name, kind ('revenue', 'expense' or 'other'), code
    ("5.1.2.04") and the name of its parent ("Despesas com Veículos" of
    "Manutenção")"""
    id: object
    name: str
    kind: str = 'other'
    code: str = None
    parent: str = None


@dataclass
class Category:
    """An external category to map

    usage and party_usage count, per account id, the entries of the
    category and those of the parties of its titles; learned weighs, per
    account id, the users' choices for categories of the same name
    (positive: accepted or chosen, negative: rejected); siblings counts
    the accounts chosen for the categories of the same group."""
    key: object
    name: str
    kind: str = None
    usage: dict = field(default_factory=dict)
    party_usage: dict = field(default_factory=dict)
    excluded: frozenset = frozenset()
    learned: dict = field(default_factory=dict)
    siblings: dict = field(default_factory=dict)


@dataclass
class Suggestion:
    """A ranked candidate with its score (0–100) and the reasons, as
    (code, value…) tuples: ('name', 92), ('synonym', 97, 'Pessoal'),
    ('qualifier', 'ICMS, ST'), ('qualifier_conflict', 'veículos ≠ imóveis'),
    ('usage', 14), ('party_usage', 3), ('learned', 2), ('rejected', 1);
    evidence, structure and similarity (of the names) break the ties;
    clear: the history is clear; broad: the score comes from a family
    only (weaker evidence at the same whole score)"""
    key: object
    account: object
    score: float
    reasons: tuple = ()
    similarity: float = field(default=0., compare=False)
    evidence: float = field(default=0., compare=False)
    structure: int = field(default=0, compare=False)
    clear: bool = field(default=False, compare=False)
    broad: bool = field(default=False, compare=False)


class Suggester(NameReader, WordEvidence):
    """Rank accounts for categories

    accounts: the Account candidates, which must all be able to take
    entries; synonyms: [(label, [terms])] groups, by default the shipped
    Brazilian table.  A group whose label starts with "Família" is a broad
    one: it relates the specific groups that share a term with it to
    broader accounts, at a lower score."""
    candidates_per_scorer = 12
    candidates_by_words = 15
    name_set_weight = 0.6
    synonym_set_weight = 0.8
    synonym_factor = 0.96
    # names are compared by the roots of their words' families; their
    # words as they are weigh a little less, as shared endings make
    # unrelated words alike ("Estacionamento" ~ "Treinamentos")
    plain_factor = 0.95
    # names alike once their qualifiers' phrases are read as their values,
    # or once the account's is read with its parent's, are a little less
    # alike than the same words
    valued_factor = 0.9
    parent_factor = 0.9
    family_strength = 0.83
    family_head_factor = 1.02
    # how much the history closes the gap to 100: count / (count + half)
    usage_weight = 1.
    usage_half = 1
    party_usage_weight = 0.7
    party_usage_half = 2
    learned_weight = 0.8
    learned_half = 1
    # a history is clear when the account took this share of the
    # category's entries, at least this many: it then scores above any
    # synonym guess (at most synonym_factor × 100)
    clear_share = 0.6
    clear_count = 2
    clear_floor = 97.
    # a single entry, when the category has no other, is the company's
    # own choice: it outranks a synonym guess too, below a longer history
    single_floor = 96.5
    # each rejection of the account for a category of the same name
    rejected_factor = 0.8

    def __init__(self, accounts, synonyms=None):
        if synonyms is None:
            synonyms = load_synonyms()
        self._compile_synonyms(synonyms)
        self.accounts = list(accounts)
        self._compile_vocabulary(a.name for a in self.accounts)
        self._texts = [self._text(a.name) for a in self.accounts]
        # an account read with its parent's name: charts name an account
        # "Manutenção" under "Despesas com Veículos"
        self._contexts = [
            self._text('%s %s' % (a.parent, a.name)) if a.parent else None
            for a in self.accounts]
        self._by_kind = {}
        self._qualifiers = {}
        for kind in ['revenue', 'expense', 'other', None]:
            indexes = [
                i for i, a in enumerate(self.accounts)
                if compatible(kind, a.kind)]
            postings = {}
            for position, i in enumerate(indexes):
                context = self._contexts[i]
                for key in self._texts[i].keys | (
                        context.keys if context else frozenset()):
                    postings.setdefault(key, []).append(position)
            self._by_kind[kind] = (
                indexes,
                [self._texts[i].sorted_plain for i in indexes],
                [self._texts[i].sorted_canonical for i in indexes],
                postings,
                self._word_counts(
                    self._contexts[i] or self._texts[i] for i in indexes))
            self._qualifiers[kind] = set().union(
                *((self._contexts[i] or self._texts[i]).qualifiers.pairs()
                    for i in indexes))
        self._index = {a.id: i for i, a in enumerate(self.accounts)}

    def _similarity(self, a, b, weight=None):
        "Mix the set and sort ratios of the words of a and b"
        if not a or not b:
            return 0.
        if weight is None:
            weight = self.name_set_weight
        return (weight * fuzz.token_set_ratio(a, b)
            + (1 - weight) * fuzz.token_sort_ratio(a, b))

    def _render(self, text, shared):
        """Return the canonical form of text against another that shares
        the groups shared, and {group used: factor of its best match}"""
        words, used = [], {}
        for groups, word in text.slots:
            common = groups.keys() & shared if groups else None
            if not common:
                if word is not None:
                    words.append(word)
                else:
                    words.append(self._group_token(min(groups)))
                continue
            # the strongest group, a specific one before a broad one
            group = max(common, key=lambda g: (
                    groups[g] * (self.family_strength
                        if g in self._families else 1.), -g))
            token = self._group_token(group)
            # two words hinting at the same group are one match
            if token not in words:
                words.append(token)
            used[group] = max(used.get(group, 0), groups[group])
        return ' '.join(drop_weak(words)), used

    def suggest(self, categories, limit=1, min_score=0):
        """Return {category key: [Suggestion]} best first, at most limit
        per category and none under min_score"""
        result = {}
        for category in categories:
            result[category.key] = self.rank(
                category, limit=limit, min_score=min_score)
        return result

    def rank(self, category, limit=1, min_score=0):
        "Return the best Suggestions for the category"
        kind = _kind(category.kind)
        indexes, plains, canonicals, postings, _ = self._by_kind[kind]
        if not indexes:
            return []
        text = self._text(category.name or '', components=True)
        candidates = set()
        count = self.candidates_per_scorer
        # token_sort_ratio is the ratio of the sorted words
        for query, choices in [
                (' '.join(sorted(text.plain.split())), plains),
                (text.sorted_canonical, canonicals),
                ]:
            if not query:
                continue
            for _, _, position in process.extract(
                    query, choices, scorer=fuzz.ratio, processor=None,
                    limit=count, score_cutoff=1):
                candidates.add(indexes[position])
        # the accounts that share the rarest words or synonyms
        overlap = {}
        for key in text.keys:
            positions = postings.get(key, ())
            if positions:
                weight = 1 / len(positions)
                for position in positions:
                    overlap[position] = overlap.get(position, 0) + weight
        for position in sorted(overlap, key=overlap.__getitem__,
                reverse=True)[:self.candidates_by_words]:
            candidates.add(indexes[position])
        learned = {a for a, w in (category.learned or {}).items() if w > 0}
        for usage in [category.usage, category.party_usage, learned]:
            for account_id in usage or {}:
                index = self._index.get(account_id)
                if index is not None and compatible(
                        kind, self.accounts[index].kind):
                    candidates.add(index)
        suggestions = []
        for index in candidates:
            account = self.accounts[index]
            if account.id in category.excluded:
                continue
            suggestions.append(self._score(category, text, index))
        # a clear history outranks any guess from the names, even an
        # account of the same name
        if any(s.clear for s in suggestions):
            for suggestion in suggestions:
                if not suggestion.clear:
                    suggestion.score = min(
                        suggestion.score, self.clear_floor - 1)
        suggestions = [s for s in suggestions if s.score >= min_score]
        # ties (the same whole score) go to a match closer than a family,
        # to the evidence, then the code structure, then the closer name;
        # the name and id only make the order stable
        suggestions.sort(key=lambda s: (
                -round(s.score), s.broad, -s.evidence, -s.structure,
                -s.score, -s.similarity,
                self._texts[self._index[s.account]].plain, str(s.account)))
        suggestions = diversify(suggestions)
        return suggestions[:limit] if limit else suggestions

    def _structure(self, category, account):
        """Return how many accounts chosen for the categories of the
        category's group are siblings of account (same parent code)"""
        parent = parent_code(account.code)
        if not parent or not category.siblings:
            return 0
        return sum(count for account_id, count in category.siblings.items()
            if account_id != account.id
            and account_id in self._index
            and parent_code(
                self.accounts[self._index[account_id]].code) == parent)

    def _score(self, category, text, index):
        account = self.accounts[index]
        other = self._texts[index]
        name = self._similarity(text.rooted, other.rooted)
        if text.rooted != text.plain or other.rooted != other.plain:
            name = max(name, self.plain_factor * self._similarity(
                    text.plain, other.plain))
        context = self._contexts[index]
        if context is not None:
            name = max(name, self.parent_factor * self._similarity(
                    text.rooted, context.rooted))
        if text.valued and other.valued and (
                text.qualifiers.pairs() & other.qualifiers.pairs()):
            # the names compared as their qualifiers' values: "Imposto de
            # Renda PJ" is "IRPJ", "Retirada dos Sócios" a "Pró-labore"
            name = max(name, self.valued_factor * self._similarity(
                    text.valued, other.valued))
        reasons = []
        shared = text.groups & other.groups
        synonym, label, strength, group = 0., None, 0., None
        if shared:
            # a keyword is weaker than a phrase, a broad group than a
            # specific one; the best match of a group sets the factor
            mine, used = self._render(text, shared)
            theirs, used_other = self._render(other, shared)
            strength, group = max(
                ((used[g] * used_other[g]
                        * (self.family_strength if g in self._families
                            else 1.), -g)
                    for g in used.keys() & used_other.keys()),
                default=(0., None))
            if group is not None and -group in self._families and (
                    other.groups &
                    self._family_heads.get(-group, frozenset())):
                # the head of a family (its first term: "Salários" of
                # "Família: pessoal") is the broad account it stands for
                strength *= self.family_head_factor
            if strength:
                synonym = self.synonym_factor * strength * self._similarity(
                    mine, theirs, self.synonym_set_weight)
                if self._lone_keyword(text, other, -group, shared):
                    synonym *= self.lone_keyword_factor
                label = self._labels[-group]
        if synonym > name:
            base = synonym
            reasons.append(('synonym', round(synonym), label))
        else:
            base = name
            reasons.append(('name', round(name)))
        # a phrase of a specific group on both sides: the table says the
        # concepts are the same
        # (every phrase of the category's: "Contribuição Previdenciária
        # Pró-labore" is not the same concept as "Pró-labore")
        same_concept = base == synonym and strength >= 1 and all(
            groups.keys() & shared for groups, word in text.slots
            if groups and word is None)
        # the parent's name qualifies the account: "Manutenção" under
        # "Despesas com Veículos" is no building's
        factor, matches, conflicts = text.qualifiers.compare(
            (context or other).qualifiers,
            self._qualifiers[_kind(category.kind)], same_concept)
        base *= factor
        words, _ = self._missing_words(
            text, other, shared, self._by_kind[_kind(category.kind)][4],
            context)
        base *= words
        if matches:
            reasons.append(('qualifier', ', '.join(matches)))
        if conflicts:
            reasons.append(('qualifier_conflict', ', '.join(conflicts)))
        score, evidence, clear = self._evidence(
            category, account, base, reasons)
        return Suggestion(
            category.key, account.id, round(min(100., score), 1),
            tuple(reasons), name, evidence,
            self._structure(category, account), clear,
            group is not None and base == synonym
            and -group in self._families)

    def _evidence(self, category, account, base, reasons):
        """Return the score of base raised or lowered by the history and
        the users' choices, the weight of that evidence and whether the
        history is clear"""
        usage = category.usage or {}
        used = usage.get(account.id, 0)
        boost = 0.
        if used:
            boost = self.usage_weight * used / (used + self.usage_half)
            reasons.append(('usage', used))
        party_used = (category.party_usage or {}).get(account.id, 0)
        if party_used:
            boost = max(boost, self.party_usage_weight * party_used / (
                    party_used + self.party_usage_half))
            reasons.append(('party_usage', party_used))
        learned = (category.learned or {}).get(account.id, 0)
        if learned > 0:
            boost = max(boost, self.learned_weight * learned / (
                    learned + self.learned_half))
            reasons.append(('learned', _count(learned)))
        score = base + (100 - base) * boost
        clear = False
        # a clear history is more than a guess from the names
        for count, counts in [
                (used, usage),
                (learned, {a: w for a, w in (
                            category.learned or {}).items() if w > 0}),
                ]:
            if (count >= self.clear_count
                    and count >= self.clear_share * sum(counts.values())):
                score = max(score, self.clear_floor
                    + (100 - self.clear_floor) * count / (count + 1))
                clear = True
        if used and used == sum(usage.values()):
            score = max(score, self.single_floor)
        if learned < 0:
            score *= self.rejected_factor ** min(-learned, 5)
            reasons.append(('rejected', _count(-learned)))
            clear = False
        evidence = used + party_used + learned
        return score, evidence, clear


def _kind(kind):
    """Return the kind of the candidates of a category of kind: None for
    any account"""
    return kind if kind in {'revenue', 'expense', 'other'} else None


def _count(weight):
    "Return a weight of evidence as users read it: 1, 2.5"
    weight = round(weight, 1)
    return int(weight) if weight == int(weight) else weight


def parent_code(code):
    """Return the parent of a dotted code: "5.1.2" for "5.1.2.04", None
    for a code without a dot"""
    if not code or '.' not in code:
        return None
    return code.rsplit('.', 1)[0]


def describe(reasons, labels=None):
    """Return an English description of reasons, for logs and the bench
    (the mapping model translates them)"""
    labels = labels or {
        'name': "similar name %s%%",
        'synonym': "synonym %s%% (%s)",
        'qualifier': "same %s",
        'qualifier_conflict': "differs: %s",
        'usage': "used %s times for this category",
        'party_usage': "used %s times for its suppliers or customers",
        'learned': "chosen %s times for categories of this name",
        'rejected': "rejected %s times for categories of this name",
        }
    return '; '.join(labels[r[0]] % r[1:] for r in reasons)
