"""Plain frozen data flowing one way: Article -> Chunk (-> Hit in rag/)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    title: str = ""
    outlet: str = ""
    author: str = ""
    published: str | None = None  # ISO date "YYYY-MM-DD" (or full ISO timestamp) as given
    url: str | None = None
    source: str = ""  # where it came from: a file path, "upload:<name>", "paste"


def published_day(published: str | None) -> date | None:
    """The day of an `ArticleMeta.published` ("2023-11-01", "2023-11-01T09:30:00Z"); None when unknown."""
    try:
        return date.fromisoformat((published or "")[:10])
    except ValueError:
        return None


def spoken_date(published: str | None) -> str:
    """ "2023-11-01" -> "November 1, 2023": the day as articles and questions write it, not ISO; "" when unknown."""
    d = published_day(published)
    return "" if d is None else f"{d:%B} {d.day}, {d.year}"


def short_date(published: str | None) -> str:
    """'2020-11-24' -> '24 Nov 2020': the day as sources are labelled for the model and the reader; '' when
    unknown."""
    d = published_day(published)
    return "" if d is None else f"{d.day} {d:%b} {d.year}"


@dataclass(frozen=True, slots=True)
class Article:
    article_id: str  # sha256 of the normalised text: the dedup key
    meta: ArticleMeta
    text: str


@dataclass(frozen=True, slots=True)
class ArticleCopy:
    """Another outlet's copy of a wire story (index/copies.py): where else the same text ran."""

    article_id: str
    outlet: str
    url: str | None
    published: str | None

    def to_dict(self) -> dict[str, Any]:
        """As a citation's `also_in` lists it."""
        return {"outlet": self.outlet or None, "url": self.url, "published": self.published}


def chunk_id_for(article_id: str, ordinal: int) -> str:
    """Chunk ids are f"{article_id}:{ordinal}": stable, so re-ingesting an article is an upsert."""
    return f"{article_id}:{ordinal}"


def article_id_of(chunk_id: str) -> str:
    """The article a chunk id belongs to (the one place that parses chunk ids)."""
    return chunk_id.rsplit(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str  # chunk_id_for(article_id, ordinal)
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str  # invariant: article.text[start:end] == text


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to one input: added, unchanged, replaced or rejected (with the reason)."""

    source: str
    status: str  # "added" | "unchanged" | "replaced" | "rejected"
    article_id: str | None = None
    title: str = ""
    reason: str = ""
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class IngestReport:
    outcomes: tuple[IngestOutcome, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self) -> tuple[IngestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "rejected")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `newsdesk ingest --json` and `POST /articles`."""
        counts: dict[str, Any] = {s: self.count(s) for s in ("added", "unchanged", "replaced", "rejected")}
        return {**counts, "items": [o.to_dict() for o in self.outcomes]}

    def summary(self) -> str:
        return (
            f"{self.count('added')} added, {self.count('unchanged')} unchanged, "
            f"{self.count('replaced')} replaced, {self.count('rejected')} rejected"
        )
