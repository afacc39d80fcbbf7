"""The HTTP API: the same Assistant behind FastAPI, errors mapped to status codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    from ui import http

    http.assistant.cache_clear()  # a cached Assistant of an earlier test points at another home
    return TestClient(http.app)


def test_ask_returns_the_answer_contract(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "Who met Biden on Monday?"})
    assert r.status_code == 200
    body = r.json()
    assert not body["refused"] and body["backend"] == "extractive"
    assert any("Stoltenberg and Biden met on Monday" in c["quote"] for c in body["citations"])


def test_articles_add_list_remove(client: TestClient) -> None:
    assert len(client.get("/articles").json()) == 2
    r = client.post("/articles", json={"text": "The harbour in Kiel reopened on Tuesday after a storm closed it.",
                                       "title": "Kiel harbour", "published": "2024-03-05"})
    assert r.status_code == 200 and r.json()["added"] == 1
    aid = r.json()["items"][0]["article_id"]
    assert len(client.get("/articles").json()) == 3
    assert client.delete(f"/articles/{aid}").status_code == 200
    assert client.delete(f"/articles/{aid}").status_code == 404


def test_bad_article_is_400_with_the_reason(client: TestClient) -> None:
    r = client.post("/articles", json={"text": "short", "title": "x"})
    assert r.status_code == 400 and "nothing to index" in r.json()["detail"]
    r = client.post("/articles", json={"text": "A long enough text about the harbour in Kiel reopening.",
                                       "published": "yesterday"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["detail"]


def test_ask_as_of_picks_that_weeks_article(client: TestClient) -> None:
    from tests.rag.test_retrieve import FESTIVALS, QUESTION

    for text, meta in FESTIVALS:
        assert client.post("/articles", json={"text": text, **meta}).status_code == 200
    for day, festival in (("2023-03-10", "Holi"), ("2022-10-27", "Diwali")):
        r = client.post("/ask", json={"question": QUESTION, "as_of": day})
        assert r.status_code == 200
        assert festival in r.json()["citations"][0]["quote"]
    r = client.post("/ask", json={"question": QUESTION, "as_of": "last week"})
    assert r.status_code == 422 and "as_of" in r.text


def test_ask_with_filters_and_bad_filters(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "What is the NATO spending target?", "since": "2025-01-01"})
    assert r.status_code == 200
    body = r.json()
    assert body["filters"] == {"since": "2025-01-01", "until": None, "outlets": []}
    assert {c["outlet"] for c in body["citations"]} == {"The Washington Post"}
    r = client.post("/ask", json={"question": "What share of GDP must NATO allies spend on defence?",
                                  "outlets": ["DPA"]})
    assert r.status_code == 200 and {c["outlet"] for c in r.json()["citations"]} == {"dpa"}
    for bad, words in (({"since": "2025-01-01", "until": "2024-01-01"}, "is after"),
                       ({"outlets": ["Reuters"]}, "Unknown outlet"), ({"since": "soon"}, "since")):
        r = client.post("/ask", json={"question": "What is the NATO spending target?", **bad})
        assert r.status_code == 422 and words in r.text, (bad, r.text)
def test_add_article_by_url(client: TestClient, news_site: Any) -> None:
    r = client.post("/articles", json={"url": news_site.url("/moved")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 1 and body["items"][0]["title"] == "Harbour reopens after storm"
    assert client.post("/articles", json={"url": news_site.url("/news/harbour")}).json()["unchanged"] == 1
    row = next(a for a in client.get("/articles").json() if a["title"] == "Harbour reopens after storm")
    assert row["url"] == news_site.url("/news/harbour") and row["outlet"] == "Kieler Nachrichten"


@pytest.mark.parametrize(("url", "rule"), [
    ("http://169.254.169.254/latest/meta-data/", "rule: no link-local addresses"),
    ("file:///etc/passwd", "rule: only http and https URLs"),
])
def test_refused_url_is_400_with_the_rule(client: TestClient, url: str, rule: str) -> None:
    r = client.post("/articles", json={"url": url})
    assert r.status_code == 400 and rule in r.json()["detail"]


def test_article_needs_text_or_url(client: TestClient) -> None:
    r = client.post("/articles", json={"title": "Nothing else"})
    assert r.status_code == 422 and "url" in r.text
