"""Retrieval over a real index: the recency prior follows the question's date, and a named time turns it off."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.mentions import names_a_time, recent_window
from rag.settings import Settings

# Two near-twin articles a season apart: only the question's date can tell which one "this week" means.
FESTIVALS = [
    ("Millions of Hindus celebrated the festival of Holi this week in the streets.",
     {"title": "Festival week", "outlet": "Wire", "published": "2023-03-08"}),
    ("Millions of Hindus celebrated the festival of Diwali this week in the streets.",
     {"title": "Festival week", "outlet": "Wire", "published": "2022-10-24"}),
    ("The central bank left interest rates unchanged on Thursday, citing slowing inflation.",
     {"title": "Rates on hold", "outlet": "Wire", "published": "2023-03-09"}),
]
QUESTION = "Which festival did millions of Hindus celebrate this week?"


@pytest.fixture
def assistant(isolated_env: Path) -> Assistant:
    a = Assistant.from_settings(Settings())
    for text, meta in FESTIVALS:
        assert a.add_text(text, meta).count("added") == 1
    return a


def _first(a: Assistant, question: str, as_of: date | None) -> str:
    return a.retrieve(question, 3, as_of).hits[0].chunk.text


def test_this_week_means_the_week_of_the_question(assistant: Assistant) -> None:
    assert "Holi" in _first(assistant, QUESTION, date(2023, 3, 10))
    assert "Diwali" in _first(assistant, QUESTION, date(2022, 10, 27))


def test_a_question_that_names_its_time_gets_no_recency_prior(assistant: Assistant) -> None:
    question = "Which festival did millions of Hindus celebrate in 2023?"
    spring = [h.chunk.chunk_id for h in assistant.retrieve(question, 3, date(2023, 3, 10)).hits]
    autumn = [h.chunk.chunk_id for h in assistant.retrieve(question, 3, date(2022, 10, 27)).hits]
    assert spring == autumn


def test_date_priors_off_in_settings_ignore_the_date(isolated_env: Path) -> None:
    # "this week" is also a time in the question (time_boost), so both priors are turned off.
    a = Assistant.from_settings(Settings(retrieval={"recency_boost": 0, "time_boost": 0}))
    for text, meta in FESTIVALS:
        a.add_text(text, meta)
    assert _first(a, QUESTION, date(2023, 3, 10)) == _first(a, QUESTION, date(2022, 10, 27))


def test_window_and_named_times() -> None:
    assert recent_window(date(2023, 3, 9), 7) == ("2023-03-03", "2023-03-09")
    assert recent_window(date(2024, 3, 1), 2) == ("2024-02-29", "2024-03-01")
    assert names_a_time("What happened on November 1, 2023?") and names_a_time("Who won in 2020?")
    assert not names_a_time("Who won this week?") and not names_a_time("How many of the 1500 runners finished?")


# A fresh interpreter that loads the embedder and the cross-encoder: ~10 s of 2 cores, so `make test` only.
@pytest.mark.slow
def test_cli_ask_as_of(assistant: Assistant) -> None:
    cli = [sys.executable, "-m", "ui.cli", "ask", QUESTION, "--backend", "extractive", "--json"]
    out = subprocess.run([*cli, "--as-of", "2022-10-27"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Diwali" in json.loads(out.stdout)["citations"][0]["quote"]
    bad = subprocess.run([*cli, "--as-of", "27/10/2022"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
