"""Sources -> searchable articles: parse, dedup, chunk, embed, store; each article all or nothing.

Runs under the index's write lock (`NewsIndex.writing`), driven by `NewsIndex.ingest` through the few parts it
needs (`IngestTarget`), so this module does not import the facade. Articles are committed in groups of about
`commit_chunks` chunks: rows `pending`, vectors upserted, then rows `complete` in one transaction.
Sources are consumed as they come (a generator of 20,000 bulk rows is never listed): only the current
group's articles are held, and each outcome keeps ids and a short reason, never the text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence, Sized
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from index.chunking import chunk_article
from index.copies import CopyFinder, to_bytes
from index.errors import InputError
from index.source import Source
from index.types import Article, ArticleMeta, Chunk, IngestOutcome, IngestReport

if TYPE_CHECKING:
    from index.catalogue import Catalogue
    from index.embedding import Embedder
    from index.settings import IndexSettings
    from index.store import ChunkStore

Progress = Callable[[int, int | None, str], None]  # (done, total or None when not known in advance, current item)
_Pending = tuple[Article, list[Chunk], list[str]]  # article, its chunks, the ids it replaces
_Copies = dict[str, tuple[str | None, bytes]]  # article_id -> (its group's first copy or None, its signature)


class IngestTarget(Protocol):
    """What ingest writes through: the index's stores, its write lock and its upkeep (`NewsIndex` is one)."""

    @property
    def settings(self) -> IndexSettings: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def store(self) -> ChunkStore: ...
    @property
    def embedder(self) -> Embedder: ...
    @property
    def document_embedder(self) -> Embedder: ...
    def writing(self, on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[None]: ...
    def finish_interrupted(self) -> list[str]: ...
    def copy_finder(self) -> CopyFinder: ...
    def copies_current(self, finder: CopyFinder | None) -> None: ...
    def rebuild_keyword(self) -> None: ...
    def indexed_text(self, chunk: Chunk, meta: ArticleMeta) -> str: ...
    def purge_articles(self, article_ids: Sequence[str]) -> None: ...


def ingest_sources(index: IngestTarget, sources: Iterable[Source], progress: Progress | None = None,
                   on_wait: Callable[[str], None] | None = None) -> IngestReport:
    """See `NewsIndex.ingest`."""
    total = len(sources) if isinstance(sources, Sized) else None
    with index.writing(on_wait):
        index.finish_interrupted()
        statuses = index.catalogue.status_of()
        finder = index.copy_finder() if index.settings.group_copies else None
        try:
            outcomes = _ingest(index, sources, total, progress, statuses, finder)
        except BaseException:
            index.copies_current(None)  # it may hold articles that were never committed
            raise
        index.copies_current(finder)
        if progress:
            progress(len(outcomes), len(outcomes), "updating keyword index")
        # Also when nothing changed now: a writer killed after its last commit left BM25 behind (a no-op when
        # this home's keyword index is current).
        index.rebuild_keyword()
    return IngestReport(tuple(outcomes))


def _ingest(index: IngestTarget, sources: Iterable[Source], total: int | None, progress: Progress | None,
            statuses: dict[str, str], finder: CopyFinder | None) -> list[IngestOutcome]:
    outcomes: list[IngestOutcome] = []
    seen: set[str] = set()
    batch_urls: dict[str, str] = {}  # url -> article id added earlier in this batch
    group: list[_Pending] = []
    copies: _Copies = {}
    heads: dict[str, str] = {}  # article_id -> its group's first copy, for articles added by this run
    group_size = 0
    n = 0
    for source in sources:
        if _is_inside(source, index.settings.home):
            total = None if total is None else total - 1
            continue
        if progress:
            progress(n, total, source.label)
        n += 1
        try:
            article = source.parse(index.settings.max_file_bytes)
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
            replaced = [old for old in index.catalogue.complete_by_url(url) if old != aid]
            # Two versions of one URL in a batch: the later one wins, as if ingested one by one.
            if url in batch_urls and batch_urls[url] not in replaced:
                replaced.append(batch_urls[url])
            batch_urls[url] = aid
        chunks = chunk_article(article, index.settings.chunk_chars, index.settings.chunk_overlap)
        if finder is not None:
            copies[aid] = _group(index, finder, article, replaced, heads)
        group.append((article, chunks, replaced))
        group_size += len(chunks)
        if group_size >= index.settings.commit_chunks:
            outcomes.extend(_commit(index, group, copies))
            if any(olds for _, _, olds in group):
                heads.clear()  # a replaced first copy promoted another: ask the catalogue again
            group, group_size, copies = [], 0, {}
    if group:
        outcomes.extend(_commit(index, group, copies))
    return outcomes


def _group(index: IngestTarget, finder: CopyFinder, article: Article, replaced: Sequence[str],
           heads: dict[str, str]) -> tuple[str | None, bytes]:
    """(the first copy of the group this article joins, or None; its signature). A new version of a URL is not a
    copy of the version it replaces. `heads` holds the groups of articles added by this run (so a bulk export of
    many copies asks the catalogue once per group, not once per copy) and learns this article's."""
    signature = finder.signer.sign(article.text)
    match = finder.match(signature, exclude=replaced)
    head = None
    if match:
        aid = match[0]
        if aid not in heads:
            heads[aid] = index.catalogue.copy_heads([aid]).get(aid, aid)
        head = heads[aid]
    heads[article.article_id] = head or article.article_id
    finder.add(article.article_id, signature)
    return head, to_bytes(signature)


def _commit(index: IngestTarget, group: Sequence[_Pending], copies: _Copies) -> list[IngestOutcome]:
    index.catalogue.add_pending([(a, c) for a, c, _ in group], index.store.name, copies)
    chunks = [c for _, cs, _ in group for c in cs]
    metas = [a.meta for a, cs, _ in group for _ in cs]
    vectors = index.document_embedder.embed_documents([index.indexed_text(c, m) for c, m in zip(chunks, metas)])
    index.store.upsert(chunks, metas, vectors)
    replaced = [old for _, _, olds in group for old in olds]
    index.catalogue.complete([a.article_id for a, _, _ in group], replaced)
    index.purge_articles(replaced)
    return [IngestOutcome(a.meta.source, "replaced" if olds else "added", a.article_id, a.meta.title,
                          reason=f"replaced {', '.join(o[:12] for o in olds)}" if olds else "", chunks=len(cs))
            for a, cs, olds in group]


def _is_inside(source: Source, home: Path) -> bool:
    # Ingesting a folder that holds NEWSDESK_HOME must not index the catalogue or the vectors.
    if source.path is None:
        return False
    # realpath, not Path.resolve: a symlink loop must reach parse_file and be rejected there, not
    # raise RuntimeError here and stop the whole batch.
    return Path(os.path.realpath(source.path)).is_relative_to(os.path.realpath(home))
