"""Check the catalogue against the vector store and this home's keyword index and, on request, repair without
losing complete articles.

The three stores may be on three machines (Postgres, a `chroma run` server, this replica's home): the checks go
through `NewsIndex` alone, so they are the same in every mode. The keyword check is this replica's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from index.db import Database
from index.news_index import NewsIndex, catalogue_url
from index.parse import article_id_for
from index.settings import IndexSettings

# What a killed writer can leave behind; harmless to readers (they see complete articles only).
LEFTOVER_KINDS = frozenset({"pending_article", "removing_article", "chunks_without_article", "keyword_index_stale"})
_SHOWN_CHUNK_IDS = 20  # a report lists this many orphan ids; the count is in the detail


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str  # pending_article | removing_article | hash_mismatch | collection_mismatch | article_without_chunks
    #            | chunks_without_article | keyword_index_stale | schema_behind | copy_of_missing
    detail: str
    article_id: str | None = None
    chunk_ids: tuple[str, ...] = ()
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "detail": self.detail}
        if self.article_id is not None:
            out["article_id"] = self.article_id
        if self.chunk_ids:
            out["chunk_ids"] = list(self.chunk_ids[:_SHOWN_CHUNK_IDS])
        if self.repaired:
            out["repaired"] = True
        return out


@dataclass(frozen=True, slots=True)
class DoctorReport:
    ok: bool  # no problems; with repair: every problem repaired
    problems: tuple[Problem, ...]
    articles: int
    chunks: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `newsdesk doctor --json`."""
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.problems], "articles": self.articles,
                "chunks": self.chunks}


def doctor(settings: IndexSettings, repair: bool = False) -> DoctorReport:
    """`newsdesk doctor`: open the index, then `check_index`. Pending catalogue migrations are a problem
    (`schema_behind`) when migrations at start are off; `repair` applies them.

    Raises:
        IndexBusy, BackendUnavailable, ConfigError: as `NewsIndex` and `check_index` do.
    """
    migrate = repair or settings.migrate
    if not migrate:
        db = Database(catalogue_url(settings), migrate=False)
        if db.behind():
            # Nothing else can be checked safely against a schema this Newsdesk does not expect.
            return DoctorReport(False, (Problem("schema_behind", f"the catalogue's schema revision is "
                                                f"{db.revision()!r}, older than {Database.head()!r}; "
                                                "`newsdesk doctor --repair` applies the migrations"),), 0, 0)
    index = NewsIndex(settings, migrate=migrate)
    report = check_index(index, repair)
    migrated = index.catalogue.db.upgraded_from
    if repair and migrated:
        fixed = Problem("schema_behind", f"the catalogue's schema revision was {migrated!r}; migrated to "
                                         f"{Database.head()!r}", repaired=True)
        report = dataclasses.replace(report, problems=(fixed, *report.problems))
    return report


def check_index(index: NewsIndex, repair: bool = False) -> DoctorReport:
    """Compare the catalogue with the vector store (and the BM25 index), holding the write lock.

    Problems found: articles left `pending`/`removing` by an interrupted write, complete articles
    whose chunks are missing from the store (`article_without_chunks`), stored chunks that belong to
    no complete article (`chunks_without_article`), text that no longer hashes to its article id
    (`hash_mismatch`), articles indexed under other embedding/chunking settings
    (`collection_mismatch`) and a stale BM25 index.

    Args:
        index: the index to check.
        repair: also fix what can be fixed without losing a complete article: leftovers are purged,
            missing or mismatched vectors are rebuilt from the article text kept in the catalogue,
            BM25 is rebuilt. A `hash_mismatch` is reported, never repaired (re-ingest the source).

    Raises:
        IndexBusy: a writer kept the index longer than `lock_timeout_s`.
        BackendUnavailable: the Chroma server is unreachable.
    """
    with index.writing():
        problems = _find_problems(index)
        if repair and problems:
            problems = _repair(index, problems)
        stored = index.store.count()
        complete = index.catalogue.complete_ids()
    ok = all(p.repaired for p in problems) if repair else not problems
    return DoctorReport(ok, tuple(problems), len(complete), stored)


def _find_problems(index: NewsIndex) -> list[Problem]:
    problems: list[Problem] = []
    statuses = index.catalogue.status_of()
    rows = index.catalogue.all_chunk_ids()  # chunk_id -> article_id, all statuses
    stored = index.store.ids_by_article()  # chunk_id -> article_id in Chroma
    by_article: dict[str, set[str]] = {}
    for cid, aid in rows.items():
        by_article.setdefault(aid, set()).add(cid)
    records = index.catalogue.records(None)
    for record in records:
        aid = record.article.article_id
        if record.status != "complete":
            problems.append(Problem(f"{record.status}_article", f"article {aid[:12]} was left {record.status!r} by "
                                    "an interrupted write", aid))
            continue
        if article_id_for(record.article.text) != aid:
            problems.append(Problem("hash_mismatch", f"article {aid[:12]}'s text no longer hashes to its id; "
                                    "re-ingest its source", aid))
        if record.collection != index.store.name:
            problems.append(Problem("collection_mismatch", f"article {aid[:12]} was indexed into {record.collection}, "
                                    f"but the settings now use {index.store.name} (embedding model or chunking "
                                    "changed)", aid))
            continue
        expected = by_article.get(aid, set())
        missing = sorted(cid for cid in expected if cid not in stored)
        if missing or not expected or len(expected) != record.n_chunks:
            problems.append(Problem("article_without_chunks", f"article {aid[:12]} lists {record.n_chunks} chunks; "
                                    f"{len(missing)} of {len(expected)} are missing from the vector store", aid))
    # A wire copy points at its group's first copy, which must be a complete article that is no copy itself.
    heads = {r.article.article_id: r.copy_of for r in records}
    for head in sorted({h for h in heads.values() if h and (statuses.get(h) != "complete" or heads.get(h))}):
        members = sorted(a for a, h in heads.items() if h == head)
        problems.append(Problem("copy_of_missing", f"{len(members)} wire cop(ies) point at {head[:12]}, which is not "
                                "a complete first copy; the next-oldest copy becomes the group's first", head))
    # A stored chunk is an orphan unless it is one of a complete article's listed chunks.
    orphans = tuple(sorted(cid for cid in stored if statuses.get(rows.get(cid, "")) != "complete"))
    if orphans:
        problems.append(Problem("chunks_without_article", f"{len(orphans)} chunk(s) in the vector store belong to "
                                "no complete article", chunk_ids=orphans))
    if not index.keyword_current():
        problems.append(Problem("keyword_index_stale", f"this replica's BM25 index ({index.keyword.directory}) "
                                "is older than the catalogue"))
    return problems


def _repair(index: NewsIndex, problems: list[Problem]) -> list[Problem]:
    index.finish_interrupted()  # pending_article, removing_article
    repaired: list[Problem] = []
    for p in problems:
        if p.kind == "chunks_without_article":
            index.store.delete(p.chunk_ids)
        elif p.kind == "copy_of_missing":
            assert p.article_id is not None
            index.catalogue.regroup([p.article_id])
        elif p.kind in ("article_without_chunks", "collection_mismatch"):
            assert p.article_id is not None
            index.reembed(p.article_id)  # the text is in the catalogue, so the vectors can be rebuilt
        elif p.kind not in ("pending_article", "removing_article", "keyword_index_stale"):
            repaired.append(p)  # hash_mismatch: only re-ingesting the source can fix it
            continue
        repaired.append(dataclasses.replace(p, repaired=True))
    index.refresh_keyword(force=True)  # last: it must index the repaired catalogue
    return repaired
