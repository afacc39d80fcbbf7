"""Guarantees 3 and 7: one store contract run on embedded Chroma and on a real `chroma run` server, and
`newsdesk doctor [--json] [--repair]` finding and fixing each kind of problem."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from index.chunking import chunk_article
from index.doctor import check_index
from index.news_index import NewsIndex
from index.parse import parse_text
from index.settings import IndexSettings
from index.sources import Source
from index.store import ChunkStore
from index.types import ArticleMeta, Chunk
from ui.cli import main

# Numbered so no two chunks are identical (identical chunk texts are stored once).
TEXT = " ".join(f"The harbour in Kiel reopened on Tuesday after storm number {i} closed it for three days. "
                f"Ferries to Oslo resumed in the evening, the port authority said in notice {i}." for i in range(12))


@pytest.fixture
def settings(index_settings: IndexSettings) -> IndexSettings:
    return index_settings


def _chunks(n: int = 3) -> tuple[list[Chunk], list[ArticleMeta]]:
    article = parse_text(TEXT)
    chunks = chunk_article(article, 300, 50)[:n]
    return chunks, [article.meta] * len(chunks)


def _vec(i: int) -> list[float]:
    v = [0.0] * 384
    v[i % 384] = 1.0
    return v


def test_store_contract(settings: IndexSettings) -> None:
    store = ChunkStore(settings)
    assert store.count() == 0 and store.query(_vec(0), 5) == []
    chunks, metas = _chunks()
    store.upsert(chunks, metas, [_vec(i) for i in range(len(chunks))])
    store.upsert(chunks, metas, [_vec(i) for i in range(len(chunks))])  # idempotent: ids are chunk ids
    assert store.count() == len(chunks)
    assert store.ids_by_article() == {c.chunk_id: c.article_id for c in chunks}
    (hit,) = store.query(_vec(1), 1)
    assert hit.chunk_id == chunks[1].chunk_id and hit.similarity == pytest.approx(1.0, abs=1e-4)
    assert (hit.metadata["article_id"], hit.metadata["start"], hit.metadata["end"]) == \
        (chunks[1].article_id, chunks[1].start, chunks[1].end)
    store.delete([chunks[0].chunk_id])
    assert store.count() == len(chunks) - 1
    store.delete_article(chunks[0].article_id)
    assert store.count() == 0


def test_index_contract_and_a_second_replica(settings: IndexSettings) -> None:
    a = NewsIndex(settings)
    a.ingest([Source("kiel", text=TEXT)])
    # Another replica (same NEWSDESK_HOME, same server or path) sees the article and can remove it.
    b = NewsIndex(settings)
    assert [r.article.article_id for r in b.articles()] == [r.article.article_id for r in a.articles()]
    assert b.store.count() == a.articles()[0].n_chunks
    b.remove(a.articles()[0].article.article_id)
    assert a.articles() == [] and a.store.count() == 0
    assert check_index(a).ok


def _index_with_articles(home: Path) -> NewsIndex:
    index = NewsIndex(IndexSettings(home=home))
    index.ingest([Source("a", text=TEXT), Source("b", text=TEXT.replace("Kiel", "Ghent")),
                  Source("c", text=TEXT.replace("Kiel", "Porto"))])
    return index


def test_doctor_json_on_a_healthy_index(tmp_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _index_with_articles(tmp_home)
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["problems"] == [] and report["articles"] == 3


def test_doctor_finds_and_repairs_every_kind(tmp_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = _index_with_articles(tmp_home)
    complete = index.catalogue.complete_ids()
    first, second, third = (r.article for r in index.articles())
    # article_without_chunks: a vector deleted behind the catalogue's back
    index.store.delete([f"{first.article_id}:1"])
    # chunks_without_article: a stray vector
    stray = Chunk("f" * 32 + ":0", "f" * 32, 0, 0, 10, "stray text")
    index.store.upsert([stray], [ArticleMeta(title="stray")], [_vec(7)])
    # pending_article: what a writer killed mid-commit leaves
    pending = parse_text(TEXT.replace("Kiel", "Bergen"))
    pending_chunks = chunk_article(pending)
    index.catalogue.add_pending([(pending, pending_chunks)], index.store.name)
    index.store.upsert(pending_chunks, [pending.meta] * len(pending_chunks), [_vec(3)] * len(pending_chunks))
    # keyword_index_stale: the catalogue moved on (as after a crash between commit and BM25 rebuild)
    index.catalogue.mark_removing(pending.article_id)
    index.catalogue.add_pending([(pending, pending_chunks)], index.store.name)

    assert main(["doctor", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    kinds = {p["kind"] for p in report["problems"]}
    assert report["ok"] is False
    assert kinds == {"article_without_chunks", "chunks_without_article", "pending_article", "keyword_index_stale"}

    assert main(["doctor", "--json", "--repair"]) == 0
    repaired = json.loads(capsys.readouterr().out)
    assert repaired["ok"] and all(p["repaired"] for p in repaired["problems"])
    assert index.catalogue.complete_ids() == complete  # no complete article lost
    assert main(["doctor", "--json"]) == 0 and json.loads(capsys.readouterr().out)["problems"] == []
    assert f"{first.article_id}:1" in index.store.ids_by_article()  # rebuilt from the catalogue's text


def test_doctor_reports_hash_mismatch_and_never_deletes_the_article(tmp_home: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    index = _index_with_articles(tmp_home)
    victim = index.articles()[0].article.article_id
    with sqlite3.connect(index.settings.catalogue_path) as db:
        db.execute("UPDATE articles SET text = text || ' tampered' WHERE article_id = ?", (victim,))
    assert main(["doctor", "--repair"]) == 1
    out = capsys.readouterr().out
    assert "hash_mismatch" in out and victim[:12] in out
    assert victim in index.catalogue.complete_ids()


def test_doctor_repairs_a_settings_change_by_reindexing(tmp_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    _index_with_articles(tmp_home)
    monkeypatch.setenv("NEWSDESK_INDEX__CHUNK_CHARS", "400")  # a new collection name
    assert main(["doctor", "--json"]) == 1
    kinds = {p["kind"] for p in json.loads(capsys.readouterr().out)["problems"]}
    assert kinds == {"collection_mismatch", "keyword_index_stale"}  # BM25 lives per collection too
    assert main(["doctor", "--json", "--repair"]) == 0
    capsys.readouterr()
    assert main(["ask", "When did the harbour in Kiel reopen?", "--backend", "extractive", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert not answer["refused"] and "Tuesday" in answer["answer"]
    assert main(["doctor", "--json"]) == 0
