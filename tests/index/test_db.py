"""The catalogue database: migrations adopt catalogues made before them; bad or unreachable URLs say so."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from index.db import Database, newest_revision, sqlite_url
from index.errors import BackendUnavailable, ConfigError
from index.news_index import NewsIndex
from index.settings import IndexSettings
from tests.conftest import REPO, free_port

# The schema the catalogue had before Alembic (stop 6), as SQLite created it.
OLD_SCHEMA = """
CREATE TABLE articles (article_id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT NOT NULL, author TEXT NOT NULL,
    published TEXT, url TEXT, source TEXT NOT NULL, text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'complete', 'removing')), collection TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, added_at REAL NOT NULL);
CREATE INDEX articles_url ON articles(url);
CREATE INDEX articles_status ON articles(status);
CREATE TABLE chunks (chunk_id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(article_id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL);
CREATE INDEX chunks_article ON chunks(article_id);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO state VALUES ('generation', '7');
"""


def test_a_catalogue_from_before_migrations_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    database = Database(sqlite_url(path))
    assert database.revision() is not None
    index = NewsIndex(IndexSettings(home=tmp_path))
    assert index.catalogue.generation() == 7  # nothing lost
    Database(sqlite_url(path))  # opening again is a no-op
    assert index.catalogue.generation() == 7


def test_migration_files_are_named_by_their_revision_and_the_newest_is_alembics_head() -> None:
    files = sorted((REPO / "index" / "migrations" / "versions").glob("*.py"))
    for path in files:
        revision = re.search(r'^revision = "([^"]+)"', path.read_text(), re.M)
        assert revision and path.name.startswith(revision.group(1) + "_"), path.name
    assert newest_revision() == Database.head() == files[-1].name.split("_")[0]


def test_opening_a_current_catalogue_does_not_import_alembic(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "catalogue.sqlite3")
    Database(url)  # created and migrated
    code = f"import sys; from index.db import Database; Database({url!r}); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # ~0.15 s of every `newsdesk ask` (index/db.py)


def test_a_database_url_that_is_neither_sqlite_nor_postgres_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSDESK_DATABASE_URL"):
        NewsIndex(IndexSettings(home=tmp_path, database_url="mysql://x@localhost/db"))


def test_postgres_that_does_not_answer_is_backend_unavailable_naming_it(tmp_path: Path) -> None:
    url = f"postgresql://newsdesk:secret@127.0.0.1:{free_port()}/newsdesk"
    with pytest.raises(BackendUnavailable) as e:
        Database(url)
    assert "127.0.0.1" in str(e.value) and "secret" not in str(e.value)


def test_the_env_variable_reaches_the_index_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.settings import Settings

    monkeypatch.setenv("NEWSDESK_DATABASE_URL", "postgresql://u@db.example/newsdesk")
    assert Settings().index.database_url == "postgresql://u@db.example/newsdesk"
