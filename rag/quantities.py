"""Percents, amounts of money and numbers in a text, as `Value`s ("five per cent" -> percent "5", "$1.2bn" -> money
"USD 1200000000", "3-3.5%" -> one range). Pure. The rules are in rag/values.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from rag._calendar import SCALES, TENS, UNITS, YEAR, alternation, looks_like_year, words_to_int
from rag.types import Value, overlaps

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


def find_quantities(text: str, taken: list[tuple[int, int]]) -> list[Value]:
    atoms = [
        a for m in _QUANTITY.finditer(text)
        if not overlaps(m.start(), m.end(), taken) and (a := _atom(m, text)) is not None
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
