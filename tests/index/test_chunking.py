"""Chunk offsets are exact: article.text[start:end] == chunk.text, for any text."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.chunking import chunk_article, sentence_spans
from index.parse import parse_file, parse_text

CORPUS = Path(__file__).resolve().parents[2] / "docs_corpus"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name)
@pytest.mark.parametrize("size, overlap", [(300, 0), (800, 150), (2000, 400)])
def test_offsets_are_exact_and_cover_the_article(path: Path, size: int, overlap: int) -> None:
    article = parse_file(path)
    chunks = chunk_article(article, size, overlap)
    assert chunks and chunks[0].start == 0
    for c in chunks:
        assert article.text[c.start:c.end] == c.text
        assert len(c.text) <= size
        assert c.chunk_id == f"{article.article_id}:{c.ordinal}"
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_line_without_spaces_is_hard_split() -> None:
    article = parse_text("".join(chr(97 + i % 26) for i in range(10_000)))
    chunks = chunk_article(article, 800, 100)
    assert len(chunks) == 13 and all(article.text[c.start:c.end] == c.text for c in chunks)


def test_identical_chunk_texts_are_kept_once() -> None:
    article = parse_text("x" * 10_000)  # 12 identical 800-character pieces and a shorter last one
    chunks = chunk_article(article, 800, 100)
    assert [len(c.text) for c in chunks] == [800, 400] and [c.ordinal for c in chunks] == [0, 1]


def test_overlap_repeats_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} says something." for i in range(40))
    chunks = chunk_article(parse_text(text), 200, 60)
    assert len(chunks) >= 5, len(chunks)  # ~1,400 characters in 200-character chunks: pairs to check
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # overlapping
        assert text[b.start:b.start + 8] == "Sentence"


def test_sentence_spans_keep_closing_quotes() -> None:
    text = "He said “yes.” Then he left. New paragraph\n\nstarts here."
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["He said “yes.”", "Then he left.", "New paragraph", "starts here."]
