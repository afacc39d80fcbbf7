"""The `[n]` citation marker grammar, written once: "[1]", "[2][3]", "[1, 2]", "[1; 4]", and the source label the
checked answer puts after them ("[1] (dpa, 24 Nov 2020)"). Pure."""

from __future__ import annotations

import re

# One bracket of source numbers, its numbers in group 1; leading space included, so removing it leaves no gap.
MARKER_GROUP = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# One bracket of source numbers, as a piece of a bigger pattern: "[2]", "[1, 2]", "[1; 4]".
BRACKET = r"\[\d+(?:\s*[,;]\s*\d+)*\]"
# Markers written after a sentence's stop: "… Monday. [1]" (group 1 the stop, group 2 the markers).
AFTER_STOP = re.compile(rf"([.!?])((?:\s*{BRACKET})+)")
# A "sentence" that is only markers: "[1][2]." left over after a split.
ONLY_MARKERS = re.compile(rf"^(\s*{BRACKET})+[.!?]?$")
# "[1] and [2]", "[1], [2]": one group (group 1 the first bracket).
JOINED = re.compile(r"(\[\d+\])\s*(?:,|and|&|or)\s*(?=\[\d+\])", re.I)
_WITH_LABEL = re.compile(rf"\s*{BRACKET}(?:\s*\([^)]*\))?")
# A marker in text escaped for Markdown (`\[1\]`: ui/render.py, ui/export.py), its number in group 1.
ESCAPED = re.compile(r"\\\[(\d+)\\\]")


def numbers(group: str) -> list[int]:
    """'1, 2' or '1;4' (a MARKER_GROUP's group 1) -> [1, 2] / [1, 4]."""
    return [int(x) for x in re.split(r"[,;]\s*|\s+", group.strip()) if x]


def strip_markers(text: str) -> str:
    """The text without its markers."""
    return MARKER_GROUP.sub("", text)


def strip_markers_and_labels(text: str) -> str:
    """The text without its markers and the source label after each ("[1] (dpa, 24 Nov 2020)")."""
    return _WITH_LABEL.sub("", text)
