"""`Source`: one thing to ingest (a file, a URL, a fetched page, uploaded bytes, pasted text, or a bad bulk row),
read or fetched only when parsed. Walking paths, folders and bulk exports into Sources is index/sources.py."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import InputError
from index.parse import parse_bytes, parse_file, parse_page, parse_text, safe_file_name
from index.settings import FetchSettings
from index.types import Article

if TYPE_CHECKING:
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
