"""The relevance gate: refuse before the model writes anything when the passages found do not bear on the question.

Small local models answer same-topic questions from whatever they are given, so refusal is decided in code, on
signals calibrated on the dev split (benchmarks/gate.py, docs/BENCHMARKS.md):
- **Similarity:** the best dense cosine similarity of the question to a candidate passage (`min_relevance`).
- **Coverage:** the share of the question's distinctive words found in the passages (`min_coverage`). On whole
  articles the similarity of a same-topic question is as high as an answerable one's ("What is Kestria's
  unemployment rate?" against an article on its interest rate: 0.55, answerable questions 0.50-0.82), but the
  word the question turns on ("unemployment") is nowhere in them. Words match on their first five letters, so
  "defence" finds "defense" and "spending" finds "spend".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.keyword import tokenize
from rag.types import Hit

# Words that ask rather than name: they need not appear in an answer's passages.
_ASKING = frozenset("""
what which who whom whose when where why how many much did does do is are was were has have had will would can
could should may might there their they it its this that these those the a an of in on at to for from by with about
according report reported reports article articles say said says tell told mention mentioned news story stories
source sources both also still currently latest recent recently new according week month year day today yesterday
time times people person one ones first last next other another same name named called kind type number many
""".split())
_PREFIX = 5


@dataclass(frozen=True, slots=True)
class GateDecision:
    admitted: bool
    similarity: float
    coverage: float
    reason: str = ""  # why it refused


def distinctive_words(question: str) -> list[str]:
    return list(dict.fromkeys(w for w in tokenize(question) if w not in _ASKING and not w.isdigit() and len(w) > 2))


def coverage(question: str, hits: Sequence[Hit]) -> float:
    """Share of the question's distinctive words found (by their first five letters) in the passages or titles."""
    words = distinctive_words(question)
    if not words:
        return 1.0
    found = {w[:_PREFIX] for h in hits for w in tokenize(f"{h.meta.title} {h.meta.outlet} {h.chunk.text}")}
    return sum(w[:_PREFIX] in found for w in words) / len(words)


def decide(question: str, hits: Sequence[Hit], similarity: float, min_relevance: float,
           min_coverage: float) -> GateDecision:
    """Whether the passages found may be answered from (the question as searched, the retrieved hits)."""
    if not hits:
        return GateDecision(False, similarity, 0.0, "no passage found")
    share = coverage(question, hits)
    if similarity < min_relevance:
        return GateDecision(False, similarity, share, f"best similarity {similarity:.2f} < {min_relevance}")
    if share < min_coverage:
        return GateDecision(False, similarity, share, f"the passages cover {share:.0%} of the question's words")
    return GateDecision(True, similarity, share)
