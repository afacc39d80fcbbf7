"""The clause grammar (rag/clauses.py), as a table: the clause that holds the word in braces."""

from __future__ import annotations

import pytest

from rag.clauses import clause_span


@pytest.mark.parametrize(("marked", "clause"), [
    ("The current {2%} target has been in place since 2014, but Trump wants a higher figure.",
     "The current 2% target has been in place since 2014"),
    ("The current 2% target has been in place since 2014, but Trump wants a {higher} figure.",
     "Trump wants a higher figure."),
    ("Rates rose to {5%}; analysts expect more.", "Rates rose to 5%"),
    ("Rates rose to 5%; analysts expect {more}.", "analysts expect more."),
    ("One figure: {3%} in all.", "3% in all."),
    ("The video has {5,952} comments — one written by Taylor Swift herself.", "The video has 5,952 comments"),
    ("The target — set in {2014} — is 2%.", "set in 2014"),
    ("A 3-{3.5%} range, possibly.", "A 3-3.5% range, possibly."),  # a hyphen is no dash
    ("Growth slowed to {2%} While prices rose.", "Growth slowed to 2%"),  # any case
    ("Dyche, however, wants {four} points.", ", wants four points."),  # a comma after the word stays
    ("Spending rose {20%} although more is needed.", "Spending rose 20%"),
    ("No break in this {sentence} at all.", "No break in this sentence at all."),
])
def test_clause_span(marked: str, clause: str) -> None:
    start = marked.index("{")
    end = marked.index("}") - 1
    sentence = marked.replace("{", "").replace("}", "")
    lo, hi = clause_span(sentence, start, end)
    assert sentence[lo:hi] == clause
