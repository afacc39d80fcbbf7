"""A real `newsdesk serve` on 127.0.0.1 with tokens made by the real CLI: the auth matrix (every caller × every
endpoint), the official `openai` client (plain and streaming, with citations), LangChain's `ChatOpenAI`, the rate
limit and question limit, and no token in clear in the server's logs or the database. One server for the module."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.db import Database, sqlite_url
from tests.conftest import MODEL_DIR, REPO, free_port, wait_until_up
from ui.accounts import TokenStore

pytestmark = pytest.mark.e2e

ANSWERS_PER_MINUTE = 5  # each token below asks at most this often, but "burst"
MAX_QUESTION = 500
ROLES = {"admin": "admin", "reader": "reader", "editor": "editor", "revoked": "reader", "client": "reader",
         "stream": "reader", "langchain": "reader", "burst": "reader", "spare": "reader"}


@dataclass
class Server:
    url: str
    home: Path
    log: Path
    tokens: dict[str, str]
    issued: list[str] = field(default_factory=list)  # tokens the API handed out during the tests

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def server(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("api-server") / "home"
    shutil.copytree(seeded_home, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "OPENAI_"))}
    env.update(NEWSDESK_HOME=str(home), NEWSDESK_LLM__BACKEND="extractive", NEWSDESK_LLM__MODEL_DIR=str(MODEL_DIR),
               HF_HUB_OFFLINE="1", NEWSDESK_API__ANSWERS_PER_MINUTE=str(ANSWERS_PER_MINUTE),
               NEWSDESK_API__MAX_QUESTION_CHARS=str(MAX_QUESTION))
    # The first token through the real CLI (tests/ui/test_accounts_cli.py has the rest of it), the others directly.
    out = _cli(env, "token", "add", "admin", "--role", "admin")
    assert out.returncode == 0, out.stderr
    tokens = {"admin": out.stdout.strip()}
    assert out.stdout == tokens["admin"] + "\n" and re.fullmatch(r"nd_[A-Za-z0-9_-]{43}", tokens["admin"])
    store = TokenStore(Database(sqlite_url(home / "catalogue.sqlite3")))
    tokens.update({name: store.add(name, role) for name, role in ROLES.items() if name != "admin"})
    store.revoke("revoked")
    port = free_port()
    log = home.parent / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                                stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", proc, seconds=120)
        yield Server(url, home, log, tokens)
    finally:
        proc.terminate()
        proc.wait(20)


# --- the auth matrix -----------------------------------------------------------------------------------
CALLERS = ["anonymous", "malformed", "bad", "revoked", "query-string", "reader", "editor", "admin"]
RANK = {"reader": 0, "editor": 1, "admin": 2}
ARTICLE = {"text": "The harbour in Kiel reopened on Tuesday after a storm had closed it for three days.",
           "title": "Kiel harbour reopens"}
# Questions the relevance gate refuses: answered (200) after retrieval alone, so the matrix and the rate limit
# test authentication and counting, not the writing of answers (which costs seconds on 2 busy cores).
CHEAP = "What is the capital of Peru?"
CHAT = {"model": "newsdesk", "messages": [{"role": "user", "content": CHEAP}]}


@dataclass(frozen=True)
class Endpoint:
    id: str
    method: str
    path: str
    role: str | None  # the least role allowed; None: public
    body: Any = None
    ok: int = 200  # what an allowed caller gets (404 for an id that does not exist)


ENDPOINTS = [
    Endpoint("health", "GET", "/health", None),
    Endpoint("ask", "POST", "/ask", "reader", {"question": CHEAP}),
    Endpoint("articles-list", "GET", "/articles", "reader"),
    Endpoint("articles-add", "POST", "/articles", "editor", ARTICLE),
    Endpoint("articles-remove", "DELETE", "/articles/ffffffffffffffff", "editor", ok=404),
    Endpoint("v1-models", "GET", "/v1/models", "reader"),
    Endpoint("v1-chat", "POST", "/v1/chat/completions", "reader", CHAT),
    Endpoint("me", "GET", "/me", "reader"),
    Endpoint("conversations-list", "GET", "/conversations", "reader"),
    Endpoint("conversations-create", "POST", "/conversations", "reader", {"title": "matrix"}),
    Endpoint("conversation-get", "GET", "/conversations/0000000000000000", "reader", ok=404),
    Endpoint("conversation-export", "GET", "/conversations/0000000000000000/export", "reader", ok=404),
    Endpoint("tokens-list", "GET", "/tokens", "admin"),
    Endpoint("tokens-add", "POST", "/tokens", "admin", {"name": "matrix-made", "role": "reader"}),
    Endpoint("tokens-revoke", "DELETE", "/tokens/nobody", "admin", ok=404),
    Endpoint("openapi", "GET", "/openapi.json", "reader"),
    Endpoint("docs", "GET", "/docs", "reader"),
]


def _request(server: Server, caller: str, ep: Endpoint) -> httpx.Response:
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if caller in RANK or caller == "revoked":
        headers = server.headers(caller)
    elif caller == "malformed":
        headers = {"Authorization": f"Token {server.tokens['admin']}"}
    elif caller == "bad":
        headers = {"Authorization": "Bearer nd_" + "x" * 43}
    elif caller == "query-string":  # only the header counts
        params = {"api_key": server.tokens["admin"], "token": server.tokens["admin"],
                  "access_token": server.tokens["admin"]}
    body = ep.body
    if ep.id == "tokens-add":
        body = {**ep.body, "name": f"matrix-{caller}"}
    return httpx.request(ep.method, server.url + ep.path, headers=headers, params=params, json=body, timeout=60)


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
@pytest.mark.parametrize("caller", CALLERS)
def test_auth_matrix(server: Server, caller: str, ep: Endpoint) -> None:
    r = _request(server, caller, ep)
    if ep.role is None:
        expected = 200
    elif caller not in RANK:
        expected = 401
    else:
        expected = ep.ok if RANK[caller] >= RANK[ep.role] else 403
    assert r.status_code == expected, r.text
    if expected in (401, 403):
        assert r.headers["content-type"] == "application/json" and isinstance(r.json()["detail"], str)
        assert (r.headers.get("www-authenticate") == "Bearer") == (expected == 401)
        if ep.path.startswith("/v1/"):  # OpenAI clients read `error.message`
            assert r.json()["error"]["message"] == r.json()["detail"]
    if ep.id == "tokens-add" and expected == 200:
        server.issued.append(r.json()["token"])


def test_a_revoked_token_stops_working_at_once(server: Server) -> None:
    assert httpx.get(f"{server.url}/me", headers=server.headers("spare")).status_code == 200
    r = httpx.delete(f"{server.url}/tokens/spare", headers=server.headers("admin"))
    assert r.status_code == 200 and r.json()["revoked"] is True
    assert httpx.get(f"{server.url}/me", headers=server.headers("spare")).status_code == 401


# --- OpenAI-compatible clients ------------------------------------------------------------------------------
def _openai(server: Server, token: str = "client") -> Any:
    from openai import OpenAI

    return OpenAI(base_url=f"{server.url}/v1", api_key=server.tokens[token], max_retries=0, timeout=60)


def test_openai_client_plain_with_citations_and_follow_ups(server: Server) -> None:
    client = _openai(server)
    assert [m.id for m in client.models.list()] == ["newsdesk"]
    first = client.chat.completions.create(model="newsdesk",
                                           messages=[{"role": "user", "content": "Who met Biden on Monday?"}])
    content = first.choices[0].message.content
    assert "Stoltenberg" in content and "[1]" in content and first.choices[0].finish_reason == "stop"
    extra = first.model_extra
    assert extra["refused"] is False and extra["unsupported_sentences"] == []
    assert any("Stoltenberg and Biden met on Monday" in c["quote"] and c["outlet"] == "dpa"
               for c in extra["citations"])
    follow = client.chat.completions.create(model="newsdesk", messages=[
        {"role": "user", "content": "Who met Biden on Monday?"}, {"role": "assistant", "content": content},
        {"role": "user", "content": "What did they say about defence spending?"}])
    assert follow.model_extra["citations"] and not follow.model_extra["refused"]
    refused = client.chat.completions.create(model="newsdesk",
                                             messages=[{"role": "user", "content": "What is the capital of Peru?"}])
    assert refused.model_extra["refused"] is True and refused.model_extra["citations"] == []
    assert "do not say" in refused.choices[0].message.content


def test_openai_client_streaming_sends_citations_last(server: Server) -> None:
    stream = _openai(server, "stream").chat.completions.create(
        model="newsdesk", stream=True, messages=[{"role": "user", "content": "Who met Biden on Monday?"}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Stoltenberg and Biden met on Monday" in text and "**Sources**" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert any("Stoltenberg and Biden met on Monday" in c["quote"] for c in last.model_extra["citations"])
    assert last.model_extra["refused"] is False and "[1]" in last.model_extra["answer"]


def test_openai_client_errors(server: Server) -> None:
    import openai

    with pytest.raises(openai.AuthenticationError):
        _openai(server, "revoked").models.list()
    with pytest.raises(openai.NotFoundError, match="use 'newsdesk'"):
        _openai(server).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi?"}])
    with pytest.raises(openai.UnprocessableEntityError, match="NEWSDESK_API__MAX_QUESTION_CHARS"):
        _openai(server).chat.completions.create(model="newsdesk",
                                                messages=[{"role": "user", "content": "x " * MAX_QUESTION}])


def test_langchain_chat_openai(server: Server) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{server.url}/v1", api_key=server.tokens["langchain"], model="newsdesk", max_retries=0,
                     timeout=60)
    message = llm.invoke("Who met Biden on Monday?")
    assert "Stoltenberg" in message.content and "[1]" in message.content
    assert message.response_metadata["model_name"] == "newsdesk"
    streamed = "".join(str(chunk.content) for chunk in llm.stream("Who met Biden on Monday?"))
    assert "Stoltenberg and Biden met on Monday" in streamed


# --- limits ----------------------------------------------------------------------------------------------
def test_rate_limit_per_token_is_429_with_retry_after(server: Server) -> None:
    ask = {"question": CHEAP}
    codes = [httpx.post(f"{server.url}/ask", headers=server.headers("burst"), json=ask, timeout=60).status_code
             for _ in range(ANSWERS_PER_MINUTE)]
    assert codes == [200] * ANSWERS_PER_MINUTE
    r = httpx.post(f"{server.url}/ask", headers=server.headers("burst"), json=ask, timeout=60)
    assert r.status_code == 429 and "NEWSDESK_API__ANSWERS_PER_MINUTE" in r.json()["detail"]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    r = httpx.post(f"{server.url}/v1/chat/completions", headers=server.headers("burst"), json=CHAT, timeout=60)
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limit_error"
    # Another token has its own allowance.
    assert httpx.post(f"{server.url}/ask", headers=server.headers("reader"), json=ask, timeout=60).status_code == 200


def test_question_length_limit(server: Server) -> None:
    r = httpx.post(f"{server.url}/ask", headers=server.headers("reader"), json={"question": "x" * (MAX_QUESTION + 1)})
    assert r.status_code == 422 and f"limit is {MAX_QUESTION}" in r.json()["detail"]


# --- secrets: last, after every request above has been logged ----------------------------------------------
def test_no_token_in_clear_in_the_logs_or_the_database(server: Server) -> None:
    httpx.get(f"{server.url}/v1/models", params={"api_key": server.tokens["admin"]})  # a client's mistake
    httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {server.tokens['admin']}x"})  # a bad token
    secrets = list(server.tokens.values()) + server.issued
    assert len(server.issued) == 1  # the admin's POST /tokens in the matrix
    log = server.log.read_text(errors="replace")
    # The log is really the server's: it shows the requests above (without their query strings).
    assert '"POST /ask HTTP/1.1" 200' in log and '"GET /v1/models?… HTTP/1.1" 401' in log
    assert "rejected an unknown or revoked token" in log
    for token in secrets:
        assert token not in log and token[3:] not in log and token[3:20] not in log
    assert not re.search(r"nd_[A-Za-z0-9_-]{8}", log)
    assert "Bearer nd_" not in log and "authorization" not in log.lower()
    db = b"".join(p.read_bytes() for p in server.home.glob("catalogue.sqlite3*"))
    for token in secrets:
        assert token.encode() not in db and token[3:].encode() not in db
    assert hashlib.sha256(server.tokens["reader"].encode()).hexdigest().encode() in db  # the right file
