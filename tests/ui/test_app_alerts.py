"""The app's Alerts panel (AppTest) over a real index: add an alert, unread counts as articles arrive, check one
(its news, cited; read after), remove it; with tokens, readers see and check only their own and cannot add or
remove."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from index.db import catalogue_database
from index.news_index import NewsIndex
from index.sources import sources_from_paths
from rag.settings import Settings
from tests.conftest import REPO
from ui.accounts import TokenStore

APP = str(REPO / "ui" / "streamlit_app.py")
TIMELINE = Path(__file__).resolve().parents[1] / "data" / "timeline"
WAGE = "How has the minimum wage in Valdoria changed?"


@pytest.fixture(autouse=True)
def home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    import streamlit as st

    st.cache_resource.clear()  # the cached Assistant of an earlier test points at another home
    ingest("wage-2022.md")
    return isolated_env


def ingest(*names: str) -> None:
    report = NewsIndex(Settings().index).ingest(sources_from_paths([TIMELINE / n for n in names]))
    assert report.count("added") == len(names)


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def panel(at: AppTest) -> tuple[str, str]:
    """The Alerts expander's label and its text."""
    (box,) = [e for e in at.sidebar.expander if e.label.startswith("Alerts")]
    return box.label, "\n".join(m.value for m in box.markdown)


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.sidebar.button if b.label == label).click().run()
    assert not at.exception
    return at


def test_add_check_and_remove_an_alert() -> None:
    at = open_app()
    assert panel(at)[0] == "Alerts"
    at.text_input(key="alert_question").set_value("   ")
    click(at, "Add alert")
    assert any("The question is empty" in e.value for e in at.sidebar.error)
    at.text_input(key="alert_question").set_value(WAGE)
    click(at, "Add alert")
    label, text = panel(at)
    assert label == "Alerts (0 unread)" and WAGE in text and "0 unread" in text

    ingest("wage-2025.md", "rate-2025.md")
    at.run()
    assert panel(at)[0] == "Alerts (2 unread)"
    click(at, "Check")
    label, text = panel(at)
    assert label == "Alerts (0 unread)" and "12.82 euros" in text and "Ardent Daily" in text, text
    assert "Valdoria Courier" not in text  # there before the alert was made
    click(at, "Check")
    assert "No news for alert" in panel(at)[1]
    click(at, "Remove")
    label, text = panel(at)
    assert label == "Alerts" and WAGE not in text
    from index.alert_store import AlertStore

    assert AlertStore(catalogue_database(Settings().index)).list("local") == []


def test_with_tokens_readers_see_and_check_only_their_own() -> None:
    from index.alert_store import AlertStore

    tokens = TokenStore(catalogue_database(Settings().index))
    rita = tokens.add("rita", "reader")
    tokens.add("ed", "editor")
    store = AlertStore(catalogue_database(Settings().index))
    store.add("rita", WAGE)
    store.add("ed", "What did the central bank of Kestria decide?")
    ingest("wage-2025.md")
    at = open_app()
    at.text_input(key="sign_in_token").set_value(rita)
    at.button[0].click().run()
    label, text = panel(at)
    assert label == "Alerts (1 unread)" and WAGE in text and "Kestria" not in text
    assert [b.label for b in at.sidebar.button if b.label in ("Remove", "Add alert")] == []  # readers do not edit
    click(at, "Check")
    assert "12.82 euros" in panel(at)[1] and panel(at)[0] == "Alerts (0 unread)"
