"""What can be ingested: files and folders on disk, web pages by URL, rows of bulk exports, uploaded bytes,
pasted text -> `Source`s (the type is index/source.py; it is importable from here too)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from index.bulk import BulkFields, is_bulk_file, read_rows
from index.settings import FetchSettings
from index.source import Source as Source


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
    for entry in entries:
        if entry.path is not None and is_bulk_file(entry.path):
            yield from read_rows(entry.path, fields or BulkFields(), max_row_bytes)
        else:
            yield entry


def has_bulk(entries: Sequence[Source]) -> bool:
    return any(e.path is not None and is_bulk_file(e.path) for e in entries)


def iter_sources(args: Iterable[str | Path], fetch: FetchSettings | None = None, fields: BulkFields | None = None,
                 max_row_bytes: int = 20_000_000) -> Iterator[Source]:
    """Paths, folders, URLs and bulk exports -> Sources, lazily: a 20,000-row export is never held in memory."""
    return expand_bulk(iter_entries(args, fetch), fields, max_row_bytes)


def sources_from_paths(paths: Sequence[str | Path], fetch: FetchSettings | None = None,
                       fields: BulkFields | None = None) -> list[Source]:
    """`iter_sources` as a list (for small inputs; the CLI streams)."""
    return list(iter_sources(paths, fetch, fields))
