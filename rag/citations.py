"""Check every [n] marker against the passage it names, and keep only the sentences the sources support.

Pure functions, no I/O; the cross-encoder that judges relevance comes in as a function (rag/claims.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.chunking import sentence_spans
from index.keyword import tokenize
from rag.claims import ClaimCheck, check_claim, check_conclusion, is_conclusion, restates_question
from rag.markers import AFTER_STOP, BRACKET, JOINED, MARKER_GROUP, ONLY_MARKERS, numbers, strip_markers
from rag.prompts import source_label
from rag.types import Citation, Hit, Relevance

# "Martin Luther King Jr. Day": a title or initial's stop does not end the sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:Jr|Sr|Dr|Mr|Mrs|Ms|St|Mt|Gov|Sen|Rep|Gen|Lt|Col|Prof|Inc|Corp|Ltd|vs)|\b[A-Z])\.$")
# "The Central Bank of Kestria will meet again on [3].": the model put a marker where the answer should be.
_CUT_OFF = re.compile(r"\b(?:on|in|at|by|of|to|the|a|an|and|from|with)\W*$", re.I)
_WHICH = r"(?:(?:first|second|third|fourth|fifth|both|all|these|those|provided|given|above|cited|same|other)\s+)*"
# Words about the sources rather than about the news ("as stated in the first source", "according to the
# passages"): form, not content. They leave the sentence before it is checked and shown; an outlet named
# ("according to the Post") is content and stays.
_ABOUT_SOURCES = re.compile(rf"""
    (?:,\s*)?(?:as\s+)?(?:stated|mentioned|reported|noted|indicated|shown|said|seen|described|given|cited)\s+
        (?:in|by)\s+(?:the\s+)?{_WHICH}(?:sources?|passages?|texts?|articles?)(?:\s+\d+)?\b
  | (?:,\s*)?according\s+to\s+(?:the\s+)?{_WHICH}(?:sources?|passages?|texts?|articles?)(?:\s+\d+)?\b
  | ^\s*(?:the\s+)?{_WHICH}(?:sources?|passages?|articles?)\s+(?:{BRACKET}\s*)*(?:say|says|state|states|indicate|
        indicates|mention|mentions|show|shows|report|reports|confirm|confirms)\s+(?:that\s+)?
""", re.I | re.X | re.M)
_REFUSAL_HINTS = ("don't know", "do not know", "not contain", "do not say", "doesn't say", "does not say",
                  "no information", "not mentioned", "cannot answer", "can't answer", "not provided",
                  "insufficient information", "not specified", "not stated")


@dataclass(frozen=True, slots=True)
class Verified:
    text: str  # the supported sentences (and any "the sources do not say" sentence), markers that name a passage
    citations: tuple[Citation, ...]  # one per marker left in `text`, tied to the sentence that supports it
    dropped_markers: tuple[int, ...]  # markers that named no passage
    unsupported_sentences: tuple[str, ...]  # removed from `text`: the sources do not support them
    reasons: tuple[str, ...] = ()  # why each unsupported sentence was removed, in the same order


def looks_like_refusal(text: str) -> bool:
    lowered = text.lower().replace("’", "'")
    return any(h in lowered for h in _REFUSAL_HINTS)


def _split(text: str, n_hits: int) -> tuple[list[str], list[str], list[int]]:
    """Sentences (markers kept), the separator before each, and the markers that named no passage."""
    dropped: list[int] = []

    def keep_valid(m: re.Match[str]) -> str:
        valid: list[int] = []
        for n in numbers(m.group(1)):
            (valid if 1 <= n <= n_hits else dropped).append(n)
        joined = "".join(f"[{n}]" for n in dict.fromkeys(valid))
        return (" " + joined) if joined and m.group(0)[0].isspace() else joined

    # "[1] and [2]" is one group (else "as stated in the sources [1] and [2]." reads as a sentence cut off after
    # "and" once its markers are set aside).
    text = JOINED.sub(r"\1", text)
    text = _ABOUT_SOURCES.sub("", text)
    text = re.sub(r"[ \t]{2,}", " ", re.sub(r"(^|[.!?])[ \t]+,[ \t]*|^,[ \t]*", r"\1 ", text, flags=re.M)).strip()
    cleaned = MARKER_GROUP.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()
    # "…president. [1]" -> "…president [1]." so each marker stays with the sentence it closes.
    cleaned = AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), cleaned)
    sentences: list[str] = []
    separators: list[str] = []
    last = 0
    for s, e in sentence_spans(cleaned):
        piece = cleaned[s:e]
        if sentences and (ONLY_MARKERS.match(piece) or _ABBREVIATION.search(sentences[-1])):
            sentences[-1] += cleaned[last:s] + piece
        else:
            separators.append("\n" if "\n" in cleaned[last:s] else " ")
            # "The sources say that the target …" lost its first words above: the sentence still starts upper.
            sentences.append(piece[:1].upper() + piece[1:])
        last = e
    return sentences, separators, list(dict.fromkeys(dropped))


def answer_sentences(text: str) -> list[str]:
    """The sentences of a checked answer, markers kept ("Martin Luther King Jr. Day …" is one)."""
    return _split(text, 1 << 30)[0]


def _cited(sentences: list[str]) -> list[list[int]]:
    """The markers each sentence is judged by. Small models often put all markers at the end of a paragraph: a
    sentence without markers takes those of the next sentence that has some, else of the one before."""
    own = [[n for g in MARKER_GROUP.findall(x) for n in numbers(g)] for x in sentences]
    cited = [list(dict.fromkeys(c)) for c in own]
    following: list[int] = []
    for i in range(len(cited) - 1, -1, -1):
        if cited[i]:
            following = cited[i]
        else:
            cited[i] = following
    preceding: list[int] = []
    for i, c in enumerate(cited):
        if c:
            preceding = c
        else:
            cited[i] = preceding
    return cited


def verify_citations(text: str, hits: Sequence[Hit], relevance: Relevance | None = None,
                     min_relevance: float = 0.0, question: str = "", dated: bool = False) -> Verified:
    """Drop markers that name no passage; check each sentence against the passages it cites (rag/claims.py);
    keep the supported ones, each marker tied to the sentence of its passage that backs the claim.

    Args:
        text: the answer as written, with [n] markers.
        hits: the numbered passages; [n] is hits[n - 1].
        relevance: scores a claim against sentences (the cross-encoder); None skips the relevance check.
        min_relevance: the score a cited sentence must reach.
        question: what was asked (a claim's words taken from it must be in what it cites).
        dated: say as of when: every supported sentence gets its sources' outlet and day,
            "… [1] (dpa, 24 Nov 2020)." (news changes; a reader must see when a source said it, also when the
            sentence names a time of its own: "since 2014" says nothing of when that was still true).
    """
    sentences, separators, dropped = _split(text, len(hits))
    cited_by = _cited(sentences)
    kept: list[tuple[str, str]] = []  # (separator, sentence)
    unsupported: list[str] = []
    reasons: list[str] = []
    quotes: dict[int, tuple[float, int, int]] = {}  # n -> (relevance, start, end) of its best backing sentence
    every = list(enumerate(hits, start=1))
    for sentence, separator, cited in zip(sentences, separators, cited_by):
        claim = strip_markers(sentence).strip()
        if not tokenize(claim) or looks_like_refusal(claim):
            kept.append((separator, claim))
            continue
        if relevance is not None and question and (is_conclusion(claim) or restates_question(claim, question)):
            check: ClaimCheck = check_conclusion(claim, every, relevance, question)
            shown = sorted(ev.n for ev in check.evidence)
        elif _CUT_OFF.search(claim):
            check = ClaimCheck(False, "the sentence is cut off", ())
        else:
            check = check_claim(claim, [(n, hits[n - 1]) for n in cited], relevance, min_relevance, question)
            backing = {ev.n for ev in check.evidence}
            # Markers whose passage does not back the claim leave the sentence; inherited ones are written out.
            shown = [n for n in cited if n in backing] or [ev.n for ev in check.evidence[:1]]
            if not check.supported and relevance is not None:
                # A sentence the passages read support, marked with the wrong numbers, is cited where it is
                # backed rather than removed (the 1.5B model's most common slip after conclusion markers). One
                # passage must back it alone: pieces from several ("NATO spent 2%" + "Afghanistan") are no support.
                alone = [c for n, hit in every if n not in cited
                         for c in [check_claim(claim, [(n, hit)], relevance, min_relevance, question)] if c.supported]
                if alone:
                    check = ClaimCheck(True, "", tuple(ev for c in alone for ev in c.evidence))
                    shown = sorted(ev.n for ev in check.evidence)
        if not check.supported:
            unsupported.append(claim)
            reasons.append(check.reason)
            continue
        body = strip_markers(sentence).rstrip()
        stop = body[-1] if body and body[-1] in ".!?" else ""
        body = body[:-1] if stop else body
        when = ""
        if dated and not is_conclusion(claim):
            labels = [source_label(hits[n - 1].meta.outlet, hits[n - 1].meta.published) for n in shown]
            when = f" ({'; '.join(dict.fromkeys(lb for lb in labels if lb != 'unknown source'))})".replace(" ()", "")
        kept.append((separator, f"{body} {''.join(f'[{n}]' for n in shown)}{when}{stop}"))
        for ev in check.evidence:
            score = ev.relevance if ev.relevance is not None else 0.0
            if ev.n in shown and (ev.n not in quotes or score > quotes[ev.n][0]):
                quotes[ev.n] = (score, ev.start, ev.end)
    out = "".join((sep if i else "") + s for i, (sep, s) in enumerate(kept)).strip()
    citations = []
    for n in sorted(quotes):
        _, s, e = quotes[n]
        hit = hits[n - 1]
        quote = hit.chunk.text[s - hit.chunk.start:e - hit.chunk.start]
        citations.append(Citation(n=n, hit=hit, start=s, end=e, quote=quote, supported=True))
    return Verified(out, tuple(citations), tuple(dropped), tuple(unsupported), tuple(reasons))
