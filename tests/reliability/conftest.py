"""Shared checks for the reliability tests: the index's invariants, and where the figures go."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from index.news_index import NewsIndex
from index.settings import IndexSettings
from tests.conftest import ARTIFACTS


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Figures for docs/RELIABILITY.md (kills survived, ops, inputs tried), one JSON file per test."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"reliability-{name}.json").write_text(json.dumps(figures, indent=2))


def assert_store_matches_catalogue(index: NewsIndex) -> None:
    """Complete articles have exactly their chunks in the store, and nothing else is stored."""
    stored = index.store.ids_by_article()
    complete = index.catalogue.complete_ids()
    rows = index.catalogue.all_chunk_ids()
    expected = {cid: aid for cid, aid in rows.items() if aid in complete}
    assert stored == expected, (f"{len(set(expected) - set(stored))} chunk(s) missing, "
                                f"{len(set(stored) - set(expected))} extra")
    records = index.articles()
    assert sum(r.n_chunks for r in records) == len(expected) == index.store.count()


def assert_dense_finds_every_article(index: NewsIndex) -> None:
    """Each complete article's first chunk, embedded as stored, is its own nearest neighbour: no vector
    is missing from what this process's (possibly long-open) client searches."""
    firsts = [(c, m) for c, m in index.catalogue.complete_chunks() if c.ordinal == 0]
    vectors = index.embedder.embed_documents([index.indexed_text(c, m) for c, m in firsts])
    missed = []
    for (chunk, _), vector in zip(firsts, vectors):
        hits = index.store.query(vector, 1)
        if not hits or hits[0].chunk_id != chunk.chunk_id:
            missed.append(chunk.chunk_id)
    assert not missed, f"dense search misses {len(missed)} of {len(firsts)} articles: {missed[:5]}"


@pytest.fixture
def tmp_home(isolated_env: Path) -> Path:
    isolated_env.mkdir(parents=True, exist_ok=True)
    return isolated_env


@dataclass(frozen=True)
class Deployment:
    """Where the processes of a test keep the index.

    `sqlite`: every process shares one NEWSDESK_HOME (SQLite catalogue, embedded Chroma, file lock).
    `postgres`: the several-hosts mode: a Postgres catalogue and a `chroma run` server, and each process
    (replica) a home of its own, sharing no disk with the others.
    """

    mode: str
    root: Path
    shared: dict[str, Any]  # database_url, chroma_url, collection_prefix in the Postgres mode

    def home(self, replica: str) -> Path:
        return self.root if self.mode == "sqlite" else self.root / f"replica-{replica}"

    def config(self, replica: str) -> dict[str, Any]:
        """IndexSettings fields for a replica (picklable, for child processes)."""
        return {"home": self.home(replica), **self.shared}

    def settings(self, replica: str, **changes: Any) -> IndexSettings:
        return IndexSettings(**self.config(replica), **changes)


@pytest.fixture(params=["sqlite", "postgres"])
def deployment(request: pytest.FixtureRequest, tmp_home: Path) -> Deployment:
    if request.param == "sqlite":
        return Deployment("sqlite", tmp_home, {})
    shared = {"database_url": request.getfixturevalue("postgres_url"),
              "chroma_url": request.getfixturevalue("chroma_server"),
              "collection_prefix": f"t{abs(hash(str(tmp_home))) % 10**9}"}
    return Deployment("postgres", tmp_home, shared)
