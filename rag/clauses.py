"""Where one clause of a sentence ends and the next begins, written once. Pure.

A clause ends at ';' or ':', at a dash set off by spaces (" – ", " — "; not the hyphen of "3-3.5%"), and before
"but", "while", "whereas", "although", "though", "however", "yet" (a comma before them stays with the clause it
ends). "The current 2% target has been in place since 2014, but Trump wants a higher figure" states 2% as a fact;
the wish belongs to the second clause.

Used by `rag.claims.hedged` (is the figure's own clause hedged?), `rag.timeline` (an event dated by its words is
cut to the clause that holds the date) and `rag.conflicts` (the quote that shows what a source says of a figure).
"""

from __future__ import annotations

import re

CLAUSE_BREAK = re.compile(r"[;:]|,?\s+(?:but|while|whereas|although|though|however|yet)\b|\s[–—]\s", re.I)


def clause_span(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause of `sentence` that holds sentence[start:end], as offsets in `sentence`.

    It starts after the last break that ends at or before `start` (leading spaces skipped) and ends where the
    first break at or after `end` begins.
    """
    lo = max([0, *(m.end() for m in CLAUSE_BREAK.finditer(sentence) if m.end() <= start)])
    hi = min((m.start() for m in CLAUSE_BREAK.finditer(sentence) if m.start() >= end), default=len(sentence))
    while lo < start and sentence[lo].isspace():
        lo += 1
    return lo, hi
