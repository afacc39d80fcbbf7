"""Load the two public news QA benchmarks (MultiHop-RAG, RealTime QA) into plain items and ingestable Sources.

The data lives outside the repository (../shared/bench); nothing here copies it. Formats are described in
that folder's README.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from index.errors import InputError
from index.sources import Source


@dataclass(frozen=True, slots=True)
class Evidence:
    """One gold fact of a MultiHop-RAG query, with the article it comes from."""

    fact: str
    title: str = ""
    source: str = ""  # the outlet, e.g. "The Verge"
    published: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class MultiHopQuery:
    query: str
    answer: str
    question_type: str  # inference_query | comparison_query | temporal_query | null_query
    evidence: tuple[Evidence, ...]

    @property
    def is_null(self) -> bool:
        return self.question_type == "null_query" or not self.evidence


@dataclass(frozen=True, slots=True)
class RealTimeQuestion:
    question_id: str
    question: str
    question_date: str | None
    source: str
    choices: tuple[str, ...]
    answer_index: int
    passage: str  # the gold evidence passage, HTML stripped ("" when the item has none)
    passage_key: str  # label of the passage's Source; several questions may share one passage

    @property
    def answer(self) -> str:
        return self.choices[self.answer_index]


def _read_json(path: Path) -> object:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}.") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON ({e.msg} at line {e.lineno}).") from e


def load_multihop_queries(path: Path) -> list[MultiHopQuery]:
    """MultiHop-RAG `queries_*.json`: a list of {query, answer, question_type, evidence_list}."""
    data = _read_json(path)
    if not isinstance(data, list) or (data and not isinstance(data[0], dict)) or \
            (data and "query" not in data[0]):
        raise InputError(f"{path} is not a MultiHop-RAG queries file (a JSON list of objects with `query`).")
    out = []
    for row in data:
        evidence = tuple(Evidence(fact=e["fact"], title=e.get("title") or "", source=e.get("source") or "",
                                  published=e.get("published_at") or None, url=e.get("url") or None)
                         for e in row.get("evidence_list") or [])
        out.append(MultiHopQuery(row["query"], str(row.get("answer", "")), row.get("question_type", "unknown"),
                                 evidence))
    return out


def multihop_sources(path: Path) -> list[Source]:
    """MultiHop-RAG `evidence_articles.json` -> one short article per entry: metadata + its facts as the body.

    Facts are separate paragraphs, so the sentence chunker never joins the end of one fact to the start of
    another mid-sentence.
    """
    data = _read_json(path)
    if not isinstance(data, list) or (data and "facts" not in data[0]):
        raise InputError(f"{path} is not a MultiHop-RAG articles file (a JSON list of objects with `facts`).")
    sources = []
    for n, row in enumerate(data):
        body = "\n\n".join(f.strip() for f in row["facts"] if f and f.strip())
        meta = {"title": row.get("title") or "", "outlet": row.get("source") or "",
                "author": row.get("author") or "", "published": row.get("published_at") or None,
                "url": row.get("url") or None}
        sources.append(Source(label=f"multihop:{n}", text=body, meta=meta))
    return sources


_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.I)
_TAG = re.compile(r"<[^>]+>")


def strip_html(fragment: str) -> tuple[str, str | None]:
    """An evidence passage's text (tags removed, entities decoded) and its first link URL."""
    m = _HREF.search(fragment)
    text = html.unescape(_TAG.sub("", fragment))
    return " ".join(text.split()), (html.unescape(m.group(1)) if m else None)


def load_realtimeqa(path: Path) -> tuple[list[RealTimeQuestion], list[Source]]:
    """RealTime QA jsonl -> (questions, corpus). The corpus holds each distinct non-empty evidence passage once.

    Metadata: the passage's first link URL and the question date. Identical passages are one article (the
    index dedups by text anyway); two *different* passages that link the same URL get a `#question_id`
    fragment, because the index treats a second article at a known URL as a new version of the first.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"Cannot read {path}: {e.strerror or e}.") from e
    rows = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{i} is not valid JSON ({e.msg}).") from e
    if rows and "question_sentence" not in rows[0]:
        raise InputError(f"{path} is not a RealTime QA file (JSON lines with `question_sentence`).")
    stripped = [strip_html(r.get("evidence") or "") for r in rows]
    url_texts: dict[str, set[str]] = {}
    for text, url in stripped:
        if text and url:
            url_texts.setdefault(url, set()).add(text)
    key_of_text: dict[str, str] = {}
    sources: list[Source] = []
    questions = []
    for row, (text, url) in zip(rows, stripped):
        qid = str(row["question_id"])
        key = ""
        if text:
            key = key_of_text.get(text, "")
            if not key:
                key = f"realtimeqa:{qid}"
                key_of_text[text] = key
                if url and len(url_texts[url]) > 1:
                    url = f"{url.split('#')[0]}#{qid}"
                # The quiz's outlet (CNN, The Week…) is not necessarily the passage's: only URL and date are kept.
                sources.append(Source(label=key, text=text, meta={"url": url, "published": row.get("question_date")}))
        answer = row.get("answer") or ["-1"]
        questions.append(RealTimeQuestion(
            question_id=qid, question=row["question_sentence"], question_date=row.get("question_date"),
            source=row.get("question_source") or "", choices=tuple(str(c) for c in row.get("choices") or ()),
            answer_index=int(answer[0]), passage=text, passage_key=key))
    return questions, sources
