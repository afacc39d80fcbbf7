"""question -> Hits: dense (Chroma) + keyword (BM25), fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from index.catalogue import chunks_by_ids
from index.news_index import NewsIndex
from rag.settings import RetrievalSettings
from rag.types import Hit


@dataclass(frozen=True, slots=True)
class Retrieval:
    hits: tuple[Hit, ...]
    best_similarity: float  # best dense cosine among complete chunks; the relevance gate reads it


def fuse(rankings: list[tuple[list[str], float]], rrf_k: int) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum_w w / (rrf_k + rank)."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight / (rrf_k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


class HybridRetriever:
    def __init__(self, index: NewsIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        s = self.settings
        k = k or s.k
        complete = self.index.complete_ids()
        similarity: dict[str, float] = {}
        dense_ids: list[str] = []
        best = 0.0
        # The gate needs the dense similarity even in bm25 mode.
        vector = self.index.embedder.embed_query(question)
        for h in self.index.store.query(vector, s.fetch_k):
            if h.article_id in complete:  # chunks of pending/removed articles are never shown
                similarity[h.chunk_id] = h.similarity
                dense_ids.append(h.chunk_id)
        best = max(similarity.values(), default=0.0)
        keyword_ids: list[str] = []
        if s.mode != "dense":
            keyword_ids = [cid for cid, _ in self.index.keyword.search(question, s.fetch_k)]
        if s.mode == "dense":
            ranked = [(cid, similarity[cid]) for cid in dense_ids]
            stage = "dense"
        elif s.mode == "bm25":
            ranked = [(cid, 1.0 / (s.rrf_k + r)) for r, cid in enumerate(keyword_ids, start=1)]
            stage = "keyword"
        else:
            ranked = fuse([(dense_ids, s.dense_weight), (keyword_ids, s.keyword_weight)], s.rrf_k)
            stage = "fused"
        chunks = chunks_by_ids(self.index.catalogue, [cid for cid, _ in ranked[: max(k, s.fetch_k)]])
        hits = [Hit(chunks[cid][0], chunks[cid][1], score, stage, similarity.get(cid))
                for cid, score in ranked if cid in chunks]
        return Retrieval(tuple(hits[:k]), best)
