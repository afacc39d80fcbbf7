"""Answers the reader offers (a quiz's choices): which passage names a choice, and how well it answers.

The model picks a choice by its number (rag/llm.py `choose`, under a grammar for llama.cpp); the code writes the
answer line and cites the passage that names the choice and best answers the question with it, so the citation
is right by construction. The line is then checked like any answer (rag/claims.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from index.keyword import tokenize
from rag.prose import in_context, prose_spans
from rag.types import Hit, Reading, Relevance
from rag.values import supports

# Of a choice's words, the share a sentence must hold to name it ("Benedict XVI" names "Pope Benedict XVI").
_WORDS_NAMED = 0.66
# Or half of them when that is two words or more: a place or a thing named in short ("the Bay Area" for "San
# Francisco Bay Area"); its names must still match (rag/names.py: a part of a name names it).
_WORDS_NAMED_IN_SHORT = 0.5


def _singular(word: str) -> str:
    """One form for a word and its plural where the index's tokens keep two ('tornadoe' of "tornadoes" and
    'tornado', 'churche' and 'church'): tokenize drops a plural's s but not an 'es'."""
    return word[:-1] if len(word) > 4 and word.endswith(("oe", "che", "she", "xe", "sse", "se")) else word


def enough_words(words: set[str], text_words: set[str]) -> bool:
    """Whether a text holds enough of an answer's words to name it: most of them, or half when that is two or more;
    a word and its plural are one ("Tornado" is named by "tornadoes")."""
    if not words:
        return False
    words = {_singular(w) for w in words}
    held = words & {_singular(w) for w in text_words}
    share = len(held) / len(words)
    return share >= _WORDS_NAMED or (share >= _WORDS_NAMED_IN_SHORT and len(held) >= 2)


def names(choice: str, sentence: str) -> bool:
    """Whether the sentence names the choice: its figures, dates and names, and enough of its words."""
    return enough_words(set(tokenize(choice)), set(tokenize(sentence))) and supports(choice, sentence).supported


def _sentences(hit: Hit) -> list[str]:
    """The prose sentences of a passage: every one counts, not only the ones the model read."""
    c = hit.chunk
    return [c.text[a - c.start:b - c.start] for a, b in prose_spans(c)]


def names_a_choice(choices: Sequence[str], hits: Sequence[Hit]) -> bool:
    """Whether a sentence of some passage names one of the choices: for a question with choices, the content the
    relevance gate looks for (a quiz question's own words are mostly not in its passage: "Professional baseball
    player Justin Turner was hit by a fastball … Which team does he play for?")."""
    return any(names(choice, sentence) for h in hits for sentence in _sentences(h) for choice in choices)


def best_source(question: str, choice: str, readings: Sequence[Reading],
                judge: Relevance | None) -> tuple[int, float] | None:
    """(n, score) of the passage whose sentence names the choice and best answers the question with it; None when
    no passage names it. Every prose sentence of the passage counts, not only the ones the model read."""
    found: list[tuple[int, str, str]] = []  # (n, title, sentence)
    for r in readings:
        found.extend((r.n, r.hit.meta.title, sentence) for sentence in _sentences(r.hit) if names(choice, sentence))
    if not found:
        return None
    if judge is None:
        return found[0][0], 0.0
    scores = judge(f"{question} {choice}", [in_context(title, s) for _, title, s in found])
    best = max(range(len(found)), key=scores.__getitem__)
    return found[best][0], float(scores[best])


def choice_line(choice: str, n: int | None) -> str:
    """'Answer: Buffalo Bills [2].': the line an answer by choice is, cited when a passage names it."""
    return f"Answer: {choice} [{n}]." if n else f"Answer: {choice}."
