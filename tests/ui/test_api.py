"""The HTTP API in process (FastAPI's TestClient): conversations and export, tokens over HTTP, and the exact
shapes of the OpenAI-compatible responses. The same API through real clients and a real server:
tests/ui/test_api_server.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.settings import Settings
from ui.accounts import TokenStore

STOLTENBERG = "Stoltenberg and Biden met on Monday"


@pytest.fixture
def client(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    from ui import http

    http.assistant.cache_clear()  # a cached Assistant of an earlier test points at another home
    with TestClient(http.app) as c:
        yield c


def add_token(name: str, role: str) -> dict[str, str]:
    from index.db import catalogue_database

    token = TokenStore(catalogue_database(Settings().index)).add(name, role)
    return {"Authorization": f"Bearer {token}"}


def test_ask_saves_to_a_conversation_and_uses_it_for_follow_ups(client: TestClient) -> None:
    alice = add_token("alice", "reader")
    conv = client.post("/conversations", headers=alice, json={}).json()
    assert conv["owner"] == "alice" and conv["turns"] == 0
    r = client.post("/ask", headers=alice, json={"question": "Who met Biden on Monday?", "conversation_id": conv["id"]})
    assert r.status_code == 200 and r.json()["conversation_id"] == conv["id"]
    r = client.post("/ask", headers=alice, json={"question": "What did they discuss?", "conversation_id": conv["id"]})
    # The saved turn is the history: the follow-up is searched with the question before it.
    assert r.json()["standalone_question"] == "Who met Biden on Monday? What did they discuss?"
    listed = client.get("/conversations", headers=alice).json()
    assert [(c["id"], c["title"], c["turns"]) for c in listed] == [(conv["id"], "Who met Biden on Monday?", 2)]
    full = client.get(f"/conversations/{conv['id']}", headers=alice).json()
    assert [t["question"] for t in full["turns"]] == ["Who met Biden on Monday?", "What did they discuss?"]
    assert any(STOLTENBERG in c["quote"] for c in full["turns"][0]["answer"]["citations"])

    r = client.patch(f"/conversations/{conv['id']}", headers=alice, json={"title": "NATO"})
    assert r.status_code == 200 and r.json()["title"] == "NATO"
    md = client.get(f"/conversations/{conv['id']}/export", headers=alice)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert f'filename="newsdesk-{conv["id"]}.md"' in md.headers["content-disposition"]
    assert md.text.startswith("# NATO\n") and "## 2. What did they discuss?" in md.text and "[1]" in md.text
    assert "dpa, 2020-11-24" in md.text and f"> {STOLTENBERG}" in md.text
    js = client.get(f"/conversations/{conv['id']}/export?format=json", headers=alice).json()
    assert js["title"] == "NATO" and len(js["turns"]) == 2
    assert client.get(f"/conversations/{conv['id']}/export?format=pdf", headers=alice).status_code == 422
    assert client.delete(f"/conversations/{conv['id']}", headers=alice).json() == {"deleted": conv["id"]}
    assert client.get(f"/conversations/{conv['id']}", headers=alice).status_code == 404


def test_another_users_conversation_is_not_found_anywhere(client: TestClient) -> None:
    alice, bob = add_token("alice", "reader"), add_token("bob", "admin")
    conv = client.post("/conversations", headers=alice, json={"title": "mine"}).json()
    cid = conv["id"]
    attempts = {
        "get": client.get(f"/conversations/{cid}", headers=bob),
        "rename": client.patch(f"/conversations/{cid}", headers=bob, json={"title": "x"}),
        "delete": client.delete(f"/conversations/{cid}", headers=bob),
        "export": client.get(f"/conversations/{cid}/export", headers=bob),
        "ask": client.post("/ask", headers=bob, json={"question": "Who met Biden?", "conversation_id": cid}),
        "v1": client.post("/v1/chat/completions", headers=bob, json={
            "model": "newsdesk", "conversation_id": cid, "messages": [{"role": "user", "content": "Who met Biden?"}]}),
        "unknown": client.get("/conversations/0123456789abcdef", headers=alice),
    }
    assert {k: r.status_code for k, r in attempts.items()} == dict.fromkeys(attempts, 404)
    assert attempts["get"].json() == attempts["unknown"].json() | {"detail": f"No conversation with id {cid!r}."}
    assert client.get("/conversations", headers=bob).json() == []
    assert client.get(f"/conversations/{cid}", headers=alice).json()["turns"] == []  # untouched


def test_admins_manage_tokens_over_http(client: TestClient) -> None:
    admin = add_token("root", "admin")
    r = client.post("/tokens", headers=admin, json={"name": "dora", "role": "editor"})
    assert r.status_code == 200 and r.json()["token"].startswith("nd_")
    dora = {"Authorization": f"Bearer {r.json()['token']}"}
    assert client.get("/me", headers=dora).json() == {"name": "dora", "role": "editor", "authenticated": True}
    listed = client.get("/tokens", headers=admin).json()
    assert [t["name"] for t in listed] == ["root", "dora"] and all("token" not in t for t in listed)
    assert client.post("/tokens", headers=admin, json={"name": "dora", "role": "reader"}).status_code == 400
    assert client.post("/tokens", headers=admin, json={"name": "eve", "role": "root"}).status_code == 422
    assert client.get("/tokens", headers=dora).status_code == 403
    assert client.delete("/tokens/dora", headers=admin).json()["revoked"] is True
    assert client.get("/me", headers=dora).status_code == 401
    assert client.delete("/tokens/dora", headers=admin).status_code == 404


def _completion(client: TestClient, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    r = client.post("/v1/chat/completions", json={"model": "newsdesk", "messages": messages, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_chat_completion_shape_with_citations(client: TestClient) -> None:
    body = _completion(client, [{"role": "system", "content": "You are a pirate."},
                                {"role": "user", "content": "Who met Biden on Monday?"}])
    assert body["object"] == "chat.completion" and body["model"] == "newsdesk" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert content.startswith(body["answer"]) and "[1]" in body["answer"]
    assert "**Sources**" in content and "dpa, 2020-11-24" in content  # for clients that ignore `citations`
    assert body["refused"] is False and body["unsupported_sentences"] == [] and body["dropped_markers"] == []
    assert any(STOLTENBERG in c["quote"] for c in body["citations"])
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    models = client.get("/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["newsdesk"] and client.get("/v1/models/newsdesk").status_code == 200


def test_a_refusal_is_a_normal_completion(client: TestClient) -> None:
    peru = [{"type": "text", "text": "What is the capital of Peru?"}]  # content as parts, as some clients send it
    body = _completion(client, [{"role": "user", "content": peru}])
    assert body["refused"] is True and body["citations"] == []
    assert body["choices"][0]["message"]["content"] == body["answer"] and "do not say" in body["answer"]


def test_sources_can_stay_out_of_the_content(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_API__SOURCES_IN_CONTENT", "false")
    body = _completion(client, [{"role": "user", "content": "Who met Biden on Monday?"}])
    assert body["choices"][0]["message"]["content"] == body["answer"] and body["citations"]


def _events(client: TestClient, messages: list[dict[str, Any]], **extra: Any) -> list[Any]:
    with client.stream("POST", "/v1/chat/completions",
                       json={"model": "newsdesk", "messages": messages, "stream": True, **extra}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[6:]) for line in lines[:-1]]


def test_streamed_completion_ends_with_the_checked_answer_and_citations(client: TestClient) -> None:
    events = _events(client, [{"role": "user", "content": "Who met Biden on Monday?"}],
                     stream_options={"include_usage": True})
    chunks, usage = events[:-1], events[-1]
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] == 0
    assert {e["object"] for e in chunks} == {"chat.completion.chunk"} and len({e["id"] for e in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop" and last["choices"][0]["delta"] == {}
    assert all(e["choices"][0]["finish_reason"] is None for e in chunks[:-1])
    assert "citations" not in chunks[-2] and last["refused"] is False
    assert any(STOLTENBERG in c["quote"] for c in last["citations"])
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in chunks)
    streamed, sources = text.split("\n\n**Sources**\n")
    # The stream is the raw text ("…president. [1]"); `answer` is the checked one, dated by its sources
    # ("…president [1] (dpa, 24 Nov 2020).").
    checked = re.sub(r" \([^()]+, \d{1,2} \w{3} \d{4}\)", "", last["answer"])
    assert checked != last["answer"] and "(dpa, 24 Nov 2020)" in last["answer"]
    assert re.sub(r"\W", "", streamed) == re.sub(r"\W", "", checked) and "[1]" in last["answer"]
    assert "dpa, 2020-11-24" in sources


def test_streamed_refusal_sends_the_refusal_text(client: TestClient) -> None:
    events = _events(client, [{"role": "user", "content": "What is the capital of Peru?"}])
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert events[-1]["refused"] is True and text == events[-1]["answer"] and "do not say" in text


def test_chat_completion_saved_to_a_conversation_when_asked(client: TestClient) -> None:
    conv = client.post("/conversations", json={}).json()
    assert conv["owner"] == "local"  # auth off: everything belongs to the local user
    body = _completion(client, [{"role": "user", "content": "Who met Biden on Monday?"}], conversation_id=conv["id"])
    assert body["conversation_id"] == conv["id"]
    _events(client, [{"role": "user", "content": "Who met Biden on Monday?"},
                     {"role": "assistant", "content": body["answer"]},
                     {"role": "user", "content": "What did they say?"}], conversation_id=conv["id"])
    turns = client.get(f"/conversations/{conv['id']}").json()["turns"]
    assert [t["question"] for t in turns] == ["Who met Biden on Monday?", "What did they say?"]
    assert turns[1]["answer"]["standalone_question"] == "Who met Biden on Monday? What did they say?"


def test_messages_history_becomes_turns_for_follow_ups() -> None:
    from datetime import date

    from rag.followup import standalone
    from ui.openai_api import history_from_messages

    today = date(2025, 7, 1)
    question, turns = history_from_messages([
        ("system", "Be brief."), ("user", "Who met Biden on Monday?"), ("assistant", "Stoltenberg [1]."),
        ("user", "What did he want?"), ("user", "Tell me about NATO spending targets in 2025"),
        ("assistant", "2% [1]."), ("tool", "ignored"), ("user", "and Trump?")], today)
    assert question == "and Trump?"
    assert [(t.question, t.answer.text) for t in turns] == [
        ("Who met Biden on Monday?", "Stoltenberg [1]."), ("What did he want?", ""),
        ("Tell me about NATO spending targets in 2025", "2% [1].")]
    assert turns[1].answer.standalone_question == "Who met Biden on Monday? What did he want?"
    assert turns[2].answer.standalone_question == "Tell me about NATO spending targets in 2025"
    assert standalone(question, turns, today).searched == "Tell me about NATO spending targets in 2025 and Trump?"
    # "and in 2020?" asks the previous question again for another year (rag/followup.py rule 1).
    _, turns = history_from_messages([("user", "What is the NATO spending target in 2025?"), ("assistant", "2% [1]."),
                                      ("user", "and in 2020?"), ("assistant", "2% [1]."), ("user", "q")], today)
    assert turns[1].answer.standalone_question == "What is the NATO spending target in 2020?"
    from index.errors import InputError

    for bad in ([], [("assistant", "hi")], [("user", "q"), ("assistant", "a")], [("system", "x")]):
        with pytest.raises(InputError, match="last message must be the user's"):
            history_from_messages(bad, today)


def test_a_reply_in_the_messages_claims_only_its_text() -> None:
    """The client sends back a reply's text, not whether it was a refusal: the turn claims neither (ui/openai_api.py
    `reply_turn`)."""
    from datetime import date

    from rag.prompts import REFUSAL_TEXT
    from ui.openai_api import history_from_messages

    _, turns = history_from_messages([("user", "Who met Biden on Monday?"), ("assistant", REFUSAL_TEXT),
                                      ("user", "Who met Trump?")], date(2025, 7, 1))
    (turn,) = turns
    assert turn.answer.text == REFUSAL_TEXT and turn.answer.refused is False and turn.answer.backend == "client"
    assert turn.answer.citations == () and turn.answer.standalone_question == "Who met Biden on Monday?"


def test_log_records_never_carry_a_token() -> None:
    import logging

    from ui.api_deps import RedactSecrets

    def shown(name: str, msg: str, *args: object) -> str:
        record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
        assert RedactSecrets().filter(record)
        return record.getMessage()

    token = "nd_" + "A1b2_-" * 7
    access = shown("uvicorn.access", '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5", "GET", f"/v1/models?api_key={token}",
                   "1.1", 401)
    assert access == '10.0.0.1:5 - "GET /v1/models?… HTTP/1.1" 401'
    assert shown("newsdesk.api", "got %s from x", token) == "got nd_[redacted] from x"
    assert shown("uvicorn.error", "header Authorization: Bearer %s", "sk-123") == \
        "header Authorization: Bearer [redacted]"
    assert shown("newsdesk.api", "send_message and_more stay") == "send_message and_more stay"


def test_a_timeline_answer_carries_its_events_beside_the_citations(client: TestClient) -> None:
    question = [{"role": "user", "content": "How did NATO's defence spending target change over time?"}]
    body = _completion(client, question)
    assert body["refused"] is False and body["timeline"], body
    numbers = {c["n"] for c in body["citations"]}
    assert all(set(e["citations"]) <= numbers for e in body["timeline"])
    assert [e["date"] for e in body["timeline"]] == sorted(e["date"] for e in body["timeline"])
    last = _events(client, question)[-1]
    assert last["timeline"] == body["timeline"]
    r = client.post("/ask", json={"question": "NATO defence spending target", "timeline": True})
    assert r.status_code == 200 and r.json()["timeline"], r.text
