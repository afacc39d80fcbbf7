"""Guarantee 1, article-level atomicity: a writer SIGKILLed at random moments never leaves the index lying.

Run in both deployments: one shared home (SQLite, embedded Chroma), and Postgres + a `chroma run` server with
the writer and the checking process on separate homes (replicas on two hosts).

A forkserver child ingests a folder (small commit groups, so kills land between, inside and after
commits) and then removes an article; the test kills it at a random moment, then checks: retrieval
returns no chunk of an article that is not complete, every complete article has all its chunks,
`newsdesk doctor` finds only harmless leftovers (and `--repair` clears them without losing a
complete article). At the end the same ingest, run to completion, leaves exactly the folder's
articles, once each.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from index.doctor import LEFTOVER_KINDS, check_index
from index.news_index import NewsIndex
from index.parse import parse_file
from index.sources import sources_from_paths
from rag.retrieve import HybridRetriever
from rag.settings import RetrievalSettings
from tests.reliability._workers import forkserver, ingest_job, write_folder
from tests.reliability.conftest import (
    Deployment,
    assert_dense_finds_every_article,
    assert_store_matches_catalogue,
    record_figures,
)

pytestmark = pytest.mark.slow

KILLS = 20
SLOTS = 10
CHANGED = 4  # articles given a new version (same URL) each round: replacements to interrupt
COMMIT_CHUNKS = 3  # about one article per commit group, so kills land between and inside commits
QUERIES = ["harbour reopened on Monday", "officials said in statement", "museum closed for repairs"]


def _run_child(config: dict[str, Any], folder: Path, remove_seed: int | None,
               kill_after: float | None) -> tuple[bool, float]:
    """Run one ingest child; SIGKILL it `kill_after` s after it is ready. Returns (was killed, run time)."""
    ctx = forkserver()
    ready = _READY.setdefault("event", ctx.Event())
    ready.clear()
    proc = ctx.Process(target=ingest_job, args=(config, str(folder), COMMIT_CHUNKS, remove_seed, ready))
    proc.start()
    assert ready.wait(120), "ingest child did not start"
    t0 = time.monotonic()
    if kill_after is None:
        proc.join(300)
        assert proc.exitcode == 0, f"ingest child failed with {proc.exitcode}"
        return False, time.monotonic() - t0
    proc.join(kill_after)
    killed = proc.exitcode is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode in (0, -signal.SIGKILL), proc.exitcode
    return killed, time.monotonic() - t0


_READY: dict[str, Any] = {}


def _check_after_kill(index: NewsIndex, retriever: HybridRetriever) -> dict[str, int]:
    complete = index.catalogue.complete_ids()
    leftovers = [r.article for s in ("pending", "removing") for r in index.catalogue.records(s)]
    # Retrieval only ever shows complete articles, even for text that only a half-written one has.
    questions = QUERIES + [a.text[:200] for a in leftovers]
    for q in questions:
        for hit in retriever.retrieve(q, 20).hits:
            assert hit.chunk.article_id in complete, f"retrieval returned a chunk of incomplete {hit.chunk.article_id}"
    # The catalogue lists nothing without its chunks (and doctor agrees; it may see leftovers only).
    stored = set(index.store.ids_by_article())
    for record in index.articles():
        missing = set(index.catalogue.chunk_ids(record.article.article_id)) - stored
        assert not missing and record.n_chunks > 0, f"complete article {record.article.article_id} lacks chunks"
    report = check_index(index)
    kinds = {p.kind for p in report.problems}
    assert kinds <= LEFTOVER_KINDS, report
    return {"leftover_articles": len(leftovers), "doctor_problems": len(report.problems)}


def test_sigkilled_ingest_never_leaves_a_lie(deployment: Deployment, tmp_path: Path) -> None:
    index = NewsIndex(deployment.settings("checker"))
    writer = deployment.config("writer")
    retriever = HybridRetriever(index, RetrievalSettings(min_relevance=-1.0))
    folder = tmp_path / "articles"
    rng = random.Random(20261128)
    versions = {slot: 0 for slot in range(SLOTS)}
    write_folder(folder, versions)
    _, first = _run_child(writer, folder, None, None)
    job = first * (CHANGED + 1) / SLOTS  # a round changes CHANGED articles and re-adds the one removed
    kills = attempts = rounds_with_leftovers = repairs = 0
    while kills < KILLS:
        attempts += 1
        assert attempts < KILLS * 3, "the child keeps finishing before the kill: the job is too short"
        for slot in rng.sample(range(SLOTS), CHANGED):
            versions[slot] += 1
        write_folder(folder, versions)
        killed, ran = _run_child(writer, folder, rng.randrange(10**6), rng.uniform(0.0, job))
        if not killed:
            job = 0.5 * job + 0.5 * ran  # keep the kill window as long as a round's work really takes
        kills += killed
        t_check = time.monotonic()
        figures = _check_after_kill(index, retriever)
        print(f"round {attempts}: killed={killed} after {ran:.2f} s (window {job:.2f} s), "
              f"leftovers={figures['leftover_articles']}, check {time.monotonic() - t_check:.1f} s", flush=True)
        rounds_with_leftovers += figures["leftover_articles"] > 0
        if attempts % 4 == 0:  # doctor --repair clears leftovers and loses no complete article
            before = index.catalogue.complete_ids()
            repaired = check_index(index, repair=True)
            assert repaired.ok, repaired
            assert index.catalogue.complete_ids() == before
            again = check_index(index)
            assert again.ok and again.problems == (), again
            repairs += 1

    # Re-running the same ingest completes the job: the folder's articles, each once, nothing else.
    _run_child(writer, folder, None, None)
    expected = {parse_file(f).article_id for f in sorted(folder.iterdir())}
    assert index.catalogue.complete_ids() == expected
    assert not index.catalogue.records("pending") and not index.catalogue.records("removing")
    urls = [r.article.meta.url for r in index.articles()]
    assert len(urls) == len(set(urls)) == SLOTS
    # A question brings the checker's own BM25 up to date (with Postgres its home is not the writer's).
    assert retriever.retrieve(QUERIES[0], 5).hits and index.keyword_current()
    final = check_index(index)
    assert final.ok and final.problems == (), final
    assert_store_matches_catalogue(index)
    assert_dense_finds_every_article(index)  # no vector was lost either
    assert len(index.ingest(sources_from_paths([folder])).outcomes) == SLOTS  # all "unchanged"
    record_figures(f"kill-{deployment.mode}", {"kills": kills, "attempts": attempts,
                                               "rounds_with_leftovers": rounds_with_leftovers,
                                               "doctor_repairs": repairs, "first_job_seconds": round(first, 2),
                                               "articles_lost": 0, "duplicates": 0})
