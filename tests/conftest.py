"""Every test gets its own NEWSDESK_HOME; the packaged models are real and loaded once per session."""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from index.settings import IndexSettings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "docs_corpus"
# The assembled 1.1 GB GGUF is a cache of the packaged parts, shared by tests (not state under test).
MODEL_DIR = REPO / ".cache" / "models"
ARTIFACTS = REPO / "test-artifacts"
TESTS = Path(__file__).resolve().parent

# --- what a test costs --------------------------------------------------------------------------------------------
# Markers derived from what a test uses, so that `make check` (-m "not server and not model and not browser") cannot
# start a server or load the model without anyone choosing to. `server`: a process serving on a port (`chroma run`,
# Postgres, llama.cpp's server, `newsdesk serve`/`newsdesk ui`); the in-process test site (news_site) and
# FastAPI's TestClient are not. `model`: the 1.5B GGUF. `browser`: Chromium. model_run_dir is not in the table: every
# test has it (isolated_env is autouse) and it costs nothing until a test asks the local model, for which it needs
# gguf_path.
FIXTURE_COSTS: dict[str, tuple[str, ...]] = {
    "chroma_server": ("server",),
    "postgres_server": ("server",),
    "postgres_url": ("server",),
    "gguf_path": ("model",),
}
# Parametrised fixtures that start a server for some parameters only (through request.getfixturevalue, which the
# fixture closure does not show): marked per parametrised test.
PARAM_COSTS: dict[tuple[str, object], tuple[str, ...]] = {
    ("index_settings", "server"): ("server",),
    ("index_settings", "postgres"): ("server",),
    ("deployment", "postgres"): ("server",),
    ("catalogue_db_url", "postgres"): ("server",),
}
# Helpers of tests/ that start something, found among the names the test's code (and its fixtures' and helpers')
# uses.
CODE_COSTS: dict[str, tuple[str, ...]] = {
    "streamlit_app": ("server",),  # `newsdesk ui` in a subprocess
    "ChromaServer": ("server",),
    "PostgresServer": ("server",),
    "llama_server": ("server", "model"),
    "launch_browser": ("browser",),
    "sync_playwright": ("browser",),
}
# A literal command line `python -m ui.cli serve|ui`: the product's own servers, started as a subprocess.
SERVER_COMMANDS = {"serve", "ui"}
# What the tables cannot see (a question to the default, local backend without gguf_path) isolated_env catches
# when it happens.


def derive_costs(fixtures: Iterable[str], params: Mapping[str, object], names: Iterable[str],
                 strings: Iterable[str]) -> set[str]:
    """The cost markers of one test from its fixture closure, its fixtures' parameters, and the names and string
    constants its code uses."""
    costs = {m for f in fixtures for m in FIXTURE_COSTS.get(f, ())}
    costs |= {m for (name, value), ms in PARAM_COSTS.items() if name in params and params[name] == value for m in ms}
    costs |= {m for n in names for m in CODE_COSTS.get(n, ())}
    found = set(strings)
    if "ui.cli" in found and found & SERVER_COMMANDS:
        costs.add("server")
    return costs


def _code_of_tests(funcs: Iterable[Callable[..., Any]]) -> tuple[set[str], set[str]]:
    """Global names and string constants used by these functions and by the tests/ helpers they call (transitively),
    nested functions included. Functions outside tests/ are not read."""
    names: set[str] = set()
    strings: set[str] = set()
    seen: set[types.CodeType] = set()
    todo = list(funcs)
    while todo:
        func = inspect.unwrap(todo.pop())
        code = getattr(func, "__code__", None)
        if code is None or code in seen or not Path(code.co_filename).resolve().is_relative_to(TESTS):
            continue
        codes = [code]
        while codes:
            c = codes.pop()
            seen.add(c)
            names.update(c.co_names)
            for const in c.co_consts:
                if isinstance(const, str):
                    strings.add(const)
                elif isinstance(const, types.CodeType) and const not in seen:
                    codes.append(const)
            for name in c.co_names:
                helper = getattr(func, "__globals__", {}).get(name)
                if inspect.isfunction(helper) or inspect.isclass(helper):
                    todo.append(helper.__init__ if inspect.isclass(helper) else helper)
    return names, strings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        fixturedefs = item._fixtureinfo.name2fixturedefs  # no public way to a test's fixture functions (pytest 9)
        funcs = [item.function, *(fd.func for name in item.fixturenames for fd in fixturedefs.get(name, ()))]
        names, strings = _code_of_tests(funcs)
        params = item.callspec.params if hasattr(item, "callspec") else {}
        for marker in sorted(derive_costs(item.fixturenames, params, names, strings)):
            item.add_marker(marker)


@pytest.fixture(scope="session")
def model_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the embedded model's process of this test session publishes itself: every test (and every server a
    test starts) shares one model process, as the front ends of one host do. Stopped when the session ends."""
    from rag.backends.model_process import ModelProcess

    run_dir = tmp_path_factory.mktemp("model-run")
    yield run_dir
    ModelProcess(run_dir, MODEL_DIR).stop()
    # Tests that made their own (another run folder under this session's temporary folder): stopped too.
    base = str(tmp_path_factory.getbasetemp()).encode()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if b"rag.backends.llama_server" in cmdline and base in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), 15)


@pytest.fixture(autouse=True)
def isolated_env(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 model_run_dir: Path) -> Iterator[Path]:
    from rag.backends.model_process import INFO_NAME

    home = tmp_path / "home"
    for var in list(os.environ):
        if var.startswith(("NEWSDESK_", "OPENAI_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("NEWSDESK_HOME", str(home))
    monkeypatch.setenv("NEWSDESK_LLM__MODEL_DIR", str(MODEL_DIR))
    monkeypatch.setenv("NEWSDESK_LLM__RUN_DIR", str(model_run_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    running = (model_run_dir / INFO_NAME).exists()
    yield home
    # The default backend is the local model: a test that reaches it without gguf_path would load 1.1 GB unmarked
    # (in `make check` too). Seen only until a `model` test of the session has started the shared process.
    if not running and (model_run_dir / INFO_NAME).exists() and request.node.get_closest_marker("model") is None:
        pytest.fail("this test started the local model without the gguf_path fixture, which marks it `model`: "
                    "ask for gguf_path, or use the extractive backend", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the shipped corpus indexed, shared read-only by answer tests."""
    from index.news_index import NewsIndex
    from index.sources import sources_from_paths
    from rag.settings import Settings

    home = tmp_path_factory.mktemp("seeded")
    settings = Settings(home=home)
    report = NewsIndex(settings.index).ingest(sources_from_paths([CORPUS]))
    assert report.count("added") == 2, report
    return home


@pytest.fixture
def seeded(seeded_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private copy of the seeded home (tests may write to it)."""
    home = tmp_path / "seeded"
    shutil.copytree(seeded_home, home)
    monkeypatch.setenv("NEWSDESK_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    from rag.model_files import ensure_gguf

    return ensure_gguf(MODEL_DIR)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real `chroma run` on a free loopback port for the whole session; yields its URL."""
    from tests.servers import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """One throwaway Postgres cluster (Debian's binaries, as the `postgres` user when we are root) for the session.

    Skipped only where the Postgres binaries are absent; `make test` installs them (`make postgres`).
    """
    from tests.servers import PostgresServer, postgres_bindir

    if postgres_bindir() is None:
        pytest.skip("Postgres server binaries (initdb, pg_ctl) are not installed; `make postgres` installs them")
    server = PostgresServer().start()
    yield server
    server.remove()


_databases = iter(range(10**6))


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A new empty database on the session's Postgres for this test; dropped afterwards."""
    import psycopg

    name = f"t{os.getpid()}_{next(_databases)}"
    yield postgres_server.create_database(name)
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def catalogue_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A catalogue database for stores that live beside the articles (feeds, alerts): SQLite in this test's
    folder, or a new database on the session's Postgres."""
    from index.db import sqlite_url

    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return sqlite_url(tmp_path / "catalogue.sqlite3")


@pytest.fixture(params=["embedded", "server", "postgres"])
def index_settings(request: pytest.FixtureRequest, isolated_env: Path) -> IndexSettings:
    """IndexSettings for a fresh home: embedded Chroma; the `chroma run` server; Postgres + the server (the
    several-hosts mode).

    Tests share the servers: each gets its own collection (and database), as separate deployments would.
    """
    from index.settings import IndexSettings

    url = request.getfixturevalue("chroma_server") if request.param in ("server", "postgres") else None
    database = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    isolated_env.mkdir(parents=True, exist_ok=True)
    prefix = f"t{abs(hash(str(isolated_env))) % 10**9}"
    return IndexSettings(home=isolated_env, chroma_url=url, collection_prefix=prefix, database_url=database)


# Debian's chromium through Playwright; without the background-networking flags it floods this closed network.
CHROMIUM = "/usr/bin/chromium"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


def launch_browser(playwright: Any) -> Any:
    """Headless Debian chromium with the flags every browser test uses."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS


def wait_until_up(url: str, proc: subprocess.Popen[bytes] | None = None, seconds: float = 60) -> None:
    """Poll `url` until it answers; fail early if the server process died."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"server for {url} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing answered at {url} within {seconds:.0f} s")


@contextlib.contextmanager
def streamlit_app(backend: str = "extractive") -> Iterator[str]:
    """`newsdesk ui` on a free port over the current NEWSDESK_HOME; yields its URL."""
    port = free_port()
    env = {**os.environ, "NEWSDESK_LLM__BACKEND": backend}
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ui", "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", proc)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """Ask a server to stop, and make it stop: a loaded machine has seen Streamlit ignore SIGTERM for 20 s."""
    proc.terminate()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def news_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The test news site (tests/site.py) on a free loopback port, allow-listed for this test through
    NEWSDESK_FETCH__ALLOW_HOSTS=127.0.0.1:PORT (loopback is refused otherwise)."""
    from tests.site import NewsSite

    site = NewsSite()
    monkeypatch.setenv("NEWSDESK_FETCH__ALLOW_HOSTS", site.host)
    yield site
    site.close()
