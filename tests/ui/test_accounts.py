"""Tokens (hashed, revocable, roles), the per-caller rate limiter, and the `auth` migration on a real catalogue."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from index.db import Database, sqlite_url
from index.errors import InputError, NotFound
from ui.accounts import LOCAL, TOKEN_PREFIX, Caller, TokenStore, hash_token
from ui.limits import RateLimiter


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "catalogue.sqlite3"


@pytest.fixture
def store(db_path: Path) -> TokenStore:
    return TokenStore(Database(sqlite_url(db_path)))


def test_a_token_is_shown_once_and_stored_only_as_its_hash(store: TokenStore, db_path: Path) -> None:
    assert not store.auth_enabled()
    token = store.add("alice", "reader")
    assert token.startswith(TOKEN_PREFIX) and len(token) >= 40
    assert store.auth_enabled()
    assert store.authenticate(token) == Caller("alice", "reader")
    # The database file (and its WAL) holds the hash, never the token.
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob("catalogue.sqlite3*"))
    assert token.encode() not in raw and token[len(TOKEN_PREFIX):].encode() not in raw
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT token_hash FROM tokens").fetchall() == [(hash_token(token),)]
    assert "token" not in str(store.list()[0].to_dict())


def test_unknown_malformed_and_revoked_tokens_are_refused(store: TokenStore) -> None:
    token = store.add("bob", "editor")
    for bad in ("", "nd_", token + "x", token[:-1], "Bearer " + token, token.upper(), "nd_" + "a" * 500):
        assert store.authenticate(bad) is None, bad
    store.revoke("bob")
    assert store.authenticate(token) is None
    assert store.auth_enabled(), "revoking the last token must not turn authentication off"
    with pytest.raises(NotFound, match="No active token named 'bob'"):
        store.revoke("bob")


def test_names_are_unique_and_a_revoked_name_gets_a_new_token(store: TokenStore) -> None:
    first = store.add("carol", "admin")
    with pytest.raises(InputError, match="exists already"):
        store.add("carol", "reader")
    store.revoke("carol")
    second = store.add("carol", "reader")
    assert store.authenticate(first) is None
    assert store.authenticate(second) == Caller("carol", "reader")
    assert [(t.name, t.role, t.revoked_at) for t in store.list()] == [("carol", "reader", None)]


@pytest.mark.parametrize("name", ["", "a b", "-x", "x" * 65, "ä", "a/b", "a\nb", "'; DROP TABLE tokens; --"])
def test_bad_names_and_roles_are_input_errors(store: TokenStore, name: str) -> None:
    with pytest.raises(InputError):
        store.add(name, "reader")
    with pytest.raises(InputError, match="reader, editor, admin"):
        store.add("dave", "root")
    assert not store.auth_enabled()


def test_roles_are_ordered() -> None:
    reader, editor, admin = Caller("r", "reader"), Caller("e", "editor"), Caller("a", "admin")
    assert [reader.can("reader"), reader.can("editor"), reader.can("admin")] == [True, False, False]
    assert [editor.can("reader"), editor.can("editor"), editor.can("admin")] == [True, True, False]
    assert admin.can("admin") and LOCAL.can("admin") and not LOCAL.authenticated


def test_the_auth_revision_upgrades_an_existing_catalogue_keeping_its_rows(tmp_path: Path) -> None:
    from tests.index.test_db import OLD_SCHEMA

    path = tmp_path / "catalogue.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    db = Database(sqlite_url(path))
    assert db.revision() == Database.head()
    assert TokenStore(db).add("erin", "reader")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM state WHERE key = 'generation'").fetchone() == ("7",)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_is_a_sliding_window_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    clock.now += 15
    assert limiter.acquire("a") == 45  # the first of the three leaves the window 45 s from now
    assert limiter.acquire("b") == 0  # another caller has its own window
    clock.now += 44.5
    assert limiter.acquire("a") == 1  # rounded up, never 0 while refused
    clock.now += 0.6
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 60]  # all three left; refusals count nothing


def test_rate_limit_zero_means_unlimited() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.acquire("a") == 0 for _ in range(1000))
