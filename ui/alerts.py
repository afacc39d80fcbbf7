"""Alerts: a saved question, and what the articles added since its last check bring to its answer.

A check asks the alert's question of those articles only (`Filters.article_ids`) for a timeline answer; its dated
events, each with the articles it cites, are the news (new events, changed figures). No article added, or an answer
refused (nothing added bears on the question), is no news. Either way the check marks the alert read, up to the
newest article it read (index/alert_store.py).

`check_alert` is the one path the CLI, `newsdesk watch`, the app and the API take; which alerts a caller may check
(their own) is theirs to decide, by the owner they pass to the store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from index.alert_store import Alert
from index.news_index import NewsIndex
from rag.assistant import Assistant
from rag.types import Answer, Filters, Hit


@dataclass(frozen=True, slots=True)
class NewsSource:
    """An article an event cites."""

    article_id: str
    title: str
    outlet: str
    published: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "title": self.title, "outlet": self.outlet or None,
                "published": self.published}


@dataclass(frozen=True, slots=True)
class NewsEvent:
    """One dated event the new articles report, with the articles that say it."""

    date: str  # YYYY-MM-DD, as the timeline dates it (rag/types.py TimelineEvent)
    event: str
    sources: tuple[NewsSource, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "event": self.event, "citations": [s.to_dict() for s in self.sources]}


@dataclass(frozen=True, slots=True)
class AlertNews:
    """What one check found."""

    alert: Alert  # as it was before this check
    events: tuple[NewsEvent, ...]  # oldest first; empty: no news
    new_articles: int  # articles added since the last check (0: the question was not asked)
    answer: Answer | None = None  # the timeline answer the events come from (None when nothing was added)

    @property
    def since(self) -> float:
        """When the news starts: the last check, or the alert's creation."""
        return self.alert.last_checked_at or self.alert.created_at

    def to_dict(self) -> dict[str, Any]:
        """One item of `alerts check --json` and `GET /alerts/{id}/news`."""
        return {"id": self.alert.alert_id, "question": self.alert.question,
                "events": [e.to_dict() for e in self.events]}


def news_events(answer: Answer) -> tuple[NewsEvent, ...]:
    """The events of a timeline answer as news: each with the articles its source numbers name, in order, once
    each. The line on where things stood before (`before`) is no news; a refused answer has none. An event none
    of whose numbers is a source of the answer is left out: an alert says only what it can cite."""
    if answer.refused:
        return ()
    numbered: dict[int, Hit] = {c.n: c.hit for c in answer.citations}  # source [n] is one passage
    events = []
    for e in answer.timeline:
        if e.before:
            continue
        sources = {hit.chunk.article_id: _source(hit) for n in e.citations if (hit := numbered.get(n))}
        if sources:
            events.append(NewsEvent(e.date, e.event, tuple(sources.values())))
    return tuple(events)


def _source(hit: Hit) -> NewsSource:
    m = hit.meta
    return NewsSource(hit.chunk.article_id, m.title, m.outlet, m.published)


def check_alert(assistant: Assistant, alert: Alert, as_of: date | None = None) -> AlertNews:
    """Ask the alert's question of the articles added since its last check, and mark it read.

    Args:
        assistant: who answers; its index holds the alert.
        alert: the alert as the caller's store gave it (so it is the caller's own).
        as_of: the day the question is asked as of (default today).

    Raises:
        BackendUnavailable: the model or a store does not answer (the alert stays unread).
    """
    added = assistant.index.catalogue.added_since(alert.read_until)
    if not added:
        assistant.index.alerts.mark_read(alert.alert_id, alert.owner, alert.read_until, time.time())
        return AlertNews(alert, (), 0)
    answer = assistant.ask(alert.question, as_of=as_of, filters=Filters(article_ids=tuple(a for a, _ in added)),
                           timeline=True)
    assistant.index.alerts.mark_read(alert.alert_id, alert.owner, added[-1][1], time.time())
    return AlertNews(alert, news_events(answer), len(added), answer)


def unread_counts(index: NewsIndex, alerts: list[Alert]) -> dict[int, int]:
    """Per alert, how many articles were added since its last check: its unread count, whether or not they bear
    on its question (only a check, which asks the model, can tell)."""
    return {a.alert_id: index.catalogue.count_added_since(a.read_until) for a in alerts}


def alert_dict(alert: Alert, unread: int) -> dict[str, Any]:
    """One row of `alerts list --json` and `GET /alerts`."""
    return {"id": alert.alert_id, "question": alert.question, "created_at": _iso(alert.created_at),
            "last_checked_at": _iso(alert.last_checked_at) if alert.last_checked_at is not None else None,
            "unread": unread}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
