"""`newsdesk eval multihop|realtimeqa`: measure retrieval (and answers) on the public news benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals import RETRIEVERS

if TYPE_CHECKING:
    from evals.runner import EvalResult


def _progress() -> tuple[Callable[[int, int | None, str], None], Callable[[], None]]:
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def update(done: int, total: int | None, what: str) -> None:
        stage = what.split(" ", 1)[0]
        if state.get("stage") != stage or state["bar"].total != total:
            if "bar" in state:
                state["bar"].close()
            state["bar"] = tqdm(total=total, desc=stage, unit="q" if stage != "ingest" else "article",
                                file=sys.stderr, dynamic_ncols=True, disable=None)
            state["stage"] = stage
        state["bar"].n = done
        state["bar"].set_postfix_str(what.split(" ", 1)[-1][:30], refresh=True)

    def close() -> None:
        if "bar" in state:
            state["bar"].close()

    return update, close


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def summary_table(result: EvalResult) -> str:
    """Overall metrics and one row per question type, as fixed-width text."""
    keys = list(result.metrics)
    type_keys = [k for k in keys if not k.startswith("refusal_")]
    rows = [["all", str(result.n)] + [_fmt(result.metrics[k]) for k in type_keys]]
    for name, m in result.by_type.items():
        rows.append([name, str(m.get("n", ""))] + [_fmt(m.get(k)) for k in type_keys])
    header = ["type", "n"] + type_keys
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in [header] + rows]
    extra = [f"{k}: {_fmt(result.metrics[k])}" for k in keys if k.startswith("refusal_")]
    cfg = result.config
    head = (f"{cfg['dataset']} · retriever={cfg['retriever']} · embedding={cfg['models']['embedding']}"
            + (f" · llm={cfg['models']['llm']}" if cfg["models"]["llm"] else "")
            + f" · {result.n} queries · {result.seconds:.0f} s")
    return "\n".join([head, *lines, *extra])


def cmd_eval(args: argparse.Namespace) -> int:
    from evals import runner
    from rag.settings import Settings

    settings = Settings()
    update, close = _progress()
    common: dict[str, Any] = dict(retrievers=[args.retriever], limit=args.limit, offset=args.offset,
                                  generate=args.generate,
                                  gold_evidence=args.gold_evidence, backend=args.backend, progress=update)
    if args.replay:
        from evals.suites import MultiHopRAG, RealTimeQA, Suite

        suite: Suite = (MultiHopRAG(Path(args.queries), Path(args.articles)) if args.dataset == "multihop"
                        else RealTimeQA(Path(args.file), args.as_of))
        try:
            result = runner.replay_suite(suite, Path(args.replay), settings, update)
        finally:
            close()
        print(json.dumps(result.to_dict(), indent=2) if args.json else summary_table(result))
        if args.details:
            Path(args.details).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in result.records) + "\n")
        return 0
    try:
        if args.dataset == "multihop":
            results = runner.run_multihop_many(Path(args.queries), Path(args.articles), settings, **common)
        else:
            results = runner.run_realtimeqa_many(Path(args.file), settings, as_of=args.as_of, **common)
    finally:
        close()
    result = results[args.retriever]
    if args.details:
        Path(args.details).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in result.records) + "\n")
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(summary_table(result))
    return 0


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--limit", type=int, default=None, help="Evaluate only the first N queries.")
    s.add_argument("--offset", type=int, default=0, metavar="N",
                   help="Skip the first N queries (with --limit: a slice not tuned on); the corpus stays whole.")
    s.add_argument("--retriever", choices=RETRIEVERS, default="hybrid",
                   help="hybrid/dense/bm25: Newsdesk's retriever in that mode; plain: LangChain Chroma "
                        "similarity_search with the same embedding model (the by-hand baseline).")
    s.add_argument("--generate", action="store_true", help="Also answer every query and score the answers.")
    s.add_argument("--gold-evidence", action="store_true",
                   help="Answer from the gold evidence instead of retrieved passages (implies answering).")
    s.add_argument("--backend", choices=["local", "openai", "extractive"], default=None,
                   help="Who writes answers (default: NEWSDESK_LLM__BACKEND, else local).")
    s.add_argument("--json", action="store_true", help="Print one JSON object: metrics, by_type, config, n, seconds.")
    s.add_argument("--details", metavar="FILE", default=None,
                   help="Write per-query records as JSON lines (with --generate: each draft, its sources, why a "
                        "refusal, the sentences removed).")
    s.add_argument("--replay", metavar="DETAILS", default=None,
                   help="Check the drafts a --generate --details run saved again with today's checks: no retrieval, "
                        "no model, seconds.")
    s.set_defaults(func=cmd_eval)


def add_eval_parser(sub: Any) -> None:
    """Register `eval multihop` and `eval realtimeqa` on the CLI's subparsers."""
    p = sub.add_parser("eval", help="Measure retrieval and answers on MultiHop-RAG or RealTime QA.")
    ev = p.add_subparsers(dest="dataset", required=True)
    s = ev.add_parser("multihop", help="MultiHop-RAG: hits@4/10, mrr@10, evidence_recall@10 (+ answers).")
    s.add_argument("--queries", required=True, help="queries_dev.json")
    s.add_argument("--articles", required=True, help="evidence_articles.json")
    _common(s)
    s = ev.add_parser("realtimeqa", help="RealTime QA: hits@1/4/10, mrr@10 (+ choice accuracy).")
    s.add_argument("--file", required=True, help="realtimeqa_2023.jsonl")
    s.add_argument("--as-of", choices=["question", "today"], default="question",
                   help="Ask each question as of its quiz date (default; 'this week' means that week) or as of "
                        "today (no recency prior on this 2023 corpus).")
    _common(s)
