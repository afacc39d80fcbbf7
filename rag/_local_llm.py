"""The embedded default: Qwen2.5-Coder-1.5B-Instruct GGUF on llama-cpp-python, no key, no network."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from rag.llm import ChatLLM, Message
from rag.model_files import ensure_gguf

_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def _load(path: Path, n_threads: int | None) -> Any:
    # One copy per process: the weights take ~1.1 GB and 1-2 s to map.
    with _models_lock:
        key = str(path)
        if key not in _models:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise ConfigError("The local backend needs llama-cpp-python: run `make install`.") from e
            # DESIGN.md: n_ctx=4096 and n_batch=512; LangChain's defaults (512/8) are 2x slower for RAG.
            _models[key] = Llama(model_path=key, n_ctx=4096, n_batch=512, n_threads=n_threads or os.cpu_count(),
                                 verbose=False, logits_all=False)
        return _models[key]


class LocalLLM(ChatLLM):
    def __init__(self, llama: Any, max_tokens: int) -> None:
        self.name = "local"
        self._llama = llama
        self._max_tokens = max_tokens
        self._lock = threading.Lock()  # one generation at a time per model instance

    @classmethod
    def from_package(cls, model_dir: Path, max_tokens: int = 400, n_threads: int | None = None) -> LocalLLM:
        return cls(_load(ensure_gguf(model_dir), n_threads), max_tokens)

    def forget(self) -> None:
        """Drop the evaluated prompt: llama.cpp reuses the longest common prefix of the last prompt, so a
        repeated question starts faster than a new one. Benchmarks call this to time cold questions."""
        with self._lock:
            self._llama.reset()

    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        with self._lock:
            chunks = self._llama.create_chat_completion(
                messages=[{"role": r, "content": c} for r, c in messages], stream=True,
                temperature=0.0, repeat_penalty=1.0, max_tokens=self._max_tokens)
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta
