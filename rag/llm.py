"""LLM backends behind one small interface; heavy imports happen only when a backend is chosen."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Sequence

from index.errors import ConfigError
from rag.settings import LLMSettings

Message = tuple[str, str]  # (role, content), role in "system" | "user" | "assistant"


class LLM(ABC):
    name: str

    @abstractmethod
    def stream(self, messages: Sequence[Message]) -> Iterator[str]:
        """Yield the answer's text as it is generated.

        Raises:
            BackendUnavailable: the model server is down, timed out or answered garbage.
        """

    def complete(self, messages: Sequence[Message]) -> str:
        return "".join(self.stream(messages))


def make_llm(s: LLMSettings) -> LLM | None:
    """The configured backend; None for the extractive (no-LLM) mode."""
    if s.backend == "extractive":
        return None
    if s.backend == "local":
        from rag._local_llm import LocalLLM

        assert s.model_dir is not None  # Settings fills it in
        return LocalLLM.from_package(s.model_dir, s.max_tokens, s.n_threads)
    if s.backend == "openai":
        from rag._openai_llm import OpenAICompatibleLLM

        if not s.base_url and s.api_key is None:
            raise ConfigError("The openai backend needs OPENAI_API_KEY (or NEWSDESK_LLM__API_KEY), or "
                              "NEWSDESK_LLM__BASE_URL for an OpenAI-compatible server such as Ollama or llama.cpp.")
        return OpenAICompatibleLLM(s.base_url, s.api_key.get_secret_value() if s.api_key else None, s.model,
                                   s.timeout_s, s.max_tokens)
    raise ConfigError(f"Unknown LLM backend {s.backend!r}; choose local, openai or extractive.")
