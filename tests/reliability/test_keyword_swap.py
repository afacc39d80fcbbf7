"""The BM25 index is rebuilt by writers while readers (here: other KeywordIndex objects, as in other
processes) search it: a reader must never pair one build's chunk ids with another build's matrices."""

from __future__ import annotations

import threading
import time
import traceback
from pathlib import Path

import pytest

from index.keyword import KeywordIndex


def _build_docs(gen: int) -> tuple[list[str], list[str]]:
    n = 20 + (gen * 37) % 200  # sizes change with every build
    return [f"g{gen}-d{i}" for i in range(n)], [f"token{i % 50} shared words" for i in range(n)]


@pytest.mark.slow  # 5-8 s: the fast lane's budget (make check) is 90 s in all
def test_searches_during_back_to_back_rebuilds_are_right_or_empty(tmp_path: Path) -> None:
    folder = tmp_path / "bm25" / "articles_x"
    writer = KeywordIndex(folder)
    writer.build("0", *_build_docs(0))
    stop = time.monotonic() + 6
    errors: list[str] = []
    wrong = searches = builds = 0

    def rebuild() -> None:
        nonlocal builds
        while time.monotonic() < stop:
            builds += 1
            writer.build(str(builds), *_build_docs(builds))

    def read(seed: int) -> None:
        nonlocal wrong, searches
        reader = KeywordIndex(folder)
        n = seed
        while time.monotonic() < stop:
            n += 1
            try:
                query = f"token{n % 50}"
                for chunk_id, _ in reader.search(query, 5):
                    wrong += int(chunk_id.split("-d")[1]) % 50 != n % 50  # an id from another build
                searches += 1
            except Exception:
                errors.append(traceback.format_exc())

    threads = [threading.Thread(target=rebuild)] + [threading.Thread(target=read, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert wrong == 0 and searches > 100 and builds > 10, (wrong, searches, builds)
    assert len([p for p in folder.iterdir() if p.is_dir()]) <= 3  # old versions are pruned
