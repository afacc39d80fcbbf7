"""question -> Hits: dense (Chroma) + keyword (BM25) candidates, scored, boosted and fused.

The steps, each a function over plain data: `search` (the only I/O besides reading the candidates'
outlets, days and missing vectors) -> `choose_candidates` -> `boosts` -> `fuse` -> hits.

Fusion (hybrid mode, measured on the MultiHop-RAG and RealTime QA dev splits, docs/BENCHMARKS.md):
- Both scores are min-max normalised over the candidates and mixed with weights 0.7 dense / 0.3 BM25. Rank
  fusion (RRF) treats BM25's first place as as good as the dense one even when the question's words are
  mostly quiz phrasing ("this week", "which team"): on RealTime QA it lost 5 points of hits@4 to dense alone.
- A question that names an outlet in the index ("as reported by TechCrunch and The Verge") or a date
  ("published on November 1, 2023") is about those articles: each named outlet's and date's best dense and
  BM25 matches join the candidates, and every chunk of a named outlet/date gets +0.2 (on the 0..1 scale).
  Multi-hop questions name 2-4 outlets; this took MultiHop-RAG evidence recall@10 from 0.90 to 0.95.
- News questions are mostly about now ("which team…this week?"): chunks of articles published in the
  `recency_days` up to the question's date (today, or `as_of`) get +0.1, unless the question names a date or
  a year of its own. RealTime QA questions are asked on a date; docs/BENCHMARKS.md has the figures with and
  without it, and why its gain there is an upper bound.
- A time the question names ("in 2020", "since March 2024", "last week"; rag/timeframe.py) is when things
  happened, and an article published later can still speak of it (a 2023 article can say who led a company in
  2020). So the time ranks, it does not filter: articles published during it, or within `time_grace_days` after
  it, get +`time_boost`; later and earlier ones compete on their content alone. (Earlier articles cannot report
  it: they never supply the dated figures of a "Sources differ" timeline, rag/conflicts.py.) Hard floors were
  tried and cost MultiHop-RAG 1.8 points of evidence recall: its questions qualify one report with a time and
  compare it with another ("the report after October 2, 2023 and the Fortune report"). A time after today
  ("by 2035") is a plan, not a time of events, and changes nothing.
- The reader's filters (`ask --since/--until/--outlet`, and an alert's new articles) are hard: no chunk outside
  them is a candidate.
- Wire copies (one agency story run by several outlets, grouped at ingest: index/copies.py) count as one story:
  the best-ranked copy's chunks stand for the group, and each hit lists the other copies (`Hit.also_in`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from index.news_index import NewsIndex
from index.types import article_id_of
from rag.mentions import outlets_named, recent_window
from rag.question import Question, read_query
from rag.settings import RetrievalSettings
from rag.types import Filters, Hit, TimeRange


@dataclass(frozen=True, slots=True)
class Candidate:
    """A chunk that may be shown, with what each side scored it (None: that side did not see it)."""

    chunk_id: str
    dense: float | None  # cosine similarity to the question
    keyword: float | None  # BM25 score
    outlet: str = ""
    day: str = ""  # ISO day the article was published, '' if unknown


@dataclass(frozen=True, slots=True)
class Focus:
    """What the question asks retrieval to favour."""

    outlets: tuple[str, ...] = ()  # indexed outlets it names
    days: frozenset[str] = frozenset()  # ISO days it names
    recent: tuple[str, str] | None = None  # ISO days [first, last] that count as recent
    during: tuple[str, str] | None = None  # ISO days [first, last] of the time it names (with the grace days)
    filters: Filters = Filters()

    @property
    def named(self) -> bool:
        return bool(self.outlets or self.days)

    @property
    def narrowed(self) -> bool:
        """Whether some articles are out of scope (so the lists are searched deeper)."""
        return bool(self.filters)

    def admits(self, article_id: str, outlet: str, day: str) -> bool:
        return self.filters.admits(article_id, outlet, day)

    def matches(self, c: Candidate) -> list[str]:
        """The named outlet and/or day this candidate's article has."""
        return [x for x in (c.outlet, c.day) if x and (x in self.outlets or x in self.days)]


@dataclass(frozen=True, slots=True)
class Retrieval:
    hits: tuple[Hit, ...]
    best_similarity: float  # best dense cosine among the candidates; the relevance gate reads it
    nothing_in_scope: bool = False  # the filters left no article at all
    focus: Focus = Focus()  # what the question asked retrieval to favour (the reader weighs its time too)


def choose_candidates(dense: Sequence[tuple[str, float]], keyword: Sequence[tuple[str, float]], fetch_k: int,
                      focus: Focus, article_meta: dict[str, tuple[str, str]], per_name: int) -> list[str]:
    """Chunk ids worth scoring: the first `fetch_k` of each list, and each named outlet's/day's best `per_name`
    chunks of either (deep) list. Only chunks of articles in `article_meta` (complete ones) are taken."""
    chosen = dict.fromkeys(cid for cid, _ in [*dense[:fetch_k], *keyword[:fetch_k]])
    if focus.named:
        for ranked in (dense, keyword):
            taken: dict[str, int] = {}
            for cid, _ in ranked:
                meta = article_meta.get(article_id_of(cid))
                if meta is None:
                    continue
                for name in focus.matches(Candidate(cid, None, None, *meta)):
                    if taken.get(name, 0) < per_name:
                        taken[name] = taken.get(name, 0) + 1
                        chosen[cid] = None
    return [cid for cid in chosen if article_id_of(cid) in article_meta]


def boosts(candidates: Sequence[Candidate], focus: Focus, settings: RetrievalSettings) -> dict[str, float]:
    """Additions on the 0..1 fused scale: per named outlet/day a candidate's article has, and for recency."""
    out: dict[str, float] = {}
    for c in candidates:
        add = settings.metadata_boost * len(focus.matches(c))
        if focus.recent and c.day and focus.recent[0] <= c.day <= focus.recent[1]:
            add += settings.recency_boost
        if focus.during and c.day and focus.during[0] <= c.day <= focus.during[1]:
            add += settings.time_boost
        if add:
            out[c.chunk_id] = add
    return out


def fuse(candidates: Sequence[Candidate], boost: dict[str, float], dense_weight: float,
         keyword_weight: float) -> list[tuple[str, float]]:
    """Convex mix of min-max normalised dense and keyword scores, plus boosts; best first.

    A side that did not score a candidate counts as its lowest score (0 after normalising).
    """
    total = (dense_weight + keyword_weight) or 1.0
    nd = _minmax([c.dense for c in candidates])
    nk = _minmax([c.keyword for c in candidates])
    scores = {c.chunk_id: (dense_weight * d + keyword_weight * k) / total + boost.get(c.chunk_id, 0.0)
              for c, d, k in zip(candidates, nd, nk)}
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _minmax(values: Sequence[float | None]) -> list[float]:
    present = [v for v in values if v is not None]
    if not present:
        return [0.0] * len(values)
    lo, hi = min(present), max(present)
    return [0.0 if v is None else ((v - lo) / (hi - lo) if hi > lo else 1.0) for v in values]


# At most this many article ids go to Chroma as a `where` filter; past it the candidates are filtered instead.
_ALLOWED_LIMIT = 2000


class HybridRetriever:
    def __init__(self, index: NewsIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings

    def focus(self, question: Question, filters: Filters = Filters(), generation: int | None = None) -> Focus:
        """What to favour and what is out of scope: named outlets and days (hybrid mode with a boost), the
        time the question names, else the recent window up to its day unless it names a date or year;
        `generation` the catalogue's, when the caller read it already."""
        s = self.settings
        if s.mode != "hybrid":
            return Focus(filters=filters)
        named = s.metadata_boost > 0
        days = question.days if named else frozenset()
        time = question.time
        recent = (recent_window(question.today, s.recency_days)
                  if s.recency_boost > 0 and s.recency_days > 0 and time is None and not question.names_time
                  else None)
        during = None
        # Exact days the question names have their own boost; a window around them would lift every article of
        # those weeks alike (measured: -0.3 point of MultiHop-RAG evidence recall).
        if time and s.time_boost > 0 and not days:
            last = (time.until + timedelta(days=s.time_grace_days)).isoformat() if time.until else "9999-12-31"
            during = ((time.since.isoformat() if time.since else "0000-01-01"), last)
        outlets = tuple(outlets_named(question.searched, self.index.outlets(generation))) if named else ()
        return Focus(outlets, days, recent, during, filters=filters)

    def retrieve(self, question: Question | str, k: int | None = None, as_of: date | None = None,
                 filters: Filters = Filters(), time: TimeRange | None = None) -> Retrieval:
        """The k best chunks of complete articles in scope, and the best dense similarity (for the gate).

        Args:
            question: as read (rag/question.py), or words to search as they are (`read_query`).
            k: how many chunks (default `settings.k`).
            as_of: for words: their "today", for the recency prior (default: the real today).
            filters: hard limits on publication day, outlet and articles.
            time: for words: the time they name (contemporary articles are favoured).
        """
        q = question if isinstance(question, Question) else read_query(question, as_of, time)
        s = self.settings
        k = k or s.k
        # The catalogue's generation, read once for the whole question (each read is a round trip to Postgres).
        generation = self.index.catalogue.generation()
        focus = self.focus(q, filters, generation)
        complete = self.index.complete_ids(generation)
        # One dense query and one BM25 search per question: deeper lists when the question names an outlet or
        # a date (their best matches must be candidates) or when some articles are out of scope; the first
        # fetch_k in scope of each are the ordinary lists.
        depth = s.fetch_k * (10 if focus.narrowed else 5 if focus.named else 1)
        allowed = self._allowed(filters, complete)
        if allowed is not None and not allowed:
            return Retrieval((), 0.0, nothing_in_scope=True, focus=focus)
        vector = self.index.embedder.embed_query(q.searched)
        stored = self.index.store.query(vector, depth, with_metadata=False, article_ids=allowed)
        # Chunks of pending/removed articles are never shown.
        dense = [(h.chunk_id, h.similarity) for h in stored if h.article_id in complete]
        keyword = self.index.search_keywords(q.searched, depth, generation) if s.mode != "dense" else []
        if focus.narrowed:
            meta = self.index.catalogue.outlets_and_days([article_id_of(cid) for cid, _ in [*dense, *keyword]])
            dense, keyword = ([(cid, v) for cid, v in side
                               if (m := meta.get(a := article_id_of(cid))) and focus.admits(a, *m)]
                              for side in (dense, keyword))
        best = max((v for _, v in dense[: s.fetch_k]), default=0.0)
        similarity = dict(dense)
        if s.mode == "dense":
            ranked = dense[: s.fetch_k]
        elif s.mode == "bm25":
            ranked = keyword[: s.fetch_k]
        else:
            candidates = self._candidates(vector, dense, keyword, focus)
            similarity.update((c.chunk_id, c.dense) for c in candidates if c.dense is not None)
            # The gate is not blinded when the keyword side found what the dense side missed (a flood of
            # identical vectors can fill the dense list): a keyword candidate's similarity counts too.
            best = max([best, *(c.dense for c in candidates if c.dense is not None)])
            ranked = fuse(candidates, boosts(candidates, focus, s), s.dense_weight, s.keyword_weight)
        return Retrieval(tuple(self._hits(ranked, k, similarity)), best, focus=focus)

    def _allowed(self, filters: Filters, complete: set[str]) -> list[str] | None:
        """The complete articles the filters leave, when few enough to hand to Chroma; None when there are no
        filters or too many (the candidates are then filtered instead, by `Focus.admits`)."""
        f = filters
        dated = bool(f.since or f.until or f.outlets)
        if f.article_ids:
            # Ids of removed (or not yet complete) articles leave nothing; a date or outlet narrows further.
            ids = [a for a in dict.fromkeys(f.article_ids) if a in complete]
            if dated:
                meta = self.index.catalogue.outlets_and_days(ids)
                ids = [a for a in ids if a in meta and f.admits(a, *meta[a])]
            return ids if len(ids) <= _ALLOWED_LIMIT else None
        if dated:
            return self.index.catalogue.article_ids_published(f.since.isoformat() if f.since else None,
                                                              f.until.isoformat() if f.until else None,
                                                              f.outlets, limit=_ALLOWED_LIMIT)
        return None

    def _candidates(self, vector: Sequence[float], dense: list[tuple[str, float]], keyword: list[tuple[str, float]],
                    focus: Focus) -> list[Candidate]:
        s = self.settings
        listed = [*dense, *keyword] if focus.named else [*dense[: s.fetch_k], *keyword[: s.fetch_k]]
        meta = self.index.catalogue.outlets_and_days([article_id_of(cid) for cid, _ in listed])
        chosen = choose_candidates(dense, keyword, s.fetch_k, focus, meta, s.metadata_fetch)
        similarity = dict(dense)
        similarity.update(self._similarities(vector, [cid for cid in chosen if cid not in similarity]))
        bm25 = dict(keyword)
        # A candidate whose vector this process cannot see (another process is mid-write) is left out.
        return [Candidate(cid, similarity[cid], bm25.get(cid), *meta[article_id_of(cid)])
                for cid in chosen if cid in similarity]

    def _similarities(self, vector: Sequence[float], chunk_ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of chunks the dense search did not return (BM25-only candidates).

        Fetched for these few only: the dense list is the global top, so a chunk missing from it cannot
        outrank its members on the dense side.
        """
        if not chunk_ids:
            return {}
        import numpy as np

        # ChunkStore.embeddings leaves out ids that another process added or removed meanwhile.
        stored = self.index.store.embeddings(chunk_ids)
        if not stored:
            return {}
        sims = np.asarray(list(stored.values()), dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        return {cid: float(s) for cid, s in zip(stored, sims)}

    def _hits(self, ranked: Sequence[tuple[str, float]], k: int, similarity: dict[str, float]) -> list[Hit]:
        stage = {"dense": "dense", "bm25": "keyword"}.get(self.settings.mode, "fused")
        # Wire copies: one per story among the passages, the others listed with it (`Hit.also_in`).
        heads = self.index.catalogue.copy_heads([article_id_of(cid) for cid, _ in ranked])
        top = one_per_story(ranked, heads, max(k, self.settings.fetch_k))
        chunks = self.index.catalogue.chunks_by_ids([cid for cid, _ in top])
        top = [(cid, score) for cid, score in top if cid in chunks][:k]
        groups = self.index.catalogue.copies_of([heads.get(a, a) for a in (article_id_of(cid) for cid, _ in top)])
        hits = []
        for cid, score in top:
            aid = article_id_of(cid)
            others = tuple(c for c in groups.get(heads.get(aid, aid), ()) if c.article_id != aid)
            hits.append(Hit(chunks[cid][0], chunks[cid][1], score, stage, similarity.get(cid), others))
        return hits


def one_per_story(ranked: Sequence[tuple[str, float]], heads: dict[str, str], n: int) -> list[tuple[str, float]]:
    """The first `n` chunks of `ranked` (best first) from one copy per wire story: the copy whose chunk ranks
    best stands for its group, the other copies' chunks are left out (their text is the same), so the passages
    are different stories. `heads`: article_id -> its group's first copy (absent: an article of its own). An
    article may still give more than one passage, as before grouping."""
    out: list[tuple[str, float]] = []
    chosen: dict[str, str] = {}  # group -> the article standing for it
    for cid, score in ranked:
        aid = article_id_of(cid)
        if chosen.setdefault(heads.get(aid, aid), aid) != aid:
            continue
        out.append((cid, score))
        if len(out) >= n:
            break
    return out
