"""Assistant: the public facade that the CLI, the Streamlit app, the HTTP API and the eval use."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from index.bulk import BulkFields
from index.catalogue import ArticleRecord
from index.errors import InputError
from index.feed_store import FeedRecord
from index.news_index import NewsIndex
from index.sources import Source, expand_bulk, has_bulk, iter_entries, url_source
from index.types import IngestReport
from rag.answer import Draft, assemble_answer
from rag.backends import make_llm
from rag.backends.extractive import ExtractiveLLM
from rag.choices import names_a_choice
from rag.citations import verify_citations
from rag.conflicts import find_disagreement
from rag.gate import decide
from rag.llm import LLM
from rag.prompts import REFUSAL_TEXT
from rag.question import Question, read_query, read_question
from rag.reading import EmbeddingScorer, Reader, Scorer
from rag.rerank import CrossEncoder
from rag.retrieve import HybridRetriever, Retrieval
from rag.settings import AnswerSettings, Settings
from rag.timeline import (
    before_line,
    cited,
    event_line,
    find_events,
    split_since,
    subject,
)
from rag.types import Answer, Citation, DatedValue, Filters, Hit, Prompt, Reading, TimelineEvent, Timings, Turn


@dataclass(frozen=True, slots=True)
class Answering:
    """What reads, writes and checks answers: the assistant's, handed to each AnswerStream."""

    reader: Reader  # picks the sentences the model reads
    judge: Scorer  # the cross-encoder that checks claims
    llm: Callable[[], LLM]  # the backend, loaded on first use
    checks: AnswerSettings


class AnswerStream:
    """Tokens while the answer is written, then the verified Answer.

    Built by `Assistant.stream` after retrieval and the relevance gate; the backend is asked for only when
    the gate let the question through (the local model loads on first use).
    """

    def __init__(self, question: Question, retrieval: Retrieval, refused_by_gate: bool, answering: Answering,
                 backend: str, max_sources: int, instructions: str = "", retrieve_ms: int = 0,
                 filters: Filters = Filters(), timeline: TimelinePlan | None = None,
                 choices: tuple[str, ...] = ()) -> None:
        self.question = question
        self.filters = filters
        self.retrieval = retrieval
        self.refused_by_gate = refused_by_gate
        self.instructions = instructions.strip()  # for the LLM only: never searched, never in Answer.question
        self._reader = answering.reader
        self._judge = answering.judge
        self._llm = answering.llm
        self._checks = answering.checks
        self._max_sources = max_sources
        self._retrieve_ms = retrieve_ms
        self._draft = Draft(backend)
        self._readings: tuple[Reading, ...] | None = None
        self._differ: tuple[DatedValue, ...] = ()
        self._read_ms = 0
        self._done = False
        self._timeline = timeline
        self._choices = choices
        self._events: tuple[TimelineEvent, ...] = ()
        self._event_hits: tuple[Hit, ...] = ()
        self._event_quotes: dict[tuple[int, int], tuple[int, str]] = {}  # (n, start) -> (end, quote)

    @property
    def hits(self) -> tuple[Hit, ...]:
        """The numbered sources: what the model read once it has, else what retrieval found."""
        if self._event_hits:
            return self._event_hits
        if self._readings is not None:
            return tuple(r.hit for r in self._readings)
        return self.retrieval.hits

    def tokens(self) -> Iterator[str]:
        """The raw answer text as it is written (unverified; `answer()` gives the checked version)."""
        if self._done:
            yield from self._draft.parts
            return
        try:
            if self._timeline is not None:
                if not self.refused_by_gate:
                    yield from self._write_timeline(self._timeline)
                return
            if not self.refused_by_gate:
                t0 = time.perf_counter()
                hits = self.retrieval.hits
                # The cross-encoder knows nothing of dates: it weighs the question without its time words
                # ("in 2020" lowered every sentence that does not say 2020), and the time is the bonus.
                q = self.question
                weighed = self._reader.weigh(q.topic, hits, self.retrieval.focus.during)
                t = q.time
                # Two days' grace: publication times, time zones, and "after 4 October" reported on the 4th.
                not_before = (t.since - timedelta(days=2)).isoformat() if t and t.since and t.strict else ""
                self._differ = find_disagreement(q.searched, weighed, hits, q.newest_first, not_before=not_before)
                must = [w for w in weighed for d in self._differ
                        if hits[w.hit].chunk.chunk_id == d.hit.chunk.chunk_id and w.start <= d.start < w.end]
                self._readings = self._reader.read(q.searched, hits, self._max_sources, weighed, must)
                self._read_ms = round((time.perf_counter() - t0) * 1000)
                prompt = Prompt(q.asked, self._readings, self.instructions, q.searched, self._choices)
                fallback = ExtractiveLLM(self._judge.score)
                if self._choices:
                    read = {r.hit.chunk.chunk_id for r in self._readings}
                    unread = [h for h in hits if h.chunk.chunk_id not in read]
                    yield from self._draft.choose(self._llm(), prompt, fallback, self._judge.score, unread)
                    if self._draft.beyond is not None:
                        self._readings = (*self._readings, self._draft.beyond)
                else:
                    yield from self._draft.write(self._llm(), prompt, fallback)
        finally:
            self._done = True

    def _write_timeline(self, plan: TimelinePlan) -> Iterator[str]:
        """The events, one line each as soon as all are found and checked (rag/timeline.py)."""
        t0 = time.perf_counter()
        hits = self.retrieval.hits
        found = find_events(plan.topic, hits, self._judge, margin=plan.margin, floor=plan.floor,
                            per_article=plan.per_article, most=plan.most, as_of=plan.as_of)
        before, events = split_since(found, plan.since) if plan.since else (None, found)
        shown = [before, *events] if before else events
        # The sources are numbered [1].. in retrieval order, as for any answer.
        used = {h.chunk.chunk_id for e in shown for h, _, _ in e.sources}
        numbered = tuple(h for h in hits if h.chunk.chunk_id in used)
        number = {h.chunk.chunk_id: n for n, h in enumerate(numbered, start=1)}
        checked: list[TimelineEvent] = []
        for e in shown:
            item = e.to_timeline(number, before=e is before)
            # Checked like any answer sentence: an event its passage does not back is left out.
            verified = verify_citations(cited(item), numbered)
            if verified.citations and not verified.unsupported_sentences:
                checked.append(item)
                for h, start, end in e.sources:  # each sentence an event stands on, even several of one source
                    c = h.chunk
                    self._event_quotes[(number[c.chunk_id], start)] = (end, c.text[start - c.start:end - c.start])
        self._events = tuple(checked)
        self._event_hits = numbered
        self._read_ms = round((time.perf_counter() - t0) * 1000)
        self._draft.backend = "timeline"
        lines = [before_line(e, plan.since) if e.before and plan.since else event_line(e) for e in self._events]
        if plan.since and not any(not e.before for e in self._events) and self._events:
            lines.append(f"Nothing newer since {plan.since.isoformat()} in the indexed articles.")
        for i, line in enumerate(lines):
            token = ("\n" if i else "") + line
            self._draft.parts.append(token)
            yield token

    def _timeline_answer(self) -> Answer:
        citations = tuple(Citation(n, self._event_hits[n - 1], start, end, quote, True)
                          for (n, start), (end, quote) in sorted(self._event_quotes.items()))
        timings = Timings(retrieve=self._retrieve_ms, rerank=self._read_ms)
        # No time_range: a timeline reads the story's articles of every date (a "since" day splits its events).
        base = dict(question=self.question.text, standalone_question=self.question.searched, backend="timeline",
                    timings_ms=timings, filters=self.filters, draft=self._draft.text)
        if not self._events:
            reason = "filters" if self.retrieval.nothing_in_scope else "gate"
            refusal = (f"The indexed articles do not say: {describe(self.filters)}." if self.retrieval.nothing_in_scope
                       else REFUSAL_TEXT)
            return Answer(text=refusal, refused=True, refusal_reason=reason, hits=self.retrieval.hits,
                          **base)  # type: ignore[arg-type]
        return Answer(text=self._draft.text, refused=False, citations=citations, hits=self._event_hits,
                      timeline=self._events, **base)  # type: ignore[arg-type]

    def answer(self) -> Answer:
        for _ in self.tokens():  # finish writing if the caller did not stream
            pass
        if self._timeline is not None:
            return self._timeline_answer()
        t0 = time.perf_counter()
        refusal = (f"The indexed articles do not say: {describe(self.filters)}." if self.retrieval.nothing_in_scope
                   else REFUSAL_TEXT)
        q = self.question
        answer = assemble_answer(q.text, q.searched, self.hits, self._draft, None,
                                 self._judge.score, self._checks.claim_relevance, self._differ, refusal,
                                 self._checks.answer_relevance,
                                 nothing_written="filters" if self.retrieval.nothing_in_scope else "gate")
        check_ms = round((time.perf_counter() - t0) * 1000)
        # "rerank" is the cross-encoder's share: choosing the sentences read, then checking the claims.
        timings = Timings(retrieve=self._retrieve_ms, rerank=self._read_ms + check_ms,
                          generate=round(self._draft.seconds * 1000))
        return dataclasses.replace(answer, timings_ms=timings, time_range=q.time, filters=self.filters)


@dataclass(frozen=True, slots=True)
class TimelinePlan:
    """How a timeline answer is found (rag/timeline.py): its story, the day it counts changes from, the limits."""

    topic: str
    since: date | None = None
    margin: float = 10.0
    floor: float = -2.0
    per_article: int = 2
    most: int = 14
    as_of: date | None = None  # the day asked as of: later articles are not read


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
        self._answering = Answering(self.reader, self.cross_encoder, lambda: self.llm, settings.answer)

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
               as_of: date | None = None, instructions: str = "", filters: Filters = Filters(),
               timeline: bool = False, choices: Sequence[str] = ()) -> AnswerStream:
        """Retrieve for the question, then stream its answer.

        Args:
            question: as the reader asked it.
            history: earlier turns of the conversation (follow-ups, rag/followup.py).
            k: passages to answer from (default `settings.retrieval.k`).
            as_of: the day the question is asked as of (default today): "last week" and the recency prior.
            instructions: extra words for the LLM (an answer format); retrieval sees only the question.
            filters: hard limits on publication day, outlet and articles (check them with `check_filters` first).
            timeline: answer with the story's dated events (rag/timeline.py); questions that ask how something
                developed get one anyway.
            choices: the answers the reader offers (a quiz): the model picks one, the code cites it (rag/choices.py).
        """
        q = read_question(question, history, as_of)
        if timeline or q.timeline:
            return self._timeline_stream(q, filters)
        t0 = time.perf_counter()
        k = k or self.settings.retrieval.k
        # More passages than the model is shown: the cross-encoder picks the k that bear on the question.
        retrieval = self.retriever.retrieve(q, max(k, self.settings.answer.read_from), filters=filters)
        retrieve_ms = round((time.perf_counter() - t0) * 1000)
        s = self.settings.retrieval
        gate = decide(q.searched, retrieval.hits, retrieval.best_similarity, s.min_relevance, s.min_coverage)
        offered = tuple(c.strip() for c in choices if c.strip())
        # With choices, a passage that names one is the content the gate stands for: the model may pick, and the
        # code still cites the pick only from a passage that names it and bears on the question (rag/answer.py).
        admitted = gate.admitted or bool(offered and names_a_choice(offered, retrieval.hits))
        refused = retrieval.nothing_in_scope or not admitted
        backend = self._llm.name if self._llm is not None else self.settings.llm.backend
        return AnswerStream(q, retrieval, refused, self._answering, backend, k, instructions, retrieve_ms,
                            filters=filters, choices=offered)

    def _timeline_stream(self, q: Question, filters: Filters) -> AnswerStream:
        """A timeline answer: the story's passages of every date (the time the question names only ranks)."""
        a = self.settings.answer
        # The story's subject is searched as words of their own: no time, every date of the story.
        story = read_query(subject(q.topic), q.today)
        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(story, a.timeline_passages, filters=filters)
        retrieve_ms = round((time.perf_counter() - t0) * 1000)
        s = self.settings.retrieval
        gate = decide(story.searched, retrieval.hits, retrieval.best_similarity, s.min_relevance, s.min_coverage)
        plan = TimelinePlan(story.searched, q.since, a.timeline_margin, a.timeline_floor, a.timeline_per_article,
                            a.timeline_events, q.today)
        return AnswerStream(q, retrieval, retrieval.nothing_in_scope or not gate.admitted, self._answering,
                            "timeline", a.timeline_passages, retrieve_ms=retrieve_ms, filters=filters, timeline=plan)

    def ask(self, question: str, history: Sequence[Turn] = (), k: int | None = None,
            as_of: date | None = None, instructions: str = "", filters: Filters = Filters(),
            timeline: bool = False, choices: Sequence[str] = ()) -> Answer:
        """`stream(…).answer()`: the verified Answer at once."""
        return self.stream(question, history, k, as_of, instructions, filters, timeline, choices).answer()

    def retrieve(self, question: str, k: int | None = None, as_of: date | None = None,
                 filters: Filters = Filters()) -> Retrieval:
        """The passages `stream` would answer from (the time the question names applied), best first."""
        return self.retriever.retrieve(read_question(question, (), as_of), k, filters=filters)

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
                  on_wait: Callable[[str], None] | None = None, fields: BulkFields | None = None) -> IngestReport:
        """Files, folders, URLs and bulk exports (JSON Lines / CSV rows, their columns named by `fields`). Files and
        URLs are listed first (nothing is read), so `progress` knows the total; an export's rows are streamed."""
        entries = list(iter_entries(paths, self.settings.fetch))
        sources = expand_bulk(entries, fields, self.settings.index.max_file_bytes) if has_bulk(entries) else entries
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
