"""Timeline answers: a story's dated events in date order, each one sentence that a cited passage states.

Built in code, not written by the model. Asked for a timeline, the 1.5B model merged events of different days into
one sentence and dated them by the article it read last; sentences of the articles are true by construction, their
dates are read from their words, and the first event shows as soon as retrieval is done (no prompt to evaluate).

1. `asks_for_timeline`: "How did … develop/change/unfold?", "timeline of …", "what happened … since …", "what has
   changed … since …" (or `ask --timeline`).
2. `subject`: the question without its asking words ("How did NATO's defence spending target change over
   time?" -> "NATO's defence spending target"): what the sentences are weighed against.
3. The prose sentences of the retrieved passages are weighed against the subject by the cross-encoder, each after
   its article's title (a sentence dated by its words gets a bonus); the best ones within `margin` of the best,
   at most `per_article` of an article's own day and `most` in all, are the events. The cross-encoder rates how
   much a sentence is about the story, not whether it tells a development of it: comment and background are
   left out by their form (`_is_comment`: speech without a speaker, how someone came to be, and in a saga an
   article-dated forecast, state "since" or sentence with no verb in a past form). The story of a figure (a
   target, a fare, a budget) is told by the sentences that give one. A sentence of an article without a date
   counts when its words give a day or month.
4. `date_of` dates each: the day its words give ("on Tuesday" in an article of 2025-03-04 is 2025-03-04,
   "yesterday" the day before, "since 2014" the year 2014), else its article's day. A time after the article's
   day is a plan ("by 2030", "next week"), not when the event happened: the article's day dates it. A sentence
   dated by its words is cut to the clause that holds the date ("The current 2% target has been in place since
   2014" without ", but Trump wants a higher figure", which is 2025's news).
5. Sentences that share their words (wire copies, outlets repeating each other, "In November, he made his way to
   Buenos Aires…" and "… in Buenos Aires, Argentina, on 11 November") are one event citing each when their dates
   can be one: dated by the one that gives its day (the finer of two), else the earliest article.
6. "What changed since DAY?": the events after that day, and one line (`before`) on the latest event up to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

from index.keyword import tokenize
from index.types import Chunk, published_day, short_date
from rag._calendar import WEEKDAYS
from rag.clauses import clause_span
from rag.conflicts import names_an_amount
from rag.prose import in_context, prose_spans
from rag.reading import Scorer
from rag.types import Hit, TimelineEvent
from rag.values import extract_values

_ASKS = re.compile(
    r"\bhow (?:did|has|have|does|do|had)\b.{0,120}?\b(?:develop|evolv|unfold|chang|progress|shift|play(?:ed)? out"
    r"|turn(?:ed)? out|come about|came about|escalat|grow|grew)\w*"
    r"|\btime-?lines?\b|\bchronolog\w*|\bsequence of events\b|\bhistory of\b|\bover (?:time|the (?:years|months|weeks"
    r"|past))\b|\bwhat (?:has |have )?happened\b.{0,120}?\bsince\b|\bwhat(?:'s| has| have)? changed\b"
    r"|\b(?:latest )?developments (?:in|on|of|since)\b|\bstep by step\b",
    re.I)
_SINCE_CHANGE = re.compile(r"\b(?:changed?|new|happened|developments?|news)\b.{0,120}?\bsince\b", re.I)
# The asking words around the subject: "How did … change over time?" -> "…".
_ASKING = re.compile(
    r"^\s*(?:how (?:did|has|have|does|do|had)|what (?:is|was) the (?:time-?line|history|chronology) of"
    r"|(?:give|show|tell) (?:me )?(?:a |the )?(?:time-?line|history|chronology) of|time-?line of|chronology of"
    r"|history of|what (?:has |have )?(?:happened|changed) (?:in|to|with|at|on|about)"
    r"|what(?:'s| is) new (?:in|on|about|with)|what are the latest developments (?:in|on))\s+"
    r"|\s+(?:develop|evolve|unfold|change|progress|shift|play out|turn out|come about|escalate|grow)\w*\b.*$"
    r"|\s+(?:since|over)\b.*$|\?\s*$",
    re.I)
_PLAN_BEFORE = re.compile(r"\b(?:by|until|till|before|through|within|next|coming|due|ahead of|from now|in the next"
                          r"|starting|from|effective)\s+(?:the\s+)?$", re.I)
_RELATIVE = re.compile(r"\b(?:(?P<yesterday>yesterday|last night)|(?P<today>today|tonight|this (?:morning|afternoon"
                       r"|evening)|earlier today))\b", re.I)
_DATED_BONUS = 2.0
_SPECULATION_COST = 2.0
_BACKGROUND_COST = 4.0
_NO_PAST_COST = 1.0
# A verb in a past form: what happened ("resigned", "was", "took", "has gone"); not "United", "need" or "indeed".
_PAST = re.compile(r"\b(?:(?-i:[a-z]{2,}ed)(?<!need)(?<!indeed)(?<!speed)(?<!hundred)(?<!seed)(?<!feed)(?<!breed)"
                   r"|was|were|had|did|said|told|made|took|met|won|lost|beat|left|began|came|went|held"
                   r"|gave|became|brought|fell|rose|sold|bought|led|ran|saw|hit|put|set|cut|got|found|kept|paid|sent"
                   r"|spent|struck|wrote|broke|chose|drove|flew|grew|spoke|threw|gone|done|taken|given|seen|won|shown"
                   r"|known|begun|fallen|risen|sold|stood|drew|drawn|hid|hidden|been)\b", re.I)
# Comment, not news: "One loss, and all this could unravel."
_SPECULATION = re.compile(r"\b(?:could|might|would|may|perhaps|maybe|if)\b", re.I)
# Speech without its speaker: a quotation cut from its attribution ("“She’s got the Eras Tour booked all through
# next year…"), or the first person in a reporter's sentence ("… the most generous and caring people I know").
_UNSPOKEN = re.compile(r"^\W*[“\"‘']|\b(?:I|we|We|my|My|our|Our|us|me)\b")
_SPEAKER = re.compile(r"\b(?:said|says|say|told|tells|added|adds|wrote|writes|declared|according|asked|stated|argued"
                      r"|claimed|testified|announced|insisted|recalled|explained|noted|posted|tweeted)\b", re.I)
# Background to a story rather than its development: how someone came to be who they are.
_BACKGROUND = re.compile(r"\bbefore (?:his|her|its|their) (?:fall|rise|arrest|career|death)\b|\b(?:was|were) founded\b"
                         r"|\b(?:got|made|began) (?:his|her|its|their) (?:start|name)\b|\b(?:has|have|had) become\b"
                         r"|\b(?:was|were) (?:even |once |often |widely )?(?:compared|likened|dubbed|hailed|seen as"
                         r"|known as|described as)\b|\bin the (?:years?|months|decades?) since\b", re.I)
# "since" with a present perfect: a state over time, not an event
_SINCE = re.compile(r"\bsince\b", re.I)
_PERFECT = re.compile(r"\b(?:has|have|'s|’s)\s+(?:\w+ly\s+|also\s+|already\s+|long\s+)?(?:been|\w+ed|gone|done|seen"
                      r"|made|become|had|taken|given|known|grown|shown)\b", re.I)
# A sentence about what is to come: its weekday or day is the next one ("Yedidia will continue his testimony on
# Thursday", written on a Wednesday, is that Thursday).
_FUTURE = re.compile(r"\bwill\b|\b(?:is|are) (?:set|scheduled|expected|due)\b", re.I)
# A sentence the splitter cut after a name's initial ("… a talented team led by J.J."): half a sentence, no event.
_CUT_AT_INITIAL = re.compile(r"(?:^|\s)(?!(?:U\.S|U\.K|U\.N|E\.U)\.\s*$)(?:[A-Z]\.){1,3}\s*$")
_CONTINUES = re.compile(r"[a-z0-9]")
_RANK = {"year": 0, "month": 1, "day": 2}
_PREFIX = {"year": 4, "month": 7, "day": 10}  # characters of an ISO date a precision fixes
_NAME_GOES_ON = re.compile(r" [A-Z][a-z]")
_WEEKDAY_INDEX = {d: i for i, d in enumerate(WEEKDAYS)}


@dataclass(frozen=True, slots=True)
class Dated:
    """When a sentence says its event happened."""

    day: date
    precision: str  # "day" | "month" | "year"
    dated_by: str  # "text" | "article"
    span: tuple[int, int] | None = None  # the date's words in the sentence (None: dated by the article)


@dataclass(frozen=True, slots=True)
class Event:
    """An event with its sources: (hit, start, end) of each sentence that states it, best first."""

    dated: Dated
    text: str
    sources: tuple[tuple[Hit, int, int], ...]
    score: float

    def quotes(self) -> list[str]:
        """The sentences that state it."""
        return [h.chunk.text[a - h.chunk.start:b - h.chunk.start] for h, a, b in self.sources]

    def to_timeline(self, number: dict[str, int], before: bool = False) -> TimelineEvent:
        d = self.dated
        return TimelineEvent(d.day.isoformat(), self.text,
                             tuple(sorted({number[h.chunk.chunk_id] for h, _, _ in self.sources})),
                             d.dated_by, d.precision, before)


def asks_for_timeline(question: str) -> bool:
    """Whether the question asks how something developed over time."""
    return bool(_ASKS.search(question))


def asks_since(question: str) -> bool:
    """Whether it asks what changed or happened since a day ("What has changed in X since March 10?")."""
    return bool(_SINCE_CHANGE.search(question))


_LAST_VISIT = re.compile(r"\bsince (?:my|our|the) last (?:visit|look|check|time here)\b"
                         r"|\bsince I (?:last )?(?:visited|looked|checked|was here)(?: last)?\b", re.I)


def with_last_visit(question: str, last_visit: date | None) -> str:
    """"What changed since my last visit?" with the day of that visit ("… since 2026-12-01?"); unchanged when the
    question does not say it or there was no visit."""
    if last_visit is None:
        return question
    return _LAST_VISIT.sub(f"since {last_visit.isoformat()}", question)


def subject(question: str) -> str:
    """The question without its asking and time words: what it asks the story of."""
    words = _ASKING.sub("", question)
    words = _ASKING.sub("", words)  # the tail after the head is cut
    return words.strip(" ,.;:?") or question


def date_of(sentence: str, published: date, relative: bool = True) -> Dated:
    """When the sentence says its event happened (module docstring, step 4); the article's day otherwise.
    `relative`: whether a weekday, "yesterday" or "today" counts (not when `published` is only the day asked as
    of, for an article without a date)."""
    latest = published + timedelta(days=1)  # an event reported "today" in another time zone
    ahead = bool(_FUTURE.search(sentence))
    for value in extract_values(sentence):
        if value.kind not in ("date", "year") or _PLAN_BEFORE.search(sentence, max(0, value.start - 20),
                                                                     value.start):
            continue
        if value.norm in _WEEKDAY_INDEX and (not relative or _NAME_GOES_ON.match(sentence, value.end)):
            continue  # a weekday in a name ("Saturday Night Live", "Monday Night Football") is no day
        found = _resolve(value.norm, value.kind, published, ahead)
        if found and (found[0] <= latest or ahead and value.kind == "date"):
            return Dated(found[0], found[1], "text", (value.start, value.end))
    m = _RELATIVE.search(sentence) if relative else None
    if m and not _PLAN_BEFORE.search(sentence, max(0, m.start() - 20), m.start()):
        day = published - timedelta(days=1) if m.group("yesterday") else published
        return Dated(day, "day", "text", m.span())
    return Dated(published, "day", "article")


def _resolve(norm: str, kind: str, published: date, ahead: bool = False) -> tuple[date, str] | None:
    """A date value (rag/values.py's norm) as a day and its precision, counted from the article's day: back to the
    latest such day, or forward to the next one within two months when the sentence is about what is to come."""
    if kind == "year":
        if not norm.isdigit() or int(norm) >= published.year:
            return None  # a decade, or this year: the article's day says more
        return date(int(norm), 1, 1), "year"
    if norm in _WEEKDAY_INDEX:  # the latest such day up to the article's ("on Monday"), or the next one
        if ahead:
            return published + timedelta(days=(_WEEKDAY_INDEX[norm] - published.weekday()) % 7), "day"
        back = (published.weekday() - _WEEKDAY_INDEX[norm]) % 7
        return published - timedelta(days=back), "day"
    parts = norm.split("-")
    try:
        if norm.startswith("--"):  # month (and day) without a year: the latest one up to the article's day
            month, day = int(parts[2]), int(parts[3]) if len(parts) > 3 else None
            year = published.year
            candidate = date(year, month, day or 1)
            if candidate > published + timedelta(days=1):
                if ahead and (candidate - published).days <= 62:
                    return candidate, "day" if day else "month"
                if (candidate - published).days < 150:
                    return None  # later this year: a plan
                candidate = date(year - 1, month, day or 1)
            return candidate, "day" if day else "month"
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1), "month"
        return date(int(parts[0]), int(parts[1]), int(parts[2])), "day"
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True, slots=True)
class _Sentence:
    hit: Hit
    start: int  # absolute offsets in the article text
    end: int
    text: str


def _joined_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """The chunk's prose sentences, a piece the splitter cut at an abbreviation joined back to the one before it: a
    sentence does not start with a digit or a small letter ("… residents on Oct." + "10, 2023, and is reportedly
    preparing …" is one sentence, and its date is whole)."""
    out: list[tuple[int, int]] = []
    for a, b in prose_spans(chunk):
        text = chunk.text[a - chunk.start:b - chunk.start]
        if out and _CONTINUES.match(text) and chunk.text[out[-1][1] - 1 - chunk.start] == ".":
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _sentences(hits: Sequence[Hit], most: int) -> list[_Sentence]:
    seen: set[tuple[str, int]] = set()
    out = []
    for h in hits:
        for a, b in _joined_spans(h.chunk):
            if (h.chunk.article_id, a) in seen:
                continue  # neighbouring chunks overlap: each sentence once
            seen.add((h.chunk.article_id, a))
            text = h.chunk.text[a - h.chunk.start:b - h.chunk.start]
            if len(text.split()) >= 6 and not text.rstrip().endswith("?") and not _CUT_AT_INITIAL.search(text):
                out.append(_Sentence(h, a, b, text))
            if len(out) >= most:
                return out
    return out


def _dated(s: _Sentence, as_of: date | None) -> Dated | None:
    """The sentence's date, None when it has none or its article is newer than the day asked as of. A sentence of
    an article without a date is dated only by a day or month in its words, counted back from the day asked as
    of ("Following his game against the New York Jets on 1 October, …")."""
    day = published_day(s.hit.meta.published)
    if day is not None:
        return date_of(s.text, day) if as_of is None or day <= as_of else None
    if as_of is None:
        return None
    dated = date_of(s.text, as_of, relative=False)
    return dated if dated.dated_by == "text" and dated.precision != "year" else None


def find_events(topic: str, hits: Sequence[Hit], judge: Scorer, *, margin: float = 10.0, floor: float = -2.0,
                per_article: int = 2, most: int = 14, candidates: int = 160, as_of: date | None = None) -> list[Event]:
    """The story's events in the passages, oldest first (module docstring, steps 3-5).

    Args:
        topic: what the story is about (`subject` of the question).
        hits: the retrieved passages, best first.
        judge: scores texts against the topic (the cross-encoder: the embedder rated "We now look forward to how
            Biden is positioning himself…" above "The current 2% target has been in place since 2014" for NATO's
            defence spending target; the cross-encoder put the target first).
        margin, floor: an event scores at least `floor` and at most `margin` below the best.
        as_of: the day the question is asked as of: articles published after it are not read.
    """
    figures = names_an_amount(topic)
    found = [(s, day, dated) for s in _sentences(hits, candidates) if (dated := _dated(s, as_of))
             for day in [published_day(s.hit.meta.published)]]
    if figures:
        # The story of a target, a fare, a budget is the story of its figures: a sentence without one is comment.
        found = [f for f in found if any(v.kind in ("percent", "money") for v in extract_values(f[0].text))]
    if not found:
        return []
    sentences = [s for s, _, _ in found]
    dates = [d for _, _, d in found]
    judged = judge.score(topic, [in_context(s.hit.meta.title, s.text) for s in sentences])
    scores = [x + _bonus(d, s.text, figures) if not _is_comment(d, s.text, figures) else -math.inf
              for x, d, s in zip(judged, dates, sentences)]
    best = max(judged)  # the margin counts from the best judgement, so the bonus ranks and does not raise the bar
    taken: dict[str, int] = {}
    events: list[Event] = []
    for i in sorted(range(len(sentences)), key=lambda i: -scores[i]):
        s, score, dated = sentences[i], scores[i], dates[i]
        if score < max(floor, best - margin) or len(events) >= most:
            break
        # The cap is on an article's news of its own day (its comment on it, mostly); a day its words give is
        # another event's (NATO's 2025 article: 2% "since 2014", 20% more "in 2024", then 3-3.5% and 5% urged).
        story = s.hit.chunk.article_id if dated.day == found[i][1] else ""
        if story and taken.get(story, 0) >= per_article:
            continue
        lo, hi = (0, len(s.text)) if dated.span is None else clause_span(s.text, *dated.span)
        clause = s.text[lo:hi]
        text = clause.strip().rstrip(",;:")
        start = s.start + lo + (len(clause) - len(clause.lstrip()))
        source = (s.hit, start, start + len(text))
        one = Event(dated, text, (source,), score)
        same = next((e for e in events if _merged(e, one)), None)
        if same is not None:
            events[events.index(same)] = _merged(same, one) or same
            continue
        if story:
            taken[story] = taken.get(story, 0) + 1
        events.append(Event(dated, text, (source,), score))
    # Once more, as a whole: a sentence may join two events only after both were taken ("In July, Kelce said…" and
    # "He revealed that he made a friendship bracelet" through "she said she connected with Kelce in July").
    merged = True
    while merged:
        merged = False
        for i, j in combinations(range(len(events)), 2):
            if (both := _merged(events[i], events[j])) is not None:
                events[i] = both
                del events[j]
                merged = True
                break
    return sorted(events, key=lambda e: (e.dated.day, published_day(e.sources[0][0].meta.published) or e.dated.day,
                                         e.sources[0][1]))


def _merged(a: Event, b: Event) -> Event | None:
    """One event told by several articles (`a` the better judged), in the words of the sentence that dates it
    best; None when `a` and `b` are two events."""
    day = _one_date(a.dated, b.dated)
    if day is None or not any(_same_event(x, y) for x in a.quotes() for y in b.quotes()):
        return None
    if day is b.dated and b.dated != a.dated:
        return Event(b.dated, b.text, (*b.sources, *a.sources), max(a.score, b.score))
    return Event(a.dated, a.text, (*a.sources, *b.sources), max(a.score, b.score))


def _one_date(a: Dated, b: Dated) -> Dated | None:
    """The date of an event two sentences date `a` and `b`, or None when they cannot be one event's.

    Words beat an article's day (news is reported on the day it happens or after: "In July, Kelce said…" in an
    article of September and "He revealed that he made a friendship bracelet" in one of October are July's); of
    two articles' days, the earlier; of two dates in words, the finer one within the other ("In November" and
    "on 11 November"), and none when they differ ("on Oct. 10" and "on Oct. 12" are two events)."""
    if a.dated_by != b.dated_by:
        return a if a.dated_by == "text" else b
    if a.dated_by == "article":
        return a if a.day <= b.day else b
    fine, coarse = (a, b) if _RANK[a.precision] >= _RANK[b.precision] else (b, a)
    n = _PREFIX[coarse.precision]
    return fine if fine.day.isoformat()[:n] == coarse.day.isoformat()[:n] else None


def _is_comment(dated: Dated, sentence: str, figures: bool) -> bool:
    """Whether the sentence's form says it is no event of a story, whatever the cross-encoder thinks of it (the
    cross-encoder rates how much a sentence is about the story, not whether it tells a development of it):
    - speech without its speaker ("“She’s got the Eras Tour booked all through next year…", "… the most generous
      and caring people I know");
    - background: how someone or something came to be ("FTX was founded because…", "Before his fall…");
    - in the story of a saga, dated only by its article: a forecast ("supply disruption will lead to higher
      inflation"), a state over time ("While Swift has attended a few of Kelce's games since their relationship
      started…"), or nothing that happened (no verb in a past form: "From Colin Kaepernick taking a knee … to the
      Deflategate and Bountygate scandals."). With a day in its words, "will … on Thursday" is the plan of that
      day, an event; in the story of a figure, where it stands and is headed is news ("the US seeks to increase
      … spending to 5%")."""
    if _UNSPOKEN.search(sentence) and not _SPEAKER.search(sentence) or _BACKGROUND.search(sentence):
        return True
    return not figures and dated.dated_by == "article" and bool(
        _FUTURE.search(sentence) or not _PAST.search(sentence) or _SINCE.search(sentence) and _PERFECT.search(sentence))


def _bonus(dated: Dated, sentence: str, figures: bool) -> float:
    """What a sentence's form says of it being one of the story's events, added to its judgement:
    - it gives the day or month it happened: an event more surely than one its article's day dates;
    - a year alone, years before its article, is background in the story of a saga ("OpenAI was founded in late
      2015"), not in the story of a figure ("the 2% target has been in place since 2014");
    - it speculates ("could", "would"), or tells nothing that happened (no verb in a past form: "Bayern are
      basically a good version of…"): likely comment, though "he could no longer run both companies, he said"
      is testimony."""
    if dated.dated_by == "text" and dated.precision != "year":
        return _DATED_BONUS
    cost = 0.0
    if dated.precision == "year" and not figures:
        cost += _BACKGROUND_COST
    if _SPECULATION.search(sentence):
        cost += _SPECULATION_COST
    if not _PAST.search(sentence):
        cost += _NO_PAST_COST
    return -cost


def _same_event(a: str, b: str) -> bool:
    """Whether two sentences tell one event: half their words shared, or six of them and a fifth ("In November,
    he made his way to Buenos Aires, Argentina, to attend one of her Eras Tour shows" and "Kelce … attended her
    Eras Tour show in Buenos Aires, Argentina, on 11 November")."""
    wa, wb = set(tokenize(a)), set(tokenize(b))
    shared = len(wa & wb)
    return bool(wa and wb) and (shared / len(wa | wb) >= 0.5 or shared >= 6 and shared / len(wa | wb) >= 0.2)


def split_since(events: Sequence[Event], since: date) -> tuple[Event | None, list[Event]]:
    """(the latest event up to `since`, the events after it)."""
    before = [e for e in events if e.dated.day <= since]
    return (before[-1] if before else None), [e for e in events if e.dated.day > since]


def when(event: TimelineEvent) -> str:
    """'24 Nov 2020', 'Nov 2020' or '2020', as precise as the event's date."""
    d = date.fromisoformat(event.date)
    return str(d.year) if event.precision == "year" else f"{d:%b} {d.year}" if event.precision == "month" \
        else short_date(event.date)


def markers(event: TimelineEvent) -> str:
    """'[1][2]': the event's sources."""
    return "".join(f"[{n}]" for n in event.citations)


def cited(event: TimelineEvent) -> str:
    """The event with its markers: '… [1][2]' (what is checked against its passages, and what each line shows)."""
    return f"{event.event} {markers(event)}"


def event_line(event: TimelineEvent) -> str:
    """One line of the answer text: '- 24 Nov 2020: … [1][2]'."""
    return f"- {when(event)}: {cited(event)}"


def before_line(event: TimelineEvent, since: date) -> str:
    return f"Before {short_date(since.isoformat())} ({when(event)}): {cited(event)}"
