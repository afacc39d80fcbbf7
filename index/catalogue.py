"""The article catalogue: the source of truth for what is searchable (SQLite by default, Postgres by URL).

An article row is written `pending` with its chunk rows, its vectors are upserted to Chroma, then the
row flips to `complete` in one transaction. Rows being replaced or removed go `removing` first, so a
crash at any moment leaves rows that retrieval ignores and `doctor --repair` (or the next ingest)
finishes off. All SQL of the library lives here (and in what the same database holds for other stores).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, LargeBinary, bindparam, text

from index.db import Database
from index.injection import flagged_spans
from index.types import Article, ArticleCopy, ArticleMeta, Chunk


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    article: Article
    status: str
    n_chunks: int
    added_at: float
    collection: str
    copy_of: str | None = None  # the first copy of this article's wire-copy group (index/copies.py); None: itself

    def to_dict(self) -> dict[str, Any]:
        """One row of `newsdesk list --json` and `GET /articles`."""
        m = self.article.meta
        return {"article_id": self.article.article_id, "title": m.title, "outlet": m.outlet,
                "published": m.published, "url": m.url, "source": m.source, "chunks": self.n_chunks,
                "chars": len(self.article.text), "copy_of": self.copy_of,
                # Sentences addressed to an AI assistant: kept in the article, never read or cited (index/injection.py).
                "flagged_sentences": len(flagged_spans(self.article.text))}


_COLS = ("article_id, title, outlet, author, published, url, source, text, status, collection, n_chunks, added_at,"
         " copy_of")
_CHUNK_ROWS = ('SELECT c.chunk_id, c.article_id, c.ordinal, c.start, c."end", a.text, a.title, a.outlet,'
               " a.author, a.published, a.url, a.source FROM chunks c JOIN articles a ON a.article_id = c.article_id")
_BATCH = 500  # ids per IN (...) list
_INSERT_ARTICLE = text(f"INSERT INTO articles({_COLS}, minhash) VALUES (:a, :title, :outlet, :author, :published, "
                       ":url, :source, :text, 'pending', :collection, :n, :added, :copy_of, :minhash)"
                       ).bindparams(bindparam("minhash", type_=LargeBinary))


def _ids(sql: str) -> Any:
    return text(sql).bindparams(bindparam("ids", expanding=True))


class Catalogue:
    """Articles and their chunk rows. Safe to share between threads: each operation takes its own connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._identity: str | None = None
        # SQLite would walk the status index (every complete article) instead of looking rows up by primary key
        # when a query also filters on status: 220-570 ms instead of 0.9 ms at 100k chunks (docs/BENCHMARKS.md).
        # "+status" makes the column an expression SQLite cannot use an index for; Postgres plans this well.
        self._status = "+{}status" if db.dialect == "sqlite" else "{}status"
        self._by_chunk_ids = _ids(_CHUNK_ROWS + f" WHERE {self._status.format('a.')} = 'complete'"
                                  " AND c.chunk_id IN :ids")
        self._heads_by_ids = _ids("SELECT article_id, copy_of FROM articles WHERE copy_of IS NOT NULL"
                                  f" AND {self._status.format('')} != 'removing' AND article_id IN :ids")
        self._groups = _ids("SELECT article_id, copy_of, outlet, url, published FROM articles"
                            " WHERE status = 'complete' AND (article_id IN :ids OR copy_of IN :ids)"
                            " ORDER BY added_at, article_id")
        self._outlets_by_ids = _ids("SELECT article_id, outlet, published FROM articles"
                                    f" WHERE {self._status.format('')} = 'complete' AND article_id IN :ids")

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.db.transaction() as conn:
            yield conn

    @contextmanager
    def reading(self, snapshot: bool = True) -> Iterator[Connection]:
        with self.db.reading(snapshot) as conn:
            yield conn

    # --- reads -------------------------------------------------------------------------------
    @staticmethod
    def _record(row: Any) -> ArticleRecord:
        (aid, title, outlet, author, published, url, source, body, status, collection, n, added, copy_of) = row
        meta = ArticleMeta(title=title, outlet=outlet, author=author, published=published, url=url, source=source)
        return ArticleRecord(Article(aid, meta, body), status, n, added, collection, copy_of)

    def get(self, article_id: str) -> ArticleRecord | None:
        with self.reading(snapshot=False) as db:
            row = db.execute(text(f"SELECT {_COLS} FROM articles WHERE article_id = :a"), {"a": article_id}).first()
        return self._record(row) if row else None

    def find_by_prefix(self, prefix: str) -> list[str]:
        # A prefix of hex digits only: no LIKE wildcards can sneak in.
        if not prefix or any(c not in "0123456789abcdef" for c in prefix):
            return []
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT article_id FROM articles WHERE article_id LIKE :p LIMIT 3"),
                              {"p": prefix + "%"}).all()
        return [r[0] for r in rows]

    def complete_by_url(self, url: str) -> list[str]:
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT article_id FROM articles WHERE url = :u AND status = 'complete'"),
                              {"u": url}).all()
        return [r[0] for r in rows]

    def records(self, status: str | None = "complete") -> list[ArticleRecord]:
        where = "WHERE status = :s" if status else ""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text(f"SELECT {_COLS} FROM articles {where} ORDER BY added_at, article_id"),
                              {"s": status} if status else {}).all()
        return [self._record(r) for r in rows]

    def status_of(self) -> dict[str, str]:
        with self.reading(snapshot=False) as db:
            return {r[0]: r[1] for r in db.execute(text("SELECT article_id, status FROM articles"))}

    def counts(self) -> tuple[int, int]:
        """(complete articles, their chunks)."""
        with self.reading(snapshot=False) as db:
            row = db.execute(text("SELECT count(*), coalesce(sum(n_chunks), 0) FROM articles "
                                  "WHERE status = 'complete'")).one()
        return int(row[0]), int(row[1])

    def complete_ids(self) -> set[str]:
        with self.reading(snapshot=False) as db:
            return {r[0] for r in db.execute(text("SELECT article_id FROM articles WHERE status = 'complete'"))}

    def chunk_ids(self, article_id: str) -> list[str]:
        with self.reading(snapshot=False) as db:
            return [r[0] for r in db.execute(text("SELECT chunk_id FROM chunks WHERE article_id = :a ORDER BY ordinal"),
                                             {"a": article_id})]

    def all_chunk_ids(self) -> dict[str, str]:
        """chunk_id -> article_id for every chunk row, whatever its article's status."""
        with self.reading(snapshot=False) as db:
            return {r[0]: r[1] for r in db.execute(text("SELECT chunk_id, article_id FROM chunks"))}

    @staticmethod
    def _chunk(row: Any) -> tuple[Chunk, ArticleMeta]:
        cid, aid, ordinal, start, end, body, title, outlet, author, published, url, source = row
        return (Chunk(cid, aid, ordinal, start, end, body[start:end]),
                ArticleMeta(title, outlet, author, published, url, source))

    def complete_chunk_keys(self) -> list[tuple[str, float]]:
        """(chunk_id, its article's added_at) of every chunk of every complete article, in a stable order.

        A replica's keyword index holds these; `added_at` tells a removed and re-added article (same chunk ids,
        perhaps another title) from the one it held.
        """
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT c.chunk_id, a.added_at FROM chunks c JOIN articles a "
                                   "ON a.article_id = c.article_id WHERE a.status = 'complete' "
                                   "ORDER BY a.added_at, c.article_id, c.ordinal")).all()
        return [(r[0], float(r[1])) for r in rows]

    def complete_chunks(self) -> list[tuple[Chunk, ArticleMeta]]:
        """Every chunk of every complete article, text cut from the article (for the keyword index)."""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text(_CHUNK_ROWS + " WHERE a.status = 'complete'"
                                   " ORDER BY a.added_at, c.article_id, c.ordinal")).all()
        return [self._chunk(r) for r in rows]

    def chunks_by_ids(self, chunk_ids: Sequence[str]) -> dict[str, tuple[Chunk, ArticleMeta]]:
        """Chunks (text cut from their article) and their article's metadata, for complete articles only."""
        out: dict[str, tuple[Chunk, ArticleMeta]] = {}
        ids = list(dict.fromkeys(chunk_ids))
        with self.reading(snapshot=len(ids) > _BATCH) as db:
            for i in range(0, len(ids), _BATCH):
                rows = db.execute(self._by_chunk_ids, {"ids": ids[i:i + _BATCH]}).all()
                out.update((r[0], self._chunk(r)) for r in rows)
        return out

    def outlets_and_days(self, article_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """article_id -> (outlet, ISO day published) of complete articles; '' where unknown.

        Retrieval reads these for a few hundred candidates per question: from here, by primary key, they cost
        ~1 ms, while asking Chroma for the candidates' metadata cost ~7 ms at 100k chunks.
        """
        out: dict[str, tuple[str, str]] = {}
        ids = list(dict.fromkeys(article_ids))
        with self.reading(snapshot=len(ids) > _BATCH) as db:
            for i in range(0, len(ids), _BATCH):
                rows = db.execute(self._outlets_by_ids, {"ids": ids[i:i + _BATCH]}).all()
                out.update((aid, (outlet or "", (published or "")[:10])) for aid, outlet, published in rows)
        return out

    def article_ids_published(self, since: str | None, until: str | None, outlets: Sequence[str],
                              limit: int) -> list[str] | None:
        """Ids of complete articles published in [since, until] (ISO days, inclusive) by these outlets (any when
        empty); None when more than `limit` match (the caller then filters candidates instead)."""
        where = ["status = 'complete'"]
        params: dict[str, object] = {"limit": limit + 1}
        if since:
            where.append("substr(published, 1, 10) >= :since")
            params["since"] = since
        if until:
            where.append("substr(published, 1, 10) <= :until")
            params["until"] = until
        if since or until:
            where.append("published IS NOT NULL")
        sql = f"SELECT article_id FROM articles WHERE {' AND '.join(where)}"
        query = text(sql + " LIMIT :limit")
        if outlets:
            query = text(sql + " AND outlet IN :outlets LIMIT :limit").bindparams(bindparam("outlets", expanding=True))
            params["outlets"] = list(outlets)
        with self.reading() as db:
            ids = [r[0] for r in db.execute(query, params)]
        return ids if len(ids) <= limit else None

    def outlets(self) -> list[str]:
        """Distinct outlets of complete articles, sorted."""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT DISTINCT outlet FROM articles WHERE status = 'complete' "
                                   "AND outlet IS NOT NULL AND outlet != ''")).all()
        return sorted(r[0] for r in rows)

    # --- what alerts read (index/alert_store.py) ---------------------------------------------
    def added_since(self, after: float) -> list[tuple[str, float]]:
        """(article_id, added_at) of the complete articles added after `after` (on the `added_at` clock), oldest
        first."""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT article_id, added_at FROM articles WHERE added_at > :t "
                                   "AND status = 'complete' ORDER BY added_at, article_id"), {"t": after}).all()
        return [(r[0], float(r[1])) for r in rows]

    def count_added_since(self, after: float) -> int:
        """How many complete articles were added after `after`."""
        with self.reading(snapshot=False) as db:
            return int(db.execute(text("SELECT count(*) FROM articles WHERE added_at > :t AND status = 'complete'"),
                                  {"t": after}).scalar_one())

    # --- wire copies (index/copies.py) ----------------------------------------------------------
    def signatures(self) -> list[tuple[str, bytes]]:
        """(article_id, MinHash signature) of every complete article that has one."""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT article_id, minhash FROM articles WHERE status = 'complete' "
                                   "AND minhash IS NOT NULL ORDER BY added_at, article_id")).all()
        return [(r[0], bytes(r[1])) for r in rows]

    def unsigned(self) -> list[tuple[str, str]]:
        """(article_id, text) of complete articles without a signature, oldest first."""
        with self.reading(snapshot=False) as db:
            rows = db.execute(text("SELECT article_id, text FROM articles WHERE status = 'complete' "
                                   "AND minhash IS NULL ORDER BY added_at, article_id")).all()
        return [(r[0], r[1]) for r in rows]

    def copy_heads(self, article_ids: Sequence[str]) -> dict[str, str]:
        """article_id -> the first copy of its group, for those of these articles that copy another."""
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(article_ids))
        with self.reading(snapshot=len(ids) > _BATCH) as db:
            for i in range(0, len(ids), _BATCH):
                rows = db.execute(self._heads_by_ids, {"ids": ids[i:i + _BATCH]}).all()
                out.update((r[0], r[1]) for r in rows)
        return out

    def copies_of(self, heads: Sequence[str]) -> dict[str, list[ArticleCopy]]:
        """First copy -> every complete member of its group (itself included), oldest first; groups of one left out."""
        out: dict[str, list[ArticleCopy]] = {}
        if not heads:
            return out
        with self.reading(snapshot=False) as db:
            rows = db.execute(self._groups, {"ids": list(dict.fromkeys(heads))}).all()
        for aid, copy_of, outlet, url, published in rows:
            out.setdefault(copy_of or aid, []).append(ArticleCopy(aid, outlet or "", url, published))
        return {h: members for h, members in out.items() if len(members) > 1}

    def generation(self) -> int:
        """Bumped by every change of the complete set, so readers know when to reload."""
        return int(self.get_state("generation") or 0)

    def identity(self) -> str:
        """A random id made once per catalogue, so a replica's keyword index knows which catalogue it follows
        (a home pointed at another database, or at a re-created one, must not trust its old build)."""
        if self._identity is None:
            value = self.get_state("catalogue_id")
            if value is None:
                with self.transaction() as db:
                    db.execute(text("INSERT INTO state(key, value) VALUES ('catalogue_id', :v) "
                                    "ON CONFLICT(key) DO NOTHING"), {"v": uuid.uuid4().hex})
                value = self.get_state("catalogue_id")
            self._identity = value
        assert self._identity is not None
        return self._identity

    def version(self) -> str:
        """The catalogue's identity and generation: what a keyword index build is stamped with."""
        return self.version_at(self.generation())

    def version_at(self, generation: int) -> str:
        return f"{self.identity()}:{generation}"

    def store_version(self) -> str:
        """Changes around every write to the vector store, so other processes know to reload it."""
        return self.get_state("store_version") or "0"

    def bump_store_version(self) -> None:
        with self.transaction() as db:
            _increment(db, "store_version")

    def get_state(self, key: str) -> str | None:
        with self.reading(snapshot=False) as db:
            row = db.execute(text("SELECT value FROM state WHERE key = :k"), {"k": key}).first()
        return str(row[0]) if row else None

    # --- writes (callers hold the index write lock) ------------------------------------------
    def add_pending(self, items: Sequence[tuple[Article, Sequence[Chunk]]], collection: str,
                    copies: Mapping[str, tuple[str | None, bytes]] | None = None) -> None:
        """Write articles `pending` with their chunk rows; `copies`: article_id -> (the first copy of its group or
        None, its MinHash signature), written in the same transaction as the row."""
        now = time.time()
        copies = copies or {}
        with self.transaction() as db:
            for n, (article, chunks) in enumerate(items):
                m = article.meta
                copy_of, signature = copies.get(article.article_id, (None, None))
                db.execute(text("DELETE FROM articles WHERE article_id = :a"), {"a": article.article_id})
                db.execute(_INSERT_ARTICLE,
                           {"a": article.article_id, "title": m.title, "outlet": m.outlet, "author": m.author,
                            "published": m.published, "url": m.url, "source": m.source, "text": article.text,
                            "collection": collection, "n": len(chunks), "copy_of": copy_of,
                            # a microsecond apart, so the order they came in is kept (the "next-oldest" copy)
                            "added": now + n * 1e-6,
                            "minhash": signature})
                _insert_chunks(db, chunks)

    def complete(self, article_ids: Sequence[str], replaced: Sequence[str] = ()) -> None:
        """Make articles searchable and retire the ones they replace, in one transaction."""
        with self.transaction() as db:
            _set_status(db, article_ids, "complete")
            _set_status(db, replaced, "removing")
            _regroup(db, replaced)
            _increment(db, "generation")

    def rechunk(self, article_id: str, chunks: Sequence[Chunk], collection: str) -> None:
        """Point a complete article at new chunk rows (their vectors are stored already), in one transaction."""
        with self.transaction() as db:
            db.execute(text("DELETE FROM chunks WHERE article_id = :a"), {"a": article_id})
            _insert_chunks(db, chunks)
            db.execute(text("UPDATE articles SET collection = :c, n_chunks = :n WHERE article_id = :a"),
                       {"c": collection, "n": len(chunks), "a": article_id})
            _increment(db, "generation")

    def mark_removing(self, article_id: str) -> None:
        with self.transaction() as db:
            _set_status(db, [article_id], "removing")
            _regroup(db, [article_id])
            _increment(db, "generation")

    def delete(self, article_ids: Sequence[str]) -> None:
        with self.transaction() as db:
            if article_ids:
                _regroup(db, article_ids)
                db.execute(text("DELETE FROM articles WHERE article_id = :a"), [{"a": a} for a in article_ids])
            _increment(db, "generation")

    def regroup(self, heads: Sequence[str]) -> None:
        """Groups whose first copy is gone (`newsdesk doctor --repair`): the next-oldest copy becomes the first."""
        with self.transaction() as db:
            _regroup(db, heads)
            _increment(db, "generation")

    def set_copies(self, copies: Mapping[str, tuple[str | None, bytes]]) -> None:
        """Group and sign articles already complete (indexed before grouping was on), in one transaction."""
        if copies:
            with self.transaction() as db:
                db.execute(text("UPDATE articles SET copy_of = :c, minhash = :m WHERE article_id = :a")
                           .bindparams(bindparam("m", type_=LargeBinary)),
                           [{"a": a, "c": c, "m": m} for a, (c, m) in copies.items()])
                _increment(db, "generation")


def _insert_chunks(db: Connection, chunks: Sequence[Chunk]) -> None:
    if chunks:
        db.execute(text('INSERT INTO chunks(chunk_id, article_id, ordinal, start, "end") VALUES (:c, :a, :o, :s, :e)'),
                   [{"c": c.chunk_id, "a": c.article_id, "o": c.ordinal, "s": c.start, "e": c.end} for c in chunks])


def _regroup(db: Connection, leaving: Sequence[str]) -> None:
    """Groups whose first copy leaves (removed or replaced) get the next-oldest remaining copy as their first."""
    if not leaving:
        return
    rows = db.execute(_ids("SELECT article_id, copy_of FROM articles WHERE copy_of IN :ids AND status != 'removing'"
                           " ORDER BY added_at, article_id"), {"ids": list(leaving)}).all()
    gone = set(leaving)
    promoted: dict[str, str] = {}
    for aid, head in rows:
        if aid not in gone and head not in promoted:
            promoted[head] = aid
    for old, new in promoted.items():
        db.execute(text("UPDATE articles SET copy_of = NULL WHERE article_id = :n"), {"n": new})
        db.execute(text("UPDATE articles SET copy_of = :n WHERE copy_of = :o AND article_id != :n"),
                   {"n": new, "o": old})


def _set_status(db: Connection, article_ids: Sequence[str], status: str) -> None:
    if article_ids:
        db.execute(text("UPDATE articles SET status = :s WHERE article_id = :a"),
                   [{"s": status, "a": a} for a in article_ids])


def _increment(db: Connection, key: str) -> None:
    db.execute(text("INSERT INTO state(key, value) VALUES (:k, '1') ON CONFLICT(key) DO UPDATE "
                    "SET value = CAST(CAST(state.value AS INTEGER) + 1 AS TEXT)"), {"k": key})
