"""Retrieval floors on a fixed 50-query slice of each benchmark dev set (the first 50 queries of each file).

Full side-by-side runs live in benchmarks/ (docs/BENCHMARKS.md); these catch a regression in chunking,
indexed text, fusion or the embedder. Floors sit just under what was measured (the measured value is in
each comment). Retrieval only: no LLM.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from evals.runner import run_multihop_many, run_realtimeqa_many
from rag.settings import Settings

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench"
SLICE = 50
# Each test ingests a whole benchmark corpus (minutes of two cores): `make test` runs them, `make check` does not.
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def bench_data() -> None:
    """Without the data these floors check nothing: in CI (CI set) that fails, elsewhere it is a skip that says so."""
    if BENCH.is_dir():
        return
    message = (f"benchmark data not found at {BENCH} (../shared/bench): the retrieval floors on the dev slices "
               "did NOT run")
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI must provide the data", pytrace=False)
    pytest.skip(message)


def test_multihop_slice_hits_floor_and_beats_plain(tmp_path: Path) -> None:
    results = run_multihop_many(BENCH / "multihop_rag" / "queries_dev.json",
                                BENCH / "multihop_rag" / "evidence_articles.json", Settings(),
                                retrievers=["hybrid", "plain"], limit=SLICE, home=tmp_path / "eval")
    result, plain = results["hybrid"], results["plain"]
    m = result.metrics
    assert result.n == SLICE and result.config["retriever"] == "hybrid"
    # The by-hand LangChain baseline measured 0.902 hits@4 / 0.827 evidence recall on this slice.
    assert m["hits@4"] > plain.metrics["hits@4"] and m["evidence_recall@10"] > plain.metrics["evidence_recall@10"]
    # Measured 2026-11-28: hits@4 1.000, mrr@10 0.947, evidence_recall@10 0.963.
    assert m["hits@4"] >= 0.97, m
    assert m["mrr@10"] >= 0.90, m
    assert m["evidence_recall@10"] >= 0.93, m


def test_realtimeqa_slice_hits_floor_and_beats_plain(tmp_path: Path) -> None:
    results = run_realtimeqa_many(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl", Settings(),
                                  retrievers=["hybrid", "plain"], limit=SLICE, home=tmp_path / "eval")
    result, plain = results["hybrid"], results["plain"]
    m = result.metrics
    assert result.n == SLICE and result.config["as_of"] == "question"
    # Each question asked as of its quiz date (the recency prior); plain knows no dates.
    assert m["hits@4"] > plain.metrics["hits@4"] and m["mrr@10"] > plain.metrics["mrr@10"], (m, plain.metrics)
    # Measured 2026-11-28: hits@4 0.900, mrr@10 0.809 (plain 0.840 / 0.730).
    assert m["hits@4"] >= 0.87, m
    assert m["mrr@10"] >= 0.77, m


def test_eval_cli_json_keys_are_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ui.cli import main

    code = main(["eval", "multihop", "--queries", str(BENCH / "multihop_rag" / "queries_dev.json"),
                 "--articles", str(BENCH / "multihop_rag" / "evidence_articles.json"), "--limit", "5",
                 "--retriever", "bm25", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) == {"metrics", "by_type", "config", "n", "seconds"}
    assert set(out["metrics"]) == {"hits@4", "hits@10", "mrr@10", "evidence_recall@10"}
    assert out["n"] == 5 and out["config"]["retriever"] == "bm25"
    assert {"models", "k", "retriever", "chunking"} <= set(out["config"])


def test_the_default_gate_refuses_null_queries_and_answers_the_others(tmp_path: Path) -> None:
    """The relevance gate at its default (calibrated on the whole dev split, docs/BENCHMARKS.md) on the first 100
    MultiHop-RAG queries (14 null) and the first 100 RealTime QA questions: retrieval and the gate, no LLM."""
    from evals.suites import MultiHopRAG, RealTimeQA
    from rag.assistant import Assistant
    from rag.gate import decide

    rates: dict[str, list[bool]] = {"null refused": [], "answerable answered": [], "realtimeqa answered": []}
    for suite in (MultiHopRAG(BENCH / "multihop_rag" / "queries_dev.json",
                              BENCH / "multihop_rag" / "evidence_articles.json"),
                  RealTimeQA(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")):
        items, sources = suite.load()
        assistant = Assistant.from_settings(Settings(home=tmp_path / suite.name, llm={"backend": "extractive"}))
        s = assistant.settings.retrieval
        assistant.index.ingest(sources)
        for item in items[:100]:
            question = suite.question(item)
            retrieval = assistant.retrieve(question, s.k, suite.as_of(item))
            admitted = decide(question, retrieval.hits, retrieval.best_similarity, s.min_relevance,
                              s.min_coverage).admitted
            if suite.name == "realtimeqa":
                rates["realtimeqa answered"].append(admitted)
            elif item.is_null:
                rates["null refused"].append(not admitted)
            else:
                rates["answerable answered"].append(admitted)
    got = {k: sum(v) / len(v) for k, v in rates.items()}
    # Measured 2026-11-30 at min_relevance 0.42: 13 of 14 nulls refused (0.929), 0.977 answered, RTQA 0.96
    # (at 0.44: 0.929, 0.942, 0.93).
    assert got["null refused"] >= 0.85 and got["answerable answered"] >= 0.90, got
    assert got["realtimeqa answered"] >= 0.88, got


def test_replaying_saved_drafts_scores_them_as_the_run_did(tmp_path: Path) -> None:
    """`eval --generate --details` saves each draft with its sources; `eval --replay` checks them again without
    retrieval or a model and, with the checks unchanged, gives the same per-query scores."""
    from evals.runner import replay_suite
    from evals.suites import MultiHopRAG

    queries, articles = BENCH / "multihop_rag" / "queries_dev.json", BENCH / "multihop_rag" / "evidence_articles.json"
    # A slice after the first three (--offset): the replay finds where it starts.
    run = run_multihop_many(queries, articles, Settings(), retrievers=["hybrid"], limit=10, offset=3, generate=True,
                            backend="extractive", home=tmp_path / "home")["hybrid"]
    suite = MultiHopRAG(queries, articles)
    assert [r["query"] for r in run.records] == [suite.question(q) for q in suite.load()[0][3:13]]
    assert run.config["offset"] == 3
    details = tmp_path / "details.jsonl"
    details.write_text("\n".join(json.dumps(r) for r in run.records) + "\n")
    assert all(r["draft"] or r["refused"] for r in run.records)
    replayed = replay_suite(suite, details, Settings())
    keys = ("accuracy_official", "crag", "citation_precision", "refused", "refusal_reason", "removed")
    assert [[r.get(k) for k in keys] for r in replayed.records] == [[r.get(k) for k in keys] for r in run.records]
    assert replayed.metrics["crag"] == run.metrics["crag"]
