"""question -> Hits: dense (Chroma) + keyword (BM25), fused; outlets and dates the question names are boosted.

Fusion (hybrid mode, measured on the MultiHop-RAG and RealTime QA dev splits, docs/BENCHMARKS.md):
- Both scores are min-max normalised over the candidates and mixed with weights 0.7 dense / 0.3 BM25. Rank
  fusion (RRF) treats BM25's first place as as good as the dense one even when the question's words are
  mostly quiz phrasing ("this week", "which team"): on RealTime QA it lost 5 points of hits@4 to dense alone.
- A question that names an outlet in the index ("as reported by TechCrunch and The Verge") or a date
  ("published on November 1, 2023") is about those articles: each named outlet's and date's best dense
  matches join the candidates, and every chunk of a named outlet/date gets +0.2 (on the 0..1 scale). Multi-hop
  questions name 2-4 outlets; this took MultiHop-RAG evidence recall@10 from 0.90 to 0.95.
- News questions are mostly about now ("which team…this week?"): chunks of articles published in the
  `recency_days` up to the question's date (today, or `as_of`) get +0.1, unless the question names a date or
  a year of its own. RealTime QA questions are asked on a date; docs/BENCHMARKS.md has the figures with and
  without it, and why its gain there is an upper bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Sequence

from index.catalogue import article_dates_and_outlets, chunks_by_ids
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


_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def names_a_time(question: str) -> bool:
    """Whether the question sets its own time ("on November 1, 2023", "in 2020"): no recency prior then."""
    return bool(dates_named(question) or _YEAR.search(question))


def recent_window(as_of: date, days: int) -> tuple[str, str]:
    """ISO days [first, last] of the `days` days up to and including as_of."""
    return (as_of - timedelta(days=max(days, 1) - 1)).isoformat(), as_of.isoformat()


@lru_cache(maxsize=4096)
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

    def retrieve(self, question: str, k: int | None = None, as_of: date | None = None) -> Retrieval:
        """The k best chunks; `as_of` is the question's "today" (default: the real today) for the recency prior."""
        s = self.settings
        k = k or s.k
        recent = (recent_window(as_of or date.today(), s.recency_days)
                  if s.mode == "hybrid" and s.fusion == "score" and s.recency_boost > 0 and s.recency_days > 0
                  and not names_a_time(question) else None)
        complete = self.index.complete_ids()
        boosting = s.mode == "hybrid" and s.fusion == "score" and s.metadata_boost > 0
        named_outlets = outlets_named(question, self.outlets()) if boosting else []
        named_dates = dates_named(question) if boosting else set()
        # One dense query and one BM25 search per question: deeper lists when the question names an outlet or
        # a date (their best matches must be candidates); the first fetch_k of each are the ordinary lists.
        depth = s.fetch_k * 5 if named_outlets or named_dates else s.fetch_k
        vector = self.index.embedder.embed_query(question)
        stored = self.index.store.query(vector, depth, with_metadata=False)
        similarity: dict[str, float] = {}
        dense_ids: list[str] = []
        for h in stored[: s.fetch_k]:
            if h.article_id in complete:  # chunks of pending/removed articles are never shown
                similarity[h.chunk_id] = h.similarity
                dense_ids.append(h.chunk_id)
        best = max(similarity.values(), default=0.0)  # the gate needs the dense similarity even in bm25 mode
        deep_keyword: list[tuple[str, float]] = []
        if s.mode != "dense":
            deep_keyword = self.index.keyword.search(question, depth)
        keyword = deep_keyword[: s.fetch_k]
        if s.mode == "dense":
            ranked = [(cid, similarity[cid]) for cid in dense_ids]
            stage = "dense"
        elif s.mode == "bm25":
            ranked = keyword
            stage = "keyword"
        elif s.fusion == "rrf":
            ranked = fuse([(dense_ids, s.dense_weight), ([cid for cid, _ in keyword], s.keyword_weight)], s.rrf_k)
            stage = "fused"
        elif not named_outlets and not named_dates:
            dense = dict(similarity)
            dense.update(self._similarities(vector, [cid for cid, _ in keyword if cid not in dense]))
            similarity.update(dense)
            boost = self._recency_boost(set(dense) | {cid for cid, _ in keyword}, recent) if recent else {}
            ranked = fuse_scores(dense, dict(keyword), s.dense_weight, s.keyword_weight, boost)
            stage = "fused"
        else:
            deep = {h.chunk_id: h.similarity for h in stored if h.article_id in complete}
            ranked = self._fuse_with_metadata(vector, similarity, keyword, deep, deep_keyword, complete,
                                              named_outlets, named_dates, recent)
            stage = "fused"
        top = [cid for cid, _ in ranked[: max(k, s.fetch_k)]]
        chunks = chunks_by_ids(self.index.catalogue, top)
        hits = [Hit(chunks[cid][0], chunks[cid][1], score, stage, similarity.get(cid))
                for cid, score in ranked[: max(k, s.fetch_k)] if cid in chunks]
        return Retrieval(tuple(hits[:k]), best)

    def _fuse_with_metadata(self, vector: Sequence[float], similarity: dict[str, float],
                            keyword: list[tuple[str, float]], deep: dict[str, float],
                            deep_keyword: list[tuple[str, float]], complete: set[str],
                            named_outlets: list[str], named_dates: set[str],
                            recent: tuple[str, str] | None) -> list[tuple[str, float]]:
        s = self.settings
        # Outlet and day of every candidate's article, complete articles only (the others drop out here).
        meta = article_dates_and_outlets(self.index.catalogue,
                                         [cid.rsplit(":", 1)[0] for cid in [*deep, *(c for c, _ in deep_keyword)]])
        deep = {cid: sim for cid, sim in deep.items() if cid.rsplit(":", 1)[0] in meta}

        def named(cid: str) -> list[str]:
            outlet, day = meta[cid.rsplit(":", 1)[0]]
            return [x for x in (outlet, day) if x and (x in named_outlets or x in named_dates)]

        candidates = set(similarity) | {cid for cid, _ in keyword}
        for order in (sorted(deep, key=lambda c: -deep[c]), [c for c, _ in deep_keyword]):
            taken: dict[str, int] = {}
            for cid in order:
                if cid.rsplit(":", 1)[0] not in meta:
                    continue
                for key in named(cid):
                    if taken.get(key, 0) < s.metadata_fetch:
                        taken[key] = taken.get(key, 0) + 1
                        candidates.add(cid)
        # Dense scores of the BM25-only candidates: fetched for these few, not for all 200 BM25 matches (the
        # dense list is the global top 200, so a chunk missing from it cannot outrank its members).
        deep.update(self._similarities(vector, [cid for cid in candidates if cid not in deep and cid not in similarity
                                                and cid.rsplit(":", 1)[0] in meta]))
        candidates &= set(deep) | set(similarity)
        dense = {cid: deep[cid] if cid in deep else similarity[cid] for cid in candidates}
        similarity.update(dense)
        keyword_scores = {cid: sc for cid, sc in deep_keyword if cid in candidates}
        boost = {cid: s.metadata_boost * m for cid in candidates if cid in deep and (m := len(named(cid)))}
        if recent:
            for cid in candidates:
                if cid in deep and recent[0] <= meta[cid.rsplit(":", 1)[0]][1] <= recent[1]:
                    boost[cid] = boost.get(cid, 0.0) + s.recency_boost
        return fuse_scores(dense, keyword_scores, s.dense_weight, s.keyword_weight, boost)

    def _recency_boost(self, candidates: set[str], recent: tuple[str, str]) -> dict[str, float]:
        """+recency_boost for candidates whose article was published within the window (ISO days, inclusive)."""
        meta = article_dates_and_outlets(self.index.catalogue, [cid.rsplit(":", 1)[0] for cid in candidates])
        return {cid: self.settings.recency_boost for cid in candidates
                if (m := meta.get(cid.rsplit(":", 1)[0])) and m[1] and recent[0] <= m[1] <= recent[1]}
