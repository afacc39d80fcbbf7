"""The checkable values in a sentence, and whether a passage states them. Pure functions, no I/O.

A *value* is a percent, an amount of money, a number, a date, a year or a proper name. Two
questions use them: is an answer sentence backed by the passage it cites (`supports`), and do two
sources disagree on a figure (compare `Value.norm` of the same `kind`, or use `matches`).

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from rag._calendar import (
    APOSTROPHE,
    DAY_NUMBER,
    DECADE,
    MONTH_NAMES,
    MONTH_NUMBER,
    MONTHS,
    ORDINAL,
    SCALES,
    SHORT_DECADE,
    SHORT_YEAR,
    TENS,
    UNITS,
    WEEKDAYS,
    YEAR,
    alternation,
    capitalised,
    decade_start,
    looks_like_year,
    range_end,
    words_to_int,
)
from rag.markers import BRACKET

ValueKind = Literal["percent", "money", "number", "date", "year", "name"]


@dataclass(frozen=True, slots=True)
class Value:
    """One checkable value found in a text.

    Attributes:
        kind: "percent", "money", "number", "date", "year" or "name".
        norm: The comparison key: percent "5" or "3-3.5"; money "USD 1200000000"; number
            "1200000"; date "2020-11-24", "2020-11", "--11-24", "--03" or a weekday "monday";
            year "2014" or a decade "1990s"; name "jens stoltenberg".
        text: The span as written, e.g. "five per cent".
        start: Offset of the span in the text given to `extract_values`.
        end: Offset just past the span.
    """

    kind: ValueKind
    norm: str
    text: str
    start: int
    end: int


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


# ---- dates -----------------------------------------------------------------------------------

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

# ---- quantities ------------------------------------------------------------------------------

_CURRENCIES: dict[str, str] = {
    "$": "USD", "us$": "USD", "u.s.$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD",
    "us dollar": "USD", "us dollars": "USD", "a$": "AUD", "au$": "AUD", "aud": "AUD", "c$": "CAD",
    "ca$": "CAD", "cad": "CAD", "hk$": "HKD", "nz$": "NZD", "s$": "SGD", "r$": "BRL", "€": "EUR",
    "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "pound": "GBP",
    "pounds": "GBP", "pounds sterling": "GBP", "sterling": "GBP", "¥": "JPY", "jpy": "JPY",
    "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "cny": "CNY", "rmb": "CNY", "₹": "INR",
    "inr": "INR", "rupee": "INR", "rupees": "INR", "chf": "CHF", "franc": "CHF", "francs": "CHF",
    "rouble": "RUB", "roubles": "RUB", "ruble": "RUB", "rubles": "RUB",
}
_CUR_PREFIX = (
    r"US\$|U\.S\.\s?\$|AU?\$|CA?\$|HK\$|NZ\$|S\$|R\$|\$|€|£|¥|₹|(?:USD|EUR|GBP|JPY|CHF|CNY|RMB|INR|AUD|CAD)\s?"
)
_CUR_WORD = (
    r"(?:US\s)?(?:dollars?|euros?|pounds?(?:\s+sterling)?|sterling|yen|yuan|renminbi|rupees?|francs?|roubles?|rubles?)"
)
_SCALE_ABBR = {"k": 10**3, "m": 10**6, "mn": 10**6, "b": 10**9, "bn": 10**9, "tn": 10**12}
_UNITS_1_9 = "one|two|three|four|five|six|seven|eight|nine"
_WORDNUM = (
    rf"(?:{'|'.join(TENS)})(?:[-\s](?:{_UNITS_1_9})\b)?|{alternation(list(UNITS))}"
    rf"|an?(?=[\s-]+(?:{'|'.join(SCALES)})\b)"
)
_QUANTITY = re.compile(
    rf"""(?<![\w.$€£¥₹])
    (?P<cur>{_CUR_PREFIX})?
    (?:(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<ord>st|nd|rd|th)?
      |(?P<words>(?i:\b(?:{_WORDNUM})(?:[\s-]+(?:{'|'.join(SCALES)}))*)\b))
    (?P<scale>\s?(?i:thousand|million|billion|trillion)\b|(?i:mn|bn|tn)\b|\s(?i:mn|bn|tn)\b|[mkb]\b)?
    (?P<unit>\s?%|(?i:\s?(?:per\s?cent|percentage\s+points?|percent|pct|pc))\b
      |\s(?i:{_CUR_WORD})\b|\s(?:USD|EUR|GBP|JPY|CHF|CNY|INR|AUD|CAD)\b)?
    (?:(?<=%)|(?!\w))""",
    re.VERBOSE,
)
_RANGE_DASH = re.compile(r"\s*[-–—]\s*")
_RANGE_WORD = re.compile(r"\s+(?:to|and)\s+", re.IGNORECASE)
_BETWEEN_BEFORE = re.compile(r"\bbetween\s+$", re.IGNORECASE)
_NUMBER_PREFIXES = frozenset({"mid", "pre", "post", "early", "late", "end", "year"})
# URLs, e-mail addresses, citation markers ("[2]") and list numbers ("1. ") hold digits that are not claims.
_SKIP = re.compile(
    rf"https?://\S+|www\.\S+|\b[\w.+-]+@[\w-]+\.[\w.]+|{BRACKET}|^[ \t]*\d{{1,2}}[.)](?=[ \t])",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    low: Decimal
    high: Decimal
    unit: str | None  # "percent", "money" or None
    currency: str | None
    raw: Decimal  # the figure as written, before any scale ("2" in "2bn")
    scaled: bool  # a scale word or suffix was given ("bn", "million")
    year_like: bool  # four plain digits 1900-2099


def _fmt(d: Decimal) -> str:
    return format(d.normalize(), "f").removesuffix(".0")


def _atom(m: re.Match[str], text: str) -> _Atom | None:
    start, end = m.start(), m.end()
    cur_raw = (m.group("cur") or "").strip().lower().replace(" ", "")
    unit_raw = (m.group("unit") or "").strip().lower()
    scale_raw = (m.group("scale") or "").strip().lower().lstrip("-")
    currency = _CURRENCIES.get(cur_raw) if cur_raw else None
    unit: str | None = None
    if unit_raw and ("%" in unit_raw or unit_raw.startswith("per") or unit_raw in ("pct", "pc")):
        unit = "percent"
    elif unit_raw:
        currency = currency or _CURRENCIES.get(re.sub(r"\s+", " ", unit_raw), "USD")
    if currency:
        unit = "money"
    if m.group("num"):
        # "F-35", "COVID-19" are names, not figures; "mid-2020" is a year.
        if start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha():
            word = re.search(r"[A-Za-z]+$", text[:start - 1])
            if word is None or word.group(0).lower() not in _NUMBER_PREFIXES:
                return None
        if start and text[start - 1] in ":/" or text.startswith((":", "/"), end):
            return None  # times ("10:30") and fractions
        value = Decimal(m.group("num").replace(",", ""))
    else:
        words = m.group("words").lower()
        parsed = words_to_int(words)
        if parsed is None or (words in ("one", "zero") and not scale_raw and unit != "percent"):
            return None
        value = Decimal(parsed)
    if scale_raw in _SCALE_ABBR and len(scale_raw) == 1 and unit != "money":
        scale_raw = ""  # "100m" is metres or a sprint more often than millions without a currency
        end = m.start("scale")
    raw = value
    if scale_raw:
        value *= SCALES.get(scale_raw, _SCALE_ABBR.get(scale_raw, 1))
    digits = m.group("num") or ""
    year_like = (
        unit is None and not scale_raw and not m.group("ord") and re.fullmatch(YEAR, digits) is not None
    )
    return _Atom(start, end, value, value, unit, currency, raw, bool(scale_raw), year_like)


def _merge_ranges(atoms: list[_Atom], text: str) -> list[_Atom]:
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        if i + 1 < len(atoms):
            b = atoms[i + 1]
            gap = text[a.end:b.start]
            dash = _RANGE_DASH.fullmatch(gap) is not None
            worded = _RANGE_WORD.fullmatch(gap) is not None and a.unit is None and (
                "to" in gap.lower() or _BETWEEN_BEFORE.search(text, max(0, a.start - 9), a.start) is not None
            )
            unit = b.unit or (a.unit if dash and a.unit == "money" else None)
            same = a.unit in (None, unit) and b.unit in (None, unit)
            currency = b.currency or a.currency
            if (dash or worded) and unit in ("percent", "money") and same and (
                a.currency is None or b.currency is None or a.currency == b.currency
            ):
                low, high = a.low, b.high
                if not a.scaled and b.scaled and a.low < b.raw:
                    low = a.low * (b.low / b.raw)  # "$1-2bn": the first end shares the second's scale
                if low < high:
                    out.append(_Atom(a.start, b.end, low, high, unit, currency, a.raw, b.scaled, False))
                    i += 2
                    continue
        out.append(a)
        i += 1
    return out


def _quantities(text: str, taken: list[tuple[int, int]]) -> list[Value]:
    atoms = [
        a for m in _QUANTITY.finditer(text)
        if not _overlaps(m.start(), m.end(), taken) and (a := _atom(m, text)) is not None
    ]
    values: list[Value] = []
    for a in _merge_ranges(atoms, text):
        span = text[a.start:a.end]
        amount = _fmt(a.low) if a.low == a.high else f"{_fmt(a.low)}-{_fmt(a.high)}"
        if a.unit == "percent":
            values.append(Value("percent", amount, span, a.start, a.end))
        elif a.unit == "money":
            values.append(Value("money", f"{a.currency} {amount}", span, a.start, a.end))
        elif a.year_like and looks_like_year(text, a.start, a.end):
            values.append(Value("year", amount, span, a.start, a.end))
        else:
            values.append(Value("number", amount, span, a.start, a.end))
    return values


# ---- dates and years -------------------------------------------------------------------------


def _date_norm(year: int | None, month: int, day: int | None) -> str | None:
    if day is not None:
        try:
            date(year or 2000, month, day)  # 2000 is a leap year, so "Feb 29" alone is accepted
        except ValueError:
            return None
    y = f"{year:04d}" if year else "-"
    return f"{y}-{month:02d}" + (f"-{day:02d}" if day is not None else "")


def _dates(text: str, taken: list[tuple[int, int]]) -> list[Value]:
    values: list[Value] = []

    def add(kind: ValueKind, norm: str | None, start: int, end: int) -> None:
        if norm is not None and not _overlaps(start, end, taken):
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
        if second > int(first) and not _overlaps(m.start(), m.end(), taken):
            add("year", first, m.start("a"), m.end("a"))
            add("year", str(second), m.start("b"), m.end("b"))
    for m in _DECADE.finditer(text):
        if m.group("apo") and not _DECADE_BEFORE.search(text, max(0, m.start() - 7), m.start()):
            continue  # "2020's election" is the year 2020, read as a number later
        add("year", f"{decade_start(m.group('c') or m.group('s'))}s", m.start(), m.end())
    return values


# ---- names -----------------------------------------------------------------------------------

_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W\d_][\w'’]*(?:-[^\W_][\w'’]*)*")
# A first pass finds runs of words that may be capitalised (any letter outside the Latin lower
# case ranges) joined by single spaces and name connectors; only those are looked at closely.
_CAP = r"(?:[A-Z]\.){2,}|[^\W\d_a-zß-öø-ÿ][\w'’]*(?:-[^\W_][\w'’]*)*"
_CONNECTOR_WORDS = "of|de|del|della|di|da|do|dos|du|van|von|der|den|la|le|al|bin|ibn"
_RUN = re.compile(rf"(?<![\w'’-])(?:{_CAP})(?:[ \u00a0](?:(?:{_CONNECTOR_WORDS})[ \u00a0])*(?:{_CAP}))*")


@dataclass(frozen=True, slots=True)
class _Tok:
    start: int
    end: int
    word: str


_FUNCTION_WORDS = frozenset(
    """
a an the this that these those some any each every all both either neither no none such another other many
much more most few several i you he she it we they me him her us them my your his its our their who whom
whose which what whatever whoever whichever and but or nor so yet for because since although though while
whereas if unless until when whenever where wherever after before once as than whether however therefore
thus hence meanwhile moreover furthermore nevertheless nonetheless instead still also even only just
already again then now today yesterday tomorrow here there yes no not perhaps maybe indeed overall
ultimately finally firstly secondly lastly additionally similarly likewise besides otherwise consequently
accordingly regardless despite in on at by with without within from to into onto of off over under above
below between among amid through during against about around across along toward towards upon beyond
behind beside near via per like unlike according is are was were be been being do does did have has had
can could will would shall should may might must let please note see why how ok okay oh well so-called
whilst though thanks sure true false
""".split()
)
# Ordinary words that often open an answer sentence; dropped only in that position.
_COMMON_START = frozenset(
    """
defence defense spending officials leaders allies experts analysts critics sources diplomats ministers
lawmakers legislators investors residents authorities police troops soldiers forces talks negotiations
members member countries nations governments government military security economic economy growth
inflation prices sales shares markets stocks oil gas energy climate health data research researchers
scientists studies study reports report news article articles passage text answer question senior top
various multiple increased increasing rising higher lower total average annual global international
national local regional federal public private political domestic current previous earlier later recent
recently initial final first second third last next key major main further additional western eastern
northern southern
""".split()
)
_TITLES = frozenset(
    """
president president-elect vice prime minister secretary secretary-general general chancellor senator sen
representative rep governor gov mayor king queen prince princess pope chief director chairman chairwoman
chair ceo cfo spokesman spokeswoman spokesperson ambassador envoy commissioner deputy foreign defence
defense finance interior former acting mr mrs ms dr sir dame lord lady professor prof judge attorney
leader speaker lt col colonel captain capt admiral gen sergeant commander premier sheikh emir crown
executive
""".split()
)
_NOT_NAMES = frozenset(["ok", "am", "pm", "tv", "faq"])  # capitalised abbreviations that name nothing
_CONNECTORS = frozenset(_CONNECTOR_WORDS.split("|"))
_REPORTING_VERBS = frozenset(
    """
said says told tells met meets wants wanted warned warns urged urges called calls added adds announced
announces insisted insists argued argues asked asks pushed pushes has had is was will would could should
can may might must did does agreed agrees signed won lost spoke speaks expressed congratulated assured
claimed claims denied denies rejected accepted plans planned hopes hoped expects expected believes
believed thinks noted stressed emphasised emphasized responded replied visited threatened threatens
demanded demands proposed proposes reported reports praised criticised criticized blamed condemned
welcomed supported supports opposed opposes backed backs launched became remains remained also declined
refused vowed pledged promised confirmed acknowledged admitted explained suggested described
""".split()
)
_ORDINARY_SUFFIXES = ("ing", "ings", "tion", "tions", "sion", "sions", "ment", "ments", "ness", "ity", "ities", "ship",
                      "ism", "isms")
_MONTH_AND_DAY_WORDS = frozenset(MONTHS) | frozenset(WEEKDAYS)
_NEXT_WORDS = re.compile(r"[*_”\"’')\]]*\s+([\w'’-]+)(?:\s+([\w'’.-]+))?")  # after closing markup or quotes
_WORD_BEFORE_DOT = re.compile(r"(?:[A-Za-z]\.)+$|[A-Za-z]+\.$")
_ABBREVIATIONS = frozenset("""
mr mrs ms dr st gen sen rep gov lt col capt prof no vs jr sr
""".split())
_ALIASES: dict[str, str] = {
    "united states of america": "us", "united states": "us", "usa": "us", "american": "us",
    "americans": "us", "united kingdom": "uk", "great britain": "uk", "britain": "uk", "british": "uk",
    "european union": "eu", "united nations": "un", "gross domestic product": "gdp",
}
_ALIAS_PHRASES = sorted(_ALIASES, key=len, reverse=True)
# Place <-> demonym endings: Europe/European(s), Russia/Russian(s), America/American.
_DEMONYM_ENDINGS = ("ans", "ns", "an", "n", "s")
_WORD = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W_]+(?:['’-][^\W_]+)*")


def _norm_word(word: str) -> str:
    return word.lower().replace(".", "").removesuffix("'s").removesuffix("’s").rstrip("'’")


def _canonical(words: list[str]) -> str:
    joined = f" {' '.join(words)} "
    for phrase in _ALIAS_PHRASES:
        joined = joined.replace(f" {phrase} ", f" {_ALIASES[phrase]} ")
    return joined.strip()


def _sentence_start(text: str, pos: int) -> bool:
    """Whether pos opens a sentence, a line, a quote or a clause after a colon."""
    i = pos - 1
    while i >= 0 and text[i] in " \t\"'“‘([*•-–—":
        if text[i] in "\"“‘(['":
            return True
        i -= 1
    if i < 0 or text[i] == "\n":
        return True
    if text[i] in ":;!?":
        return True
    if text[i] == ".":
        before = _WORD_BEFORE_DOT.search(text, max(0, i - 12), i + 1)
        word = before.group(0).lower().rstrip(".") if before else ""
        # "Mr. Biden", "U.S. President": the dot ends an abbreviation, not a sentence.
        return not (word in _ABBREVIATIONS or "." in word)
    return False


def _is_acronym_like(token: str) -> bool:
    return sum(c.isupper() for c in token) >= 2 or token.endswith(("'s", "’s"))


def _has_name_evidence(text: str, token: str, end: int) -> bool:
    """Whether a sentence-initial capitalised word is a name (see the module docstring)."""
    low = _norm_word(token)
    if low in _FUNCTION_WORDS or low in _COMMON_START or low in _TITLES:
        return False
    if _is_acronym_like(token):
        return True
    for m in re.finditer(rf"(?<![\w-]){re.escape(token.rstrip(chr(39) + '’'))}(?![\w-])", text):
        if m.start() != end - len(token) and not _sentence_start(text, m.start()):
            return True
    if len(low) >= 6 and low.endswith(_ORDINARY_SUFFIXES):
        return False
    after = _NEXT_WORDS.match(text, end)
    if after is None:
        return False
    nxt, nxt2 = after.group(1), after.group(2) or ""
    if nxt in _REPORTING_VERBS or (nxt in ("and", "or", "&") and nxt2[:1].isupper()):
        return True
    # "Zelenskyy thanked …": a past-tense verb after a word that is not a plural ("Protesters marched").
    return nxt.endswith("ed") and nxt.islower() and not low.endswith("s")


def _names(text: str, taken: list[tuple[int, int]]) -> list[Value]:
    mask = bytearray(len(text))
    for s, e in taken:
        mask[s:e] = b"\x01" * (e - s)
    values: list[Value] = []
    for r in _RUN.finditer(text):
        run: list[_Tok] = []
        for m in _TOKEN.finditer(text, r.start(), r.end()):
            word = m.group(0)
            if mask.find(1, m.start(), m.end()) != -1 or (word not in _CONNECTORS and not word[0].isupper()):
                _add_names(text, run, values)
                run = []
                continue
            run.append(_Tok(m.start(), m.end(), word))
            if word.endswith(("'s", "’s")):  # "Trump's NATO policy": the possessive ends the name
                _add_names(text, run, values)
                run = []
        _add_names(text, run, values)
    return values


def _add_names(text: str, run: list[_Tok], out: list[Value]) -> None:
    for segment in _split_run(run):
        while segment and segment[-1].word in _CONNECTORS:
            segment.pop()
        while segment and segment[0].word in _CONNECTORS:
            segment.pop(0)
        if not segment:
            continue
        first = segment[0]
        if _sentence_start(text, first.start):
            second_plain = len(segment) > 1 and not _is_acronym_like(segment[1].word)
            ordinary = _norm_word(first.word) in _COMMON_START
            if ordinary or (not second_plain and not _has_name_evidence(text, first.word, first.end)):
                segment = segment[1:]
                while segment and segment[0].word in _CONNECTORS:
                    segment.pop(0)
                if not segment:
                    continue
        norm = _canonical([_norm_word(t.word) for t in segment])
        start, end = segment[0].start, segment[-1].end
        out.append(Value("name", norm, text[start:end], start, end))


def _split_run(run: list[_Tok]) -> list[list[_Tok]]:
    """Cut a run of capitalised words at titles, function words, months, weekdays and "I"."""
    segments: list[list[_Tok]] = [[]]
    title_of = False  # "Secretary of State", "Chief of Staff": the word after "<title> of" is a title too
    for i, t in enumerate(run):
        word = t.word
        low = _norm_word(word)
        if word in _CONNECTORS:
            title_of = word == "of" and i > 0 and _is_title(run[i - 1].word)
            if not title_of:
                segments[-1].append(t)
            continue
        acronym = len(word) > 1 and word.replace(".", "").isupper()
        breaker = title_of or word == "I" or low in _NOT_NAMES or _is_title(word) or (
            not acronym and (low in _FUNCTION_WORDS or low in _MONTH_AND_DAY_WORDS)
        )
        title_of = False
        if breaker:
            segments.append([])
        else:
            segments[-1].append(t)
    return [s for s in segments if s]


def _is_title(word: str) -> bool:
    low = _norm_word(word)
    return low in _TITLES or low.removesuffix("-elect") in _TITLES


# ---- public API ------------------------------------------------------------------------------


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def extract_values(text: str) -> list[Value]:
    """Find the percents, amounts, numbers, dates, years and proper names in a text.

    Args:
        text: A sentence or a passage.

    Returns:
        The values in order of position; spans do not overlap.
    """
    taken = [(m.start(), m.end()) for m in _SKIP.finditer(text)]
    values = _dates(text, taken)
    quantities = _quantities(text, taken)
    taken.extend((v.start, v.end) for v in quantities)
    values += quantities
    values += _names(text, taken)
    return sorted(values, key=lambda v: v.start)


def _numbers(v: Value) -> frozenset[Decimal]:
    if v.kind in ("percent", "number", "year") or v.kind == "money":
        amount = v.norm.split(" ")[-1]
        if amount.endswith("s"):
            return frozenset()  # a decade
        return frozenset(Decimal(x) for x in amount.split("-") if x)
    return frozenset()


def _date_parts(norm: str) -> tuple[int | None, int | None, int | None, str | None]:
    if norm in WEEKDAYS:
        return None, None, None, norm
    parts = norm.split("-")
    if norm.startswith("--"):
        rest = [int(p) for p in parts[2:]]
        return None, rest[0], rest[1] if len(rest) > 1 else None, None
    nums = [int(p) for p in parts]
    return nums[0], nums[1], nums[2] if len(nums) > 2 else None, None


def _date_matches(claim: str, other: str) -> bool:
    cy, cm, cd, cw = _date_parts(claim)
    py, pm, pd, pw = _date_parts(other)
    if cw is not None:
        if pw is not None:
            return cw == pw
        return py is not None and pm is not None and pd is not None and WEEKDAYS[date(py, pm, pd).weekday()] == cw
    if pw is not None or pm is None or cm != pm or (cd is not None and cd != pd):
        return False
    return cy is None or py is None or cy == py  # a passage date without a year cannot contradict one


def _name_forms(token: str) -> set[str]:
    bases = {token} | {token[: -len(e)] for e in _DEMONYM_ENDINGS if token.endswith(e) and len(token) - len(e) >= 4}
    return bases | {b + e for b in bases for e in _DEMONYM_ENDINGS}


# Words of a company's name that its articles often leave out ("Southwest" for "Southwest Airlines").
_LEGAL_FORMS = frozenset({"airlines", "airways", "inc", "corp", "corporation", "company", "co", "ltd", "llc", "plc",
                          "group", "holdings"})


def _significant(norm: str) -> list[str]:
    words = [w for w in norm.split(" ") if w not in _CONNECTORS]
    return [w for w in words if w not in _LEGAL_FORMS] or words


def _name_in(norm: str, words: set[str]) -> bool:
    return all(_name_forms(w) & words for w in _significant(norm))


def _named_in_part(claim: Value, passage_values: list[Value]) -> bool:
    """"Steven Spielberg" where the passage says only "Spielberg": a name the passage gives in part is the same
    name, when every name of the passage holding the claim's last word is part of the claim's name (a passage that
    also says "Joe Biden" does not back "Jill Biden" by its "Biden said")."""
    sig = _significant(claim.norm)
    if len(sig) < 2:
        return False
    last = _name_forms(sig[-1])
    holding = [set(p.norm.split(" ")) for p in passage_values if p.kind == "name" and last & set(p.norm.split(" "))]
    return bool(holding) and all(h <= set(sig) for h in holding)


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
        return other.kind == "name" and _name_in(claim.norm, set(other.norm.split(" ")))
    if claim.kind == "date":
        return other.kind == "date" and _date_matches(claim.norm, other.norm)
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


def _word_set(text: str) -> set[str]:
    words = [_norm_word(m.group(0)) for m in _WORD.finditer(text)]
    out = set(words)
    for w in words:
        if "-" in w:
            out.update(p for p in w.split("-") if p)
    joined = f" {' '.join(words)} "
    out.update(_ALIASES[p] for p in _ALIAS_PHRASES if f" {p} " in joined)
    return out


_SPELLED = {v: k for k, v in UNITS.items()}


def _found(v: Value, passage_values: list[Value], words: set[str]) -> bool:
    if v.kind == "name":
        return _name_in(v.norm, words) or _named_in_part(v, passage_values)
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
    words = _word_set(passage)
    return ValueCheck(values, tuple(v for v in values if not _found(v, passage_values, words)))
