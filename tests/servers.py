"""Real servers on free loopback ports for the tests and benchmarks: `chroma run`, a throwaway Postgres cluster,
llama_cpp.server, and a tiny HTTP server that answers like a broken LLM server."""

from __future__ import annotations

import glob
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import free_port, stop


class ChromaServer:
    """`chroma run` on 127.0.0.1; stop() and start() again on the same port and data (a restart)."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaServer:
        chroma = Path(sys.executable).with_name("chroma")
        self.proc = subprocess.Popen([str(chroma), "run", "--path", str(self.data), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("chroma run did not start")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


def postgres_bindir() -> Path | None:
    """Where Debian's (or any) Postgres server binaries are: the newest /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """A throwaway Postgres cluster on 127.0.0.1 and a free port; stop() and start() again keep its data.

    Postgres refuses to run as root: as root the cluster belongs to the `postgres` user and its commands run
    through `runuser`, in a folder of its own under the system temp dir (pytest's are private to root), or in
    `root` if given (which the `postgres` user must be able to reach; an existing cluster there is reused).
    Tests run it without durability (fsync off: they kill clients, never the machine, so it would only cost
    time); `durable=True` keeps fsync on, with commits not waiting for it (as SQLite's WAL with
    synchronous=NORMAL), for benchmarks. `remove()` stops it and deletes the folder.
    """

    def __init__(self, root: Path | None = None, durable: bool = False) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise FileNotFoundError("Postgres server binaries (initdb, pg_ctl) not found; `make postgres` installs "
                                    "Debian's postgresql package")
        self.bindir = bindir
        self.durable = durable
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="newsdesk-pg-"))
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync",
                      "--locale=C.UTF-8")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = [str(self.bindir / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)

    def start(self) -> PostgresServer:
        durability = "" if self.durable else "-c fsync=off -c full_page_writes=off "
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} {durability}"
                   "-c synchronous_commit=off -c max_connections=300 -c shared_buffers=128MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m fast`: clients are disconnected at once, as when a database server goes away."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


class BrokenLLMServer:
    """Answers every request the way a broken or wrong server might (`mode`), on 127.0.0.1."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._reply(200, "application/json", b'{"data": []}')

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = server.mode
                if mode == "hang":
                    time.sleep(30)
                    return
                if mode == "not-openai-json":
                    self._reply(200, "application/json", json.dumps({"hello": "world", "answer": 42}).encode())
                elif mode == "html-500":
                    self._reply(500, "text/html", b"<html><body>Internal Server Error</body></html>")
                elif mode == "garbage-sse":
                    self._reply(200, "text/event-stream", b"data: {\"nonsense\": true}\n\ndata: [[[not json\n\n"
                                                          b"data: [DONE]\n\n")
                elif mode == "plain-text":
                    self._reply(200, "text/plain", b"PWNED! this is not JSON at all")
                elif mode == "empty-stream":
                    self._reply(200, "text/event-stream", b"data: [DONE]\n\n")

            def _reply(self, status: int, ctype: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def llama_server(gguf: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    # llama-cpp-python's own server, as any user runs it; only its CPU code is loaded first, from the package's
    # folder, where llama.cpp does not look by itself (rag.backends.llama_server.load_cpu_backend).
    start = ("import runpy, sys; from rag.backends.llama_server import load_cpu_backend; load_cpu_backend(); "
             "sys.argv[0] = 'llama_cpp.server'; runpy.run_module('llama_cpp.server', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start, "--model", str(gguf), "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", "4096", "--n_batch", "512", "--logits_all", "False",
                             "--model_alias", "qwen-local"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("llama_cpp.server did not become ready") from None
                time.sleep(0.25)
        yield url, proc
    finally:
        if proc.poll() is None:
            stop(proc)
