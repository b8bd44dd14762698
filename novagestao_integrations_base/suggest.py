# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""Rank the local accounts that an external category may map to

A pure engine, without Tryton: the mapping model feeds it the categories
and the accounts, and turns its suggestions into records.  Each candidate
is scored from 0 to 100 on

* the similarity of the names, token-based (rapidfuzz) on Portuguese text
  normalised for case, accents, stop words, plurals and abbreviations
  ("desp." → despesas, "c/" → com);
* synonyms: a table of Brazilian accounting terms that name the same thing
  ("Despesas com Pessoal" ↔ "Folha de Pagamento"), which the user extends.
  The phrases of the table found in a name become the token of their group
  and the names are compared again; a word of a group's terms that no
  phrase covers (a keyword) hints at the group, more weakly; broad groups
  ("Família: …") relate specific terms to the broader accounts of simple
  charts ("Vale-transporte" → "Benefícios a Empregados"), more weakly too;
* qualifiers (suggest_concepts): a tax, regime, object, direction… of the
  category that the account contradicts, lacks or adds lowers its score,
  so "ICMS ST" does not tie with "ICMS sobre Vendas";
* evidence: how often the account was used for the category, or for the
  parties of its titles, and the users' accepts, rejections and choices
  for categories of the same name (learned), which close part of the gap
  to 100; a clear history outranks any synonym guess.  Ties are broken by
  evidence, then by the code structure (the accounts chosen for the
  categories of the same group), then by the similarity of the names.

A revenue category is never given an expense account, nor an account
of the balance sheet, nor the other way round: the candidates are
filtered on type before they are ranked.  To be
fast on large charts, only a few candidates per category are scored fully:
the closest by ratio of the sorted words (rapidfuzz.process.extract), those
that share its rarest words or synonym groups, and those of its history."""
import csv
import os
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from .suggest_concepts import LEXICON_WORDS, Qualifiers
from .suggest_text import (
    KNOWN_WORDS, WEAK_WORDS, drop_weak, normalise, strip_accents, tokens)

__all__ = [
    'Account', 'Category', 'Suggestion', 'Suggester',
    'normalise', 'tokens', 'load_synonyms', 'compatible',
    'parent_code', 'SYNONYMS_PATH',
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
    """A candidate: id, name, kind ('revenue', 'expense' or 'other') and
    code ("5.1.2.04")"""
    id: object
    name: str
    kind: str = 'other'
    code: str = None


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
    evidence, structure and similarity (of the names) break the ties"""
    key: object
    account: object
    score: float
    reasons: tuple = ()
    similarity: float = field(default=0., compare=False)
    evidence: float = field(default=0., compare=False)
    structure: int = field(default=0, compare=False)
    clear: bool = field(default=False, compare=False)


class _Text:
    """The compared forms of a name

    slots: its words and synonym phrases in order, as (groups, word) where
    groups is {group: strength} or None: a phrase has its groups (with
    their families) and no word; a word of the terms of some groups (a
    keyword) has both, weaker; another word has no groups."""
    __slots__ = ('plain', 'sorted_plain', 'slots', 'groups', 'keys',
        'sorted_canonical', 'qualifiers')

    def __init__(self, words, slots, group_token):
        self.qualifiers = Qualifiers(words)
        self.plain = ' '.join(drop_weak(words))
        self.sorted_plain = ' '.join(sorted(self.plain.split()))
        self.slots = slots
        self.groups = frozenset().union(
            *(g.keys() for g, _ in slots if g is not None))
        canonical = []
        for groups, word in slots:
            if word is not None:
                canonical.append(word)
            if groups is not None:
                canonical.extend(group_token(g) for g in sorted(groups))
        canonical = drop_weak(canonical)
        self.sorted_canonical = ' '.join(sorted(canonical))
        self.keys = frozenset(self.plain.split()) | frozenset(canonical)


class Suggester:
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
    keyword_strength = 0.9
    generic_strength = 0.95
    family_strength = 0.83
    family_head_factor = 1.02
    # a phrase of a group made of others' phrases names them this strongly
    component_strength = 0.9
    # a keyword hints at the groups that use it at least this share of the
    # times the group that uses it most does
    keyword_share = 0.34
    keyword_groups = 2
    # the shortest word that may be a misspelt or cut known one
    correct_length = 5
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
        self._by_kind = {}
        self._qualifiers = {}
        for kind in ['revenue', 'expense', 'other', None]:
            indexes = [
                i for i, a in enumerate(self.accounts)
                if compatible(kind, a.kind)]
            postings = {}
            for position, i in enumerate(indexes):
                for key in self._texts[i].keys:
                    postings.setdefault(key, []).append(position)
            self._by_kind[kind] = (
                indexes,
                [self._texts[i].sorted_plain for i in indexes],
                [self._texts[i].sorted_canonical for i in indexes],
                postings)
            self._qualifiers[kind] = set().union(
                *(self._texts[i].qualifiers.pairs() for i in indexes))
        self._index = {a.id: i for i, a in enumerate(self.accounts)}

    def _compile_synonyms(self, synonyms):
        synonyms = [(label, terms) for label, terms in synonyms if terms]
        # the specific groups first: the lowest shared group is the best
        synonyms.sort(key=lambda g: is_family(g[0]))
        self._labels = [label for label, _ in synonyms]
        self._families = {
            i for i, (label, _) in enumerate(synonyms) if is_family(label)}
        phrases = {}
        for group, (_, terms) in enumerate(synonyms):
            for term in terms:
                key = tokens(term)
                if key:
                    phrases.setdefault(key, set()).add(group)
        # a phrase of a specific group belongs to the families of its group
        self._families_of = {}
        for groups in phrases.values():
            families = groups & self._families
            for group in groups - self._families:
                self._families_of.setdefault(group, set()).update(families)
        # the words of the terms of specific groups hint at them
        uses = {}
        for key, groups in phrases.items():
            for word in set(key):
                if len(word) > 2 and word not in WEAK_WORDS:
                    counts = uses.setdefault(word, {})
                    for group in groups - self._families:
                        counts[group] = counts.get(group, 0) + 1
        self._phrases = {}
        self._compositions = {}
        for key, groups in phrases.items():
            # a single word that many groups use is weak evidence
            strength = (self.generic_strength
                if len(key) == 1
                and len(uses.get(key[0], ())) > self.keyword_groups
                else 1.)
            self._phrases[key] = self._with_families(
                dict.fromkeys(groups, strength))
        self._max_phrase = max(map(len, self._phrases), default=0)
        self._family_heads = {}
        for group, (_, terms) in enumerate(synonyms):
            if group in self._families:
                self._family_heads[group] = frozenset(
                    phrases.get(tokens(terms[0]), set()) - self._families)
        self._compile_compositions([
                (group, term) for group, (_, terms) in enumerate(synonyms)
                if group not in self._families for term in terms])
        self._keywords = {}
        for word, counts in uses.items():
            if not counts:
                continue
            most = max(counts.values())
            hinted = {g: c / most for g, c in counts.items()
                if c / most >= self.keyword_share}
            if len(hinted) <= self.keyword_groups:
                self._keywords[word] = self._with_families({
                        g: self.keyword_strength * share
                        for g, share in hinted.items()})

    def _with_families(self, groups):
        "Add to {group: strength} the families of the groups"
        result = dict(groups)
        for group, strength in groups.items():
            for family in self._families_of.get(group, ()):
                result[family] = max(result.get(family, 0), strength)
        return result

    @staticmethod
    def _group_token(group):
        # a word of one private-use character repeated: two groups share no
        # character, so the similarity of their tokens is nil
        return chr(0xE000 + group % 6400) * 8

    def _compile_vocabulary(self, names):
        """Count the words of the synonym table and of names, so that a
        misspelt or cut word of a category can be read as one of them"""
        counts = dict.fromkeys(KNOWN_WORDS | LEXICON_WORDS, 1)
        for key in self._phrases:
            for word in key:
                counts[word] = counts.get(word, 0) + 1
        for name in names:
            for word in tokens(name):
                counts[word] = counts.get(word, 0) + 1
        self._vocabulary = {
            w: c for w, c in counts.items() if w.isalpha() and len(w) > 2}
        self._by_initial = {}
        for word in self._vocabulary:
            self._by_initial.setdefault(word[:1], []).append(word)
        self._corrections = {}

    def _correct(self, word):
        """Return the known word that word stands for: itself when known,
        the most used known word it begins ("conserv") or one letter away
        from it ("manuntencao", "alugel"), two for long words; word when
        none is"""
        if (word in self._vocabulary or len(word) < self.correct_length
                or not word.isalpha()):
            return word
        found = self._corrections.get(word)
        if found is None:
            found = word
            known = self._by_initial.get(word[:1], ())
            prefixed = [w for w in known if w.startswith(word)]
            if prefixed:
                found = max(prefixed, key=lambda w: (
                        self._vocabulary[w], -len(w), w))
            else:
                cutoff = 1 if len(word) < 8 else 2
                best = process.extractOne(
                    word, known, scorer=Levenshtein.distance,
                    score_cutoff=cutoff)
                if best:
                    found = best[0]
            self._corrections[word] = found
        return found

    def _text(self, name, components=False):
        """Return the _Text of name; components: with the parts of its
        phrases (see _composed), for a category's"""
        words = tuple(self._correct(w) for w in tokens(name))
        slots = []
        i = 0
        while i < len(words):
            for size in range(
                    min(self._max_phrase, len(words) - i), 0, -1):
                found = self._phrases.get(words[i:i + size])
                if found:
                    slots.append((found, None))
                    i += size
                    break
            else:
                slots.append((self._keywords.get(words[i]), words[i]))
                i += 1
        return _Text(
            words, self._composed(slots, components), self._group_token)

    def _segment(self, words, skip=None):
        """Return the phrase slots of words as (sets of specific groups
        without the group skip, words), or None when a word is no
        phrase's"""
        result = []
        i = 0
        while i < len(words):
            for size in range(
                    min(self._max_phrase, len(words) - i), 0, -1):
                found = self._phrases.get(words[i:i + size])
                if found:
                    groups = set(found) - self._families - {skip}
                    if groups:
                        result.append(
                            (frozenset(groups), words[i:i + size]))
                        i += size
                        break
            else:
                return None
        return result

    def _compile_compositions(self, terms):
        """Learn, from the terms of each specific group that are made of
        the phrases of others ("INSS sobre Pró-labore" is INSS and
        Pró-labore), which sets of groups together name the group"""
        self._compositions = {}
        self._components = {}
        for group, term in terms:
            segments = self._segment(tokens(term), skip=group)
            if segments and len(segments) > 1:
                parts = tuple(groups for groups, _ in segments)
                for first in parts[0]:
                    self._compositions.setdefault(first, set()).add(
                        (group, parts))
                # and the other way round: a phrase of the group names the
                # tax of its parts too, more weakly ("INSS Sócios" is an
                # INSS, as the tax is what a tax account is)
                taxes = [groups for groups, words in segments
                    if 'tax' in Qualifiers(words).values]
                if taxes and group not in self._components:
                    self._components[group] = frozenset().union(*taxes)

    def _composed(self, slots, components=False):
        """Return slots with, on the phrases that together name a group
        (see _compile_compositions), that group too, and on a phrase of
        such a group, its parts, more weakly (components: for a category,
        whose narrow concept may be missing from a broader chart)"""
        if not self._compositions:
            return slots
        if components and self._components:
            slots = list(slots)
            for index, (groups, word) in enumerate(slots):
                if not groups or word is not None:
                    continue
                parts = {}
                for group, strength in groups.items():
                    for part in self._components.get(group, ()):
                        parts[part] = max(parts.get(part, 0),
                            strength * self.component_strength)
                parts = {g: v for g, v in parts.items() if g not in groups}
                if parts:
                    slots[index] = (
                        self._with_families({**parts, **groups}), None)
        phrases = [(i, g.keys() - self._families)
            for i, (g, word) in enumerate(slots) if g and word is None]
        if len(phrases) < 2:
            return slots
        added = {}
        for _, groups in phrases:
            for first in groups:
                for group, parts in self._compositions.get(first, ()):
                    found = []
                    for part in parts:
                        index = next((i for i, g in phrases
                                if g & part and i not in found), None)
                        if index is None:
                            break
                        found.append(index)
                    else:
                        for index in found:
                            added.setdefault(index, set()).add(group)
        if not added:
            return slots
        slots = list(slots)
        for index, groups in added.items():
            found = dict(slots[index][0])
            strength = min(found.values())
            for group in groups:
                found.setdefault(group, strength)
            slots[index] = (self._with_families(found), None)
        return slots

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
        indexes, plains, canonicals, postings = self._by_kind[kind]
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
        # ties go to the evidence, then the code structure, then the
        # closer name; the name and id only make the order stable
        suggestions.sort(key=lambda s: (
                -s.score, -s.evidence, -s.structure, -s.similarity,
                self._texts[self._index[s.account]].plain, str(s.account)))
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
        name = self._similarity(text.plain, other.plain)
        reasons = []
        shared = text.groups & other.groups
        synonym, label, strength = 0., None, 0.
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
        factor, matches, conflicts = text.qualifiers.compare(
            other.qualifiers, self._qualifiers[_kind(category.kind)],
            same_concept)
        base *= factor
        if matches:
            reasons.append(('qualifier', ', '.join(matches)))
        if conflicts:
            reasons.append(('qualifier_conflict', ', '.join(conflicts)))
        score, evidence, clear = self._evidence(
            category, account, base, reasons)
        return Suggestion(
            category.key, account.id, round(min(100., score), 1),
            tuple(reasons), name, evidence,
            self._structure(category, account), clear)

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


def is_family(label):
    "Tell whether a synonym group is a broad one (a família)"
    return strip_accents(label or '').lower().startswith(
        ('familia', 'family'))


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
