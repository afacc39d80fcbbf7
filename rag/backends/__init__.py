"""Who writes the answer: the embedded model's process, and the clients of every backend; `make_llm` picks one.

Here, not in rag/llm.py: the backends subclass rag/llm.py's interface, so the interface must not import them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.errors import ConfigError
from rag.llm import LLM
from rag.settings import LLMSettings

if TYPE_CHECKING:
    from rag.backends.model_process import ModelProcess
    from rag.types import Relevance


def make_llm(s: LLMSettings, judge: Relevance | None = None) -> LLM:
    """The configured backend (`judge`: the cross-encoder, for the extractive backend's choice of sentences).

    Raises:
        ConfigError: the backend is unknown or lacks what it needs (a key or URL, a package).
    """
    if s.backend == "extractive":
        from rag.backends.extractive import ExtractiveLLM

        return ExtractiveLLM(judge)
    if s.backend == "local":
        from rag.backends.local import LocalLLM

        return LocalLLM(host_model_process(s), s.max_tokens, s.timeout_s)
    if s.backend == "openai":
        from rag.backends.openai_compatible import OpenAICompatibleLLM

        if not s.base_url and s.api_key is None:
            raise ConfigError("The openai backend needs OPENAI_API_KEY (or NEWSDESK_LLM__API_KEY), or "
                              "NEWSDESK_LLM__BASE_URL for an OpenAI-compatible server such as Ollama or llama.cpp.")
        return OpenAICompatibleLLM(s.base_url, s.api_key.get_secret_value() if s.api_key else None, s.model,
                                   s.timeout_s, s.max_tokens)
    raise ConfigError(f"Unknown LLM backend {s.backend!r}; choose local, openai or extractive.")


def host_model_process(s: LLMSettings) -> ModelProcess:
    """The embedded model's process on this host for these settings (found or started on first use)."""
    from rag.backends.model_process import ModelProcess

    assert s.model_dir is not None and s.run_dir is not None  # Settings fills them in
    return ModelProcess(s.run_dir, s.model_dir, s.n_threads, s.idle_exit_s, s.start_timeout_s)
