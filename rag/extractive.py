"""The no-LLM backend: the retrieved sentences that best match the question, each cited."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from index.chunking import sentence_spans
from index.keyword import tokenize
from rag.llm import LLM
from rag.types import Hit, Prompt


class ExtractiveLLM(LLM):
    """Answers without a model: also the fallback when a model server fails."""

    name = "extractive"

    def write(self, prompt: Prompt) -> Iterator[str]:
        text = extractive_answer(prompt.searched, [r.hit for r in prompt.readings])
        if text:
            yield text


def extractive_answer(question: str, hits: Sequence[Hit], max_sentences: int = 2) -> str:
    """'Sentence one. [1] Sentence two. [3]', or '' when no sentence shares a content word with the question."""
    q = set(tokenize(question))
    scored: list[tuple[float, int, str]] = []
    for n, hit in enumerate(hits, start=1):
        text = hit.chunk.text
        for s, e in sentence_spans(text):
            sentence = text[s:e]
            words = set(tokenize(sentence))
            overlap = len(q & words)
            if overlap == 0 or len(sentence) < 15:
                continue
            # Prefer sentences that cover more of the question, then higher-ranked passages, then
            # shorter sentences (a 60-word sentence matches more words by chance).
            score = overlap - 0.05 * (n - 1) - 0.02 * math.sqrt(len(words))
            scored.append((score, n, sentence))
    scored.sort(key=lambda t: -t[0])
    chosen: list[tuple[int, str]] = []
    for score, n, sentence in scored:
        # A further sentence must match nearly as well as the best one, or it is noise.
        if chosen and score < 0.7 * scored[0][0]:
            break
        if sentence not in (c[1] for c in chosen):
            chosen.append((n, sentence))
        if len(chosen) == max_sentences:
            break
    return " ".join(f"{sentence} [{n}]" for n, sentence in chosen)
