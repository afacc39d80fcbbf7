"""Dates and years in a text, as `Value`s ("24 Nov 2020" -> date "2020-11-24", "the '90s" -> year "1990s"), and
whether a claimed date is backed by another. Pure. The rules are in rag/values.py; the calendar's pieces in
rag/_calendar.py."""

from __future__ import annotations

import re
from datetime import date

from rag._calendar import (
    APOSTROPHE,
    DAY_NUMBER,
    DECADE,
    MONTH_NAMES,
    MONTH_NUMBER,
    MONTHS,
    ORDINAL,
    SHORT_DECADE,
    SHORT_YEAR,
    WEEKDAYS,
    YEAR,
    alternation,
    capitalised,
    decade_start,
    range_end,
)
from rag.types import Value, ValueKind, overlaps

_MON = alternation(capitalised(list(MONTHS)))
_MON_FULL = alternation(capitalised(list(MONTH_NAMES)))
_WD = alternation(capitalised(WEEKDAYS))
_YEAR = rf"{YEAR}(?!\d)"
_ORD = rf"{ORDINAL}?"
_DATE = re.compile(
    rf"""(?=[\dA-Z])(?<![\w.])(?:(?P<wd>{_WD})(?![a-z]),?\s+)?(?:
        (?P<iy>{_YEAR})-(?P<im>{MONTH_NUMBER})-(?P<id>{DAY_NUMBER})(?!\d)
      | (?P<d1>[0-3]?\d){_ORD}(?:\s+of)?\s+(?P<m1>{_MON})(?![a-z])(?:,?\s+(?P<y1>{_YEAR}))?
      | (?P<m2>{_MON})(?![a-z])\s+(?P<d2>[0-3]?\d){_ORD}(?![\d%]|[.,]\d|\s*(?:%|per\s?cent|percent))
            (?:,?\s+(?P<y2>{_YEAR}))?
      | (?P<m3>{_MON})(?![a-z]),?\s+(?P<y3>{_YEAR})
    )""",
    re.VERBOSE,
)
_SLASH_DATE = re.compile(rf"(?<![\d/])(\d{{1,2}})/(\d{{1,2}})/({_YEAR})(?![\d/])")
_LONE_MONTH = re.compile(
    rf"\b(?:[Ii]n|[Ss]ince|[Uu]ntil|[Tt]ill|[Bb]y|[Ff]rom|[Bb]efore|[Aa]fter|[Dd]uring|[Ee]arly|[Ll]ate|[Mm]id|"
    rf"[Oo]f|[Ll]ast|[Nn]ext|[Tt]his|[Tt]hrough|[Tt]hroughout)[\s-]+(?P<m>{_MON_FULL})(?![a-z])"
)
_LONE_WEEKDAY = re.compile(rf"(?<![\w])(?P<wd>{_WD})(?![a-z])")
_YEAR_RANGE = re.compile(rf"(?<![\w.,-])(?P<a>{_YEAR})\s?[-–—/]\s?(?P<b>{_YEAR}|{SHORT_YEAR})(?![\w%]|[.,]\d)")
_DECADE = re.compile(rf"(?<![\w'’])(?:(?P<c>{DECADE})(?P<apo>{APOSTROPHE})?s|{APOSTROPHE}(?P<s>{SHORT_DECADE})s)(?!\w)")
_DECADE_BEFORE = re.compile(r"\b(?:the|early|mid|late)[\s-]+$", re.IGNORECASE)


def _date_norm(year: int | None, month: int, day: int | None) -> str | None:
    if day is not None:
        try:
            date(year or 2000, month, day)  # 2000 is a leap year, so "Feb 29" alone is accepted
        except ValueError:
            return None
    y = f"{year:04d}" if year else "-"
    return f"{y}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def find_dates(text: str, taken: list[tuple[int, int]]) -> list[Value]:
    values: list[Value] = []

    def add(kind: ValueKind, norm: str | None, start: int, end: int) -> None:
        if norm is not None and not overlaps(start, end, taken):
            values.append(Value(kind, norm, text[start:end], start, end))
            taken.append((start, end))

    for m in _DATE.finditer(text):
        g = m.groupdict()
        if g["iy"]:
            norm = _date_norm(int(g["iy"]), int(g["im"]), int(g["id"]))
        else:
            mon = MONTHS[(g["m1"] or g["m2"] or g["m3"]).lower()]
            day = g["d1"] or g["d2"]
            year = g["y1"] or g["y2"] or g["y3"]
            norm = _date_norm(int(year) if year else None, mon, int(day) if day else None)
        add("date", norm, m.start(), m.end())
    for m in _SLASH_DATE.finditer(text):
        p, q, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if (p > 12) != (q > 12):  # only when the order is certain
            day, mon = (p, q) if p > 12 else (q, p)
            add("date", _date_norm(y, mon, day), m.start(), m.end())
    for m in _LONE_MONTH.finditer(text):
        add("date", f"--{MONTHS[m.group('m').lower()]:02d}", m.start("m"), m.end("m"))
    for m in _LONE_WEEKDAY.finditer(text):
        add("date", m.group("wd").lower(), m.start(), m.end())
    for m in _YEAR_RANGE.finditer(text):
        first, last = m.group("a"), m.group("b")
        second = range_end(first, last)
        if second > int(first) and not overlaps(m.start(), m.end(), taken):
            add("year", first, m.start("a"), m.end("a"))
            add("year", str(second), m.start("b"), m.end("b"))
    for m in _DECADE.finditer(text):
        if m.group("apo") and not _DECADE_BEFORE.search(text, max(0, m.start() - 7), m.start()):
            continue  # "2020's election" is the year 2020, read as a number later
        add("year", f"{decade_start(m.group('c') or m.group('s'))}s", m.start(), m.end())
    return values


def _date_parts(norm: str) -> tuple[int | None, int | None, int | None, str | None]:
    if norm in WEEKDAYS:
        return None, None, None, norm
    parts = norm.split("-")
    if norm.startswith("--"):
        rest = [int(p) for p in parts[2:]]
        return None, rest[0], rest[1] if len(rest) > 1 else None, None
    nums = [int(p) for p in parts]
    return nums[0], nums[1], nums[2] if len(nums) > 2 else None, None


def date_matches(claim: str, other: str) -> bool:
    cy, cm, cd, cw = _date_parts(claim)
    py, pm, pd, pw = _date_parts(other)
    if cw is not None:
        if pw is not None:
            return cw == pw
        return py is not None and pm is not None and pd is not None and WEEKDAYS[date(py, pm, pd).weekday()] == cw
    if pw is not None or pm is None or cm != pm or (cd is not None and cd != pd):
        return False
    return cy is None or py is None or cy == py  # a passage date without a year cannot contradict one
