"""Calibrate the refusal gate on the dev split: which questions would be refused, by what signal.

    .venv/bin/python -m benchmarks.gate collect --out gate.jsonl      # ~10 min on 2 cores
    .venv/bin/python -m benchmarks.gate table gate.jsonl              # rates per threshold (markdown)

For every MultiHop-RAG dev query (null and answerable) and every RealTime QA dev question, through the answer
path's own retrieval and reading: the best dense similarity among the candidates (the gate before the model),
and the cross-encoder's score of the best sentence read (the gate after reading). A default must refuse >= 80%
of MultiHop-RAG null queries and answer >= 90% of answerable questions of both sets (issue 9).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"


def collect(out: Path, limit: int | None) -> None:
    from evals.suites import MultiHopRAG, RealTimeQA, Suite
    from rag.assistant import Assistant
    from rag.gate import coverage
    from rag.question import read_question
    from rag.settings import Settings

    suites: list[Suite] = [MultiHopRAG(BENCH / "multihop_rag" / "queries_dev.json",
                                       BENCH / "multihop_rag" / "evidence_articles.json"),
                           RealTimeQA(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")]
    with out.open("w") as f:
        for suite in suites:
            items, sources = suite.load()
            with tempfile.TemporaryDirectory(prefix="gate-") as home:
                assistant = Assistant.from_settings(Settings(home=Path(home), llm={"backend": "extractive"}))
                assistant.index.ingest(sources)
                read_from = max(assistant.settings.retrieval.k, assistant.settings.answer.read_from)
                for n, item in enumerate(items[: limit or None]):
                    question = suite.question(item)
                    day = suite.as_of(item)
                    q = read_question(question, [], day or _today())
                    retrieval = assistant.retriever.retrieve(q, read_from)
                    weighed = assistant.reader.weigh(q.topic, retrieval.hits) if retrieval.hits else []
                    row: dict[str, Any] = {"dataset": suite.name, "question": question,
                                           "type": suite.record(item)["question_type"],
                                           "null": bool(getattr(item, "is_null", False)),
                                           "dense": round(retrieval.best_similarity, 4),
                                           "coverage": round(coverage(q.searched, retrieval.hits), 3),
                                           "ce": round(weighed[0].score, 3) if weighed else None}
                    f.write(json.dumps(row) + "\n")
                    if n % 100 == 0:
                        print(suite.name, n, file=sys.stderr, flush=True)


def _today() -> Any:
    from datetime import date

    return date.today()


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    nulls = [r for r in rows if r["dataset"] == "multihop_rag" and r["null"]]
    mh = [r for r in rows if r["dataset"] == "multihop_rag" and not r["null"]]
    rt = [r for r in rows if r["dataset"] == "realtimeqa"]

    def answered(r: dict[str, Any], a: float, b: float | None, c: float) -> bool:
        return r["dense"] >= a and r["coverage"] >= c and (b is None or (r["ce"] is not None and r["ce"] >= b))

    lines = [f"{len(nulls)} MultiHop-RAG null queries, {len(mh)} answerable; {len(rt)} RealTime QA questions.", "",
             "| dense ≥ | coverage ≥ | CE best sentence ≥ | MH nulls refused | MH answerable answered | "
             "RTQA answered |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for a in (0.30, 0.35, 0.40, 0.42, 0.43, 0.44, 0.45, 0.46, 0.48):
        for c in (0.0, 0.5, 0.6, 0.7, 0.8):
            for b in (None, 0.0, 2.0):
                refused = sum(not answered(r, a, b, c) for r in nulls) / max(1, len(nulls))
                ok_mh = sum(answered(r, a, b, c) for r in mh) / max(1, len(mh))
                ok_rt = sum(answered(r, a, b, c) for r in rt) / max(1, len(rt))
                mark = " **✔**" if refused >= 0.8 and ok_mh >= 0.9 and ok_rt >= 0.9 else ""
                lines.append(f"| {a:.2f} | {c:.1f} | {'–' if b is None else f'{b:.1f}'} | {refused:.3f} | "
                             f"{ok_mh:.3f} | {ok_rt:.3f}{mark} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--limit", type=int, default=None)
    t = sub.add_parser("table")
    t.add_argument("path", type=Path)
    args = p.parse_args(argv)
    if args.what == "collect":
        collect(args.out, args.limit)
    else:
        print(table(args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
