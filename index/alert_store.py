"""Alerts in the catalogue database (migration 0005): a user's saved question, and how far the articles added since
have been reported to them. What a check finds is ui/alerts.py's job; this module keeps the rows.

Each alert belongs to one owner (a token's name, or "local" for the CLI and for everyone while no token exists);
another owner's alert is not found, exactly like a missing one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text

from index.db import Database
from index.errors import InputError, NotFound


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: int
    owner: str
    question: str
    created_at: float
    # Articles added after this point of the catalogue's `added_at` clock are the alert's news (migration 0005
    # says why it is not simply the time of the last check).
    read_until: float
    last_checked_at: float | None = None  # None: never checked


_COLS = "alert_id, owner, question, created_at, read_until, last_checked_at"


class AlertStore:
    """The `alerts` table. Each operation takes its own connection, so one store serves every thread."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, owner: str, question: str) -> Alert:
        """Save a question as `owner`'s alert; its news starts with the articles added from now on.

        Raises:
            InputError: the question is empty (front ends apply their length rule before, ui/admission.py).
        """
        if not question.strip():
            raise InputError("The question is empty.")
        now = time.time()
        with self.db.transaction() as conn:
            alert_id = conn.execute(text("INSERT INTO alerts(owner, question, created_at, read_until) "
                                         "VALUES (:o, :q, :t, :t) RETURNING alert_id"),
                                    {"o": owner, "q": question.strip(), "t": now}).scalar_one()
        return Alert(int(alert_id), owner, question.strip(), now, now)

    def list(self, owner: str) -> list[Alert]:
        """`owner`'s alerts, oldest first."""
        with self.db.reading(snapshot=False) as conn:
            rows = conn.execute(text(f"SELECT {_COLS} FROM alerts WHERE owner = :o ORDER BY alert_id"),
                                {"o": owner}).all()
        return [Alert(*row) for row in rows]

    def get(self, alert_id: int, owner: str) -> Alert:
        """One of `owner`'s alerts.

        Raises:
            NotFound: `owner` has no alert with this id.
        """
        with self.db.reading(snapshot=False) as conn:
            row = conn.execute(text(f"SELECT {_COLS} FROM alerts WHERE alert_id = :a AND owner = :o"),
                               {"a": alert_id, "o": owner}).first()
        if row is None:
            raise NotFound(f"No alert {alert_id}; `newsdesk alerts list` (or GET /alerts) shows yours.")
        return Alert(*row)

    def remove(self, alert_id: int, owner: str) -> Alert:
        """Delete one of `owner`'s alerts; returns it as it was.

        Raises:
            NotFound: `owner` has no alert with this id.
        """
        with self.db.transaction() as conn:
            row = conn.execute(text(f"DELETE FROM alerts WHERE alert_id = :a AND owner = :o RETURNING {_COLS}"),
                               {"a": alert_id, "o": owner}).first()
        if row is None:
            raise NotFound(f"No alert {alert_id}; `newsdesk alerts list` (or GET /alerts) shows yours.")
        return Alert(*row)

    def mark_read(self, alert_id: int, owner: str, until: float, checked_at: float) -> None:
        """Record a check: articles added up to `until` have been reported. `read_until` never moves back (two
        checks at once: the later-finishing one with older news must not undo the other). An alert removed
        meanwhile is left removed."""
        with self.db.transaction() as conn:
            conn.execute(text("UPDATE alerts SET read_until = CASE WHEN read_until < :u THEN :u ELSE read_until END, "
                              "last_checked_at = :c WHERE alert_id = :a AND owner = :o"),
                         {"u": until, "c": checked_at, "a": alert_id, "o": owner})
