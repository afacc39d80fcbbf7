"""Proper names in a text, as `Value`s ("Jens Stoltenberg", "U.S." -> "us"), and whether a passage's words name
them ("Stoltenberg" in "Jens Stoltenberg", "Europe"/"European", US / United States). Pure. The rules are in
rag/values.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag._calendar import MONTHS, WEEKDAYS
from rag.types import Value

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


def find_names(text: str, taken: list[tuple[int, int]]) -> list[Value]:
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


def _name_forms(token: str) -> set[str]:
    bases = {token} | {token[: -len(e)] for e in _DEMONYM_ENDINGS if token.endswith(e) and len(token) - len(e) >= 4}
    return bases | {b + e for b in bases for e in _DEMONYM_ENDINGS}


# Words of a company's name that its articles often leave out ("Southwest" for "Southwest Airlines").
_LEGAL_FORMS = frozenset({"airlines", "airways", "inc", "corp", "corporation", "company", "co", "ltd", "llc", "plc",
                          "group", "holdings"})


def _significant(norm: str) -> list[str]:
    words = [w for w in norm.split(" ") if w not in _CONNECTORS]
    return [w for w in words if w not in _LEGAL_FORMS] or words


def name_in(norm: str, words: set[str]) -> bool:
    return all(_name_forms(w) & words for w in _significant(norm))


def named_in_part(claim: Value, passage_values: list[Value]) -> bool:
    """"Steven Spielberg" where the passage says only "Spielberg": a name the passage gives in part is the same
    name, when every name of the passage holding the claim's last word is part of the claim's name (a passage that
    also says "Joe Biden" does not back "Jill Biden" by its "Biden said")."""
    sig = _significant(claim.norm)
    if len(sig) < 2:
        return False
    last = _name_forms(sig[-1])
    holding = [set(p.norm.split(" ")) for p in passage_values if p.kind == "name" and last & set(p.norm.split(" "))]
    return bool(holding) and all(h <= set(sig) for h in holding)


def word_set(text: str) -> set[str]:
    words = [_norm_word(m.group(0)) for m in _WORD.finditer(text)]
    out = set(words)
    for w in words:
        if "-" in w:
            out.update(p for p in w.split("-") if p)
    joined = f" {' '.join(words)} "
    out.update(_ALIASES[p] for p in _ALIAS_PHRASES if f" {p} " in joined)
    return out
