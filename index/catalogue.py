"""The article catalogue (SQLite): the source of truth for what is searchable.

An article row is written `pending` with its chunk rows, its vectors are upserted to Chroma, then the
row flips to `complete` in one transaction. Rows being replaced or removed go `removing` first, so a
crash at any moment leaves rows that retrieval ignores and `doctor --repair` (or the next ingest)
finishes off.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.types import Article, ArticleMeta, Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    title TEXT NOT NULL, outlet TEXT NOT NULL, author TEXT NOT NULL,
    published TEXT, url TEXT, source TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'removing')),
    collection TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_url ON articles(url);
CREATE INDEX IF NOT EXISTS articles_status ON articles(status);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(article_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    article: Article
    status: str
    n_chunks: int
    added_at: float
    collection: str

    def to_dict(self) -> dict[str, Any]:
        """One row of `newsdesk list --json` and `GET /articles`."""
        m = self.article.meta
        return {"article_id": self.article.article_id, "title": m.title, "outlet": m.outlet,
                "published": m.published, "url": m.url, "source": m.source, "chunks": self.n_chunks,
                "chars": len(self.article.text)}


class Catalogue:
    """Thread-safe enough for Streamlit: one short-lived connection per operation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    # --- reads -------------------------------------------------------------------------------
    @staticmethod
    def _record(row: sqlite3.Row | tuple) -> ArticleRecord:  # type: ignore[type-arg]
        (aid, title, outlet, author, published, url, source, text, status, collection, n, added) = row
        meta = ArticleMeta(title=title, outlet=outlet, author=author, published=published, url=url, source=source)
        return ArticleRecord(Article(aid, meta, text), status, n, added, collection)

    _COLS = "article_id, title, outlet, author, published, url, source, text, status, collection, n_chunks, added_at"

    def get(self, article_id: str) -> ArticleRecord | None:
        with self.reading() as db:
            row = db.execute(f"SELECT {self._COLS} FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return self._record(row) if row else None

    def find_by_prefix(self, prefix: str) -> list[str]:
        with self.reading() as db:
            rows = db.execute("SELECT article_id FROM articles WHERE article_id LIKE ? || '%' LIMIT 3",
                              (prefix,)).fetchall()
        return [r[0] for r in rows]

    def complete_by_url(self, url: str) -> list[str]:
        with self.reading() as db:
            rows = db.execute("SELECT article_id FROM articles WHERE url = ? AND status = 'complete'",
                              (url,)).fetchall()
        return [r[0] for r in rows]

    def records(self, status: str | None = "complete") -> list[ArticleRecord]:
        where, args = ("WHERE status = ?", (status,)) if status else ("", ())
        with self.reading() as db:
            rows = db.execute(f"SELECT {self._COLS} FROM articles {where} ORDER BY added_at, article_id",
                              args).fetchall()
        return [self._record(r) for r in rows]

    def status_of(self) -> dict[str, str]:
        with self.reading() as db:
            return dict(db.execute("SELECT article_id, status FROM articles").fetchall())

    def complete_ids(self) -> set[str]:
        with self.reading() as db:
            return {r[0] for r in db.execute("SELECT article_id FROM articles WHERE status = 'complete'")}

    def chunk_ids(self, article_id: str) -> list[str]:
        with self.reading() as db:
            return [r[0] for r in db.execute("SELECT chunk_id FROM chunks WHERE article_id = ? ORDER BY ordinal",
                                             (article_id,))]

    def all_chunk_ids(self) -> dict[str, str]:
        """chunk_id -> article_id for every chunk row, whatever its article's status."""
        with self.reading() as db:
            return dict(db.execute("SELECT chunk_id, article_id FROM chunks").fetchall())

    _CHUNK_ROWS = ("SELECT c.chunk_id, c.article_id, c.ordinal, c.start, c.\"end\", a.text, a.title, a.outlet,"
                   " a.author, a.published, a.url, a.source FROM chunks c JOIN articles a USING (article_id)")

    @staticmethod
    def _chunk(row: tuple) -> tuple[Chunk, ArticleMeta]:  # type: ignore[type-arg]
        cid, aid, ordinal, start, end, text, title, outlet, author, published, url, source = row
        return (Chunk(cid, aid, ordinal, start, end, text[start:end]),
                ArticleMeta(title, outlet, author, published, url, source))

    def complete_chunks(self) -> list[tuple[Chunk, ArticleMeta]]:
        """Every chunk of every complete article, text cut from the article (for the keyword index)."""
        with self.reading() as db:
            rows = db.execute(self._CHUNK_ROWS + " WHERE a.status = 'complete'"
                              " ORDER BY a.added_at, c.article_id, c.ordinal").fetchall()
        return [self._chunk(r) for r in rows]

    def chunks_by_ids(self, chunk_ids: Sequence[str]) -> dict[str, tuple[Chunk, ArticleMeta]]:
        """Chunks (text cut from their article) and their article's metadata, for complete articles only."""
        out: dict[str, tuple[Chunk, ArticleMeta]] = {}
        ids = list(dict.fromkeys(chunk_ids))
        with self.reading() as db:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                # "+a.status" keeps SQLite from walking the status index (every complete article, 220-570 ms
                # at 100k chunks) instead of looking chunks up by primary key (0.9 ms); docs/BENCHMARKS.md.
                rows = db.execute(self._CHUNK_ROWS + " WHERE +a.status = 'complete'"
                                  f" AND c.chunk_id IN ({','.join('?' * len(part))})", part).fetchall()
                out.update((r[0], self._chunk(r)) for r in rows)
        return out

    def outlets_and_days(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """article_id -> (outlet, ISO day published) of complete articles; '' where unknown.

        Retrieval reads these for a few hundred candidates per question: from here, by primary key, they cost
        ~1 ms, while asking Chroma for the candidates' metadata cost ~7 ms at 100k chunks.
        """
        out: dict[str, tuple[str, str]] = {}
        ids = list(dict.fromkeys(article_ids))
        with self.reading() as db:
            for i in range(0, len(ids), 500):
                part = ids[i:i + 500]
                rows = db.execute("SELECT article_id, outlet, published FROM articles"
                                  f" WHERE +status = 'complete' AND article_id IN ({','.join('?' * len(part))})",
                                  part).fetchall()
                out.update((aid, (outlet or "", (published or "")[:10])) for aid, outlet, published in rows)
        return out

    def outlets(self) -> list[str]:
        """Distinct outlets of complete articles, sorted."""
        with self.reading() as db:
            rows = db.execute("SELECT DISTINCT outlet FROM articles WHERE status = 'complete' "
                              "AND outlet IS NOT NULL AND outlet != ''").fetchall()
        return sorted(r[0] for r in rows)

    def generation(self) -> int:
        """Bumped by every change of the complete set, so readers know when to reload."""
        with self.reading() as db:
            row = db.execute("SELECT value FROM state WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def store_version(self) -> str:
        """Changes around every write to the vector store, so other processes know to reload it."""
        return self.get_state("store_version") or "0"

    def bump_store_version(self) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO state(key, value) VALUES ('store_version', '1') "
                       "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def get_state(self, key: str) -> str | None:
        with self.reading() as db:
            row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    # --- writes (callers hold the index write lock) ------------------------------------------
    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO state(key, value) VALUES ('generation', '1') "
                   "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def add_pending(self, items: Sequence[tuple[Article, Sequence[Chunk]]], collection: str) -> None:
        now = time.time()
        with self.transaction() as db:
            for article, chunks in items:
                m = article.meta
                db.execute("DELETE FROM articles WHERE article_id = ?", (article.article_id,))
                db.execute(f"INSERT INTO articles({self._COLS}) VALUES (?,?,?,?,?,?,?,?,'pending',?,?,?)",
                           (article.article_id, m.title, m.outlet, m.author, m.published, m.url, m.source,
                            article.text, collection, len(chunks), now))
                db.executemany('INSERT INTO chunks(chunk_id, article_id, ordinal, start, "end") VALUES (?,?,?,?,?)',
                               [(c.chunk_id, c.article_id, c.ordinal, c.start, c.end) for c in chunks])

    def complete(self, article_ids: Sequence[str], replaced: Sequence[str] = ()) -> None:
        """Make articles searchable and retire the ones they replace, in one transaction."""
        with self.transaction() as db:
            db.executemany("UPDATE articles SET status = 'complete' WHERE article_id = ?", [(a,) for a in article_ids])
            db.executemany("UPDATE articles SET status = 'removing' WHERE article_id = ?", [(a,) for a in replaced])
            self._bump(db)

    def rechunk(self, article_id: str, chunks: Sequence[Chunk], collection: str) -> None:
        """Point a complete article at new chunk rows (their vectors are stored already), in one transaction."""
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
            db.executemany('INSERT INTO chunks(chunk_id, article_id, ordinal, start, "end") VALUES (?,?,?,?,?)',
                           [(c.chunk_id, c.article_id, c.ordinal, c.start, c.end) for c in chunks])
            db.execute("UPDATE articles SET collection = ?, n_chunks = ? WHERE article_id = ?",
                       (collection, len(chunks), article_id))
            self._bump(db)

    def mark_removing(self, article_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE articles SET status = 'removing' WHERE article_id = ?", (article_id,))
            self._bump(db)

    def delete(self, article_ids: Sequence[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM articles WHERE article_id = ?", [(a,) for a in article_ids])
            self._bump(db)
