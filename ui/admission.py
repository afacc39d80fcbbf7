"""What every front end checks of a question before any work, with the same words in the CLI, the app and the API:
the question rule (empty, too long), the filters, and the rate of answers per caller.

Each check raises its own kind of error; the front ends map the kinds once (the API: 422, 422, 429 with
`Retry-After`; the CLI: exit 1, exit 2; the app: an error or a warning).
"""

from __future__ import annotations

from functools import lru_cache

from index.errors import InputError, NewsdeskError
from index.settings import IndexSettings
from ui.accounts import Caller
from ui.limits import RateLimiter
from ui.settings import ServingSettings


class QuestionRefused(InputError):
    """The question is empty or too long (NEWSDESK_API__MAX_QUESTION_CHARS)."""


class FiltersRefused(InputError):
    """The filters cannot be met: since after until, or an outlet the index does not know."""


class TooManyQuestions(NewsdeskError):
    """The caller asked for more answers a minute than NEWSDESK_API__ANSWERS_PER_MINUTE allows."""

    def __init__(self, per_minute: int, retry_after: int) -> None:
        super().__init__(f"Too many questions: at most {per_minute} answers a minute per caller "
                         f"(NEWSDESK_API__ANSWERS_PER_MINUTE). Try again in {retry_after} s.")
        self.retry_after = retry_after  # whole seconds until the window has room (`Retry-After`)


def question_problem(question: str, max_chars: int) -> str | None:
    """Why a question is not taken (None when it is): empty, or longer than NEWSDESK_API__MAX_QUESTION_CHARS."""
    if not question.strip():
        return "The question is empty."
    if len(question) > max_chars:
        return (f"The question has {len(question):,} characters; the limit is {max_chars:,} "
                "(NEWSDESK_API__MAX_QUESTION_CHARS).")
    return None


def check_question(question: str, max_chars: int) -> None:
    """Raises:
        QuestionRefused: the question is empty or longer than `max_chars` (`question_problem` says which).
    """
    if problem := question_problem(question, max_chars):
        raise QuestionRefused(problem)


def rate_key(caller: Caller, address: str) -> str:
    """Whose answers are counted: a signed-in caller's token name, else (auth off) the client's address."""
    return f"token:{caller.name}" if caller.authenticated else f"addr:{address}"


@lru_cache(maxsize=4)
def _limiter(index: IndexSettings, per_minute: int) -> RateLimiter:
    """One limiter per process, catalogue (one in production; tests each have their own home) and rate."""
    return RateLimiter(per_minute, 60.0)


def charge(key: str, settings: ServingSettings) -> None:
    """Count one answer against `key` (`rate_key`).

    Raises:
        TooManyQuestions: over NEWSDESK_API__ANSWERS_PER_MINUTE in the last minute; nothing is counted.
    """
    per_minute = settings.api.answers_per_minute
    if wait := _limiter(settings.index, per_minute).acquire(key):
        raise TooManyQuestions(per_minute, wait)
