"""What runs in the child processes of the reliability tests, and the articles they write.

Children come from a forkserver that has imported torch, sentence-transformers and chromadb once,
so each one starts in about a second instead of ten: the kill test can afford dozens of them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from multiprocessing.context import ForkServerContext
from pathlib import Path
from typing import Any

PRELOAD = ["torch", "sentence_transformers", "chromadb", "index.news_index", "index.sources", "index.doctor",
           "tests.reliability._workers"]

_PLACES = ["Kiel", "Ghent", "Porto", "Tartu", "Bergen", "Lyon", "Graz", "Cork", "Turku", "Split", "Malmo", "Bari"]
_THINGS = ["harbour", "bridge", "library", "tram line", "hospital wing", "ferry route", "stadium", "museum",
           "school", "wind farm", "rail tunnel", "market hall"]
_VERBS = ["reopened", "was approved", "was delayed", "won funding", "was inspected", "closed for repairs"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def forkserver() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx  # type: ignore[return-value]


def article_text(slot: int, version: int, sentences: int = 9) -> str:
    """A small article for `slot` (its URL) in a given version: different text, same URL."""
    rng = random.Random(slot * 10_007 + version)
    place, thing = _PLACES[slot % len(_PLACES)], _THINGS[slot % len(_THINGS)]
    lines = [f"---\ntitle: The {thing} in {place}, update {version}\nurl: https://example.com/news/{slot}\n---"]
    for i in range(sentences):
        lines.append(f"The {rng.choice(_THINGS)} in {place} {rng.choice(_VERBS)} on {rng.choice(_DAYS)}, "
                     f"officials said in statement {version}-{i}, citing {rng.randint(2, 900)} residents.")
    return " ".join(lines[:1]) + "\n" + " ".join(lines[1:]) + "\n"


def write_folder(folder: Path, versions: dict[int, int]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for slot, version in versions.items():
        (folder / f"slot{slot:02d}.md").write_text(article_text(slot, version))


def _index(config: dict[str, Any], commit_chunks: int) -> Any:
    """The child's index: `config` is IndexSettings fields (its home; in the Postgres mode also the database,
    the Chroma server and the collection prefix)."""
    from index.news_index import NewsIndex
    from index.settings import IndexSettings

    return NewsIndex(IndexSettings(**config, commit_chunks=commit_chunks, lock_timeout_s=60))


def ingest_job(config: dict[str, Any], folder: str, commit_chunks: int, remove_seed: int | None, ready: Any) -> None:
    """Ingest a folder, then remove one article: what the kill test interrupts."""
    from index.sources import sources_from_paths

    index = _index(config, commit_chunks)
    ready.set()
    index.ingest(sources_from_paths([folder]))
    if remove_seed is not None:
        ids = sorted(r.article.article_id for r in index.articles())
        if ids:
            index.remove(random.Random(remove_seed).choice(ids))


def writer_job(config: dict[str, Any], writer: int, slots: list[int], seconds: float, log_path: str, ready: Any,
               start: Any) -> None:
    """Random ingest / replace / remove / re-ingest on this writer's slots for `seconds`; logs each op.

    Each log line is the op and what the index said, so the test can work out the final state.
    """
    from index.errors import NotFound
    from index.sources import Source

    index = _index(config, 4)
    rng = random.Random(writer)
    version = {slot: 0 for slot in slots}
    ready.set()
    start.wait()
    deadline = time.monotonic() + seconds
    with open(log_path, "a") as log:
        while time.monotonic() < deadline:
            slot = rng.choice(slots)
            op = rng.choice(["ingest", "replace", "replace", "remove", "same", "shared"])
            entry: dict[str, Any] = {"op": op, "slot": slot, "pid": os.getpid()}
            if op == "remove":
                current = index.catalogue.complete_by_url(f"https://example.com/news/{slot}")
                entry["removed"] = []
                for aid in current:
                    try:
                        index.remove(aid)
                        entry["removed"].append(aid)
                    except NotFound:
                        pass
            elif op == "shared":  # both writers add the same text: it must end up indexed once
                report = index.ingest([Source("shared", text=article_text(999, 0))])
                entry["status"] = report.outcomes[0].status
            else:
                if op == "replace":
                    version[slot] += 1
                report = index.ingest([Source(f"w{writer}-s{slot}", text=article_text(slot, version[slot]))])
                (outcome,) = report.outcomes
                entry.update(status=outcome.status, article_id=outcome.article_id, version=version[slot])
            log.write(json.dumps(entry) + "\n")
            log.flush()
