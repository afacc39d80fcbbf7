"""What a question names that retrieval can use: outlets in the index, calendar dates, a time of its own."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from rag._calendar import MONTH_FORMS, MONTHS, ORDINAL, YEAR, alternation

_MONTH = rf"({alternation(MONTH_FORMS)})\.?"
_DATE_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){ORDINAL}?,?\s+(\d{{4}})\b", re.I)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}}){ORDINAL}?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b", re.I)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR = re.compile(rf"\b{YEAR}\b")


def _month(name: str) -> int:
    return MONTHS[name.lower()]


def dates_named(question: str) -> set[str]:
    """ISO dates written in the question: 'November 1, 2023', '1 Nov 2023', '2023-11-01'."""
    out = {f"{int(y):04d}-{_month(m):02d}-{int(d):02d}" for m, d, y in _DATE_MDY.findall(question)}
    out |= {f"{int(y):04d}-{_month(m):02d}-{int(d):02d}" for d, m, y in _DATE_DMY.findall(question)}
    out |= {f"{y}-{m}-{d}" for y, m, d in _DATE_ISO.findall(question)}
    return {d for d in out if 1 <= int(d[5:7]) <= 12 and 1 <= int(d[8:10]) <= 31}


def names_a_time(question: str) -> bool:
    """Whether the question sets its own time ("on November 1, 2023", "in 2020"): no recency prior then."""
    return bool(dates_named(question) or _YEAR.search(question))


def recent_window(as_of: date, days: int) -> tuple[str, str]:
    """ISO days [first, last] of the `days` days up to and including as_of."""
    return (as_of - timedelta(days=max(days, 1) - 1)).isoformat(), as_of.isoformat()


@lru_cache(maxsize=4096)
def _name_pattern(outlet: str) -> re.Pattern[str] | None:
    # Case-sensitive whole words, any punctuation/spacing between them: "The Age" must not match "the age of".
    words = re.findall(r"\w+", outlet)
    if not words or len("".join(words)) < 3:
        return None
    return re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)) + r"(?!\w)")


def outlets_named(question: str, outlets: Sequence[str]) -> list[str]:
    """The indexed outlets whose name the question spells out (case-sensitive, whole words)."""
    named = []
    for outlet in outlets:
        pattern = _name_pattern(outlet)
        if pattern is not None and pattern.search(question):
            named.append(outlet)
    return named
