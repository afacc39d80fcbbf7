"""The only Chroma code: client, collection, Chunk <-> metadata, upsert/delete/query."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import urlparse

from index.errors import BackendUnavailable, ConfigError
from index.settings import IndexSettings
from index.types import ArticleMeta, Chunk

# Chroma logs telemetry failures loudly on a machine without network; it is off anyway.
logging.getLogger("chromadb.telemetry.product.posthog").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class StoredHit:
    chunk_id: str
    article_id: str
    similarity: float  # cosine similarity of normalised vectors, 1 = identical
    document: str


def make_client(settings: IndexSettings) -> Any:
    """`chroma_url` -> HttpClient against a `chroma run` server, else PersistentClient under home."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not settings.chroma_url:
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
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


def chunk_metadata(chunk: Chunk, meta: ArticleMeta) -> dict[str, str | int]:
    md: dict[str, str | int] = {"article_id": chunk.article_id, "ordinal": chunk.ordinal,
                                "start": chunk.start, "end": chunk.end, "title": meta.title}
    # Chroma rejects None values: optional fields are left out.
    for key, value in (("outlet", meta.outlet), ("published", meta.published), ("url", meta.url)):
        if value:
            md[key] = value
    return md


class ChunkStore:
    """One Chroma collection of chunk vectors; ids are chunk ids, so writes are idempotent upserts."""

    def __init__(self, settings: IndexSettings, client: Any | None = None) -> None:
        self.settings = settings
        self.url = settings.chroma_url or str(settings.chroma_path)
        self.client = client if client is not None else make_client(settings)
        self.name = settings.collection_name()
        self.collection = self._call(lambda: self.client.get_or_create_collection(
            self.name, embedding_function=None,
            metadata={"hnsw:space": "cosine", "embedding_model": settings.embedding_model,
                      "chunk_chars": settings.chunk_chars, "chunk_overlap": settings.chunk_overlap}))

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
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
            self._call(lambda: self.collection.upsert(
                ids=[c.chunk_id for c in chunks[part]],
                embeddings=[list(v) for v in vectors[part]],
                documents=[c.text for c in chunks[part]],
                metadatas=[chunk_metadata(c, m) for c, m in zip(chunks[part], metas[part])]))

    def delete(self, chunk_ids: Sequence[str]) -> None:
        for i in range(0, len(chunk_ids), 5000):
            ids = list(chunk_ids[i:i + 5000])
            if ids:
                self._call(lambda: self.collection.delete(ids=ids))

    def delete_article(self, article_id: str) -> None:
        self._call(lambda: self.collection.delete(where={"article_id": article_id}))

    def count(self) -> int:
        return int(self._call(self.collection.count))

    def ids_by_article(self) -> dict[str, str]:
        """chunk_id -> article_id for everything in the collection (doctor's view of the store)."""
        out: dict[str, str] = {}
        offset = 0
        while True:
            got = self._call(lambda: self.collection.get(include=["metadatas"], limit=5000, offset=offset))
            for cid, md in zip(got["ids"], got["metadatas"]):
                out[cid] = str((md or {}).get("article_id", ""))
            if len(got["ids"]) < 5000:
                return out
            offset += 5000

    def query(self, vector: Sequence[float], k: int) -> list[StoredHit]:
        n = self.count()
        if n == 0:
            return []
        got = self._call(lambda: self.collection.query(query_embeddings=[list(vector)], n_results=min(k, n),
                                                       include=["metadatas", "distances", "documents"]))
        hits = []
        for cid, md, dist, doc in zip(got["ids"][0], got["metadatas"][0], got["distances"][0], got["documents"][0]):
            hits.append(StoredHit(cid, str((md or {}).get("article_id", "")), 1.0 - float(dist), doc or ""))
        return hits


def _is_connection_error(e: Exception) -> bool:
    text = f"{type(e).__name__} {e}".lower()
    return any(word in text for word in ("connect", "timeout", "timed out", "refused", "unreachable", "remoteprotocol"))
