"""Hit, Citation, Answer, Turn: the plain data that retrieval and answering produce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.types import ArticleMeta, Chunk


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    meta: ArticleMeta
    score: float
    stage: str  # "dense" | "keyword" | "fused" | "reranked"
    similarity: float | None = None  # dense cosine similarity when the dense side saw it


@dataclass(frozen=True, slots=True)
class Citation:
    n: int  # the n in [n]
    hit: Hit
    start: int  # absolute offsets in the article text of the supporting sentence
    end: int
    quote: str  # == article.text[start:end]
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        m = self.hit.meta
        return {"n": self.n, "article_id": self.hit.chunk.article_id, "chunk_id": self.hit.chunk.chunk_id,
                "title": m.title, "outlet": m.outlet or None, "url": m.url, "published": m.published,
                "start": self.start, "end": self.end, "quote": self.quote, "supported": self.supported}


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    standalone_question: str
    text: str
    refused: bool
    backend: str
    citations: tuple[Citation, ...] = ()
    dropped_markers: tuple[int, ...] = ()
    unsupported_sentences: tuple[str, ...] = ()
    timings_ms: dict[str, int] = field(default_factory=dict)
    hits: tuple[Hit, ...] = ()  # the numbered sources the answer was written from
    notice: str | None = None  # e.g. "LLM server unreachable; extractive answer shown"

    def to_dict(self) -> dict[str, Any]:
        """The Answer contract of shared/DESIGN.md (`ask --json`, HTTP, eval); `notice` is an extension."""
        out: dict[str, Any] = {
            "question": self.question, "standalone_question": self.standalone_question, "answer": self.text,
            "refused": self.refused, "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "dropped_markers": list(self.dropped_markers),
            "unsupported_sentences": list(self.unsupported_sentences),
            "timings_ms": {"retrieve": 0, "rerank": 0, "generate": 0, **self.timings_ms},
        }
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    answer: Answer
