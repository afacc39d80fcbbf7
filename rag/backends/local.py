"""The embedded default: Qwen2.5-Coder-1.5B-Instruct on llama.cpp, no key, no network, in a process of its own.

The model runs in the host's model process (rag/backends/model_process.py); this backend finds or starts it
and talks to it as to any OpenAI-compatible server (rag/backends/openai_compatible.py). A native crash of
llama.cpp ends that process, never the app: the answer in flight fails over to the extractive backend with a
notice (rag/answer.py) and the next question starts a new process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from index.errors import BackendUnavailable
from rag.backends.llama_server import ALIAS
from rag.backends.model_process import ModelProcess, ModelServer, unavailable
from rag.backends.openai_compatible import OpenAICompatibleLLM
from rag.llm import ChatLLM
from rag.types import Message


class LocalLLM(ChatLLM):
    grammar = True  # llama.cpp's server

    def __init__(self, process: ModelProcess, max_tokens: int = 400, timeout_s: float = 120) -> None:
        self.name = "local"
        self.process = process
        self._max_tokens = max_tokens
        self._timeout_s = timeout_s
        self._client: tuple[ModelServer, OpenAICompatibleLLM] | None = None
        self._lock = threading.Lock()

    def _connect(self) -> tuple[ModelServer, OpenAICompatibleLLM]:
        with self._lock:
            server, _ = self.process.ensure()
            if self._client is None or self._client[0] != server:
                self._client = (server, OpenAICompatibleLLM(server.base_url, server.api_key, ALIAS, self._timeout_s,
                                                            self._max_tokens, name="local"))
            return self._client

    def stream(self, messages: Sequence[Message], grammar: str | None = None) -> Iterator[str]:
        server, client = self._connect()
        try:
            yield from client.stream(messages, grammar)
        except BackendUnavailable as e:
            raise unavailable(server, self.process, e) from e

    def forget(self) -> None:
        """Make the next question start cold: llama.cpp reuses the longest common prefix of the last prompt,
        so benchmarks timing cold questions first send an unrelated one-token prompt."""
        for _ in self.stream([("user", "Say OK.")]):
            pass
