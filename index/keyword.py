"""The keyword (BM25) index over complete chunks, kept in this process's home and brought up to date from the catalogue.

Every replica keeps its own copy (nothing on a shared disk): when the catalogue's version moves, the next build
reuses the token counts of the chunks it already holds and tokenizes only the new ones, so bringing 100k chunks
up to date after an ingest costs about a second, not a rebuild from scratch (docs/BENCHMARKS.md). Builds are
written to immutable version folders behind an atomically replaced `current.json`; never per query.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A short English stopword list: BM25 weights rare words anyway; these only add noise and time.
STOPWORDS = frozenset(["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "said", "says", "also", "according"])
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def _stem(word: str) -> str:
    # Plural/possessive folding only: "allies"->"ally", "talks"->"talk", "Trump's"->"trump".
    word = word.replace("’", "'").split("'")[0]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    return [s for w in _TOKEN.findall(text.lower()) if (s := _stem(w)) and s not in STOPWORDS]


# Token counts kept from one build to the next were made by this tokenizer: change the version with `tokenize`,
# and the next build tokenizes everything again.
TOKENIZER_VERSION = "1"
_EMPTY = "∅"  # the one token of a chunk without any (BM25 needs a non-empty document)
K1, B = 1.5, 0.75  # bm25s's defaults (method "lucene"), which the dev-set figures in docs/BENCHMARKS.md used

TextsOf = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True, slots=True)
class KeywordBuild:
    """What one build did: `tokenized` chunks were new to it, `reused` kept their counts from the last build."""

    stamp: str
    chunks: int
    tokenized: int
    reused: int
    seconds: float


class KeywordIndex:
    """BM25 over chunk texts; `search` returns (chunk_id, score) best first.

    Args:
        directory: where this replica keeps its builds (under its own NEWSDESK_HOME).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._loaded_version: object = None
        self._retriever: Any = None
        self._ids: list[str] = []

    # --- building --------------------------------------------------------------------------------
    @contextmanager
    def building(self, wait: bool = True) -> Iterator[bool]:
        """Hold this index's build lock: one build at a time per directory, across threads and processes.

        Yields False at once, without the lock, when `wait` is False and another build is running.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "build.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def update(self, stamp: str, chunks: Sequence[tuple[str, float]], texts_of: TextsOf) -> KeywordBuild:
        """Build a new version holding exactly `chunks` ((chunk_id, added_at), in that order), stamped `stamp`.

        A chunk the current version holds with the same `added_at` keeps its token counts (a chunk id names
        its text: the article id is the hash of the text, and the collection, so the folder, names the
        chunking); `texts_of(ids)` gives the indexed text of the others. Ids it leaves out (removed meanwhile)
        are left out of the build. The caller holds `building()`.
        """
        import numpy as np

        t0 = time.perf_counter()
        previous = self._stored_terms()
        vocab: dict[str, int] = {t: i for i, t in enumerate(previous.counts.vocab)} if previous else {}
        old_row = previous.rows if previous else {}
        rows: list[int] = []  # per chunk: its row in the old arrays, or -1 for a new one
        for cid, added in chunks:
            row = old_row.get(cid, -1)
            rows.append(row if row >= 0 and previous is not None and previous.added[row] == added else -1)
        todo = [cid for (cid, _), row in zip(chunks, rows) if row < 0]
        texts = texts_of(todo) if todo else {}
        new = _count_terms([texts[cid] for cid in todo if cid in texts], vocab)
        new_row = {cid: n for n, cid in enumerate(c for c in todo if c in texts)}
        # Old rows first, then new ones, in one pool; the build takes its rows from the pool in `chunks` order.
        n_old = len(previous.added) if previous else 0
        pool = _concat(previous.counts if previous else _Counts.empty(), new)
        order: list[int] = []
        ids: list[str] = []
        added_at: list[float] = []
        for (cid, added), row in zip(chunks, rows):
            source = row if row >= 0 else (n_old + new_row[cid] if cid in new_row else -1)
            if source >= 0:
                order.append(source)
                ids.append(cid)
                added_at.append(added)
        counts = pool.take(np.asarray(order, dtype=np.int64)).compacted(vocab)
        self._write(stamp, ids, np.asarray(added_at, dtype=np.float64), counts)
        return KeywordBuild(stamp, len(ids), len(new_row), len(ids) - len(new_row),
                            round(time.perf_counter() - t0, 3))

    def build(self, stamp: str, chunk_ids: Sequence[str], texts: Sequence[str]) -> KeywordBuild:
        """Build from these texts alone, reusing nothing (takes the build lock itself)."""
        by_id = dict(zip(chunk_ids, texts))
        with self.building():
            # NaN equals nothing, so no chunk counts as already held.
            return self.update(stamp, [(cid, float("nan")) for cid in chunk_ids], lambda ids: {i: by_id[i] for i in ids})

    def _write(self, stamp: str, ids: list[str], added: Any, counts: _Counts) -> None:
        """Write a version folder (BM25 matrices, ids, token counts), then point `current.json` at it.

        A version is never changed once written, so a reader in another process loads ids and BM25
        matrices of one and the same build. Swapping one folder in place let readers pair the ids of one
        build with the matrices of the next: measured, 142 errors (IndexError, ValueError) and 155 wrong
        chunk ids in 9,395 searches during back-to-back rebuilds.
        """
        import numpy as np

        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"v{uuid.uuid4().hex[:12]}"
        tmp = self.directory / f"{name}.tmp"
        tmp.mkdir()
        if ids:
            _bm25(counts).save(str(tmp / "bm25"))
        np.savez(tmp / "terms.npz", added=added, ptr=counts.ptr, terms=counts.terms, tf=counts.tf, dl=counts.dl)
        (tmp / "vocab.json").write_text(json.dumps(counts.vocab, ensure_ascii=False))
        (tmp / "ids.json").write_text(json.dumps({"stamp": stamp, "tokenizer": TOKENIZER_VERSION, "ids": ids}))
        tmp.rename(self.directory / name)
        pointer = self.directory / f"current.json.{name}"
        pointer.write_text(json.dumps({"stamp": stamp, "version": name}))
        os.replace(pointer, self.directory / "current.json")
        self._prune(keep=name)

    def _stored_terms(self) -> _Stored | None:
        """The current version's token counts, if they were made by this tokenizer."""
        import numpy as np

        current = self._current()
        if current is None:
            return None
        folder = self.directory / current["version"]
        try:
            meta = json.loads((folder / "ids.json").read_text())
            if meta.get("tokenizer") != TOKENIZER_VERSION:
                return None
            with np.load(folder / "terms.npz") as z:
                counts = _Counts(z["ptr"], z["terms"], z["tf"], z["dl"], json.loads((folder / "vocab.json").read_text()))
                added = z["added"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # an older layout or a damaged folder: build from the texts
        return _Stored(counts, added, {cid: n for n, cid in enumerate(meta["ids"])})

    def _prune(self, keep: str) -> None:
        # Keep the two newest older versions: a reader that read the pointer just before the swap
        # is still loading one of them. Leftovers of a builder killed mid-build go too (builds hold the
        # build lock, so a .tmp folder now is a dead builder's).
        versions = sorted((p for p in self.directory.iterdir() if p.is_dir() and p.name != keep),
                          key=lambda p: p.stat().st_mtime, reverse=True)
        done = [p for p in versions if not p.name.endswith(".tmp")]
        for old in done[2:] + [p for p in versions if p.name.endswith(".tmp")]:
            shutil.rmtree(old, ignore_errors=True)
        for stray in self.directory.glob("current.json.*"):
            if stray.stat().st_mtime < time.time() - 60:
                stray.unlink(missing_ok=True)

    # --- reading ---------------------------------------------------------------------------------
    def _current(self) -> dict[str, str] | None:
        try:
            data = json.loads((self.directory / "current.json").read_text())
            return {"stamp": str(data["stamp"]), "version": str(data["version"])}
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def stored_stamp(self) -> str | None:
        """The stamp (the catalogue's version) of the build that searches use now; None before the first."""
        current = self._current()
        return current["stamp"] if current else None

    def _load(self, current: dict[str, str]) -> None:
        import bm25s

        folder = self.directory / current["version"]
        meta = json.loads((folder / "ids.json").read_text())
        self._ids = meta["ids"]
        self._retriever = bm25s.BM25.load(str(folder / "bm25")) if self._ids else None
        self._loaded_version = current["version"]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        with self._lock:
            current = self._current()
            if current is None:
                return []
            if current["version"] != self._loaded_version:
                try:
                    self._load(current)
                except (OSError, ValueError, KeyError):
                    return []  # pruned while we loaded (rebuilds in quick succession); the dense side answers
            retriever, ids = self._retriever, self._ids
        if retriever is None:
            return []
        vocab = retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return []
        docs, scores = retriever.retrieve([tokens], k=min(k, len(ids)), show_progress=False, n_threads=1)
        return [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


@dataclass(frozen=True, slots=True)
class _Counts:
    """Token counts of documents, CSR-like: document d has terms[ptr[d]:ptr[d+1]] (each once) with counts tf.

    `dl` is each document's length in tokens (repeats included), as BM25 wants it; `vocab` names term ids.
    """

    ptr: Any  # int64[n + 1]
    terms: Any  # int32[nnz]
    tf: Any  # int32[nnz]
    dl: Any  # int32[n]
    vocab: list[str]

    @staticmethod
    def empty() -> _Counts:
        import numpy as np

        return _Counts(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32), [])

    def take(self, rows: Any) -> _Counts:
        """These documents, in this order (a vectorised gather of ragged rows)."""
        import numpy as np

        lens = self.ptr[rows + 1] - self.ptr[rows]
        ptr = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lens, out=ptr[1:])
        idx = np.repeat(self.ptr[rows] - ptr[:-1], lens) + np.arange(ptr[-1], dtype=np.int64)
        return _Counts(ptr, self.terms[idx], self.tf[idx], self.dl[rows], self.vocab)

    def compacted(self, vocab: dict[str, int]) -> _Counts:
        """Only the terms some document still uses, renumbered (removed articles' words leave the vocabulary)."""
        import numpy as np

        names = sorted(vocab, key=vocab.__getitem__)
        used = np.flatnonzero(np.bincount(self.terms, minlength=len(names)))
        remap = np.full(len(names), -1, np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        return _Counts(self.ptr, remap[self.terms], self.tf, self.dl, [names[i] for i in used])


@dataclass(frozen=True, slots=True)
class _Stored:
    counts: _Counts
    added: Any  # float64[n]: each document's article added_at, so a removed and re-added article is new
    rows: dict[str, int]


def _count_terms(texts: Sequence[str], vocab: dict[str, int]) -> _Counts:
    """Tokenize and count; new words join `vocab` (ids given in order of first sight)."""
    import numpy as np

    doc: list[int] = []
    term: list[int] = []
    dl = np.zeros(len(texts), np.int32)
    for n, text in enumerate(texts):
        tokens = tokenize(text) or [_EMPTY]
        dl[n] = len(tokens)
        term.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
        doc.extend([n] * len(tokens))
    if not texts:
        return _Counts.empty()
    # One (document, term) key per token, counted: sorted by document, then term.
    keys, tf = np.unique(np.asarray(doc, np.int64) * len(vocab) + np.asarray(term, np.int64), return_counts=True)
    docs = keys // len(vocab)
    ptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(docs, minlength=len(texts)), out=ptr[1:])
    return _Counts(ptr, (keys % len(vocab)).astype(np.int32), tf.astype(np.int32), dl, [])


def _concat(a: _Counts, b: _Counts) -> _Counts:
    import numpy as np

    return _Counts(np.concatenate([a.ptr, b.ptr[1:] + a.ptr[-1]]), np.concatenate([a.terms, b.terms]),
                   np.concatenate([a.tf, b.tf]), np.concatenate([a.dl, b.dl]), [])


def _bm25(counts: _Counts) -> Any:
    """A bm25s retriever holding these documents' BM25 (Lucene) term scores, computed in a few vectorised steps.

    The same numbers as `bm25s.BM25().index(tokens)` (tests/index/test_keyword.py compares them), without its
    per-document Python loops: 100k chunks in well under a second instead of ~5 s.
    """
    import bm25s
    import numpy as np
    import scipy.sparse as sp

    n = len(counts.dl)
    n_vocab = len(counts.vocab)
    df = np.bincount(counts.terms, minlength=n_vocab)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    lens = np.diff(counts.ptr)
    doc = np.repeat(np.arange(n, dtype=np.int32), lens)
    dl = counts.dl.astype(np.float64)
    norm = K1 * ((1 - B) + B * dl / dl.mean())
    tf = counts.tf.astype(np.float64)
    scores = (idf[counts.terms] * tf / (norm[doc] + tf)).astype(np.float32)
    matrix = sp.csc_matrix((scores, (doc, counts.terms)), shape=(n, n_vocab), dtype=np.float32)
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.scores = {"data": matrix.data, "indices": matrix.indices.astype(np.int32),
                        "indptr": matrix.indptr.astype(np.int64), "num_docs": n}
    retriever.vocab_dict = {t: i for i, t in enumerate(counts.vocab)}
    retriever.vocab_dict[""] = n_vocab  # as bm25s.index adds it (create_empty_token)
    retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
    retriever.nonoccurrence_array = None  # only BM25L and BM25+ use it
    return retriever
