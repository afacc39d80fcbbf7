"""Assistant: the public facade that the CLI, the Streamlit app, the HTTP API and the eval use."""

from __future__ import annotations

import re
import threading
import time
from datetime import date
from pathlib import Path
from typing import Callable, Iterator, Sequence

from index.catalogue import ArticleRecord
from index.errors import BackendUnavailable
from index.news_index import NewsIndex, Source, sources_from_paths
from index.types import IngestReport
from rag.chain import build_generation_chain, build_retrieval_chain
from rag.citations import looks_like_refusal, verify_citations
from rag.compress import compress_hits
from rag.extractive import extractive_answer
from rag.llm import LLM, make_llm
from rag.prompts import REFUSAL_TEXT
from rag.rerank import CrossEncoderReranker
from rag.retrieve import HybridRetriever, Retrieval
from rag.settings import Settings
from rag.types import Answer, Hit, Turn

_FOLLOW_UP = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|then|the same)\b",
                        re.I)


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

_CONTINUES = re.compile(r"\s*(and|but|also|what about|how about)\b", re.I)


class AnswerStream:
    """Tokens while the answer is written, then the verified Answer."""

    def __init__(self, assistant: "Assistant", question: str, history: Sequence[Turn], k: int | None,
                 as_of: date | None = None, instructions: str = "") -> None:
        self._assistant = assistant
        self.question = question
        self.instructions = instructions.strip()  # for the LLM only: never searched, never in Answer.question
        self.standalone = standalone_question(question, history)
        t0 = time.perf_counter()
        retrieval = assistant.retrieval_chain.invoke(self.standalone) if k is None and as_of is None else \
            assistant.retriever.retrieve(self.standalone, k, as_of)
        t1 = time.perf_counter()
        self.retrieval = assistant.rerank(self.standalone, retrieval, k, as_of)
        self.timings = {"retrieve": round((t1 - t0) * 1000), "rerank": round((time.perf_counter() - t1) * 1000)}
        self.refused_by_gate = (not self.retrieval.hits
                                or self.retrieval.best_similarity < assistant.settings.retrieval.min_relevance)
        self._parts: list[str] = []
        self._done = False
        self.notice: str | None = None
        self.backend = assistant.settings.llm.backend

    @property
    def hits(self) -> tuple[Hit, ...]:
        return self.retrieval.hits

    def tokens(self) -> Iterator[str]:
        """The raw answer text as it is generated (unverified; `answer()` gives the checked version)."""
        if self._done:
            yield from self._parts
            return
        t0 = time.perf_counter()
        try:
            if self.refused_by_gate:
                return
            llm = self._assistant.llm if self.backend != "extractive" else None
            if llm is None:
                text = extractive_answer(self.standalone, self.hits)
                self._parts.append(text)
                yield text
                return
            n_sentences = self._assistant.settings.retrieval.compress_sentences
            shown = compress_hits(self.standalone, self.hits, self._assistant.index.embedder, n_sentences) \
                if n_sentences else self.hits
            asked = f"{self.question}\n{self.instructions}" if self.instructions else self.question
            for token in build_generation_chain(llm).stream({"question": asked, "hits": shown}):
                self._parts.append(token)
                yield token
        except BackendUnavailable as e:
            self.notice = f"{e} Showing the extractive answer (best matching sentences) instead."
            self.backend = "extractive"
            self._parts = [extractive_answer(self.standalone, self.hits)]
            yield "\n\n" + self._parts[0]
        finally:
            self._done = True
            self.timings["generate"] = round((time.perf_counter() - t0) * 1000)

    def answer(self) -> Answer:
        for _ in self.tokens():  # finish generation if the caller did not stream
            pass
        base = dict(question=self.question, standalone_question=self.standalone, backend=self.backend,
                    timings_ms=self.timings, hits=self.hits, notice=self.notice)
        text = "".join(self._parts).strip()
        if self.refused_by_gate or not text:
            return Answer(text=REFUSAL_TEXT, refused=True, **base)  # type: ignore[arg-type]
        verified = verify_citations(text, self.hits)
        supported = [c for c in verified.citations if c.supported]
        if looks_like_refusal(verified.text) and not supported:
            return Answer(text=REFUSAL_TEXT, refused=True, dropped_markers=verified.dropped_markers,
                          **base)  # type: ignore[arg-type]
        return Answer(text=verified.text, refused=False, citations=verified.citations,
                      dropped_markers=verified.dropped_markers,
                      unsupported_sentences=verified.unsupported_sentences, **base)  # type: ignore[arg-type]


class Assistant:
    """Ask questions, add and remove articles. One per process (models are loaded once)."""

    def __init__(self, settings: Settings, index: NewsIndex) -> None:
        self.settings = settings
        self.index = index
        self.retriever = HybridRetriever(index, settings.retrieval)
        self.retrieval_chain = build_retrieval_chain(self.retriever)
        self._llm: LLM | None = None
        self._llm_lock = threading.Lock()
        self._reranker = CrossEncoderReranker(settings.retrieval.reranker_path) \
            if settings.retrieval.reranker_path else None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Assistant":
        return cls(settings, NewsIndex(settings.index))

    @property
    def llm(self) -> LLM | None:
        """Loaded on first use: the local model costs seconds and ~2 GB, not needed to add articles."""
        with self._llm_lock:
            if self._llm is None and self.settings.llm.backend != "extractive":
                self._llm = make_llm(self.settings.llm)
            return self._llm

    def rerank(self, question: str, retrieval: Retrieval, k: int | None, as_of: date | None = None) -> Retrieval:
        if self._reranker is None:
            return retrieval
        deeper = self.retriever.retrieve(question, max(k or self.settings.retrieval.k, 20), as_of)
        hits = self._reranker.rerank(question, deeper.hits, k or self.settings.retrieval.k)
        return Retrieval(tuple(hits), retrieval.best_similarity)

    # --- questions -------------------------------------------------------------------------------
    def stream(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
               as_of: date | None = None, instructions: str = "") -> AnswerStream:
        """`as_of`: the day the question is asked as of (default today), for the recency prior.
        `instructions`: extra words for the LLM (an answer format); retrieval sees only the question."""
        return AnswerStream(self, question.strip(), history, k, as_of, instructions)

    def ask(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
            as_of: date | None = None, instructions: str = "") -> Answer:
        return self.stream(question, history, k, as_of, instructions).answer()

    def retrieve(self, question: str, k: int | None = None, as_of: date | None = None) -> Retrieval:
        return self.retriever.retrieve(question, k, as_of)

    # --- articles --------------------------------------------------------------------------------
    def add_paths(self, paths: Sequence[str | Path], progress: Callable[[int, int, str], None] | None = None,
                  on_wait: Callable[[str], None] | None = None) -> IngestReport:
        return self.index.ingest(sources_from_paths(paths), progress, on_wait)

    def add_upload(self, name: str, data: bytes, meta: dict[str, object] | None = None) -> IngestReport:
        return self.index.ingest([Source(label=name, data=data, meta=meta)])

    def add_text(self, text: str, meta: dict[str, object] | None = None, label: str = "pasted text") -> IngestReport:
        return self.index.ingest([Source(label=label, text=text, meta=meta)])

    def remove_article(self, article_id: str) -> ArticleRecord:
        return self.index.remove(article_id)

    def articles(self) -> list[ArticleRecord]:
        return self.index.articles()

    def article(self, article_id: str) -> ArticleRecord:
        return self.index.get(article_id)
