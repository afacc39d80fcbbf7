"""Signing in, a saved conversation resumed after a reload, and its Markdown export downloaded: the real app in
headless Chromium (Debian's chromium, driven by Playwright) against `newsdesk ui` with tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import launch_browser, streamlit_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def app(seeded: Path) -> Iterator[tuple[str, str]]:
    from index.db import catalogue_database
    from rag.settings import Settings
    from ui.accounts import TokenStore

    token = TokenStore(catalogue_database(Settings().index)).add("rita", "reader")
    with streamlit_app() as url:
        yield url, token


def _sign_in(page, token: str) -> None:  # type: ignore[no-untyped-def]
    box = page.get_by_label("Access token", exact=True).and_(page.locator("input"))
    box.wait_for(timeout=120_000)
    box.fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("Ask about the news").wait_for(timeout=120_000)


def _scenario(page, url: str, token: str, artifacts: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.get_by_label("Access token", exact=True).and_(page.locator("input")).wait_for(timeout=120_000)
    assert page.get_by_placeholder("Ask about the news").count() == 0  # nothing before signing in
    page.screenshot(path=str(artifacts / "sign-in.png"), full_page=True)
    _sign_in(page, token)
    assert page.get_by_text("Add uploaded files").count() == 0 and page.get_by_text("Add article").count() == 0

    box = page.get_by_placeholder("Ask about the news")
    box.fill("Who met Biden on Monday?")
    box.press("Enter")
    page.locator("[data-testid='stChatMessage']", has_text="Stoltenberg and Biden met on Monday").first.wait_for(
        timeout=120_000)
    page.wait_for_url("**/?c=*", timeout=30_000)  # the open conversation is in the URL
    conversation_url = page.url

    page.reload()  # a new session: sign in again, and the conversation is back
    _sign_in(page, token)
    assert page.url == conversation_url
    page.locator("[data-testid='stChatMessage']", has_text="Stoltenberg and Biden met on Monday").first.wait_for(
        timeout=60_000)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("button", name="▶ Who met Biden on Monday?").wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "conversation-resumed.png"), full_page=True)

    sidebar.get_by_text("This conversation").click()
    with page.expect_download(timeout=30_000) as download:
        sidebar.get_by_role("button", name="Download as Markdown").click()
    download.value.save_as(artifacts / "conversation-export.md")
    return str(download.value.suggested_filename), conversation_url


def test_sign_in_resume_after_reload_and_download_markdown(app: tuple[str, str], artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, token = app
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        try:
            filename, conversation_url = _scenario(page, url, token, artifacts)
        except Exception:
            page.screenshot(path=str(artifacts / "accounts-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    md = (artifacts / "conversation-export.md").read_text(encoding="utf-8")
    assert filename == f"newsdesk-{conversation_url.split('c=')[1]}.md"
    assert md.startswith("# Who met Biden on Monday?\n")
    assert "## 1. Who met Biden on Monday?" in md and "[1]" in md
    assert "**Stoltenberg: Biden, like Trump, will insist on higher defence spending by European allies** — dpa, " \
           "2020-11-24" in md
    assert "  > Stoltenberg and Biden met on Monday for the first time" in md
