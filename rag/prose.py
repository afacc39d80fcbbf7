"""Which sentences of a passage are article prose, the only text that may be read, quoted or count as evidence.

Metadata that articles carry in their text is never evidence: a `Source: https://…` line, a bare link,
"Read more", bylines ("By Jane Doe", "Reporting by …; Editing by …"), photo credits and copyright lines.
A dateline in front of the first sentence ("Brussels (dpa) – ", "WASHINGTON — ", "LONDON, Nov 24 (Reuters) - ")
is cut off the sentence, which stays. Seen on the shipped corpus: a citation "supported" by the Washington Post
article's `Source:` line, because the line shared the answer's words.
"""

from __future__ import annotations

import re

from index.chunking import sentence_spans
from index.injection import addresses_the_assistant
from index.types import Chunk

_METADATA = re.compile(
    r"""^\W*(?:
        # a label and a colon ("Source: https://…", "Photo: AP"), a label and a link, or a lone label
        (?:source|sources|read\ more|more|link|via|url|photo|photos|image|images|picture|video|credit|credits|
           copyright|related|see\ also|follow\ us|subscribe|sign\ up|advertisement)
           \s*(?::.{0,300}|\s+https?://\S+.{0,100}|\W*)$
      | https?://\S+\W*$
      | (?:by|written\ by|reporting\ by|edited\ by|editing\ by|additional\ reporting\ by)\s+[A-Z][\w.'’-]*
           (?:\s+[A-Z][\w.'’-]*){0,3}(?:\s*(?:,|and|&|;)\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3})*\W*$
      | \(?(?:reporting|writing|editing)\ by\b.*$
      | (?:©|\(c\)|all\ rights\ reserved).*$
    )""", re.I | re.X)
# "Brussels (dpa) – ", "WASHINGTON — ", "LONDON, Nov 24 (Reuters) - ", "KYIV, Ukraine (AP) — "
_DATELINE = re.compile(
    r"""^(?:[A-Z][A-Za-z.'’-]+(?:\s+[A-Z][A-Za-z.'’-]+){0,3}
        (?:,\s*[A-Z][A-Za-z.'’-]+(?:\s+[A-Za-z.'’-]+){0,2}(?:\s+\d{1,2})?)?
        \s*(?:\([A-Za-z][\w .&-]{0,20}\))?\s*[–—-]{1,2}\s+)""", re.X)


def is_metadata(sentence: str) -> bool:
    """A source line, link, byline, credit or copyright line: never evidence."""
    return bool(_METADATA.match(sentence.strip()))


def dateline_length(sentence: str) -> int:
    """Characters of a leading dateline ("Brussels (dpa) – "), 0 if none.

    Only a dateline with an agency in brackets or in capitals counts, so "Biden - who met him" stays whole.
    """
    m = _DATELINE.match(sentence)
    if not m:
        return 0
    head = m.group(0)
    return len(head) if "(" in head or head.split()[0].isupper() else 0


def in_context(title: str, sentence: str) -> str:
    """A sentence as the cross-encoder should judge it: after its article's title.

    Alone, "The current 2% target has been in place since 2014" scored -7.5 for "What defence spending target do
    NATO allies have?" (the sentence never says NATO); after its title ("… NATO defense spending") it scored 5.1.
    """
    title = title.strip().rstrip(".…")
    return f"{title}. {sentence}" if title and not sentence.startswith(title) else sentence


def prose_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Absolute article offsets of the chunk's prose sentences, datelines cut off, metadata lines and sentences
    addressed to an AI assistant (index/injection.py) left out."""
    out = []
    for s, e in sentence_spans(chunk.text):
        sentence = chunk.text[s:e]
        if is_metadata(sentence) or addresses_the_assistant(sentence):
            continue
        s += dateline_length(sentence)
        if e - s >= 3:
            out.append((chunk.start + s, chunk.start + e))
    return out
