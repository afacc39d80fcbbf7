"""The `[n]` marker grammar (rag/markers.py), as a table."""

from __future__ import annotations

import re

import pytest

from rag.markers import (
    AFTER_STOP,
    BRACKET,
    ESCAPED,
    JOINED,
    MARKER_GROUP,
    ONLY_MARKERS,
    numbers,
    strip_markers,
    strip_markers_and_labels,
)


@pytest.mark.parametrize(("text", "groups"), [
    ("Biden met him [1].", [[1]]),
    ("It rose [2][3].", [[2], [3]]),
    ("It rose [1, 2] and fell [1; 4].", [[1, 2], [1, 4]]),
    ("No marker here (2024).", []),
    ("A list [a] is not a marker.", []),
])
def test_marker_groups(text: str, groups: list[list[int]]) -> None:
    assert [numbers(g) for g in MARKER_GROUP.findall(text)] == groups


@pytest.mark.parametrize(("text", "stripped", "unlabelled"), [
    ("Biden met him [1].", "Biden met him.", "Biden met him."),
    ("Biden met him [1] (dpa, 24 Nov 2020).", "Biden met him (dpa, 24 Nov 2020).", "Biden met him."),
    ("Up 2% [1][2], then down [3].", "Up 2%, then down.", "Up 2%, then down."),
])
def test_strip(text: str, stripped: str, unlabelled: str) -> None:
    assert strip_markers(text) == stripped
    assert strip_markers_and_labels(text) == unlabelled


def test_after_stop_only_markers_and_joined() -> None:
    assert AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), "They met. [1] It rose. [2][3]") == \
        "They met [1]. It rose [2][3]."
    assert ONLY_MARKERS.match("[1][2].") and not ONLY_MARKERS.match("[1] rose.")
    assert JOINED.sub(r"\1", "as said [1] and [2], [3] & [4]") == "as said [1][2][3][4]"


@pytest.mark.parametrize(("text", "bracket"), [("[2]", True), ("[1, 2]", True), ("[1; 4]", True), ("[a]", False),
                                              ("[]", False), ("[1,]", False)])
def test_bracket_piece(text: str, bracket: bool) -> None:
    assert (re.fullmatch(BRACKET, text) is not None) is bracket


@pytest.mark.parametrize(("escaped", "found"), [
    (r"Up 2% \[1\], down \[12\].", ["1", "12"]),
    (r"A list \[a\] and an unescaped [3].", []),
])
def test_escaped_markers(escaped: str, found: list[str]) -> None:
    assert ESCAPED.findall(escaped) == found
