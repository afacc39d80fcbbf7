"""Performance benchmarks: ingest throughput, re-ingest, retrieval latency (dev size and synthetic 100k), local LLM,
and the two deployments side by side as the index grows.

    .venv/bin/python -m benchmarks.perf ingest  [--runs 3]
    .venv/bin/python -m benchmarks.perf build   --chunks 100000 --home DIR
    .venv/bin/python -m benchmarks.perf latency [--chunks 100000 --home DIR] [--queries 200]
                                                [--questions multihop|realtimeqa]
    .venv/bin/python -m benchmarks.perf llm     [--runs 3]
    .venv/bin/python -m benchmarks.perf scale   --sizes 10000,100000,1000000 --dir DIR [--modes embedded,server]

`build`, `latency` and `ingest` take `--database-url URL --chroma-url URL [--prefix P]` for the several-hosts
mode (Postgres + a `chroma run` server). `scale` starts its own Postgres (durable: fsync on) and `chroma run`
with their data under DIR, grows one index per mode to each size (resuming what DIR holds), and after each
size measures, side by side: build and real-embedding ingest throughput, retrieval p50/p95 and peak RSS of a
fresh querying process (alternating the modes), the Chroma server's RSS, and how long a new replica's keyword
index takes to build and to catch up. It appends one JSON line per measurement to DIR/results.jsonl;
`python -m benchmarks.plot DIR/results.jsonl docs/scaling.svg` draws them.

Each other command prints one JSON object (medians over runs); docs/BENCHMARKS.md quotes them with the machine.
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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Target:
    """Where an index lives: `embedded` (SQLite + Chroma under the home) or `server` (Postgres + `chroma run`)."""

    home: Path
    database_url: str | None = None
    chroma_url: str | None = None
    prefix: str | None = None

    @property
    def mode(self) -> str:
        return "server" if self.database_url else "embedded"

    def flags(self) -> list[str]:
        out = []
        for flag, value in (("--database-url", self.database_url), ("--chroma-url", self.chroma_url),
                            ("--prefix", self.prefix)):
            if value:
                out += [flag, value]
        return out

    def at(self, home: Path) -> Target:
        return Target(home, self.database_url, self.chroma_url, self.prefix)


def _settings(target: Target | Path) -> Any:
    from rag.settings import Settings

    if isinstance(target, Path):
        target = Target(target)
    index: dict[str, Any] = {}
    if target.chroma_url:
        index["chroma_url"] = target.chroma_url
    if target.prefix:
        index["collection_prefix"] = target.prefix
    return Settings(home=target.home, database_url=target.database_url, index=index)


def _sources() -> list[Any]:
    from evals.datasets import multihop_sources

    return multihop_sources(BENCH / "multihop_rag" / "evidence_articles.json")


def bench_ingest(runs: int, target: Target | None = None) -> dict[str, Any]:
    """chunks/s through NewsIndex.ingest vs SentenceTransformer.encode of the same texts; re-ingest speed-up."""
    from index.chunking import chunk_article
    from index.embedding import SentenceTransformerEmbedder, load_embedder
    from index.news_index import NewsIndex

    sources = _sources()
    settings = _settings(Path(tempfile.mkdtemp(prefix="perf-")))
    embedder = load_embedder(settings.index.embedding_model, settings.index.embed_batch)
    probe = NewsIndex(settings.index, embedder)
    texts = [probe.indexed_text(c, a.meta) for s in sources for a in [s.parse(10**8)]
             for c in chunk_article(a, settings.index.chunk_chars, settings.index.chunk_overlap)]
    assert isinstance(embedder, SentenceTransformerEmbedder), settings.index.embedding_model
    model = embedder._model  # the raw SentenceTransformer: the reference the issue asks for
    raw, ours, again = [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        model.encode(texts, batch_size=settings.index.embed_batch, normalize_embeddings=True,
                     show_progress_bar=False, convert_to_numpy=True)
        raw.append(len(texts) / (time.perf_counter() - t))
        home = Path(tempfile.mkdtemp(prefix="perf-ingest-"))
        # Against servers, each run gets a collection (and, through the run's home, a keyword index) of its own;
        # the catalogue is shared, so runs after the first find the articles and re-embed nothing: pass a fresh
        # database per run for a fair figure.
        run_target = target.at(home) if target else Target(home)
        index = NewsIndex(_settings(run_target).index, embedder)
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


def build_synthetic(target: Target | Path, n_chunks: int, embedder: Any = None, batch: int = 10_000) -> dict[str, Any]:
    """Grow an index to ~n_chunks one-chunk articles: corpus paragraphs repeated, each with a distinct 'Ref n.' tag.

    Resumes: articles already there count, and new ones continue the numbering. Returns the build rate (chunks
    per second through `NewsIndex.ingest`, embedding a cache lookup: the storage path's throughput).
    """
    from index.embedding import load_embedder
    from index.news_index import NewsIndex
    from index.sources import Source

    target = target if isinstance(target, Target) else Target(target)
    base = [s for s in _sources()]
    settings = _settings(target)
    embedder = embedder or _ReusingEmbedder(load_embedder(settings.index.embedding_model))
    index = NewsIndex(settings.index, embedder)
    start, before = index.catalogue.counts()
    t = time.perf_counter()
    pending: list[Source] = []
    for n in range(start, n_chunks):
        src = base[n % len(base)]
        # One paragraph of the article (its facts are ~250 chars), so one chunk per synthetic article.
        pending.append(Source(label=f"syn:{n}", text=f"{(src.text or '').split(chr(10))[0]} Ref {n}.",
                              meta={**(src.meta or {}), "url": None}))
        if len(pending) == batch:
            index.ingest(pending)
            pending = []
    if pending:
        index.ingest(pending)
    seconds = time.perf_counter() - t
    articles, chunks = index.catalogue.counts()
    return {"chunks": chunks, "articles": articles, "added_chunks": chunks - before, "build_s": round(seconds, 1),
            "build_chunks_per_s": round((chunks - before) / seconds, 1) if chunks > before else None}


def ingest_real(target: Target, n_chunks: int, tag: str) -> dict[str, Any]:
    """Add n_chunks new one-chunk articles embedded for real (fresh 'Live' tags): end-to-end ingest chunks/s."""
    from index.news_index import NewsIndex
    from index.sources import Source

    base = _sources()
    index = NewsIndex(_settings(target).index)
    sources = [Source(label=f"live:{tag}:{n}",
                      text=f"{(base[n % len(base)].text or '').split(chr(10))[0]} Live {tag}-{n}.",
                      meta={**(base[n % len(base)].meta or {}), "url": None}) for n in range(n_chunks)]
    index.embedder.embed_query("warm up")
    t = time.perf_counter()
    report = index.ingest(sources)
    seconds = time.perf_counter() - t
    chunks = sum(o.chunks for o in report.outcomes)
    return {"real_ingest_chunks": chunks, "real_ingest_s": round(seconds, 1),
            "real_ingest_chunks_per_s": round(chunks / seconds, 2)}


def keyword_catch_up(target: Target, replica_home: Path) -> dict[str, Any]:
    """How long a replica's keyword index takes to follow the catalogue (a new or a lagging replica's home)."""
    from index.news_index import NewsIndex

    index = NewsIndex(_settings(target.at(replica_home)).index)
    t = time.perf_counter()
    build = index.refresh_keyword()
    return {"keyword_s": round(time.perf_counter() - t, 2), "keyword_chunks": build.chunks if build else None,
            "keyword_tokenized": build.tokenized if build else None, "keyword_reused": build.reused if build else None}


def _latency_questions(question_set: str, n: int) -> list[str]:
    """MultiHop-RAG questions name outlets (the 200-deep path); RealTime QA quiz questions name none (40 deep)."""
    from evals.datasets import load_multihop_queries, load_realtimeqa

    if question_set == "realtimeqa":
        questions, _ = load_realtimeqa(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")
        return [q.question for q in questions if q.passage][:n]
    return [q.query for q in load_multihop_queries(BENCH / "multihop_rag" / "queries_dev.json")][:n]


class _RememberingEmbedder:
    """Remembers the last query's vector, so a retrieval right after the timed embedding does not embed again:
    the two timings split a question into the model's part and the stores' part (what the modes change)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name
        self._last: tuple[str, list[float]] | None = None

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return list(self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        if self._last is None or self._last[0] != text:
            self._last = (text, list(self.inner.embed_query(text)))
        return self._last[1]


def bench_latency(target: Target | None, n_queries: int, label: str, question_set: str = "multihop") -> dict[str, Any]:
    """p50/p95 of embed query + dense + BM25 + fuse (hybrid retrieve, k=5) over benchmark dev questions, and
    the cross-encoder's share of whole (extractive) answers.

    `search_*` is the same without the query embedding (dense, BM25, catalogue reads, fusion), which is
    where the deployments differ; the embedding is the same model in both.
    """
    from index.embedding import load_embedder
    from index.news_index import NewsIndex
    from rag.assistant import Assistant

    tmp = target is None
    if target is None:
        target = Target(Path(tempfile.mkdtemp(prefix="perf-lat-")))
    settings = _settings(target).with_overrides(llm={"backend": "extractive"})
    t_open = time.perf_counter()
    embedder = _RememberingEmbedder(load_embedder(settings.index.embedding_model, settings.index.embed_batch))
    assistant = Assistant(settings, NewsIndex(settings.index, embedder))
    if tmp:
        assistant.index.ingest(_sources())
    queries = _latency_questions(question_set, n_queries)
    for q in queries[:5]:  # warm-up: model, BM25 load (or catch-up), Chroma caches, the cross-encoder
        assistant.retrieve(q)
        assistant.ask(q)
    ready_s = time.perf_counter() - t_open
    total, embed, search, rerank = [], [], [], []
    for q in [f"{q} " for q in queries]:  # not the warm-up's remembered text
        t = time.perf_counter()
        embedder.embed_query(q)
        embed.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        assistant.retrieve(q)
        search.append((time.perf_counter() - t) * 1000)
        total.append(embed[-1] + search[-1])
    for q in queries:
        # The cross-encoder's share of a whole answer: weighing the sentences read, then checking the claims
        # of the extractive answer (the model's time is not part of it).
        answer = assistant.ask(q)
        if not answer.refused:
            rerank.append(float(answer.timings_ms.rerank))
    return {"bench": "latency", "corpus": label, "machine": _machine(), "chunks": assistant.index.store.count(),
            "questions": question_set, "queries": len(queries), "retrieve_p50_ms": round(_pct(total, 50), 1),
            "retrieve_p95_ms": round(_pct(total, 95), 1), "embed_query_p50_ms": round(_pct(embed, 50), 1),
            "search_p50_ms": round(_pct(search, 50), 1), "search_p95_ms": round(_pct(search, 95), 1),
            "cross_encoder_p50_ms": round(_pct(rerank, 50), 1) if rerank else None,
            "cross_encoder_p95_ms": round(_pct(rerank, 95), 1) if rerank else None, "answered": len(rerank),
            # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child started by `perf scale`
            # would report its parent's peak.
            **_rss_mb(os.getpid()), "mode": target.mode, "open_and_warm_s": round(ready_s, 1)}


def _rss_mb(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process (from /proc), MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


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
    assistant.llm.process.stop()  # type: ignore[attr-defined]  # the model process this benchmark started
    return {"bench": "llm", "mode": "warm" if warm else "cold", "machine": _machine(),
            "model": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (llama-cpp)", "seeds": rows, "peak_rss_mb": _peak_rss_mb()}


def bench_scale(sizes: Sequence[int], root: Path, modes: Sequence[str], queries: int, runs: int,
                real_chunks: int) -> None:
    """See the module docstring: both deployments grown side by side, measured after each size."""
    from index.embedding import load_embedder
    from tests.servers import ChromaServer, PostgresServer

    root.mkdir(parents=True, exist_ok=True)
    out = root / "results.jsonl"
    targets: dict[str, Target] = {}
    pg = chroma = None
    try:
        if "server" in modes:
            # Durable like the embedded catalogue (fsync on; commits do not wait for it, as SQLite's WAL with
            # synchronous=NORMAL), on the default shared_buffers of a small server.
            pg = PostgresServer(root / "postgres", durable=True).start()
            database = pg.url.rsplit("/", 1)[0] + "/newsdesk"
            try:
                pg.create_database("newsdesk")
            except Exception as e:  # there already, from an earlier run in this folder
                if "already exists" not in str(e):
                    raise
            chroma = ChromaServer(root / "chroma").start()
            targets["server"] = Target(root / "server-home", database, chroma.url, "bench")
        if "embedded" in modes:
            targets["embedded"] = Target(root / "embedded-home")

        def record(row: dict[str, Any]) -> None:
            row = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_1m": round(os.getloadavg()[0], 2), **row}
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)

        record({"event": "start", "sizes": list(sizes), "modes": list(modes), "machine": _machine()})
        embedder = _ReusingEmbedder(load_embedder(_settings(next(iter(targets.values()))).index.embedding_model))
        _warm(embedder, root / "warm-home")  # the corpus paragraphs' real embeddings, outside every timing
        for size in sizes:
            for mode, target in targets.items():
                record({"event": "build", "size": size, "mode": mode, **build_synthetic(target, size, embedder)})
            for run in range(runs):  # alternating, so a change of load on the machine hits both modes
                for mode, target in targets.items():
                    result = _latency_subprocess(target, size, queries)
                    if chroma is not None and mode == "server" and chroma.pid:
                        result["chroma_server"] = _rss_mb(chroma.pid)
                    record({"event": "latency", "size": size, "mode": mode, "run": run, **result})
            for mode, target in targets.items():
                record({"event": "ingest", "size": size, "mode": mode,
                        **ingest_real(target, real_chunks, f"{size}-{mode}")})
            if "server" in targets:
                replica = root / f"replica-{size}"  # a new replica's home: its keyword index from scratch
                record({"event": "keyword_new_replica", "size": size,
                        **keyword_catch_up(targets["server"], replica)})
                ingest_real(targets["server"], 100, f"{size}-catch-up")  # another replica adds 100 articles
                record({"event": "keyword_catch_up_100", "size": size,
                        **keyword_catch_up(targets["server"], replica)})
        record({"event": "done"})
    finally:
        if chroma is not None:
            chroma.stop()
        if pg is not None:
            pg.stop()


def _warm(embedder: _ReusingEmbedder, home: Path) -> None:
    from index.chunking import chunk_article
    from index.news_index import NewsIndex
    from index.sources import Source

    probe = NewsIndex(_settings(home).index, embedder)
    texts = []
    for src in _sources():
        article = Source(label="warm", text=f"{(src.text or '').split(chr(10))[0]} Ref 0.",
                         meta={**(src.meta or {}), "url": None}).parse(10**8)
        texts += [probe.indexed_text(c, article.meta) for c in chunk_article(article, probe.settings.chunk_chars,
                                                                             probe.settings.chunk_overlap)]
    embedder.embed_documents(texts)


def _latency_subprocess(target: Target, size: int, queries: int) -> dict[str, Any]:
    """`perf latency` in a fresh process, so its peak RSS is the querying process's alone."""
    cmd = [sys.executable, "-m", "benchmarks.perf", "latency", "--home", str(target.home), "--chunks", str(size),
           "--queries", str(queries), *target.flags()]
    done = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["ingest", "latency", "build", "llm", "scale"])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--warm", action="store_true", help="llm: keep the fixed rules evaluated between questions")
    p.add_argument("--chunks", type=int, default=0, help="latency/build: synthetic corpus size (0 = dev corpus)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--home", type=Path, default=None, help="build/latency: where the synthetic index lives")
    p.add_argument("--questions", choices=["multihop", "realtimeqa"], default="multihop",
                   help="latency: MultiHop-RAG (name outlets: deep path) or RealTime QA (name none) questions")
    p.add_argument("--database-url", default=None, help="build/latency/ingest: the catalogue in Postgres")
    p.add_argument("--chroma-url", default=None, help="build/latency/ingest: vectors in a `chroma run` server")
    p.add_argument("--prefix", default=None, help="build/latency/ingest: the collection prefix")
    p.add_argument("--sizes", default="10000,100000", help="scale: index sizes in chunks, comma-separated")
    p.add_argument("--modes", default="embedded,server", help="scale: embedded and/or server")
    p.add_argument("--dir", type=Path, default=None, help="scale: where the indexes, servers and results live")
    p.add_argument("--real-chunks", type=int, default=1000, help="scale: chunks embedded for real per size")
    args = p.parse_args(argv)
    random.seed(0)
    target = (Target(args.home or Path(tempfile.mkdtemp(prefix="perf-")), args.database_url, args.chroma_url,
                     args.prefix) if args.database_url or args.chroma_url or args.home else None)
    if args.what == "scale":
        bench_scale([int(x) for x in args.sizes.split(",")], args.dir, args.modes.split(","), args.queries,
                    args.runs, args.real_chunks)
        return 0
    if args.what == "ingest":
        out = bench_ingest(args.runs, target)
    elif args.what == "build":
        assert target is not None, "--home is required"
        out = build_synthetic(target, args.chunks)
    elif args.what == "latency":
        out = bench_latency(target if args.home else None, args.queries,
                            f"synthetic {args.chunks}" if args.home else "dev", args.questions)
    else:
        out = bench_llm(args.runs, args.warm)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
