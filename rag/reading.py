"""What the model reads: the few prose sentences of the passages that bear on the question.

A small model reads less and misses less, and on 2 cores every prompt token costs ~20 ms before the first token
of the answer. The prose sentences of the retrieved passages (rag/prose.py: source lines, bylines and datelines
are never read) are weighed against the question by the embedder, each after its article's title; the model
reads the best ones, at most `read_per_source` of a passage, and a passage whose best sentence scores under
`min_source_relevance` is not shown at all. The passages kept are renumbered [1]..[m] in retrieval order.
Citations are checked against the full passages (rag/claims.py).

Why the embedder and not the cross-encoder: MultiHop-RAG's questions are compound, and the cross-encoder rates
every single sentence low against them. Of the gold facts in the 8 passages retrieved for 80 dev questions, the
5 sentences read held 63% chosen by embedding similarity, 43% by the cross-encoder (8 sentences: 76% / 50%; both
mixed: 64% / 74%). The cross-encoder judges claims instead (rag/claims.py), where it is sharp.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.embedding import Embedder
from index.keyword import tokenize
from rag.prose import in_context, prose_spans
from rag.settings import AnswerSettings
from rag.types import Hit, Reading


class Scorer(Protocol):
    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class EmbeddingScorer:
    """Cosine similarity of the question and each text under the index's embedder."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        q = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        return [float(v) for v in np.asarray(self.embedder.embed_documents(list(texts)), dtype=np.float32) @ q]


@dataclass(frozen=True, slots=True)
class Weighed:
    """A prose sentence of a retrieved passage, and how the cross-encoder rates it for the question."""

    hit: int  # index into the hits
    start: int  # absolute offsets in the article text
    end: int
    text: str
    score: float


class Reader:
    """Weighs the sentences of the retrieved passages and chooses the ones the model reads."""

    def __init__(self, scorer: Scorer, settings: AnswerSettings) -> None:
        self.scorer = scorer
        self.settings = settings

    def weigh(self, question: str, hits: Sequence[Hit], during: tuple[str, str] | None = None) -> list[Weighed]:
        """The `read_candidates` prose sentences that share most words with the question, scored, best first.

        Scoring costs ~3 ms a sentence on 2 cores: it weighs those, not every sentence of every passage. The score
        knows nothing of dates: for a question about a time, sentences of articles published `during` it (ISO
        days, inclusive) get `time_bonus`, so "What was the target in 2020?" reads the 2020 article first.
        """
        seen: set[tuple[str, int]] = set()
        spans = []
        for i, h in enumerate(hits):
            for a, b in prose_spans(h.chunk):
                if (h.chunk.article_id, a) not in seen:  # neighbouring chunks overlap: each sentence once
                    seen.add((h.chunk.article_id, a))
                    spans.append((i, a, b))
        texts = [hits[i].chunk.text[a - hits[i].chunk.start:b - hits[i].chunk.start] for i, a, b in spans]
        q_words = set(tokenize(question))
        # Ties go to the better-ranked passage.
        lexical = [len(q_words & set(tokenize(t))) - 0.01 * spans[j][0] for j, t in enumerate(texts)]
        chosen = sorted(range(len(spans)), key=lambda j: -lexical[j])[: self.settings.read_candidates]
        scores = self.scorer.score(question, [in_context(hits[spans[j][0]].meta.title, texts[j]) for j in chosen])
        def bonus(i: int) -> float:
            day = (hits[i].meta.published or "")[:10]
            return self.settings.time_bonus if during and day and during[0] <= day <= during[1] else 0.0

        weighed = [Weighed(spans[j][0], spans[j][1], spans[j][2], texts[j], s + bonus(spans[j][0]))
                   for j, s in zip(chosen, scores)]
        return sorted(weighed, key=lambda w: -w.score)

    def read(self, question: str, hits: Sequence[Hit], max_sources: int | None = None,
             weighed: Sequence[Weighed] | None = None, must: Iterable[Weighed] = ()) -> tuple[Reading, ...]:
        """Readings of at most `max_sources` of the hits (default all), numbered [1].. in the hits' order.

        Args:
            weighed: `weigh(question, hits)` if the caller has it already.
            must: sentences the model must read (their passages are shown even beyond `max_sources`).
        """
        s = self.settings
        must = list(must)
        max_sources = max_sources or len(hits)
        if not s.read_sentences:
            return tuple(Reading.whole(n, h) for n, h in enumerate(hits[:max_sources], start=1))
        order = list(weighed if weighed is not None else self.weigh(question, hits))
        if not order:
            return tuple(Reading.whole(n, h) for n, h in enumerate(hits[:max_sources], start=1))
        best: dict[int, float] = {}
        for w in order:
            best.setdefault(w.hit, w.score)
        # Passages with nothing on the question are not shown; the best one always is (the gate let it in).
        relevant = sorted((i for i, v in best.items() if v >= s.min_source_relevance), key=lambda i: -best[i])
        shown = set(relevant[:max_sources]) or {order[0].hit}
        chosen: dict[int, list[Weighed]] = {}
        for w in [*must, *order]:  # each shown passage's best sentence first, so its number means something
            if (w.hit in shown or w in must) and w.hit not in chosen:
                chosen[w.hit] = [w]
        taken = len(chosen)
        for w in [*must, *order]:
            if taken >= max(s.read_sentences, len(chosen)) and w not in must:
                break
            picked = chosen.get(w.hit)
            if picked is not None and w not in picked and (len(picked) < s.read_per_source or w in must):
                picked.append(w)
                taken += 1
        readings = []
        for n, i in enumerate(sorted(chosen), start=1):
            ws = sorted(chosen[i], key=lambda w: w.start)  # article order
            readings.append(Reading.of_spans(n, hits[i], tuple((w.start, w.end) for w in ws),
                                             tuple(w.score for w in ws)))
        return tuple(readings)
