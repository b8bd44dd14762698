# This file is part of NovaGestão Integrations.  The COPYRIGHT file at the
# top level of this repository contains the full copyright notices and license
# terms.
"""The words of a category that tell the accounts of a chart apart

A similarity of names rewards an account whose words are all in the
category's ("Fretes sobre Vendas" for "Frete de Insumos") as much as one
that has them and the category's other words too ("Fretes sobre Compras de
Insumos"): the set ratio does not see what the shorter name lacks.  The
chart itself says which of the category's words matter: a word that some
of its accounts have is evidence for them and against the others, the
more so the fewer accounts have it.  A word the candidate does not have
but that a synonym group shared by both names explains ("Salários" for
"Folha de Pagamento") is not missing.  Needs no synonym table: it is what
keeps names the table does not know apart.  Pure Python."""
from .suggest_text import WEAK_WORDS

__all__ = ['WordEvidence', 'diversify']


class WordEvidence:
    "Score the category's words that a candidate lacks (a mixin)"
    # the factor of a missing word that one account of the chart has; a
    # word that n accounts have costs missing_word / √n
    missing_word = 0.1
    # a synonym match that only a keyword of the category makes, beside
    # words of the category that the account neither has nor explains
    lone_keyword_factor = 0.8

    @staticmethod
    def _word_counts(texts):
        "Return {word: how many of the texts have it}"
        counts = {}
        for text in texts:
            for word in text.words:
                if word not in WEAK_WORDS:
                    counts[word] = counts.get(word, 0) + 1
        return counts

    def _missing_words(self, text, other, shared, counts, context=None):
        """Return (factor, missing words) of the account's text other for
        the category's text, given the synonym groups shared by both and
        the counts of the words in the chart; a word of the account's
        context (its text with its parent's name) is not missing"""
        factor, missing = 1., []
        present = other.words | context.words if context else other.words
        for span, (groups, _) in zip(text.spans, text.slots):
            if groups and groups.keys() & shared:
                continue
            for word in span:
                count = counts.get(word)
                if not count or word in present or word in missing:
                    continue
                factor *= 1 - self.missing_word / count ** 0.5
                missing.append(word)
        return factor, missing

    @staticmethod
    def _lone_keyword(text, other, group, shared):
        """Tell whether only keywords (words of the group's terms, no
        phrase) of the category's text name group, and the category has
        words the account's text other neither has nor shares a group for
        ("Folha de Pagamento" is no "Taxa de Meios de Pagamento")"""
        alone = uncovered = False
        for span, (groups, word) in zip(text.spans, text.slots):
            if groups and group in groups:
                if word is None:
                    return False
                alone = True
            elif not (groups and groups.keys() & shared) and any(
                    w not in WEAK_WORDS and w not in other.words
                    for w in span):
                uncovered = True
        return alone and uncovered


def reading(suggestion):
    """Return how a suggestion reads the category: the synonym group that
    makes its score, None for a similarity of names"""
    for reason in suggestion.reasons:
        if reason[0] == 'synonym':
            return reason[2]
    return None


def diversify(suggestions, shown=3, per_reading=2, margin=10):
    """Return the ranked suggestions with, among the first shown, at most
    per_reading of the same synonym reading, so that the second and third
    candidates offer another reading of the name than near-duplicates of
    the first (three accounts of one family at the same score); a reading
    deferred gives way only to a candidate within margin of its score,
    never to a guess far below it"""
    top, deferred, counts = [], [], {}
    index = 0
    while index < len(suggestions) and len(top) < shown:
        suggestion = suggestions[index]
        if deferred and suggestion.score < deferred[0].score - margin:
            break
        index += 1
        key = reading(suggestion)
        if key is not None and counts.get(key, 0) >= per_reading:
            deferred.append(suggestion)
            continue
        counts[key] = counts.get(key, 0) + 1
        top.append(suggestion)
    # the deferred ones come right after, in their order
    return top + deferred + suggestions[index:]
