"""Newsdesk's retrieval as a LangChain BaseRetriever: the standard suite from langchain-tests, and its Documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.chain import NewsdeskRetriever
from rag.settings import Settings


class TestNewsdeskRetriever(RetrieversIntegrationTests):
    """The suite every LangChain retriever integration runs, against the shipped corpus in a real index."""

    @pytest.fixture(autouse=True)
    def _seeded(self, seeded_home: Path) -> None:
        self.home = seeded_home

    @property
    def retriever_constructor(self) -> type[NewsdeskRetriever]:
        return NewsdeskRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, object]:
        return {"settings": Settings(home=self.home), "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "What defence spending target do NATO allies have?"


def test_documents_carry_the_passage_and_where_it_comes_from(seeded_home: Path) -> None:
    docs = NewsdeskRetriever(settings=Settings(home=seeded_home), k=3).invoke("Who met Biden on Monday?")
    assert len(docs) == 3
    top = docs[0]
    assert "Stoltenberg and Biden met on Monday" in top.page_content
    m = top.metadata
    assert m["outlet"] == "dpa" and m["published"] == "2020-11-24" and m["chunk_id"].startswith(m["article_id"])
    assert {"title", "url", "start", "end", "score", "similarity"} <= set(m)
    from index.news_index import NewsIndex

    article = NewsIndex(Settings(home=seeded_home).index).get(m["article_id"]).article
    assert article.text[m["start"]:m["end"]] == top.page_content  # the offsets point at the passage
    assert [d.metadata["score"] for d in docs] == sorted((d.metadata["score"] for d in docs), reverse=True)
