"""The real app in headless Chromium (Debian's chromium, driven by Playwright) against `streamlit run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import launch_browser, streamlit_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_url(seeded: Path) -> Iterator[str]:
    from index.news_index import NewsIndex
    from index.sources import Source
    from rag.settings import Settings

    # An article that tries to run script in the reader's browser.
    NewsIndex(Settings().index).ingest([Source("xss", text=(
        "The council met on Friday to approve the harbour budget. <script>window.__pwned = 1; alert('x')</script> "
        "<img src=x onerror=\"window.__pwned = 2; alert('y')\"> The vote was unanimous."))])
    with streamlit_app() as url:
        yield url


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_placeholder("Ask about the news")
    box.fill(question)
    box.press("Enter")


def test_chat_in_a_real_browser(app_url: str, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url)
        page.get_by_placeholder("Ask about the news").wait_for(timeout=120_000)
        _ask(page, "Who met Biden on Monday?")
        page.locator("[data-testid='stChatMessage']", has_text="Stoltenberg and Biden met on Monday").first.wait_for(
            timeout=120_000)
        page.get_by_text("[1]").first.wait_for()
        page.locator("[data-testid='stExpander'] summary", has_text="dpa").first.click()
        page.locator("mark").first.wait_for(timeout=30_000)
        assert "Stoltenberg and Biden met on Monday" in page.locator("mark").first.inner_text()
        page.screenshot(path=str(artifacts / "chat.png"), full_page=True)

        _ask(page, "What did the council approve on Friday?")
        page.locator("[data-testid='stChatMessage']", has_text="harbour budget").first.wait_for(timeout=120_000)
        expanders = page.locator("[data-testid='stChatMessage'] [data-testid='stExpander'] summary")
        expanders.filter(has_text="council").last.click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / "xss.png"), full_page=True)
        assert page.evaluate("window.__pwned") is None
        assert dialogs == []
        assert page.get_by_text("<script>", exact=False).count() >= 1  # shown as literal text

        # Upload a file from the sidebar; it is searchable at once.
        upload = artifacts / "ghent.md"
        upload.write_text("# Ghent opens bicycle bridge\n\nThe city of Ghent opened a new bicycle bridge over the "
                          "Leie river on Saturday, the mayor announced.\n")
        page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(upload))
        page.get_by_role("button", name="Add uploaded files").click()
        page.get_by_text("Added: Ghent opens bicycle bridge").wait_for(timeout=60_000)
        _ask(page, "What did Ghent open over the Leie river?")
        page.locator("[data-testid='stChatMessage']", has_text="bicycle bridge over the").first.wait_for(
            timeout=120_000)
        page.screenshot(path=str(artifacts / "upload.png"), full_page=True)
        browser.close()


@pytest.fixture
def timeline_url(seeded: Path) -> Iterator[str]:
    from index.news_index import NewsIndex
    from index.sources import sources_from_paths
    from rag.settings import Settings
    from tests.rag.test_time_and_conflicts import TIMELINE

    NewsIndex(Settings().index).ingest(sources_from_paths([TIMELINE]))
    with streamlit_app() as url:
        yield url


def test_sources_differ_filters_and_a_follow_up_in_a_real_browser(timeline_url: str, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(timeline_url)
        page.get_by_placeholder("Ask about the news").wait_for(timeout=120_000)
        _ask(page, "What is the minimum wage in Valdoria?")
        page.get_by_text("Sources differ", exact=False).first.wait_for(timeout=120_000)
        page.locator("[data-testid='stExpander'] summary", has_text="9.82 euros").first.click()
        page.locator("mark", has_text="9.82 euros").first.wait_for(timeout=30_000)
        page.screenshot(path=str(artifacts / "sources-differ.png"), full_page=True)

        _ask(page, "and in 2022?")
        page.get_by_text("What is the minimum wage in Valdoria in 2022?", exact=False).first.wait_for(
            timeout=120_000)
        page.screenshot(path=str(artifacts / "follow-up-year.png"), full_page=True)

        outlets = page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Outlets")
        outlets.click()
        outlets.fill("Ardent")
        page.get_by_role("option", name="Ardent Daily").first.click()
        page.keyboard.press("Escape")
        _ask(page, "What is the Valdoria minimum wage now?")
        last = page.locator("[data-testid='stChatMessage']").last
        last.get_by_text("Filters: outlets: Ardent Daily", exact=False).wait_for(timeout=120_000)
        assert "12.82" in last.inner_text() and "9.82" not in last.inner_text()
        page.screenshot(path=str(artifacts / "filters.png"), full_page=True)
        browser.close()
