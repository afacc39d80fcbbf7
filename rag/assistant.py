"""Assistant: the public facade that the CLI, the Streamlit app, the HTTP API and the eval use."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from index.catalogue import ArticleRecord
from index.feed_store import FeedRecord
from index.news_index import NewsIndex
from index.sources import Source, iter_sources, url_source
from index.types import IngestReport
from rag.answer import Draft, assemble_answer
from rag.extractive import ExtractiveLLM
from rag.llm import LLM, make_llm
from rag.reading import Reader
from rag.retrieve import HybridRetriever, Retrieval
from rag.settings import Settings
from rag.types import Answer, Hit, Prompt, Timings, Turn

_FOLLOW_UP = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|then|the same)\b",
                        re.I)
_CONTINUES = re.compile(r"\s*(and|but|also|what about|how about)\b", re.I)


def standalone_question(question: str, history: Sequence[Turn]) -> str:
    """A follow-up ("what did he say then?") is searched together with the question before it.

    Deterministic on purpose: asking a 1.5B model to rewrite questions costs a second and sometimes
    changes their meaning.
    """
    if not history:
        return question
    if _FOLLOW_UP.search(question) or _CONTINUES.match(question) or len(question.split()) <= 4:
        return f"{history[-1].answer.standalone_question} {question}"
    return question


class AnswerStream:
    """Tokens while the answer is written, then the verified Answer.

    Built by `Assistant.stream` after retrieval and the relevance gate; the backend is asked for only when
    the gate let the question through (the local model loads on first use).
    """

    def __init__(self, question: str, standalone: str, retrieval: Retrieval, refused_by_gate: bool,
                 reader: Reader, llm: Callable[[], LLM], backend: str, instructions: str = "",
                 retrieve_ms: int = 0) -> None:
        self.question = question
        self.standalone = standalone
        self.retrieval = retrieval
        self.refused_by_gate = refused_by_gate
        self.instructions = instructions.strip()  # for the LLM only: never searched, never in Answer.question
        self._reader = reader
        self._llm = llm
        self._retrieve_ms = retrieve_ms
        self._draft = Draft(backend)
        self._read_ms = 0
        self._done = False

    @property
    def hits(self) -> tuple[Hit, ...]:
        return self.retrieval.hits

    def tokens(self) -> Iterator[str]:
        """The raw answer text as it is written (unverified; `answer()` gives the checked version)."""
        if self._done:
            yield from self._draft.parts
            return
        try:
            if not self.refused_by_gate:
                t0 = time.perf_counter()
                readings = self._reader.read(self.standalone, self.hits)
                self._read_ms = round((time.perf_counter() - t0) * 1000)
                prompt = Prompt(self.question, readings, self.instructions, self.standalone)
                yield from self._draft.write(self._llm(), prompt, ExtractiveLLM())
        finally:
            self._done = True

    def answer(self) -> Answer:
        for _ in self.tokens():  # finish writing if the caller did not stream
            pass
        timings = Timings(retrieve=self._retrieve_ms, rerank=self._read_ms, generate=round(self._draft.seconds * 1000))
        return assemble_answer(self.question, self.standalone, self.hits, self._draft, timings)


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
        self.reader = Reader(index.embedder, settings.retrieval.compress_sentences)
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
                self._llm = make_llm(self.settings.llm)
            return self._llm

    # --- questions -------------------------------------------------------------------------------
    def stream(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
               as_of: date | None = None, instructions: str = "") -> AnswerStream:
        """Retrieve for the question, then stream its answer.

        Args:
            question: as the reader asked it.
            history: earlier turns of the conversation (a follow-up is searched with its context).
            k: passages to answer from (default `settings.retrieval.k`).
            as_of: the day the question is asked as of (default today), for the recency prior.
            instructions: extra words for the LLM (an answer format); retrieval sees only the question.
        """
        question = question.strip()
        standalone = standalone_question(question, history)
        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(standalone, k, as_of)
        retrieve_ms = round((time.perf_counter() - t0) * 1000)
        refused = not retrieval.hits or retrieval.best_similarity < self.settings.retrieval.min_relevance
        backend = self._llm.name if self._llm is not None else self.settings.llm.backend
        return AnswerStream(question, standalone, retrieval, refused, self.reader, lambda: self.llm, backend,
                            instructions, retrieve_ms)

    def ask(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
            as_of: date | None = None, instructions: str = "") -> Answer:
        """`stream(…).answer()`: the verified Answer at once."""
        return self.stream(question, history, k, as_of, instructions).answer()

    def retrieve(self, question: str, k: int | None = None, as_of: date | None = None) -> Retrieval:
        return self.retriever.retrieve(question, k, as_of)

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
