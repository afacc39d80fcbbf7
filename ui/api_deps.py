"""What every HTTP route shares: the Assistant and stores, who the caller is (tokens and roles), the ask path for
that caller (ui/asking.py: the question rule and answers per minute of ui/admission.py), the body size, JSON
errors with library errors mapped to HTTP by their kind in one handler, and logs that never hold a token.

Settings are read per request (0.5 ms), so a changed environment (or a test's home) is seen at once; the
Assistant, the stores (ui/stores.py) and the rate limiter (ui/admission.py) are made once per process.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import BackendUnavailable, ConfigError, IndexBusy, InputError, NewsdeskError, NotFound
from rag.assistant import Assistant
from ui.accounts import LOCAL, Caller, Role, TokenStore
from ui.admission import FiltersRefused, QuestionRefused, TooManyQuestions, charge, rate_key
from ui.asking import Asker
from ui.conversations import ConversationStore
from ui.settings import ServingSettings
from ui.stores import stores

log = logging.getLogger("newsdesk.api")

# The status of each kind of library error; a kind before the kind it refines (the first match counts).
_STATUS: dict[type[NewsdeskError], int] = {
    QuestionRefused: 422, FiltersRefused: 422, TooManyQuestions: 429, InputError: 400, NotFound: 404,
    ConfigError: 500, IndexBusy: 503, BackendUnavailable: 503}


def settings() -> ServingSettings:
    return ServingSettings()


@lru_cache(maxsize=1)
def assistant() -> Assistant:
    return Assistant.from_settings(ServingSettings())


def tokens() -> TokenStore:
    return stores(settings().index).tokens


def conversations() -> ConversationStore:
    return stores(settings().index).conversations


def fail(e: NewsdeskError) -> HTTPException:
    """A library error as an HTTP error: its message is the `detail`; too many questions say when to retry."""
    status = next((code for cls, code in _STATUS.items() if isinstance(e, cls)), 500)
    headers = {"Retry-After": str(e.retry_after)} if isinstance(e, TooManyQuestions) else None
    return HTTPException(status_code=status, detail=str(e), headers=headers)


# --- who is asking ---------------------------------------------------------------------------------
PUBLIC_PATHS = frozenset({"/health"})


def authenticate(authorization: str, client: str, where: str = "") -> Caller:
    """The caller named by an `Authorization: Bearer <token>` header; the local admin while no token exists.

    Only the header counts: a token in the query string or the body is ignored (and never logged).

    Raises:
        HTTPException: 401 (with `WWW-Authenticate: Bearer`) for a missing, malformed, unknown or revoked token.
    """
    store = tokens()
    if not store.auth_enabled():
        return LOCAL
    scheme, _, token = authorization.strip().partition(" ")
    if not authorization:
        raise _unauthorized("This server needs a token: send `Authorization: Bearer <token>`. An admin makes one "
                            "with `newsdesk token add NAME --role reader`.")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Malformed Authorization header: expected `Bearer <token>`.")
    caller = store.authenticate(token.strip())
    if caller is None:
        log.warning("rejected an unknown or revoked token from %s for %s", client, where)
        raise _unauthorized("Unknown or revoked token.")
    return caller


def current_caller(request: Request) -> Caller:
    """Who is asking: found once per request by `Authenticate` (before the body is read), else here."""
    found = getattr(request.state, "caller", None)
    if isinstance(found, Caller):
        return found
    return authenticate(request.headers.get("authorization", ""), request.client.host if request.client else "?",
                        f"{request.method} {request.url.path}")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


class Authenticate:
    """401 for every path but /health without a valid token (once tokens exist), before a body is read or
    parsed; the caller goes to `request.state.caller` for the routes' role checks."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        client = scope["client"][0] if scope.get("client") else "?"
        try:
            caller = await run_in_threadpool(authenticate, header, client, f"{scope['method']} {scope['path']}")
        except HTTPException as e:
            await _send_json(send, e.status_code, _error_body(str(scope["path"]), e.status_code, e.detail),
                             e.headers or {})
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


def require(role: Role) -> Callable[[Caller], Caller]:
    def dependency(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if not caller.can(role):
            raise HTTPException(status_code=403, detail=f"The token {caller.name!r} has the role {caller.role}; "
                                                        f"this needs {role} or above.")
        return caller

    return dependency


Reader = Annotated[Caller, Depends(require("reader"))]
Editor = Annotated[Caller, Depends(require("editor"))]
Admin = Annotated[Caller, Depends(require("admin"))]


# --- what one caller may cost ------------------------------------------------------------------------
def asker(request: Request, caller: Caller) -> Asker:
    """The ask path (ui/asking.py) for this request's caller: answers counted per token, or per client address
    with auth off; turns saved to the caller's conversations."""
    s = settings()
    return Asker(assistant, s, caller, rate_key(caller, _address(request)), stores(s.index).conversations)


def charge_answer(request: Request, caller: Caller, s: ServingSettings) -> None:
    """Count one answer against the caller, as the ask path does (ui/admission.py): `TooManyQuestions` (429)
    when over the rate."""
    charge(rate_key(caller, _address(request)), s)


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


class BodyLimit:
    """413 for a request body over the limit, before any route parses it (article uploads have their own)."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        s = settings()
        articles = scope["path"].startswith("/articles")
        # An article's text may be up to NEWSDESK_INDEX__MAX_FILE_BYTES; JSON escaping can make it longer.
        limit = max(s.api.max_body_bytes, 2 * s.index.max_file_bytes) if articles else s.api.max_body_bytes
        variable = "NEWSDESK_INDEX__MAX_FILE_BYTES" if articles else "NEWSDESK_API__MAX_BODY_BYTES"
        declared = dict(scope["headers"]).get(b"content-length", b"")
        too_big = declared.isdigit() and int(declared) > limit
        chunks: list[bytes] = []
        size, more = 0, not too_big
        while more:  # read it all here (it is under the limit), then hand it on
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > limit:
                too_big = True
                break
        if too_big:
            detail = f"The request body is over the {limit:,}-byte limit ({variable})."
            await _send_json(send, 413, _error_body(str(scope["path"]), 413, detail), {"Connection": "close"})
            return
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replayed() -> Any:
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)


# --- errors as JSON; OpenAI clients also get their `error` object --------------------------------------
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
                 429: "rate_limit_error"}


def _error_body(path: str, status: int, detail: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": detail}
    if path.startswith("/v1/"):
        message = detail if isinstance(detail, str) else "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in detail)
        kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
        body["error"] = {"message": message, "type": kind, "code": status}
    return body


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(_error_body(request.url.path, exc.status_code, exc.detail), status_code=exc.status_code,
                        headers=exc.headers)


async def _library_error(request: Request, exc: Exception) -> JSONResponse:
    """Every library error a route lets through, mapped to HTTP here once: the status by the error's kind."""
    assert isinstance(exc, NewsdeskError)
    http = fail(exc)
    return JSONResponse(_error_body(request.url.path, http.status_code, http.detail), status_code=http.status_code,
                        headers=http.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]  # echo no (huge) input back
    return JSONResponse(_error_body(request.url.path, 422, json.loads(json.dumps(errors, default=str))),
                        status_code=422)


async def _send_json(send: Callable[[Any], Awaitable[None]], status: int, body: dict[str, Any],
                     headers: Mapping[str, str]) -> None:
    raw = json.dumps(body).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


def install(app: FastAPI) -> None:
    """Authentication, the body limit and the JSON error handlers, on the app."""
    app.add_middleware(BodyLimit)
    app.add_middleware(Authenticate)  # added last, so it runs first: a stranger's body is never read
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NewsdeskError, _library_error)


# --- logs without secrets ---------------------------------------------------------------------------
_SECRET = re.compile(r"\b(nd_)[A-Za-z0-9_\-]{6,}|(Bearer\s+)\S+", re.I)


class RedactSecrets(logging.Filter):
    """Log records never carry a token: the access log shows paths without their query string (where a
    misguided client might put one), and anything shaped like a token or a bearer header is blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            path = str(args[2])
            record.args = (args[0], args[1], path.split("?", 1)[0] + ("?…" if "?" in path else ""), *args[3:])
            return True
        message = record.getMessage()
        redacted = _SECRET.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging, with `RedactSecrets` on every handler and our `newsdesk` loggers shown."""
    from copy import deepcopy

    from uvicorn.config import LOGGING_CONFIG

    config = deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "ui.api_deps.RedactSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["loggers"]["newsdesk"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
