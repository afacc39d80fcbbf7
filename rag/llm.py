"""Who writes the answer: the one small interface every backend implements (rag/backends/ picks one)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

from rag.types import Message, Prompt


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
