"""Check every [n] marker against the passage it names. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.chunking import sentence_spans
from index.keyword import tokenize
from rag.types import Citation, Hit

_MARKER_GROUP = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")
_ONLY_MARKERS = re.compile(r"^(\s*\[\d+(?:\s*[,;]\s*\d+)*\])+[.!?]?$")
# Share of a sentence's content words that must appear in the cited passage for it to count as
# supported. Worked example: "Stoltenberg and Biden met on Monday" -> {stoltenberg, biden, met,
# monday}: all four are in the passage -> 1.0. A paraphrase keeps about 0.6-0.8; an invented
# claim ("they met in Lima on Friday") falls to 0.4 or below.
SUPPORT_THRESHOLD = 0.5
_REFUSAL_HINTS = ("don't know", "do not know", "not contain", "do not say", "doesn't say", "does not say",
                  "no information", "not mentioned", "cannot answer", "can't answer", "not provided",
                  "insufficient information", "not specified", "not stated")


@dataclass(frozen=True, slots=True)
class Verified:
    text: str  # the answer with invalid markers removed
    citations: tuple[Citation, ...]
    dropped_markers: tuple[int, ...]
    unsupported_sentences: tuple[str, ...]


def looks_like_refusal(text: str) -> bool:
    lowered = text.lower().replace("’", "'")
    return any(h in lowered for h in _REFUSAL_HINTS)


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's content words found in the passage (0..1)."""
    words = set(tokenize(sentence))
    if not words:
        return 1.0
    return len(words & set(tokenize(passage))) / len(words)


def best_sentence(claim: str, hit: Hit) -> tuple[int, int, float]:
    """The sentence of the hit's chunk that best supports the claim, as absolute article offsets."""
    chunk = hit.chunk
    words = set(tokenize(claim))
    best = (chunk.start, chunk.end, -1.0)
    for s, e in sentence_spans(chunk.text):
        sent_words = set(tokenize(chunk.text[s:e]))
        score = len(words & sent_words) / (len(words) or 1)
        if score > best[2]:
            best = (chunk.start + s, chunk.start + e, score)
    return best


def _markers(group: str) -> list[int]:
    return [int(x) for x in re.split(r"[,;]\s*|\s+", group.strip()) if x]


def verify_citations(text: str, hits: Sequence[Hit]) -> Verified:
    """Drop markers that name no passage, tie each kept marker to a supporting span, and flag
    sentences whose cited passages do not support them (or that cite nothing).
    """
    dropped: list[int] = []

    def keep_valid(m: re.Match[str]) -> str:
        valid: list[int] = []
        for n in _markers(m.group(1)):
            (valid if 1 <= n <= len(hits) else dropped).append(n)
        joined = "".join(f"[{n}]" for n in dict.fromkeys(valid))
        return (" " + joined) if joined and m.group(0)[0].isspace() else joined

    cleaned = _MARKER_GROUP.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()

    # "…president. [1]" -> "…president [1]." so each marker stays with the sentence it closes.
    cleaned = _AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), cleaned)
    sentences: list[str] = []
    for s, e in sentence_spans(cleaned):
        piece = cleaned[s:e]
        if sentences and _ONLY_MARKERS.match(piece):
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)

    # Small models often put all markers at the end of a paragraph: a sentence without markers is
    # checked against the markers of the next sentence that has some.
    cited_by: list[list[int]] = [[n for g in _MARKER_GROUP.findall(x) for n in _markers(g)] for x in sentences]
    inherited: list[int] = []
    for i in range(len(sentences) - 1, -1, -1):
        if cited_by[i]:
            inherited = cited_by[i]
        else:
            cited_by[i] = inherited

    best_for: dict[int, tuple[int, int, float, bool]] = {}
    unsupported: list[str] = []
    for sentence, cited in zip(sentences, cited_by):
        claim = _MARKER_GROUP.sub("", sentence).strip()
        if not tokenize(claim) or looks_like_refusal(claim):
            continue
        cited = list(dict.fromkeys(cited))
        # A sentence may combine facts from several passages: judge it against all it cites.
        ok = bool(cited) and support(claim, "\n".join(hits[n - 1].chunk.text for n in cited)) >= SUPPORT_THRESHOLD
        for n in cited:
            hit = hits[n - 1]
            own = support(claim, hit.chunk.text)
            s, e, score = best_sentence(claim, hit)
            prev = best_for.get(n)
            if prev is None or (ok, score) > (prev[3], prev[2]):
                best_for[n] = (s, e, score, ok and own > 0)
        if not ok:
            unsupported.append(claim)

    citations = []
    for n in sorted(best_for):
        s, e, _, ok = best_for[n]
        hit = hits[n - 1]
        quote = hit.chunk.text[s - hit.chunk.start: e - hit.chunk.start]
        citations.append(Citation(n=n, hit=hit, start=s, end=e, quote=quote, supported=ok))
    return Verified(cleaned, tuple(citations), tuple(dict.fromkeys(dropped)), tuple(unsupported))
