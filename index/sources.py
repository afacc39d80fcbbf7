"""What can be ingested: files and folders on disk, web pages by URL, rows of bulk exports, uploaded bytes,
pasted text -> `Source`s."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import InputError
from index.parse import parse_bytes, parse_file, parse_page, parse_text, safe_file_name
from index.settings import FetchSettings
from index.types import Article

if TYPE_CHECKING:
    from index.bulk import BulkFields  # bulk.py builds Sources, so it is imported where it is used
    from index.fetch import Page


@dataclass(frozen=True, slots=True)
class Source:
    """One thing to ingest: a file on disk, a URL, uploaded bytes, or pasted text (a bulk row is pasted text
    with metadata). Nothing is read or fetched until `parse`."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    text: str | None = None
    meta: dict[str, object] | None = None
    url: str | None = None
    fetch: FetchSettings | None = None  # rules for fetching `url` (default: FetchSettings())
    page: Page | None = None  # a page fetched already (feed items are fetched before the write lock is taken)
    defaults: dict[str, object] | None = None  # metadata that the page's own only fills in (a feed's title, date)
    error: str | None = None  # why this input cannot be read (a bad bulk row): parse() rejects it with this

    def parse(self, max_bytes: int) -> Article:
        """The article this source holds.

        Raises:
            InputError: the source is unreadable, too big, binary, empty or has bad metadata; a URL was refused
                or could not be fetched (`FetchRefused`, `FetchFailed`).
        """
        if self.error is not None:
            raise InputError(self.error)
        if self.page is not None:
            return parse_page(self.page, self.meta, defaults=self.defaults, max_bytes=max_bytes)
        if self.url is not None:
            from index.fetch import fetch_url  # http.client and ssl only when a URL is ingested

            page = fetch_url(self.url, self.fetch or FetchSettings())
            return parse_page(page, self.meta, defaults=self.defaults, max_bytes=max_bytes)
        if self.path is not None:
            return parse_file(self.path, max_bytes=max_bytes)
        if self.data is not None:
            # An upload's name is only a label (uploads are never written to disk).
            name = safe_file_name(self.label)
            return parse_bytes(self.data, name, self.meta, max_bytes=max_bytes, source=f"upload:{name}")
        if len(self.text or "") > max_bytes:
            raise InputError(f"{self.label}: text is over the {max_bytes / 1e6:.0f} MB limit.")
        return parse_text(self.text or "", self.meta, source=self.label)


def url_source(url: str, fetch: FetchSettings | None = None, meta: dict[str, object] | None = None) -> Source:
    return Source(label=url.strip(), url=url.strip(), fetch=fetch, meta=meta)


def walk_paths(paths: Iterable[Path]) -> Iterator[Source]:
    """Files named directly, and the article files inside folders (symlinked folders are not followed,
    so a symlink loop cannot make this run forever). A path that does not exist is passed on:
    parsing names it as unreadable."""
    for path in paths:
        if not path.is_dir():
            yield Source(label=str(path), path=path)
            continue
        for root, dirs, files in os.walk(path, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith(".") and not name.endswith(".meta.json"):
                    yield Source(label=str(Path(root) / name), path=Path(root) / name)


def iter_entries(args: Iterable[str | Path], fetch: FetchSettings | None = None) -> Iterator[Source]:
    """Command-line arguments -> one Source per URL and per file (folders walked); bulk exports are not yet
    split into rows (see `expand_bulk`), so this is cheap to list."""
    from index.fetch import is_url

    for arg in args:
        if isinstance(arg, str) and is_url(arg):
            yield url_source(arg, fetch)
        else:
            yield from walk_paths([Path(arg)])


def expand_bulk(entries: Iterable[Source], fields: BulkFields | None = None,
                max_row_bytes: int = 20_000_000) -> Iterator[Source]:
    """Entries with each JSON Lines / CSV export replaced by its rows, read lazily (constant memory)."""
    from index.bulk import BulkFields, is_bulk_file, read_rows

    for entry in entries:
        if entry.path is not None and is_bulk_file(entry.path):
            yield from read_rows(entry.path, fields or BulkFields(), max_row_bytes)
        else:
            yield entry


def has_bulk(entries: Sequence[Source]) -> bool:
    from index.bulk import is_bulk_file

    return any(e.path is not None and is_bulk_file(e.path) for e in entries)


def iter_sources(args: Iterable[str | Path], fetch: FetchSettings | None = None, fields: BulkFields | None = None,
                 max_row_bytes: int = 20_000_000) -> Iterator[Source]:
    """Paths, folders, URLs and bulk exports -> Sources, lazily: a 20,000-row export is never held in memory."""
    return expand_bulk(iter_entries(args, fetch), fields, max_row_bytes)


def sources_from_paths(paths: Sequence[str | Path], fetch: FetchSettings | None = None,
                       fields: BulkFields | None = None) -> list[Source]:
    """`iter_sources` as a list (for small inputs; the CLI streams)."""
    return list(iter_sources(paths, fetch, fields))
