"""The published day (index/types.py): parsed once, spoken once ("November 1, 2023"), as a table."""

from __future__ import annotations

from datetime import date

import pytest

from index.types import published_day, spoken_date


@pytest.mark.parametrize(("published", "day", "spoken"), [
    ("2023-11-01", date(2023, 11, 1), "November 1, 2023"),
    ("2025-02-12T10:00:00+00:00", date(2025, 2, 12), "February 12, 2025"),
    ("1999-12-31", date(1999, 12, 31), "December 31, 1999"),
    ("2023-02-30", None, ""),
    ("2023-1-5", None, ""),
    ("garbage", None, ""),
    ("", None, ""),
    (None, None, ""),
])
def test_published_day(published: str | None, day: date | None, spoken: str) -> None:
    assert published_day(published) == day
    assert spoken_date(published) == spoken
