"""The one settings object: env prefix NEWSDESK_, nested groups with `__`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.settings import FetchSettings, IndexSettings


class RetrievalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Which retrievers feed the answer.")
    k: int = Field(5, gt=0, le=20, description="Passages given to the LLM as numbered sources.")
    fetch_k: int = Field(40, gt=0, description="Candidates taken from each retriever before fusion.")
    dense_weight: float = Field(0.7, ge=0, description="Weight of the dense side in fusion.")
    keyword_weight: float = Field(0.3, ge=0, description="Weight of the BM25 side in fusion.")
    metadata_boost: float = Field(0.2, ge=0, description="Added (on the 0..1 fused scale) to chunks of an outlet "
                                                        "or date the question names; 0 turns it off.")
    metadata_fetch: int = Field(10, gt=0, description="Best dense matches taken from each named outlet/date.")
    recency_days: int = Field(7, ge=0, description="Articles published this many days up to the question's "
                                                   "date (today unless --as-of) count as recent.")
    recency_boost: float = Field(0.1, ge=0, description="Added (on the 0..1 fused scale) to recent articles' chunks "
                                                       "when the question names no date or year; 0 turns it off.")
    time_boost: float = Field(0.15, ge=0, description="Added (on the 0..1 fused scale) to articles published during "
                                                     "the time a question names, or soon after; 0 turns it off.")
    time_grace_days: int = Field(31, ge=0, description="Days after the time a question names in which an article "
                                                      "still counts as reporting it.")
    min_relevance: float = Field(0.42, description="Refuse without calling the LLM when the best dense "
                                                  "cosine similarity is below this (rag/gate.py).")
    min_coverage: float = Field(0.0, ge=0, le=1, description="Refuse without calling the LLM when the passages "
                                                             "hold less than this share of the question's "
                                                             "distinctive words (rag/gate.py).")


class AnswerSettings(BaseModel):
    """What the model reads and how its claims are checked (calibrated values: docs/BENCHMARKS.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_from: int = Field(8, gt=0, le=40, description="Retrieved passages whose sentences are weighed; the model "
                                                       "is shown at most `retrieval.k` of them.")
    read_candidates: int = Field(24, gt=0, description="Sentences weighed per question (the ones sharing most "
                                                       "words with it).")
    read_sentences: int = Field(6, ge=0, description="Sentences (in all) the model reads of the passages, the "
                                                     "most similar to the question; 0 gives it whole passages.")
    read_per_source: int = Field(2, gt=0, description="At most this many sentences of one passage.")
    min_source_relevance: float = Field(0.15, description="A passage whose best sentence is less similar than this "
                                                          "(cosine) to the question is not shown to the model.")
    time_bonus: float = Field(0.15, ge=0, description="Added to the similarity (cosine) of sentences from articles "
                                                      "published during the time a question names.")
    # Both -2: the 1.5B model's paraphrases score lower than restated facts (claims: 99% of those score >= -2,
    # and 82-91% of sentences that do not state them score below); answers that miss the question score -4 and
    # lower, answers 3-10 (docs/BENCHMARKS.md).
    answer_relevance: float = Field(-2.0, description="Cross-encoder score (question vs answer sentence) the best "
                                                     "sentence of an answer must reach, else the answer is a "
                                                     "refusal: the passages found do not answer the question.")
    claim_relevance: float = Field(-2.0, description="Cross-encoder score a cited sentence must reach for an answer "
                                                    "sentence to count as supported.")
    timeline_passages: int = Field(16, gt=0, le=60, description="Passages a timeline answer's events are found in.")
    timeline_events: int = Field(14, gt=0, description="Most events in a timeline answer.")
    timeline_per_article: int = Field(2, gt=0, description="Most events of its own day one article gives a "
                                                                 "timeline (a day its words give is not counted).")
    timeline_margin: float = Field(10.0, ge=0, description="An event's sentence scores (cross-encoder, against the "
                                                          "story) at most this much below the best one.")
    # -2: testimony the cross-encoder rates low ("she did say that she had conversations with investors…", 0.6)
    # is an event; comment and background are left out by their form (rag/timeline.py `_is_comment`), not the score.
    timeline_floor: float = Field(-2.0, description="Least score (cross-encoder, with the form's bonus or cost) of an "
                                                   "event's sentence.")


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["local", "openai", "extractive"] = Field("local", description="Who writes the answer.")
    base_url: str | None = Field(None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1.")
    api_key: SecretStr | None = Field(None, description="Key for the OpenAI-compatible server.")
    model: str | None = Field(None, description="Model name for the OpenAI-compatible server.")
    timeout_s: float = Field(120.0, gt=0, description="Give up on the LLM server after this many seconds.")
    max_tokens: int = Field(400, gt=0, description="Longest answer, in tokens.")
    model_dir: Path | None = Field(None, description="Where the assembled local GGUF is cached (default HOME/models).")
    n_threads: int | None = Field(None, description="CPU threads for the local model (default: all cores).")
    run_dir: Path | None = Field(None, description="Where the local model's process publishes its address, pid and "
                                                   "log (default HOME/run); front ends sharing it share one process.")
    idle_exit_s: float = Field(1800, ge=0, description="The local model's process exits after this many seconds "
                                                       "without a question (0: never).")
    start_timeout_s: float = Field(120, gt=0, description="Longest wait for the local model's process to start.")


class Settings(BaseSettings):
    """Reads NEWSDESK_* (and OPENAI_API_KEY / OPENAI_BASE_URL) once; everything else gets parts of it."""

    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(Path("~/.newsdesk"), description="Data directory (NEWSDESK_HOME).")
    database_url: str | None = Field(None, description="The catalogue's database (NEWSDESK_DATABASE_URL): "
                                                       "postgresql://… for several hosts; unset: SQLite under home.")
    index: IndexSettings = IndexSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()
    fetch: FetchSettings = FetchSettings()

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        home = self.home.expanduser().resolve()
        object.__setattr__(self, "home", home)
        index: dict[str, object] = {"home": home}
        if self.database_url and not self.index.database_url:
            index["database_url"] = self.database_url
        object.__setattr__(self, "index", self.index.model_copy(update=index))
        updates: dict[str, object] = {}
        if self.llm.api_key is None and os.environ.get("OPENAI_API_KEY"):
            updates["api_key"] = SecretStr(os.environ["OPENAI_API_KEY"])
        if self.llm.base_url is None and os.environ.get("OPENAI_BASE_URL"):
            updates["base_url"] = os.environ["OPENAI_BASE_URL"]
        if self.llm.model_dir is None:
            updates["model_dir"] = home / "models"
        if self.llm.run_dir is None:
            updates["run_dir"] = home / "run"
        object.__setattr__(self, "llm", self.llm.model_copy(update=updates))
        return self

    def with_overrides(self, **groups: dict[str, object]) -> Self:
        """A copy with some fields of some groups changed (CLI flags), e.g. llm={"backend": "extractive"}.

        Raises:
            pydantic.ValidationError: a changed field is out of range, as it would be in the environment.
        """
        data = {}
        for name, changes in groups.items():
            group = getattr(self, name)
            # Validated like the environment is: model_copy(update=…) would accept k=500.
            data[name] = type(group).model_validate({**group.model_dump(), **changes})
        return self.model_copy(update=data)
