"""question -> Hits: dense (Chroma) + keyword (BM25), fused; outlets and dates the question names are boosted.

Fusion (hybrid mode, measured on the MultiHop-RAG and RealTime QA dev splits, docs/BENCHMARKS.md):
- Both scores are min-max normalised over the candidates and mixed with weights 0.7 dense / 0.3 BM25. Rank
  fusion (RRF) treats BM25's first place as as good as the dense one even when the question's words are
  mostly quiz phrasing ("this week", "which team"): on RealTime QA it lost 5 points of hits@4 to dense alone.
- A question that names an outlet in the index ("as reported by TechCrunch and The Verge") or a date
  ("published on November 1, 2023") is about those articles: each named outlet's and date's best dense
  matches join the candidates, and every chunk of a named outlet/date gets +0.2 (on the 0..1 scale). Multi-hop
  questions name 2-4 outlets; this took MultiHop-RAG evidence recall@10 from 0.90 to 0.95.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

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


def fuse_scores(dense: dict[str, float], keyword: dict[str, float], dense_weight: float, keyword_weight: float,
                boost: dict[str, float] | None = None) -> list[tuple[str, float]]:
    """Convex mix of min-max normalised dense and keyword scores (+ boosts); a missing score counts as the lowest."""
    ids = set(dense) | set(keyword) | set(boost or {})
    total = (dense_weight + keyword_weight) or 1.0
    nd, nk = _minmax(dense, ids), _minmax(keyword, ids)
    scores = {cid: (dense_weight * nd[cid] + keyword_weight * nk[cid]) / total + (boost or {}).get(cid, 0.0)
              for cid in ids}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _minmax(scores: dict[str, float], ids: set[str]) -> dict[str, float]:
    if not scores:
        return {cid: 0.0 for cid in ids}
    lo, hi = min(scores.values()), max(scores.values())
    return {cid: ((scores[cid] - lo) / (hi - lo) if hi > lo else 1.0) if cid in scores else 0.0 for cid in ids}


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b", re.I)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTHS, start=1) if m.startswith(name.lower()[:3]))


def dates_named(question: str) -> set[str]:
    """ISO dates written in the question: 'November 1, 2023', '1 Nov 2023', '2023-11-01'."""
    out = {f"{int(y):04d}-{_month(m):02d}-{int(d):02d}" for m, d, y in _DATE_MDY.findall(question)}
    out |= {f"{int(y):04d}-{_month(m):02d}-{int(d):02d}" for d, m, y in _DATE_DMY.findall(question)}
    out |= {f"{y}-{m}-{d}" for y, m, d in _DATE_ISO.findall(question)}
    return {d for d in out if 1 <= int(d[5:7]) <= 12 and 1 <= int(d[8:10]) <= 31}


def _name_pattern(outlet: str) -> re.Pattern[str] | None:
    # Case-sensitive whole words, any punctuation/spacing between them: "The Age" must not match "the age of".
    words = re.findall(r"\w+", outlet)
    if not words or len("".join(words)) < 3:
        return None
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")


def outlets_named(question: str, outlets: Sequence[str]) -> list[str]:
    """The indexed outlets whose name the question spells out (case-sensitive, whole words)."""
    named = []
    for outlet in outlets:
        pattern = _name_pattern(outlet)
        if pattern is not None and pattern.search(question):
            named.append(outlet)
    return named


class HybridRetriever:
    def __init__(self, index: NewsIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings
        self._outlets: tuple[int, list[str]] = (-1, [])

    def outlets(self) -> list[str]:
        """Distinct outlets of complete articles, reloaded when the catalogue changes."""
        gen = self.index.catalogue.generation()
        if gen != self._outlets[0]:
            with self.index.catalogue.reading() as db:
                rows = db.execute("SELECT DISTINCT outlet FROM articles WHERE status = 'complete' "
                                  "AND outlet IS NOT NULL AND outlet != ''").fetchall()
            self._outlets = (gen, sorted(r[0] for r in rows))
        return self._outlets[1]

    def _dense_where(self, vector: Sequence[float], where: dict[str, Any], n: int) -> dict[str, float]:
        """Best dense matches among chunks whose metadata matches `where` (chunk_id -> cosine)."""
        # SEE: ChunkStore has no `where` parameter yet; `_call` gives the collection under the store's read lock.
        store = self.index.store
        try:
            got = store._call(lambda col: col.query(query_embeddings=[list(vector)], n_results=n, where=where,
                                                    include=["distances"]))
        except Exception:  # noqa: BLE001 - fewer matches than n, or an old server: the boost is optional
            return {}
        return {cid: 1.0 - float(d) for cid, d in zip(got["ids"][0], got["distances"][0])}

    def _similarities(self, vector: Sequence[float], chunk_ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of chunks the dense search did not return (BM25-only candidates)."""
        if not chunk_ids:
            return {}
        import numpy as np

        # ChunkStore.embeddings leaves out ids that another process added or removed meanwhile.
        stored = self.index.store.embeddings(chunk_ids)
        if not stored:
            return {}
        sims = np.asarray(list(stored.values()), dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        return {cid: float(s) for cid, s in zip(stored, sims)}

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        s = self.settings
        k = k or s.k
        complete = self.index.complete_ids()
        similarity: dict[str, float] = {}
        dense_ids: list[str] = []
        # The gate needs the dense similarity even in bm25 mode.
        vector = self.index.embedder.embed_query(question)
        for h in self.index.store.query(vector, s.fetch_k):
            if h.article_id in complete:  # chunks of pending/removed articles are never shown
                similarity[h.chunk_id] = h.similarity
                dense_ids.append(h.chunk_id)
        best = max(similarity.values(), default=0.0)
        keyword: list[tuple[str, float]] = []
        if s.mode != "dense":
            keyword = self.index.keyword.search(question, s.fetch_k)
        metas: dict[str, Any] = {}
        if s.mode == "dense":
            ranked = [(cid, similarity[cid]) for cid in dense_ids]
            stage = "dense"
        elif s.mode == "bm25":
            ranked = keyword
            stage = "keyword"
        elif s.fusion == "rrf":
            ranked = fuse([(dense_ids, s.dense_weight), ([cid for cid, _ in keyword], s.keyword_weight)], s.rrf_k)
            stage = "fused"
        else:
            ranked, metas = self._fuse_with_metadata(question, vector, similarity, keyword)
            stage = "fused"
        top = [cid for cid, _ in ranked[: max(k, s.fetch_k)]]
        chunks = {**metas, **chunks_by_ids(self.index.catalogue, [c for c in top if c not in metas])}
        hits = [Hit(chunks[cid][0], chunks[cid][1], score, stage, similarity.get(cid))
                for cid, score in ranked[: max(k, s.fetch_k)] if cid in chunks]
        return Retrieval(tuple(hits[:k]), best)

    def _fuse_with_metadata(self, question: str, vector: Sequence[float], similarity: dict[str, float],
                            keyword: list[tuple[str, float]]) -> tuple[list[tuple[str, float]], dict[str, Any]]:
        s = self.settings
        keyword_scores = dict(keyword)
        named_outlets = outlets_named(question, self.outlets()) if s.metadata_boost > 0 else []
        named_dates = sorted(dates_named(question)) if s.metadata_boost > 0 else []
        extra: dict[str, float] = {}
        wheres = [{"outlet": o} for o in named_outlets] + [{"published": d} for d in named_dates]
        for where in wheres:
            extra.update(self._dense_where(vector, where, s.metadata_fetch))
        if wheres:
            # Deeper BM25, so the named outlet's keyword matches are candidates too, with their true scores.
            keyword_scores = dict(self.index.keyword.search(question, s.fetch_k * 5))
        ids = set(similarity) | set(extra) | set(keyword_scores)
        metas = chunks_by_ids(self.index.catalogue, sorted(ids)) if wheres else {}
        if wheres:
            ids = {cid for cid in ids if cid in metas}  # drops pending/removed articles too
            deep = dict(keyword)
            boost_of = {}
            for cid in ids:
                meta = metas[cid][1]
                hit = (meta.outlet in named_outlets) + ((meta.published or "")[:10] in named_dates)
                if hit:
                    boost_of[cid] = s.metadata_boost * hit
            # Keyword candidates: BM25's own top fetch_k plus the deeper ones from a named outlet/date.
            keyword_scores = {cid: sc for cid, sc in keyword_scores.items()
                              if cid in ids and (cid in deep or cid in boost_of)}
            ids = set(similarity) | {c for c in extra if c in ids} | set(keyword_scores)
        else:
            boost_of = {}
        dense_scores = {**{c: v for c, v in extra.items() if c in ids}, **similarity}
        missing = [cid for cid in ids if cid not in dense_scores]
        dense_scores.update(self._similarities(vector, missing))
        similarity.update({c: v for c, v in dense_scores.items() if c in ids})
        ranked = fuse_scores({c: v for c, v in dense_scores.items() if c in ids}, keyword_scores,
                             s.dense_weight, s.keyword_weight, {c: b for c, b in boost_of.items() if c in ids})
        return ranked, metas
