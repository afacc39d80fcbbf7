"""The catalogue's database through SQLAlchemy: SQLite under NEWSDESK_HOME by default, Postgres by URL.

Schema changes go through Alembic migrations (index/migrations/), applied when a process opens the
database (and by `newsdesk doctor --repair`), never by hand. Concurrent openers serialise the upgrade: SQLite
by its write lock (BEGIN IMMEDIATE), Postgres by an advisory lock.

Reads see one snapshot per `reading()` block on both engines (SQLite: one read transaction; Postgres:
REPEATABLE READ), so a reader never sees half of a write. A writer that holds the index's Postgres write lock
runs its transactions on the lock's own connection (`pinned`): if that connection dies, the lock dies with it
and so do the writer's writes, instead of going on through a fresh connection without the lock.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from index.errors import BackendUnavailable, ConfigError
from index.settings import IndexSettings

_MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x6E657773  # "news": the advisory lock id that serialises Postgres upgrades
_heads: dict[str, str] = {}
_known: set[str] = set()


class Database:
    """One engine per database URL and process; `transaction()` for writes, `reading()` for reads.

    Args:
        url: sqlite:///path or postgresql://user:password@host:port/db.
        migrate: apply pending migrations now (else `behind()` says whether some are pending).

    Raises (at open):
        ConfigError: the URL is not sqlite:// or postgresql://, or a newer Newsdesk has migrated the database
            to a revision this one does not know.
        BackendUnavailable: the database server does not answer.
    """

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name
        self.upgraded_from: str | None = None  # the revision this open migrated from, when it did
        self._pinned = threading.local()
        if migrate:
            self.upgrade()
        else:
            self._check_known(self.revision())

    @property
    def display_url(self) -> str:
        """The URL as the user wrote it, without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, committed at the end (rolled back on error). SQLite takes its write lock first
        (BEGIN IMMEDIATE), so two writers never deadlock upgrading a read lock. On the thread that holds a
        `pinned` connection, the transaction runs on that connection."""
        pinned: Connection | None = getattr(self._pinned, "conn", None)
        if pinned is not None:
            if pinned.invalidated or pinned.closed:
                # SQLAlchemy would reconnect an invalidated connection on its next use: a new session, without
                # the lock that the old one held.
                raise BackendUnavailable(f"Lost the connection to the catalogue database (Postgres) at "
                                         f"{self.display_url} while writing, and with it the index's write lock. "
                                         "Nothing half-written is visible; run the command again once Postgres "
                                         "is up.")
            with self._unavailable(), pinned.begin():
                yield pinned
            return
        with self._unavailable(), self.engine.connect().execution_options(newsdesk_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def reading(self, snapshot: bool = True) -> Iterator[Connection]:
        """A read-only view; one consistent snapshot for its statements (Postgres: REPEATABLE READ, which never
        fails a read-only transaction). A block of one statement passes `snapshot=False`: on Postgres it then
        runs without BEGIN and ROLLBACK, two round trips fewer (one statement always sees one snapshot)."""
        with self._unavailable(), self.engine.connect() as conn:
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ" if snapshot else "AUTOCOMMIT")
            yield conn
            conn.rollback()

    @contextmanager
    def pinned(self) -> Iterator[Connection]:
        """A connection of its own that this thread's `transaction()`s use until the block ends.

        The Postgres write lock is held by this connection's session. Should the connection die (the server
        restarted, an admin ended the session), the lock is gone, and the writer's next transaction fails on the
        dead connection instead of writing without the lock through a fresh one.
        """
        with self._unavailable(), self.engine.connect() as conn:
            self._pinned.conn = conn
            try:
                yield conn
            finally:
                self._pinned.conn = None

    def upgrade(self) -> None:
        """Apply migrations up to the newest, once; a no-op (one short read) when the schema is current."""
        with self._unavailable():
            with self.engine.connect() as conn:
                current = _stored_revision(conn)
            # Current: done without Alembic, whose import and reading of the migration scripts took ~0.15 s of
            # every process that opens the catalogue (every `newsdesk ask`).
            if current is not None and current == newest_revision():
                return
            head = _head()
            self._check_known(current)
            if current == head:
                return
            from alembic import command

            with self.transaction() as conn:
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                current = _current(conn)
                if current != head:
                    cfg = _alembic_config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    self.upgraded_from = current or "empty"

    def revision(self) -> str | None:
        with self.reading() as conn:
            return _current(conn)

    def behind(self) -> bool:
        """Whether migrations are pending (the schema is older than this Newsdesk's newest revision)."""
        return self.revision() != _head()

    @staticmethod
    def head() -> str:
        return _head()

    def _check_known(self, revision: str | None) -> None:
        if revision is not None and revision not in _revisions():
            raise ConfigError(f"The catalogue database at {self.display_url} has schema revision {revision!r}, which "
                              f"this Newsdesk does not know (its newest is {_head()!r}): a newer Newsdesk has "
                              "migrated it. Upgrade this Newsdesk before it uses that database.")

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, InterfaceError) as e:
            if self.dialect == "sqlite":
                raise
            raise self.unavailable(e) from e
        except DBAPIError as e:
            if self.dialect == "sqlite" or not e.connection_invalidated:
                raise
            raise self.unavailable(e) from e

    def unavailable(self, e: DBAPIError) -> BackendUnavailable:
        """The error users see when Postgres went away: names the server (never the password)."""
        reason = str(e.orig).strip().splitlines()[0] if e.orig and str(e.orig).strip() else type(e.orig).__name__
        return BackendUnavailable(f"The catalogue database (Postgres) at {self.display_url} does not answer "
                                  f"({reason}). Check that Postgres is up, or unset NEWSDESK_DATABASE_URL to use "
                                  "SQLite.")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://"))


def catalogue_database(settings: IndexSettings) -> Database:
    """The catalogue's database: NEWSDESK_DATABASE_URL when set, else SQLite under the home directory."""
    return Database(settings.database_url or sqlite_url(settings.catalogue_path), migrate=settings.migrate)


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
    elif is_postgres(url):
        # psycopg 3 is the driver; plain postgresql:// would ask SQLAlchemy for psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
        # Keepalives: a replica whose database host vanished from the network finds out in about a minute
        # instead of waiting on a dead TCP connection for the kernel's two hours.
        engine = create_engine(url, pool_size=5, max_overflow=10,
                               connect_args={"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30,
                                             "keepalives_interval": 10, "keepalives_count": 3})
        event.listen(engine, "checkout", _drop_if_closed_by_server)
    else:
        raise ConfigError(f"NEWSDESK_DATABASE_URL must start with sqlite:/// or postgresql://, not {url[:30]!r}.")
    # A forked child must not share its parent's connections.
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    return engine


def _drop_if_closed_by_server(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no pooled connection that the server has closed (a restart, an ended session).

    Such a connection has the server's goodbye and end-of-file waiting on its socket, which a zero-timeout
    select sees without a round trip; an idle healthy one has nothing to read. (`pool_pre_ping`'s SELECT 1
    costs a round trip per read, five per question.) DisconnectionError makes the pool open a new one.
    """
    # poll, not select: select() refuses descriptors from 1024 on, which a long-running process (a server with
    # many open files and sockets; the test suite) reaches, and every checkout would then look closed.
    poller = select.poll()
    try:
        poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLPRI)
        events = poller.poll(0)
    except (OSError, ValueError) as e:  # closed already
        raise DisconnectionError("closed") from e
    if events:
        raise DisconnectionError("closed by the server")


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


def _revisions() -> frozenset[str]:
    if not _known:
        from alembic.script import ScriptDirectory

        _known.update(r.revision for r in ScriptDirectory.from_config(_alembic_config()).walk_revisions())
    return frozenset(_known)


def newest_revision() -> str:
    """The newest migration's revision from the file names alone: `versions/0004_copies.py` holds revision "0004"
    (tests/index/test_db.py checks that every file's name and revision agree and that Alembic's head is this)."""
    return max(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _stored_revision(conn: Connection) -> str | None:
    """The database's schema revision (Alembic's one-row `alembic_version` table), read without Alembic."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return str(rows[0]) if len(rows) == 1 else _current(conn)  # several heads: Alembic's own reading


def _current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()
