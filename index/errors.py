"""Errors whose message is shown to the user verbatim."""


class NewsdeskError(Exception):
    """Base class: the message says what happened and what to do."""


class InputError(NewsdeskError):
    """An article was rejected; the index is unchanged."""


class ConfigError(NewsdeskError):
    """Settings conflict or a required package is missing; names what to set or install."""


class BackendUnavailable(NewsdeskError):
    """Chroma or the LLM server is unreachable; names the URL."""


class IndexBusy(NewsdeskError):
    """Another process holds the index's write lock for longer than we were willing to wait."""


class NotFound(NewsdeskError):
    """An article id that the catalogue does not know."""


class FetchRefused(InputError):
    """A URL was refused by one of the fetcher's safety rules; the message names the rule and the setting."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


class FetchFailed(InputError):
    """A page could not be fetched (the server is unreachable, answered an error, or broke off)."""
