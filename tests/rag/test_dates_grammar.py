"""The date grammars as one table: what `extract_values` (rag/values.py: "kind norm text" per value), `parse_timeframe`
(rag/timeframe.py: "since..until kind") and `dates_named`/`names_a_time` (rag/mentions.py) read in the same phrase.
They share their pieces (rag/_calendar.py); where the readers still differ the rows pin it: "the 90s" is a decade to
a question, not in a passage, and a slashed "2019/20" is a range in a passage, not in a question."""

from __future__ import annotations

from datetime import date

import pytest

from rag.mentions import dates_named, names_a_time
from rag.timeframe import parse_timeframe
from rag.values import extract_values

TODAY = date(2025, 3, 4)
ROWS = [
    ('in the 1990s', 'year 1990s 1990s', '1990-01-01..1999-12-31 decade', '', False),
    ("the 1990's", "year 1990s 1990's", '1990-01-01..1999-12-31 decade', '', True),
    ("the '90s", "year 1990s '90s", '1990-01-01..1999-12-31 decade', '', False),
    ('the ’90s', 'year 1990s ’90s', '1990-01-01..1999-12-31 decade', '', False),
    ('the 90s', '', '1990-01-01..1999-12-31 decade', '', False),
    ('in the 2000s', 'year 2000s 2000s', '2000-01-01..2009-12-31 decade', '', False),
    ("the 2020's election", "year 2020s 2020's", '2020-01-01..2029-12-31 decade', '', True),
    ('late 1980s', 'year 1980s 1980s', '1980-01-01..1989-12-31 decade', '', False),
    ("the '20s", "year 2020s '20s", '2020-01-01..2029-12-31 decade', '', False),
    ("the '00s", "year 2000s '00s", '2000-01-01..2009-12-31 decade', '', False),
    ('the 1995s', '', '', '', False),
    ('2019-21', 'year 2019 2019 | year 2021 21', '2019-01-01..2021-12-31 between', '', True),
    ('2019–2021', 'year 2019 2019 | year 2021 2021', '2019-01-01..2021-12-31 between', '', True),
    ('2019—2021', 'year 2019 2019 | year 2021 2021', '2019-01-01..2021-12-31 between', '', True),
    ('2019/20', 'year 2019 2019 | year 2020 20', '2019-01-01..2019-12-31 year', '', True),
    ('2019 - 2021', 'year 2019 2019 | year 2021 2021', '2019-01-01..2021-12-31 between', '', True),
    ('2021-2019', 'year 2021 2021 | year 2019 2019', '', '', True),
    ('2019-2021%', 'percent 2019-2021 2019-2021%', '', '', True),
    ('in 2019-20', 'year 2019 2019 | year 2020 20', '2019-01-01..2020-12-31 between', '', True),
    ('$2019-21', 'year 2019 2019 | year 2021 21', '', '', True),
    ('1999-00', 'year 1999 1999 | number 0 00', '', '', True),
    ('2019-2019', 'year 2019 2019 | year 2019 2019', '', '', True),
    ('2020-11-24', 'date 2020-11-24 2020-11-24', '2020-11-24..2020-11-24 day', '2020-11-24', True),
    ('2020-13-01', 'year 2020 2020 | number 13 13 | number 1 01', '', '', True),
    ('2020-02-30', 'year 2020 2020 | number 2 02 | number 30 30', '', '2020-02-30', True),
    ('1850-01-01', 'number 1850 1850 | number 1 01 | number 1 01', '', '1850-01-01', True),
    ('24 Nov 2020', 'date 2020-11-24 24 Nov 2020', '2020-11-24..2020-11-24 day', '2020-11-24', True),
    ('November 24, 2020', 'date 2020-11-24 November 24, 2020', '2020-11-24..2020-11-24 day', '2020-11-24', True),
    ('Nov. 24, 2020', 'date 2020-11-24 Nov. 24, 2020', '2020-11-24..2020-11-24 day', '2020-11-24', True),
    ('Sept. 5, 2023', 'date 2023-09-05 Sept. 5, 2023', '2023-09-05..2023-09-05 day', '2023-09-05', True),
    ('5th of Sept 2023', 'date 2023-09-05 5th of Sept 2023', '2023-09-05..2023-09-05 day', '2023-09-05', True),
    ('Jun 3, 2023', 'date 2023-06-03 Jun 3, 2023', '2023-06-03..2023-06-03 day', '2023-06-03', True),
    ('january 5, 2023', 'number 5 5 | year 2023 2023', '2023-01-05..2023-01-05 day', '2023-01-05', True),
    ('January. 5, 2023', 'number 5 5 | year 2023 2023', '2023-01-01..2023-12-31 year', '2023-01-05', True),
    ('the 3rd of March', 'date --03-03 3rd of March', '2025-03-03..2025-03-03 day', '', False),
    ('March 2024', 'date 2024-03 March 2024', '2024-03-01..2024-03-31 month', '', True),
    ('in March', 'date --03 March', '2025-03-01..2025-03-31 month', '', False),
    ('on Monday, March 4', 'date --03-04 Monday, March 4', '2025-03-04..2025-03-04 day', '', False),
    ('since 2014', 'year 2014 2014', '2014-01-01..2025-03-04 since', '', True),
    ('2000 troops', 'number 2000 2000', '', '', True),
    ('in 2020 and 2025', 'year 2020 2020 | year 2025 2025', '2020-01-01..2025-12-31 between', '', True),
    ('1 Nov 2023 and November 2, 2023', 'date 2023-11-01 1 Nov 2023 | date 2023-11-02 November 2, 2023',
     '2023-11-01..2023-11-02 between', '2023-11-01 2023-11-02', True),
]


@pytest.mark.parametrize(("phrase", "values", "frame", "named", "timed"), ROWS)
def test_dates(phrase: str, values: str, frame: str, named: str, timed: bool) -> None:
    assert " | ".join(f"{v.kind} {v.norm} {v.text}" for v in extract_values(phrase)) == values
    f = parse_timeframe(phrase, TODAY)
    assert ("" if f is None else f"{f.since or ''}..{f.until or ''} {f.kind}") == frame
    assert " ".join(sorted(dates_named(phrase))) == named
    assert names_a_time(phrase) is timed
