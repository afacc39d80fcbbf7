"""Bulk exports (JSON Lines, CSV, TSV) -> one `Source` per row, read lazily in constant memory.

A row that cannot be read (bad JSON, bad UTF-8, no text, too big) becomes a Source that is rejected with
`file:line` and the reason, so one bad row never stops the rest.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from index.source import Source

BULK_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv"}
# Where each part of an article usually is in exports (matched without regard to case), first found wins.
DEFAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("body", "text", "content", "article"),
    "title": ("title", "headline"),
    "url": ("url", "link"),
    "published": ("published", "date", "published_at", "pubdate"),
    "outlet": ("outlet", "source", "site", "publisher"),
    "author": ("author", "byline"),
}


@dataclass(frozen=True, slots=True)
class BulkFields:
    """Which key or column holds each part of an article; None means the first of DEFAULT_FIELDS present."""

    text: str | None = None
    title: str | None = None
    url: str | None = None
    published: str | None = None
    outlet: str | None = None
    author: str | None = None

    def lookup(self, keys: list[str]) -> dict[str, str | None]:
        """role -> the actual key of a row or header (None when absent)."""
        by_lower = {k.strip().lower(): k for k in keys}
        out: dict[str, str | None] = {}
        for f in fields(self):
            chosen = getattr(self, f.name)
            names = (chosen,) if chosen else DEFAULT_FIELDS[f.name]
            out[f.name] = next((by_lower[n.lower()] for n in names if n.lower() in by_lower), None)
        return out


def is_bulk_file(path: Path) -> bool:
    return path.suffix.lower() in BULK_SUFFIXES


def read_rows(path: Path, mapping: BulkFields, max_row_bytes: int = 20_000_000) -> Iterator[Source]:
    """The rows of one export as Sources labelled `file:line` (the line where the row starts)."""
    kind = BULK_SUFFIXES[path.suffix.lower()]
    try:
        rows = _jsonl_rows(path, max_row_bytes) if kind == "jsonl" else _csv_rows(path, kind, max_row_bytes)
        for line, row in rows:
            label = f"{path}:{line}"
            if isinstance(row, str):
                yield Source(label=label, error=f"{label}: {row}")
            else:
                yield _row_source(label, row, mapping)
    except OSError as e:
        yield Source(label=str(path), error=f"{path}: cannot be read ({e.strerror or e}).")


def _row_source(label: str, row: Mapping[str, object], mapping: BulkFields) -> Source:
    keys = mapping.lookup(list(row))
    text_key = keys["text"]
    if text_key is None:
        wanted = mapping.text or "/".join(DEFAULT_FIELDS["text"])
        return Source(label=label, error=f"{label}: has no {wanted!r} field to take the article text from "
                                         "(name it with --text-field).")
    text = row[text_key]
    if not isinstance(text, str):
        return Source(label=label, error=f"{label}: field {text_key!r} is not text.")
    meta = {role: _scalar(row[key]) for role, key in keys.items() if role != "text" and key is not None}
    return Source(label=label, text=text, meta={k: v for k, v in meta.items() if v})


def _scalar(value: object) -> str:
    if isinstance(value, dict):  # NewsAPI-style {"id": "bbc-news", "name": "BBC News"}
        value = value.get("name") or ""
    if isinstance(value, list):  # several authors
        return ", ".join(str(v) for v in value if isinstance(v, (str, int, float)))
    return "" if value is None or isinstance(value, dict) else str(value)


def _jsonl_rows(path: Path, max_row_bytes: int) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(line number, row object or what is wrong with it); at most one row is held at a time."""
    with open(path, "rb") as f:
        line_no = 0
        while True:
            line = f.readline(max_row_bytes + 1)
            if not line:
                return
            line_no += 1
            if len(line) > max_row_bytes and not line.endswith(b"\n"):
                while (rest := f.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of the oversized line without holding it
                yield line_no, f"row is over the {max_row_bytes:,}-byte limit (NEWSDESK_INDEX__MAX_FILE_BYTES)."
                continue
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8-sig" if line_no == 1 else "utf-8")
            except UnicodeDecodeError as e:
                yield line_no, f"is not valid UTF-8 (byte {e.start + 1})."
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as e:
                yield line_no, f"is not valid JSON ({e.msg} at column {e.colno})."
                continue
            yield line_no, row if isinstance(row, dict) else f"is a JSON {type(row).__name__}, not an object."


def _csv_rows(path: Path, kind: str, max_row_bytes: int) -> Iterator[tuple[int, dict[str, object] | str]]:
    # The csv module's field limit (128 kB by default) is process-wide; long articles need more.
    csv.field_size_limit(max(csv.field_size_limit(), max_row_bytes))
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f, delimiter="\t" if kind == "tsv" else ",")
        try:
            header = next(reader)
        except StopIteration:
            yield 1, "the file is empty: no header row."
            return
        except csv.Error as e:
            yield 1, f"the header row is not valid CSV ({e})."
            return
        start = reader.line_num + 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield start, f"is not valid CSV ({e})."
                start = reader.line_num + 1
                continue
            line_no, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                yield line_no, f"has {len(record)} fields, the header has {len(header)}."
            elif any("\ufffd" in cell for cell in record):
                yield line_no, "is not valid UTF-8."
            elif sum(len(cell) for cell in record) > max_row_bytes:
                yield line_no, f"row is over the {max_row_bytes:,}-byte limit (NEWSDESK_INDEX__MAX_FILE_BYTES)."
            else:
                yield line_no, dict(zip(header, record))
