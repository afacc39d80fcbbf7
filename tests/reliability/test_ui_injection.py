"""Guarantee 6, no HTML injection in the UI: hostile articles (script, img onerror, iframe, javascript:
links, hostile titles and outlets) are shown as literal text. Checked through AppTest (no raw HTML in
any HTML-enabled element) and in headless Chromium against `streamlit run` (no dialog, no global set)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO, launch_browser, streamlit_app

APP = str(REPO / "ui" / "streamlit_app.py")
QUESTION = "What did the council approve for the harbour budget on Friday?"
HOSTILE = [
    ("script-and-img.txt", "The council approved the harbour budget on Friday. <script>window.__pwned = 1; "
                           "alert('script')</script> <img src=x onerror=\"window.__pwned = 2; alert('img')\"> "
                           "The vote was unanimous."),
    ("hostile-title.md", "---\ntitle: <img src=x onerror=\"window.__pwned = 3\"> Council budget\n"
                         "outlet: <script>window.__pwned = 4</script>\nurl: javascript:window.__pwned = 5\n---\n"
                         "The council approved the harbour budget on Friday evening after a long debate."),
    ("links.md", "The council approved the harbour budget on Friday, see [the minutes](javascript:window.__pwned=6) "
                 "and <a href=\"javascript:window.__pwned=7\">the vote</a> and "
                 "<iframe src=\"javascript:window.__pwned=8\"></iframe> for details."),
    ("escaped.html", "<html><body><p>The council approved the harbour budget on Friday morning. "
                     "&lt;script&gt;window.__pwned = 9&lt;/script&gt; was printed in the minutes.</p></body></html>"),
]


@pytest.fixture
def hostile_home(seeded: Path, tmp_path: Path) -> Path:
    from index.news_index import NewsIndex
    from index.sources import sources_from_paths
    from rag.settings import Settings

    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, text in HOSTILE:
        (folder / name).write_text(text)
    report = NewsIndex(Settings().index).ingest(sources_from_paths([folder]))
    assert report.count("added") == len(HOSTILE), report
    return seeded


def test_apptest_renders_no_raw_html_from_articles(hostile_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    st.cache_resource.clear()
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.chat_input[0].set_value(QUESTION).run()
    assert not at.exception
    html_blocks = [m.value for m in at.markdown if m.proto.allow_html]
    assert html_blocks, "expected the highlighted article (the one HTML-enabled element)"
    for block in html_blocks:
        for tag in ("<script", "<img", "<iframe", "<a ", "javascript:window"):
            assert tag not in block.replace("<mark>", ""), block[:300]
    plain = [m.value for m in at.markdown if not m.proto.allow_html]
    bad = [m for m in plain if re.search(r"(?<!\\)\]\(\s*javascript:", m)]
    assert not bad, bad  # "[text](javascript:…)" in an article never becomes a markdown link: "]" is escaped
    labels = " ".join(e.label for e in at.expander)
    assert "<img" not in labels or "\\<img" in labels
    st.cache_resource.clear()


@pytest.fixture
def app_url(hostile_home: Path) -> Iterator[str]:
    with streamlit_app() as url:
        yield url


@pytest.mark.e2e
def test_no_script_runs_in_a_real_browser(app_url: str, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    shown: list[str] = []
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        # One question per hostile article (each in a fresh session), so each is cited and its source opened.
        questions = [QUESTION, "Was the vote unanimous?", "Where can readers find the minutes of the vote?"]
        for n, question in enumerate(questions):
            page.goto(app_url)
            box = page.get_by_placeholder("Ask about the news")
            box.wait_for(timeout=120_000)
            box.fill(question)
            box.press("Enter")
            # The sidebar has one expander; the answer adds one per cited source.
            page.wait_for_function("document.querySelectorAll(\"[data-testid='stExpander']\").length >= 2",
                                   timeout=120_000)
            page.wait_for_timeout(1000)
            for summary in page.locator("[data-testid='stExpander'] summary").all():
                summary.click()  # open every source, and the sidebar's list of articles
            page.wait_for_timeout(1000)
            for link in page.locator("a[href^='javascript']").all():
                link.click()  # there should be none; if there were, this is what a reader would do
            page.screenshot(path=str(artifacts / f"reliability-xss-{n}.png"), full_page=True)
            assert page.evaluate("window.__pwned") is None, question
            assert page.locator("iframe[src^='javascript']").count() == 0
            shown.append(page.locator("[data-testid='stMain']").inner_text() if page.locator(
                "[data-testid='stMain']").count() else page.inner_text("body"))
        assert dialogs == []
        text = "\n".join(shown)
        for literal in ("<script>", "onerror=", "the minutes](javascript:", "<iframe"):
            assert literal in text, literal  # shown as literal text, not run
        browser.close()
