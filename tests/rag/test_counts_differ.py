"""A count question compares counts of what it asks about: "How many US states …?" lists 31 and 34 states, never
"within 30 days" or a fine in dollars (RealTime QA: a right "31" was scored wrong because the box beside it listed
30 days and $10,000).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.conflicts import counted, counts_it
from rag.settings import Settings
from rag.values import extract_values

ARTICLES = {
    "states-jan.md": ("Most US states now restrict TikTok on official phones", "Capitol Wire", "2023-01-19",
                      "A total of 31 states have restricted TikTok on government devices, the survey found. "
                      "Governors of both parties cited security concerns about the app."),
    "federal-mar.md": ("Federal agencies told to remove TikTok from official phones", "Capitol Wire", "2023-03-02",
                       "Federal officials were instructed to remove TikTok from their government devices within 30 "
                       "days. Agencies that miss the deadline face fines of $10,000 per day."),
    "states-may.md": ("More states restrict TikTok on government devices", "Plains Ledger", "2023-05-18",
                      "By May, 34 states had restricted TikTok on government devices, three more than in January. "
                      "Several legislatures are now debating a wider ban."),
}
QUESTION = "How many US states have restricted TikTok on government devices?"


def _write(folder: Path, names: list[str]) -> Path:
    folder.mkdir()
    for name in names:
        title, outlet, day, text = ARTICLES[name]
        folder.joinpath(name).write_text(f"---\ntitle: {title}\noutlet: {outlet}\npublished: {day}\n---\n{text}\n")
    return folder


@pytest.mark.parametrize("question, words", [
    (QUESTION, {"us", "state"}),
    ("How many people died in the floods?", {"people", "died"}),
    ("What is NATO's defence spending target?", set()),
    ("What is the death toll of the floods?", set()),  # a count, but it does not say of what: every number
])
def test_what_a_question_counts(question: str, words: set[str]) -> None:
    assert counted(question) == words


@pytest.mark.parametrize("sentence, counts", [
    ("A total of 31 states have restricted TikTok on government devices.", True),
    ("Montana became the first of 50 US states to ban the app.", True),
    ("Officials in 12 U.S. states said so.", True),
    ("Officials were told to remove TikTok from their government devices within 30 days.", False),
    ("31 governors, not states, signed the letter.", False),
])
def test_a_number_counts_what_follows_it(sentence: str, counts: bool) -> None:
    number = next(v for v in extract_values(sentence) if v.kind == "number")
    assert counts_it(sentence, number, counted(QUESTION)) is counts


def _assistant(tmp_path: Path, names: list[str]) -> Assistant:
    a = Assistant.from_settings(Settings(home=tmp_path / "home", llm={"backend": "extractive"}))
    report = a.add_paths([_write(tmp_path / "articles", names)])
    assert report.count("added") == len(names), report.summary()
    return a


def test_counts_of_the_thing_asked_that_differ_are_listed_and_nothing_else(tmp_path: Path) -> None:
    answer = _assistant(tmp_path, list(ARTICLES)).ask(QUESTION)
    listed = {(d.value, d.hit.meta.published) for d in answer.sources_differ}
    assert listed == {("31", "2023-01-19"), ("34", "2023-05-18")}, listed
    assert "30 days" not in answer.reply and "$10,000" not in answer.reply


def test_other_numbers_around_one_count_are_no_disagreement(tmp_path: Path) -> None:
    answer = _assistant(tmp_path, ["states-jan.md", "federal-mar.md"]).ask(QUESTION)
    assert not answer.refused and "31" in answer.text
    assert answer.sources_differ == (), [(d.value, d.quote) for d in answer.sources_differ]
