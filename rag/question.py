"""The question, read once: the words searched and asked, the time, the days it names, what it asks for.

Every later step (retrieval's focus, the reader, the timeline, the order of a "Sources differ" timeline) takes the
`Question`; none parses the words again. `read_question` reads what a reader asked, in its conversation
(rag/followup.py makes a follow-up stand alone); `read_query` reads words searched as they are, with no
conversation and only the time the caller gives (what a retriever is handed by the evals and the LangChain
adaptor). The index's outlets are matched by the retriever, which knows them (rag/retrieve.py `focus`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from rag.followup import standalone
from rag.mentions import dates_named, names_a_time
from rag.timeframe import is_about_now
from rag.timeline import asks_for_timeline, asks_since
from rag.types import TimeRange, Turn

# A question whose time ended more than this long before its day is about the past (its timeline oldest first).
_PAST = timedelta(days=31)


@dataclass(frozen=True, slots=True)
class Question:
    """A question as every step after reading it sees it."""

    text: str  # as the reader asked it (Answer.question)
    searched: str  # standing on its own: what retrieval searches (Answer.standalone_question)
    asked: str  # what the model is asked
    today: date  # the day it is asked as of
    time: TimeRange | None = None  # the time it names, if any
    topic: str = ""  # `searched` without its time words: what sentences are weighed against
    days: frozenset[str] = frozenset()  # ISO days it names ("November 1, 2023")
    names_time: bool = False  # it names a day or a year of its own: no recency prior
    about_now: bool = False  # it asks for the present state ("currently", "latest")
    timeline: bool = False  # it asks how something developed (rag/timeline.py)
    since: date | None = None  # "what has changed since DAY": the day a timeline counts changes from

    @property
    def newest_first(self) -> bool:
        """A question about a past time reads its timeline oldest first; about now (or no time), newest first."""
        t = self.time
        past = t is not None and t.until is not None and t.until < self.today - _PAST
        return not past or self.about_now


def read_query(words: str, today: date | None = None, time: TimeRange | None = None) -> Question:
    """Words searched as they are: no conversation, the time only as given."""
    words = words.strip()
    return Question(words, words, words, today or date.today(), time, words, frozenset(dates_named(words)),
                    names_a_time(words))


def read_question(text: str, history: Sequence[Turn] = (), today: date | None = None) -> Question:
    """What a reader asked, after the conversation's `history`, as of `today` (default: the real today)."""
    today = today or date.today()
    st = standalone(text, history, today)
    since = st.time.since if st.time and st.time.since and asks_since(st.searched) else None
    return Question(text.strip(), st.searched, st.asked, today, st.time, st.topic or st.searched,
                    frozenset(dates_named(st.searched)), names_a_time(st.searched), is_about_now(text),
                    asks_for_timeline(st.searched), since)
