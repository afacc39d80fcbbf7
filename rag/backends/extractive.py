"""The no-LLM backend: the sentences read that best answer the question, each cited."""

from __future__ import annotations

import math
from collections.abc import Iterator

from index.keyword import tokenize
from rag.llm import LLM
from rag.types import Prompt, Relevance

# A second sentence joins the answer only when it is nearly as similar to the question as the first (cosine),
# or, judged by the cross-encoder, nearly as relevant (logits).
_NEARLY = 0.05
_NEARLY_JUDGED = 2.0
_TIED = 1.0
# The cross-encoder re-weighs this many of the most similar sentences (each pair costs a few ms).
_JUDGED = 12


class ExtractiveLLM(LLM):
    """Answers without a model: also the fallback when a model server fails."""

    name = "extractive"

    def __init__(self, judge: Relevance | None = None) -> None:
        self.judge = judge

    def write(self, prompt: Prompt) -> Iterator[str]:
        text = extractive_answer(prompt, judge=self.judge)
        if text:
            yield text

    def choose(self, prompt: Prompt) -> int | None:
        """The choice a passage names in the sentence that best answers the question with it."""
        from rag.choices import best_source

        scored = [(found[1], k) for k, choice in enumerate(prompt.choices, start=1)
                  if (found := best_source(prompt.searched, choice, prompt.readings, self.judge))]
        return max(scored)[1] if scored else None


def extractive_answer(prompt: Prompt, max_sentences: int = 2, judge: Relevance | None = None) -> str:
    """'Sentence one [1]. Sentence two [3].' from the sentences the prompt's readings hold, best first.

    The reader's similarity scores rank them when it weighed them; otherwise the words they share with the
    question do. With a `judge` (the cross-encoder), the most similar few are re-ranked by whether they answer
    the question: similarity favours sentences about the topic ("NATO's most important task is …" for "What
    is the NATO spending target?"), the cross-encoder the one that gives the target. '' when nothing read
    shares a content word with the question.
    """
    q = set(tokenize(prompt.searched))
    scored: list[tuple[float, float, int, str]] = []  # (relevance, overlap, n, sentence)
    for r in prompt.readings:
        for k, (_, _, sentence) in enumerate(r.sentences()):
            words = set(tokenize(sentence))
            overlap = len(q & words)
            if overlap == 0 or len(sentence) < 15:
                continue
            # Prefer sentences that cover more of the question, then higher-ranked passages, then shorter
            # sentences (a 60-word sentence matches more words by chance).
            lexical = overlap - 0.05 * (r.n - 1) - 0.02 * math.sqrt(len(words))
            relevance = r.relevance[k] if k < len(r.relevance) else lexical
            scored.append((relevance, lexical, r.n, sentence))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    weighed = bool(prompt.readings and prompt.readings[0].relevance)
    nearly = _NEARLY
    if judge is not None and scored:
        scored = scored[:_JUDGED]
        judged = judge(prompt.searched, [t[3] for t in scored])
        prior = [(j, lexical, n, sentence) for j, (_, lexical, n, sentence) in zip(judged, scored)]
        # Near-ties keep the reader's order, which knows the question's time and recency (the cross-encoder
        # does not): of "Holi this week" and "Diwali this week", the one published that week leads.
        top = max(t[0] for t in prior)
        lead = next(t for t in prior if t[0] >= top - _TIED)
        scored = [lead, *sorted((t for t in prior if t is not lead), key=lambda t: (-t[0], -t[1]))]
        weighed, nearly = True, _NEARLY_JUDGED
    chosen: list[tuple[int, str]] = []
    for relevance, lexical, n, sentence in scored:
        # A further sentence must match nearly as well as the best one, or it is noise.
        if chosen and (relevance < scored[0][0] - nearly if weighed else lexical < 0.7 * scored[0][1]):
            break
        if sentence not in (c[1] for c in chosen):
            chosen.append((n, sentence))
        if len(chosen) == max_sentences:
            break
    return " ".join(_cite(sentence, n) for n, sentence in chosen)


def _cite(sentence: str, n: int) -> str:
    """'He won.' -> 'He won [1].' (the marker inside the sentence it belongs to)."""
    body = sentence.rstrip()
    stop = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[:-1] if stop else body} [{n}]{stop}"
