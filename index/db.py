"""The catalogue's database through SQLAlchemy: SQLite under NEWSDESK_HOME by default, Postgres by URL.

Schema changes go through Alembic migrations (index/migrations/), applied when a process opens the
database (and by `newsdesk doctor --repair`), never by hand. Concurrent openers serialise the upgrade: SQLite
by its write lock (BEGIN IMMEDIATE), Postgres by an advisory lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from index.errors import BackendUnavailable, ConfigError
from index.settings import IndexSettings

_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock id that serialises Postgres upgrades
_heads: dict[str, str] = {}


class Database:
    """One engine per database URL and process; `transaction()` for writes, `reading()` for reads.

    Raises (at open):
        ConfigError: the URL is not sqlite:// or postgresql://.
        BackendUnavailable: the database server does not answer.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name
        self.upgrade()

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, committed at the end (rolled back on error). SQLite takes its write lock first
        (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock."""
        with self._unavailable(), self.engine.connect().execution_options(newsdesk_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only view; one consistent snapshot for its statements."""
        with self._unavailable(), self.engine.connect() as conn:
            yield conn
            conn.rollback()

    def upgrade(self) -> None:
        """Apply migrations up to the newest, once; a no-op (one short read) when the schema is current."""
        head = _head()
        with self._unavailable():
            with self.engine.connect() as conn:
                if _current(conn) == head:
                    return
            from alembic import command

            with self.transaction() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                if _current(conn) != head:
                    cfg = _alembic_config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        with self.reading() as conn:
            return _current(conn)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        try:
            yield
        except OperationalError as e:
            if self.dialect == "sqlite":
                raise
            raise BackendUnavailable(f"The catalogue database at {self.display_url} does not answer "
                                     f"({str(e.orig).strip().splitlines()[0] if e.orig else e}). Check that "
                                     "Postgres is up, or unset NEWSDESK_DATABASE_URL to use SQLite.") from e


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def catalogue_database(settings: IndexSettings) -> Database:
    """The catalogue's database: NEWSDESK_DATABASE_URL when set, else SQLite under the home directory."""
    return Database(settings.database_url or sqlite_url(settings.catalogue_path))


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> Engine:
    with _engines_lock:
        if url not in _engines:
            _engines[url] = _make_engine(url)
        return _engines[url]


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    elif url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        # psycopg 3 is the driver; plain postgresql:// would ask SQLAlchemy for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                               connect_args={"connect_timeout": 10})
    else:
        raise ConfigError(f"NEWSDESK_DATABASE_URL must start with sqlite:/// or postgresql://, not {url[:30]!r}.")
    # A forked child must not share its parent's connections.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (below): pysqlite's own transaction handling would begin too late.
    dbapi_conn.isolation_level = None
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        dbapi_conn.execute(f"PRAGMA {pragma}")


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("newsdesk_write") else "BEGIN")


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _head() -> str:
    if "head" not in _heads:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
        assert head is not None
        _heads["head"] = head
    return _heads["head"]


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()
