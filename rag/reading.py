"""What the model reads: the sentences of each passage that bear on the question.

A small model reads less and misses less. Measured on the seeds (this 2-core AVX2 machine): 5 full chunks are
~1,200 prompt tokens (~20 s before the first token); the top sentences are ~400 (~7 s), and the 1.5B model then
stops skipping facts that sit in the middle of a passage ("5% of their GDP"). Citations are still checked
against the full passages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from index.chunking import sentence_spans
from index.embedding import Embedder
from index.keyword import tokenize
from rag.types import Hit, Reading

_URL_LINE = re.compile(r"^\W*(source|read more|link)?\W*https?://\S+$", re.I)


class Reader:
    """Chooses the sentences the model reads: `max_sentences` in all (0: whole passages), up to `per_hit` each."""

    def __init__(self, embedder: Embedder, max_sentences: int = 12, per_hit: int = 3) -> None:
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.per_hit = per_hit

    def read(self, question: str, hits: Sequence[Hit]) -> tuple[Reading, ...]:
        """One Reading per hit, numbered 1..len(hits); each passage keeps at least its best sentence, so
        the source numbers [n] are those of the hits."""
        whole = tuple(Reading.whole(n, h) for n, h in enumerate(hits, start=1))
        if not self.max_sentences:
            return whole
        spans = [(i, s, e) for i, h in enumerate(hits) for s, e in sentence_spans(h.chunk.text)
                 if not _URL_LINE.match(h.chunk.text[s:e])]
        if not spans:
            return whole
        texts = [hits[i].chunk.text[s:e] for i, s, e in spans]
        q_vec = np.asarray(self.embedder.embed_query(question))
        s_vecs = np.asarray(self.embedder.embed_documents(texts))
        q_words = set(tokenize(question))
        scores = s_vecs @ q_vec + 0.05 * np.array([len(q_words & set(tokenize(t))) for t in texts])
        order = [int(j) for j in np.argsort(-scores)]
        keep: dict[int, list[int]] = {}
        for j in order:
            keep.setdefault(spans[j][0], [j])
        taken = len(keep)
        for j in order:
            if taken >= self.max_sentences:
                break
            chosen = keep[spans[j][0]]
            if j not in chosen and len(chosen) < self.per_hit:
                chosen.append(j)
                taken += 1
        out = []
        for i, hit in enumerate(hits):
            if i not in keep:
                out.append(whole[i])
                continue
            start = hit.chunk.start
            out.append(Reading.of_spans(i + 1, hit, tuple((start + spans[j][1], start + spans[j][2])
                                                          for j in sorted(keep[i]))))
        return tuple(out)
