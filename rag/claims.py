"""Is an answer sentence supported by the passages it cites? Three checks in code, not in the model.

A sentence (a claim) is supported only if:
1. **Its values are there.** Every number, percentage, amount, date or year, and proper name in it appears in a
   cited passage (rag/values.py: "5%", "5 percent", "five per cent" are one value). The cited source's own outlet
   and publication date count too, so "In February 2025 the Post reported …" can cite the Post of that day.
2. **It says what the passage says.** When every place a cited passage gives one of the claim's figures is
   hedged ("possibly around 3-3.5%", "is urging a new target", "seeks to raise spending to 5%"), the claim must
   hedge too: "allies have a target of 3-3.5%" states as settled what the source gives as a proposal. Found on
   the shipped corpus, where word overlap marked exactly that sentence "supported".
3. **A cited passage bears on it.** The cross-encoder scores the claim against the best prose sentence of each
   cited passage; at least one must reach `min_relevance` (calibrated on the dev split's gold facts,
   docs/BENCHMARKS.md). Metadata lines are never evidence (rag/prose.py).

Pure: the cross-encoder comes in as a function.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from index.keyword import tokenize
from rag.gate import distinctive_words
from rag.prose import in_context, prose_spans
from rag.types import Hit
from rag.values import Value, ValueCheck, extract_values, matches, supports

Relevance = Callable[[str, Sequence[str]], Sequence[float]]  # (claim, sentences) -> one score per sentence

# Words that make a figure a proposal, a possibility or a wish rather than a settled fact, looked for in the
# sentence around it. Approximations ("around", "about", "an estimated") are not among them: "around 3-3.5%"
# is still stated as a fact.
_HEDGE = re.compile(r"""\b(?:possib\w*|perhaps|maybe|could|might|may|would|propos\w*|urg(?:e|es|ed|ing)|
    call(?:s|ed|ing)?\s+for|want(?:s|ed|ing)?|seek(?:s|ing)?|sought|push(?:es|ed|ing)?(?:\s+for)?|
    demand(?:s|ed|ing)?|aim(?:s|ed|ing)?\s+(?:to|for|at)|plan(?:s|ned|ning)?\s+to|expect(?:s|ed)?\s+to|
    hop(?:e|es|ed|ing)|goal|new\s+target|potential(?:ly)?|likely|intend(?:s|ed)?|consider(?:s|ed|ing)?|
    suggest(?:s|ed|ing)?|recommend(?:s|ed|ing)?|lobb(?:y|ies|ied|ying)|insist(?:s|ed|ing)?|ask(?:s|ed|ing)?\s+for|
    forecast\w*|predict\w*|if)\b""", re.I | re.X)
# Where one clause ends and the next begins: "The current 2% target has been in place since 2014, but Trump wants
# a higher figure" states 2% as a fact; the wish belongs to the second clause.
_CLAUSE = re.compile(r"[;:]|,?\s+(?:but|while|whereas|although|though|however|yet)\b|\s[–—]\s", re.I)
_QUANTITIES = ("percent", "money", "number")
_JUDGED_PER_PASSAGE = 2
_SHORT = 3  # a sentence with this many content words or fewer ("Yes.", "Answer: Bankman-Fried") makes no claim
_ANSWER_LINE = re.compile(r"^\W*(?:final\s+|short\s+)?answer\W*:", re.I)


@dataclass(frozen=True, slots=True)
class Evidence:
    """The best prose sentence of a cited passage for a claim."""

    n: int
    start: int  # absolute offsets in the article text
    end: int
    text: str
    relevance: float | None  # cross-encoder score; None when no model judged it


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    supported: bool
    reason: str  # why not ("" when supported)
    evidence: tuple[Evidence, ...]  # per cited passage that backs the claim, best first


def is_conclusion(claim: str) -> bool:
    """'Yes.', 'Answer: Sam Bankman-Fried': it restates, it does not add; only its values are checked."""
    return bool(_ANSWER_LINE.match(claim)) or len(tokenize(claim)) <= _SHORT


def hedged(sentence: str, start: int = 0, end: int | None = None) -> bool:
    """Whether the clause holding sentence[start:end] (the whole sentence by default) is hedged."""
    end = len(sentence) if end is None else end
    cuts = [0, *(m.end() for m in _CLAUSE.finditer(sentence)), len(sentence) + 1]
    lo = max(c for c in cuts if c <= start)
    hi = min((m.start() for m in _CLAUSE.finditer(sentence) if m.start() >= end), default=len(sentence))
    return bool(_HEDGE.search(sentence, lo, hi))


def _spoken(published: str | None) -> str:
    try:
        d = date.fromisoformat((published or "")[:10])
    except ValueError:
        return ""
    return f"{d:%B} {d.day}, {d.year}"


def _prose(hit: Hit) -> list[tuple[int, int, str]]:
    c = hit.chunk
    return [(s, e, c.text[s - c.start:e - c.start]) for s, e in prose_spans(c)]


def _overlap(claim_words: set[str], claim_values: Sequence[Value], sentence: str) -> float:
    words = set(tokenize(sentence))
    found = [v for v in claim_values if any(matches(v, p) for p in extract_values(sentence))]
    return len(claim_words & words) / (len(claim_words) or 1) + len(found)


def check_claim(claim: str, cited: Sequence[tuple[int, Hit]], relevance: Relevance | None,
                min_relevance: float, question: str = "") -> ClaimCheck:
    """Check one answer sentence (markers removed) against the passages it cites, as (n, hit) pairs.

    `question`: what was asked. The words a claim takes from it must be in the cited passages: "Kestria's
    unemployment rate is 4.5%" cites an article on Kestria's interest rate of 4.5% — every value is there, but
    "unemployment" is not.
    """
    if not cited:
        return ClaimCheck(False, "cites no source", ())
    sentences = {n: _prose(hit) for n, hit in cited}
    passages = "\n".join(t for n, _ in cited for _, _, t in sentences[n])
    # The source's own outlet and day are evidence for "the Post reported in February 2025", its headline for the
    # full name of whom the text calls by surname ("Hamlin" under "Damar Hamlin shows improvement").
    labels = "\n".join(f"{hit.meta.outlet}. {_spoken(hit.meta.published)}. {hit.meta.title}." for _, hit in cited)
    values = supports(claim, f"{passages}\n{labels}")
    if not values.supported and question and _restates_question(values, question):
        values = ValueCheck(values.values, ())
    if not values.supported:
        return ClaimCheck(False, "not in the cited passages: " + ", ".join(v.text for v in values.missing), ())
    # The question's words must be in what a figure is cited from: the figure must be of what was asked. Only for
    # sentences that state a quantity: restating the question in other words ("laid to rest" for "funeral") is
    # not a misreading, and the rule refused most RealTime QA answers when it held for every sentence.
    if question and not is_conclusion(claim) and any(v.kind in _QUANTITIES and not _asked(v, question)
                                                     for v in values.values):
        cited_words = {w[:5] for _, hit in cited for w in tokenize(f"{hit.meta.title} {hit.chunk.text}")}
        asked = {w[:5] for w in distinctive_words(question)}
        missing = [w for w in distinctive_words(claim) if w[:5] in asked and w[:5] not in cited_words]
        if missing:
            return ClaimCheck(False, "the cited passages do not mention " + ", ".join(missing), ())
    for v in values.values:
        if v.kind not in _QUANTITIES or hedged(claim, v.start, v.end):
            continue
        where = [(t, p) for n, _ in cited for _, _, t in sentences[n] for p in extract_values(t) if matches(v, p)]
        if where and all(hedged(t, p.start, p.end) for t, p in where):
            return ClaimCheck(False, f"states {v.text} as fact; the source gives it as a proposal or possibility",
                              ())
    # The best sentences of each cited passage: lexical and value overlap picks two, the cross-encoder judges them
    # (a paraphrase can share more words with a neighbouring sentence than with the one that states it).
    claim_words = set(tokenize(claim))
    best: list[tuple[int, tuple[int, int, str]]] = []
    for n, _ in cited:
        ranked = sorted(sentences[n], key=lambda s: -_overlap(claim_words, values.values, s[2]))
        best.extend((n, s) for s in ranked[:_JUDGED_PER_PASSAGE])
    if not best:
        return ClaimCheck(False, "the cited passages hold no article prose", ())
    # A conclusion line ("Answer: Google [1][2]…[7]") is backed by the cited passages that name its values (all of
    # them for "Yes [1][2]"): the 1.5B model cites every source on it.
    cited_text = {n: f"{hit.meta.title}\n{hit.meta.outlet}. {_spoken(hit.meta.published)}.\n{hit.chunk.text}"
                  for n, hit in cited}
    if relevance is None or is_conclusion(claim):
        # Without a model: a passage backs the claim when its best sentence has one of the claim's values or
        # half of its words; a conclusion line by every cited passage that names its value ("Yes." by all).
        evidence = tuple(_one_per_passage(
            Evidence(n, s, e, t, None) for n, (s, e, t) in best
            if (is_conclusion(claim) and _names_it(claim, values.values, cited_text[n]))
            or _overlap(claim_words, values.values, t) >= 0.5))
        if not evidence:
            return ClaimCheck(False, "no cited passage bears on it", ())
        return ClaimCheck(True, "", evidence)
    titles = dict((n, hit.meta.title) for n, hit in cited)
    scores = relevance(claim, [in_context(titles[n], t) for n, (_, _, t) in best])
    judged = sorted((Evidence(n, s, e, t, float(score)) for (n, (s, e, t)), score in zip(best, scores)),
                    key=lambda ev: -(ev.relevance or 0.0))
    judged = _one_per_passage(judged)
    backing = tuple(ev for ev in judged if (ev.relevance or 0.0) >= min_relevance)
    if not backing:
        return ClaimCheck(False, f"no cited passage bears on it (best relevance {judged[0].relevance:.1f})", ())
    return ClaimCheck(True, "", backing)


_VERDICTS = frozenset({"answer", "yes", "no", "insufficient", "information", "not", "enough"})


def _names_it(claim: str, values: Sequence[Value], text: str) -> bool:
    """Whether a passage states a conclusion's value: one of its values, or else its words ("Answer: Google", where
    a lone capitalised word is no name value); True for a verdict alone ("Yes.")."""
    if values:
        return any(not supports(v.text, text).missing for v in values)
    words = [w for w in tokenize(claim) if w not in _VERDICTS]
    return not words or set(words) <= set(tokenize(text))


def _restates_question(values: ValueCheck, question: str) -> bool:
    """Whether every value the passages lack is the question's own, and the sentence also gives one of its own
    that they state: "Damar Hamlin is a member of the Buffalo Bills" for "… Damar Hamlin … which team?", cited to
    a passage that says "Hamlin". A sentence made only of the question's values ("Biden met Macron" for "Did
    Biden meet Macron?") still needs them in its sources."""
    if not all(_asked(v, question) for v in values.missing):
        return False
    return any(v not in values.missing and not _asked(v, question) for v in values.values)


def _asked(value: Value, question: str) -> bool:
    """Whether the question itself states the value."""
    return not supports(value.text, question).missing


def _one_per_passage(evidence: Iterable[Evidence]) -> list[Evidence]:
    """The first (best) sentence of each passage, in order."""
    kept: dict[int, Evidence] = {}
    for ev in evidence:
        kept.setdefault(ev.n, ev)
    return list(kept.values())
