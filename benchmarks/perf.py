"""Performance benchmarks: ingest throughput, re-ingest, retrieval latency (dev size and synthetic 100k), local LLM.

    .venv/bin/python -m benchmarks.perf ingest  [--runs 3]
    .venv/bin/python -m benchmarks.perf build   --chunks 100000 --home DIR
    .venv/bin/python -m benchmarks.perf latency [--chunks 100000 --home DIR] [--queries 200]
                                                [--questions multihop|realtimeqa]
    .venv/bin/python -m benchmarks.perf llm     [--runs 3]

Each prints one JSON object (medians over runs); docs/BENCHMARKS.md quotes them with the machine.
Corpus: the MultiHop-RAG dev articles from ../shared/bench (read in place, never copied).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"
REPO = Path(__file__).resolve().parents[1]


def _machine() -> dict[str, Any]:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cores": os.cpu_count(), "ram_gb": round(mem_gb, 1), "load_avg_1m": round(os.getloadavg()[0], 2)}


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _settings(home: Path) -> Any:
    from rag.settings import Settings

    return Settings(home=home)


def _sources() -> list[Any]:
    from evals.datasets import multihop_sources

    return multihop_sources(BENCH / "multihop_rag" / "evidence_articles.json")


def bench_ingest(runs: int) -> dict[str, Any]:
    """chunks/s through NewsIndex.ingest vs SentenceTransformer.encode of the same texts; re-ingest speed-up."""
    from index.chunking import chunk_article
    from index.embedding import load_embedder
    from index.news_index import NewsIndex

    sources = _sources()
    settings = _settings(Path(tempfile.mkdtemp(prefix="perf-")))
    embedder = load_embedder(settings.index.embedding_model, settings.index.embed_batch)
    probe = NewsIndex(settings.index, embedder)
    texts = [probe.indexed_text(c, a.meta) for s in sources for a in [s.parse(10**8)]
             for c in chunk_article(a, settings.index.chunk_chars, settings.index.chunk_overlap)]
    model = embedder._model  # the raw SentenceTransformer: the reference the issue asks for
    raw, ours, again = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        model.encode(texts, batch_size=settings.index.embed_batch, normalize_embeddings=True,
                     show_progress_bar=False, convert_to_numpy=True)
        raw.append(len(texts) / (time.perf_counter() - t))
        home = Path(tempfile.mkdtemp(prefix="perf-ingest-"))
        index = NewsIndex(_settings(home).index, embedder)
        t = time.perf_counter()
        report = index.ingest(sources)
        first = time.perf_counter() - t
        chunks = sum(o.chunks for o in report.outcomes)
        ours.append(chunks / first)
        t = time.perf_counter()
        report = index.ingest(sources)
        again.append(first / (time.perf_counter() - t))
        assert report.count("unchanged") == len(sources)
    return {"bench": "ingest", "machine": _machine(), "chunks": len(texts), "runs": runs,
            "raw_encode_chunks_per_s": round(statistics.median(raw), 1),
            "ingest_chunks_per_s": round(statistics.median(ours), 1),
            "ratio_ingest_vs_raw": round(statistics.median(o / r for o, r in zip(ours, raw)), 3),
            "reingest_speedup": round(statistics.median(again), 1)}


class _ReusingEmbedder:
    """Embeds each distinct base text once; copies (which differ only by a 'Ref n.' tag) get that vector plus
    small noise, so 100k chunks cost ~1.6k real embeddings yet are distinct points for the HNSW graph."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self._cache: dict[str, Any] = {}
        self._rng = __import__("numpy").random.default_rng(0)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np

        keys = [re.sub(r" Ref \d+\.$", "", t) for t in texts]
        todo = [k for k in dict.fromkeys(keys) if k not in self._cache]
        for k, v in zip(todo, self.inner.embed_documents(todo)):
            self._cache[k] = np.asarray(v, dtype=np.float32)
        out = np.stack([self._cache[k] for k in keys])
        out = out + self._rng.normal(0, 0.02, out.shape).astype(np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return list(self.inner.embed_query(text))


def build_synthetic(home: Path, n_chunks: int) -> dict[str, Any]:
    """A home holding ~n_chunks one-chunk articles: corpus chunks repeated, each with a distinct 'Ref n.' tag."""
    from index.embedding import load_embedder
    from index.news_index import NewsIndex
    from index.sources import Source

    base = [s for s in _sources()]
    settings = _settings(home)
    index = NewsIndex(settings.index, _ReusingEmbedder(load_embedder(settings.index.embedding_model)))
    t = time.perf_counter()
    batch: list[Source] = []
    for n in range(n_chunks):
        src = base[n % len(base)]
        # One paragraph of the article (its facts are ~250 chars), so one chunk per synthetic article.
        batch.append(Source(label=f"syn:{n}", text=f"{(src.text or '').split(chr(10))[0]} Ref {n}.",
                            meta={**(src.meta or {}), "url": None}))
        if len(batch) == 10_000:
            index.ingest(batch)
            batch = []
    if batch:
        index.ingest(batch)
    return {"chunks": index.store.count(), "build_s": round(time.perf_counter() - t, 1)}


def _latency_questions(question_set: str, n: int) -> list[str]:
    """MultiHop-RAG questions name outlets (the 200-deep path); RealTime QA quiz questions name none (40 deep)."""
    from evals.datasets import load_multihop_queries, load_realtimeqa

    if question_set == "realtimeqa":
        questions, _ = load_realtimeqa(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")
        return [q.question for q in questions if q.passage][:n]
    return [q.query for q in load_multihop_queries(BENCH / "multihop_rag" / "queries_dev.json")][:n]


def bench_latency(home: Path | None, n_queries: int, label: str, question_set: str = "multihop") -> dict[str, Any]:
    """p50/p95 of embed query + dense + BM25 + fuse (hybrid retrieve, k=5) over benchmark dev questions."""
    from rag.assistant import Assistant

    tmp = home is None
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="perf-lat-"))
    settings = _settings(home).with_overrides(llm={"backend": "extractive"})
    assistant = Assistant.from_settings(settings)
    if tmp:
        assistant.index.ingest(_sources())
    queries = _latency_questions(question_set, n_queries)
    for q in queries[:5]:  # warm-up: model, BM25 load, Chroma caches, the cross-encoder
        assistant.retrieve(q)
        assistant.ask(q)
    total, embed, rerank = [], [], []
    for q in queries:
        t = time.perf_counter()
        assistant.index.embedder.embed_query(q)
        embed.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        assistant.retrieve(q)
        total.append((time.perf_counter() - t) * 1000)
    for q in queries:
        # The cross-encoder's share of a whole answer: weighing the sentences read, then checking the claims
        # of the extractive answer (the model's time is not part of it).
        answer = assistant.ask(q)
        if not answer.refused:
            rerank.append(float(answer.timings_ms.rerank))
    return {"bench": "latency", "corpus": label, "machine": _machine(), "chunks": assistant.index.store.count(),
            "questions": question_set, "queries": len(queries), "retrieve_p50_ms": round(_pct(total, 50), 1),
            "retrieve_p95_ms": round(_pct(total, 95), 1), "embed_query_p50_ms": round(_pct(embed, 50), 1),
            "cross_encoder_p50_ms": round(_pct(rerank, 50), 1) if rerank else None,
            "cross_encoder_p95_ms": round(_pct(rerank, 95), 1) if rerank else None,
            "answered": len(rerank), "peak_rss_mb": _peak_rss_mb()}


SEEDS = ["Who met Biden on Monday?", "What is the capital of Peru?",
         "What defence-spending target do NATO allies have, and what does Trump want?"]


def bench_llm(runs: int, warm: bool = False) -> dict[str, Any]:
    """Time to first token, whole answer and tokens/s of the embedded model on the seed questions (shipped corpus).

    Cold: llama.cpp's evaluated prompt is cleared before each run. Warm (`warm`): as in a running app, the fixed
    rules stay evaluated; the seed questions take turns, so no run finds its own prompt still there.
    """
    from rag.assistant import Assistant

    home = Path(tempfile.mkdtemp(prefix="perf-llm-"))
    base = _settings(home)
    settings = base.with_overrides(llm={"backend": "local", "model_dir": Path(os.environ.get(
        "NEWSDESK_LLM__MODEL_DIR", str(base.llm.model_dir)))})
    assistant = Assistant.from_settings(settings)
    assistant.add_paths([REPO / "docs_corpus"])
    assert assistant.llm is not None  # load once, outside the timings
    if warm:
        assistant.ask("What did the alliance say?")  # the fixed rules are evaluated once, as in a running app
    timed: dict[str, dict[str, list[float]]] = {q: {"ttft": [], "total": [], "tps": []} for q in SEEDS}
    refused: set[str] = set()
    for _ in range(runs):
        for question in SEEDS:  # take turns: a question never finds its own prompt still evaluated
            forget = getattr(assistant.llm, "forget", None)
            if not warm and forget is not None:  # cold: no prompt prefix left from the previous run
                forget()
            t = time.perf_counter()
            stream = assistant.stream(question)
            first, n = None, 0
            for _tok in stream.tokens():
                n += 1  # llama-cpp streams one token per chunk
                if first is None:
                    first = time.perf_counter()
            stream.answer()
            end = time.perf_counter()
            if first is None:
                refused.add(question)
                continue
            timed[question]["ttft"].append((first - t) * 1000)
            timed[question]["total"].append((end - t) * 1000)
            timed[question]["tps"].append((n - 1) / (end - first) if end > first and n > 1 else 0.0)
    rows: list[dict[str, Any]] = []
    for question in SEEDS:
        if question in refused:
            rows.append({"question": question, "refused_by_gate": True})
            continue
        got = timed[question]
        rows.append({"question": question, "ttft_ms": round(statistics.median(got["ttft"])),
                     "answer_ms": round(statistics.median(got["total"])),
                     "tokens_per_s": round(statistics.median(got["tps"]), 1), "runs": runs})
    return {"bench": "llm", "mode": "warm" if warm else "cold", "machine": _machine(),
            "model": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama-cpp)", "seeds": rows, "peak_rss_mb": _peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["ingest", "latency", "build", "llm"])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warm", action="store_true", help="llm: keep the fixed rules evaluated between questions")
    p.add_argument("--chunks", type=int, default=0, help="latency/build: synthetic corpus size (0 = dev corpus)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--home", type=Path, default=None, help="build/latency: where the synthetic index lives")
    p.add_argument("--questions", choices=["multihop", "realtimeqa"], default="multihop",
                   help="latency: MultiHop-RAG (name outlets: deep path) or RealTime QA (name none) questions")
    args = p.parse_args(argv)
    random.seed(0)
    if args.what == "ingest":
        out = bench_ingest(args.runs)
    elif args.what == "build":
        out = build_synthetic(args.home, args.chunks)
    elif args.what == "latency":
        out = bench_latency(args.home, args.queries, f"synthetic {args.chunks}" if args.home else "dev",
                           args.questions)
    else:
        out = bench_llm(args.runs, args.warm)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
