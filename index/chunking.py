"""Article -> Chunks of whole sentences that keep exact character offsets."""

from __future__ import annotations

import re

from index.types import Article, Chunk, chunk_id_for

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before whitespace,
# or at a paragraph break. Abbreviations like "U.S. officials" split wrongly now and then; chunks
# overlap, so a bad split costs little.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n\s*\n|\n(?=\s*[-*•#])")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans (absolute offsets) of the sentences in text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        _add_trimmed(text, pos, m.start() + len(m.group(0).rstrip()) if m.group(0).strip() else m.start(), spans)
        pos = m.end()
    _add_trimmed(text, pos, end, spans)
    return spans


def _add_trimmed(text: str, s: int, e: int, out: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append((s, e))


def _hard_split(s: int, e: int, size: int) -> list[tuple[int, int]]:
    # A "sentence" longer than a chunk (a 1 MB line without spaces) is cut at fixed widths.
    return [(i, min(i + size, e)) for i in range(s, e, size)]


def chunk_article(article: Article, chunk_chars: int = 800, overlap: int = 150) -> list[Chunk]:
    """Pack whole sentences into chunks of about `chunk_chars`, repeating up to `overlap`
    characters of trailing sentences at the start of the next chunk.

    A chunk whose text repeats an earlier chunk's is left out: one article made of a single repeated word
    (1.2 MB) gave 1,500 identical vectors, and Chroma's nearest-neighbour search then returned only those for
    every question.

    Invariant: ``article.text[c.start:c.end] == c.text`` for every chunk.
    """
    text = article.text
    sentences: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        sentences.extend(_hard_split(s, e, chunk_chars) if e - s > chunk_chars else [(s, e)])
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= chunk_chars:
            j += 1
        chunks.append((sentences[i][0], sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        # Next chunk starts with as many trailing sentences of this one as fit in the overlap.
        k = j + 1
        while k - 1 > i and sentences[j][1] - sentences[k - 1][0] <= overlap:
            k -= 1
        i = k
    seen: set[str] = set()
    distinct = []
    for s, e in chunks:
        if text[s:e] not in seen:
            seen.add(text[s:e])
            distinct.append((s, e))
    return [
        Chunk(chunk_id=chunk_id_for(article.article_id, n), article_id=article.article_id, ordinal=n,
              start=s, end=e, text=text[s:e])
        for n, (s, e) in enumerate(distinct)
    ]
