"""What can be ingested: files and folders on disk, uploaded bytes, pasted text -> `Source`s."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import InputError
from index.parse import parse_bytes, parse_file, parse_text, safe_file_name
from index.types import Article


@dataclass(frozen=True, slots=True)
class Source:
    """One thing to ingest: a file on disk, uploaded bytes, or pasted text."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    text: str | None = None
    meta: dict[str, object] | None = None

    def parse(self, max_bytes: int) -> Article:
        """The article this source holds.

        Raises:
            InputError: the source is unreadable, too big, binary, empty or has bad metadata.
        """
        if self.path is not None:
            return parse_file(self.path, max_bytes=max_bytes)
        if self.data is not None:
            # An upload's name is only a label (uploads are never written to disk).
            name = safe_file_name(self.label)
            return parse_bytes(self.data, name, self.meta, max_bytes=max_bytes, source=f"upload:{name}")
        if len(self.text or "") > max_bytes:
            raise InputError(f"{self.label}: text is over the {max_bytes / 1e6:.0f} MB limit.")
        return parse_text(self.text or "", self.meta, source=self.label)


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


def sources_from_paths(paths: Sequence[str | Path]) -> list[Source]:
    return list(walk_paths(Path(p) for p in paths))
