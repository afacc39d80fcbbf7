"""Guarantee 4 in the several-hosts mode: Postgres or the Chroma server stopped mid-session.

A Postgres cluster of the test's own (so it can be stopped with `pg_ctl stop -m fast`, which ends every client
session at once, as a server going away does) and a `chroma run` of its own. The CLI exits 2 with a message
naming the service (never the password); the app shows an error and keeps running; both work again once the
service is back, and nothing is lost: the same articles, and doctor finds nothing (or, for an ingest cut off
mid-way, only leftovers that the next run clears).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import CORPUS, REPO
from tests.reliability._workers import write_folder
from tests.servers import ChromaServer, PostgresServer
from ui.cli import main

pytestmark = pytest.mark.e2e
APP = str(REPO / "ui" / "streamlit_app.py")
QUESTION = "Who met Biden on Monday?"
PASSWORD = "s3cret-pw"  # trust auth ignores it; it must never be shown


@pytest.fixture(autouse=True)
def fresh_streamlit_cache() -> Iterator[None]:
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch, chroma_server: str, tmp_path: Path) -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    url = server.create_database("newsdesk").replace("postgres@", f"postgres:{PASSWORD}@")
    monkeypatch.setenv("NEWSDESK_DATABASE_URL", url)
    monkeypatch.setenv("NEWSDESK_INDEX__CHROMA_URL", chroma_server)
    monkeypatch.setenv("NEWSDESK_INDEX__COLLECTION_PREFIX", f"t{abs(hash(str(tmp_path))) % 10**9}")
    yield server
    server.remove()


def _where(server: PostgresServer) -> str:
    return f"127.0.0.1:{server.port}"


def _articles(capsys: pytest.CaptureFixture[str]) -> set[str]:
    assert main(["list", "--json"]) == 0
    return {a["article_id"] for a in json.loads(capsys.readouterr().out)}


def _doctor_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] and report["problems"] == [], report


def test_cli_when_postgres_stops_then_comes_back(postgres: PostgresServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(CORPUS)]) == 0
    capsys.readouterr()
    before = _articles(capsys)
    assert len(before) == 2

    postgres.stop()  # mid-session: every client session ends
    for argv in (["ask", QUESTION, "--backend", "extractive"], ["ingest", str(CORPUS)], ["list"], ["doctor"],
                 ["remove", sorted(before)[0]]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "Postgres" in err and _where(postgres) in err and "Traceback" not in err, err
        assert PASSWORD not in err

    postgres.start()
    assert main(["ask", QUESTION, "--backend", "extractive", "--json"]) == 0
    assert "Stoltenberg" in json.loads(capsys.readouterr().out)["answer"]
    assert _articles(capsys) == before
    _doctor_ok(capsys)


def test_app_shows_error_when_postgres_stops_and_recovers(postgres: PostgresServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    assert main(["ingest", str(CORPUS)]) == 0
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception and any("Stoltenberg" in m.value for m in at.markdown)

    postgres.stop()  # mid-session: the app's pooled connections die with their sessions
    at.chat_input[0].set_value("What does Trump want NATO allies to spend?").run()
    assert not at.exception
    assert any("Postgres" in e.value and _where(postgres) in e.value for e in at.error), [e.value for e in at.error]
    at.run()  # the app keeps running
    assert not at.exception

    postgres.start()
    at.run()  # while the catalogue was down the page stopped at the error (no sign-in check is possible)
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception and not any("Postgres" in e.value for e in at.error)
    assert any("Stoltenberg" in m.value for m in at.markdown)


def test_an_ingest_cut_off_by_postgres_stopping_loses_nothing(postgres: PostgresServer, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "articles"
    write_folder(folder, {slot: 0 for slot in range(12)})
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ingest", str(folder)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NEWSDESK_INDEX__COMMIT_CHUNKS": "2"})
    newsdesk = postgres.url.rsplit("/", 1)[0] + "/newsdesk"
    deadline = time.monotonic() + 180
    while _complete(newsdesk) < 2:  # some groups committed, more to come
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    postgres.stop()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "Postgres" in err and _where(postgres) in err and "Traceback" not in err, err

    postgres.start()
    done = _complete(newsdesk)
    assert 2 <= done < 12
    assert main(["ingest", str(folder)]) == 0  # the re-run finishes the job
    capsys.readouterr()
    assert len(_articles(capsys)) == 12
    _doctor_ok(capsys)


def test_cli_when_the_chroma_server_stops_then_comes_back(postgres: PostgresServer, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    chroma = ChromaServer(tmp_path / "chroma").start()
    monkeypatch.setenv("NEWSDESK_INDEX__CHROMA_URL", chroma.url)
    try:
        assert main(["ingest", str(CORPUS)]) == 0
        capsys.readouterr()
        before = _articles(capsys)
        chroma.stop()
        for argv in (["ask", QUESTION, "--backend", "extractive"], ["ingest", str(CORPUS)], ["doctor"]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert chroma.url in err and "Traceback" not in err, err
        chroma.start()
        assert main(["ask", QUESTION, "--backend", "extractive", "--json"]) == 0
        assert "Stoltenberg" in json.loads(capsys.readouterr().out)["answer"]
        assert _articles(capsys) == before
        _doctor_ok(capsys)
    finally:
        chroma.stop()


def _complete(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM articles WHERE status = 'complete'").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0
