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
