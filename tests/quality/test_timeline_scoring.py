"""The timeline benchmark's matching (benchmarks/timelines.py): pure, on hand-made articles and predictions.
No index, no model."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.timelines import (
    after_as_of,
    article_keys,
    check_gold,
    date_matches,
    jaccard,
    judge_event,
    predicted_events,
    score_runs,
    score_story,
)

URL = "https://example.com/openai"
BODY = ("Altman's exit is indeed shocking, said an analyst.\n\n"
        "Brockman announced his resignation from OpenAI, citing today's news.\n\n"
        "Altman has been telling investors that he is planning to launch a new venture.")
BROCKMAN = "Brockman announced his resignation from OpenAI, citing today's news."
VENTURE = "Altman has been telling investors that he is planning to launch a new venture."
UNDATED_TITLE = "Travis Kelce admits the NFL is overdoing it"
UNDATED_BODY = "Following his game on 1 October, Kelce opened up about the NFL broadcast on his podcast."
BODIES = {**{k: BODY for k in article_keys(URL, "OpenAI fallout")},
          **{k: UNDATED_BODY for k in article_keys(None, UNDATED_TITLE)}}


def evidence(quote: str, dated: str | None = "2023-11-18", url: str | None = URL,
             title: str = "OpenAI fallout") -> dict[str, Any]:
    return {"url": url, "title": title, "quote": quote, "dated": dated}


GOLD = [
    {"date": "2023-11-17", "precision": "day", "event": "Brockman resigned.", "evidence": [evidence(BROCKMAN)]},
    {"date": "2023-11-18", "precision": "day", "event": "Altman plans a new venture.", "evidence": [evidence(VENTURE)]},
    {"date": "2023-10-01", "precision": "month", "event": "Kelce on the NFL's coverage.",
     "evidence": [evidence(UNDATED_BODY, "2023-10", None, UNDATED_TITLE)]},
]


def cite(quote: str, start: int | None = None, url: str | None = URL, title: str = "OpenAI fallout") -> dict[str, Any]:
    body = BODY if url else UNDATED_BODY
    at = body.find(quote) if start is None else start
    return {"n": 1, "url": url, "title": title, "start": at, "end": at + len(quote), "quote": quote}


def event(day: str, text: str, cited: list[dict[str, Any]], precision: str = "day") -> dict[str, Any]:
    return {"date": day, "precision": precision, "event": text, "cited": cited}


def test_the_cited_sentence_and_the_day_make_a_correct_event() -> None:
    assert judge_event(event("2023-11-17", BROCKMAN, [cite(BROCKMAN)]), GOLD, BODIES) == \
        {"correct": True, "matched": [0], "states": [0]}


def test_a_true_cited_event_on_the_wrong_day_is_wrong_and_says_whether_its_sentence_gives_that_day() -> None:
    got = judge_event(event("2023-11-18", BROCKMAN, [cite(BROCKMAN)]), GOLD, BODIES)
    assert got["correct"] is False and got["cause"] == "wrong date" and got["gold_dates"] == ["2023-11-17"]
    assert got["as_its_sentence"] is True  # the article's day: what the sentence alone gives
    assert judge_event(event("2023-11-20", BROCKMAN, [cite(BROCKMAN)]), GOLD, BODIES)["as_its_sentence"] is False


def test_a_paraphrase_needs_the_cited_span_and_a_reworded_quote_needs_the_words() -> None:
    # The event's words differ from the gold sentence, but the cited quote is that sentence: a shared span.
    assert judge_event(event("2023-11-18", "New venture planned.", [cite(VENTURE)]), GOLD, BODIES)["correct"]
    # A quote of another sentence of the same article, and words far from the gold sentence: no match.
    got = judge_event(event("2023-11-18", "An analyst was shocked.", [cite(BODY.split("\n\n")[0])]), GOLD, BODIES)
    assert got == {"correct": False, "matched": [], "states": [], "cause": "not in gold"}
    # Offsets that do not hold the quote are ignored; the quote is found in the text instead.
    assert judge_event(event("2023-11-18", "x", [cite(VENTURE, start=3)]), GOLD, BODIES)["correct"]
    # The event's own words (Jaccard >= 0.5) are enough when the cited passage is of the same article.
    whole = {"n": 1, "url": URL, "title": "other title", "start": 0, "end": 5, "quote": "nope"}
    assert judge_event(event("2023-11-18", VENTURE, [whole]), GOLD, BODIES)["correct"]


def test_the_right_sentence_in_another_article_is_not_evidence() -> None:
    other = cite(VENTURE, url="https://example.com/elsewhere")
    assert judge_event(event("2023-11-18", VENTURE, [other]), GOLD, BODIES)["cause"] == "not in gold"
    assert judge_event(event("2023-11-18", VENTURE, []), GOLD, BODIES)["cause"] == "uncited"


def test_an_article_without_a_url_is_matched_by_title() -> None:
    undated = cite(UNDATED_BODY, url=None, title="  Travis Kelce admits the NFL   is overdoing it ")
    assert judge_event(event("2023-10-04", "Kelce spoke.", [undated]), GOLD, BODIES)["matched"] == [2]


@pytest.mark.parametrize(("predicted", "precision", "gold", "gold_precision", "ok"), [
    ("2023-11-17", "day", "2023-11-17", "day", True),
    ("2023-11-18", "day", "2023-11-17", "day", False),
    ("2023-10-31", "day", "2023-10-01", "month", True),   # a month-precision gold event: any day of that month
    ("2023-11-01", "day", "2023-10-01", "month", False),
    ("2016-07-04", "day", "2016-01-01", "year", True),
    ("2023-11-01", "month", "2023-11-01", "day", False),  # coarser than the gold: not a day match
    ("2023-10-01", "month", "2023-10-01", "month", True),
    ("2023", "year", "2023-10-01", "month", False),
])
def test_dates_match_at_the_gold_precision(predicted: str, precision: str, gold: str, gold_precision: str,
                                           ok: bool) -> None:
    assert date_matches(predicted, precision, gold, gold_precision) is ok


def test_jaccard_of_word_sets() -> None:
    assert jaccard("Altman left OpenAI.", "altman LEFT openai") == 1.0
    assert jaccard("a b", "c d") == 0.0
    assert jaccard("a b c", "a b d") == 0.5


def test_precision_and_recall_of_a_story_count_each_gold_event_once() -> None:
    story = {"id": "s", "events": GOLD}
    predicted = [event("2023-11-17", BROCKMAN, [cite(BROCKMAN)]),
                 event("2023-11-17", "Brockman quit.", [cite(BROCKMAN)]),  # the same gold event again
                 event("2023-11-18", "An analyst was shocked.", [cite(BODY.split("\n\n")[0])])]
    got = score_story(predicted, story, BODIES)
    assert (got["predicted"], got["correct"], got["recalled"], got["gold"]) == (3, 2, 1, 3)
    assert got["precision"] == 0.667 and got["recall"] == 0.333 and got["missed"] == [1, 2]


def test_an_answers_numbers_find_their_citations_and_uncited_passages() -> None:
    answer = {"citations": [{"n": 1, "url": URL, "quote": BROCKMAN}],
              "sources": [{"n": 2, "url": URL, "quote": BODY, "passage": True}],
              "timeline": [{"date": "2023-11-17", "event": BROCKMAN, "citations": [1, 2]},
                           {"date": "2023-11-18", "event": "?", "citations": [3]}]}
    got = predicted_events(answer)
    assert [len(e["cited"]) for e in got] == [2, 0]
    assert [c.get("loose", False) for c in got[0]["cited"]] == [False, True]


def test_an_event_cites_its_own_sentence_of_a_passage_the_answer_cites_several_times() -> None:
    # One source number, two citations (two sentences of one passage), two events: each event is its own sentence.
    answer = {"citations": [cite(BROCKMAN), cite(VENTURE)],
              "timeline": [{"date": "2023-11-17", "event": BROCKMAN, "citations": [1]},
                           {"date": "2023-11-18", "event": "Altman's exit is indeed shocking.", "citations": [1]}]}
    brockman, analyst = predicted_events(answer)
    assert [c["quote"] for c in brockman["cited"]] == [BROCKMAN]
    # The analyst's sentence is not among the citations: both are kept, loose, and neither lends it its span.
    assert [c.get("loose") for c in analyst["cited"]] == [True, True]
    assert judge_event(analyst, GOLD, BODIES)["cause"] == "not in gold"
    assert judge_event(brockman, GOLD, BODIES)["correct"]


def test_the_report_pools_stories_and_counts_refusals_and_causes() -> None:
    gold = {"stories": [{"id": "s", "as_of": "2023-12-01", "events": GOLD},
                        {"id": "t", "as_of": "2023-12-01", "events": GOLD[:1]}]}
    c = cite(BROCKMAN)
    runs = [{"story": "s", "first_event_ms": 1200, "answer": {
                "citations": [c], "timeline": [{"date": "2023-11-17", "event": BROCKMAN, "citations": [1]},
                                               {"date": "2023-11-19", "event": BROCKMAN, "citations": [1]}]}},
            {"story": "t", "first_event_ms": None, "answer": {"refused": True, "citations": [], "timeline": []}}]
    summary, details = score_runs(runs, gold, BODIES)
    assert (summary["precision"], summary["recall"], summary["refused"], summary["empty_timelines"]) == \
        (0.5, 0.25, 1, 1)
    assert summary["wrong_by_cause"] == {"wrong date": 1}
    assert summary["first_event_ms_median"] == 1200
    assert summary["events_citing_after_as_of"] == 0
    assert [d["kind"] for d in details].count("missed") == 3


def test_an_event_citing_only_articles_after_the_day_asked_is_flagged() -> None:
    late = event("2023-11-18", VENTURE, [{**cite(VENTURE), "published": "2023-12-09"}])
    assert after_as_of(late, "2023-11-23") is True
    both = event("2023-11-18", VENTURE, [{**cite(VENTURE), "published": "2023-11-18"}, *late["cited"]])
    assert after_as_of(both, "2023-11-23") is False
    assert after_as_of(event("2023-11-18", VENTURE, []), "2023-11-23") is False


def test_the_gold_check_finds_a_quote_that_is_not_verbatim() -> None:
    bad = {"stories": [{"id": "s", "as_of": "2023-11-20", "events": [
        {"date": "2023-11-17", "precision": "day", "evidence": [evidence(BROCKMAN.replace("news", "News"))]},
        {"date": "2023-11-21", "precision": "week", "evidence": [evidence(VENTURE)]}]}]}
    problems = check_gold(bad, BODIES)
    assert len(problems) == 3, problems  # the quote, the precision, the day after as_of
    assert check_gold({"stories": [{"id": "s", "as_of": "2023-12-01", "events": GOLD}]}, BODIES) == []
