"""The index against real Chroma (embedded and a real `chroma run` server) and the real embedder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.errors import NotFound
from index.news_index import NewsIndex
from index.settings import IndexSettings
from index.sources import Source, sources_from_paths
from tests.conftest import CORPUS

ARTICLE = ("---\ntitle: Harbour reopens\nurl: https://example.com/harbour\n---\n"
           "The harbour in Kiel reopened on Tuesday after a storm closed it for three days. "
           "Ferries to Oslo resumed in the evening, the port authority said.")


@pytest.fixture
def index(index_settings: IndexSettings) -> NewsIndex:
    return NewsIndex(index_settings)


def chunk_count(index: NewsIndex) -> int:
    return index.store.count()


def test_ingest_corpus_then_reingest_changes_nothing(index: NewsIndex) -> None:
    first = index.ingest(sources_from_paths([CORPUS]))
    assert first.count("added") == 2 and not first.rejected
    n = chunk_count(index)
    assert n == sum(o.chunks for o in first.outcomes) > 2
    again = index.ingest(sources_from_paths([CORPUS]))
    assert again.count("unchanged") == 2 and again.count("added") == 0
    assert chunk_count(index) == n


def test_edited_article_with_same_url_replaces_old_chunks(index: NewsIndex) -> None:
    index.ingest([Source("v1", text=ARTICLE)])
    (old,) = index.articles()
    edited = ARTICLE.replace("three days", "four days")
    report = index.ingest([Source("v2", text=edited)])
    assert report.count("replaced") == 1
    (new,) = index.articles()
    assert new.article.article_id != old.article.article_id and "four days" in new.article.text
    assert set(index.store.ids_by_article().values()) == {new.article.article_id}
    with pytest.raises(NotFound):
        index.get(old.article.article_id)


def test_remove_leaves_no_orphan_chunks(index: NewsIndex) -> None:
    index.ingest(sources_from_paths([CORPUS]))
    victim = index.articles()[0].article.article_id
    index.remove(victim[:12])  # a unique prefix works like the full id
    assert victim not in set(index.store.ids_by_article().values())
    assert victim not in index.complete_ids()
    assert all(cid.split(":")[0] != victim for cid, _ in index.keyword.search("Stoltenberg Biden NATO", 50))


def test_bad_files_are_rejected_and_the_rest_of_the_batch_lands(index: NewsIndex, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(CORPUS / "000_4bb9b37ee3aee4b5.txt", folder / "good.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x7fELF" + bytes(range(256)) * 4)
    (folder / "cp1252.txt").write_bytes(
        "Die Caf\u00e9s in Br\u00fcssel \u00f6ffnen wieder, sagte der B\u00fcrgermeister.".encode("cp1252"))
    (folder / "evil.html").write_text("<html><body><p>Officials confirmed the bridge will reopen next week.</p>"
                                      "<script>alert(1)</script><img src=x onerror=alert(2)></body></html>")
    report = index.ingest(sources_from_paths([folder]))
    rejected = {Path(o.source).name: o.reason for o in report.rejected}
    assert set(rejected) == {"empty.txt", "binary.txt"}
    assert "empty.txt" in rejected["empty.txt"] and "binary.txt" in rejected["binary.txt"]
    assert report.count("added") == 3
    texts = " ".join(r.article.text for r in index.articles())
    assert "Cafés in Brüssel" in texts and "alert" not in texts
    assert chunk_count(index) == sum(r.n_chunks for r in index.articles())


def test_pending_leftovers_are_finished_by_next_ingest(index: NewsIndex) -> None:
    from index.chunking import chunk_article
    from index.parse import parse_text

    # What a writer killed between "pending" and "complete" leaves behind: rows and vectors.
    article = parse_text(ARTICLE)
    chunks = chunk_article(article)
    index.catalogue.add_pending([(article, chunks)], index.store.name)
    index.store.upsert(chunks, [article.meta] * len(chunks), index.embedder.embed_documents([c.text for c in chunks]))
    assert article.article_id not in index.complete_ids()
    report = index.ingest([Source("again", text=ARTICLE)])
    assert report.count("added") == 1
    assert index.store.count() == len(chunks)
