"""When sources from different dates or outlets give different figures for what was asked: found in code.

The embedded 1.5B model ignores "say which source and date says what", so the answer does not depend on it:
1. The reader has weighed the retrieved passages' sentences against the question (rag/reading.py). Of each
   article, the best `per_article` sentences that give a figure and reach `min_relevance` (cosine) are looked at.
2. Their figures are read (rag/values.py): percentages and amounts of money always; plain numbers only when the
   question asks for a count ("how many", "death toll"…), since "within the next two years" or "30 allies" would
   otherwise be taken for an answer. A question that says what it counts ("How many US states …?") takes only
   the numbers of that thing ("31 states", not "within 30 days"), and no money or percentages.
3. If two articles give different sets of figures of one kind, the sources differ: every figure is listed with
   the clause that states it (hedges kept: "possibly around 3-3.5%"), its outlet and its date, newest first for
   a question about now, oldest first for a question about a past time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.keyword import tokenize
from rag.clauses import clause_span
from rag.reading import Weighed
from rag.types import DatedValue, Hit
from rag.values import Value, extract_values

# Plain numbers are figures only for a question that asks for a count; amounts of money always count.
# A disagreement box answers a question that asks for an amount (a target, a rate, a price, a count); a question
# that asks for a name ("Which company has spent billions on …?") gets none: the figures around its answer differ
# by what they measure, not over time (24 of 125 answerable MultiHop-RAG dev questions had a box before this).
_AMOUNT_NOUNS = (r"(target|rate|wage|salary|price|cost|budget|spending|spend|share|percentage|amount|figure|level|tax"
                 r"|fee|fare|deficit|debt|growth|inflation|population|toll|number|revenue|profit|value|pay|sum|total"
                 r"|fine|score|goal)s?")
_AMOUNT = re.compile(
    r"\b(how (much|many|high|low|large|big|often|long)|by how|what (share|percentage|proportion|fraction)"
    rf"|(what|which)\b(\W+\w+){{0,6}}?\W+{_AMOUNT_NOUNS}\b)", re.I)
_NAMES_AMOUNT = re.compile(rf"\b{_AMOUNT_NOUNS}\b", re.I)
_COUNTS = re.compile(r"\b(how many|number of|death toll|toll|count|population|how often|score)\b", re.I)
# "How many US states have …": the words that may name the thing counted (the noun is among the first three).
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[\w'-]+\s+){0,2}[\w'-]+)", re.I)
_COUNTED_WITHIN = 3  # words after a number in which the thing counted must be named ("31 states", "31 US states")
_PHRASE_END = re.compile(r"[,;:!?()—–]")  # not "." (the "U.S." of "31 U.S. states")
_MAX_QUOTE_WORDS = 24
_LOOSE_END = re.compile(r"(?:\s+(?:as|after|before|the|a|an|of|to|and|or|on|in|at|by|for|with|that|which))+$", re.I)


def _clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause of `sentence` around [start, end), at most ~18 words: what the source says of that figure."""
    lo, hi = clause_span(sentence, start, end)
    while lo < start and sentence[lo] in " ,":  # "Dyche, however, wants …": no quote opens with a comma
        lo += 1
    words = [m.span() for m in re.finditer(r"\S+", sentence[lo:hi])]
    if len(words) > _MAX_QUOTE_WORDS:
        # Keep the words nearest the figure, from a comma on if one falls in the cut ("…, as the US seeks …").
        centre = next((k for k, (a, b) in enumerate(words) if lo + b > start), 0)
        first = max(0, min(centre - _MAX_QUOTE_WORDS // 2, len(words) - _MAX_QUOTE_WORDS))
        window = words[first:first + _MAX_QUOTE_WORDS]
        cut_lo, cut_hi = lo + window[0][0], lo + window[-1][1]
        comma = sentence.rfind(", ", cut_lo, start)
        if first > 0 and comma > 0 and len(sentence[comma:start].split()) > 5:  # words enough to say what it is
            cut_lo = comma + 2
        lo, hi = cut_lo, cut_hi
    while True:  # no dangling "… as" or "… the" at the end of a cut quote
        while hi > lo and sentence[hi - 1] in " ,;:.":
            hi -= 1
        m = _LOOSE_END.search(sentence, lo, hi)
        if not m or m.end() != hi or m.start() <= end - 1:
            return lo, hi
        hi = m.start()


def asks_for_amount(question: str) -> bool:
    """Whether a question asks for a figure ("What is the NATO target?", "How much …?"), not a name."""
    return bool(_AMOUNT.search(question))


def names_an_amount(text: str) -> bool:
    """Whether a phrase names a figure that can change ("NATO's defence spending target", "the bridge's fare")."""
    return bool(_NAMES_AMOUNT.search(text))


def counted(question: str) -> frozenset[str]:
    """The words that may name what a "how many" question counts ({"us", "state"} for "How many US states have …?");
    empty for other questions."""
    m = _HOW_MANY.search(question)
    return frozenset(tokenize(m.group(1))) if m else frozenset()


def counts_it(sentence: str, value: Value, things: frozenset[str]) -> bool:
    """Whether a number is a count of the thing asked about: one of its words follows it closely, in the same
    phrase ("31 states", "50 US states"; not "31 governors, not states")."""
    phrase = _PHRASE_END.split(sentence[value.end:], maxsplit=1)[0]
    after = tokenize(" ".join(phrase.split()[:_COUNTED_WITHIN]))
    return bool(things & set(after))


def find_disagreement(question: str, weighed: Sequence[Weighed], hits: Sequence[Hit], newest_first: bool = True,
                      min_relevance: float = 0.3, per_article: int = 4, not_before: str = "") -> tuple[DatedValue, ...]:
    """The dated figures of the sources when they differ; () when they agree or give none.

    `not_before` (an ISO day): articles published before it cannot report the time the question asks about, so
    their figures are left out ("What was the minimum wage in 2025?" is not answered by a 2022 article).
    """
    if not asks_for_amount(question):
        return ()
    things = counted(question)
    kinds = {"number"} if things else {"percent", "money"} | ({"number"} if _COUNTS.search(question) else set())
    question_values = {v.norm for v in extract_values(question)}  # "Did it rise above 5%?": 5% is no answer
    taken: dict[str, int] = {}
    found: dict[str, list[DatedValue]] = {}  # article id -> its figures
    for w in weighed:
        if w.score < min_relevance:
            break
        hit = hits[w.hit]
        if not_before and hit.meta.published and hit.meta.published[:10] < not_before:
            continue
        aid = hit.chunk.article_id
        figures = [v for v in extract_values(w.text) if v.kind in kinds and v.norm not in question_values
                   and (not things or counts_it(w.text, v, things))]
        if not figures or taken.get(aid, 0) >= per_article:
            continue
        taken[aid] = taken.get(aid, 0) + 1
        for v in figures:
            lo, hi = _clause(w.text, v.start, v.end)
            here = found.setdefault(aid, [])
            if all(d.norm != v.norm for d in here):
                here.append(DatedValue(v.text, v.kind, v.norm, hit, w.start + lo, w.start + hi, w.text[lo:hi]))
    differ = any({d.norm for d in a if d.kind == k} != {d.norm for d in b if d.kind == k}
                 and any(d.kind == k for d in a) and any(d.kind == k for d in b)
                 for k in kinds for a in found.values() for b in found.values() if a is not b)
    if not differ:
        return ()
    values = [d for ds in found.values() for d in ds]
    dated = sorted((d for d in values if d.hit.meta.published), key=lambda d: (d.hit.meta.published or "")[:10],
                   reverse=newest_first)
    return (*dated, *(d for d in values if not d.hit.meta.published))  # undated sources last
