"""The front ends' settings: the library's (rag/settings.py) and what one caller of the API may cost.

Kept out of rag/ (a library a notebook uses alone has no HTTP limits); read from the same NEWSDESK_* environment.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rag.settings import Settings


class ApiSettings(BaseModel):
    """What one caller of `newsdesk serve` may cost (NEWSDESK_API__*)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_question_chars: int = Field(4000, gt=0, description="Longest question accepted (POST /ask, the last user "
                                                            "message of /v1/chat/completions); longer ones get 422.")
    max_messages: int = Field(100, gt=0, description="Most messages in one /v1/chat/completions request (422 above).")
    max_body_bytes: int = Field(1_000_000, gt=0, description="Largest request body, except article uploads (POST "
                                                             "/articles), which NEWSDESK_INDEX__MAX_FILE_BYTES limits.")
    answers_per_minute: int = Field(20, ge=0, description="Answers one token (or, with auth off, one client address) "
                                                          "may ask for in any 60 s; more get 429 with Retry-After. "
                                                          "0 turns the limit off. Counted per process.")
    sources_in_content: bool = Field(True, description="Append the cited sources (title, outlet, date, URL, quote) "
                                                       "to /v1/chat/completions answer text, for chat clients that "
                                                       "ignore the extra `citations` field.")


class ServingSettings(Settings):
    """`Settings`, and the limits of serving (NEWSDESK_API__*)."""

    api: ApiSettings = ApiSettings()
