"""The two benchmarks as the runner sees them: each supplies its items, corpus, and how to score them.

A suite turns one item into the question to search, the day to ask it as of, its retrieval metrics for a
ranked list, the answer to ask for (with the answer format the LLM alone reads), and its answer metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from evals.datasets import (
    Evidence,
    MultiHopQuery,
    RealTimeQuestion,
    load_multihop_queries,
    load_realtimeqa,
    multihop_sources,
)
from evals.metrics import (
    _ANSWER_LINE,
    choice_correct,
    facts_in,
    final_answer,
    is_refusal,
    multihop_retrieval_metrics,
    official_correct,
    rank_metrics,
    refusal_scores,
    strict_correct,
)
from index.errors import InputError
from index.sources import Source
from index.types import ArticleMeta, Chunk
from rag.types import Answer, Hit

Ranked = Sequence[tuple[str, str]]  # (key, chunk text) best first; key = article id, or source label (plain)

# MultiHop-RAG's gold answers are a few words ("Yes", "Sam Bankman-Fried"): the official metric compares
# words, so a whole paragraph would match almost anything. The model is asked for a last short line.
MULTIHOP_ANSWER_SUFFIX = ("\nEnd your reply with a last line of the form 'Answer: ...' giving only the short "
                          "answer (a name, a number, Yes or No), or 'Answer: Insufficient information.' "
                          "if the sources do not say.")


class Suite(Protocol):
    """Items are whatever the suite loads; the runner only hands them back."""

    @property
    def name(self) -> str:
        """The dataset name in results: "multihop_rag" | "realtimeqa"."""

    @property
    def retrieval_keys(self) -> tuple[str, ...]: ...

    @property
    def answer_keys(self) -> tuple[str, ...]: ...

    def load(self) -> tuple[list[Any], list[Source]]:
        """The items to ask and the corpus to ingest."""

    def question(self, item: Any) -> str: ...

    def as_of(self, item: Any) -> date | None: ...

    def record(self, item: Any) -> dict[str, Any]:
        """The per-query record's identifying fields (the details file)."""

    def score_ranking(self, item: Any, ranked: Ranked, gold_key: Any) -> dict[str, float]: ...

    def gold_key(self, item: Any, article_of: dict[str, str], plain: bool) -> Any: ...

    def instructions(self, item: Any) -> str: ...

    def choices(self, item: Any) -> tuple[str, ...]: ...

    def gold_hits(self, item: Any) -> list[Hit] | None:
        """The gold evidence as numbered sources (None: this item has none to give)."""

    def score_answer(self, item: Any, answer: Answer) -> dict[str, Any]: ...

    def summary_metrics(self, records: Sequence[dict[str, Any]], gold: bool) -> dict[str, float | None]: ...

    def config(self, answering: bool, plain: bool) -> dict[str, Any]: ...


def hits_from_evidence(evidence: Sequence[Evidence]) -> list[Hit]:
    """The paper's ground-truth-chunk setting: each gold fact is one numbered source."""
    hits = []
    for n, ev in enumerate(evidence):
        chunk = Chunk(f"gold:{n}", f"gold{n}", 0, 0, len(ev.fact), ev.fact)
        meta = ArticleMeta(title=ev.title, outlet=ev.source, published=(ev.published or "")[:10] or None, url=ev.url)
        hits.append(Hit(chunk, meta, 1.0, "gold", 1.0))
    return hits


@dataclass(frozen=True)
class MultiHopRAG:
    """MultiHop-RAG: retrieval metrics over non-null queries; answers, citations and refusals when asked."""

    queries_path: Path
    articles_path: Path
    name = "multihop_rag"
    retrieval_keys = ("hits@4", "hits@10", "mrr@10", "evidence_recall@10")
    answer_keys = ("accuracy_official", "accuracy_strict", "citation_precision", "answer_line_rate", "crag")

    def load(self) -> tuple[list[MultiHopQuery], list[Source]]:
        return load_multihop_queries(self.queries_path), multihop_sources(self.articles_path)

    def question(self, item: MultiHopQuery) -> str:
        return item.query

    def as_of(self, item: MultiHopQuery) -> date | None:
        return None  # questions name their dates when they matter

    def record(self, item: MultiHopQuery) -> dict[str, Any]:
        return {"query": item.query, "question_type": item.question_type, "is_null": item.is_null,
                "gold": item.answer}

    def gold_key(self, item: MultiHopQuery, article_of: dict[str, str], plain: bool) -> Any:
        return [e.fact for e in item.evidence]

    def score_ranking(self, item: MultiHopQuery, ranked: Ranked, gold_key: Any) -> dict[str, float]:
        return {} if item.is_null else multihop_retrieval_metrics([t for _, t in ranked], gold_key)

    def choices(self, item: MultiHopQuery) -> tuple[str, ...]:
        return ()

    def instructions(self, item: MultiHopQuery) -> str:
        return MULTIHOP_ANSWER_SUFFIX

    def gold_hits(self, item: MultiHopQuery) -> list[Hit] | None:
        # Null queries have no gold facts to give: the paper's ground-truth setting skips them.
        return None if item.is_null else hits_from_evidence(item.evidence)

    def score_answer(self, item: MultiHopQuery, answer: Answer) -> dict[str, Any]:
        short = final_answer(answer.reply)
        refused = is_refusal(answer.reply, answer.refused)
        rec: dict[str, Any] = {"answer": answer.reply, "short_answer": short, "refused": refused,
                               "answer_line_rate": float(bool(_ANSWER_LINE.search(answer.reply))) if not refused
                               else None,
                               "unsupported_sentences": len(answer.unsupported_sentences),  # details file only
                               **_why(answer)}
        if item.is_null:
            rec["accuracy_official"] = rec["accuracy_strict"] = float(refused)
            rec["crag"] = crag_score(refused, False, unanswerable=True)
            return rec
        rec["accuracy_official"] = float(not refused and official_correct(short, item.answer))
        rec["crag"] = crag_score(refused, bool(rec["accuracy_official"]))
        rec["accuracy_strict"] = float(not refused and strict_correct(short, item.answer))
        facts = [e.fact for e in item.evidence]
        if answer.citations:
            rec["citation_precision"] = (sum(bool(facts_in(c.hit.chunk.text, facts)) for c in answer.citations)
                                         / len(answer.citations))
        return rec

    def summary_metrics(self, records: Sequence[dict[str, Any]], gold: bool) -> dict[str, float | None]:
        return {} if gold else refusal_scores(records)

    def config(self, answering: bool, plain: bool) -> dict[str, Any]:
        return {"answer_suffix": MULTIHOP_ANSWER_SUFFIX.strip() if answering else None}


def crag_score(refused: bool, right: bool, unanswerable: bool = False) -> float:
    """CRAG's score of one answer: +1 right, 0 refused, -1 wrong; an unanswerable question refused +1, answered -1."""
    if unanswerable:
        return 1.0 if refused else -1.0
    return 0.0 if refused else 1.0 if right else -1.0


def _why(answer: Answer) -> dict[str, Any]:
    """For the details file: why a refusal, the sentences the checks removed, and what `eval --replay` needs to
    check the same draft again without retrieval or a model (the draft, the question searched, the sources)."""
    return {"refusal_reason": answer.refusal_reason if answer.refused else None,
            "removed": list(answer.unsupported_sentences), "draft": answer.draft, "backend": answer.backend,
            "standalone": answer.standalone_question, "sources": [hit_to_dict(h) for h in answer.hits]}


def hit_to_dict(hit: Hit) -> dict[str, Any]:
    c, m = hit.chunk, hit.meta
    return {"chunk_id": c.chunk_id, "article_id": c.article_id, "ordinal": c.ordinal, "start": c.start,
            "end": c.end, "text": c.text, "title": m.title, "outlet": m.outlet, "published": m.published,
            "url": m.url, "score": hit.score, "stage": hit.stage, "similarity": hit.similarity}


def hit_from_dict(d: dict[str, Any]) -> Hit:
    chunk = Chunk(d["chunk_id"], d["article_id"], int(d["ordinal"]), int(d["start"]), int(d["end"]), d["text"])
    meta = ArticleMeta(title=d.get("title") or "", outlet=d.get("outlet") or "", published=d.get("published"),
                       url=d.get("url"))
    return Hit(chunk, meta, float(d.get("score") or 0.0), str(d.get("stage") or "fused"), d.get("similarity"))


def question_day(text: str | None) -> date | None:
    """The quiz date ('2023/01/05' or ISO) as a date; None when missing or unreadable."""
    try:
        return date.fromisoformat((text or "")[:10].replace("/", "-"))
    except ValueError:
        return None


@dataclass(frozen=True)
class RealTimeQA:
    """RealTime QA: each question's own evidence passage is its gold; answers are scored by the choice named.

    `as_of="question"` asks each question as of its quiz date (the benchmark's setting: "this week" means that
    week); "today" asks them all today, which turns the recency prior off for this 2023 corpus.
    """

    path: Path
    as_of_mode: str = "question"
    name = "realtimeqa"
    retrieval_keys = ("hits@1", "hits@4", "hits@10", "mrr@10")
    answer_keys = ("choice_accuracy", "refusal_rate", "crag")

    def __post_init__(self) -> None:
        if self.as_of_mode not in ("question", "today"):
            raise InputError(f"as_of must be 'question' or 'today', not {self.as_of_mode!r}.")

    def load(self) -> tuple[list[RealTimeQuestion], list[Source]]:
        questions, sources = load_realtimeqa(self.path)
        # Questions without a passage have no gold to retrieve; they are left out, as the README's corpus is.
        return [q for q in questions if q.passage], sources

    def question(self, item: RealTimeQuestion) -> str:
        return item.question

    def as_of(self, item: RealTimeQuestion) -> date | None:
        return question_day(item.question_date) if self.as_of_mode == "question" else None

    def record(self, item: RealTimeQuestion) -> dict[str, Any]:
        return {"question_id": item.question_id, "question": item.question, "question_type": item.source,
                "gold": item.answer}

    def gold_key(self, item: RealTimeQuestion, article_of: dict[str, str], plain: bool) -> Any:
        return item.passage_key if plain else article_of[item.passage_key]

    def score_ranking(self, item: RealTimeQuestion, ranked: Ranked, gold_key: Any) -> dict[str, float]:
        return rank_metrics([key == gold_key for key, _ in ranked], ks=(1, 4, 10))

    def choices(self, item: RealTimeQuestion) -> tuple[str, ...]:
        """The quiz's four choices: the model picks one by its number, the code cites it (rag/choices.py)."""
        return tuple(item.choices)

    def instructions(self, item: RealTimeQuestion) -> str:
        """The four choices and the answer format, for answers written from the gold evidence (no choosing there):
        for the LLM only, retrieval searches the quiz sentence."""
        return f"Choices: {'; '.join(item.choices)}\nAnswer with the one right choice, named exactly as written."

    def gold_hits(self, item: RealTimeQuestion) -> list[Hit] | None:
        return hits_from_evidence([Evidence(item.passage, published=item.question_date)])

    def score_answer(self, item: RealTimeQuestion, answer: Answer) -> dict[str, Any]:
        right = not answer.refused and choice_correct(answer.reply, item.choices, item.answer_index)
        return {"answer": answer.reply,
                "unsupported_sentences": len(answer.unsupported_sentences),  # details file only
                **_why(answer),
                "refusal_rate": float(answer.refused),
                "choice_accuracy": float(right),
                "crag": crag_score(answer.refused, right)}

    def summary_metrics(self, records: Sequence[dict[str, Any]], gold: bool) -> dict[str, float | None]:
        return {}

    def config(self, answering: bool, plain: bool) -> dict[str, Any]:
        return {"prompt": "question searched; the model picks one of the choices by number (a grammar for the local "
                          "model), the code cites it" if answering else None,
                "as_of": None if plain else self.as_of_mode}  # plain knows no dates
