"""What every front end checks of a question before any work: the same words in the CLI, the app and the API."""

from __future__ import annotations


def question_problem(question: str, max_chars: int) -> str | None:
    """Why a question is not taken (None when it is): empty, or longer than NEWSDESK_API__MAX_QUESTION_CHARS."""
    if not question.strip():
        return "The question is empty."
    if len(question) > max_chars:
        return (f"The question has {len(question):,} characters; the limit is {max_chars:,} "
                "(NEWSDESK_API__MAX_QUESTION_CHARS).")
    return None
