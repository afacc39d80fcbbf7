"""The evaluation's metric functions: pure, checked on small hand-made cases."""

from __future__ import annotations

import pytest

from evals.datasets import strip_html
from evals.metrics import (
    aggregate,
    choice_correct,
    facts_in,
    final_answer,
    is_refusal,
    multihop_retrieval_metrics,
    official_correct,
    rank_metrics,
    refusal_scores,
    squash,
    strict_correct,
)

FACT_A = "The highly anticipated criminal trial for Sam Bankman-Fried started Tuesday."
FACT_B = "Bankman-Fried made himself out to be the Good Boy of crypto."


def test_squash_deletes_only_spaces_and_newlines() -> None:
    assert squash("a b\nc\td") == "abc\td"


def test_hit_rule_is_whole_fact_substring_ignoring_spaces_and_newlines() -> None:
    chunk = "Intro.\n\nThe highly anticipated criminal trial for Sam\nBankman-Fried  started Tuesday. More."
    assert facts_in(chunk, [FACT_A, FACT_B]) == {0}
    assert facts_in("The highly anticipated criminal trial", [FACT_A]) == set()  # part of a fact is no hit
    assert facts_in(chunk.lower(), [FACT_A]) == set()  # case-sensitive, as the official script


def test_rank_metrics() -> None:
    assert rank_metrics([False, False, True]) == {"hits@4": 1.0, "hits@10": 1.0, "mrr@10": pytest.approx(1 / 3)}
    assert rank_metrics([False] * 4 + [True]) == {"hits@4": 0.0, "hits@10": 1.0, "mrr@10": 0.2}
    assert rank_metrics([False] * 10 + [True]) == {"hits@4": 0.0, "hits@10": 0.0, "mrr@10": 0.0}
    assert rank_metrics([], ks=(1,)) == {"hits@1": 0.0, "mrr@10": 0.0}


def test_multihop_retrieval_metrics_evidence_recall() -> None:
    chunks = ["nothing here", FACT_B, "x " + FACT_A]
    m = multihop_retrieval_metrics(chunks, [FACT_A, FACT_B, "A fact nobody retrieved."])
    assert m["hits@4"] == 1.0 and m["mrr@10"] == 0.5
    assert m["evidence_recall@10"] == pytest.approx(2 / 3)
    # Duplicate gold facts count once; only the first 10 chunks count.
    m = multihop_retrieval_metrics(["-"] * 10 + [FACT_A], [FACT_A, FACT_A])
    assert m == {"hits@4": 0.0, "hits@10": 0.0, "mrr@10": 0.0, "evidence_recall@10": 0.0}


def test_final_answer_takes_last_answer_line_without_markers() -> None:
    text = "The Verge says he is on trial [1]. TechCrunch agrees [2].\nAnswer: Sam Bankman-Fried [1][2]."
    assert final_answer(text) == "Sam Bankman-Fried."
    assert final_answer("**Final answer:** Yes") == "Yes"
    assert final_answer("No line here [3].") == "No line here."
    assert final_answer("Yes, both say so [1]. Then more [2].") == "Yes, both say so."


def test_official_metric_is_one_shared_word() -> None:
    assert official_correct("Sam Bankman-Fried", "Sam Bankman-Fried")
    assert official_correct("It was sam", "Sam Bankman-Fried")
    assert official_correct("Caesars", "Caesars Sportsbook.")
    assert not official_correct("DraftKings", "Caesars Sportsbook")
    assert official_correct("yes", "Yes")
    assert official_correct("Yes, both agree.", "Yes")  # edge punctuation dropped


def test_strict_metric_needs_the_whole_gold_as_words() -> None:
    assert strict_correct("It is Sam Bankman-Fried.", "Sam Bankman-Fried")
    assert not strict_correct("Sam", "Sam Bankman-Fried")
    assert strict_correct("Yes.", "Yes")
    assert not strict_correct("Not really", "No")  # "No" is not a word of "Not"


def test_refusal_detection() -> None:
    assert is_refusal("whatever", refused=True)
    assert is_refusal("The sources do not say.\nAnswer: Insufficient information.", refused=False)
    assert not is_refusal("Answer: Yes", refused=False)


def test_refusal_precision_and_recall() -> None:
    recs = [{"is_null": True, "refused": True}, {"is_null": True, "refused": False},
            {"is_null": False, "refused": True}, {"is_null": False, "refused": False}]
    assert refusal_scores(recs) == {"refusal_precision": 0.5, "refusal_recall": 0.5}
    assert refusal_scores([{"is_null": False, "refused": False}]) == {"refusal_precision": None,
                                                                     "refusal_recall": None}


def test_choice_accuracy_right_choice_and_no_other() -> None:
    choices = ["Pittsburgh Steelers", "Cincinnati Bengals", "Buffalo Bills", "Cleveland Browns"]
    assert choice_correct("He plays for the Buffalo Bills [1].", choices, 2)
    assert not choice_correct("The Buffalo Bills or the Cincinnati Bengals.", choices, 2)
    assert not choice_correct("The Bills.", choices, 2)
    # A wrong choice that is part of the right one does not count against it.
    assert choice_correct("New York City", ["New York", "New York City", "Boston", "Paris"], 1)
    assert not choice_correct("New York City", ["New York", "New York City", "Boston", "Paris"], 0)


def test_aggregate_skips_missing_values() -> None:
    recs = [{"a": 1.0, "b": None}, {"a": 0.0}, {"a": 0.5, "b": 1.0}]
    assert aggregate(recs, ["a", "b", "c"]) == {"a": 0.5, "b": 1.0, "c": None}


def test_strip_html_keeps_text_and_first_link() -> None:
    text, url = strip_html('The <a href="https://x.test/a?b=1&amp;c=2">Bills</a> player &amp; <b>team</b>.')
    assert text == "The Bills player & team."
    assert url == "https://x.test/a?b=1&c=2"
    assert strip_html("plain") == ("plain", None)


def test_crag_score_rewards_right_and_honest_refusals_and_punishes_wrong_answers() -> None:
    from evals.suites import crag_score

    assert crag_score(refused=False, right=True) == 1.0
    assert crag_score(refused=True, right=False) == 0.0
    assert crag_score(refused=False, right=False) == -1.0
    assert crag_score(refused=True, right=False, unanswerable=True) == 1.0
    assert crag_score(refused=False, right=True, unanswerable=True) == -1.0
