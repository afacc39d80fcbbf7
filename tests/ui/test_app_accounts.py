"""The Streamlit app with tokens (AppTest): sign-in first, readers cannot add articles, answers saved to the
user's conversation, a conversation reopened from the URL, another user's id opens nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from index.db import catalogue_database
from rag.settings import Settings
from tests.conftest import REPO
from ui.accounts import TokenStore
from ui.conversations import ConversationStore

APP = str(REPO / "ui" / "streamlit_app.py")


@pytest.fixture
def tokens(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    import streamlit as st

    st.cache_resource.clear()
    store = TokenStore(catalogue_database(Settings().index))
    return {name: store.add(name, role) for name, role in (("rita", "reader"), ("ed", "editor"))}


def conversations() -> ConversationStore:
    return ConversationStore(catalogue_database(Settings().index))


def open_app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def sign_in(at: AppTest, token: str) -> AppTest:
    at.text_input(key="sign_in_token").set_value(token)
    at.button[0].click().run()  # the form's submit
    assert not at.exception
    return at


def test_nothing_but_the_sign_in_form_until_a_valid_token(tokens: dict[str, str]) -> None:
    at = open_app()
    assert len(at.chat_input) == 0 and len(at.text_area) == 0 and not at.sidebar.children
    assert [t.label for t in at.text_input] == ["Access token"]
    sign_in(at, "nd_not-a-real-token")
    assert any("Unknown or revoked token" in e.value for e in at.error) and len(at.chat_input) == 0
    sign_in(at, tokens["rita"])
    assert len(at.chat_input) == 1
    assert any("Signed in as **rita** (reader)" in c.value for c in at.caption)


def test_readers_cannot_add_articles_editors_can(tokens: dict[str, str]) -> None:
    reader = sign_in(open_app(), tokens["rita"])
    assert len(reader.text_area) == 0 and not any(b.label == "Add article" for b in reader.button)
    editor = sign_in(open_app(), tokens["ed"])
    assert len(editor.text_area) == 1 and any(b.label == "Add article" for b in editor.button)


def test_answers_are_saved_and_reopened_from_the_url(tokens: dict[str, str]) -> None:
    at = sign_in(open_app(), tokens["rita"])
    at.chat_input[0].set_value("Who met Biden on Monday?").run()
    assert not at.exception
    (conv,) = conversations().list("rita")
    assert conv.title == "Who met Biden on Monday?" and conv.n_turns == 1
    assert at.query_params["c"] == conv.conversation_id
    assert any(b.label == "▶ Who met Biden on Monday?" for b in at.sidebar.button)
    at.chat_input[0].set_value("What did they discuss?").run()
    assert conversations().get(conv.conversation_id, owner="rita").n_turns == 2

    # A reload: a new session with the same URL. Signed in again, the conversation is back.
    again = sign_in(open_app({"c": conv.conversation_id}), tokens["rita"])
    shown = "\n".join(m.value for m in again.markdown)
    assert "Stoltenberg and Biden met on Monday" in shown
    assert [m.name for m in again.chat_message] == ["user", "assistant", "user", "assistant"]
    again.chat_input[0].set_value("Who met Biden on Monday?").run()
    assert conversations().get(conv.conversation_id, owner="rita").n_turns == 3  # it continues the same one

    # "New conversation" starts afresh; the old one is still listed.
    again.button(key="new_conversation").click().run()
    assert len(again.chat_message) == 0 and "c" not in again.query_params


def test_another_users_conversation_id_opens_nothing(tokens: dict[str, str]) -> None:
    from rag.types import Turn
    from tests.ui.test_conversations import make_answer

    theirs = conversations().create("ed", "Ed's secret research")
    conversations().add_turn(theirs.conversation_id, Turn("Ed's question", make_answer("Ed's question")), owner="ed")
    at = sign_in(open_app({"c": theirs.conversation_id}), tokens["rita"])
    assert len(at.chat_message) == 0
    assert not any("Ed's" in b.label for b in at.button)
    assert "c" not in at.query_params


def test_a_revoked_token_signs_the_session_out(tokens: dict[str, str]) -> None:
    at = sign_in(open_app(), tokens["rita"])
    TokenStore(catalogue_database(Settings().index)).revoke("rita")
    at.run()
    assert len(at.chat_input) == 0 and any("revoked" in w.value for w in at.warning)
