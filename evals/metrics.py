"""The benchmarks' metric functions: pure, unit-tested in tests/quality/test_metrics.py.

MultiHop-RAG's official rules (its `retrieval_evaluate.py` / `qa_evaluate.py`, ../shared/bench/README.md), a
strict answer metric beside the lenient official one, and RealTime QA's choice rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from index.chunking import sentence_spans
from rag.citations import looks_like_refusal
from rag.markers import strip_markers

# Passages retrieved for the ranking metrics; answers still get `settings.retrieval.k` passages.
RANK_DEPTH = 10
NULL_ANSWER = "Insufficient information."  # MultiHop-RAG's gold answer for null queries


def squash(text: str) -> str:
    """The official MultiHop-RAG normalisation: spaces and newlines deleted, nothing else."""
    return text.replace(" ", "").replace("\n", "")


def facts_in(chunk_text: str, facts: Sequence[str]) -> set[int]:
    """Indices of the gold facts that appear whole in the chunk (official hit rule, case-sensitive)."""
    body = squash(chunk_text)
    return {i for i, fact in enumerate(facts) if squash(fact) and squash(fact) in body}


def rank_metrics(is_hit: Sequence[bool], ks: Sequence[int] = (4, 10), mrr_at: int = 10) -> dict[str, float]:
    """hits@k (1 if any of the first k is a hit) and mrr@mrr_at (1/rank of the first hit, 0 if none)."""
    first = next((r for r, h in enumerate(is_hit, start=1) if h), None)
    out = {f"hits@{k}": float(first is not None and first <= k) for k in ks}
    out[f"mrr@{mrr_at}"] = 1.0 / first if first is not None and first <= mrr_at else 0.0
    return out


def multihop_retrieval_metrics(chunk_texts: Sequence[str], facts: Sequence[str]) -> dict[str, float]:
    """hits@4, hits@10, mrr@10 and evidence_recall@10 of one ranked list against a query's gold facts."""
    facts = list(dict.fromkeys(facts))
    found = [facts_in(t, facts) for t in chunk_texts[:RANK_DEPTH]]
    out = rank_metrics([bool(f) for f in found])
    covered = set().union(*found) if found else set()
    out["evidence_recall@10"] = len(covered) / len(facts) if facts else 0.0
    return out


_ANSWER_LINE = re.compile(r"^\W*(?:final\s+|short\s+)?answer\W*:\s*(.+?)\s*$", re.I | re.M)


def final_answer(text: str) -> str:
    """The short answer: the last 'Answer: …' line if there is one, else the first sentence; markers removed.

    The small local model often ignores the answer-line request and answers in full sentences; its first
    sentence carries the answer ("Yes, both …", "… is Sam Bankman-Fried.").
    """
    lines = _ANSWER_LINE.findall(text)
    if lines:
        short = lines[-1]
    else:
        clean = strip_markers(text).strip()
        spans = sentence_spans(clean)
        short = clean[spans[0][0]:spans[0][1]] if spans else clean
    return " ".join(strip_markers(short).split()).strip(" *_")


def _bare_words(text: str) -> set[str]:
    return {w.strip(".,;:!?\"'()[]*") for w in text.lower().split()} - {""}


def official_correct(prediction: str, gold: str) -> bool:
    """MultiHop-RAG `qa_evaluate.py`: lowercased prediction and gold share a whitespace-separated word.

    Punctuation at the ends of words is dropped first ("Yes," matches "Yes"): the paper's answers were bare
    words, ours come in sentences.
    """
    return bool(_bare_words(prediction) & _bare_words(gold))


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def strict_correct(prediction: str, gold: str) -> bool:
    """The gold answer appears in the prediction as whole words (case and punctuation ignored)."""
    g = _words(gold)
    return bool(g) and re.search(rf"(?<!\w){re.escape(g)}(?!\w)", _words(prediction)) is not None


def is_refusal(answer_text: str, refused: bool) -> bool:
    """The system declined: the gate refused, or the (short) answer says the sources do not tell."""
    return refused or looks_like_refusal(final_answer(answer_text)) or \
        final_answer(answer_text).lower().rstrip(".") == NULL_ANSWER.lower().rstrip(".")


def choice_correct(answer_text: str, choices: Sequence[str], right: int) -> bool:
    """RealTime QA: the answer names the right choice and no other (whole words, case-insensitive).

    Occurrences of the right choice are blanked before looking for the others, so a wrong choice that is
    part of the right one ("New York" inside "New York City") does not count against it.
    """
    text = f" {_words(strip_markers(answer_text))} "
    target = _words(choices[right])
    if not target or f" {target} " not in text:
        return False
    rest = text.replace(f" {target} ", " | ")
    for i, choice in enumerate(choices):
        w = _words(choice)
        if i == right or not w or w == target:
            continue
        # A wrong choice inside the right one is looked for outside the right one's mentions only.
        if f" {w} " in (rest if f" {w} " in f" {target} " else text):
            return False
    return True


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def aggregate(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, float | None]:
    """Mean of each metric over the records where it applies (None where it does not)."""
    return {k: mean(r.get(k) for r in records) for k in keys}


def refusal_scores(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Precision and recall of refusals, taking null queries as the positives."""
    refused = [r for r in records if r.get("refused")]
    nulls = [r for r in records if r.get("is_null")]
    return {"refusal_precision": mean(float(r["is_null"]) for r in refused),
            "refusal_recall": mean(float(r["refused"]) for r in nulls)}
