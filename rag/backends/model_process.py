"""The embedded model's process on this host: found, started on demand, checked, stopped.

Every front end (the app, `newsdesk serve`, each CLI call) that needs the embedded model asks `ensure()`: the
first one starts `python -m rag.backends.llama_server` in a session of its own (so it outlives the CLI call
that started it and no Ctrl-C or crash of a front end reaches it), the others find it through an info file
under the run folder and talk to it over loopback HTTP with a key only this user can read. A lock file makes
two front ends starting at the same moment end up with one process; a stale info file (the process was killed,
the host rebooted, the pid reused) is detected and replaced.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.errors import BackendUnavailable, ConfigError
from rag.backends.llama_server import KEY_ENV
from rag.model_files import ensure_gguf

log = logging.getLogger("newsdesk.model")

INFO_NAME = "model.json"
LOCK_NAME = "model.lock"
LOG_NAME = "model.log"


@dataclass(frozen=True)
class ModelServer:
    """A running model process: what `newsdesk model status --json` shows (less the key)."""

    pid: int
    address: str  # host:port on loopback
    model: str
    started_at: float
    api_key: str
    n_threads: int = 0
    idle_exit_s: float = 0.0
    cpu_variant: str = ""  # which of llama.cpp's CPU variants it runs ("zen4", "haswell"…; "built-in": no variants)

    @property
    def base_url(self) -> str:
        return f"http://{self.address}/v1"

    def public(self) -> dict[str, object]:
        return {"pid": self.pid, "address": self.address, "base_url": self.base_url, "model": self.model,
                "uptime_s": round(time.time() - self.started_at, 1), "n_threads": self.n_threads,
                "cpu_variant": self.cpu_variant, "idle_exit_s": self.idle_exit_s, "rss_mb": rss_mb(self.pid)}


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process, from /proc (None where there is no /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# The model processes this process started. Kept for the life of the process: the model process is meant to
# outlive the Popen object, and a child that dies is reaped here (else it stays a zombie that looks alive).
_children: dict[int, subprocess.Popen[bytes]] = {}


def _is_our_process(pid: int) -> bool:
    """Alive, and the model server (a reused pid after a reboot is some other program)."""
    if pid in _children:
        return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not ours
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the pid
    return b"rag.backends.llama_server" in cmdline


def _healthy(server: ModelServer, timeout_s: float = 3.0) -> bool:
    req = urllib.request.Request(f"http://{server.address}/newsdesk/health",
                                 headers={"Authorization": f"Bearer {server.api_key}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:  # noqa: S310 (loopback, our own server)
            return bool(r.status == 200 and json.loads(r.read()).get("pid") == server.pid)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"exit status {code}"


class ModelProcess:
    """The model process that serves `model_dir`'s GGUF for everything using `run_dir` on this host.

    Args:
        run_dir: where the info, lock and log files live (NEWSDESK_HOME/run by default).
        model_dir: where the packaged GGUF is assembled (rag/model_files.py).
        n_threads: CPU threads for the model (None: all cores).
        idle_exit_s: the process exits after this long without a request (0: never).
        start_timeout_s: how long a start may take before it is called failed.
    """

    def __init__(self, run_dir: Path, model_dir: Path, n_threads: int | None = None, idle_exit_s: float = 1800,
                 start_timeout_s: float = 120) -> None:
        self.run_dir = run_dir
        self.model_dir = model_dir
        self.n_threads = n_threads or os.cpu_count() or 1
        self.idle_exit_s = idle_exit_s
        self.start_timeout_s = start_timeout_s

    @property
    def info_path(self) -> Path:
        return self.run_dir / INFO_NAME

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG_NAME

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits while another front end starts the process
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read_info(self) -> ModelServer | None:
        try:
            d = json.loads(self.info_path.read_text())
            return ModelServer(pid=int(d["pid"]), address=str(d["address"]), model=str(d["model"]),
                               started_at=float(d["started_at"]), api_key=str(d["api_key"]),
                               n_threads=int(d.get("n_threads", 0)), idle_exit_s=float(d.get("idle_exit_s", 0)),
                               cpu_variant=str(d.get("cpu_variant", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def status(self) -> ModelServer | None:
        """The running process, if there is one that answers; a stale info file is removed."""
        server = self._read_info()
        if server is None:
            return None
        if not _is_our_process(server.pid):
            self.info_path.unlink(missing_ok=True)
            return None
        return server if _healthy(server) else None

    def ensure(self) -> tuple[ModelServer, bool]:
        """The running model process, started if there is none; (server, whether this call started it).

        Raises:
            ConfigError: the model files are missing or the process cannot start (the message says why,
                with the end of its log).
        """
        server = self.status()  # the common case needs no lock
        if server is not None:
            return server, False
        with self._locked():
            server = self.status()
            if server is not None:
                return server, False
            old = self._read_info()
            if old is not None and _is_our_process(old.pid):
                # Alive but not answering for the health check's 3 s: hung. Replace it.
                log.warning("The embedded model process %d does not answer; replacing it.", old.pid)
                _terminate(old.pid)
            return self._start(), True

    def _start(self) -> ModelServer:
        model = ensure_gguf(self.model_dir)
        self.info_path.unlink(missing_ok=True)
        key = secrets.token_urlsafe(24)
        env = {**os.environ, KEY_ENV: key}
        log.info("Starting the embedded model process (%s, %d threads)…", model.name, self.n_threads)
        with self.log_path.open("ab") as logf:
            os.chmod(self.log_path, 0o600)
            logf.write(f"\n--- start {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            logf.flush()
            proc = subprocess.Popen(
                [sys.executable, "-m", "rag.backends.llama_server", "--model", str(model),
                 "--info", str(self.info_path), "--n-threads", str(self.n_threads),
                 "--idle-exit", str(self.idle_exit_s)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=str(_repo_root()),
                start_new_session=True)  # its own session: no Ctrl-C or exit of the starter reaches it
        _children[proc.pid] = proc
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise ConfigError(f"The embedded model process failed to start ({describe_exit(code)}). "
                                  f"{self._log_tail()}{_crash_hint(code)}")
            server = self._read_info()
            if server is not None and server.pid == proc.pid and _healthy(server):
                log.info("The embedded model is ready (pid %d, %s) after %.1f s.", server.pid, server.address,
                         time.time() - server.started_at)
                return server
            time.sleep(0.1)
        _terminate(proc.pid)
        raise ConfigError(f"The embedded model process did not start within {self.start_timeout_s:.0f} s. "
                          f"{self._log_tail()}")

    def stop(self, timeout_s: float = 10) -> ModelServer | None:
        """Stop the running process (SIGTERM, then SIGKILL); the one stopped, or None if none was running."""
        with self._locked():
            server = self._read_info()
            if server is None or not _is_our_process(server.pid):
                self.info_path.unlink(missing_ok=True)
                return None
            _terminate(server.pid, timeout_s)
            self.info_path.unlink(missing_ok=True)
            return server

    def exit_of(self, server: ModelServer, wait_s: float = 1.0) -> str | None:
        """Why a process that was serving is gone (None if it is still alive after `wait_s`): its socket closes
        while it exits, so the client can hear of it before the process is gone."""
        deadline = time.monotonic() + wait_s
        while _is_our_process(server.pid):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
        child = _children.get(server.pid)
        code = child.poll() if child is not None else None
        return describe_exit(code) if code is not None else "it is no longer running"

    def _log_tail(self, lines: int = 8) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        text = " | ".join(t.strip() for t in tail if t.strip())
        return f"Its log ({self.log_path}) ends: {text}" if text else ""


def _crash_hint(code: int) -> str:
    if code in (-signal.SIGSEGV, -signal.SIGILL, -signal.SIGBUS):
        return (" llama-cpp-python was probably built for another CPU: rebuild it with `make clean install`"
                " (the build is portable, scripts/llama-wheel.sh).")
    return ""


def _terminate(pid: int, timeout_s: float = 10) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _is_our_process(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _repo_root() -> Path:
    # The launcher is imported as rag.backends.llama_server: run it from where `rag` is importable.
    return Path(__file__).resolve().parents[2]


def unavailable(server: ModelServer, process: ModelProcess, error: Exception) -> BackendUnavailable:
    """The error an answer in flight gets when the model process broke off."""
    why = process.exit_of(server)
    if why:
        return BackendUnavailable(f"The embedded model process (pid {server.pid}) stopped while answering: {why}. "
                                  "The next question starts it again.")
    return BackendUnavailable(f"The embedded model process (pid {server.pid}) did not answer: {error}")
