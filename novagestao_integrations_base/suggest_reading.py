# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""How the suggestion engine reads a name against the synonym table

The table's phrases found in a name become the token of their groups (and
of the groups' families); a word of a group's terms that no phrase covers
(a keyword) hints at the group, more weakly; phrases that together name
a narrower group ("INSS" and "Pró-labore") name it too; a word that neither
the table, the chart nor the expansions of suggest_text know is read as
the known word it begins or is a letter or two away from.  Pure Python."""
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .suggest_concepts import LEXICON_WORDS, Qualifiers
from .suggest_text import (
    KNOWN_WORDS, WEAK_WORDS, drop_weak, root, strip_accents, tokens)

__all__ = ['NameReader', 'is_family']


class _Text:
    """The compared forms of a name

    slots: its words and synonym phrases in order, as (groups, word) where
    groups is {group: strength} or None: a phrase has its groups (with
    their families) and no word; a word of the terms of some groups (a
    keyword) has both, weaker; another word has no groups."""
    __slots__ = ('plain', 'sorted_plain', 'slots', 'groups', 'keys',
        'sorted_canonical', 'qualifiers', 'spans', 'words', 'valued',
        'rooted')

    def __init__(self, words, slots, group_token, spans=()):
        self.qualifiers = Qualifiers(words)
        # the words of each slot, and the set of the name's words
        self.spans = spans
        self.words = frozenset(words)
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
        # the name's words as the roots of their families: "Rastreador"
        # is of the family of "Rastreamento"
        self.rooted = ' '.join(root(w) for w in self.plain.split())
        # the keys that find the accounts of a name: its words' roots
        # (which a word and its family share) and its synonym groups
        self.keys = frozenset(self.rooted.split()) | frozenset(
            root(w) for w in canonical)
        # the name with its qualifiers' values for their phrases
        self.valued = None
        if self.qualifiers:
            self.valued = ' '.join(drop_weak(self.qualifiers.valued))
            self.keys |= frozenset(self.valued.split())


class NameReader:
    """Read names as slots of the synonym table's phrases and words (the
    base of suggest.Suggester)

    A group whose label starts with "Família" is a broad one: it relates
    the specific groups that share a term with it to broader accounts."""
    keyword_strength = 0.9
    generic_strength = 0.95
    # a phrase of a group made of others' phrases names them this strongly
    component_strength = 0.9
    # a keyword hints at the groups that use it at least this share of the
    # times the group that uses it most does
    keyword_share = 0.34
    keyword_groups = 2
    # the shortest word that may be a misspelt or cut known one
    correct_length = 5

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
        slots, spans = [], []
        i = 0
        while i < len(words):
            for size in range(
                    min(self._max_phrase, len(words) - i), 0, -1):
                found = self._phrases.get(words[i:i + size])
                if found:
                    slots.append((found, None))
                    spans.append(words[i:i + size])
                    i += size
                    break
            else:
                slots.append((self._keywords.get(words[i]), words[i]))
                spans.append(words[i:i + 1])
                i += 1
        return _Text(
            words, self._composed(slots, components), self._group_token,
            tuple(spans))

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


def is_family(label):
    "Tell whether a synonym group is a broad one (a família)"
    return strip_accents(label or '').lower().startswith(
        ('familia', 'family'))
