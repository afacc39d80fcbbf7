"""Guarantee 2, concurrency: 2 writer processes and 8 reader threads for 60 s, on one NEWSDESK_HOME (SQLite,
embedded Chroma) and as three replicas with homes of their own (Postgres + a `chroma run` server).

The writers (forkserver children) ingest, replace, re-ingest and remove articles on their own URLs and
both add one shared article; the readers ask questions through the Assistant (extractive backend) the
whole time. Afterwards: no errors, the catalogue holds exactly what the writers' logs say it must
(nothing lost, nothing twice), the store holds exactly those articles' chunks, and the readers' open
client finds every article the writers added (the embedded client reloads after other processes write).
"""

from __future__ import annotations

import json
import random
import threading
import time
import traceback
from pathlib import Path

import pytest

from index.doctor import check_index
from index.parse import parse_text
from index.sources import sources_from_paths
from rag.assistant import Assistant
from rag.settings import Settings
from tests.conftest import CORPUS
from tests.reliability._workers import article_text, forkserver, writer_job
from tests.reliability.conftest import (
    Deployment,
    assert_dense_finds_every_article,
    assert_store_matches_catalogue,
    record_figures,
)

pytestmark = pytest.mark.slow

SECONDS = 60
READERS = 8
SLOTS = {0: list(range(0, 6)), 1: list(range(6, 12))}
QUESTIONS = ["Who met Biden on Monday?", "What defence-spending target do NATO allies have?",
             "Which harbour reopened on Tuesday?", "What did officials say about the museum?",
             "Was the ferry route in Ghent delayed?", "What is the capital of Peru?",
             "Which bridge was approved?", "What won funding in Porto?"]


def _expected_articles(logs: list[Path]) -> tuple[set[str], int]:
    """The complete articles the writers' logs imply: each slot's last op decides, plus the shared one."""
    expected: set[str] = set()
    ops = 0
    for log in logs:
        last: dict[int, dict[str, object]] = {}
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            ops += 1
            if entry["op"] == "shared":
                expected.add(parse_text(article_text(999, 0)).article_id)
            else:
                last[int(entry["slot"])] = entry
        for entry in last.values():
            if entry["op"] != "remove":
                assert entry["status"] in ("added", "replaced", "unchanged"), entry
                expected.add(str(entry["article_id"]))
    return expected, ops


def test_two_writer_processes_and_eight_reader_threads(deployment: Deployment, tmp_path: Path) -> None:
    readers = deployment.settings("readers")
    assistant = Assistant.from_settings(Settings(home=readers.home, database_url=readers.database_url,
                                                 index=readers, llm={"backend": "extractive"}))
    index = assistant.index
    corpus = {o.article_id for o in index.ingest(sources_from_paths([CORPUS])).outcomes}
    ctx = forkserver()
    logs = [tmp_path / f"writer{w}.jsonl" for w in SLOTS]
    start = ctx.Event()
    readies = [ctx.Event() for _ in SLOTS]
    writers = [ctx.Process(target=writer_job, args=(deployment.config(f"writer{w}"), w, SLOTS[w], SECONDS,
                                                    str(logs[w]), readies[w], start)) for w in SLOTS]
    for p in writers:
        p.start()
    for ready in readies:
        assert ready.wait(120), "writer did not start"

    errors: list[str] = []
    answered = [0] * READERS
    done = threading.Event()

    def reader(n: int) -> None:
        rng = random.Random(n)
        while not done.is_set():
            try:
                answer = assistant.ask(rng.choice(QUESTIONS))
                for c in answer.citations:
                    assert c.hit.chunk.chunk_id.startswith(c.hit.chunk.article_id + ":")
                    assert c.quote and c.quote in c.hit.chunk.text
                answered[n] += 1
            except Exception:  # every failure counts; the test reports them all
                errors.append(traceback.format_exc())

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    t0 = time.monotonic()
    start.set()
    for t in threads:
        t.start()
    for p in writers:
        p.join(SECONDS + 120)
    done.set()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - t0
    assert [p.exitcode for p in writers] == [0, 0], "a writer process failed"
    assert not errors, f"{len(errors)} reader error(s), first:\n{errors[0]}"

    expected, writer_ops = _expected_articles(logs)
    complete = index.catalogue.complete_ids()
    assert complete == expected | corpus, (f"lost: {sorted(expected | corpus - complete)}, "
                                           f"unexpected: {sorted(complete - expected - corpus)}")
    urls = [r.article.meta.url for r in index.articles() if r.article.meta.url]
    assert len(urls) == len(set(urls)), "two complete versions of one URL"
    assert_store_matches_catalogue(index)
    assistant.ask(QUESTIONS[0])  # brings the readers' own BM25 up to the writers' last change
    report = check_index(index)
    assert report.ok and report.problems == (), report
    # The readers' long-open client sees what other processes wrote (dense search alone, no BM25).
    assert_dense_finds_every_article(index)
    assert writer_ops > 20 and sum(answered) > 50, (writer_ops, answered)
    record_figures(f"concurrency-{deployment.mode}", {
        "seconds": round(elapsed, 1), "writer_processes": len(writers), "reader_threads": READERS,
        "writer_ops": writer_ops, "reader_questions": sum(answered), "errors": len(errors),
        "articles_at_end": len(complete), "lost": 0, "duplicated": 0})


def test_open_reader_sees_articles_another_process_adds(tmp_home: Path, tmp_path: Path) -> None:
    """An app that stays open (Streamlit) must find, by dense search, what `newsdesk ingest` adds meanwhile.

    Without the reload, chromadb's open client kept its loaded vector index: measured 0 of 200 found.
    """
    from tests.reliability._workers import ingest_job, write_folder

    assistant = Assistant.from_settings(Settings(home=tmp_home, llm={"backend": "extractive"}))
    assistant.index.ingest(sources_from_paths([CORPUS]))
    assert assistant.ask("Who met Biden on Monday?").citations  # the client is open and loaded
    folder = tmp_path / "more"
    write_folder(folder, {slot: 0 for slot in range(4)})
    ctx = forkserver()
    ready = ctx.Event()
    child = ctx.Process(target=ingest_job, args=({"home": tmp_home}, str(folder), 64, None, ready))
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert len(assistant.index.catalogue.complete_ids()) == 6
    assert_dense_finds_every_article(assistant.index)


def test_writer_thread_and_readers_share_one_assistant(tmp_home: Path) -> None:
    """As in the Streamlit process: one Assistant, uploads on one thread while 4 threads ask questions."""

    assistant = Assistant.from_settings(Settings(home=tmp_home, llm={"backend": "extractive"}))
    assistant.index.ingest(sources_from_paths([CORPUS]))
    errors: list[str] = []
    asked = [0] * 4
    stop = time.monotonic() + 12
    added: list[str] = []

    def write() -> None:
        version = 0
        while time.monotonic() < stop:
            try:
                version += 1
                report = assistant.add_upload(f"slot{version % 3}.md", article_text(version % 3, version).encode())
                added.append(report.outcomes[0].status)
                if version % 4 == 0:
                    ids = [r.article.article_id for r in assistant.articles() if r.article.meta.url]
                    if ids:
                        assistant.remove_article(ids[0])
                assistant.add_text(article_text(50, 0))
            except Exception:
                errors.append(traceback.format_exc())

    def read(n: int) -> None:
        while time.monotonic() < stop:
            try:
                assistant.ask(QUESTIONS[(n + asked[n]) % len(QUESTIONS)])
                asked[n] += 1
            except Exception:
                errors.append(traceback.format_exc())

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[0]
    assert added and sum(asked) > 10
    urls = [r.article.meta.url for r in assistant.articles() if r.article.meta.url]
    assert len(urls) == len(set(urls))
    assert_store_matches_catalogue(assistant.index)
    assert check_index(assistant.index).ok
    assert_dense_finds_every_article(assistant.index)


def test_second_writer_waits_with_index_busy_message_then_gives_up_clearly(
        tmp_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from index.lock import write_lock
    from ui.cli import main

    held = threading.Event()
    release = threading.Event()

    def hold(seconds: float) -> None:  # another writer (flock conflicts across file descriptors)
        with write_lock(tmp_home, 5):
            held.set()
            release.wait(seconds)

    monkeypatch.setenv("NEWSDESK_INDEX__LOCK_TIMEOUT_S", "1")
    holder = threading.Thread(target=hold, args=(30,))
    holder.start()
    held.wait(10)
    assert main(["ingest", str(CORPUS)]) == 1
    err = capsys.readouterr().err
    assert "Index busy" in err and "is busy: another process is writing" in err and "Waited 1 s" in err
    release.set()
    holder.join()

    monkeypatch.setenv("NEWSDESK_INDEX__LOCK_TIMEOUT_S", "60")
    held.clear()
    release.clear()
    holder = threading.Thread(target=hold, args=(2,))
    holder.start()
    held.wait(10)
    assert main(["ingest", str(CORPUS)]) == 0  # waits for the other writer, then does its work
    out, err = capsys.readouterr()
    assert "Index busy" in err and "2 added" in out
    holder.join()

    # `remove` says the same while it waits, then removes.
    assert main(["list", "--json"]) == 0
    article_id = json.loads(capsys.readouterr().out)[0]["article_id"]
    held.clear()
    release.clear()
    holder = threading.Thread(target=hold, args=(3,))
    holder.start()
    held.wait(10)
    assert main(["remove", article_id]) == 0
    out, err = capsys.readouterr()
    assert "Index busy" in err and out.startswith("removed")
    holder.join()
