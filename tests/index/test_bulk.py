"""Bulk exports (JSON Lines, CSV) -> articles: field names, bad rows reported by line, streamed ingest."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.bulk import BulkFields, read_rows
from index.news_index import NewsIndex
from index.settings import IndexSettings
from index.sources import Source, iter_sources

BODY = "The harbour in Kiel reopened on Tuesday after a storm closed it for {n} days, the port authority said."


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_common_field_names_are_found(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "export.jsonl", [
        {"headline": "Kiel harbour reopens", "body": BODY.format(n=3), "link": "https://example.com/kiel",
         "pubDate": "Tue, 05 Mar 2024 08:00:00 GMT", "source": {"id": "kn", "name": "Kieler Nachrichten"},
         "byline": ["Jana Petersen", "Ole Hansen"]},
        {"Title": "Second", "Content": BODY.format(n=4), "Published_At": "2024-03-06T10:00:00Z", "Site": "dpa"},
    ])
    first, second = (s.parse(1_000_000) for s in read_rows(path, BulkFields()))
    assert (first.meta.title, first.meta.url, first.meta.published, first.meta.outlet, first.meta.author) == (
        "Kiel harbour reopens", "https://example.com/kiel", "2024-03-05", "Kieler Nachrichten",
        "Jana Petersen, Ole Hansen")
    assert first.meta.source == f"{path}:1" and first.text == BODY.format(n=3)
    assert (second.meta.title, second.meta.published, second.meta.outlet) == ("Second", "2024-03-06", "dpa")


def test_named_fields_override_the_defaults(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [{"text": "teaser only", "fulltext": BODY.format(n=2),
                                               "kicker": "Kiel", "headline": "Harbour"}])
    (source,) = read_rows(path, BulkFields(text="fulltext", title="kicker"))
    article = source.parse(1_000_000)
    assert article.text == BODY.format(n=2) and article.meta.title == "Kiel"


def test_bad_rows_are_rejected_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [json.dumps({"body": BODY.format(n=1)}).encode(), b"{not json", b"[1, 2]",
             json.dumps({"headline": "no body"}).encode(), b"", json.dumps({"body": "short"}).encode(),
             b'{"body": "caf\xe9 bytes"}', json.dumps({"body": BODY.format(n=2), "date": "last week"}).encode(),
             json.dumps({"body": "x" * 2_000}).encode(), json.dumps({"body": BODY.format(n=9)}).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    outcomes = []
    for source in read_rows(path, BulkFields(), max_row_bytes=1_000):
        try:
            source.parse(1_000_000)
            outcomes.append((source.label, "ok"))
        except Exception as e:
            outcomes.append((source.label, str(e)))
    got = {label.rsplit(":", 1)[1]: why for label, why in outcomes}
    assert got["1"] == "ok" and got["10"] == "ok"
    assert "5" not in got  # a blank line is no row
    assert "not valid JSON" in got["2"] and "not an object" in got["3"]
    assert "no 'body/text/content/article' field" in got["4"] and "--text-field" in got["4"]
    assert "nothing to index" in got["6"] and "not valid UTF-8" in got["7"] and "YYYY-MM-DD" in got["8"]
    assert "row is over the 1,000-byte limit (NEWSDESK_INDEX__MAX_FILE_BYTES)" in got["9"]
    assert all(why == "ok" or why.startswith(f"{path}:{n}") for n, why in got.items())


def test_csv_rows_with_quoted_newlines_keep_their_first_line_number(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["headline", "article", "date"])
        w.writerow(["One", BODY.format(n=1) + "\n\nA second paragraph.", "2024-03-01"])
        w.writerow(["Two", "too short", "2024-03-02"])
        f.write("Three,only two fields\n")
        w.writerow(["Four", BODY.format(n=4), "2024-03-04"])
    sources = list(read_rows(path, BulkFields()))
    assert [s.label.rsplit(":", 1)[1] for s in sources] == ["2", "5", "6", "7"]
    assert "A second paragraph." in sources[0].parse(1_000_000).text
    assert sources[2].error is not None and "has 2 fields, the header has 3" in sources[2].error
    assert sources[3].parse(1_000_000).meta.published == "2024-03-04"


@pytest.mark.slow  # 5-8 s: the fast lane's budget (make check) is 90 s in all
def test_ingest_streams_a_bulk_export_row_by_row(isolated_env: Path, tmp_path: Path) -> None:
    """Ingest takes one row at a time from the generator (never lists them), and progress has no total."""
    path = write_jsonl(tmp_path / "rows.jsonl", [{"title": f"Story {n}", "body": BODY.format(n=n)}
                                                 for n in range(1, 31)] + ["{broken"])
    taken = 0

    def counted(sources: Iterator[Source]) -> Iterator[Source]:
        nonlocal taken
        for s in sources:
            taken += 1
            yield s

    seen: list[tuple[int, int | None, int]] = []
    index = NewsIndex(IndexSettings(home=isolated_env, commit_chunks=8))
    report = index.ingest(counted(iter_sources([path])), lambda done, total, _: seen.append((done, total, taken)))
    assert report.count("added") == 30 and report.count("rejected") == 1
    assert report.rejected[0].reason.startswith(f"{path}:31: is not valid JSON")
    assert all(total is None for _, total, _ in seen[:-1]) and seen[-1][:2] == (31, 31)
    assert all(taken_then <= done + 1 for done, _, taken_then in seen[:-1])  # one row ahead at most
    assert len(index.articles()) == 30 and index.store.count() == 30


@pytest.mark.parametrize("suffix", [".ndjson", ".tsv"])
def test_other_suffixes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"x{suffix}"
    if suffix == ".tsv":
        path.write_text(f"title\ttext\nTabbed\t{BODY.format(n=5)}\n")
    else:
        write_jsonl(path, [{"title": "Tabbed", "text": BODY.format(n=5)}])
    (source,) = read_rows(path, BulkFields())
    assert source.parse(1_000_000).meta.title == "Tabbed"
