"""Replicas on several hosts: one Postgres catalogue, one `chroma run` server, and each replica a NEWSDESK_HOME of
its own (nothing on a shared disk). What one replica ingests, replaces or removes, the other lists, finds and
answers from (or stops citing) at its very next question, and a reader never sees half an article.
"""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

import pytest

from index.types import chunk_id_for
from rag.assistant import Assistant
from rag.retrieve import HybridRetriever
from rag.settings import RetrievalSettings, Settings
from tests.conftest import CORPUS
from tests.reliability.conftest import record_figures

pytestmark = pytest.mark.e2e

HARBOUR = ("---\ntitle: Kiel harbour reopens\nurl: https://example.com/kiel-harbour\n---\n"
           "The harbour in Kiel reopened on {day} after a storm closed it for three days. Ferries to Oslo resumed "
           "in the evening, the port authority said. {extra}\n")
V1 = HARBOUR.format(day="Tuesday", extra="Dockers had cleared the quay of fallen cranes.")
V2 = HARBOUR.format(day="Wednesday", extra="Zeppelin engineers had checked every mooring twice.")
QUESTION = "When did the harbour in Kiel reopen?"


def _replica(name: str, root: Path, database_url: str, chroma_url: str, **index: object) -> Assistant:
    prefix = f"t{abs(hash(str(root))) % 10**9}"  # one collection for this test's deployment
    return Assistant.from_settings(Settings(home=root / name, database_url=database_url,
                                            index={"chroma_url": chroma_url, "collection_prefix": prefix, **index},
                                            llm={"backend": "extractive"}))


@pytest.fixture
def replicas(postgres_url: str, chroma_server: str, tmp_path: Path) -> tuple[Assistant, Assistant]:
    return (_replica("a", tmp_path, postgres_url, chroma_server),
            _replica("b", tmp_path, postgres_url, chroma_server))


def _found(assistant: Assistant, mode: str, question: str) -> list[str]:
    """Article ids that retrieval in this mode (bm25: the replica's own keyword index alone) returns."""
    retriever = HybridRetriever(assistant.index, RetrievalSettings(mode=mode, min_relevance=-1.0))
    return [h.chunk.article_id for h in retriever.retrieve(question, 5).hits]


def test_what_one_replica_changes_the_other_lists_finds_and_answers_from_at_its_next_question(
        replicas: tuple[Assistant, Assistant]) -> None:
    a, b = replicas
    assert a.index.settings.home != b.index.settings.home
    corpus = {o.article_id for o in a.add_paths([CORPUS]).outcomes}
    v1 = a.add_text(V1).outcomes[0].article_id

    # B lists them, finds them by each retriever (bm25: its own keyword index, brought up to date by this
    # very question), and answers from them.
    assert {r.article.article_id for r in b.articles()} == corpus | {v1}
    for mode in ("bm25", "dense", "hybrid"):
        assert _found(b, mode, "Stoltenberg Biden defence spending")[0] in corpus, mode
        assert _found(b, mode, QUESTION)[0] == v1, mode
    answer = b.ask(QUESTION)
    assert "Tuesday" in answer.text and {c.hit.chunk.article_id for c in answer.citations} == {v1}

    # A replaces the article (same URL, new text): B's next question answers from the new version only.
    report = a.add_text(V2)
    assert report.outcomes[0].status == "replaced"
    v2 = report.outcomes[0].article_id
    answer = b.ask(QUESTION)
    assert "Wednesday" in answer.text and "Tuesday" not in answer.text
    assert {c.hit.chunk.article_id for c in answer.citations} == {v2}
    assert _found(b, "bm25", "Zeppelin engineers mooring") == [v2]  # words only the new version has
    assert v1 not in _found(b, "bm25", "Dockers fallen cranes quay")  # and the old one's are gone
    assert {r.article.article_id for r in b.articles()} == corpus | {v2}

    # A removes it: B stops citing it at once, and no longer lists it.
    a.remove_article(v2)
    answer = b.ask(QUESTION)
    assert v2 not in {c.hit.chunk.article_id for c in answer.citations}
    for mode in ("bm25", "dense", "hybrid"):
        assert v2 not in _found(b, mode, QUESTION), mode
    assert {r.article.article_id for r in b.articles()} == corpus

    # And the other way round: what B adds, A finds.
    v1_again = b.add_text(V1).outcomes[0].article_id
    assert _found(a, "bm25", "Dockers fallen cranes quay")[0] == v1_again
    assert "Tuesday" in a.ask(QUESTION).text


def test_a_reader_never_sees_half_an_article(postgres_url: str, chroma_server: str, tmp_path: Path) -> None:
    """Replica A replaces long articles (one article per commit) while replica B asks about them: every passage
    B gets belongs to an article that was complete, with all its chunks stored, when B read it."""
    a = _replica("a", tmp_path, postgres_url, chroma_server, commit_chunks=1)
    b = _replica("b", tmp_path, postgres_url, chroma_server)
    sentences = [f"The {thing} in Tartu was inspected on day {{v}} by crew {n}, officials said. "
                 for n, thing in enumerate(["bridge", "library", "tram line", "museum", "ferry route", "stadium"])]
    stop = time.monotonic() + 20
    errors: list[str] = []
    versions = [0]

    def write() -> None:
        while time.monotonic() < stop:
            versions[0] += 1
            v = versions[0]
            for slot in range(3):  # three articles of 6+ chunks each, a new version of each every round
                # Numbered paragraphs: identical chunk texts would be stored once.
                text = "".join(f"{''.join(s.format(v=v) for s in sentences)}That was part {p} of the report. "
                               for p in range(10))
                try:
                    a.add_text(f"---\ntitle: Tartu {slot}\nurl: https://example.com/tartu/{slot}\n---\n{text}")
                except Exception:
                    errors.append(traceback.format_exc())

    writer = threading.Thread(target=write)
    writer.start()
    checked = 0
    while writer.is_alive():
        for hit in b.retrieve("Which bridge in Tartu was inspected by crew 0?", k=10).hits:
            aid = hit.chunk.article_id
            before = b.index.catalogue.get(aid)
            if before is None:
                continue  # replaced and removed since the search (a pending article has its row)
            assert before.status != "pending", "a passage of an article not yet complete"
            if before.status != "complete":
                continue  # removed since: its vectors may be going
            ids = [chunk_id_for(aid, n) for n in range(before.n_chunks)]
            stored = b.index.store.embeddings(ids)
            after = b.index.catalogue.get(aid)
            if after is not None and after.status == "complete":  # complete throughout: all chunks stored
                assert set(stored) == set(ids), f"{len(ids) - len(stored)} of {len(ids)} chunks of {aid} missing"
                checked += 1
    writer.join()
    assert not errors, errors[0]
    assert versions[0] >= 2 and checked > 10, (versions, checked)
    assert all(r.n_chunks >= 6 for r in b.articles())
    record_figures("replicas-half-article", {"writer_rounds": versions[0], "passages_checked": checked,
                                             "half_articles_seen": 0})
