"""The one ask path (ui/asking.py) and the admission rules it applies (ui/admission.py): the same checks, in the
same order and words, whichever front end asks (the CLI, the app, /ask, /v1); saving a turn in one place."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from index.errors import InputError, NotFound
from rag.assistant import Assistant
from rag.types import Filters
from ui.accounts import LOCAL, Caller
from ui.admission import (
    FiltersRefused,
    QuestionRefused,
    TooManyQuestions,
    charge,
    check_question,
    question_problem,
    rate_key,
)
from ui.asking import Asker
from ui.conversations import ConversationStore
from ui.settings import ServingSettings as Settings  # the front ends' settings (with NEWSDESK_API__*)
from ui.stores import stores

ALICE = Caller("alice", "reader")
BIDEN = "Who met Biden on Monday?"


@pytest.mark.parametrize(("question", "problem"), [
    ("Who met?", None),
    ("", "The question is empty."),
    (" \n\t", "The question is empty."),
    ("x" * 10, None),
    ("x" * 11, "The question has 11 characters; the limit is 10 (NEWSDESK_API__MAX_QUESTION_CHARS)."),
])
def test_the_question_rule(question: str, problem: str | None) -> None:
    assert question_problem(question, 10) == problem
    if problem is None:
        check_question(question, 10)
    else:
        with pytest.raises(QuestionRefused, match=f"^{re.escape(problem)}$"):
            check_question(question, 10)


def test_whose_answers_are_counted_and_in_what_words(monkeypatch: pytest.MonkeyPatch) -> None:
    assert rate_key(ALICE, "10.0.0.7") == "token:alice"  # a token's holder, wherever they ask from
    assert rate_key(LOCAL, "10.0.0.7") == "addr:10.0.0.7"  # auth off: each client address
    assert issubclass(QuestionRefused, InputError) and issubclass(FiltersRefused, InputError)
    monkeypatch.setenv("NEWSDESK_API__ANSWERS_PER_MINUTE", "2")
    s = Settings()
    charge("token:alice", s)
    charge("token:alice", s)
    with pytest.raises(TooManyQuestions) as e:
        charge("token:alice", s)
    assert 1 <= e.value.retry_after <= 60
    assert str(e.value) == ("Too many questions: at most 2 answers a minute per caller "
                            f"(NEWSDESK_API__ANSWERS_PER_MINUTE). Try again in {e.value.retry_after} s.")
    charge("token:bob", s)  # another caller has their own minute


@pytest.fixture
def assistant(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> Assistant:
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    return Assistant.from_settings(Settings())


@pytest.fixture
def conversations(seeded: Path) -> ConversationStore:
    return stores(Settings().index).conversations


def test_a_question_not_let_through_costs_nothing(assistant: Assistant, conversations: ConversationStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_API__ANSWERS_PER_MINUTE", "1")
    made: list[Assistant] = []

    def make() -> Assistant:
        made.append(assistant)
        return assistant

    asker = Asker(make, Settings(), ALICE, rate_key(ALICE, "?"), conversations)
    with pytest.raises(QuestionRefused, match="empty"):
        asker.admit("  ")
    assert not made  # the rule is checked before the index is opened
    with pytest.raises(FiltersRefused, match="Unknown outlet 'Reuters'"):
        asker.admit(BIDEN, filters=Filters(outlets=("Reuters",)))
    with pytest.raises(NotFound, match="No conversation"):
        asker.admit(BIDEN, conversation_id="0123456789abcdef")
    bobs = conversations.create("bob").conversation_id
    with pytest.raises(NotFound, match="No conversation"):  # another user's reads as missing
        asker.admit(BIDEN, conversation_id=bobs)
    asker.admit(BIDEN)  # none of the refusals above was counted: the one answer a minute is still there
    with pytest.raises(TooManyQuestions):
        asker.admit(BIDEN)
    Asker(make, Settings()).admit(BIDEN)  # the CLI's asker counts nothing


def test_the_turn_is_saved_once_to_the_conversation(assistant: Assistant, conversations: ConversationStore) -> None:
    asker = Asker(lambda: assistant, Settings(), ALICE, None, conversations)
    conv = conversations.create("alice").conversation_id
    asking = asker.ask(BIDEN, conversation_id=conv)
    answer = asking.answer()
    assert asking.answer() is answer and asking.conversation_id == conv
    # Without `history`, the conversation's saved turns are the history.
    follow = asker.ask("What did they discuss?", conversation_id=conv).answer()
    assert follow.standalone_question == f"{BIDEN} What did they discuss?"
    saved = conversations.get(conv, owner="alice")
    assert [t.question for t in saved.history()] == [BIDEN, "What did they discuss?"] and saved.title == BIDEN
    # A conversation deleted between the question and its answer is not found (the API's 404)…
    asking = asker.ask(BIDEN, conversation_id=conv)
    conversations.delete(conv, owner="alice")
    with pytest.raises(NotFound):
        asking.answer()
    # …but in the app (new_if_missing) the answer starts a new conversation, as it does when none is open.
    asking = asker.ask(BIDEN, history=[], conversation_id=conv, new_if_missing=True)
    asking.answer()
    assert asking.conversation_id not in (None, conv)
    assert conversations.get(str(asking.conversation_id), owner="alice").title == BIDEN
    asker.ask(BIDEN).answer()  # no conversation named: nothing saved
    assert len(conversations.list("alice")) == 1


def test_the_chat_refuses_a_too_long_question_and_goes_on(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.chat_cli import run_chat

    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    monkeypatch.setenv("NEWSDESK_API__MAX_QUESTION_CHARS", "60")
    out = io.StringIO()
    assert run_chat(Assistant.from_settings(Settings()), io.StringIO(f"{'x' * 61}\n{BIDEN}\n/quit\n"), out,
                    stream=False) == 0
    text = out.getvalue()
    assert "error: The question has 61 characters; the limit is 60 (NEWSDESK_API__MAX_QUESTION_CHARS)." in text
    assert "Stoltenberg" in text.split("limit is 60", 1)[1]
