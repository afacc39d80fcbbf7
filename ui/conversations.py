"""Saved conversations: each belongs to one user (a token's name, or "local" with auth off) and holds its turns,
every answer saved as the Answer contract (JSON), so a conversation can be shown, resumed and exported later.

Callers that act for a user pass `owner=`; another user's conversation is reported as not found, exactly like a
missing one. `owner=None` (the `newsdesk history` CLI, run by whoever holds the database) sees every conversation.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from index.db import Database
from index.errors import InputError, NotFound
from rag.types import Answer, Turn

TITLE_CHARS = 120


@dataclass(frozen=True, slots=True)
class SavedTurn:
    question: str
    answer: dict[str, Any]  # the Answer contract as saved; keys a newer version added are kept
    asked_at: float

    def turn(self) -> Turn:
        return Turn(self.question, Answer.from_dict(self.answer))


@dataclass(frozen=True, slots=True)
class Conversation:
    conversation_id: str
    owner: str
    title: str
    created_at: float
    updated_at: float
    n_turns: int = 0
    turns: tuple[SavedTurn, ...] = ()  # filled by `ConversationStore.get`, empty in listings

    def history(self) -> list[Turn]:
        """The turns as the assistant takes them for follow-ups (and the UI renders them)."""
        return [t.turn() for t in self.turns]

    def to_dict(self, with_turns: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.conversation_id, "owner": self.owner, "title": self.title,
                               "created_at": _iso(self.created_at), "updated_at": _iso(self.updated_at),
                               "turns": self.n_turns}
        if with_turns:
            out["turns"] = [{"question": t.question, "answer": t.answer, "asked_at": _iso(t.asked_at)}
                            for t in self.turns]
        return out


def title_from(question: str) -> str:
    """A conversation's first title: its first question on one line, cut at a word."""
    line = " ".join(question.split())
    if len(line) <= TITLE_CHARS:
        return line or "Untitled"
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


class ConversationStore:
    """The `conversations` and `conversation_turns` tables."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, owner: str, title: str = "") -> Conversation:
        now = time.time()
        conv = Conversation(secrets.token_hex(8), owner, _clean_title(title) if title.strip() else "", now, now)
        with self.db.transaction() as conn:
            conn.execute(text("INSERT INTO conversations(conversation_id, owner, title, created_at, updated_at) "
                              "VALUES (:i, :o, :t, :c, :c)"),
                         {"i": conv.conversation_id, "o": owner, "t": conv.title, "c": now})
        return conv

    def list(self, owner: str | None) -> list[Conversation]:
        """Newest first; `owner=None` lists everybody's."""
        where = "WHERE c.owner = :o" if owner is not None else ""
        sql = ("SELECT c.conversation_id, c.owner, c.title, c.created_at, c.updated_at, COUNT(t.ordinal) "
               "FROM conversations c LEFT JOIN conversation_turns t ON t.conversation_id = c.conversation_id "
               f"{where} GROUP BY c.conversation_id, c.owner, c.title, c.created_at, c.updated_at "
               "ORDER BY c.updated_at DESC, c.conversation_id")
        with self.db.reading() as conn:
            rows = conn.execute(text(sql), {"o": owner} if owner is not None else {}).all()
        return [Conversation(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]

    def get(self, conversation_id: str, *, owner: str | None) -> Conversation:
        """One conversation with its turns.

        Raises:
            NotFound: no such conversation, or it belongs to another user.
        """
        with self.db.reading() as conn:
            head = self._head(conn, conversation_id, owner)
            rows = conn.execute(text("SELECT question, answer, asked_at FROM conversation_turns "
                                     "WHERE conversation_id = :i ORDER BY ordinal"), {"i": conversation_id}).all()
        turns = tuple(SavedTurn(r[0], json.loads(r[1]), r[2]) for r in rows)
        return Conversation(*head, n_turns=len(turns), turns=turns)

    def add_turn(self, conversation_id: str, turn: Turn, *, owner: str | None) -> None:
        """Append a question and its answer; the first question titles an untitled conversation.

        Raises:
            NotFound: no such conversation, or it belongs to another user.
        """
        now = time.time()
        with self.db.transaction() as conn:
            self._head(conn, conversation_id, owner)
            # The UPDATE first: on Postgres it locks the row, so two answers saved at once get distinct ordinals.
            conn.execute(text("UPDATE conversations SET updated_at = :t, "
                              "title = CASE WHEN title = '' THEN :title ELSE title END WHERE conversation_id = :i"),
                         {"i": conversation_id, "t": now, "title": title_from(turn.question)})
            n = conn.execute(text("SELECT COUNT(*) FROM conversation_turns WHERE conversation_id = :i"),
                             {"i": conversation_id}).scalar_one()
            conn.execute(text("INSERT INTO conversation_turns(conversation_id, ordinal, question, answer, asked_at) "
                              "VALUES (:i, :n, :q, :a, :t)"),
                         {"i": conversation_id, "n": n, "q": turn.question, "t": now,
                          "a": json.dumps(turn.answer.to_dict(), ensure_ascii=False)})

    def rename(self, conversation_id: str, title: str, *, owner: str | None) -> None:
        """Raises:
            InputError: the title is empty.
            NotFound: no such conversation, or it belongs to another user.
        """
        if not title.strip():
            raise InputError("A conversation's title cannot be empty.")
        with self.db.transaction() as conn:
            self._head(conn, conversation_id, owner)
            conn.execute(text("UPDATE conversations SET title = :t WHERE conversation_id = :i"),
                         {"i": conversation_id, "t": _clean_title(title)})

    def delete(self, conversation_id: str, *, owner: str | None) -> None:
        """Raises:
            NotFound: no such conversation, or it belongs to another user.
        """
        with self.db.transaction() as conn:
            self._head(conn, conversation_id, owner)
            conn.execute(text("DELETE FROM conversation_turns WHERE conversation_id = :i"), {"i": conversation_id})
            conn.execute(text("DELETE FROM conversations WHERE conversation_id = :i"), {"i": conversation_id})

    @staticmethod
    def _head(conn: Connection, conversation_id: str, owner: str | None) -> tuple[str, str, str, float, float]:
        row = conn.execute(text("SELECT conversation_id, owner, title, created_at, updated_at FROM conversations "
                                "WHERE conversation_id = :i"), {"i": conversation_id}).first()
        if row is None or (owner is not None and row[1] != owner):
            # Another user's conversation reads as missing: its id tells nothing about whether it exists.
            raise NotFound(f"No conversation with id {conversation_id[:40]!r}.")
        return (row[0], row[1], row[2], row[3], row[4])


def _clean_title(title: str) -> str:
    return " ".join(title.split())[:TITLE_CHARS * 2]


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

