"""Access tokens and roles: who may ask, who may change the index, who manages tokens.

Tokens live in the catalogue database as sha256 hashes only; the token itself is shown once, when it is made.
Once any token exists (revoked ones count), every caller must present one: revoking the last token never
turns authentication off again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from index.db import Database
from index.errors import InputError, NotFound

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("reader", "editor", "admin")  # each may do what the ones before it may
TOKEN_PREFIX = "nd_"  # recognisable in a leaked config file or a secret scanner
LOCAL_USER = "local"  # who owns conversations while no token exists
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a token's name and role, or the local user when no token exists (auth off)."""

    name: str
    role: Role
    authenticated: bool = True  # False: auth is off, everybody is the local admin

    def can(self, role: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


LOCAL = Caller(LOCAL_USER, "admin", authenticated=False)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as `token list` shows it: never the token or its hash."""

    name: str
    role: Role
    created_at: float
    revoked_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "created_at": _iso(self.created_at),
                "revoked": self.revoked_at is not None,
                "revoked_at": _iso(self.revoked_at) if self.revoked_at is not None else None}


def hash_token(token: str) -> str:
    # A plain sha256 is enough: tokens carry 256 random bits, so there is nothing to brute-force or look up.
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The `tokens` table. Each operation takes its own connection, so one store serves every thread."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def auth_enabled(self) -> bool:
        """True once any token was ever made (revoked ones count)."""
        with self.db.reading() as conn:
            return conn.execute(text("SELECT 1 FROM tokens LIMIT 1")).first() is not None

    def add(self, name: str, role: str) -> str:
        """Make a token and return it; only its hash is kept. A revoked name can be given a new token.

        Raises:
            InputError: the name is malformed or has an active token, or the role is unknown.
        """
        if not _NAME.match(name):
            raise InputError(f"Token name {name[:80]!r} is not allowed: use 1-64 letters, digits, '.', '_', '@' or "
                             "'-', starting with a letter or digit.")
        if role not in ROLES:
            raise InputError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = {"n": name, "r": role, "h": hash_token(token), "t": time.time()}
        try:
            with self.db.transaction() as conn:
                done = conn.execute(text("UPDATE tokens SET role = :r, token_hash = :h, created_at = :t, "
                                         "revoked_at = NULL WHERE name = :n AND revoked_at IS NOT NULL"), row)
                if not done.rowcount:
                    conn.execute(text("INSERT INTO tokens(name, role, token_hash, created_at) "
                                      "VALUES (:n, :r, :h, :t)"), row)
        except IntegrityError:
            raise InputError(f"A token named {name!r} exists already; revoke it first "
                             f"(`newsdesk token revoke {name}`).") from None
        return token

    def list(self) -> list[TokenInfo]:
        with self.db.reading() as conn:
            rows = conn.execute(text("SELECT name, role, created_at, revoked_at FROM tokens "
                                     "ORDER BY created_at, name")).all()
        return [TokenInfo(r[0], cast(Role, r[1]), r[2], r[3]) for r in rows]

    def revoke(self, name: str) -> TokenInfo:
        """Revoke a token at once (the next request with it gets 401); the name's conversations stay.

        Raises:
            NotFound: no active token has that name.
        """
        with self.db.transaction() as conn:
            done = conn.execute(text("UPDATE tokens SET revoked_at = :t WHERE name = :n AND revoked_at IS NULL"),
                                {"n": name, "t": time.time()})
            if not done.rowcount:
                raise NotFound(f"No active token named {name[:80]!r}; `newsdesk token list` shows them.")
            row = conn.execute(text("SELECT name, role, created_at, revoked_at FROM tokens WHERE name = :n"),
                               {"n": name}).one()
        return TokenInfo(row[0], cast(Role, row[1]), row[2], row[3])

    def authenticate(self, token: str) -> Caller | None:
        """The caller a token belongs to; None for an unknown, malformed or revoked token."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        digest = hash_token(token)
        with self.db.reading() as conn:
            row = conn.execute(text("SELECT name, role, token_hash FROM tokens "
                                    "WHERE token_hash = :h AND revoked_at IS NULL"), {"h": digest}).first()
        if row is None or not hmac.compare_digest(row[2], digest):
            return None
        return Caller(row[0], cast(Role, row[1]))


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
