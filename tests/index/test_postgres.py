"""The catalogue in a real Postgres: the advisory write lock, snapshots, migrations, and which modes go together.

A throwaway cluster from Debian's binaries (tests/servers.py), one database per test.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from index.db import Database
from index.doctor import doctor
from index.errors import BackendUnavailable, ConfigError, IndexBusy
from index.lock import WRITE_LOCK_KEY, PostgresWriteLock
from index.news_index import NewsIndex
from index.settings import IndexSettings
from index.sources import Source
from tests.conftest import REPO

TEXT = "The harbour in Kiel reopened on Tuesday after a storm closed it for three days. " * 6


def _lock_holders(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                            "AND objid = %s AND database = (SELECT oid FROM pg_database WHERE datname = "
                            "current_database())", (WRITE_LOCK_KEY,)).fetchall()
    return [r[0] for r in rows]


def test_postgres_catalogue_with_embedded_vectors_is_a_config_error(tmp_path: Path) -> None:
    settings = IndexSettings(home=tmp_path, database_url="postgresql://u@db.example/newsdesk")
    with pytest.raises(ConfigError, match="NEWSDESK_INDEX__CHROMA_URL"):
        NewsIndex(settings)


def test_a_second_writer_hears_index_busy_then_gives_up_or_gets_its_turn(postgres_url: str) -> None:
    db = Database(postgres_url)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with PostgresWriteLock(db, 5).hold():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    heard: list[str] = []
    t0 = time.monotonic()
    with pytest.raises(IndexBusy) as busy, PostgresWriteLock(db, 1).hold(heard.append):
        pass
    assert 0.9 < time.monotonic() - t0 < 5
    assert "is busy: another process is writing" in str(busy.value) and "Waited 1 s" in str(busy.value)
    assert "127.0.0.1" in str(busy.value)
    assert len(heard) == 1 and heard[0].startswith("Index busy")

    threading.Timer(1.0, release.set).start()
    with PostgresWriteLock(db, 30).hold(heard.append):  # waits its turn, then holds it
        assert len(_lock_holders(postgres_url)) == 1
    holder.join()
    assert _lock_holders(postgres_url) == []


def test_the_lock_of_a_sigkilled_writer_is_freed_at_once(postgres_url: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from index.db import Database\nfrom index.lock import PostgresWriteLock\n"
         "with PostgresWriteLock(Database(sys.argv[1]), 5).hold():\n"
         "    print('held', flush=True)\n    time.sleep(120)\n", postgres_url],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert len(_lock_holders(postgres_url)) == 1
        child.kill()
        child.wait(10)
        t0 = time.monotonic()
        with PostgresWriteLock(Database(postgres_url), 10).hold():
            waited = time.monotonic() - t0
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    assert waited < 2, f"the lock outlived its SIGKILLed holder by {waited:.1f} s"


def test_writers_take_turns_when_one_asks_again_at_once(postgres_url: str) -> None:
    """Postgres queues lock requests: a writer that lets go and asks again at once waits behind the other."""
    db = Database(postgres_url)
    stop = time.monotonic() + 4
    turns: list[str] = []

    def busy_writer() -> None:
        while time.monotonic() < stop:
            with PostgresWriteLock(db, 30).hold():
                turns.append("busy")
                time.sleep(0.05)

    thread = threading.Thread(target=busy_writer)
    thread.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    with PostgresWriteLock(db, 3).hold():  # would time out if the busy writer could starve it
        turns.append("other")
    waited = time.monotonic() - t0
    thread.join()
    assert "other" in turns and waited < 1, waited


def test_a_writer_that_lost_its_connection_cannot_write_on(postgres_url: str, chroma_server: str,
                                                            tmp_path: Path) -> None:
    """The lock's session ended (server restart, admin): the writer's next write fails instead of going on
    through a new connection without the lock."""
    settings = IndexSettings(home=tmp_path / "a", database_url=postgres_url, chroma_url=chroma_server,
                             collection_prefix=f"t{abs(hash(str(tmp_path))) % 10**9}", lock_timeout_s=5)
    index = NewsIndex(settings)
    with pytest.raises(BackendUnavailable, match="write lock"), index.writing():
        (holder,) = _lock_holders(postgres_url)
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (holder,))
        deadline = time.monotonic() + 10
        while _lock_holders(postgres_url) and time.monotonic() < deadline:
            time.sleep(0.05)
        index.catalogue.bump_store_version()  # the first write after: on the dead connection
    # The lock is free for the next writer, and the index works.
    assert index.ingest([Source("kiel", text=TEXT)]).count("added") == 1


def test_a_reading_block_sees_one_snapshot(postgres_url: str) -> None:
    from index.catalogue import Catalogue

    catalogue = Catalogue(Database(postgres_url))
    catalogue.bump_store_version()
    with catalogue.reading() as conn:
        before = conn.execute(text("SELECT value FROM state WHERE key = 'store_version'")).scalar()
        catalogue.bump_store_version()  # committed by another connection meanwhile
        again = conn.execute(text("SELECT value FROM state WHERE key = 'store_version'")).scalar()
    assert before == again == "1" and catalogue.store_version() == "2"


def test_a_schema_from_a_newer_newsdesk_is_a_config_error(postgres_url: str) -> None:
    Database(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(ConfigError, match="9999_from_the_future.*newer Newsdesk"):
        Database(postgres_url)


def test_with_migrations_at_start_off_doctor_repair_applies_them(postgres_url: str, chroma_server: str,
                                                                  tmp_path: Path) -> None:
    settings = IndexSettings(home=tmp_path / "a", database_url=postgres_url, chroma_url=chroma_server,
                             collection_prefix=f"t{abs(hash(str(tmp_path))) % 10**9}", migrate=False)
    with pytest.raises(ConfigError, match="doctor --repair"):
        NewsIndex(settings)  # an empty database: every migration is pending
    report = doctor(settings)
    assert not report.ok and [p.kind for p in report.problems] == ["schema_behind"]
    repaired = doctor(settings, repair=True)
    assert repaired.ok and repaired.problems[0].kind == "schema_behind" and repaired.problems[0].repaired
    assert Database(postgres_url, migrate=False).revision() == Database.head()
    index = NewsIndex(settings)  # opens now
    assert index.ingest([Source("kiel", text=TEXT)]).count("added") == 1
    assert doctor(settings).ok


def test_reads_work_in_a_process_with_more_than_1024_open_files(postgres_url: str) -> None:
    """The pool's closed-connection check once used select(), which refuses descriptors from 1024 on: in a
    long-running process every checkout then looked closed and every read failed."""
    held = [open(__file__) for _ in range(1100)]  # noqa: SIM115 - held open on purpose
    try:
        db = Database(postgres_url)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
            assert conn.connection.dbapi_connection.fileno() >= 1024  # type: ignore[union-attr]
        with db.engine.connect() as conn:  # checked out again from the pool, through the check
            assert conn.exec_driver_sql("SELECT 2").scalar() == 2
    finally:
        for f in held:
            f.close()
