"""Hit, Reading, Citation, Answer, Turn: the plain data that retrieval and answering produce."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from index.types import ArticleCopy, ArticleMeta, Chunk, article_id_of, short_date

Message = tuple[str, str]  # a chat message: (role, content), role in "system" | "user" | "assistant"


# The cross-encoder as the checks use it: (claim, sentences) -> one score per sentence (rag/claims.py, the extractive
# backend).
Relevance = Callable[[str, Sequence[str]], Sequence[float]]


ValueKind = Literal["percent", "money", "number", "date", "year", "name"]


@dataclass(frozen=True, slots=True)
class Value:
    """One checkable value found in a text.

    Attributes:
        kind: "percent", "money", "number", "date", "year" or "name".
        norm: The comparison key: percent "5" or "3-3.5"; money "USD 1200000000"; number
            "1200000"; date "2020-11-24", "2020-11", "--11-24", "--03" or a weekday "monday";
            year "2014" or a decade "1990s"; name "jens stoltenberg".
        text: The span as written, e.g. "five per cent".
        start: Offset of the span in the text given to `extract_values`.
        end: Offset just past the span.
    """

    kind: ValueKind
    norm: str
    text: str
    start: int
    end: int


def overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps any of the spans (the value readers skip what another has taken)."""
    return any(start < e and s < end for s, e in spans)


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    meta: ArticleMeta
    score: float
    stage: str  # "dense" | "keyword" | "fused" | "gold"
    similarity: float | None = None  # dense cosine similarity when the dense side saw it
    also_in: tuple[ArticleCopy, ...] = ()  # the other copies of this wire story (index/copies.py), oldest first


@dataclass(frozen=True, slots=True)
class Reading:
    """What the model reads of source [n]: some sentences of the hit's chunk, never altered.

    `spans` are absolute offsets in the article text (so `article.text[s:e]` is each sentence read);
    `text` is what the prompt shows: those sentences in article order, joined by " … ".
    """

    n: int
    hit: Hit
    spans: tuple[tuple[int, int], ...]
    text: str
    relevance: tuple[float, ...] = ()  # the cross-encoder's score of each span against the question, if judged

    @classmethod
    def whole(cls, n: int, hit: Hit) -> Reading:
        """The whole chunk."""
        return cls(n, hit, ((hit.chunk.start, hit.chunk.end),), hit.chunk.text)

    @classmethod
    def of_spans(cls, n: int, hit: Hit, spans: tuple[tuple[int, int], ...],
                 relevance: tuple[float, ...] = ()) -> Reading:
        """Some sentences of the chunk, given as absolute article offsets inside it."""
        c = hit.chunk
        return cls(n, hit, spans, " … ".join(c.text[s - c.start:e - c.start] for s, e in spans), relevance)

    def sentences(self) -> list[tuple[int, int, str]]:
        """(start, end, text) of each span read."""
        c = self.hit.chunk
        return [(s, e, c.text[s - c.start:e - c.start]) for s, e in self.spans]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Everything a backend needs to write an answer."""

    question: str  # as the reader asked it
    readings: tuple[Reading, ...]  # source [n] is readings[n - 1]
    instructions: str = ""  # extra words for the model only (an answer format); never searched
    standalone: str = ""  # the question as searched (with a follow-up's context); "" = the question
    choices: tuple[str, ...] = ()  # the answers the reader offers (a quiz): the model picks one, the code cites it

    @property
    def searched(self) -> str:
        return self.standalone or self.question


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # the n in [n]
    hit: Hit
    start: int  # absolute offsets in the article text of the supporting sentence
    end: int
    quote: str  # == article.text[start:end]
    supported: bool

    @property
    def also_in(self) -> tuple[ArticleCopy, ...]:
        """The other outlets that ran the same wire story."""
        return self.hit.also_in

    def to_dict(self) -> dict[str, Any]:
        m = self.hit.meta
        return {"n": self.n, "article_id": self.hit.chunk.article_id, "chunk_id": self.hit.chunk.chunk_id,
                "title": m.title, "outlet": m.outlet or None, "url": m.url, "published": m.published,
                "start": self.start, "end": self.end, "quote": self.quote, "supported": self.supported,
                "also_in": [c.to_dict() for c in self.also_in]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Citation:
        """A citation as `to_dict` wrote it (a saved conversation): the passage comes back as its quote only."""
        hit = _saved_hit(d)
        return cls(int(d.get("n") or 0), hit, hit.chunk.start, hit.chunk.end, hit.chunk.text,
                   bool(d.get("supported", True)))


def _saved_hit(d: Mapping[str, Any]) -> Hit:
    """The passage of a saved citation or value: its article, metadata and quote (chunk text is not saved)."""
    chunk_id = str(d.get("chunk_id") or "")
    ordinal = chunk_id.rsplit(":", 1)[-1]
    start, end, quote = int(d.get("start") or 0), int(d.get("end") or 0), str(d.get("quote") or "")
    meta = ArticleMeta(title=str(d.get("title") or ""), outlet=str(d.get("outlet") or ""),
                       published=d.get("published"), url=d.get("url"))
    chunk = Chunk(chunk_id, str(d.get("article_id") or article_id_of(chunk_id)),
                  int(ordinal) if ordinal.isdigit() else 0, start, end, quote)
    also_in = tuple(ArticleCopy("", str(c.get("outlet") or ""), c.get("url"), c.get("published"))
                    for c in d.get("also_in") or () if isinstance(c, Mapping))
    return Hit(chunk, meta, 0.0, "saved", also_in=also_in)


@dataclass(frozen=True, slots=True)
class DatedValue:
    """One figure a source gives where sources differ (rag/conflicts.py): where it says it, and when."""

    value: str  # as written: "3-3.5%"
    kind: str  # "percent" | "money" | "number"
    norm: str  # comparison key (rag/values.py)
    hit: Hit  # the passage (article, outlet, date)
    start: int  # the clause that states it: absolute offsets in the article text
    end: int
    quote: str  # == article.text[start:end]

    def to_dict(self, n: int | None) -> dict[str, Any]:
        m = self.hit.meta
        return {"value": self.value, "kind": self.kind, "n": n, "article_id": self.hit.chunk.article_id,
                "chunk_id": self.hit.chunk.chunk_id, "title": m.title, "outlet": m.outlet or None,
                "published": m.published, "start": self.start, "end": self.end, "quote": self.quote}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DatedValue:
        """A saved value; `norm` is not in the contract, so it comes back empty."""
        hit = _saved_hit(d)
        return cls(str(d.get("value") or ""), str(d.get("kind") or ""), "", hit, hit.chunk.start, hit.chunk.end,
                   hit.chunk.text)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One dated event of a timeline answer (rag/timeline.py): one sentence a cited passage states.

    `date` is the day the text gives ("on Tuesday" in an article of 2025-03-04 is 2025-03-04; "since 2014" is
    2014-01-01 at `precision` "year"), else the article's day; `dated_by` says which ("text" | "article").
    `citations` are source numbers, as in the Answer's citations. `before` marks the one line on where things
    stood before the day a "what changed since …" question names.
    """

    date: str  # YYYY-MM-DD
    event: str
    citations: tuple[int, ...]
    dated_by: str = "article"  # "text" | "article"
    precision: str = "day"  # "day" | "month" | "year"
    before: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "event": self.event, "citations": list(self.citations),
                "dated_by": self.dated_by, "precision": self.precision, "before": self.before}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimelineEvent:
        return cls(str(d.get("date") or ""), str(d.get("event") or ""),
                   tuple(int(n) for n in d.get("citations") or ()), str(d.get("dated_by") or "article"),
                   str(d.get("precision") or "day"), bool(d.get("before", False)))


@dataclass(frozen=True, slots=True)
class Filters:
    """Hard limits a reader sets (`ask --since/--until/--outlet`): no passage outside them is read or cited.

    Dates are publication days, inclusive; an undated article is outside any date filter. `article_ids` (when
    given) are the only articles in scope: an alert's check answers from the articles added since its last one.
    """

    since: date | None = None
    until: date | None = None
    outlets: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets or self.article_ids)

    def admits(self, article_id: str, outlet: str, day: str) -> bool:
        """Whether this article, of this outlet, published on this ISO day ('' unknown), is inside."""
        if self.article_ids and article_id not in self.article_ids:
            return False
        if self.outlets and outlet not in self.outlets:
            return False
        if self.since or self.until:
            return bool(day) and (not self.since or day >= self.since.isoformat()) and (
                not self.until or day <= self.until.isoformat())
        return True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"since": self.since.isoformat() if self.since else None,
                               "until": self.until.isoformat() if self.until else None,
                               "outlets": list(self.outlets)}
        # Only when set: the filters a reader chooses keep the shape clients already read.
        if self.article_ids:
            out["article_ids"] = list(self.article_ids)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Filters:
        return cls(_day(d.get("since")), _day(d.get("until")), tuple(str(o) for o in d.get("outlets") or ()),
                   tuple(str(a) for a in d.get("article_ids") or ()))


@dataclass(frozen=True, slots=True)
class TimeRange:
    """The time a question names ("in 2020", "last week"), as applied to the evidence (rag/retrieve.py)."""

    since: date | None
    until: date | None
    phrase: str  # the words of the question, e.g. "in 2020"
    strict: bool = True  # articles published before `since` supply no dated figures (it always ranks)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "phrase": self.phrase,
                "strict": self.strict}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimeRange:
        return cls(_day(d.get("since")), _day(d.get("until")), str(d.get("phrase") or ""), bool(d.get("strict", True)))


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class Timings:
    """Milliseconds spent in each stage of one answer."""

    retrieve: int = 0
    rerank: int = 0
    generate: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"retrieve": self.retrieve, "rerank": self.rerank, "generate": self.generate}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Timings:
        return cls(**{k: int(v) for k, v in d.items() if k in ("retrieve", "rerank", "generate")})


def differ_paragraph(values: Sequence[DatedValue], number: Mapping[str, int]) -> str:
    """'Sources differ. The Washington Post, 12 Feb 2025: “…to 5% of their GDP” [2]. dpa, 24 Nov 2020: “…” [1].'

    `number` maps a chunk id to its source number in the answer.
    """
    groups: list[tuple[str, list[DatedValue]]] = []
    for d in values:
        label = ", ".join(x for x in (d.hit.meta.outlet, short_date(d.hit.meta.published)) if x) or "Undated source"
        if groups and groups[-1][0] == label:
            groups[-1][1].append(d)
        else:
            groups.append((label, [d]))
    parts = []
    for label, ds in groups:
        quotes = "; ".join(f"“{d.quote}” [{number[d.hit.chunk.chunk_id]}]" for d in ds)
        parts.append(f"{label}: {quotes}.")
    return "Sources differ. " + " ".join(parts)


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    standalone_question: str
    text: str  # the answer's prose; the "Sources differ" figures are `sources_differ` (`reply` has both as text)
    refused: bool
    backend: str
    citations: tuple[Citation, ...] = ()
    dropped_markers: tuple[int, ...] = ()
    unsupported_sentences: tuple[str, ...] = ()
    timings_ms: Timings = Timings()
    hits: tuple[Hit, ...] = ()  # the numbered sources the answer was written from
    notice: str | None = None  # e.g. "LLM server unreachable; extractive answer shown"
    sources_differ: tuple[DatedValue, ...] = ()  # the dated figures, when the sources disagree (timeline order)
    time_range: TimeRange | None = None  # the time the (standalone) question names, as applied
    filters: Filters = Filters()  # the reader's hard filters, as applied
    refusal_reason: str | None = None  # one of REFUSAL_REASONS when refused, else None
    timeline: tuple[TimelineEvent, ...] = ()  # a timeline answer's dated events, oldest first (else empty)
    draft: str = ""  # what the backend wrote, before the checks (not in the JSON contract; eval details keep it)

    @property
    def reply(self) -> str:
        """The whole answer as text (the terminal, /v1, the JSON's "answer"): the prose, then the "Sources differ"
        paragraph when the sources disagree."""
        if not self.sources_differ:
            return self.text
        return f"{self.text}\n\n{self._differ_paragraph()}".strip()

    def _differ_paragraph(self) -> str:
        number = {h.chunk.chunk_id: n for n, h in enumerate(self.hits, start=1)}
        return differ_paragraph(self.sources_differ, number)

    def source_number(self, chunk_id: str) -> int | None:
        """The [n] of a passage among the answer's sources."""
        return next((n for n, h in enumerate(self.hits, start=1) if h.chunk.chunk_id == chunk_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The Answer contract of shared/DESIGN.md (`ask --json`, HTTP, eval); `notice` is an extension."""
        out: dict[str, Any] = {
            "question": self.question, "standalone_question": self.standalone_question, "answer": self.reply,
            "refused": self.refused, "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "dropped_markers": list(self.dropped_markers),
            "unsupported_sentences": list(self.unsupported_sentences),
            "timings_ms": self.timings_ms.to_dict(),
            "sources_differ": [d.to_dict(self.source_number(d.hit.chunk.chunk_id)) for d in self.sources_differ],
            "time_range": self.time_range.to_dict() if self.time_range else None,
            "filters": self.filters.to_dict() if self.filters else None,
            # A refusal still shows where the reader might look.
            "nearest_passages": [passage_dict(n, h) for n, h in enumerate(self.hits[:3], start=1)]
            if self.refused else [],
        }
        out["refusal_reason"] = self.refusal_reason if self.refused else None
        out["timeline"] = [e.to_dict() for e in self.timeline]
        if self.notice:
            out["notice"] = self.notice
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Answer:
        """The Answer `to_dict` wrote (a saved conversation). Keys it does not know are ignored, so answers saved
        by a newer version still load; add a line here for each field `to_dict` gains. `hits` (the sources the
        answer was written from) are not in the contract: they come back as far as the saved citations and values
        number them, so `source_number` still works; a source neither names is an empty placeholder."""
        citations = tuple(Citation.from_dict(c) for c in d.get("citations") or ())
        differ = [(v.get("n"), DatedValue.from_dict(v)) for v in d.get("sources_differ") or ()]
        numbered = {c.n: c.hit for c in citations} | {n: v.hit for n, v in differ if isinstance(n, int) and n > 0}
        blank = Hit(Chunk("", "", 0, 0, 0, ""), ArticleMeta(), 0.0, "unsaved")
        answer = cls(question=str(d.get("question") or ""),
                   standalone_question=str(d.get("standalone_question") or d.get("question") or ""),
                   text=str(d.get("answer") or ""), refused=bool(d.get("refused", False)),
                   backend=str(d.get("backend") or ""),
                   citations=citations,
                   dropped_markers=tuple(int(m) for m in d.get("dropped_markers") or ()),
                   unsupported_sentences=tuple(str(s) for s in d.get("unsupported_sentences") or ()),
                   timings_ms=Timings.from_dict(d.get("timings_ms") or {}),
                   hits=tuple(numbered.get(n, blank) for n in range(1, max(numbered, default=0) + 1)),
                   notice=str(d["notice"]) if d.get("notice") else None,
                   sources_differ=tuple(v for _, v in differ),
                   time_range=TimeRange.from_dict(d["time_range"]) if d.get("time_range") else None,
                   filters=Filters.from_dict(d.get("filters") or {}),
                   refusal_reason=str(d["refusal_reason"]) if d.get("refusal_reason") else None,
                   timeline=tuple(TimelineEvent.from_dict(e) for e in d.get("timeline") or ()))
        # "answer" is the reply: the prose is what is left once the paragraph its own figures make is taken off.
        paragraph = "\n\n" + answer._differ_paragraph() if answer.sources_differ else ""
        if paragraph and answer.text.endswith(paragraph):
            answer = dataclasses.replace(answer, text=answer.text[:-len(paragraph)])
        return answer


def passage_dict(n: int, hit: Hit) -> dict[str, Any]:
    """A passage as the JSON shows it (a refusal's nearest passages)."""
    m, c = hit.meta, hit.chunk
    return {"n": n, "article_id": c.article_id, "chunk_id": c.chunk_id, "title": m.title, "outlet": m.outlet or None,
            "url": m.url, "published": m.published, "start": c.start, "end": c.end, "quote": c.text}


# Why an answer was refused, and how a reader is told (the CLI and the app say it in these words).
REFUSAL_REASONS: dict[str, str] = {
    "gate": "nothing relevant enough to this question was found in the indexed articles",
    "filters": "the filters leave no article to answer from",
    "declined": "the model found no answer in the passages it read",
    "unsupported": "what the model wrote is not backed by the passages it cites",
    "off_question": "the passages back what was written, but it does not answer the question",
}


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: Answer
