"""Who writes the answer: one small interface, three backends; heavy imports only when a backend is chosen."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from index.errors import ConfigError
from rag.settings import LLMSettings
from rag.types import Message, Prompt

if TYPE_CHECKING:
    from rag.backends.model_process import ModelProcess
    from rag.claims import Relevance


class LLM(ABC):
    """Writes an answer to a prompt, citing its sources as [n]; picks one of a prompt's choices."""

    name: str

    def choose(self, prompt: Prompt) -> int | None:
        """The number (1..) of the choice the sources support, None when they support none: read from what the
        backend writes (its first number)."""
        return parse_choice("".join(self.write(prompt)), len(prompt.choices))

    @abstractmethod
    def write(self, prompt: Prompt) -> Iterator[str]:
        """Yield the answer's text as it is written.

        Raises:
            BackendUnavailable: the model server is down, timed out or answered garbage.
        """


class ChatLLM(LLM):
    """A chat model: the prompt becomes messages (rag/chain.py), the model streams its reply."""

    grammar = False  # whether the server takes a llama.cpp grammar (GBNF) that limits what it may write

    @abstractmethod
    def stream(self, messages: Sequence[Message], grammar: str | None = None) -> Iterator[str]:
        """Yield the reply to these messages as it is generated (`grammar`: GBNF, for servers that take one)."""

    def write(self, prompt: Prompt) -> Iterator[str]:
        from rag.chain import prompt_messages

        return self.stream(prompt_messages(prompt))

    def choose(self, prompt: Prompt) -> int | None:
        """The model names a choice by its number; under a grammar it can write nothing else (a small model is a
        better chooser than writer)."""
        from rag.chain import choice_messages

        grammar = choice_grammar(len(prompt.choices)) if self.grammar else None
        return parse_choice("".join(self.stream(choice_messages(prompt), grammar)), len(prompt.choices))


def choice_grammar(n: int) -> str:
    """GBNF that admits one number, 0..n (0: the sources do not say)."""
    return "root ::= " + " | ".join(f'"{i}"' for i in range(n + 1))


def parse_choice(text: str, n: int) -> int | None:
    """The first number 1..n in a reply; None for 0, nothing, or a number out of range."""
    m = re.search(r"\d+", text)
    return int(m.group()) if m and 1 <= int(m.group()) <= n else None


def make_llm(s: LLMSettings, judge: Relevance | None = None) -> LLM:
    """The configured backend (`judge`: the cross-encoder, for the extractive backend's choice of sentences).

    Raises:
        ConfigError: the backend is unknown or lacks what it needs (a key or URL, a package).
    """
    if s.backend == "extractive":
        from rag.extractive import ExtractiveLLM

        return ExtractiveLLM(judge)
    if s.backend == "local":
        from rag.backends.local import LocalLLM

        return LocalLLM(model_process(s), s.max_tokens, s.timeout_s)
    if s.backend == "openai":
        from rag.backends.openai_compatible import OpenAICompatibleLLM

        if not s.base_url and s.api_key is None:
            raise ConfigError("The openai backend needs OPENAI_API_KEY (or NEWSDESK_LLM__API_KEY), or "
                              "NEWSDESK_LLM__BASE_URL for an OpenAI-compatible server such as Ollama or llama.cpp.")
        return OpenAICompatibleLLM(s.base_url, s.api_key.get_secret_value() if s.api_key else None, s.model,
                                   s.timeout_s, s.max_tokens)
    raise ConfigError(f"Unknown LLM backend {s.backend!r}; choose local, openai or extractive.")


def model_process(s: LLMSettings) -> ModelProcess:
    """The embedded model's process on this host for these settings (found or started on first use)."""
    from rag.backends.model_process import ModelProcess

    assert s.model_dir is not None and s.run_dir is not None  # Settings fills them in
    return ModelProcess(s.run_dir, s.model_dir, s.n_threads, s.idle_exit_s, s.start_timeout_s)
