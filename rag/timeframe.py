"""Time words in a question: "in 2020", "last week", "since March 2024". Pure functions, no I/O.

`parse_timeframe` turns the time a question names into inclusive dates relative to a given
`today` (the app's date or `--as-of`); `strip_timeframe` removes those words ("and in 2020?"
becomes a follow-up about the same thing); `is_about_now` says whether the reader wants the
newest value first.

Rules chosen, and why:

- **Periods are calendar periods.** "in 2020" is 2020-01-01..2020-12-31, "in March 2024" the
  whole month, "on 12 February 2025" that day, "in the 1990s" 1990..1999. A month or day without
  a year ("in May", "on 12 Feb") is the most recent one that starts on or before today.
- **Weeks start on Monday** (ISO 8601). "this week" is Monday..today, "last week" the Monday to
  Sunday before it. "this month/year" and "earlier this year" run to today; "last month/year" are
  the previous calendar month/year; "yesterday", "today" are single days.
- **Rolling windows**: "in the past 3 days" is today-3..today, "the past two weeks" today-14..today,
  "the last 6 months" the same day 6 months back..today ("in the last week" is a window, "last
  week" a calendar week). "3 days ago" is that day, "two weeks ago" that Monday-to-Sunday week,
  "a month ago" / "a year ago" that calendar month / year.
- **Bounds**: "since March 2024" is 2024-03-01..today; "after 2020" 2021-01-01..today; "before
  2022" ..2021-12-31 (no start); "until 2021" ..2021-12-31; "between 2020 and 2022", "from 2019 to
  2021" and "2019-2021" are ranges ("between March and May 2024": the first end takes the year of
  the second). "from 2019" alone is the year 2019 ("articles from 2019").
- **A year must read as a year**: after "in", "since", "before"…, or followed by a singular word
  ("the 2020 article"). "the 1500 runners" and "2000 troops" name no time.
- **Weekdays name no frame** ("Who met Biden on Monday?" means the Monday in the article, not the
  last one before today); nor do future words ("next week", "tomorrow": articles are not from the
  future) or vague ones ("recently": `is_about_now` covers it).
- **Several times in one question**: periods are joined into one range that covers them all
  ("in 2020 and in 2025" -> 2020-01-01..2025-12-31, kind "between", so neither year's articles
  are filtered away), and bounds narrow it ("since 2019 but before 2022" -> 2019..2021). When
  they contradict ("compare 2020 with since last week") the frame covers all of them.
- "today" is both a frame (articles of that day) and a "now" word, as asked for; a caller that
  filters hard on it may find nothing for "What is the target today?".

Known limits: seasons and quarters are read as their year ("summer 2020", "Q1 2024"); "the past
few days", numeric dates other than ISO ("12/02/2025") and other languages are not read.

dateparser (installed) was measured and not used: it returns instants, not periods ("in May" ->
one day), finds "1500" in "the 1500 runners" as a year, returns nothing for "since March 2024",
and takes ~90 ms on its first call and 0.3-0.7 ms per phrase after. The compiled patterns here
take a few hundredths of a millisecond per question and are deterministic.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

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
    UNITS,
    YEAR,
    alternation,
    decade_start,
    looks_like_year,
    range_end,
)

TimeFrameKind = Literal["day", "week", "month", "year", "decade", "recent", "since", "before", "between"]


@dataclass(frozen=True, slots=True)
class TimeFrame:
    """The time a question asks about, as inclusive dates.

    Attributes:
        since: First day, or None when open ("before 2022").
        until: Last day, or None when open-ended. Frames that run "to now" ("since 2019", "this
            year", "in the past 3 days") end on `today`, so retrieval never asks for the future.
        phrase: The words matched, to show the reader, e.g. "in 2020" or "in 2020 and in 2025".
        kind: "day", "week", "month", "year", "decade" (a calendar period), "recent" (a rolling
            window up to today: "in the past 3 days"), "since" (from a time to today: "since
            2019", "after 2020"), "before" (up to a time: "before 2022", "until 2021") or
            "between" (an explicit range, or several times joined).
        spans: Where the phrase's parts are in the question, for `strip_timeframe`.
    """

    since: date | None
    until: date | None
    phrase: str
    kind: TimeFrameKind
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class _Period:
    since: date
    until: date
    kind: TimeFrameKind
    has_year: bool = True  # False for "May" alone, so a range can lend it the other end's year


# ---- patterns ----------------------------------------------------------------------------------

_MON_ANY = alternation(list(MONTHS))
_MON_FULL = alternation(list(MONTH_NAMES))
_YEAR = rf"(?<![\d,.$€£]){YEAR}(?![\d%]|[.,]\d)"
_DAY = rf"(?:[12]\d|3[01]|0?[1-9]){ORDINAL}?"
_NUMBER_WORDS = {w: n for w, n in UNITS.items() if 1 <= n <= 12} | {"a": 1, "an": 1, "a couple of": 2, "couple of": 2}
_N = rf"(?:\d{{1,3}}|{alternation(list(_NUMBER_WORDS))})"
_UNIT = r"(?:day|week|month|year)s?"


def _point(tag: str) -> str:
    """A named time ("12 February 2025", "March 2024", "2020", "the 1990s", "May"); groups end in tag."""
    return (
        rf"(?:(?P<iso{tag}>{YEAR}-{MONTH_NUMBER}-{DAY_NUMBER})(?!\d)"
        rf"|(?:the\s+)?(?P<d1{tag}>{_DAY})(?:\s+of)?\s+(?P<m1{tag}>{_MON_ANY})(?![a-z])(?:,?\s+(?P<y1{tag}>{_YEAR}))?"
        rf"|(?P<m2{tag}>{_MON_ANY})(?![a-z])\s+(?P<d2{tag}>{_DAY})(?![\d%]|\s*%)(?:,?\s+(?P<y2{tag}>{_YEAR}))?"
        rf"|(?P<m3{tag}>{_MON_ANY})(?![a-z]),?\s+(?P<y3{tag}>{_YEAR})"
        rf"|(?:the\s+)?(?P<dec{tag}>{DECADE}){APOSTROPHE}?s(?!\w)"
        rf"|(?:the\s+{APOSTROPHE}?|{APOSTROPHE})(?P<dec2{tag}>{SHORT_DECADE})s(?!\w)"
        rf"|(?P<y4{tag}>{_YEAR})"
        rf"|(?P<m5{tag}>{_MON_FULL})(?![a-z]))"
    )


def _relative(tag: str) -> str:
    """A time named relative to today ("last week", "yesterday", "3 days ago")."""
    return (
        rf"(?P<rel{tag}>today|tonight|this\s+(?:morning|afternoon|evening)|(?:the\s+)?day\s+before\s+yesterday"
        rf"|yesterday|earlier\s+this\s+(?:week|month|year)|(?:this|last)\s+(?:week|month|year)"
        rf"|(?:the\s+)?(?:past|last)\s+{_N}\s+{_UNIT}|the\s+(?:past|last)\s+(?:day|week|month|year)"
        rf"|past\s+(?:day|week|month|year)|{_N}\s+{_UNIT}\s+ago)"
    )


_PREFIX = r"(?:(?:in|during|on|for|of|throughout|over|around|at|from|within)\s+(?:the\s+)?)?"
# "early 2024", "mid-2020", "late March" are read as the whole year or month.
_PART = r"(?:(?:early|mid|late)[\s-]+)?"
_BOUND = r"(?P<bound>since|after|before|until|till|up\s+to|through|prior\s+to)\s+"
_FRAMES = re.compile(
    rf"""(?<![\w'’-])(?:
        (?P<between>between\s+{_point('a')}\s+and\s+{_point('b')})
      | (?P<fromto>from\s+{_point('c')}\s+(?:to|until|till|through|-|–)\s+{_point('d')})
      | {_PREFIX}(?P<ya>{_YEAR})\s?[-–]\s?(?P<yb>{_YEAR}|{SHORT_YEAR})
      | (?P<bounded>{_BOUND}(?:the\s+)?(?:{_relative('e')}|{_point('e')}))
      | (?P<relative>{_PREFIX}{_relative('f')})
      | (?P<pre>{_PREFIX}{_PART}){_point('g')}
    )(?![\w–-])""",
    re.VERBOSE | re.IGNORECASE,
)
# After these a bare year or month is a time for sure ("in May", "during 2020"); after "of", "for"
# or nothing, a year must read as one in context ("the 2000 runners" is a count).
_TIME_PREPOSITION = re.compile(r"^(?:in|during|throughout|from|on)\b", re.IGNORECASE)
_PART_BEFORE = re.compile(r"(?:early|mid|late)[\s-]*$", re.IGNORECASE)
_LEADING_PREPOSITION = re.compile(r"^(?:in|during|on|for|of|throughout|over|around|at|from|within)\s+", re.IGNORECASE)
_BETWEEN_SPANS = re.compile(r"\s*(?:and|or|vs\.?|versus|to|,)?\s*", re.IGNORECASE)

_NOW = re.compile(
    r"\b(?:currently|current|now|nowadays|latest|newest|most\s+recent|recent(?:ly)?|still|today|at\s+present|"
    r"presently|as\s+of\s+now|as\s+things\s+stand|as\s+it\s+stands|at\s+the\s+moment|right\s+now|these\s+days|"
    r"this\s+(?:week|month|year)|so\s+far|to\s+date|up\s+to\s+date|any\s*more|no\s+longer|yet)\b",
    re.IGNORECASE,
)
# A far-off day for `is_about_now`: any frame ending before it was named as past ("in 2020").
_FAR_FUTURE = date(2999, 12, 31)


# ---- date arithmetic ---------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _latest_month(month: int, today: date) -> int:
    """The year of the most recent `month` that starts on or before today."""
    return today.year if month <= today.month else today.year - 1


def _count(text: str) -> int:
    text = re.sub(r"\s+", " ", text.lower().strip())
    return int(text) if text.isdigit() else _NUMBER_WORDS[text]


# ---- reading a match ---------------------------------------------------------------------------


def _named_point(m: re.Match[str], tag: str, today: date) -> _Period | None:
    g = m.groupdict()
    try:
        if g[f"iso{tag}"]:
            d = date.fromisoformat(g[f"iso{tag}"])
            return _Period(d, d, "day")
        for k in ("1", "2"):
            if g[f"m{k}{tag}"] and g[f"d{k}{tag}"]:
                month = MONTHS[g[f"m{k}{tag}"].lower()]
                day = int(re.sub(r"\D", "", g[f"d{k}{tag}"]))
                year_text = g[f"y{k}{tag}"]
                if year_text:
                    d = date(int(year_text), month, day)
                else:
                    d = date(today.year, month, day)
                    if d > today:
                        d = date(today.year - 1, month, day)
                return _Period(d, d, "day", bool(year_text))
        if g[f"m3{tag}"]:
            year, month = int(g[f"y3{tag}"]), MONTHS[g[f"m3{tag}"].lower()]
            return _Period(date(year, month, 1), _month_end(year, month), "month")
    except ValueError:
        return None  # "30 February"
    if g[f"dec{tag}"] or g[f"dec2{tag}"]:
        start = decade_start(g[f"dec{tag}"] or g[f"dec2{tag}"])
        return _Period(date(start, 1, 1), date(start + 9, 12, 31), "decade")
    if g[f"y4{tag}"]:
        year = int(g[f"y4{tag}"])
        return _Period(date(year, 1, 1), date(year, 12, 31), "year")
    if g[f"m5{tag}"]:
        month = MONTHS[g[f"m5{tag}"].lower()]
        year = _latest_month(month, today)
        return _Period(date(year, month, 1), _month_end(year, month), "month", has_year=False)
    return None


def _relative_point(text: str, today: date) -> _Period:
    t = re.sub(r"\s+", " ", text.lower())
    if t in ("today", "tonight") or t.startswith("this ") and t.split()[1] in ("morning", "afternoon", "evening"):
        return _Period(today, today, "day")
    if t.endswith("day before yesterday"):
        return _Period(today - timedelta(days=2), today - timedelta(days=2), "day")
    if t == "yesterday":
        return _Period(today - timedelta(days=1), today - timedelta(days=1), "day")
    unit = re.search(r"(day|week|month|year)s?(?: ago)?$", t)
    assert unit is not None  # the pattern only lets these through
    u = unit.group(1)
    window = re.fullmatch(r"(?:the )?(?:past|last) (.+) (?:day|week|month|year)s?", t)
    if t.endswith(" ago"):
        n = _count(t[: unit.start()])
        if u == "day":
            d = today - timedelta(days=n)
            return _Period(d, d, "day")
        if u == "week":
            start = _week_start(today - timedelta(weeks=n))
            return _Period(start, start + timedelta(days=6), "week")
        if u == "month":
            d = _add_months(today, -n)
            return _Period(date(d.year, d.month, 1), _month_end(d.year, d.month), "month")
        return _Period(date(today.year - n, 1, 1), date(today.year - n, 12, 31), "year")
    if window is not None or t.startswith(("past ", "the past ", "the last ")):
        # A rolling window: "the past 3 days", "past week", "the last 6 months"; "last week" is a
        # calendar week.
        n = _count(window.group(1)) if window is not None else 1
        if u in ("day", "week"):
            start = today - timedelta(days=n * (7 if u == "week" else 1))
        else:
            start = _add_months(today, -n * (12 if u == "year" else 1))
        return _Period(start, today, "recent")
    current = t.startswith(("this", "earlier"))
    if u == "week":
        start = _week_start(today) - (timedelta(0) if current else timedelta(weeks=1))
        return _Period(start, today if current else start + timedelta(days=6), "week")
    if u == "month":
        d = today if current else _add_months(today, -1)
        return _Period(date(d.year, d.month, 1), today if current else _month_end(d.year, d.month), "month")
    year = today.year if current else today.year - 1
    return _Period(date(year, 1, 1), today if current else date(year, 12, 31), "year")


def _frame(m: re.Match[str], question: str, today: date) -> TimeFrame | None:
    g = m.groupdict()
    phrase = m.group(0)
    spans = ((m.start(), m.end()),)
    if g["between"]:
        return _range(_named_point(m, "a", today), _named_point(m, "b", today), phrase, spans)
    if g["fromto"]:
        return _range(_named_point(m, "c", today), _named_point(m, "d", today), phrase, spans)
    if g["ya"]:
        first, second = int(g["ya"]), range_end(g["ya"], g["yb"])
        if second <= first:
            return None
        return TimeFrame(date(first, 1, 1), date(second, 12, 31), phrase, "between", spans)
    if g["bounded"]:
        point = _relative_point(g["rele"], today) if g["rele"] else _named_point(m, "e", today)
        if point is None:
            return None
        bound = re.sub(r"\s+", " ", g["bound"].lower())
        if bound == "since":
            return TimeFrame(point.since, today, phrase, "since", spans)
        if bound == "after":
            return TimeFrame(point.until + timedelta(days=1), today, phrase, "since", spans)
        if bound in ("before", "prior to"):
            return TimeFrame(None, point.since - timedelta(days=1), phrase, "before", spans)
        return TimeFrame(None, point.until, phrase, "before", spans)
    if g["relative"]:
        # Keep "the": "in the last week" is a rolling window, "last week" a calendar week.
        p = _relative_point(_LEADING_PREPOSITION.sub("", g["relative"]), today)
        return TimeFrame(p.since, p.until, phrase, p.kind, spans)
    point = _named_point(m, "g", today)
    if point is None:
        return None
    pre = g["pre"] or ""
    sure = _TIME_PREPOSITION.match(pre) is not None or _PART_BEFORE.search(pre) is not None
    if g["y4g"] and not sure and not looks_like_year(question, m.start("y4g"), m.end("y4g")):
        return None  # "the 2000 runners"
    if g["m5g"] and not sure:
        return None  # "May" alone is too often the verb; "in May" is a month
    return TimeFrame(point.since, point.until, phrase, point.kind, spans)


def _range(
    first: _Period | None, second: _Period | None, phrase: str, spans: tuple[tuple[int, int], ...]
) -> TimeFrame | None:
    if first is None or second is None:
        return None
    since = first.since
    if not first.has_year and second.has_year:
        # "between March and May 2024": March takes 2024; "from November to February 2025": 2024.
        year = second.since.year - (1 if first.since.month > second.since.month else 0)
        since = first.since.replace(year=year)
    if since > second.until:
        return None
    return TimeFrame(since, second.until, phrase, "between", spans)


def _combine(frames: list[TimeFrame]) -> TimeFrame:
    periods = [f for f in frames if f.kind not in ("since", "before")]
    bounds = [f for f in frames if f.kind in ("since", "before")]
    starts = [f.since for f in periods if f.since is not None]
    ends = [f.until for f in periods if f.until is not None]
    since: date | None = min(starts) if starts else None
    until: date | None = max(ends) if ends else None
    for b in bounds:
        if b.since is not None:
            since = b.since if since is None else max(since, b.since)
        if b.until is not None:
            until = b.until if until is None else min(until, b.until)
    if since is not None and until is not None and since > until:
        # Contradicting times ("compare 2020 with since last week"): cover all of them instead,
        # so no article the question names is filtered away.
        since = None if any(f.since is None for f in frames) else min(f.since for f in frames if f.since)
        until = None if any(f.until is None for f in frames) else max(f.until for f in frames if f.until)
    kind: TimeFrameKind = "before" if since is None and until is not None else (
        "since" if until is None and since is not None else "between")
    phrase = " and ".join(f.phrase for f in frames)
    return TimeFrame(since, until, phrase, kind, tuple(s for f in frames for s in f.spans))


# ---- public API --------------------------------------------------------------------------------


def parse_timeframe(question: str, today: date) -> TimeFrame | None:
    """Find the time a question names, as inclusive dates.

    Args:
        question: The user's question.
        today: The day relative words count from (the app's date or `--as-of`).

    Returns:
        The frame, or None when the question names no time. Several times are joined into one
        frame (see the module docstring).
    """
    frames = [f for m in _FRAMES.finditer(question) if (f := _frame(m, question, today)) is not None]
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else _combine(frames)


def strip_timeframe(question: str, frame: TimeFrame) -> str:
    """The question without its time words, tidied ("What was the target in 2020?" -> "What was
    the target?"); "" when nothing else is left ("and in 2020?").

    Args:
        question: The question the frame was parsed from.
        frame: Its frame from `parse_timeframe`.

    Returns:
        The question without the frame's words. When the spans do not fit the question (a frame
        from another question), the phrase is searched for instead; the question comes back
        unchanged if it is not there.
    """
    spans = list(frame.spans)
    if not all(0 <= s < e <= len(question) for s, e in spans) or " and ".join(
        question[s:e] for s, e in spans
    ) != frame.phrase:
        found = question.lower().find(frame.phrase.lower())
        spans = [(found, found + len(frame.phrase))] if found >= 0 else []
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and _BETWEEN_SPANS.fullmatch(question, merged[-1][1], s):
            s = merged.pop()[0]  # "the 2020 and 2025 articles" -> "the articles"
        merged.append((s, e))
    out = question
    for s, e in reversed(merged):
        if out.startswith(("'s", "’s"), e):
            e += 2  # "2024's budget" -> "budget"
        out = out[:s] + " " + out[e:]
    out = re.sub(r"\s+", " ", out)
    out = re.sub(r"\s+([?.!,;:])", r"\1", out)
    out = re.sub(r"(?:,\s*)+([?.!])", r"\1", out)
    out = re.sub(r"\s*\b(?:and|or|but)\b\s*([?.!]|$)", r"\1", out, flags=re.IGNORECASE)
    out = re.sub(r"^[\s,;:]+|[\s,;:]+$", "", out)
    return out if re.search(r"\w", out) else ""


def is_about_now(question: str) -> bool:
    """Whether the question asks for the present state ("currently", "now", "latest", "still",
    "today", "at present", "this week"…), so the newest value must come first.

    A question that also names a past time ("What was the latest figure in 2020?") is about that
    time, not now: False. Frames that run up to today ("since 2019", "this year") keep it True.

    Args:
        question: The user's question.

    Returns:
        True when the answer should lead with the newest value.
    """
    if _NOW.search(question) is None:
        return False
    frame = parse_timeframe(question, _FAR_FUTURE)
    return frame is None or frame.until is None or frame.until >= _FAR_FUTURE
