"""The only LangChain code: the chat prompt, and Newsdesk's retrieval as a LangChain `BaseRetriever`.

The answer path stays ours (rag/answer.py); the retriever is the seam for people who build their own chains:

    from rag.chain import NewsdeskRetriever
    docs = NewsdeskRetriever(k=4).invoke("What does NATO want allies to spend?")
"""

from __future__ import annotations

from datetime import date
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr

from rag.prompts import CHOICE_HUMAN, HUMAN, SYSTEM, format_sources
from rag.settings import Settings
from rag.types import Hit, Message, Prompt

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def _to_messages(value: PromptValue) -> list[Message]:
    return [(_ROLES.get(m.type, "user"), str(m.content)) for m in value.to_messages()]


def build_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", HUMAN)])


def prompt_messages(prompt: Prompt) -> list[Message]:
    """The chat messages a model reads: fixed rules first (llama.cpp keeps them evaluated between questions)."""
    question = f"{prompt.question}\n{prompt.instructions}" if prompt.instructions else prompt.question
    return _to_messages(build_prompt().invoke({"question": question, "sources": format_sources(prompt.readings)}))


def choice_messages(prompt: Prompt) -> list[Message]:
    """The messages that ask a model to pick one of the prompt's choices by its number (0: the sources do not say);
    the same fixed rules first, so llama.cpp reuses their evaluation."""
    question = f"{prompt.question}\n{prompt.instructions}" if prompt.instructions else prompt.question
    choices = "\n".join(f"{i}. {c}" for i, c in enumerate(prompt.choices, start=1))
    template = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", CHOICE_HUMAN)])
    return _to_messages(template.invoke({"question": question, "sources": format_sources(prompt.readings),
                                         "choices": choices}))


def hit_document(hit: Hit) -> Document:
    """A hit as a LangChain Document: the passage, and where it comes from."""
    m, c = hit.meta, hit.chunk
    return Document(page_content=c.text, id=c.chunk_id, metadata={
        "article_id": c.article_id, "chunk_id": c.chunk_id, "title": m.title, "outlet": m.outlet or None,
        "published": m.published, "url": m.url, "start": c.start, "end": c.end, "score": hit.score,
        "similarity": hit.similarity})


class NewsdeskRetriever(BaseRetriever):
    """Newsdesk's hybrid retrieval (dense + BM25, fused, with its outlet/date/recency boosts) over an index.

    Args:
        settings: whose index to search (default: read from the NEWSDESK_* environment).
        k: passages per query; `invoke(query, k=…)` overrides it for one call.
        as_of: the day questions are asked as of, for the recency prior (default: today).

    Documents carry the passage as `page_content` and `article_id`, `chunk_id`, `title`, `outlet`,
    `published`, `url`, `start`, `end` (offsets in the article text), `score` and `similarity` as metadata.
    No relevance gate is applied: an off-topic query still returns the k nearest passages.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings = Field(default_factory=Settings)
    k: int = Field(4, gt=0, le=100)
    as_of: date | None = None
    _retriever: Any = PrivateAttr(default=None)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        if self._retriever is None:
            from index.news_index import NewsIndex
            from rag.retrieve import HybridRetriever

            self._retriever = HybridRetriever(NewsIndex(self.settings.index), self.settings.retrieval)
        k = int(kwargs.get("k", self.k))
        hits = self._retriever.retrieve(query, k, kwargs.get("as_of", self.as_of)).hits
        return [hit_document(h) for h in hits]
