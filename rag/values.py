"""The checkable values in a sentence, and whether a passage states them. Pure functions, no I/O.

A *value* is a percent, an amount of money, a number, a date, a year or a proper name. Two
questions use them: is an answer sentence backed by the passage it cites (`supports`), and do two
sources disagree on a figure (compare `Value.norm` of the same `kind`, or use `matches`).

This module is the public API and the rules; the readers are rag/quantities.py (percents, money, numbers),
rag/dates.py (dates, years, decades) and rag/names.py (proper names and name matching), on the calendar of
rag/_calendar.py. `Value` itself is in rag/types.py.

Rules chosen, and why:

- **One value, many spellings.** `norm` is the comparison key: "5%", "5 percent", "five per
  cent", "5.0 %" are percent "5"; "$1.2bn", "1.2 billion dollars", "US$1.2 billion" are money
  "USD 1200000000"; "1,200" and "1.2 thousand" are number "1200". Ranges written with a dash
  ("3-3.5%", "3%–3.5%", "$1-2bn") or with "to"/"between … and" after a bare first number ("3 to
  3.5 per cent") are one value, "3-3.5"; "from 2% to 3%" stays two values (a change, not a range).
  Ranges of plain numbers ("10-15", also sports scores) stay two numbers.
- **Percents are never numbers.** "2% of GDP" against a passage with only "3%" is missing: this
  is the error the check exists for. A plain number in a claim matches the same quantity in any
  form (number, percent, money, year), since the claim itself gave no unit to disagree with.
- **Spelled numbers**: zero..nineteen, the tens, compounds ("twenty-five") and scales ("two
  million", "a billion"). "one" alone, "a dozen", "dozens", "hundreds" and word ordinals
  ("first") are not values: in news they are pronouns ("one of the allies") or loose counts.
  Digit ordinals ("21st") are numbers. Suffixes "m"/"k"/"b" mean million/thousand/billion only
  after a currency ("$5m"); a bare "100m" stays 100 (sprints, metres).
- **Money** needs a currency (symbol, ISO code or word); "$" and "dollars" are read as USD, "¥" as
  JPY. Money matches money of the same amount and currency, or a plain number of that amount
  (the passage may name the currency in another sentence).
- **Dates** normalise to ISO: "24 Nov 2020", "November 24, 2020", "2020-11-24" -> "2020-11-24";
  partial dates keep what they have: "November 2020" -> "2020-11", "Nov. 24" -> "--11-24", a
  month after a preposition ("in March") -> "--03"; a weekday alone ("on Monday") -> "monday". A
  year inside a full date is not a separate value (it would be reported twice); instead a claimed
  year matches a passage date in that year. Numeric dates like "03/04/2020" are read only when
  unambiguous (one part above 12). A year range "2019-21" is two years.
- **Years** are 1900-2099 written alone where a year reads naturally: after "in", "since",
  "before"… or followed by a singular word ("the 2020 article"); "2000 troops" is a number.
  Decades: "the 1990s", "'90s". A claimed year also matches that number or a date in that year.
- **Names** are runs of capitalised words ("Jens Stoltenberg", "Washington Post", "NATO", "U.S.",
  "Bankman-Fried", "McDonald's"), split at titles ("President", "Secretary General": the
  passage may call him "NATO chief"), without leading function words ("The", "However",
  "According"), months, weekdays or "I". The first word of a sentence is a name only with
  evidence: two capitals or a possessive ("NATO", "Trump's"), capitalised again later in the
  text, or followed by a reporting verb or "and <Name>" ("Biden said", "Poland and Estonia");
  so "Both", "Yes", "Since", "Defence spending…" are not names. A false name makes a true
  sentence look unsupported, so unclear cases are left out. Norms are lower case without
  possessives or dots: "Trump's" -> "trump", "U.S." -> "us".
- **Name matching** (`supports`): each significant word of the claimed name appears as a word of
  the passage, case-insensitively, so "Stoltenberg" is found in "Jens Stoltenberg". A place and
  its demonym match ("Europe"/"European", "Russia"/"Russians"). A small alias table, each entry
  a form news writes interchangeably: US / U.S. / USA / United States / American(s); UK /
  Britain / United Kingdom / British; EU / European Union; UN / United Nations; GDP / gross
  domestic product.

Known limits: rounded figures ("1.2 million" for "1,234,567") do not match; European number
formats ("1.200,5") are not read; "Jens Stoltenberg" in a claim needs "Jens" in the passage too;
a name at the very start of a sentence with no evidence ("Macron wants…" is found, "Macron,
however, …" is not) is missed; word-level name matching cannot tell who did what to whom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from rag._calendar import UNITS
from rag.dates import date_matches, find_dates
from rag.markers import BRACKET
from rag.names import find_names, name_in, named_in_part, word_set
from rag.quantities import find_quantities
from rag.types import Value as Value
from rag.types import ValueKind as ValueKind


@dataclass(frozen=True, slots=True)
class ValueCheck:
    """The outcome of `supports`.

    Attributes:
        values: Every value found in the claim, in order.
        missing: The claim values the passage does not state.
    """

    values: tuple[Value, ...]
    missing: tuple[Value, ...]

    @property
    def supported(self) -> bool:
        """True when no value is missing (also for a claim without values)."""
        return not self.missing


# URLs, e-mail addresses, citation markers ("[2]") and list numbers ("1. ") hold digits that are not claims.
_SKIP = re.compile(
    rf"https?://\S+|www\.\S+|\b[\w.+-]+@[\w-]+\.[\w.]+|{BRACKET}|^[ \t]*\d{{1,2}}[.)](?=[ \t])",
    re.MULTILINE,
)


def extract_values(text: str) -> list[Value]:
    """Find the percents, amounts, numbers, dates, years and proper names in a text.

    Args:
        text: A sentence or a passage.

    Returns:
        The values in order of position; spans do not overlap.
    """
    taken = [(m.start(), m.end()) for m in _SKIP.finditer(text)]
    values = find_dates(text, taken)
    quantities = find_quantities(text, taken)
    taken.extend((v.start, v.end) for v in quantities)
    values += quantities
    values += find_names(text, taken)
    return sorted(values, key=lambda v: v.start)


def _numbers(v: Value) -> frozenset[Decimal]:
    if v.kind in ("percent", "number", "year") or v.kind == "money":
        amount = v.norm.split(" ")[-1]
        if amount.endswith("s"):
            return frozenset()  # a decade
        return frozenset(Decimal(x) for x in amount.split("-") if x)
    return frozenset()


def matches(claim: Value, other: Value) -> bool:
    """Whether `other` states the value `claim` asserts (the rules of the module docstring).

    The relation is directed: a claimed year is matched by a date in that year, not the reverse;
    a claimed range by a range with the same ends. Names compare word by word here; `supports`
    also accepts name words found anywhere in the passage.

    Args:
        claim: A value from the sentence being checked.
        other: A value from a source.

    Returns:
        True when `other` backs `claim`.
    """
    if claim.kind == "name":
        return other.kind == "name" and name_in(claim.norm, set(other.norm.split(" ")))
    if claim.kind == "date":
        return other.kind == "date" and date_matches(claim.norm, other.norm)
    if claim.kind == "year":
        if claim.norm.endswith("s"):  # a decade: the same decade or any year in it
            return other.norm == claim.norm or (
                other.kind in ("year", "date") and other.norm[:3] == claim.norm[:3] and other.norm[:4].isdigit()
            )
        if other.kind == "date":
            return other.norm[:4] == claim.norm
        return other.kind in ("year", "number") and other.norm == claim.norm
    wanted = _numbers(claim)
    if claim.kind == "number":
        return other.kind in ("number", "percent", "money", "year") and wanted <= _numbers(other)
    if claim.kind == "percent":
        return other.kind == "percent" and wanted <= _numbers(other)
    # money
    if other.kind == "number":
        return wanted == _numbers(other)
    return other.kind == "money" and claim.norm.split(" ")[0] == other.norm.split(" ")[0] and wanted <= _numbers(other)


_SPELLED = {v: k for k, v in UNITS.items()}


def _found(v: Value, passage_values: list[Value], words: set[str]) -> bool:
    if v.kind == "name":
        return name_in(v.norm, words) or named_in_part(v, passage_values)
    if any(matches(v, p) for p in passage_values):
        return True
    if v.kind in ("number", "year") and "-" not in v.norm:
        # A figure the passage writes in a form not read as a value: "F-35", "one", a URL.
        n = v.norm
        return n in words or (n.isdigit() and _SPELLED.get(int(n), "") in words)
    if "-" in v.norm and v.kind in ("percent", "money"):
        # A range is stated when each end is, e.g. "between 3% and 3.5%" written as two values.
        prefix = v.norm.split(" ")[0] + " " if v.kind == "money" else ""
        ends = v.norm.split(" ")[-1].split("-")
        return all(any(matches(Value(v.kind, prefix + e, e, 0, 0), p) for p in passage_values) for e in ends)
    return False


def supports(claim: str, passage: str) -> ValueCheck:
    """Check that every value in a claim is stated in a passage.

    For a sentence that cites several passages, pass them joined with a blank line: a value
    found in any of them counts.

    Args:
        claim: The sentence to check, e.g. an answer sentence without its [n] markers.
        passage: The cited source text.

    Returns:
        The claim's values and those the passage lacks; `supported` is True when none is missing.
    """
    values = tuple(extract_values(claim))
    if not values:
        return ValueCheck((), ())
    passage_values = extract_values(passage)
    words = word_set(passage)
    return ValueCheck(values, tuple(v for v in values if not _found(v, passage_values, words)))
