"""Side-by-side retrieval quality: plain / bm25 / dense / hybrid on both dev sets, one ingest per dataset.

    .venv/bin/python -m benchmarks.quality [--bench ../shared/bench] [--limit N] [--out FILE]

Prints one JSON object {dataset: {retriever: result}}; docs/BENCHMARKS.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from evals import runner
from rag.settings import Settings

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
ORDER = ["plain", "bm25", "dense", "hybrid"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bench", type=Path, default=BENCH)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--datasets", default="multihop,realtimeqa")
    p.add_argument("--retrievers", default=",".join(ORDER))
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    settings = Settings()
    retrievers = args.retrievers.split(",")
    out: dict[str, dict[str, object]] = {}
    for ds in args.datasets.split(","):
        if ds == "multihop":
            res = runner.run_multihop_many(args.bench / "multihop_rag" / "queries_dev.json",
                                             args.bench / "multihop_rag" / "evidence_articles.json", settings,
                                             retrievers=retrievers, limit=args.limit)
        else:
            path = args.bench / "realtimeqa" / "realtimeqa_2023.jsonl"
            res = runner.run_realtimeqa_many(path, settings, retrievers=retrievers, limit=args.limit)
            if "hybrid" in retrievers:  # the same retriever without the question's date: no recency prior
                res["hybrid@today"] = runner.run_realtimeqa_many(path, settings, retrievers=["hybrid"],
                                                                   limit=args.limit, as_of="today")["hybrid"]
        out[ds] = {r: res[r].to_dict() for r in res}
        for r in res:
            print(ds, r, json.dumps(res[r].metrics), f"{res[r].seconds:.1f}s", file=sys.stderr)
    text = json.dumps(out, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
