"""Follow-up questions keep the topic and change what they change; time words become a time range.

Deterministic on purpose: asking a 1.5B model to rewrite questions costs seconds and sometimes changes their
meaning. The rules, in order, for a question asked after earlier turns:
1. **A new time for the same topic** ("and in 2020?", "what about last year?", "in 2019?"): the question is only
   a time and some glue, so the previous question is asked again with its own time words replaced:
   "What is the NATO target?" + "and in 2020?" -> "What is the NATO target in 2020?".
2. **About the last answer** ("who said that?", "when was that?", "is that true?"): a short question that points
   back with "that/this/it" is searched together with the last answer's first sentence, which it refers to.
3. **A continuation** (a pronoun, "and/but/also/what about …", or four words or fewer): searched together with
   the previous question; the model is told which question it follows.
4. Anything else starts a new topic.
The time range is read from the question as searched (rag/timeframe.py), so a follow-up keeps the time of the
question it continues unless it names its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag._calendar import SHORT_DECADE, YEAR
from rag.markers import strip_markers
from rag.timeframe import TimeFrame, parse_timeframe, strip_timeframe
from rag.types import TimeRange, Turn

_PRONOUN = re.compile(r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|then|the same)\b",
                      re.I)
_CONTINUES = re.compile(r"\s*(and|but|also|what about|how about)\b", re.I)
_GLUE = re.compile(r"^\W*(?:and|but|so|also|what about|how about|and what about|then|same|the same|for|in|during|as of|"
                   r"what was it|what was that|and then|what is it|was it|is it|\s)*\W*$", re.I)
_POINTS_BACK = re.compile(r"\b(that|this|it)\b", re.I)


@dataclass(frozen=True, slots=True)
class Standalone:
    """A question made to stand on its own."""

    searched: str  # what retrieval searches (Answer.standalone_question)
    asked: str  # what the model is asked
    time: TimeRange | None  # the time it names, if any
    topic: str = ""  # `searched` without its time words: what sentences are weighed against ("" = searched)


_YEAR = re.compile(rf"\b{YEAR}\b|\b{SHORT_DECADE}s\b")


def time_range(frame: TimeFrame | None, today: date, question: str = "") -> TimeRange | None:
    """How a named time applies to the evidence (the rule of rag/retrieve.py):
    - A time that begins after `today` is a plan or a forecast reported now ("by 2035", "the 2026 World Cup"):
      it changes nothing. Nor does "Today" inside a name ("Business Today", "USA Today").
    - Any time ranks the evidence: articles published during it come first (rag/retrieve.py).
    - One time with a year ("in 2020", "since March 2024", "between 2019 and 2021") is also strict: articles
      published before it began (less two days, for time zones and "after 4 October" reported on the 4th) cannot
      report it, so they never supply the dated figures of a "Sources differ" timeline (rag/conflicts.py).
    - A day or month without a year ("on October 18th": which year is a guess), a time counted from today ("last
      week": in a quoted or compared context it is often counted from the article), and several times in one
      question (a comparison of reports on two dates, or a typo in one) only rank.
    """
    if frame is None or (frame.since is not None and frame.since > today):
        return None
    if question and frame.spans:
        s = frame.spans[0][0]
        if question[s:s + 1].isupper() and s > 0 and question[:s].strip()[-1:] not in ".?!":
            return None  # a capitalised time word inside a sentence is part of a name
    strict = len(frame.spans) == 1 and bool(_YEAR.search(frame.phrase))
    return TimeRange(frame.since, frame.until, frame.phrase, strict)


def _with_time(question: str, phrase: str) -> str:
    body = question.rstrip(" ?.!")
    return f"{body} {phrase}?"


def _own_or_previous(frame: TimeFrame | None, question: str, previous: str, today: date) -> TimeRange | None:
    """A follow-up keeps the previous question's time unless it names its own."""
    if frame is not None:
        return time_range(frame, today, question)
    return time_range(parse_timeframe(previous, today), today, previous)


def _first_claim(turn: Turn) -> str:
    if turn.answer.refused:
        return ""
    text = strip_markers(turn.answer.text.split("\n\n")[0]).strip()
    first = re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0]
    return first[:300]


def standalone(question: str, history: Sequence[Turn], today: date) -> Standalone:
    """The question as it should be searched and asked, given the conversation so far (module docstring)."""
    st = _standalone(question, history, today)
    frame = parse_timeframe(st.searched, today) if st.time else None
    topic = strip_timeframe(st.searched, frame) if frame and st.time and frame.phrase == st.time.phrase else ""
    return Standalone(st.searched, st.asked, st.time, topic)


def _standalone(question: str, history: Sequence[Turn], today: date) -> Standalone:
    question = question.strip()
    frame = parse_timeframe(question, today)
    if not history:
        return Standalone(question, question, time_range(frame, today, question))
    previous = history[-1].answer.standalone_question
    if frame is not None and _GLUE.match(strip_timeframe(question, frame) or ""):
        before = parse_timeframe(previous, today)
        topic = strip_timeframe(previous, before) if before else previous
        rewritten = _with_time(topic, frame.phrase)
        return Standalone(rewritten, rewritten, time_range(frame, today, question))
    words = question.split()
    claim = _first_claim(history[-1])
    if claim and len(words) <= 6 and _POINTS_BACK.search(question):
        # The claim's own time words ("since 2014") are not the question's time: that is the previous one's.
        return Standalone(f"{question} {claim}", f"{question} (“{claim}”)",
                          _own_or_previous(frame, question, previous, today))
    if _PRONOUN.search(question) or _CONTINUES.match(question) or len(words) <= 4:
        searched = f"{previous} {question}"
        return Standalone(searched, f"{question} (a follow-up to “{previous}”)",
                          _own_or_previous(frame, question, previous, today))
    return Standalone(question, question, time_range(frame, today, question))
