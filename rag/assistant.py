"""Assistant: the public facade that the CLI, the Streamlit app, the HTTP API and the eval use."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

from index.catalogue import ArticleRecord
from index.errors import InputError
from index.feed_store import FeedRecord
from index.news_index import NewsIndex
from index.sources import Source, iter_sources, url_source
from index.types import IngestReport
from rag.answer import Draft, assemble_answer
from rag.conflicts import find_disagreement
from rag.extractive import ExtractiveLLM
from rag.followup import Standalone, standalone
from rag.gate import decide
from rag.llm import LLM, make_llm
from rag.prompts import REFUSAL_TEXT
from rag.reading import EmbeddingScorer, Reader, Scorer
from rag.rerank import CrossEncoder
from rag.retrieve import HybridRetriever, Retrieval
from rag.settings import AnswerSettings, Settings
from rag.timeframe import is_about_now
from rag.types import Answer, DatedValue, Filters, Hit, Prompt, Reading, Timings, Turn


class AnswerStream:
    """Tokens while the answer is written, then the verified Answer.

    Built by `Assistant.stream` after retrieval and the relevance gate; the backend is asked for only when
    the gate let the question through (the local model loads on first use).
    """

    def __init__(self, question: str, standalone: Standalone, retrieval: Retrieval, refused_by_gate: bool,
                 reader: Reader, judge: Scorer, llm: Callable[[], LLM], backend: str, checks: AnswerSettings,
                 max_sources: int, instructions: str = "", retrieve_ms: int = 0, newest_first: bool = True,
                 filters: Filters = Filters(), during: tuple[str, str] | None = None) -> None:
        self.question = question
        self.standalone = standalone.searched
        self.asked = standalone.asked
        self._topic = standalone.topic
        self.time_range = standalone.time
        self.filters = filters
        self.retrieval = retrieval
        self.refused_by_gate = refused_by_gate
        self.instructions = instructions.strip()  # for the LLM only: never searched, never in Answer.question
        self._reader = reader
        self._judge = judge  # the cross-encoder that checks claims
        self._llm = llm
        self._checks = checks
        self._max_sources = max_sources
        self._retrieve_ms = retrieve_ms
        self._draft = Draft(backend)
        self._readings: tuple[Reading, ...] | None = None
        self._differ: tuple[DatedValue, ...] = ()
        self._newest_first = newest_first
        self._during = during
        self._read_ms = 0
        self._done = False

    @property
    def hits(self) -> tuple[Hit, ...]:
        """The numbered sources: what the model read once it has, else what retrieval found."""
        if self._readings is not None:
            return tuple(r.hit for r in self._readings)
        return self.retrieval.hits

    def tokens(self) -> Iterator[str]:
        """The raw answer text as it is written (unverified; `answer()` gives the checked version)."""
        if self._done:
            yield from self._draft.parts
            return
        try:
            if not self.refused_by_gate:
                t0 = time.perf_counter()
                hits = self.retrieval.hits
                # The cross-encoder knows nothing of dates: it weighs the question without its time words
                # ("in 2020" lowered every sentence that does not say 2020), and the time is the bonus.
                weighed = self._reader.weigh(self._topic or self.standalone, hits, self._during)
                t = self.time_range
                # Two days' grace: publication times, time zones, and "after 4 October" reported on the 4th.
                not_before = (t.since - timedelta(days=2)).isoformat() if t and t.since and t.strict else ""
                self._differ = find_disagreement(self.standalone, weighed, hits, self._newest_first,
                                                 not_before=not_before)
                must = [w for w in weighed for d in self._differ
                        if hits[w.hit].chunk.chunk_id == d.hit.chunk.chunk_id and w.start <= d.start < w.end]
                self._readings = self._reader.read(self.standalone, hits, self._max_sources, weighed, must)
                self._read_ms = round((time.perf_counter() - t0) * 1000)
                prompt = Prompt(self.asked, self._readings, self.instructions, self.standalone)
                yield from self._draft.write(self._llm(), prompt, ExtractiveLLM(self._judge.score))
        finally:
            self._done = True

    def answer(self) -> Answer:
        for _ in self.tokens():  # finish writing if the caller did not stream
            pass
        t0 = time.perf_counter()
        refusal = (f"The indexed articles do not say: {describe(self.filters)}." if self.retrieval.nothing_in_scope
                   else REFUSAL_TEXT)
        answer = assemble_answer(self.question, self.standalone, self.hits, self._draft, None,
                                 self._judge.score, self._checks.claim_relevance, self._differ, refusal,
                                 self._checks.answer_relevance,
                                 nothing_written="filters" if self.retrieval.nothing_in_scope else "gate")
        check_ms = round((time.perf_counter() - t0) * 1000)
        # "rerank" is the cross-encoder's share: choosing the sentences read, then checking the claims.
        timings = Timings(retrieve=self._retrieve_ms, rerank=self._read_ms + check_ms,
                          generate=round(self._draft.seconds * 1000))
        return dataclasses.replace(answer, timings_ms=timings, time_range=self.time_range, filters=self.filters)


def describe(filters: Filters) -> str:
    """'no article published 2024-01-01 to 2024-03-31 by Reuters is indexed'."""
    when = ""
    if filters.since and filters.until:
        when = f" published {filters.since} to {filters.until}"
    elif filters.since:
        when = f" published since {filters.since}"
    elif filters.until:
        when = f" published until {filters.until}"
    by = f" by {', '.join(filters.outlets)}" if filters.outlets else ""
    among = f" among the {len(filters.article_ids)} article(s) chosen" if filters.article_ids else ""
    return f"the filters leave no articles (none{when}{by}{among} is indexed)"


class _LazyCrossEncoder:
    """The packaged cross-encoder, loaded when the first answer needs it (not to add articles or list them)."""

    def __init__(self) -> None:
        self._model: CrossEncoder | None = None
        self._lock = threading.Lock()

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        with self._lock:
            if self._model is None:
                self._model = CrossEncoder()
        return self._model.score(query, texts)


class Assistant:
    """Ask questions, add and remove articles. One per process (models are loaded once).

    Args:
        settings: everything configurable.
        index: the articles.
        llm: who writes answers (default: the configured backend, loaded on first use).
        retriever: who finds passages (default: hybrid retrieval over `index` with `settings.retrieval`).
    """

    def __init__(self, settings: Settings, index: NewsIndex, llm: LLM | None = None,
                 retriever: HybridRetriever | None = None) -> None:
        self.settings = settings
        self.index = index
        self.retriever = retriever or HybridRetriever(index, settings.retrieval)
        self.cross_encoder = _LazyCrossEncoder()
        self.reader = Reader(EmbeddingScorer(index.embedder), settings.answer)
        self._llm = llm
        self._llm_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        return cls(settings, NewsIndex(settings.index))

    @property
    def llm(self) -> LLM:
        """Loaded on first use: the local model costs seconds and ~2 GB, not needed to add articles."""
        with self._llm_lock:
            if self._llm is None:
                self._llm = make_llm(self.settings.llm, self.cross_encoder.score)
            return self._llm

    # --- questions -------------------------------------------------------------------------------
    def stream(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
               as_of: date | None = None, instructions: str = "", filters: Filters = Filters()) -> AnswerStream:
        """Retrieve for the question, then stream its answer.

        Args:
            question: as the reader asked it.
            history: earlier turns of the conversation (follow-ups, rag/followup.py).
            k: passages to answer from (default `settings.retrieval.k`).
            as_of: the day the question is asked as of (default today): "last week" and the recency prior.
            instructions: extra words for the LLM (an answer format); retrieval sees only the question.
            filters: hard limits on publication day, outlet and articles (check them with `check_filters` first).
        """
        today = as_of or date.today()
        st = standalone(question, history, today)
        t0 = time.perf_counter()
        k = k or self.settings.retrieval.k
        # More passages than the model is shown: the cross-encoder picks the k that bear on the question.
        retrieval = self.retriever.retrieve(st.searched, max(k, self.settings.answer.read_from), as_of, filters,
                                            st.time)
        retrieve_ms = round((time.perf_counter() - t0) * 1000)
        s = self.settings.retrieval
        gate = decide(st.searched, retrieval.hits, retrieval.best_similarity, s.min_relevance, s.min_coverage)
        refused = retrieval.nothing_in_scope or not gate.admitted
        backend = self._llm.name if self._llm is not None else self.settings.llm.backend
        # A question about a past time reads its timeline oldest first; about now (or no time), newest first.
        past = st.time is not None and st.time.until is not None and st.time.until < today - timedelta(days=31)
        return AnswerStream(question.strip(), st, retrieval, refused, self.reader, self.cross_encoder,
                            lambda: self.llm, backend,
                            self.settings.answer, k, instructions, retrieve_ms,
                            newest_first=not past or is_about_now(question), filters=filters,
                            during=self.retriever.focus(st.searched, as_of, filters, st.time).during)

    def ask(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
            as_of: date | None = None, instructions: str = "", filters: Filters = Filters()) -> Answer:
        """`stream(…).answer()`: the verified Answer at once."""
        return self.stream(question, history, k, as_of, instructions, filters).answer()

    def retrieve(self, question: str, k: int | None = None, as_of: date | None = None,
                 filters: Filters = Filters()) -> Retrieval:
        """The passages `stream` would answer from (the time the question names applied), best first."""
        st = standalone(question, (), as_of or date.today())
        return self.retriever.retrieve(st.searched, k, as_of, filters, st.time)

    def check_filters(self, filters: Filters) -> Filters:
        """The filters, if they make sense: outlets are matched to the index's spelling.

        Raises:
            InputError: since is after until, or an outlet the index does not know (the message lists them).
        """
        if filters.since and filters.until and filters.since > filters.until:
            raise InputError(f"--since {filters.since} is after --until {filters.until}.")
        known = {o.lower(): o for o in self.index.outlets()}
        unknown = [o for o in filters.outlets if o.lower() not in known]
        if unknown:
            raise InputError(f"Unknown outlet {', '.join(map(repr, unknown))}; the index has: "
                             f"{', '.join(sorted(known.values())) or 'no outlets'}.")
        return dataclasses.replace(filters, outlets=tuple(known[o.lower()] for o in filters.outlets))

    # --- articles --------------------------------------------------------------------------------
    def add_paths(self, paths: Sequence[str | Path], progress: Callable[[int, int | None, str], None] | None = None,
                  on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Files, folders, URLs and bulk exports (JSON Lines / CSV rows), streamed."""
        sources = iter_sources(paths, self.settings.fetch, max_row_bytes=self.settings.index.max_file_bytes)
        return self.index.ingest(sources, progress, on_wait)

    def add_url(self, url: str, meta: dict[str, object] | None = None) -> IngestReport:
        """Fetch a web page (or PDF) under `settings.fetch`'s rules and index it; a refused or failed fetch is a
        rejected outcome whose reason names the rule."""
        return self.index.ingest([url_source(url, self.settings.fetch, meta)])

    def add_upload(self, name: str, data: bytes, meta: dict[str, object] | None = None) -> IngestReport:
        return self.index.ingest([Source(label=name, data=data, meta=meta)])

    def add_text(self, text: str, meta: dict[str, object] | None = None, label: str = "pasted text") -> IngestReport:
        return self.index.ingest([Source(label=label, text=text, meta=meta)])

    def feeds(self) -> list[FeedRecord]:
        """The feeds followed (`newsdesk feeds add`) with their last run."""
        return self.index.feeds.feeds()

    def remove_article(self, article_id: str) -> ArticleRecord:
        return self.index.remove(article_id)

    def articles(self) -> list[ArticleRecord]:
        return self.index.articles()

    def article(self, article_id: str) -> ArticleRecord:
        return self.index.get(article_id)
