"""Check the catalogue against the vector store and, on request, repair without losing complete articles."""

from __future__ import annotations

from typing import Any

from index.chunking import chunk_article
from index.news_index import NewsIndex
from index.parse import article_id_for

# What a killed writer can leave behind; harmless to readers (they see complete articles only).
LEFTOVER_KINDS = frozenset({"pending_article", "removing_article", "chunks_without_article", "keyword_index_stale"})


def check_index(index: NewsIndex, repair: bool = False) -> dict[str, Any]:
    """Compare the catalogue with the vector store (and the BM25 index), holding the write lock.

    Problems found: articles left `pending`/`removing` by an interrupted write, complete articles
    whose chunks are missing from the store (`article_without_chunks`), stored chunks that belong to
    no complete article (`chunks_without_article`), text that no longer hashes to its article id
    (`hash_mismatch`), articles indexed under other embedding/chunking settings
    (`collection_mismatch`) and a stale BM25 index.

    Args:
        index: the index to check.
        repair: also fix what can be fixed without losing a complete article: leftovers are purged,
            missing or mismatched vectors are rebuilt from the article text kept in the catalogue,
            BM25 is rebuilt. A `hash_mismatch` is reported, never repaired (re-ingest the source).

    Returns:
        {"ok": bool, "problems": [{"kind", "detail", "article_id"?, "repaired"?}], "articles": n, "chunks": n};
        with `repair`, ok means every problem was repaired.

    Raises:
        IndexBusy: a writer kept the index longer than `lock_timeout_s`.
        BackendUnavailable: the Chroma server is unreachable.
    """
    with index.writing():
        problems = _find_problems(index)
        if repair and problems:
            _repair(index, problems)
        stored = index.store.count()
        complete = index.catalogue.complete_ids()
    ok = all(p.get("repaired") for p in problems) if repair else not problems
    return {"ok": ok, "problems": problems, "articles": len(complete), "chunks": stored}


def _find_problems(index: NewsIndex) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    statuses = index.catalogue.status_of()
    rows = index.catalogue.all_chunk_ids()  # chunk_id -> article_id, all statuses
    stored = index.store.ids_by_article()  # chunk_id -> article_id in Chroma
    by_article: dict[str, set[str]] = {}
    for cid, aid in rows.items():
        by_article.setdefault(aid, set()).add(cid)
    for record in index.catalogue.records(None):
        aid = record.article.article_id
        if record.status != "complete":
            problems.append({"kind": f"{record.status}_article", "article_id": aid,
                             "detail": f"article {aid[:12]} was left {record.status!r} by an interrupted write"})
            continue
        if article_id_for(record.article.text) != aid:
            problems.append({"kind": "hash_mismatch", "article_id": aid,
                             "detail": f"article {aid[:12]}'s text no longer hashes to its id; re-ingest its source"})
        if record.collection != index.store.name:
            problems.append({"kind": "collection_mismatch", "article_id": aid,
                             "detail": f"article {aid[:12]} was indexed into {record.collection}, but the settings "
                                       f"now use {index.store.name} (embedding model or chunking changed)"})
            continue
        expected = by_article.get(aid, set())
        missing = sorted(cid for cid in expected if cid not in stored)
        if missing or not expected or len(expected) != record.n_chunks:
            problems.append({"kind": "article_without_chunks", "article_id": aid,
                             "detail": f"article {aid[:12]} lists {record.n_chunks} chunks; "
                                       f"{len(missing)} of {len(expected)} are missing from the vector store"})
    # A stored chunk is an orphan unless it is one of a complete article's listed chunks.
    orphans = sorted(cid for cid in stored if statuses.get(rows.get(cid, "")) != "complete")
    if orphans:
        problems.append({"kind": "chunks_without_article", "chunk_ids": orphans,
                         "detail": f"{len(orphans)} chunk(s) in the vector store belong to no complete article"})
    if index.keyword.stored_generation() != index.catalogue.generation():
        problems.append({"kind": "keyword_index_stale", "detail": "the BM25 index is older than the catalogue"})
    return problems


def _repair(index: NewsIndex, problems: list[dict[str, Any]]) -> None:
    leftovers = [p["article_id"] for p in problems if p["kind"] in ("pending_article", "removing_article")]
    index._purge(leftovers)
    for p in problems:
        kind = p["kind"]
        if kind in ("pending_article", "removing_article"):
            p["repaired"] = True
        elif kind == "chunks_without_article":
            index.store.delete(p["chunk_ids"])
            p["repaired"] = True
        elif kind in ("article_without_chunks", "collection_mismatch"):
            # The text is in the catalogue, so the vectors can be rebuilt: the article stays complete
            # throughout (new vectors first, then its chunk rows switch over in one transaction).
            record = index.catalogue.get(p["article_id"])
            assert record is not None
            article = record.article
            chunks = chunk_article(article, index.settings.chunk_chars, index.settings.chunk_overlap)
            vectors = index.embedder.embed_documents([index.indexed_text(c, article.meta) for c in chunks])
            old = set(index.catalogue.chunk_ids(article.article_id)) if kind == "article_without_chunks" else set()
            index.store.upsert(chunks, [article.meta] * len(chunks), vectors)
            index.catalogue.rechunk(article.article_id, chunks, index.store.name)
            index.store.delete(sorted(old - {c.chunk_id for c in chunks}))
            p["repaired"] = True
    for p in problems:
        if isinstance(p.get("chunk_ids"), list) and len(p["chunk_ids"]) > 20:
            p["chunk_ids"] = p["chunk_ids"][:20]  # keep the report short; the count is in the detail
    index._rebuild_keyword()
    for p in problems:
        if p["kind"] == "keyword_index_stale":
            p["repaired"] = True
