"""The only LangChain composition: prompt -> LLM stream, and retrieval as a runnable."""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableGenerator, RunnableLambda

from rag.llm import LLM, Message
from rag.prompts import HUMAN, SYSTEM, format_sources
from rag.retrieve import HybridRetriever, Retrieval
from rag.types import Hit

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def _to_messages(value: PromptValue) -> list[Message]:
    return [(_ROLES.get(m.type, "user"), str(m.content)) for m in value.to_messages()]


def build_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", HUMAN)])


def prompt_messages(question: str, hits: Sequence[Hit]) -> list[Message]:
    return _to_messages(build_prompt().invoke({"question": question, "sources": format_sources(hits)}))


def build_generation_chain(llm: LLM) -> Runnable[dict[str, Any], str]:
    """{"question", "hits"} -> streamed answer text."""

    def generate(inputs: Iterator[list[Message]]) -> Iterator[str]:
        for messages in inputs:
            yield from llm.stream(messages)

    fill: Runnable[dict[str, Any], dict[str, Any]] = RunnableLambda(lambda x: {"question": x["question"], "sources": format_sources(x["hits"])})
    return fill | build_prompt() | RunnableLambda(_to_messages) | RunnableGenerator(generate)


def build_retrieval_chain(retriever: HybridRetriever) -> Runnable[str, Retrieval]:
    return RunnableLambda(retriever.retrieve)
