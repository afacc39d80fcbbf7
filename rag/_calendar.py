"""The calendar, written once: month and weekday tables, spelled numbers, the pieces of dates and years the date
readers build their patterns from, the decade and year-range rules, and the "is this number a year?" test.

The readers: `rag.values` (dates and years in passages and answers), `rag.timeframe` (the time a question names) and
`rag.mentions` (full dates in a question). Plain tables, not dateparser's language data: every caller needs the
same few English forms on every sentence, and a table is exact, fast and readable (see `rag.timeframe` for the
measurement). tests/rag/test_dates_grammar.py has what each reader reads.
"""

from __future__ import annotations

import re

MONTHS: dict[str, int] = {}
for _number, _forms in enumerate(
    (
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
        ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"),
        ("october", "oct"), ("november", "nov"), ("december", "dec"),
    ),
    start=1,
):
    for _form in _forms:
        MONTHS[_form] = _number
        if _form != _forms[0]:
            MONTHS[_form + "."] = _number  # "Nov." and "Sept."

MONTH_NAMES: tuple[str, ...] = tuple(m for m in MONTHS if m.isalpha() and len(m) > 3 or m == "may")
MONTH_FORMS: tuple[str, ...] = tuple(m for m in MONTHS if m.isalpha())  # "january", "jan", "sept", "sep"…: no dots
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Spelled numbers. "one" alone is deliberately missing from what callers treat as a value: it is far
# more often a pronoun or determiner ("one of the allies", "no one") than a figure.
UNITS: dict[str, int] = {
    w: i for i, w in enumerate(
        """
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen
""".split()
    )
}
TENS: dict[str, int] = {
    w: 10 * i for i, w in enumerate("""
twenty thirty forty fifty sixty seventy eighty ninety
""".split(), start=2)
}
SCALES: dict[str, int] = {"hundred": 100, "thousand": 1_000, "million": 10**6, "billion": 10**9, "trillion": 10**12}


def alternation(forms: list[str] | tuple[str, ...]) -> str:
    """A regex alternation of literal forms, longest first so "Sept." wins over "Sep"."""
    return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))


def capitalised(forms: list[str] | tuple[str, ...]) -> list[str]:
    return [f[0].upper() + f[1:] for f in forms]


# Pieces of the date patterns (each reader adds the context it needs around them).
YEAR = r"(?:19|20)\d\d"  # a year the readers consider: 1900-2099
SHORT_YEAR = r"\d\d(?!\d)"  # the second end of "2019-21"
DECADE = r"(?:19|20)\d0"  # "1990" of "the 1990s"
SHORT_DECADE = r"\d0"  # "90" of "the '90s"
APOSTROPHE = r"['’]"
MONTH_NUMBER = r"(?:0[1-9]|1[0-2])"  # of an ISO date
DAY_NUMBER = r"(?:0[1-9]|[12]\d|3[01])"  # of an ISO date
ORDINAL = r"(?:st|nd|rd|th)"  # "21st", "3rd of March"


def decade_start(digits: str) -> int:
    """The first year of a decade: "1990" -> 1990; two digits "90" -> 1990, "20" -> 2020, "00" -> 2000 ('30s and
    later are the 1900s: news rarely names the 2030s or 2090s)."""
    if len(digits) == 4:
        return int(digits)
    return (1900 if int(digits) >= 30 else 2000) + int(digits)


def range_end(first: str, last: str) -> int:
    """The second year of a range: ("2019", "2021") -> 2021; ("2019", "21") -> 2021 (the century of the first).
    The caller checks it is after the first: ("1999", "00") -> 1900 is no range."""
    return int(last) if len(last) == 4 else int(first) // 100 * 100 + int(last)


def words_to_int(words: str) -> int | None:
    """ "twenty-five" -> 25, "two hundred thousand" -> 200000, "a million" -> 1000000; else None."""
    total = current = 0
    seen = False
    for w in re.split(r"[\s-]+", words.lower().strip()):
        if w in ("a", "an"):
            current, seen = 1, True
        elif w in UNITS:
            current, seen = current + UNITS[w], True
        elif w in TENS:
            current, seen = current + TENS[w], True
        elif w == "hundred" and seen:
            current = (current or 1) * 100
        elif w in SCALES and seen:
            total, current = total + (current or 1) * SCALES[w], 0
        elif w == "and":
            continue
        else:
            return None
    return total + current if seen else None


# Words after which a 1900-2099 number reads as a year: "in 2020", "since 2014", "mid-2020".
_YEAR_BEFORE = re.compile(
    r"(?:\b(?:in|during|since|before|after|until|till|by|from|between|through|throughout|"
    r"early|late|mid|year|fiscal|election|(?:summer|spring|autumn|fall|winter|end|start|beginning|middle|"
    r"half|quarter)\s+of|january|february|march|april|may|june|july|august|september|october|november|"
    r"december)[\s-]+|['’])$",
    re.IGNORECASE,
)
# Plural nouns that commonly follow a year ("the 2020 elections"), unlike "2000 troops".
_YEAR_NOUNS = frozenset(
    """
elections olympics games protests riots talks attacks floods fires wildfires sanctions midterms primaries
results figures numbers accords negotiations rules reforms budgets estimates forecasts targets guidelines
accounts articles reports statistics data
""".split()
)
_COUNT_NOUNS = frozenset(["people", "men", "women", "children", "police", "personnel", "staff", "more", "new", "other"])
_NOT_PLURAL = frozenset(["was", "is", "has", "as", "this", "its", "his", "vs", "plus", "us", "thus", "whereas"])
_NEXT_WORD = re.compile(r"\s*([A-Za-z][\w'’-]*)")


def looks_like_year(text: str, start: int, end: int) -> bool:
    """Whether the 1900-2099 number at text[start:end] reads as a year in its context.

    "in 2020", "since 2014", "2020's", "the 2020 article": yes. "2000 troops": no. A number not
    after a year word and followed by a plural noun is a count; anything else is a year.
    """
    if _YEAR_BEFORE.search(text, max(0, start - 24), start):
        return True
    if text.startswith(("'s", "’s"), end):
        return True
    m = _NEXT_WORD.match(text, end)
    if m is None:
        return True
    nxt = m.group(1)
    if nxt[0].isupper():
        return True
    low = nxt.lower()
    if low in _COUNT_NOUNS:
        return False
    plural = low.endswith("s") and not low.endswith("ss") and low not in _NOT_PLURAL
    return not plural or low in _YEAR_NOUNS
