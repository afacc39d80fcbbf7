"""The only Chroma code: client, collection, Chunk <-> metadata, upsert/delete/query."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlparse

from index.errors import BackendUnavailable, ConfigError
from index.lock import unless_writing
from index.settings import IndexSettings
from index.types import ArticleMeta, Chunk, article_id_of

_RETRIES = 20  # reads that hit chromadb's first-write race, 50 ms apart (see ChunkStore._call)
# Chroma logs telemetry failures loudly on a machine without network; it is off anyway.
logging.getLogger("chromadb.telemetry.product.posthog").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class StoredHit:
    chunk_id: str
    article_id: str
    similarity: float  # cosine similarity of normalised vectors, 1 = identical
    metadata: dict[str, Any]  # chunk_metadata(): article_id, ordinal, offsets, title, outlet, published, url


def make_client(settings: IndexSettings) -> Any:
    """`chroma_url` -> HttpClient against a `chroma run` server, else PersistentClient under home."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not settings.chroma_url:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path.resolve()), settings=chroma_settings)
    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"NEWSDESK_INDEX__CHROMA_URL={settings.chroma_url!r} is not an http(s) URL.")
    try:
        client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
                                     ssl=url.scheme == "https", settings=chroma_settings)
        client.heartbeat()
    except Exception as e:  # chromadb raises several unrelated types for "nothing listens there"
        raise BackendUnavailable(
            f"No Chroma server answers at {settings.chroma_url} ({type(e).__name__}). Start one with "
            "`chroma run --host 127.0.0.1 --port PORT`, or unset NEWSDESK_INDEX__CHROMA_URL to use the local index."
        ) from e
    return client


class _ReadWriteLock:
    """Many threads use the client at once; reloading it waits for them and holds them off."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class _EmbeddedClient:
    """This process's PersistentClient for one path, reloaded when another process has changed the store.

    An open PersistentClient keeps the vector index it loaded: measured with chromadb 1.5, a reader
    process found 0 of 200 vectors that another process added after it opened (counts and gets were
    current; only queries were stale), while a freshly opened client found all 200. Chroma already
    shares one client System per path within a process, so this mirrors that with one handle per path.
    """

    _registry: ClassVar[dict[str, _EmbeddedClient]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, settings: IndexSettings, version: object) -> None:
        self.settings = settings
        self.seen = version  # the store version this client has loaded
        self.client = make_client(settings)
        self.epoch = 0  # bumped by each reload, so collections are fetched again
        self.rw = _ReadWriteLock()
        self._reload_lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: IndexSettings, version: Callable[[], object]) -> _EmbeddedClient:
        key = str(settings.chroma_path.resolve())
        with cls._registry_lock:
            if key not in cls._registry:
                cls._registry[key] = cls(settings, version())  # version read first: a write after it reloads
            return cls._registry[key]

    def reload(self, version: object) -> None:
        with self._reload_lock:
            if self.seen == version:
                return  # another thread reloaded meanwhile
            with self.rw.writing():
                self.client.close()
                self.client = make_client(self.settings)
                self.epoch += 1
                self.seen = version


def chunk_metadata(chunk: Chunk, meta: ArticleMeta) -> dict[str, str | int]:
    md: dict[str, str | int] = {"article_id": chunk.article_id, "ordinal": chunk.ordinal,
                                "start": chunk.start, "end": chunk.end, "title": meta.title}
    # Chroma rejects None values: optional fields are left out.
    for key, value in (("outlet", meta.outlet), ("published", meta.published), ("url", meta.url)):
        if value:
            md[key] = value
    return md


class ChunkStore:
    """One Chroma collection of chunk vectors; ids are chunk ids, so writes are idempotent upserts.

    `version` returns the shared store version (the catalogue bumps it around every write). In embedded
    mode, a query first reloads the client when another process has changed the store since it was
    loaded; a `chroma run` server is one shared copy and needs no reload.
    """

    def __init__(self, settings: IndexSettings, client: Any | None = None,
                 version: Callable[[], object] | None = None) -> None:
        self.settings = settings
        self.url = settings.chroma_url or str(settings.chroma_path)
        self.name = settings.collection_name()
        self._version = version or (lambda: None)
        self._shared: _EmbeddedClient | None = None
        if client is None and not settings.chroma_url:
            self._shared = _EmbeddedClient.for_settings(settings, self._version)
        self._client = client if client is not None or self._shared else make_client(settings)
        self._collection: tuple[int, Any] | None = None
        self._call(lambda col: None)  # create the collection now: a bad URL or path fails here, not at first use

    @property
    def client(self) -> Any:
        return self._shared.client if self._shared else self._client

    def _get_collection(self) -> Any:
        epoch = self._shared.epoch if self._shared else 0
        if self._collection is None or self._collection[0] != epoch:
            col = self.client.get_or_create_collection(
                self.name, embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": self.settings.embedding_model,
                          "chunk_chars": self.settings.chunk_chars, "chunk_overlap": self.settings.chunk_overlap})
            self._collection = (epoch, col)
        return self._collection[1]

    def refresh(self, writer: bool = False) -> None:
        """Reload the embedded client if another process changed the store since it was loaded.

        Readers reload only while no writer holds the index (they keep their consistent older view until
        then); a writer calls this holding the write lock, before it writes.
        """
        shared = self._shared
        if shared is None:
            return
        version = self._version()
        if version == shared.seen:
            return
        if writer:
            shared.reload(version)
            return
        with unless_writing(self.settings.home) as free:
            if free:
                shared.reload(version)

    def mark_current(self) -> None:
        """After this process's own writes (under the write lock): its client already holds them."""
        if self._shared is not None:
            self._shared.seen = self._version()

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        for attempt in range(_RETRIES):
            try:
                return self._call_once(fn)
            except Exception as e:
                # chromadb 1.5's server fails a query that lands while a fresh collection takes its first write
                # ("Error creating hnsw segment reader: Nothing found on disk"): seen once in 3 runs of 1,200+
                # queries beside a writer, always before the first write had returned. A moment later it answers.
                if attempt + 1 == _RETRIES or "nothing found on disk" not in str(e).lower():
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _call_once(self, fn: Callable[[Any], Any]) -> Any:
        try:
            if self._shared is None:
                return fn(self._get_collection())
            with self._shared.rw.reading():
                return fn(self._get_collection())
        except Exception as e:
            if self.settings.chroma_url and _is_connection_error(e):
                raise BackendUnavailable(f"Lost the Chroma server at {self.settings.chroma_url} ({type(e).__name__}). "
                                         "Check that `chroma run` is still up.") from e
            raise

    def upsert(self, chunks: Sequence[Chunk], metas: Sequence[ArticleMeta], vectors: Sequence[Sequence[float]]) -> None:
        if not chunks:
            return
        # Chroma caps one call's batch size; 5,000 keeps well under it.
        for i in range(0, len(chunks), 5000):
            part = slice(i, i + 5000)
            self._call(lambda col: col.upsert(
                ids=[c.chunk_id for c in chunks[part]],
                embeddings=[list(v) for v in vectors[part]],
                documents=[c.text for c in chunks[part]],
                metadatas=[chunk_metadata(c, m) for c, m in zip(chunks[part], metas[part])]))

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for i in range(0, len(chunk_ids), 5000):
            ids = list(chunk_ids[i:i + 5000])
            if ids:
                self._call(lambda col: col.delete(ids=ids))

    def delete_article(self, article_id: str) -> None:
        self._call(lambda col: col.delete(where={"article_id": article_id}))

    def count(self) -> int:
        return int(self._call(lambda col: col.count()))

    def ids_by_article(self) -> dict[str, str]:
        """chunk_id -> article_id for everything in the collection (doctor's view of the store)."""
        out: dict[str, str] = {}
        offset = 0
        while True:
            got = self._call(lambda col: col.get(include=["metadatas"], limit=5000, offset=offset))
            for cid, md in zip(got["ids"], got["metadatas"]):
                out[cid] = str((md or {}).get("article_id", ""))
            if len(got["ids"]) < 5000:
                return out
            offset += 5000

    def embeddings(self, chunk_ids: Sequence[str]) -> dict[str, Sequence[float]]:
        """Stored vectors of these chunks (chunk_id -> vector).

        Ids that this process's view of the embedded store lacks are left out: chunks another process
        added (BM25 already lists them) or deleted since the client was loaded. Chroma fails the whole
        call for one such id ("Error finding id"); measured: 638 failed questions in 60 s with two
        writer processes, when all ids were asked for at once.
        """
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return {}
        try:
            return self._vectors(self._call(lambda col: col.get(ids=ids, include=["embeddings"])))
        except Exception as e:
            if not _is_missing_id(e):
                raise
        out: dict[str, Sequence[float]] = {}
        for cid in ids:  # one by one, skipping the ids this view lacks
            try:
                out.update(self._vectors(self._call(lambda col: col.get(ids=[cid], include=["embeddings"]))))
            except Exception as e:
                if not _is_missing_id(e):
                    raise
        return out

    @staticmethod
    def _vectors(got: Any) -> dict[str, Sequence[float]]:
        # Rows as Chroma returns them (numpy float32): turning them into lists of floats cost ~3 ms a question.
        vectors = got.get("embeddings")
        if vectors is None or not len(vectors):
            return {}
        return dict(zip(got["ids"], vectors))

    def query(self, vector: Sequence[float], k: int, with_metadata: bool = True,
              article_ids: Sequence[str] | None = None) -> list[StoredHit]:
        """The k nearest chunks, best first (fewer when the collection is smaller); only chunks of `article_ids`
        when given.

        No `count()` first: chromadb 1.5 returns what it has when k exceeds the collection, and at 100k
        chunks `count()` cost ~9 ms per call. Documents are never fetched (callers read chunk text from the
        catalogue), and metadata only when asked for: for 200 results it cost ~7 ms, the search itself 2 ms.
        """
        self.refresh()
        if article_ids is not None and not article_ids:
            return []
        include = ["metadatas", "distances"] if with_metadata else ["distances"]
        where = {"article_id": {"$in": list(article_ids)}} if article_ids is not None else None
        got = self._call(lambda col: col.query(query_embeddings=[list(vector)], n_results=max(1, k), include=include,
                                               where=where))
        metadatas = got["metadatas"][0] if with_metadata else [None] * len(got["ids"][0])
        return [StoredHit(cid, str((md or {}).get("article_id", article_id_of(cid))), 1.0 - float(dist),
                          dict(md or {}))
                for cid, md, dist in zip(got["ids"][0], metadatas, got["distances"][0])]


def _is_missing_id(e: Exception) -> bool:
    return "error finding id" in str(e).lower()


def _is_connection_error(e: Exception) -> bool:
    text = f"{type(e).__name__} {e}".lower()
    return any(word in text for word in ("connect", "timeout", "timed out", "refused", "unreachable", "remoteprotocol"))
