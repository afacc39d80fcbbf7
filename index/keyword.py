"""The keyword (BM25) index over complete chunks: rebuilt after each ingest batch, persisted, never per query."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path
from typing import Sequence

# A short English stopword list: BM25 weights rare words anyway; these only add noise and time.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves said says also according
""".split())
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


class KeywordIndex:
    """BM25 over chunk texts; `search` returns (chunk_id, score) best first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._loaded_generation: int | None = None
        self._retriever = None
        self._ids: list[str] = []

    def build(self, chunk_ids: Sequence[str], texts: Sequence[str], generation: int) -> None:
        """Index all texts and persist atomically (write beside, then rename)."""
        import bm25s

        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if chunk_ids:
            retriever = bm25s.BM25()
            retriever.index([tokenize(t) or ["∅"] for t in texts], show_progress=False)
            retriever.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(json.dumps({"generation": generation, "ids": list(chunk_ids)}))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def stored_generation(self) -> int | None:
        try:
            return int(json.loads((self.directory / "ids.json").read_text())["generation"])
        except (OSError, ValueError, KeyError):
            return None

    def _load(self) -> None:
        import bm25s

        meta = json.loads((self.directory / "ids.json").read_text())
        self._ids = meta["ids"]
        self._retriever = bm25s.BM25.load(str(self.directory / "bm25")) if self._ids else None
        self._loaded_generation = int(meta["generation"])

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        with self._lock:
            stored = self.stored_generation()
            if stored is None:
                return []
            if stored != self._loaded_generation:
                try:
                    self._load()
                except (OSError, ValueError, KeyError):
                    return []  # a rebuild is being swapped in right now; the dense side still answers
            retriever, ids = self._retriever, self._ids
        if retriever is None:
            return []
        vocab = retriever.vocab_dict
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return []
        docs, scores = retriever.retrieve([tokens], k=min(k, len(ids)), show_progress=False, n_threads=1)
        return [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
