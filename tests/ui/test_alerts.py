"""Alerts through the CLI and `newsdesk watch` over a real index: what articles added since the last check bring to
a question (timeline events, cited), nothing new said so, checks marking alerts read; and the pure mapping of a
timeline answer's events to cited news."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.alert_store import Alert
from index.types import ArticleMeta, Chunk
from rag.types import Answer, Citation, Hit, TimelineEvent
from tests.site import rss_feed
from ui.alerts import news_events
from ui.cli import main

TIMELINE = Path(__file__).resolve().parents[1] / "data" / "timeline"
WAGE = "How has the minimum wage in Valdoria changed?"
BRIDGE = "How has the cost of the Lusk harbour bridge changed?"


@pytest.fixture(autouse=True)
def extractive(monkeypatch: pytest.MonkeyPatch) -> None:
    # Timeline answers are built in code; the extractive backend keeps any other answer off the local model.
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_reports_only_what_was_added_since_cited_then_nothing_new(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "ingest", str(TIMELINE / "wage-2022.md"), str(TIMELINE / "bridge-2021.md"))[0] == 0
    code, out, err = run(capsys, "alerts", "add", WAGE)
    assert code == 0 and out.strip().isdigit() and "saved" in err
    wage = int(out)
    bridge = int(run(capsys, "alerts", "add", BRIDGE)[1])
    code, out, _ = run(capsys, "alerts", "check", "--json")  # nothing added since the alerts were made
    assert code == 0 and json.loads(out) == [{"id": wage, "question": WAGE, "events": []},
                                             {"id": bridge, "question": BRIDGE, "events": []}]

    run(capsys, "ingest", str(TIMELINE / "wage-2025.md"), str(TIMELINE / "rate-2025.md"))
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert [(a["id"], a["unread"], a["last_checked_at"] is not None) for a in json.loads(out)] == [
        (wage, 2, True), (bridge, 2, True)]
    code, out, _ = run(capsys, "alerts", "check", "--json")
    news = {n["id"]: n for n in json.loads(out)}
    assert news[wage]["question"] == WAGE and news[wage]["events"], news
    for event in news[wage]["events"]:
        assert set(event) == {"date", "event", "citations"} and event["citations"]
        for c in event["citations"]:
            assert set(c) == {"article_id", "title", "outlet", "published"}
            assert c["outlet"] == "Ardent Daily"  # the new wage article; the 2022 one was there before the alert
    assert any("12.82 euros" in e["event"] and e["date"].startswith("2025") for e in news[wage]["events"])
    assert news[bridge]["events"] == []  # the new articles do not speak of the bridge

    code, out, _ = run(capsys, "alerts", "list")
    assert code == 0 and "0 unread  last checked" in out and "2 alert(s)" in out
    code, out, _ = run(capsys, "alerts", "check")
    assert code == 0 and f"No news for alert {wage} since " in out and f"No news for alert {bridge} since " in out

    run(capsys, "ingest", str(TIMELINE / "bridge-2024.md"))
    code, out, _ = run(capsys, "alerts", "check")
    assert f"No news for alert {wage} since " in out
    assert f"Alert {bridge}: {BRIDGE}" in out and "(1 article(s) added)" in out and "Coastal Tribune" in out


def test_alert_commands_refuse_bad_input_with_exit_1(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run(capsys, "alerts", "add", "   ")
    assert code == 1 and "The question is empty" in err
    monkeypatch.setenv("NEWSDESK_API__MAX_QUESTION_CHARS", "100")
    code, _, err = run(capsys, "alerts", "add", "x" * 101)
    assert code == 1 and "the limit is 100" in err
    code, _, err = run(capsys, "alerts", "remove", "41")
    assert code == 1 and "No alert 41" in err
    code, out, _ = run(capsys, "alerts", "add", "Who runs the port?")
    code, out, _ = run(capsys, "alerts", "remove", out.strip())
    assert code == 0 and "removed alert" in out and "Who runs the port?" in out
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert json.loads(out) == []
    code, out, _ = run(capsys, "alerts", "check")
    assert code == 0 and "No alerts" in out


def test_watch_prints_the_alerts_news_after_each_poll(capsys: pytest.CaptureFixture[str], news_site: Any) -> None:
    feed = news_site.add("/feed.rss", rss_feed(news_site, [
        {"title": "Harbour", "link": news_site.url("/news/harbour")}]), "application/rss+xml")
    run(capsys, "feeds", "add", feed)
    alert = int(run(capsys, "alerts", "add", "How did the reopening of the harbour in Kiel unfold?")[1])
    code, out, _ = run(capsys, "watch", "--once")
    assert code == 0 and "Kiel Daily: 1 added" in out
    news = out[out.index(f"Alert {alert}:"):]
    assert "reopened on Tuesday" in news and "Harbour reopens after storm — Kieler Nachrichten" in news
    code, out, _ = run(capsys, "watch", "--once")
    assert "0 added" in out and f"No news for alert {alert} since " in out


def _hit(article_id: str, title: str) -> Hit:
    return Hit(Chunk(f"{article_id}:0", article_id, 0, 0, 10, "Some text."),
               ArticleMeta(title=title, outlet="dpa", published="2025-03-04"), 1.0, "fused")


def test_events_cite_their_articles_once_and_skip_the_before_line() -> None:
    a, b = _hit("a" * 32, "A"), _hit("b" * 32, "B")
    citations = (Citation(1, a, 0, 10, "Some text.", True), Citation(2, b, 0, 10, "Some text.", True),
                 Citation(3, a, 0, 10, "Some text.", True))  # [3] is another passage of article a
    timeline = (TimelineEvent("2024-01-01", "Where it stood.", (1,), before=True),
                TimelineEvent("2025-03-03", "It rose.", (1, 3, 2)),
                TimelineEvent("2025-03-04", "Nobody cites this.", (9,)))
    answer = Answer("q", "q", "text", False, "timeline", citations=citations, timeline=timeline)
    (event,) = news_events(answer)
    assert event.to_dict() == {"date": "2025-03-03", "event": "It rose.", "citations": [
        {"article_id": "a" * 32, "title": "A", "outlet": "dpa", "published": "2025-03-04"},
        {"article_id": "b" * 32, "title": "B", "outlet": "dpa", "published": "2025-03-04"}]}
    refused = Answer("q", "q", "The indexed articles do not say.", True, "timeline", citations=citations,
                     timeline=timeline)
    assert news_events(refused) == ()
    assert Alert(1, "local", "q", 0.0, 0.0).last_checked_at is None


@pytest.fixture
def client(isolated_env: Path) -> Iterator[TestClient]:
    from ui import http

    http.assistant.cache_clear()  # a cached Assistant of an earlier test points at another home
    with TestClient(http.app) as c:
        yield c


def _token(name: str, role: str) -> dict[str, str]:
    from index.db import catalogue_database
    from rag.settings import Settings
    from ui.accounts import TokenStore

    return {"Authorization": f"Bearer {TokenStore(catalogue_database(Settings().index)).add(name, role)}"}


def test_api_editors_create_and_each_user_sees_and_checks_their_own(client: TestClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import http

    http.assistant().add_paths([TIMELINE / "wage-2022.md"])
    erin, bob, alice = _token("erin", "editor"), _token("bob", "editor"), _token("alice", "reader")
    r = client.post("/alerts", headers=erin, json={"question": WAGE})
    assert r.status_code == 200, r.text
    alert = r.json()
    assert alert["question"] == WAGE and alert["unread"] == 0 and alert["last_checked_at"] is None
    assert client.post("/alerts", headers=alice, json={"question": WAGE}).status_code == 403  # readers do not create
    assert client.get("/alerts").status_code == 401 and client.get(f"/alerts/{alert['id']}/news").status_code == 401
    assert client.post("/alerts", headers=erin, json={"question": ""}).status_code == 422
    monkeypatch.setenv("NEWSDESK_API__MAX_QUESTION_CHARS", "100")
    too_long = client.post("/alerts", headers=erin, json={"question": "x" * 101})
    assert too_long.status_code == 422 and "the limit is 100" in too_long.json()["detail"]

    http.assistant().add_paths([TIMELINE / "wage-2025.md"])
    assert [(a["id"], a["unread"]) for a in client.get("/alerts", headers=erin).json()] == [(alert["id"], 1)]
    aid = alert["id"]
    assert client.get("/alerts", headers=bob).json() == [] and client.get("/alerts", headers=alice).json() == []
    for attempt in (client.get(f"/alerts/{aid}/news", headers=bob), client.delete(f"/alerts/{aid}", headers=bob),
                    client.get("/alerts/999/news", headers=erin)):
        assert attempt.status_code == 404 and "No alert" in attempt.json()["detail"]
    assert client.get("/alerts/x/news", headers=erin).status_code == 422

    news = client.get(f"/alerts/{aid}/news", headers=erin).json()
    assert news["id"] == aid and news["question"] == WAGE and news["events"]
    assert {c["outlet"] for e in news["events"] for c in e["citations"]} == {"Ardent Daily"}
    assert client.get(f"/alerts/{aid}/news", headers=erin).json()["events"] == []  # read now
    assert client.get("/alerts", headers=erin).json()[0]["unread"] == 0

    # Erin, a reader now (a revoked name gets a new token), still sees and checks her alert, but may not delete it.
    _revoke("erin")
    erin = _token("erin", "reader")
    assert [a["id"] for a in client.get("/alerts", headers=erin).json()] == [aid]
    assert client.get(f"/alerts/{aid}/news", headers=erin).status_code == 200
    assert client.delete(f"/alerts/{aid}", headers=erin).status_code == 403
    editor = _token("ed", "editor")
    assert client.delete(f"/alerts/{aid}", headers=editor).status_code == 404  # not ed's
    assert client.delete(f"/alerts/{aid}", headers=_token("root", "admin")).status_code == 404


def _revoke(name: str) -> None:
    from index.db import catalogue_database
    from rag.settings import Settings
    from ui.accounts import TokenStore

    TokenStore(catalogue_database(Settings().index)).revoke(name)


def test_without_tokens_the_api_and_the_cli_share_the_local_users_alerts(client: TestClient,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    made = client.post("/alerts", json={"question": WAGE}).json()
    code, out, _ = run(capsys, "alerts", "list", "--json")
    assert [a["id"] for a in json.loads(out)] == [made["id"]]
    assert client.delete(f"/alerts/{made['id']}").json() == {"deleted": made["id"]}
    assert json.loads(run(capsys, "alerts", "list", "--json")[1]) == []
