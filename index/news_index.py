"""The index facade: catalogue + Chroma + keyword index kept consistent by one writer at a time.

Where each part lives (the allowed mode combinations; why: docs/DECISIONS.md, "Several hosts"):

| catalogue (`NEWSDESK_DATABASE_URL`) | vectors (`NEWSDESK_INDEX__CHROMA_URL`) | write lock | hosts |
| --- | --- | --- | --- |
| SQLite under the home (unset) | embedded Chroma under the home (unset) | file | one home |
| SQLite under the home | a `chroma run` server | file | one home (replicas share it) |
| Postgres | a `chroma run` server | advisory | many: each replica has its own home |
| Postgres | embedded | refused: `ConfigError` | – |

The keyword index always lives in this process's home and follows the catalogue (`search_keywords`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from index.alert_store import AlertStore
from index.catalogue import ArticleRecord, Catalogue
from index.chunking import chunk_article
from index.copies import CopyFinder, from_bytes, to_bytes
from index.db import Database, is_postgres, sqlite_url
from index.embedding import Embedder, load_document_embedder, load_embedder
from index.errors import ConfigError, NotFound
from index.feed_store import FeedStore
from index.ingest import Progress, ingest_sources
from index.keyword import KeywordBuild, KeywordIndex
from index.lock import FileWriteLock, PostgresWriteLock, WriteLock
from index.settings import IndexSettings
from index.source import Source
from index.store import ChunkStore
from index.types import ArticleMeta, Chunk, IngestReport, spoken_date


def catalogue_url(settings: IndexSettings) -> str:
    """The catalogue's database: `database_url`, else SQLite in the home.

    Raises:
        ConfigError: a Postgres catalogue with embedded vectors (the catalogue would be shared by hosts whose
            vectors are each on their own disk).
    """
    url = settings.database_url or sqlite_url(settings.catalogue_path)
    if is_postgres(url) and not settings.chroma_url:
        raise ConfigError("NEWSDESK_DATABASE_URL puts the catalogue in Postgres, to be shared by several hosts, "
                          "but the vectors would be in this host's embedded Chroma. Set NEWSDESK_INDEX__CHROMA_URL "
                          "to a `chroma run` server, or unset NEWSDESK_DATABASE_URL for one host.")
    return url


class NewsIndex:
    """Articles in and out; everything that changes the index goes through here.

    Args:
        settings: the index's settings.
        embedder: the embedding model, for questions and ingest alike (default: the configured packaged model;
            questions get its numpy path, ingest sentence-transformers, see `document_embedder`).
        client: a Chroma client to use instead of building one.
        migrate: apply pending catalogue migrations at open (default: `settings.migrate`).

    Raises:
        ConfigError: settings that do not go together, or a catalogue whose schema is behind this Newsdesk's
            while migrations at start are off.
        BackendUnavailable: Postgres or the Chroma server does not answer.
    """

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None, client: object | None = None,
                 migrate: bool | None = None) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        migrate = settings.migrate if migrate is None else migrate
        db = Database(catalogue_url(settings), migrate=migrate)
        if not migrate and db.behind():
            raise ConfigError(f"The catalogue at {db.display_url} has schema revision {db.revision()!r}, older than "
                              f"this Newsdesk's {Database.head()!r}, and migrations at start are off "
                              "(NEWSDESK_INDEX__MIGRATE=false). Run `newsdesk doctor --repair` once to apply them.")
        self.catalogue = Catalogue(db)
        self.lock: WriteLock = (PostgresWriteLock(db, settings.lock_timeout_s) if db.dialect == "postgresql"
                                else FileWriteLock(settings.home, settings.lock_timeout_s))
        self.feeds = FeedStore(self.catalogue.db)
        self.alerts = AlertStore(self.catalogue.db)
        self.embedder: Embedder = embedder or load_embedder(settings.embedding_model, settings.embed_batch)
        self._document_embedder = embedder
        self.store = ChunkStore(settings, client, version=self.catalogue.store_version)
        self.keyword = KeywordIndex(settings.keyword_dir)
        self._complete_cache: tuple[int, set[str]] = (-1, set())
        self._outlets_cache: tuple[int, list[str]] = (-1, [])
        self._copies: tuple[int, CopyFinder] | None = None  # (catalogue generation it matches, the finder)

    @property
    def document_embedder(self) -> Embedder:
        """What chunks are embedded with at ingest: the packaged model through sentence-transformers, loaded at the
        first ingest (torch; not needed to answer), or the embedder given to the index."""
        if self._document_embedder is None:
            self._document_embedder = load_document_embedder(self.settings.embedding_model, self.settings.embed_batch)
        return self._document_embedder

    # --- text that gets embedded and keyword-indexed -----------------------------------------
    def indexed_text(self, chunk: Chunk, meta: ArticleMeta) -> str:
        """Title, then 'Outlet · November 1, 2023', then the chunk: what gets embedded and keyword-indexed.

        The day is spoken, not ISO: questions write dates the way articles do ("published on November 1, 2023").
        """
        head: list[str] = []
        # A title derived from the first line is not repeated in front of the chunk that starts with it.
        if self.settings.embed_title and meta.title and not (
                chunk.ordinal == 0 and chunk.text.startswith(meta.title.rstrip("…").strip())):
            head.append(meta.title)
        if self.settings.embed_meta:
            line = " · ".join(x for x in (meta.outlet, spoken_date(meta.published)) if x)
            if line:
                head.append(line)
        return "\n".join([*head, chunk.text])

    # --- reads ---------------------------------------------------------------------------------
    def complete_ids(self, generation: int | None = None) -> set[str]:
        """Ids of the searchable articles, re-read only when the catalogue changed.

        A caller that read `catalogue.generation()` for the whole question passes it (one read, not one per
        call: with Postgres each is a round trip).
        """
        gen = self.catalogue.generation() if generation is None else generation
        if gen != self._complete_cache[0]:
            self._complete_cache = (gen, self.catalogue.complete_ids())
        return self._complete_cache[1]

    def outlets(self, generation: int | None = None) -> list[str]:
        """Distinct outlets of searchable articles, re-read only when the catalogue changed."""
        gen = self.catalogue.generation() if generation is None else generation
        if gen != self._outlets_cache[0]:
            self._outlets_cache = (gen, self.catalogue.outlets())
        return self._outlets_cache[1]

    def get(self, article_id: str) -> ArticleRecord:
        """A complete article by id or a unique prefix of 6+ characters.

        Raises:
            NotFound: no complete article has that id.
        """
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

    def search_keywords(self, query: str, k: int, generation: int | None = None) -> list[tuple[str, float]]:
        """BM25 over the complete chunks: (chunk_id, score), best first.

        When the catalogue has moved since this home's keyword index was built (another replica or process
        wrote), the index is brought up to date first, so this question already searches the new articles.
        If another thread or process of this home is doing that already, the question does not wait: it
        searches the previous build, and retrieval still drops every chunk the catalogue no longer shows as
        complete. `generation` as for `complete_ids`.
        """
        version = self.catalogue.version() if generation is None else self.catalogue.version_at(generation)
        if self.keyword.stored_stamp() != version:
            self.refresh_keyword(wait=False)
        return self.keyword.search(query, k)

    def keyword_current(self) -> bool:
        """Whether this home's keyword index holds the catalogue's current version."""
        return self.keyword.stored_stamp() == self.catalogue.version()

    # --- writes --------------------------------------------------------------------------------
    @contextmanager
    def writing(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """Hold the index's write lock, with the vector store reloaded if another process changed it.

        The store version is bumped before the first write and after the last, so readers in other
        processes reload their embedded client once this writer is done (or was killed).

        Raises:
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
        """
        with self.lock.hold(on_wait):
            self.store.refresh(writer=True)
            self.catalogue.bump_store_version()
            self.store.mark_current()
            try:
                yield
            finally:
                self.catalogue.bump_store_version()
                self.store.mark_current()

    def ingest(self, sources: Iterable[Source], progress: Progress | None = None,
               on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Parse, dedup, chunk, embed and store; each article is searchable completely or not at all.

        Files inside the index's own data directory are skipped.

        Raises:
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
            BackendUnavailable: the Chroma server went away; committed groups stay complete.
        """
        return ingest_sources(self, sources, progress, on_wait)

    def remove(self, article_id: str, on_wait: Callable[[str], None] | None = None) -> ArticleRecord:
        """Remove an article and all its chunks (id or unique prefix of 6+ characters).

        `on_wait` hears once that another process holds the index, as with ingest.

        Raises:
            NotFound: no complete article has that id.
            IndexBusy: another process kept the index longer than `lock_timeout_s`.
        """
        with self.writing(on_wait):
            record = self.get(article_id)
            current = self._copies is not None and self._copies[0] == self.catalogue.generation()
            self.catalogue.mark_removing(record.article.article_id)
            self.purge_articles([record.article.article_id])
            if current and self._copies:
                self.copies_current(self._copies[1])
            self.rebuild_keyword()
        return record

    # The methods below change the index: callers hold `writing()`.
    def purge_articles(self, article_ids: Sequence[str]) -> None:
        """Delete articles' vectors first, their rows last: a crash in between leaves a `removing` row to finish."""
        for aid in article_ids:
            self.store.delete(self.catalogue.chunk_ids(aid))
        if article_ids:
            self.catalogue.delete(article_ids)
            if self._copies:
                self._copies[1].discard(article_ids)

    def copy_finder(self) -> CopyFinder:
        """The signatures of the complete articles, for grouping wire copies (index/copies.py).

        Built from the signatures the catalogue keeps (no text is re-read), once per process and again only when
        another process changed the catalogue. Complete articles without a signature (indexed before grouping was
        on) are signed and grouped first, oldest first, as if ingested now.
        """
        generation = self.catalogue.generation()
        if self._copies is None or self._copies[0] != generation:
            finder = CopyFinder(self.settings.copy_threshold)
            for aid, blob in self.catalogue.signatures():
                finder.add(aid, from_bytes(blob))
            found: dict[str, tuple[str | None, bytes]] = {}
            heads: dict[str, str] = {}
            for aid, body in self.catalogue.unsigned():
                signature = finder.signer.sign(body)
                match = finder.match(signature)
                head = (heads.get(match[0]) or self.catalogue.copy_heads([match[0]]).get(match[0], match[0])
                        if match else None)
                heads[aid] = head or aid
                found[aid] = (head, to_bytes(signature))
                finder.add(aid, signature)
            self.catalogue.set_copies(found)
            self._copies = (self.catalogue.generation(), finder)
        return self._copies[1]

    def copies_current(self, finder: CopyFinder | None) -> None:
        """This process's own writes are in `finder` (None: they may not be; rebuild it when next needed)."""
        self._copies = (self.catalogue.generation(), finder) if finder is not None else None

    def finish_interrupted(self) -> list[str]:
        """Finish what a killed writer left: retire `removing` rows, drop `pending` ones (re-ingest redoes them).

        Returns the ids purged.
        """
        leftovers = [r.article.article_id for status in ("removing", "pending") for r in self.catalogue.records(status)]
        if leftovers:
            self.purge_articles(leftovers)
        return leftovers

    def reembed(self, article_id: str) -> None:
        """Rebuild a complete article's vectors from the text kept in the catalogue (current model and chunking).

        The article stays complete throughout: new vectors first, then its chunk rows switch over in one
        transaction, then vectors that no chunk row names any more are deleted.
        """
        record = self.catalogue.get(article_id)
        if record is None:
            raise NotFound(f"No article with id {article_id!r}.")
        article = record.article
        chunks = chunk_article(article, self.settings.chunk_chars, self.settings.chunk_overlap)
        vectors = self.document_embedder.embed_documents([self.indexed_text(c, article.meta) for c in chunks])
        old = set(self.catalogue.chunk_ids(article_id)) if record.collection == self.store.name else set()
        self.store.upsert(chunks, [article.meta] * len(chunks), vectors)
        self.catalogue.rechunk(article_id, chunks, self.store.name)
        self.store.delete(sorted(old - {c.chunk_id for c in chunks}))

    def rebuild_keyword(self) -> None:
        """Bring this home's keyword index up to the catalogue's version, waiting for a build already running."""
        self.refresh_keyword(wait=True)

    def refresh_keyword(self, wait: bool = True, force: bool = False) -> KeywordBuild | None:
        """Build this home's BM25 over the complete chunks, if it is older than the catalogue (or `force`).

        One build at a time per home; chunks the last build held keep their token counts. Returns what the
        build did, or None when nothing was built (current already, or another build is running and `wait`
        is False).
        """
        with self.keyword.building(wait) as mine:
            if not mine:
                return None
            # The version is read before the chunks: if the catalogue moves in between, the build holds newer
            # chunks than its stamp says, and the next check builds again. Never the other way round.
            version = self.catalogue.version()
            if not force and self.keyword.stored_stamp() == version:
                return None
            return self.keyword.update(version, self.catalogue.complete_chunk_keys(), self._keyword_texts)

    def _keyword_texts(self, chunk_ids: list[str]) -> dict[str, str]:
        return {cid: self.indexed_text(c, m) for cid, (c, m) in self.catalogue.chunks_by_ids(chunk_ids).items()}

