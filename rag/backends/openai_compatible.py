"""OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server, our own model process) through
langchain-openai: the one client code path of every model backend but the extractive one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from index.errors import BackendUnavailable
from rag.llm import ChatLLM
from rag.types import Message


class OpenAICompatibleLLM(ChatLLM):
    def __init__(self, base_url: str | None, api_key: str | None, model: str | None, timeout_s: float,
                 max_tokens: int, name: str = "openai") -> None:
        from langchain_openai import ChatOpenAI

        self.name = name
        self.url = base_url or "https://api.openai.com/v1"
        # A local server ignores the key, but the client insists on one.
        self._chat = ChatOpenAI(base_url=base_url, api_key=api_key or "not-needed",
                                model=model or "gpt-4o-mini", temperature=0, timeout=timeout_s,
                                max_retries=1, max_tokens=max_tokens, streaming=True)

    def stream(self, messages: Sequence[Message], grammar: str | None = None) -> Iterator[str]:
        import httpx
        import openai

        produced = False
        # llama.cpp's server takes a grammar beside the OpenAI fields; a choice is a few tokens.
        chat = self._chat.bind(extra_body={"grammar": grammar}, max_tokens=4) if grammar else self._chat
        try:
            for chunk in chat.stream([{"role": r, "content": c} for r, c in messages]):
                text = chunk.content if isinstance(chunk.content, str) else ""
                if text:
                    produced = True
                    yield text
        except (openai.APIConnectionError, openai.APITimeoutError) as e:
            # A stream cut off in the middle (the server died) is a connection error too.
            raise BackendUnavailable(f"The LLM server at {self.url} is unreachable, broke off or timed out "
                                     f"({type(e).__name__}).") from e
        except openai.APIStatusError as e:
            raise BackendUnavailable(f"The LLM server at {self.url} answered HTTP {e.status_code}: "
                                     f"{str(e)[:200]}") from e
        except httpx.HTTPError as e:
            raise BackendUnavailable(f"The LLM server at {self.url} broke off its answer ({type(e).__name__}).") from e
        except (openai.APIError, ValueError, KeyError, TypeError) as e:
            raise BackendUnavailable(f"The LLM server at {self.url} sent a reply that is not an OpenAI chat "
                                     f"completion ({type(e).__name__}).") from e
        if not produced:
            raise BackendUnavailable(f"The LLM server at {self.url} returned an empty answer.")
