"""Real servers on free loopback ports for the reliability tests: `chroma run`, llama_cpp.server, and a
tiny HTTP server that answers like a broken LLM server."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
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
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
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
