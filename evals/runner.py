"""One driver for every benchmark: ingest its corpus through the normal path into a temporary home, rank each
question with each retriever asked for, answer it when asked, and aggregate the per-query records.

The suites (evals/suites.py) say what a question is, and how rankings and answers are scored.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from evals.metrics import RANK_DEPTH, aggregate
from evals.suites import MultiHopRAG, RealTimeQA, Suite, hit_from_dict
from index.sources import Source
from rag.answer import answer_from_hits
from rag.assistant import Assistant
from rag.backends.extractive import ExtractiveLLM
from rag.settings import Settings

Progress = Callable[[int, int | None, str], None]  # (done, total if known, what)


@dataclass
class EvalResult:
    metrics: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    config: dict[str, Any]
    n: int
    seconds: float
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON of `newsdesk eval … --json` (per-query records are not part of it)."""
        return {"metrics": self.metrics, "by_type": self.by_type, "config": self.config, "n": self.n,
                "seconds": round(self.seconds, 1)}


class _Session:
    """A temporary home with the corpus ingested, our assistant over it, and the plain baseline if asked."""

    def __init__(self, settings: Settings, sources: list[Source], retrievers: Sequence[str],
                 progress: Progress | None, home: Path | None = None) -> None:
        self._tmp = None
        if home is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="newsdesk-eval-", ignore_cleanup_errors=True)
            home = Path(self._tmp.name)
        # A fresh home; the local model's cache dir is kept.
        self.settings = Settings(home=home, index=settings.index.model_copy(), retrieval=settings.retrieval,
                                 llm=settings.llm)
        self.assistant = Assistant.from_settings(self.settings)
        report = self.assistant.index.ingest(sources, progress)
        if report.rejected:
            raise RuntimeError(f"{len(report.rejected)} benchmark articles were rejected, e.g. "
                               f"{report.rejected[0].reason}")
        self.article_of = {o.source: o.article_id for o in report.outcomes if o.article_id}
        self.n_chunks = self.assistant.index.store.count()
        self.baseline = None
        if "plain" in retrievers:
            from evals.baseline import PlainChromaBaseline

            self.baseline = PlainChromaBaseline(self.assistant.index.embedder, home / "plain")
            self.baseline.add(sources)

    def assistant_for(self, retriever: str, backend: str | None) -> Assistant:
        """Our assistant in that retrieval mode (plain ranks with the baseline but answers with dense)."""
        updates: dict[str, dict[str, object]] = {"retrieval": {"mode": "dense" if retriever == "plain" else retriever}}
        if backend:
            updates["llm"] = {"backend": backend}
        return Assistant(self.settings.with_overrides(**updates), self.assistant.index)

    def rank(self, assistant: Assistant, retriever: str, question: str, as_of: date | None) -> list[tuple[str, str]]:
        """(key, text) best first; key = article id (ours) or source label (plain, which knows no dates)."""
        if retriever == "plain":
            assert self.baseline is not None
            return self.baseline.search(question, RANK_DEPTH)
        hits = assistant.retrieve(question, RANK_DEPTH, as_of).hits
        return [(h.chunk.article_id, h.chunk.text) for h in hits]

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def run_suite(suite: Suite, settings: Settings, *, retrievers: Sequence[str], limit: int | None = None,
              offset: int = 0, generate: bool = False, gold_evidence: bool = False, backend: str | None = None,
              progress: Progress | None = None, home: Path | None = None) -> dict[str, EvalResult]:
    """Evaluate each retriever on `limit` items after the first `offset` (a slice not tuned on), over one ingest of
    the whole corpus.

    Args:
        suite: the benchmark (evals/suites.py).
        settings: base settings; the home is replaced by a temporary one (or `home`).
        retrievers: hybrid | dense | bm25 (ours) or plain (LangChain Chroma by hand, evals/baseline.py).
        generate: also answer each item through the assistant (the `backend`'s LLM).
        gold_evidence: answer from the gold evidence instead of retrieved passages.
    """
    items, sources = suite.load()
    items = items[offset:][: limit or None]
    session = _Session(settings, sources, retrievers, _stage(progress, "ingest"), home)
    try:
        return {r: _run_one(suite, session, items, r, limit, generate, gold_evidence, backend, progress, offset)
                for r in retrievers}
    finally:
        session.close()


def _run_one(suite: Suite, session: _Session, items: Sequence[Any], retriever: str, limit: int | None,
             generate: bool, gold: bool, backend: str | None, progress: Progress | None,
             offset: int = 0) -> EvalResult:
    t0 = time.perf_counter()
    ranker = session.assistant_for(retriever, None)
    answering = generate or gold
    answerer = session.assistant_for(retriever, backend) if answering else None
    plain = retriever == "plain"
    records: list[dict[str, Any]] = []
    for n, item in enumerate(items):
        rec = suite.record(item)
        if progress:
            progress(n, len(items), f"{retriever} {rec['question_type']}")
        ranked = session.rank(ranker, retriever, suite.question(item), suite.as_of(item))
        rec.update(suite.score_ranking(item, ranked, suite.gold_key(item, session.article_of, plain)))
        if answerer is not None:
            if not gold:
                choices = suite.choices(item)
                answer = answerer.ask(suite.question(item), as_of=suite.as_of(item),
                                      instructions="" if choices else suite.instructions(item), choices=choices)
            elif (hits := suite.gold_hits(item)) is not None:
                judge = answerer.cross_encoder.score
                answer = answer_from_hits(suite.question(item), hits, answerer.llm, ExtractiveLLM(judge),
                                          suite.instructions(item), answerer.reader.read,
                                          judge, answerer.settings.answer.claim_relevance)
            else:
                records.append(rec)
                continue
            rec.update(suite.score_answer(item, answer))
        records.append(rec)
    if progress:
        progress(len(items), len(items), retriever)
    config = {**_config(session, retriever, generate, gold, limit, suite.name),
              **({"offset": offset} if offset else {}),
              "corpus_articles": len(set(session.article_of.values())), "corpus_chunks": session.n_chunks,
              **suite.config(answering, plain)}
    return _result(suite, records, answering, gold, config, time.perf_counter() - t0)


def _result(suite: Suite, records: list[dict[str, Any]], answering: bool, gold: bool, config: dict[str, Any],
            seconds: float) -> EvalResult:
    keys = [*suite.retrieval_keys, *(suite.answer_keys if answering else ())]
    metrics = aggregate(records, keys)
    if answering:
        metrics.update(suite.summary_metrics(records, gold))
    by_type = {t: {**aggregate([r for r in records if r["question_type"] == t], keys),
                   "n": sum(1 for r in records if r["question_type"] == t)}
               for t in sorted({r["question_type"] for r in records})}
    return EvalResult(metrics, by_type, config, len(records), seconds, records)


def replay_suite(suite: Suite, details: Path, settings: Settings, progress: Progress | None = None) -> EvalResult:
    """Check the drafts a `--generate --details` run saved again, with today's checks: no retrieval, no model
    (only the cross-encoder), seconds for hundreds of drafts. Retrieval metrics are carried over as they were;
    the "Sources differ" box is not rebuilt (it needs the sentences read)."""
    from rag.answer import Draft, assemble_answer
    from rag.rerank import CrossEncoder

    t0 = time.perf_counter()
    saved = [json.loads(line) for line in details.read_text().splitlines() if line.strip()]
    if not saved or "draft" not in saved[0]:
        raise ValueError(f"{details} holds no drafts: write it with `eval … --generate --details FILE` first.")
    every = suite.load()[0]
    # A run with --offset saved a slice: it starts where its first question is.
    first = saved[0].get("question", saved[0].get("query"))
    start = next((i for i, item in enumerate(every) if suite.question(item) == first), 0)
    items = every[start:start + len(saved)]
    judge = CrossEncoder().score
    checks = settings.answer
    records = []
    for n, (item, old) in enumerate(zip(items, saved)):
        if progress:
            progress(n, len(saved), "replay")
        question = suite.question(item)
        if old.get("question", old.get("query")) != question:
            raise ValueError(f"{details} line {n + 1} is not question {n + 1} of {suite.name}: replay the same "
                             "dataset, from the question it started at.")
        rec = {**suite.record(item), **{k: old[k] for k in suite.retrieval_keys if k in old}}
        draft = Draft(old.get("backend") or "local", [old["draft"]] if old["draft"] else [])
        answer = assemble_answer(question, old.get("standalone") or question,
                                 [hit_from_dict(h) for h in old.get("sources") or []], draft, None, judge,
                                 checks.claim_relevance, (), min_answer_relevance=checks.answer_relevance,
                                 nothing_written=old.get("refusal_reason") or "gate")
        rec.update(suite.score_answer(item, answer))
        records.append(rec)
    config = {"dataset": suite.name, "replay": str(details), "claim_relevance": checks.claim_relevance,
              "answer_relevance": checks.answer_relevance, "models": {"embedding": None, "llm": "replayed drafts"},
              "retriever": "replayed"}
    return _result(suite, records, True, False, config, time.perf_counter() - t0)


def _config(session: _Session, retriever: str, generate: bool, gold: bool, limit: int | None,
            dataset: str) -> dict[str, Any]:
    from evals.baseline import PLAIN_CHUNK_OVERLAP, PLAIN_CHUNK_SIZE

    settings = session.settings
    s, i = settings.retrieval, settings.index
    chunking = ({"splitter": "RecursiveCharacterTextSplitter", "chunk_size": PLAIN_CHUNK_SIZE,
                 "chunk_overlap": PLAIN_CHUNK_OVERLAP} if retriever == "plain" else
                {"splitter": "sentences", "chunk_chars": i.chunk_chars, "chunk_overlap": i.chunk_overlap,
                 "embed_title": i.embed_title, "embed_meta": i.embed_meta})
    return {"dataset": dataset, "retriever": retriever, "rank_depth": RANK_DEPTH, "k": s.k,
            # "fusion" and "rrf_k" stay for --json readers: rank fusion is gone, score fusion is the only one.
            "fetch_k": s.fetch_k, "fusion": "score", "rrf_k": None, "dense_weight": s.dense_weight,
            "keyword_weight": s.keyword_weight, "metadata_boost": s.metadata_boost,
            "metadata_fetch": s.metadata_fetch, "recency_days": s.recency_days, "recency_boost": s.recency_boost,
            "min_relevance": s.min_relevance, "reranker": None,
            "models": {"embedding": i.embedding_model, "llm": (settings.llm.backend if generate or gold else None)},
            "chunking": chunking, "generate": generate, "gold_evidence": gold, "limit": limit}


def _stage(progress: Progress | None, name: str) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total, what: progress(done, total, f"{name} {what}")


# --- the two benchmarks by name (the CLI and benchmarks/quality.py) ------------------------------------------
def run_multihop_many(queries_path: Path, articles_path: Path, settings: Settings, *, retrievers: Sequence[str],
                      **kwargs: Any) -> dict[str, EvalResult]:
    """MultiHop-RAG (`queries_dev.json`, `evidence_articles.json`) for several retrievers over one ingest."""
    return run_suite(MultiHopRAG(queries_path, articles_path), settings, retrievers=retrievers, **kwargs)


def run_realtimeqa_many(path: Path, settings: Settings, *, retrievers: Sequence[str], as_of: str = "question",
                        **kwargs: Any) -> dict[str, EvalResult]:
    """RealTime QA (`realtimeqa_2023.jsonl`); `as_of` "question" asks each question as of its quiz date."""
    return run_suite(RealTimeQA(path, as_of), settings, retrievers=retrievers, **kwargs)
