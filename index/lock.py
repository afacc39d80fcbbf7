"""The index's single-writer lock: one process changes the index at a time, others wait visibly."""

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

    Raises:
        IndexBusy: another writer kept the lock longer than `timeout_s`.
    """
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"The index at {home} is busy: another process is writing to it. "
                                    f"Waited {timeout_s:.0f} s; try again when it has finished.") from None
                if on_wait and not told:
                    on_wait(f"Index busy: another process is writing to {home}; waiting…")
                    told = True
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
