"""The embedded model's build and process, measured (issue 17).

    .venv/bin/python -m benchmarks.model_process tokens [--site DIR …] [--runs 3]
    .venv/bin/python -m benchmarks.model_process cli    [--runs 3] [--before DIR] [--no-cold]
    .venv/bin/python -m benchmarks.model_process stages [--runs 3] [--before DIR]
    .venv/bin/python -m benchmarks.model_process rss

`tokens`: prompt and generation tokens/s of llama.cpp on the packaged GGUF, each build in a child process of
its own (a build that dies on this CPU is reported with its signal, not a crash of the benchmark): the
installed llama-cpp-python, and each `--site DIR`, another build unpacked there (`python -m zipfile -e WHEEL
DIR`), measured in the same run, builds taking turns.

`cli`: wall time of `newsdesk ask --json` for the answered seed questions over the shipped corpus: with no model
process running (each run starts one; stopped after; `--no-cold` skips it) and with one running (started once
before). The answer's own timings (retrieve, cross-encoder, generate) are reported beside the wall time; the rest,
`other_s`, is the process's start and exit: the interpreter, the imports, the embedder loaded and the index opened
(the cross-encoder's load counts in the answer's `rerank`, the model client's import in its `generate`).
`--before DIR`: another version's source tree (`git archive COMMIT | tar -x -C DIR`) measured in the same run,
against the same home and model process, the versions taking turns; each answer's text is compared with the
other version's.

`stages`: the same questions answered in a fresh process per question, timed stage by stage as `newsdesk ask`
runs them (imports, the embedder, the index, the cross-encoder, the model client, retrieval, reading and the
first token, generation, the claim checks), for this tree and `--before DIR`, taking turns.

`rss`: `newsdesk ui` and `newsdesk serve` on one home with the local backend, one question through each (the
app through headless Chromium, the API through POST /ask), then the resident memory of the app, the API and
the one model process they share.

Each prints one JSON object; docs/BENCHMARKS.md quotes them with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SEEDS = ["Who met Biden on Monday?", "What defence-spending target do NATO allies have, and what does Trump want?"]

# Run in the child: load the GGUF, evaluate a ~600-token prompt, generate 64 tokens; print the timings.
_TOKENS_CHILD = r"""
import json, os, sys, time
from rag.backends.llama_server import load_cpu_backend
variant = load_cpu_backend()  # a build with CPU variants loads the one this CPU runs best
from llama_cpp import Llama
path, runs = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
llm = Llama(model_path=path, n_ctx=4096, n_batch=512, n_threads=os.cpu_count(), verbose=False, logits_all=False)
load_s = time.perf_counter() - t
text = " ".join(f"Sentence {i}: the alliance met on day {i} and agreed to spend {i % 7}% more." for i in range(40))
prompt = llm.tokenize(text.encode())
out = []
for _ in range(runs):
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    n = 0
    for tok in llm.generate([], temp=0.0, reset=False):
        n += 1
        if n == 64:
            break
    t2 = time.perf_counter()
    out.append({"prompt_tps": len(prompt) / (t1 - t0), "gen_tps": n / (t2 - t1)})
print(json.dumps({"load_s": load_s, "prompt_tokens": len(prompt), "cpu_variant": variant, "runs": out}))
"""


def _machine() -> dict[str, Any]:
    cpu = ""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not cpu:
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "avx512f": "avx512f" in flags, "amx_tile": "amx_tile" in flags,
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def _gguf() -> Path:
    from rag.model_files import ensure_gguf
    from rag.settings import Settings

    model_dir = Settings().llm.model_dir
    assert model_dir is not None
    return ensure_gguf(model_dir)


def bench_tokens(sites: list[str], runs: int) -> dict[str, Any]:
    gguf = _gguf()
    builds = ["", *sites]  # the installed build, then each other one
    got: dict[str, list[dict[str, float]]] = {b: [] for b in builds}
    variants: dict[str, str] = {}
    failed: dict[str, str] = {}
    for _ in range(runs):  # builds take turns: a noisy minute hurts both alike
        for site in builds:
            if site in failed:
                continue
            env = {**os.environ, "PYTHONPATH": site} if site else dict(os.environ)
            proc = subprocess.run([sys.executable, "-c", _TOKENS_CHILD, str(gguf), "1"], env=env,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                from rag.backends.model_process import describe_exit

                failed[site] = f"{describe_exit(proc.returncode)}: {proc.stderr.strip()[-300:]}"
                continue
            result = json.loads(proc.stdout)
            got[site] += result["runs"]
            variants[site] = result["cpu_variant"]
    rows = []
    for site in builds:
        row: dict[str, Any] = {"build": site or "installed"}
        if site in failed:
            row["failed"] = failed[site]
        else:
            row["prompt_tps"] = round(statistics.median(r["prompt_tps"] for r in got[site]), 1)
            row["gen_tps"] = round(statistics.median(r["gen_tps"] for r in got[site]), 1)
            row["runs"] = len(got[site])
            row["cpu_variant"] = variants[site]
        rows.append(row)
    return {"bench": "tokens", "machine": _machine(), "builds": rows}


def _seeded_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="bench-model-"))
    env = {**os.environ, "NEWSDESK_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(REPO / "docs_corpus")], env=env, cwd=REPO,
                   check=True, capture_output=True)
    return home


def _env(home: Path) -> dict[str, str]:
    from rag.settings import Settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_LLM__RUN_DIR")}
    env.update(NEWSDESK_HOME=str(home), NEWSDESK_LLM__BACKEND="local",
               NEWSDESK_LLM__MODEL_DIR=str(Settings().llm.model_dir), HF_HUB_OFFLINE="1")
    return env


def _ask(env: dict[str, str], question: str, tree: Path = REPO) -> dict[str, Any]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "--json", question], env=_in_tree(env, tree),
                          cwd=tree, check=True, capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t
    answer = json.loads(proc.stdout)
    timings = answer["timings_ms"]
    inside = (timings["retrieve"] + timings["rerank"] + timings["generate"]) / 1000
    return {"wall_s": wall, "other_s": wall - inside, "generate_s": timings["generate"] / 1000,
            "backend": answer["backend"], "text": answer["answer"]}


def _in_tree(env: dict[str, str], tree: Path) -> dict[str, str]:
    """`python -m ui.cli` from `tree` imports that tree's code (its folder comes first on sys.path)."""
    return {**env, "PYTHONPATH": str(tree)} if tree != REPO else env


def _med(rows: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(float(r[key]) for r in rows)), 2)


def bench_cli(runs: int, before: Path | None = None, cold_too: bool = True) -> dict[str, Any]:
    home = _seeded_home()
    env = _env(home)
    model = [sys.executable, "-m", "ui.cli", "model"]
    trees = [REPO] if before is None else [REPO, before.resolve()]
    cold: dict[str, list[float]] = {q: [] for q in SEEDS}
    warm: dict[tuple[Path, str], list[dict[str, Any]]] = {(t, q): [] for t in trees for q in SEEDS}
    try:
        for _ in range(runs if cold_too else 0):
            for q in SEEDS:
                subprocess.run([*model, "stop"], env=env, cwd=REPO, check=True, capture_output=True)
                cold[q].append(_ask(env, q)["wall_s"])
        subprocess.run([*model, "start"], env=env, cwd=REPO, check=True, capture_output=True)
        for q in SEEDS:
            _ask(env, q)  # once each, as a running service has: the fixed rules evaluated
        for run in range(runs):
            # Versions take turns, and within a version the seed questions do: no ask finds its own prompt still
            # evaluated, and a noisy minute on a shared machine hurts both versions alike.
            for tree in trees if run % 2 == 0 else trees[::-1]:
                for q in SEEDS:
                    warm[(tree, q)].append(_ask(env, q, tree))
    finally:
        subprocess.run([*model, "stop"], env=env, cwd=REPO, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    seeds = []
    for q in SEEDS:
        row: dict[str, Any] = {"question": q}
        if cold_too:
            row["no_model_process_s"] = round(statistics.median(cold[q]), 2)
            row["all_no_process_s"] = [round(x, 2) for x in cold[q]]
        for tree in trees:
            got = warm[(tree, q)]
            side = "this_tree" if tree == REPO else "before"
            row[side] = {"model_process_running_s": _med(got, "wall_s"), "other_s": _med(got, "other_s"),
                         "generate_s": _med(got, "generate_s"), "all_running_s": [round(r["wall_s"], 2) for r in got],
                         "backends": sorted({r["backend"] for r in got})}
        if before is not None:
            texts = {tree: {r["text"] for r in warm[(tree, q)]} for tree in trees}
            row["same_answers"] = texts[trees[0]] == texts[trees[1]]
            row["ratio_wall"] = round(row["this_tree"]["model_process_running_s"] /
                                      row["before"]["model_process_running_s"], 3)
        seeds.append(row)
    return {"bench": "cli", "machine": _machine(), "runs": runs, "before": str(before) if before else None,
            "seeds": seeds, "load_avg_1m_end": round(os.getloadavg()[0], 2)}


# Run in the child, in the tree measured: what `newsdesk ask` does, stage by stage (the model process running).
_STAGES_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
import ui.cli
from rag.assistant import Assistant
from rag.settings import Settings
mark("import ui.cli, rag.assistant")
settings = Settings()
from index.embedding import load_embedder
load_embedder(settings.index.embedding_model, settings.index.embed_batch)
mark("load the query embedder")
from index.news_index import NewsIndex
assistant = Assistant(settings, NewsIndex(settings.index))
mark("open the index (catalogue, Chroma, BM25)")
assistant.cross_encoder.score("x", ["y"])
mark("load the cross-encoder")
import langchain_openai, rag.chain  # what the first question to the model imports (the client, the chat prompt)
mark("import the model client (langchain-openai, rag.chain)")
stream = assistant.stream(sys.argv[1])
mark("retrieve")
tokens = stream.tokens()
next(tokens)
mark("read, then the prompt to the first token")
for _ in tokens:
    pass
mark("generate the rest")
answer = stream.answer()
mark("check the claims, assemble")
out, prev = {}, t0
for name, t in marks:
    out[name] = t - prev
    prev = t
print(json.dumps({"stages": out, "backend": answer.backend, "text": answer.reply}))
"""


def bench_stages(runs: int, before: Path | None = None) -> dict[str, Any]:
    home = _seeded_home()
    env = _env(home)
    trees = [REPO] if before is None else [REPO, before.resolve()]
    got: dict[Path, list[dict[str, float]]] = {t: [] for t in trees}
    per_question: dict[tuple[Path, str], list[dict[str, float]]] = {(t, q): [] for t in trees for q in SEEDS}
    try:
        subprocess.run([sys.executable, "-m", "ui.cli", "model", "start"], env=env, cwd=REPO, check=True,
                       capture_output=True)
        for q in SEEDS:
            _ask(env, q)
        for run in range(runs):
            for tree in trees if run % 2 == 0 else trees[::-1]:
                for q in SEEDS:
                    proc = subprocess.run([sys.executable, "-c", _STAGES_CHILD, q], env=_in_tree(env, tree), cwd=tree,
                                          check=True, capture_output=True, text=True, timeout=300)
                    stages = json.loads(proc.stdout.strip().splitlines()[-1])["stages"]
                    got[tree].append(stages)
                    per_question[(tree, q)].append(stages)
    finally:
        subprocess.run([sys.executable, "-m", "ui.cli", "model", "stop"], env=env, cwd=REPO, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

    def medians(rows: list[dict[str, float]]) -> dict[str, float]:
        return {name: round(statistics.median(r[name] for r in rows), 3) for name in rows[0]}

    out: dict[str, Any] = {"bench": "stages", "machine": _machine(), "runs": runs}
    for tree in trees:
        side = "this_tree" if tree == REPO else "before"
        out[side] = {"all_questions": medians(got[tree]),
                     **{q: medians(per_question[(tree, q)]) for q in SEEDS}}
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    return out


def _rss_mb(pid: int) -> float:
    """The process and its children (Streamlit and uvicorn run in one process; a reloader would be a child)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return round(total, 1)


def _children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    out = [int(k) for k in kids]
    for k in list(out):
        out += _children(k)
    return out


def bench_rss() -> dict[str, Any]:
    import httpx

    from rag.backends.model_process import ModelProcess
    from rag.settings import Settings
    from tests.conftest import free_port, launch_browser

    home = _seeded_home()
    env = _env(home)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ui_port, api_port = free_port(), free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "ui.cli", "ui", "--port", str(ui_port)], env=env,
                                      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(api_port)], env=env,
                                      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait(f"http://127.0.0.1:{api_port}/health")
        _wait(f"http://127.0.0.1:{ui_port}/_stcore/health")
        r = httpx.post(f"http://127.0.0.1:{api_port}/ask", json={"question": SEEDS[0]}, timeout=300)
        r.raise_for_status()
        api_backend = r.json()["backend"]
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = launch_browser(pw)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{ui_port}", timeout=120_000)
            box = page.get_by_placeholder("Ask about the news")
            box.wait_for(timeout=180_000)
            box.fill(SEEDS[1])
            box.press("Enter")
            page.get_by_text("Sources", exact=False).first.wait_for(timeout=300_000)
            page.wait_for_timeout(2000)
            browser.close()
        s = Settings(home=home)
        assert s.llm.run_dir is not None and s.llm.model_dir is not None
        server = ModelProcess(s.llm.run_dir, s.llm.model_dir).status()
        assert server is not None, "no model process after two answers"
        # This home's model processes only (another home on the host may run its own).
        info = str(s.llm.run_dir / "model.json").encode()
        model_pids = [p for p in _all_pids() if b"rag.backends.llama_server" in _cmdline(p) and info in _cmdline(p)]
        return {"bench": "rss", "machine": _machine(), "api_backend": api_backend,
                "app_mb": _rss_mb(procs[0].pid), "api_mb": _rss_mb(procs[1].pid),
                "model_process_mb": _rss_mb(server.pid), "model_processes": len(model_pids)}
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        subprocess.run([sys.executable, "-m", "ui.cli", "model", "stop"], env=env, cwd=REPO, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _wait(url: str, seconds: float = 180) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="bench", required=True)
    s = sub.add_parser("tokens")
    s.add_argument("--site", action="append", default=[], help="A folder holding another llama_cpp build.")
    s.add_argument("--runs", type=int, default=3)
    s = sub.add_parser("cli")
    s.add_argument("--runs", type=int, default=3)
    s.add_argument("--before", type=Path, help="Another version's source tree, measured in the same run.")
    s.add_argument("--no-cold", action="store_true", help="Skip the runs that start the model process.")
    s = sub.add_parser("stages")
    s.add_argument("--runs", type=int, default=3)
    s.add_argument("--before", type=Path, help="Another version's source tree, measured in the same run.")
    sub.add_parser("rss")
    args = p.parse_args(argv)
    if args.bench == "tokens":
        out = bench_tokens(args.site, args.runs)
    elif args.bench == "cli":
        out = bench_cli(args.runs, args.before, not args.no_cold)
    elif args.bench == "stages":
        out = bench_stages(args.runs, args.before)
    else:
        out = bench_rss()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
