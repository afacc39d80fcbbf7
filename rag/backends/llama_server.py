"""The embedded model's own process: llama.cpp's OpenAI-compatible server, with what Newsdesk needs around it.

Run by `rag.backends.model_process` as `python -m rag.backends.llama_server`, never imported by the app: a
native fault in llama.cpp ends this process only. Around llama-cpp-python's server it adds

- a socket bound before the address is published (port 0: no race for a free port),
- an info file written atomically once the model is loaded and the socket listens (pid, address, model),
- `GET /newsdesk/health`, answered without the model's lock (the OpenAI routes queue behind a generation),
- questions queued, never interrupted (llama-cpp-python's default cuts a stream off when another request comes),
- an exit after `--idle-exit` seconds without a request, so a forgotten process does not hold 2 GB forever,
- llama.cpp's CPU variants loaded from the package's own folder (see `load_cpu_backend`).

The API key comes in the environment (NEWSDESK_MODEL_KEY), never on the command line other users can read.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

KEY_ENV = "NEWSDESK_MODEL_KEY"
ALIAS = "newsdesk-local"


class _Activity:
    """Requests in flight and the time the last one ended, for the idle exit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.last = time.monotonic()

    def idle_for(self) -> float:
        with self.lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last


def load_cpu_backend() -> str:
    """Let llama.cpp choose its CPU code for this machine, and say which it chose.

    scripts/llama-wheel.sh builds the CPU backend as several variants (AVX2 up to AVX-512 BF16, no AMX) that
    llama.cpp scores against the CPU's features when it loads them (GGML_BACKEND_DL). It looks for them beside
    the executable and in the working directory, never in the package's lib folder, so the folder is named here,
    before llama-cpp-python initialises. A build without variants has its CPU backend linked in already
    (backends registered): nothing to load. Returns the variant's name ("haswell", "zen4"…) or "built-in".
    """
    import ctypes

    import llama_cpp  # loads libllama, and with it the libggml that holds llama.cpp's backend registry

    lib_dir = Path(llama_cpp.__file__).parent / "lib"
    # The wheel holds libggml.so and libggml.so.0 as two files: the one to talk to is the one libllama mapped
    # (another file would be a second registry that llama.cpp never reads).
    mapped = [line.split(None, 5)[-1] for line in Path("/proc/self/maps").read_text().splitlines()
              if "/libggml.so" in line]
    ggml = ctypes.CDLL(mapped[0] if mapped else str(lib_dir / "libggml.so.0"))
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    if ggml.ggml_backend_reg_count() == 0:
        ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        ggml.ggml_backend_load_all_from_path(str(lib_dir).encode())
    # The variant is the library llama.cpp mapped into this process.
    for line in Path("/proc/self/maps").read_text().splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.startswith("libggml-cpu-") and name.endswith(".so"):
            return name[len("libggml-cpu-"):-len(".so")]
    return "built-in"


def build_app(model: str, n_threads: int, api_key: str, activity: _Activity) -> FastAPI:
    from fastapi import Request, Response
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # DESIGN.md: n_ctx=4096 and n_batch=512 (LangChain's defaults are 2x slower for RAG); logits_all off
    # keeps the process at ~2 GB instead of 3.4.
    model_settings = ModelSettings(model=model, model_alias=ALIAS, n_ctx=4096, n_batch=512, n_threads=n_threads,
                                   n_threads_batch=n_threads, logits_all=False, verbose=False)
    server_settings = ServerSettings(host="127.0.0.1", port=0, api_key=api_key, interrupt_requests=False)
    app: FastAPI = create_app(server_settings=server_settings, model_settings=[model_settings])

    @app.get("/newsdesk/health")
    def health() -> dict[str, object]:
        return {"ok": True, "pid": os.getpid(), "model": model}

    @app.middleware("http")
    async def count(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        with activity.lock:
            activity.in_flight += 1
        try:
            response = await call_next(request)
        finally:
            # A streamed body is still being sent here; the idle limit is minutes, so ending the count
            # when the handler returns is close enough.
            with activity.lock:
                activity.in_flight -= 1
                activity.last = time.monotonic()
        return response

    return app


def write_info(path: Path, info: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(info, f)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.backends.llama_server")
    p.add_argument("--model", required=True)
    p.add_argument("--info", required=True, type=Path, help="Where to publish pid, address and model once ready.")
    p.add_argument("--n-threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--idle-exit", type=float, default=0, help="Exit after this many idle seconds (0: never).")
    args = p.parse_args(argv)
    api_key = os.environ.pop(KEY_ENV, "")
    if not api_key:
        print(f"{KEY_ENV} is not set", file=sys.stderr)
        return 2

    import uvicorn

    activity = _Activity()
    t0 = time.time()
    cpu_variant = load_cpu_backend()
    app = build_app(args.model, args.n_threads, api_key, activity)  # loads the weights
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=30))

    def publish_when_listening() -> None:
        while not server.started:
            time.sleep(0.02)
        write_info(args.info, {"pid": os.getpid(), "address": f"{host}:{port}", "model": args.model,
                               "started_at": t0, "ready_at": time.time(), "n_threads": args.n_threads,
                               "cpu_variant": cpu_variant, "idle_exit_s": args.idle_exit, "api_key": api_key})

    def exit_when_idle() -> None:
        while not server.should_exit:
            time.sleep(min(5.0, max(args.idle_exit / 10, 0.2)))
            if activity.idle_for() > args.idle_exit:
                print(f"idle for {args.idle_exit:.0f} s: exiting", file=sys.stderr, flush=True)
                server.should_exit = True

    threading.Thread(target=publish_when_listening, daemon=True).start()
    if args.idle_exit > 0:
        threading.Thread(target=exit_when_idle, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        _unpublish(args.info)
    return 0


def _unpublish(path: Path) -> None:
    # Only our own info: a newer process may have replaced it already.
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
