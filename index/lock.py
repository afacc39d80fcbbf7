"""The index's single-writer lock: one process changes the index at a time, others wait visibly and in turn."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import IndexBusy


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
            raise IndexBusy(f"The index at {home} is busy: another process is writing to it. "
                            f"Waited {timeout_s:.0f} s; try again when it has finished.")
        if on_wait and not told:
            on_wait(f"Index busy: another process is writing to {home}; waiting…")
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
