"""Bulk import benchmark: `newsdesk ingest export.jsonl` against raw embedding throughput on the same texts.

    .venv/bin/python -m benchmarks.bulk [--articles 20000] [--raw-every 1] [--keep DIR]
    .venv/bin/python -m benchmarks.bulk --articles 2000 --compare-copies 1   # grouping of wire copies off vs on

1. Writes a JSON Lines export of N distinct articles made from the benchmark passages under ../shared/bench
   (RealTime QA evidence passages and MultiHop-RAG facts, read in place; each copy gets its own headline,
   date and a closing "Desk note n." sentence, so every article has distinct text and id).
2. Runs the real command, `python -m ui.cli ingest FILE --json`, in a child process on a fresh home, and
   takes its wall time and peak RSS (from wait4). An ingest of a 1-row export is timed the same way, so the
   fixed start-up cost (imports, model load) can be told apart from the per-article rate.
3. Embeds the exact texts ingest embedded (title + outlet/date line + chunk, the same chunking) with the same
   `Embedder.embed_documents` in this process: the raw throughput ingest is measured against. `--raw-every K`
   embeds every K-th chunk only (a sample) when the full pass would take too long.

Prints one JSON object; docs/BENCHMARKS.md quotes it with the machine and the command.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"


def passages() -> list[tuple[str, str, str]]:
    """(title, outlet, text) of every benchmark passage."""
    from evals.datasets import load_realtimeqa, multihop_sources

    _, rtqa = load_realtimeqa(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")
    out = []
    for s in [*rtqa, *multihop_sources(BENCH / "multihop_rag" / "evidence_articles.json")]:
        meta = s.meta or {}
        if s.text and len(s.text.strip()) >= 40:
            out.append((str(meta.get("title") or ""), str(meta.get("outlet") or ""), s.text.strip()))
    return out


def write_export(path: Path, n: int) -> int:
    """N distinct articles as JSON Lines; returns the bytes written."""
    pool = passages()
    with open(path, "w", encoding="utf-8") as f:
        for i, (title, outlet, text) in zip(range(n), itertools.cycle(pool)):
            day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
            row = {"headline": f"{title or text[:60]} (desk {i})", "body": f"{text}\n\nDesk note {i}.",
                   "outlet": outlet or "Newsdesk Wire", "published": day, "url": f"https://wire.example/a/{i}"}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path.stat().st_size


def run_ingest(export: Path, home: Path, group_copies: bool = True) -> dict[str, Any]:
    env = {**os.environ, "NEWSDESK_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "NEWSDESK_INDEX__GROUP_COPIES": "true" if group_copies else "false"}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ingest", str(export), "--json"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - t
    report = json.loads(out)
    result: dict[str, Any] = {"seconds": round(seconds, 1), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
           "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
           "added": report["added"], "rejected": report["rejected"],
           "chunks": sum(i["chunks"] for i in report["items"])}
    if group_copies:
        from index.catalogue import Catalogue
        from index.db import Database, sqlite_url

        result["grouped_as_copies"] = sum(1 for r in Catalogue(Database(sqlite_url(home / "catalogue.sqlite3")))
                                          .records() if r.copy_of)
    return result


def compare_copies(export: Path, work: Path, rounds: int) -> dict[str, Any]:
    """The same export ingested with wire-copy grouping off and on, alternating (off, on, on, off, …) so a
    change of the machine's load between runs weighs on both."""
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for r in range(rounds):
        for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
            runs[mode].append(run_ingest(export, work / f"home-{mode}-{r}", group_copies=mode == "on"))
    off, on = (sum(x["seconds"] for x in runs[m]) for m in ("off", "on"))
    # CPU seconds of the ingest process (user + system, from wait4): much less moved by other jobs on a shared
    # machine than wall time, which is what a reader waits for.
    cpu_off, cpu_on = (sum(x["cpu_seconds"] for x in runs[m]) for m in ("off", "on"))
    one = work / "one.jsonl"
    write_export(one, 1)
    startup = rounds * run_ingest(one, work / "home-startup")["seconds"]  # imports and model load, in both
    return {"runs": runs, "seconds_off": round(off, 1), "seconds_on": round(on, 1),
            "ratio_on_vs_off": round(on / off, 3), "startup_seconds": round(startup / rounds, 1),
            "ratio_on_vs_off_excl_startup": round((on - startup) / (off - startup), 3),
            "cpu_seconds_off": round(cpu_off, 1), "cpu_seconds_on": round(cpu_on, 1),
            "cpu_ratio_on_vs_off": round(cpu_on / cpu_off, 3)}


def indexed_texts(export: Path, home: Path) -> Iterator[str]:
    """What ingest embedded for each chunk of the export, rebuilt the same way (parse, chunk, indexed_text)."""
    from index.bulk import BulkFields, read_rows
    from index.chunking import chunk_article
    from index.news_index import NewsIndex
    from rag.settings import Settings

    settings = Settings(home=home).index
    probe = NewsIndex(settings)
    for source in read_rows(export, BulkFields()):
        article = source.parse(settings.max_file_bytes)
        for chunk in chunk_article(article, settings.chunk_chars, settings.chunk_overlap):
            yield probe.indexed_text(chunk, article.meta)


def raw_embedding(export: Path, every: int) -> dict[str, Any]:
    from index.embedding import load_embedder
    from rag.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="bulk-probe-"))
    texts = list(itertools.islice(indexed_texts(export, home), 0, None, every))
    settings = Settings(home=home).index
    embedder = load_embedder(settings.embedding_model, settings.embed_batch)
    embedder.embed_documents(texts[:8])  # warm-up (first call allocates)
    t = time.perf_counter()
    for i in range(0, len(texts), 256):  # the size of ingest's commit groups
        embedder.embed_documents(texts[i:i + 256])
    seconds = time.perf_counter() - t
    return {"chunks": len(texts), "seconds": round(seconds, 1), "chunks_per_s": round(len(texts) / seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--articles", type=int, default=20_000)
    p.add_argument("--raw-every", type=int, default=1, help="embed every K-th chunk for the raw rate (1 = all)")
    p.add_argument("--keep", type=Path, default=None, help="write the export and homes here (default: a temp dir)")
    p.add_argument("--compare-copies", type=int, default=0, metavar="ROUNDS",
                   help="only time ingest with wire-copy grouping off and on, side by side, ROUNDS times each")
    args = p.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    export, one = work / "export.jsonl", work / "one.jsonl"
    size = write_export(export, args.articles)
    if args.compare_copies:
        print(json.dumps({"bench": "bulk-copies", "command": f"python -m benchmarks.bulk --articles {args.articles} "
                                                            f"--compare-copies {args.compare_copies}",
                          "machine": {"cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
                          "articles": args.articles, **compare_copies(export, work, args.compare_copies)}))
        return 0
    write_export(one, 1)
    startup = run_ingest(one, work / "home-startup")
    ingest = run_ingest(export, work / "home")
    raw = raw_embedding(export, args.raw_every)
    n, chunks = ingest["added"], ingest["chunks"]
    per_article = chunks / max(n, 1)
    work_s = ingest["seconds"] - startup["seconds"]  # per-article work, start-up (imports, model load) excluded
    raw_articles_per_s = raw["chunks_per_s"] / per_article
    out = {
        "bench": "bulk", "command": f"python -m benchmarks.bulk --articles {args.articles} --raw-every "
                                    f"{args.raw_every}",
        "machine": {"cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
        "articles": n, "rejected": ingest["rejected"], "chunks": chunks, "export_mb": round(size / 1e6, 1),
        "ingest_seconds": ingest["seconds"], "startup_seconds": startup["seconds"],
        "ingest_articles_per_s": round(n / work_s, 2),
        "ingest_articles_per_s_incl_startup": round(n / ingest["seconds"], 2),
        "raw": raw, "raw_articles_per_s": round(raw_articles_per_s, 2),
        "ratio_ingest_vs_raw": round((n / work_s) / raw_articles_per_s, 3),
        "peak_rss_mb": ingest["peak_rss_mb"], "peak_rss_mb_1_article": startup["peak_rss_mb"],
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
