"""Dated, conflict-aware answers: sources that disagree over time, the time in a question, filters, follow-ups.

Article pairs of our own (tests/data/timeline) disagree over time on three topics; the extractive backend makes
these fast and shows the behaviour is in code, not in the model (tests/rag/test_answers.py has the same with the
embedded model).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from index.errors import InputError
from rag.assistant import Assistant
from rag.conflicts import asks_for_amount
from rag.retrieve import HybridRetriever
from rag.settings import Settings
from rag.types import Answer, Filters, Turn
from tests.conftest import CORPUS

TIMELINE = Path(__file__).resolve().parents[1] / "data" / "timeline"
TOPICS = [  # question, (older value, day, outlet), (newer value, day, outlet)
    ("What is the minimum wage in Valdoria?", ("9.82 euros", "4 Jan 2022", "Valdoria Courier"),
     ("12.82 euros", "2 Jan 2025", "Ardent Daily")),
    ("What is the key interest rate of the Central Bank of Kestria?",
     ("4.5%", "14 Sep 2023", "Kestria Financial Times"), ("3.25%", "12 Jun 2025", "Kestria Herald")),
    ("How much will the Lusk harbour bridge cost?", ("240 million euros", "20 May 2021", "Lusk Observer"),
     ("410 million euros", "8 Mar 2024", "Coastal Tribune")),
]


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    home = tmp_path_factory.mktemp("timeline")
    a = Assistant.from_settings(Settings(home=home, llm={"backend": "extractive"}))
    report = a.add_paths([TIMELINE, CORPUS])
    assert report.count("added") == 8, report.summary()
    return a


def _outlets(answer: Answer) -> set[str]:
    return {c.hit.meta.outlet for c in answer.citations}


@pytest.mark.parametrize("question, older, newer", TOPICS)
def test_sources_that_disagree_over_time_give_both_values_with_dates(assistant: Assistant, question: str,
                                                                      older: tuple[str, str, str],
                                                                      newer: tuple[str, str, str]) -> None:
    answer = assistant.ask(question)
    assert not answer.refused
    values = [(d.value, d.hit.meta.outlet) for d in answer.sources_differ]
    assert (older[0], older[2]) in values and (newer[0], newer[2]) in values, values
    # A question about now: the newest value first.
    assert answer.sources_differ[0].hit.meta.outlet == newer[2]
    for value, day, outlet in (older, newer):
        assert value in answer.reply and day in answer.reply and outlet in answer.reply, answer.reply
    assert {older[2], newer[2]} <= _outlets(answer)  # both articles cited
    for d in answer.sources_differ:  # each quote is the article's own words, where the UI highlights it
        article = assistant.article(d.hit.chunk.article_id).article
        assert article.text[d.start:d.end] == d.quote and d.value in d.quote
    listed = answer.to_dict()["sources_differ"]
    assert {row["n"] for row in listed} <= {c["n"] for c in answer.to_dict()["citations"]}


def test_the_seed_nato_question_gives_2_and_5_percent_with_dates(assistant: Assistant) -> None:
    answer = assistant.ask("What defence-spending target do NATO allies have, and what does Trump want?")
    dated = {(d.value, d.hit.meta.published) for d in answer.sources_differ}
    assert ("2%", "2020-11-24") in dated and ("5%", "2025-02-12") in dated, dated
    assert {"dpa", "The Washington Post"} <= _outlets(answer)
    assert "24 Nov 2020" in answer.reply and "12 Feb 2025" in answer.reply
    assert "Source:" not in " ".join(c.quote for c in answer.citations)


def test_agreeing_sources_are_not_called_different(assistant: Assistant) -> None:
    answer = assistant.ask("Who met Biden on Monday?")
    assert answer.sources_differ == () and "Sources differ" not in answer.reply


def test_a_question_about_a_past_year_reads_that_year_first(assistant: Assistant) -> None:
    answer = assistant.ask("What was Valdoria's minimum wage in 2022?")
    assert answer.time_range is not None and answer.time_range.phrase == "in 2022"
    assert answer.citations[0].hit.meta.published == "2022-01-04"
    assert "9.82 euros" in answer.text  # the answer itself, before any timeline
    if answer.sources_differ:  # a past question's timeline runs oldest first
        assert answer.sources_differ[0].hit.meta.published == "2022-01-04"


def test_articles_published_before_the_time_asked_about_do_not_answer_it(assistant: Assistant) -> None:
    answer = assistant.ask("What was Valdoria's minimum wage in 2025?")
    assert answer.citations[0].hit.meta.outlet == "Ardent Daily" and answer.sources_differ == ()
    assert "12.82 euros" in answer.text.split(" [")[0]
    assert answer.to_dict()["time_range"] == {"since": "2025-01-01", "until": "2025-12-31", "phrase": "in 2025",
                                              "strict": True}


def test_a_follow_up_with_a_new_year_keeps_the_topic(assistant: Assistant) -> None:
    first = assistant.ask("What is the minimum wage in Valdoria?")
    follow = assistant.ask("and in 2022?", history=[Turn("What is the minimum wage in Valdoria?", first)])
    assert follow.standalone_question == "What is the minimum wage in Valdoria in 2022?"
    assert follow.time_range is not None and follow.time_range.since == date(2022, 1, 1)
    assert follow.citations[0].hit.meta.outlet == "Valdoria Courier"


def test_who_said_that_refers_to_the_last_answer(assistant: Assistant) -> None:
    first = assistant.ask("When did Kestria's central bank raise its key rate to 4.5%?")
    follow = assistant.ask("Who said that?", history=[Turn("When did …?", first)])
    assert "4.5%" in follow.standalone_question
    assert not follow.refused and "Kestria Financial Times" in _outlets(follow)


def test_filters_are_hard(assistant: Assistant) -> None:
    since = assistant.check_filters(Filters(since=date(2024, 1, 1)))
    answer = assistant.ask("What is the minimum wage in Valdoria?", filters=since)
    assert _outlets(answer) == {"Ardent Daily"} and answer.sources_differ == ()
    assert answer.to_dict()["filters"] == {"since": "2024-01-01", "until": None, "outlets": []}
    by_outlet = assistant.check_filters(Filters(outlets=("lusk observer",)))  # matched to the index's spelling
    answer = assistant.ask("How much will the Lusk harbour bridge cost?", filters=by_outlet)
    assert _outlets(answer) == {"Lusk Observer"} and "410" not in answer.text
    nothing = assistant.ask("How much will the Lusk harbour bridge cost?",
                            filters=Filters(since=date(2030, 1, 1)))
    assert nothing.refused and "filters leave no articles" in nothing.text and not nothing.citations


def test_chosen_articles_are_a_hard_filter_on_both_sides(assistant: Assistant) -> None:
    ids = {r.article.meta.outlet: r.article.article_id for r in assistant.articles()}
    courier = Filters(article_ids=(ids["Valdoria Courier"],))
    # Both wage articles match these words, on the dense side and in BM25: only the chosen one may come back.
    for mode in ("hybrid", "bm25", "dense"):
        retriever = HybridRetriever(assistant.index, assistant.settings.retrieval.model_copy(update={"mode": mode}))
        hits = retriever.retrieve("Valdoria minimum wage euros", 10, filters=courier).hits
        assert hits and {h.chunk.article_id for h in hits} == {ids["Valdoria Courier"]}, mode
    answer = assistant.ask("What is the minimum wage in Valdoria?", filters=courier)
    assert _outlets(answer) == {"Valdoria Courier"} and answer.sources_differ == ()
    assert answer.to_dict()["filters"]["article_ids"] == [ids["Valdoria Courier"]]
    # With a date that leaves the chosen article out, or ids of no indexed article: nothing is in scope.
    for nothing in (Filters(since=date(2024, 1, 1), article_ids=(ids["Valdoria Courier"],)),
                    Filters(article_ids=("0" * 64,))):
        refused = assistant.ask("What is the minimum wage in Valdoria?", filters=nothing)
        assert refused.refused and refused.refusal_reason == "filters" and not refused.citations
        assert "among the 1 article(s) chosen" in refused.text
    both = Filters(since=date(2024, 1, 1), article_ids=(ids["Valdoria Courier"], ids["Ardent Daily"]))
    assert _outlets(assistant.ask("What is the minimum wage in Valdoria?", filters=both)) == {"Ardent Daily"}


def test_filters_round_trip_and_keep_their_json_shape_without_ids() -> None:
    chosen = Filters(since=date(2024, 1, 1), article_ids=("a" * 64, "b" * 64))
    assert chosen and Filters(article_ids=("a",)) and not Filters()
    assert Filters.from_dict(chosen.to_dict()) == chosen
    assert Filters(outlets=("dpa",)).to_dict() == {"since": None, "until": None, "outlets": ["dpa"]}
    assert chosen.admits("a" * 64, "dpa", "2024-05-01") and not chosen.admits("c" * 64, "dpa", "2024-05-01")
    assert not chosen.admits("a" * 64, "dpa", "2023-05-01")


@pytest.mark.parametrize("filters, message", [
    (Filters(since=date(2025, 1, 1), until=date(2024, 1, 1)), "is after"),
    (Filters(outlets=("Reuters",)), "Unknown outlet 'Reuters'"),
])
def test_bad_filters_are_refused_with_a_message(assistant: Assistant, filters: Filters, message: str) -> None:
    with pytest.raises(InputError, match=message):
        assistant.check_filters(filters)


@pytest.mark.parametrize("question, amount", [
    ("What is the minimum wage in Valdoria?", True), ("How much will the Lusk harbour bridge cost?", True),
    ("What defence-spending target do NATO allies have, and what does Trump want?", True),
    ("What is the population of Port Ardent?", True), ("What is the NATO target in 2020?", True),
    ("Which company, as reported by both TechCrunch and The Verge, has spent billions on search deals?", False),
    ("Who met Biden on Monday?", False), ("Which company will build the Lusk harbour bridge?", False),
])
def test_only_a_question_that_asks_for_an_amount_gets_a_disagreement_box(question: str, amount: bool) -> None:
    assert asks_for_amount(question) is amount
