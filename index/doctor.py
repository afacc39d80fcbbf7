"""Check the catalogue against the vector store and, on request, repair without losing complete articles."""

from __future__ import annotations

from typing import Any

from index.lock import write_lock
from index.news_index import NewsIndex


def check_index(index: NewsIndex, repair: bool = False) -> dict[str, Any]:
    """Returns {"ok": bool, "problems": [{"kind", "detail", "repaired"?}], "articles": n, "chunks": n}."""
    with write_lock(index.settings.home, index.settings.lock_timeout_s):
        problems: list[dict[str, Any]] = []
        statuses = index.catalogue.status_of()
        rows = index.catalogue.all_chunk_ids()  # chunk_id -> article_id, all statuses
        stored = index.store.ids_by_article()  # chunk_id -> article_id in Chroma
        records = {r.article.article_id: r for r in index.catalogue.records(None)}

        for aid, status in statuses.items():
            if status != "complete":
                problems.append({"kind": f"{status}_article", "article_id": aid,
                                 "detail": f"article {aid[:12]} was left {status!r} by an interrupted write"})
        for aid, record in records.items():
            if record.status != "complete":
                continue
            expected = {cid for cid, a in rows.items() if a == aid}
            missing = sorted(cid for cid in expected if cid not in stored)
            if missing or len(expected) != record.n_chunks:
                problems.append({"kind": "article_without_chunks", "article_id": aid,
                                 "detail": f"article {aid[:12]} lists {record.n_chunks} chunks; "
                                           f"{len(missing)} are missing from the vector store"})
            from index.parse import article_id_for
            if article_id_for(record.article.text) != aid:
                problems.append({"kind": "hash_mismatch", "article_id": aid,
                                 "detail": f"article {aid[:12]}'s text no longer hashes to its id"})
            if record.collection != index.store.name:
                problems.append({"kind": "collection_mismatch", "article_id": aid,
                                 "detail": f"article {aid[:12]} was indexed into {record.collection}, but the "
                                           f"settings now use {index.store.name}; re-ingest it"})
        orphans = sorted(cid for cid, aid in stored.items() if statuses.get(aid) != "complete")
        if orphans:
            problems.append({"kind": "chunks_without_article", "chunk_ids": orphans[:20],
                             "detail": f"{len(orphans)} chunk(s) in the vector store belong to no complete article"})
        if index.keyword.stored_generation() != index.catalogue.generation():
            problems.append({"kind": "keyword_index_stale", "detail": "the BM25 index is older than the catalogue"})

        if repair and problems:
            _repair(index, problems, orphans, records)
        ok = all(p.get("repaired") for p in problems) if repair else not problems
        return {"ok": ok, "problems": problems, "articles": sum(1 for s in statuses.values() if s == "complete"),
                "chunks": len(stored) - (len(orphans) if repair else 0)}


def _repair(index: NewsIndex, problems: list[dict[str, Any]], orphans: list[str], records: dict[str, Any]) -> None:
    from index.chunking import chunk_article

    index.store.delete(orphans)
    for p in problems:
        kind = p["kind"]
        if kind in ("pending_article", "removing_article"):
            index._purge([p["article_id"]])
            p["repaired"] = True
        elif kind == "chunks_without_article":
            p["repaired"] = True
        elif kind == "article_without_chunks":
            # The text is in the catalogue, so the vectors can be rebuilt: nothing is lost.
            article = records[p["article_id"]].article
            chunks = chunk_article(article, index.settings.chunk_chars, index.settings.chunk_overlap)
            vectors = index.embedder.embed_documents([index.indexed_text(c, article.meta) for c in chunks])
            index.store.upsert(chunks, [article.meta] * len(chunks), vectors)
            p["repaired"] = True
    index._rebuild_keyword()
    for p in problems:
        if p["kind"] == "keyword_index_stale":
            p["repaired"] = True
