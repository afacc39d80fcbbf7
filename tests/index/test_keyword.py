"""The keyword index: its vectorised BM25 equals bm25s's own, and an update that reuses token counts equals a
build from scratch."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from index.keyword import KeywordIndex, tokenize

WORDS = ("harbour bridge library tram hospital ferry stadium museum school wind rail market Kiel Ghent Porto Tartu "
         "Bergen Lyon reopened approved delayed funding inspected closed repairs officials residents Monday "
         "Tuesday the of and a said").split()
QUERIES = ["harbour reopened Monday", "Kiel ferry", "museum closed for repairs", "officials said residents",
           "Ghent tram delayed", "wind funding"]


def _docs(n: int, seed: int = 0) -> dict[str, str]:
    rng = random.Random(seed)
    docs = {f"d{i}": " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40))) for i in range(n)}
    docs["empty"] = "the of and"  # only stopwords: a document without tokens
    return docs


def _search_all(index: KeywordIndex) -> list[list[tuple[str, float]]]:
    return [index.search(q, 25) for q in QUERIES]


def test_a_build_scores_as_bm25s_index_does(tmp_path: Path) -> None:
    import bm25s

    docs = _docs(400)
    ours = KeywordIndex(tmp_path / "kw")
    ours.build("1", list(docs), list(docs.values()))
    reference = bm25s.BM25()
    reference.index([tokenize(t) or ["∅"] for t in docs.values()], show_progress=False)
    ids = list(docs)
    for query in QUERIES:
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        got, scores = reference.retrieve([tokens], k=25, show_progress=False, n_threads=1)
        expected = [(ids[int(d)], float(s)) for d, s in zip(got[0], scores[0]) if s > 0]
        mine = ours.search(query, 25)
        assert [c for c, _ in mine] == [c for c, _ in expected], query
        assert np.allclose([s for _, s in mine], [s for _, s in expected], rtol=1e-5)


def test_an_update_reuses_what_it_holds_and_equals_a_fresh_build(tmp_path: Path) -> None:
    docs = _docs(600, seed=1)
    keys = [(cid, 1.0) for cid in docs]
    index = KeywordIndex(tmp_path / "kw")
    asked: list[str] = []

    def texts_of(ids: list[str]) -> dict[str, str]:
        asked.extend(ids)
        return {i: docs[i] for i in ids if i in docs}

    with index.building():
        first = index.update("1", keys, texts_of)
    assert (first.tokenized, first.reused) == (601, 0)
    # 100 removed, 50 added (new words too), and one the caller can no longer find (removed meanwhile).
    more = {f"n{i}": f"zeppelin quokka {docs[f'd{i}']}" for i in range(50)}
    docs.update(more)
    keys = keys[100:] + [(cid, 2.0) for cid in more] + [("gone", 2.0)]
    asked.clear()
    with index.building():
        second = index.update("2", keys, texts_of)
    assert sorted(asked) == sorted([*more, "gone"])
    assert (second.chunks, second.tokenized, second.reused) == (551, 50, 501)
    assert index.stored_stamp() == "2"

    fresh = KeywordIndex(tmp_path / "fresh")
    kept = [cid for cid, _ in keys if cid in docs]
    fresh.build("2", kept, [docs[c] for c in kept])
    for mine, expected in zip(_search_all(index), _search_all(fresh)):
        assert [c for c, _ in mine] == [c for c, _ in expected]
        assert np.allclose([s for _, s in mine], [s for _, s in expected], rtol=1e-5)
    removed = {f"d{i}" for i in range(100)}
    assert index.search("zeppelin", 5) and not any(c in removed for hits in _search_all(index) for c, _ in hits)
    # Words only removed documents had leave the vocabulary.
    assert index._retriever is not None and len(index._retriever.vocab_dict) == len(fresh._retriever.vocab_dict)


def test_a_removed_and_re_added_chunk_is_tokenized_again(tmp_path: Path) -> None:
    """Same chunk id, new added_at: the article was removed and added again, perhaps with another title."""
    index = KeywordIndex(tmp_path / "kw")
    with index.building():
        index.update("1", [("a:0", 1.0), ("b:0", 1.0)], lambda ids: {"a:0": "Alpha harbour", "b:0": "Beta bridge"})
    with index.building():
        build = index.update("2", [("a:0", 5.0), ("b:0", 1.0)], lambda ids: {"a:0": "Gamma harbour"})
    assert (build.tokenized, build.reused) == (1, 1)
    assert [c for c, _ in index.search("gamma", 5)] == ["a:0"] and index.search("alpha", 5) == []


def test_counts_from_another_tokenizer_are_not_reused(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw")
    index.build("1", ["a", "b"], ["harbour", "bridge"])
    folder = index.directory / json.loads((index.directory / "current.json").read_text())["version"]
    meta = json.loads((folder / "ids.json").read_text())
    (folder / "ids.json").write_text(json.dumps({**meta, "tokenizer": "an older one"}))
    with index.building():
        build = index.update("2", [("a", float("nan")), ("b", float("nan"))], lambda ids: {"a": "x", "b": "y"})
    assert build.tokenized == 2


def test_one_build_at_a_time(tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw")
    other = KeywordIndex(tmp_path / "kw")  # as another process of the same home
    with index.building() as mine:
        assert mine
        with other.building(wait=False) as theirs:
            assert theirs is False
    with other.building(wait=False) as theirs:
        assert theirs


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_and_empty_builds(tmp_path: Path, n: int) -> None:
    index = KeywordIndex(tmp_path / "kw")
    index.build("s", [f"c{i}" for i in range(n)], ["harbour"] * n)
    assert index.stored_stamp() == "s"
    assert len(index.search("harbour", 5)) == n
