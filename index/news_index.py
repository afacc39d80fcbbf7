"""The index facade: catalogue + Chroma + keyword index kept consistent by one writer at a time."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from index.catalogue import ArticleRecord, Catalogue
from index.chunking import chunk_article
from index.embedding import Embedder, load_embedder
from index.errors import InputError, NotFound
from index.keyword import KeywordIndex
from index.lock import write_lock
from index.parse import SUPPORTED_SUFFIXES, parse_bytes, parse_file, parse_text
from index.settings import IndexSettings
from index.store import ChunkStore
from index.types import Article, ArticleMeta, Chunk, IngestOutcome, IngestReport

Progress = Callable[[int, int, str], None]  # (done, total, current item)


@dataclass(frozen=True, slots=True)
class Source:
    """One thing to ingest: a file on disk, uploaded bytes, or pasted text."""

    label: str
    path: Path | None = None
    data: bytes | None = None
    text: str | None = None
    meta: dict[str, object] | None = None

    def parse(self, max_bytes: int) -> Article:
        if self.path is not None:
            return parse_file(self.path, max_bytes=max_bytes)
        if self.data is not None:
            # An upload's name is only a label (uploads are never written to disk): keep its base name,
            # without NULs or folders, so "../../etc/passwd" is shown as "upload:passwd".
            name = Path(self.label.replace("\x00", "")).name.strip(". ") or "upload"
            return parse_bytes(self.data, name, self.meta, max_bytes=max_bytes, source=f"upload:{name}")
        if len(self.text or "") > max_bytes:
            raise InputError(f"{self.label}: text is over the {max_bytes / 1e6:.0f} MB limit.")
        return parse_text(self.text or "", self.meta, source=self.label)


def walk_paths(paths: Iterable[Path]) -> Iterator[Source]:
    """Files named directly, and the article files inside folders (symlinked folders are not followed,
    so a symlink loop cannot make this run forever)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or name.endswith(".meta.json"):
                        continue
                    yield Source(label=str(Path(root) / name), path=Path(root) / name)
        elif path.exists():
            yield Source(label=str(path), path=path)
        else:
            yield Source(label=str(path), path=path)  # parse_file names it as unreadable


class NewsIndex:
    """Articles in and out; everything that changes the index goes through here."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None, client: object | None = None) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.catalogue = Catalogue(settings.catalogue_path)
        self.embedder: Embedder = embedder or load_embedder(settings.embedding_model, settings.embed_batch)
        self.store = ChunkStore(settings, client, version=self.catalogue.store_version)
        self.keyword = KeywordIndex(settings.keyword_dir)
        self._complete_cache: tuple[int, set[str]] = (-1, set())

    # --- text that gets embedded and keyword-indexed -----------------------------------------
    def indexed_text(self, chunk: Chunk, meta: ArticleMeta) -> str:
        """Title, then 'Outlet · November 1, 2023', then the chunk: what gets embedded and keyword-indexed."""
        head: list[str] = []
        # A title derived from the first line is not repeated in front of the chunk that starts with it.
        if self.settings.embed_title and meta.title and not (
                chunk.ordinal == 0 and chunk.text.startswith(meta.title.rstrip("…").strip())):
            head.append(meta.title)
        if self.settings.embed_meta:
            line = " · ".join(x for x in (meta.outlet, _spoken_date(meta.published)) if x)
            if line:
                head.append(line)
        return "\n".join([*head, chunk.text])

    # --- reads ---------------------------------------------------------------------------------
    def complete_ids(self) -> set[str]:
        gen = self.catalogue.generation()
        if gen != self._complete_cache[0]:
            self._complete_cache = (gen, self.catalogue.complete_ids())
        return self._complete_cache[1]

    def get(self, article_id: str) -> ArticleRecord:
        record = self.catalogue.get(article_id)
        if record is None:
            matches = self.catalogue.find_by_prefix(article_id) if len(article_id) >= 6 else []
            if len(matches) == 1:
                record = self.catalogue.get(matches[0])
        if record is None or record.status != "complete":
            raise NotFound(f"No article with id {article_id!r}; `newsdesk list` shows the ids.")
        return record

    def articles(self) -> list[ArticleRecord]:
        return self.catalogue.records("complete")

    # --- writes --------------------------------------------------------------------------------
    @contextmanager
    def writing(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the index's write lock, with the vector store reloaded if another process changed it.

        The store version is bumped before the first write and after the last, so readers in other
        processes reload their embedded client once this writer is done (or was killed).

        Raises:
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
        """
        with write_lock(self.settings.home, self.settings.lock_timeout_s, on_wait):
            self.store.refresh(writer=True)
            self.catalogue.bump_store_version()
            self.store.mark_current()
            try:
                yield
            finally:
                self.catalogue.bump_store_version()
                self.store.mark_current()

    def _is_own_file(self, source: Source) -> bool:
        # Ingesting a folder that holds NEWSDESK_HOME must not index the catalogue or the vectors.
        if source.path is None:
            return False
        # realpath, not Path.resolve: a symlink loop must reach parse_file and be rejected there, not
        # raise RuntimeError here and stop the whole batch.
        return Path(os.path.realpath(source.path)).is_relative_to(os.path.realpath(self.settings.home))

    def ingest(self, sources: Iterable[Source], progress: Progress | None = None,
               on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Parse, dedup, chunk, embed and store; each article is searchable completely or not at all.

        Files inside the index's own data directory are skipped.

        Raises:
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
            BackendUnavailable: the Chroma server went away; committed groups stay complete.
        """
        items = [s for s in sources if not self._is_own_file(s)]
        outcomes: list[IngestOutcome] = []
        with self.writing(on_wait):
            self._finish_interrupted()
            statuses = self.catalogue.status_of()
            seen: set[str] = set()
            batch_urls: dict[str, str] = {}  # url -> article id added earlier in this batch
            group: list[tuple[Article, list[Chunk], list[str]]] = []
            group_size = 0
            for n, source in enumerate(items):
                if progress:
                    progress(n, len(items), source.label)
                try:
                    article = source.parse(self.settings.max_file_bytes)
                except InputError as e:
                    outcomes.append(IngestOutcome(source.label, "rejected", reason=str(e)))
                    continue
                aid = article.article_id
                if statuses.get(aid) == "complete" or aid in seen:
                    outcomes.append(IngestOutcome(source.label, "unchanged", aid, article.meta.title,
                                                  reason="same text is already indexed"))
                    continue
                seen.add(aid)
                replaced: list[str] = []
                if url := article.meta.url:
                    replaced = [old for old in self.catalogue.complete_by_url(url) if old != aid]
                    # Two versions of one URL in a batch: the later one wins, as if ingested one by one.
                    if url in batch_urls and batch_urls[url] not in replaced:
                        replaced.append(batch_urls[url])
                    batch_urls[url] = aid
                chunks = chunk_article(article, self.settings.chunk_chars, self.settings.chunk_overlap)
                group.append((article, chunks, replaced))
                group_size += len(chunks)
                if group_size >= self.settings.commit_chunks:
                    outcomes.extend(self._commit(group))
                    group, group_size = [], 0
            if group:
                outcomes.extend(self._commit(group))
            if progress:
                progress(len(items), len(items), "updating keyword index")
            # Also when nothing changed now: a writer killed after its last commit left BM25 behind.
            if (any(o.status in ("added", "replaced") for o in outcomes)
                    or self.keyword.stored_generation() != self.catalogue.generation()):
                self._rebuild_keyword()
        return IngestReport(tuple(outcomes))

    def _commit(self, group: Sequence[tuple[Article, list[Chunk], list[str]]]) -> list[IngestOutcome]:
        collection = self.store.name
        self.catalogue.add_pending([(a, c) for a, c, _ in group], collection)
        chunks = [c for _, cs, _ in group for c in cs]
        metas = [a.meta for a, cs, _ in group for _ in cs]
        vectors = self.embedder.embed_documents([self.indexed_text(c, m) for c, m in zip(chunks, metas)])
        self.store.upsert(chunks, metas, vectors)
        replaced = [old for _, _, olds in group for old in olds]
        self.catalogue.complete([a.article_id for a, _, _ in group], replaced)
        self._purge(replaced)
        return [IngestOutcome(a.meta.source, "replaced" if olds else "added", a.article_id, a.meta.title,
                              reason=f"replaced {', '.join(o[:12] for o in olds)}" if olds else "", chunks=len(cs))
                for a, cs, olds in group]

    def _purge(self, article_ids: Sequence[str]) -> None:
        """Delete vectors first, rows last: a crash in between leaves a `removing` row to finish."""
        for aid in article_ids:
            self.store.delete(self.catalogue.chunk_ids(aid))
        if article_ids:
            self.catalogue.delete(article_ids)

    def _finish_interrupted(self) -> None:
        """Finish what a killed writer left: retire `removing` rows, drop `pending` ones (re-ingest redoes them)."""
        leftovers = [r.article.article_id for status in ("removing", "pending") for r in self.catalogue.records(status)]
        if leftovers:
            self._purge(leftovers)

    def remove(self, article_id: str, on_wait: Callable[[str], None] | None = None) -> ArticleRecord:
        """Remove an article and all its chunks (id or unique prefix of 6+ characters).

        `on_wait` hears once that another process holds the index, as with ingest.

        Raises:
            NotFound: no complete article has that id.
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
        """
        with self.writing(on_wait):
            record = self.get(article_id)
            self.catalogue.mark_removing(record.article.article_id)
            self._purge([record.article.article_id])
            self._rebuild_keyword()
        return record

    def _rebuild_keyword(self) -> None:
        rows = self.catalogue.complete_chunks()
        self.keyword.build([c.chunk_id for c, _ in rows], [self.indexed_text(c, m) for c, m in rows],
                           self.catalogue.generation())

    def ensure_keyword_current(self) -> None:
        if self.keyword.stored_generation() != self.catalogue.generation():
            with write_lock(self.settings.home, self.settings.lock_timeout_s):
                self._rebuild_keyword()


def _spoken_date(published: str | None) -> str:
    # Questions write dates the way articles do ("published on November 1, 2023"), not ISO.
    from datetime import date

    try:
        d = date.fromisoformat((published or "")[:10])
    except ValueError:
        return ""
    return f"{d:%B} {d.day}, {d.year}"


def sources_from_paths(paths: Sequence[str | Path]) -> list[Source]:
    return list(walk_paths(Path(p) for p in paths))


__all__ = ["NewsIndex", "Source", "sources_from_paths", "SUPPORTED_SUFFIXES"]
