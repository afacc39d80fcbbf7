"""The token and conversation stores of a catalogue, built in one place for the API, the app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from index.db import catalogue_database
from index.settings import IndexSettings
from ui.accounts import TokenStore
from ui.conversations import ConversationStore


@dataclass(frozen=True, slots=True)
class Stores:
    tokens: TokenStore
    conversations: ConversationStore


@lru_cache(maxsize=4)
def stores(index: IndexSettings) -> Stores:
    """The stores of the catalogue `index` names, made once per process and catalogue (one in production; tests
    each have their own home). Opening fails while the database is down and is tried again at the next call.

    Raises:
        BackendUnavailable: the catalogue database (Postgres) does not answer.
    """
    db = catalogue_database(index)
    return Stores(TokenStore(db), ConversationStore(db))
