"""The index's single-writer lock: one process changes the index at a time, others wait visibly and in turn.

Two kinds, one behaviour: a file lock in NEWSDESK_HOME when the catalogue is SQLite (every process shares that
home), a Postgres advisory lock when the catalogue is in Postgres (replicas on several hosts share only the
database). Both are released by the operating system or the server when their holder dies, both say
"Index busy … waiting" once and give up with `IndexBusy` after the timeout, and both let waiters in in turn.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from index.errors import IndexBusy

if TYPE_CHECKING:
    from index.db import Database

OnWait = Callable[[str], None]
# The advisory lock id of the index's writer ("ndwr"). Advisory locks are per database, so separate catalogues
# on one server never contend.
WRITE_LOCK_KEY = 0x6E647772


class WriteLock(Protocol):
    """What `NewsIndex.writing()` holds while it changes the index."""

    def hold(self, on_wait: OnWait | None = None) -> AbstractContextManager[None]:
        """Hold the lock for the block; `on_wait` hears once that another writer has it.

        Raises:
            IndexBusy: another writer kept it longer than the timeout.
        """
        ...


def _waiting(where: str) -> str:
    return f"Index busy: another process is writing to {where}; waiting…"


def _busy(where: str, timeout_s: float) -> IndexBusy:
    return IndexBusy(f"The index at {where} is busy: another process is writing to it. "
                     f"Waited {timeout_s:.0f} s; try again when it has finished.")


@dataclass(frozen=True, slots=True)
class FileWriteLock:
    """`home/write.lock` (see `write_lock`): the lock of a SQLite catalogue."""

    home: Path
    timeout_s: float

    def hold(self, on_wait: OnWait | None = None) -> AbstractContextManager[None]:
        return write_lock(self.home, self.timeout_s, on_wait)


class PostgresWriteLock:
    """A session-level advisory lock, held by a connection of its own for the whole write.

    The writer's catalogue transactions run on that same connection (`Database.pinned`), so a writer that lost
    it (Postgres restarted, the session was ended) cannot write on without the lock. A SIGKILLed writer's
    connection closes with its process, and Postgres ends the session and frees the lock at once (tested).
    Waiting is Postgres's own lock queue with `lock_timeout`: first come, first served, so a writer that lets
    go and asks again at once queues behind the one already waiting (no turnstile needed, unlike `flock`).
    """

    def __init__(self, db: Database, timeout_s: float) -> None:
        self.db = db
        self.timeout_s = timeout_s

    @contextmanager
    def hold(self, on_wait: OnWait | None = None) -> Iterator[None]:
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError, OperationalError

        where = self.db.display_url
        key = {"k": WRITE_LOCK_KEY}
        with self.db.pinned() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar()
            conn.commit()
            if not got:
                if on_wait:
                    on_wait(_waiting(where))
                if self.timeout_s <= 0:  # lock_timeout 0 would mean "wait forever"
                    raise _busy(where, self.timeout_s)
                try:
                    # LOCAL settings end with this transaction; the session-level lock stays until unlocked.
                    conn.execute(text("SELECT set_config('lock_timeout', :ms, true), "
                                      "set_config('client_connection_check_interval', '1000', true)"),
                                 {"ms": f"{max(1, round(self.timeout_s * 1000))}ms"})
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
                    conn.commit()
                except OperationalError as e:
                    if getattr(e.orig, "sqlstate", None) != "55P03":  # lock_not_available: the timeout
                        raise
                    conn.rollback()
                    raise _busy(where, self.timeout_s) from None
            try:
                yield
            finally:
                # An invalidated connection's session, and so the lock, is gone already (and SQLAlchemy would
                # open a new session to run the unlock in).
                if not conn.invalidated:
                    try:
                        if conn.in_transaction():
                            conn.rollback()
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                        conn.commit()
                    except DBAPIError:
                        conn.invalidate()  # closing the session frees the lock all the same


@contextmanager
def write_lock(home: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold `home/write.lock` (flock: released by the kernel even when the holder is SIGKILLed).

    Waiters queue at a turnstile (`home/write.queue`) first, and whoever holds the turnstile is next for the
    lock: a writer that lets go of the lock and asks again at once waits its turn. Without it a busy writer
    re-took the lock in the instant it let go while the other writer was asleep between polls, and that one
    waited past its timeout (seen: `IndexBusy` after 60 s, two writer processes, a loaded 2-core machine).

    Raises:
        IndexBusy: another writer kept the lock longer than `timeout_s`.
    """
    home.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    told = False

    def wait() -> None:
        nonlocal told
        if time.monotonic() >= deadline:
            raise _busy(str(home), timeout_s)
        if on_wait and not told:
            on_wait(_waiting(str(home)))
            told = True
        time.sleep(0.02)

    queue = os.open(home / "write.queue", os.O_RDWR | os.O_CREAT, 0o644)
    lock = os.open(home / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(queue, wait)
        try:
            _acquire(lock, wait)
        finally:
            fcntl.flock(queue, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    finally:
        os.close(queue)
        os.close(lock)


def _acquire(fd: int, wait: Callable[[], None]) -> None:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            wait()


@contextmanager
def unless_writing(home: Path) -> Iterator[bool]:
    """Yield True while holding a shared lock on `home/write.lock` (no writer can start meanwhile), or
    False at once if a writer holds it. Readers reload the embedded store only between writes, so they
    never load it half-written."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
