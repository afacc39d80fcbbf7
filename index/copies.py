"""Wire copies: articles whose text is the same story reprinted (identical or lightly edited), found by MinHash-LSH.

An agency story runs in many outlets with a new headline, a dateline or byline of their own, a paragraph cut or
a sentence added. Each article's text becomes a set of word shingles (`SHINGLE_WORDS` consecutive words of the
normalised text), summarised by a MinHash signature (datasketch, `NUM_PERM` permutations, a fixed seed, so a
signature stored in the catalogue is comparable with one made by another process). An LSH index over the
signatures proposes candidates cheaply; an article is a copy of the candidate whose estimated Jaccard
similarity is highest, if that is at least the threshold (`IndexSettings.copy_threshold`, measured on copies
and on near-misses by `benchmarks/copies.py`, docs/BENCHMARKS.md "Wire copies").

The LSH is built for a lower threshold than the decision (`_LSH_SLACK` below it): LSH bands miss some pairs just
above their threshold, and the decision is made on the estimate, not on the band match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# datasketch is imported where it is used: its package imports scipy.integrate and more (~1 s), which commands
# that never ingest (list, ask) need not pay.

NUM_PERM = 128
SHINGLE_WORDS = 5
SEED = 1
_SCHEME = "affine32"  # datasketch 2.0's default: 32-bit hash values, stored as 4 bytes each
_DTYPE = np.dtype("<u4")
_LSH_SLACK = 0.1
_WORD = re.compile(r"\w+")


def shingles(text: str, words: int = SHINGLE_WORDS) -> set[bytes]:
    """The text's `words`-word shingles, after normalising (NFKC, case, punctuation and spacing ignored)."""
    tokens = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(tokens) <= words:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i:i + words]).encode() for i in range(len(tokens) - words + 1)}


def to_bytes(signature: LeanMinHash) -> bytes:
    """A signature as the catalogue stores it (`NUM_PERM` × 4 bytes)."""
    return np.asarray(signature.hashvalues, dtype=_DTYPE).tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    from datasketch import LeanMinHash

    return LeanMinHash(seed=SEED, hashvalues=np.frombuffer(data, dtype=_DTYPE), scheme=_SCHEME)


class Signer:
    """Text -> MinHash signature. Holds the permutations, which datasketch would otherwise draw per signature."""

    def __init__(self, words: int = SHINGLE_WORDS) -> None:
        from datasketch import MinHash

        self.words = words
        self._permutations = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME).permutations

    def sign(self, text: str) -> LeanMinHash:
        from datasketch import LeanMinHash, MinHash

        m = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=self._permutations, scheme=_SCHEME)
        m.update_batch(sorted(shingles(text, self.words)))
        return LeanMinHash(m)


class CopyFinder:
    """The signatures of indexed articles, searchable for the one a new text copies.

    Args:
        threshold: least estimated Jaccard similarity of two copies' shingle sets.
        signer: how texts become signatures (default: `Signer()`).
    """

    def __init__(self, threshold: float, signer: Signer | None = None) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.signer = signer or Signer()
        self._lsh = MinHashLSH(threshold=max(threshold - _LSH_SLACK, 0.05), num_perm=NUM_PERM)
        self._signatures: dict[str, LeanMinHash] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def add(self, article_id: str, signature: LeanMinHash) -> None:
        if article_id not in self._signatures:
            self._signatures[article_id] = signature
            self._lsh.insert(article_id, signature)

    def discard(self, article_ids: Iterable[str]) -> None:
        for aid in article_ids:
            if self._signatures.pop(aid, None) is not None:
                self._lsh.remove(aid)

    def match(self, signature: LeanMinHash, exclude: Iterable[str] = ()) -> tuple[str, float] | None:
        """(the indexed article this signature copies, their estimated Jaccard), or None.

        The most similar candidate wins; ties go to the smaller id, so the answer does not depend on the LSH's
        bucket order.
        """
        skip = set(exclude)
        best: tuple[float, str] | None = None
        for aid in self._lsh.query(signature):
            if aid in skip:
                continue
            j = float(signature.jaccard(self._signatures[aid]))
            if j >= self.threshold and (best is None or (-j, aid) < (-best[0], best[1])):
                best = (j, aid)
        return (best[1], best[0]) if best else None
