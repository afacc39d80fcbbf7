"""Alerts in the catalogue database, on SQLite and on a real Postgres: migration 0005 over a catalogue with rows,
and the store (owners, ids, read marks), against the articles' `added_at` clock."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from index.alert_store import AlertStore
from index.catalogue import Catalogue
from index.db import Database, _alembic_config
from index.errors import InputError, NotFound
from index.types import Article, ArticleMeta, Chunk


def _at_revision(url: str, revision: str) -> None:
    """The database as a Newsdesk of `revision` left it."""
    from alembic import command

    db = Database(url, migrate=False)
    with db.transaction() as conn:
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _add_article(catalogue: Catalogue, article_id: str, complete: bool = True) -> None:
    article = Article(article_id, ArticleMeta(title=f"t {article_id}", outlet="dpa"), "Some text of the article.")
    catalogue.add_pending([(article, [Chunk(f"{article_id}:0", article_id, 0, 0, 25, article.text)])], "c")
    if complete:
        catalogue.complete([article_id])


def test_migration_0005_adds_alerts_to_a_catalogue_with_articles_and_goes_back(catalogue_db_url: str) -> None:
    url = catalogue_db_url
    _at_revision(url, "0004")
    old = Database(url, migrate=False)
    _add_article(Catalogue(old), "a" * 32)
    assert old.revision() == "0004" and old.behind()
    db = Database(url)  # migrates at open
    assert db.revision() == Database.head() == "0005" and db.upgraded_from == "0004"
    assert Catalogue(db).complete_ids() == {"a" * 32}  # the articles stay
    alert = AlertStore(db).add("alice", "What happened to the harbour?")
    assert AlertStore(db).get(alert.alert_id, "alice") == alert

    from alembic import command

    with db.transaction() as conn:  # the downgrade works too (and takes the table with it)
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with db.reading() as conn:
        names = {r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if db.dialect == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    assert "alerts" not in names and "articles" in names
    Database(url)  # and up again
    assert AlertStore(db).list("alice") == []


def test_alerts_belong_to_their_owner_and_ids_are_never_reused(catalogue_db_url: str) -> None:
    store = AlertStore(Database(catalogue_db_url))
    first = store.add("alice", "  What happened to the harbour?  ")
    second = store.add("alice", "Who runs the port?")
    bob = store.add("bob", "What did the council decide?")
    assert first.question == "What happened to the harbour?" and first.read_until == first.created_at
    assert first.last_checked_at is None and first.alert_id < second.alert_id < bob.alert_id
    assert [a.alert_id for a in store.list("alice")] == [first.alert_id, second.alert_id]
    assert store.list("bob") == [bob] and store.list("") == []
    for other in (lambda: store.get(bob.alert_id, "alice"), lambda: store.remove(bob.alert_id, "alice"),
                  lambda: store.get(10_000, "alice")):
        with pytest.raises(NotFound, match="No alert"):
            other()
    assert store.list("bob") == [bob]  # alice's attempt removed nothing
    assert store.remove(bob.alert_id, "bob") == bob
    assert store.add("bob", "Again?").alert_id > bob.alert_id  # the removed newest id is not handed out again
    with pytest.raises(InputError, match="empty"):
        store.add("alice", "   ")


def test_news_is_what_was_added_after_read_until_and_marks_never_go_back(catalogue_db_url: str) -> None:
    db = Database(catalogue_db_url)
    catalogue, store = Catalogue(db), AlertStore(db)
    _add_article(catalogue, "1" * 32)
    alert = store.add("alice", "What happened to the harbour?")
    assert catalogue.added_since(alert.read_until) == [] and catalogue.count_added_since(alert.read_until) == 0
    _add_article(catalogue, "2" * 32)
    _add_article(catalogue, "3" * 32)
    _add_article(catalogue, "4" * 32, complete=False)  # pending: not news yet
    added = catalogue.added_since(alert.read_until)
    assert [a for a, _ in added] == ["2" * 32, "3" * 32] and catalogue.count_added_since(alert.read_until) == 2
    now = time.time()
    store.mark_read(alert.alert_id, "alice", added[-1][1], now)
    read = store.get(alert.alert_id, "alice")
    assert read.read_until == added[-1][1] and read.last_checked_at == now
    catalogue.complete(["4" * 32])  # finished after the check, though written before it: still news
    assert [a for a, _ in catalogue.added_since(read.read_until)] == ["4" * 32]
    store.mark_read(alert.alert_id, "alice", added[0][1], now + 1)  # an older check finishing late
    assert store.get(alert.alert_id, "alice").read_until == added[-1][1]
    store.mark_read(alert.alert_id, "bob", now + 100, now + 2)  # not bob's: nothing changes
    assert store.get(alert.alert_id, "alice").last_checked_at == now + 1
