"""Feed state in the catalogue database: the feeds followed, each one's last run, and the items it has seen.

Tables come from migration 0002. Items are keyed by guid, URL and text hash; an item is skipped when any
of its keys was ingested ("done") or failed `MAX_ATTEMPTS` times (a page that never parses is not fetched
forever; a server that was down for one run is tried again).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text

from index.db import Database
from index.errors import InputError, NotFound

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class FeedRecord:
    url: str
    title: str
    added_at: float
    last_run_at: float | None = None
    last_added: int = 0
    last_skipped: int = 0
    last_rejected: int = 0
    last_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """One row of `newsdesk feeds list --json`."""
        return {"url": self.url, "title": self.title, "added_at": self.added_at,
                "last_run": None if self.last_run_at is None else {
                    "at": self.last_run_at, "added": self.last_added, "skipped": self.last_skipped,
                    "rejected": self.last_rejected, "error": self.last_error}}


_COLS = "url, title, added_at, last_run_at, last_added, last_skipped, last_rejected, last_error"


class FeedStore:
    """Feeds and their items. Each operation takes its own connection (safe across threads)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._seen = text("SELECT 1 FROM feed_items WHERE feed_url = :f AND key IN :keys "
                          "AND (status = 'done' OR attempts >= :n) LIMIT 1")
        self._seen = self._seen.bindparams(bindparam("keys", expanding=True))

    def feeds(self) -> list[FeedRecord]:
        with self.db.reading() as conn:
            rows = conn.execute(text(f"SELECT {_COLS} FROM feeds ORDER BY added_at, url")).all()
        return [FeedRecord(*row) for row in rows]

    def get(self, url: str) -> FeedRecord | None:
        with self.db.reading() as conn:
            row = conn.execute(text(f"SELECT {_COLS} FROM feeds WHERE url = :u"), {"u": url}).first()
        return FeedRecord(*row) if row else None

    def add(self, url: str, title: str) -> FeedRecord:
        """Follow a feed (adding one already followed only updates its title).

        Raises:
            InputError: the URL is not http(s).
        """
        if not url.lower().startswith(("http://", "https://")):
            raise InputError(f"{url}: a feed is followed by its http:// or https:// address.")
        with self.db.transaction() as conn:
            conn.execute(text("INSERT INTO feeds(url, title, added_at) VALUES (:u, :t, :a) "
                              "ON CONFLICT(url) DO UPDATE SET title = excluded.title"),
                         {"u": url, "t": title, "a": time.time()})
        record = self.get(url)
        assert record is not None
        return record

    def remove(self, url: str) -> FeedRecord:
        """Stop following a feed and forget its items (its articles stay indexed).

        Raises:
            NotFound: no such feed.
        """
        record = self.get(url)
        if record is None:
            raise NotFound(f"Not following {url}; `newsdesk feeds list` shows the feeds.")
        with self.db.transaction() as conn:
            conn.execute(text("DELETE FROM feed_items WHERE feed_url = :u"), {"u": url})
            conn.execute(text("DELETE FROM feeds WHERE url = :u"), {"u": url})
        return record

    def is_seen(self, feed_url: str, keys: Sequence[str]) -> bool:
        with self.db.reading() as conn:
            return conn.execute(self._seen, {"f": feed_url, "keys": list(keys), "n": MAX_ATTEMPTS}).first() is not None

    def mark(self, feed_url: str, keys: Sequence[str], ok: bool, reason: str = "") -> None:
        """Record an item's outcome under all its keys: done, or one more failed attempt."""
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute(text(
                "INSERT INTO feed_items(feed_url, key, status, attempts, reason, seen_at) "
                "VALUES (:f, :k, :s, 1, :r, :t) "
                "ON CONFLICT(feed_url, key) DO UPDATE SET status = CASE WHEN feed_items.status = 'done' THEN 'done' "
                "ELSE excluded.status END, attempts = feed_items.attempts + 1, reason = excluded.reason, "
                "seen_at = excluded.seen_at"),
                [{"f": feed_url, "k": k, "s": "done" if ok else "failed", "r": reason[:500], "t": now} for k in keys])

    def record_run(self, feed_url: str, added: int, skipped: int, rejected: int, error: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(text("UPDATE feeds SET last_run_at = :t, last_added = :a, last_skipped = :s, "
                              "last_rejected = :r, last_error = :e WHERE url = :u"),
                         {"t": time.time(), "a": added, "s": skipped, "r": rejected, "e": error, "u": feed_url})
