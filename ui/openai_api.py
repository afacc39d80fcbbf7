"""An OpenAI-compatible chat API (`/v1/chat/completions`, `/v1/models`) over the same Assistant, so chat clients
and SDKs that speak OpenAI can use Newsdesk as a model named `newsdesk`.

- The messages' user/assistant history drives follow-ups as in the chat UI; system (and developer) messages are
  ignored: Newsdesk's own rules (answer from the sources, cite them) are not the client's to replace, and a
  client's generic system prompt would only cost a small model time.
- Every response carries the Answer contract's `citations`, `refused`, `unsupported_sentences` and
  `dropped_markers`, plus `answer` (the checked text) and `notice` when set, as extra top-level fields; a
  streamed response carries them in its last chunk (the one with `finish_reason: "stop"`).
- Streamed `delta.content` is the model's raw text as it is written; `answer` in the last chunk is the checked
  text (markers naming no source removed, "….[1]" normalised). Not streamed, `message.content` is the checked text.
- With NEWSDESK_API__SOURCES_IN_CONTENT (default on) the content ends with the sources as Markdown, so a chat
  client that knows nothing of `citations` still shows where each claim came from.
- `conversation_id` (a Newsdesk extension in the body) saves the question and answer to that conversation of
  the caller's; without it nothing is saved.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from index.errors import InputError, NewsdeskError
from rag.question import Question, read_question
from rag.types import Answer, Turn
from ui.api_deps import Reader, asker, settings
from ui.asking import Asking
from ui.export import sources_markdown

MODEL_ID = "newsdesk"
router = APIRouter(prefix="/v1")


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, … are accepted and ignored
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None


class ChatRequest(BaseModel):
    """OpenAI's chat completion request; sampling options (temperature, max_tokens, n, …) are accepted and
    ignored: answers are written at temperature 0 with the configured length."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    conversation_id: str | None = Field(None, max_length=100, description="Save the answer to this conversation.")
    k: int | None = Field(None, gt=0, le=20, description="Passages to answer from.")
    as_of: date | None = Field(None, description="Ask as of this day (YYYY-MM-DD).")


def message_text(message: ChatMessage, index: int) -> str:
    """A message's text; parts that are not text (images, audio, files) are refused, not silently dropped."""
    if message.content is None or isinstance(message.content, str):
        return message.content or ""
    texts = []
    for part in message.content:
        if part.type != "text":
            raise InputError(f"messages[{index}] has a {part.type[:40]!r} part: Newsdesk answers text only.")
        texts.append(part.text or "")
    return "\n".join(texts)


def history_from_messages(messages: Sequence[tuple[str, str]], today: date) -> tuple[str, list[Turn]]:
    """(role, text) messages → the question (the last user message) and the turns before it (`reply_turn`).

    Each earlier user message is paired with the assistant reply after it (an empty one if none came); its
    searched form is replayed with `rag.followup.standalone` over the turns before it, as the chat UI would have
    searched it, so a follow-up ("and in 2020?", "who said that?") is searched with its context. System,
    developer and tool messages are ignored.

    Raises:
        InputError: the last user/assistant message is not the user's.
    """
    chat = [(role, content) for role, content in messages if role in ("user", "assistant")]
    if not chat or chat[-1][0] != "user":
        raise InputError("The last message must be the user's question.")
    turns: list[Turn] = []
    asked: str | None = None

    def close(reply: str) -> None:
        assert asked is not None
        turns.append(reply_turn(asked, reply, read_question(asked, turns, today)))

    for role, content in chat[:-1]:
        if role == "user":
            if asked is not None:
                close("")
            asked = content
        elif asked is not None:
            close(content)
            asked = None
    if asked is not None:
        close("")
    return chat[-1][1], turns


def reply_turn(question: str, reply: str, searched: Question) -> Turn:
    """An earlier exchange of the messages as a turn, holding only what the client sent and what replaying tells.

    A follow-up (rag/followup.py) reads two things from the turn before it: the question as it was searched
    (`standalone_question`, replayed, with the time it names) and the first sentence of the reply (what "that" in
    "who said that?" points at). OpenAI messages carry a reply's text only, not whether Newsdesk refused or what
    it cited, so the turn claims neither: `refused` is False, there are no citations, and `backend` is "client"
    (no answer Newsdesk writes has it). A follow-up that points back at a refusal is therefore searched with the
    refusal's first sentence, as it would be with any other reply. Checking the reply's text against Newsdesk's
    refusal wording would only guess (the words change, and a client may shorten or translate them).
    """
    return Turn(question, Answer(question=question, standalone_question=searched.searched, text=reply,
                                 refused=False, backend="client", time_range=searched.time))


@router.get("/models")
def list_models(_: Reader) -> dict[str, Any]:
    return {"object": "list", "data": [_model()]}


@router.get("/models/{model}")
def get_model(model: str, _: Reader) -> dict[str, Any]:
    if model != MODEL_ID:
        raise HTTPException(status_code=404, detail=f"No model {model[:60]!r}; this server has {MODEL_ID!r}.")
    return _model()


def _model() -> dict[str, Any]:
    return {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "newsdesk"}


@router.post("/chat/completions", response_model=None)
def chat_completions(body: ChatRequest, request: Request, caller: Reader) -> Response:
    s = settings()
    if body.model != MODEL_ID:
        raise HTTPException(status_code=404, detail=f"No model {body.model[:60]!r}; use {MODEL_ID!r}.")
    if len(body.messages) > s.api.max_messages:
        raise HTTPException(status_code=422, detail=f"{len(body.messages)} messages; the limit is "
                                                    f"{s.api.max_messages} (NEWSDESK_API__MAX_MESSAGES).")
    question, history = history_from_messages([(m.role, message_text(m, i)) for i, m in enumerate(body.messages)],
                                              body.as_of or date.today())
    # The messages are the history; the conversation, when named, only keeps the turn (404 before any work).
    asking = asker(request, caller).ask(question, history=history, conversation_id=body.conversation_id, k=body.k,
                                        as_of=body.as_of)
    completion_id, created = f"chatcmpl-{secrets.token_hex(12)}", int(time.time())
    footer = s.api.sources_in_content
    saved = {"conversation_id": body.conversation_id} if body.conversation_id is not None else {}
    if not body.stream:
        answer = asking.answer()
        return JSONResponse({
            "id": completion_id, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": _content(answer, footer)},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **answer_fields(answer), **saved})
    usage = bool((body.stream_options or {}).get("include_usage"))
    events = _events(asking, completion_id, created, footer, usage, saved)
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def answer_fields(answer: Answer) -> dict[str, Any]:
    """The Answer contract's fields a chat client may use beside the text."""
    d = answer.to_dict()
    out = {k: d[k] for k in ("answer", "refused", "citations", "unsupported_sentences", "dropped_markers", "timeline")}
    if answer.notice:
        out["notice"] = answer.notice
    return out


def _content(answer: Answer, footer: bool) -> str:
    sources = sources_markdown(answer) if footer else ""
    return answer.reply + (f"\n\n{sources}" if sources else "")


def _events(asking: Asking, completion_id: str, created: int, footer: bool, usage: bool,
            saved: dict[str, Any]) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    try:
        yield chunk({"role": "assistant", "content": ""})
        streamed = False
        for token in asking.tokens():
            if token:
                streamed = True
                yield chunk({"content": token})
        answer = asking.answer()  # the turn is saved now, when the body names a conversation
        if not streamed:  # refused before any model ran: the refusal is the text
            yield chunk({"content": answer.reply})
        sources = sources_markdown(answer) if footer else ""
        if sources:
            yield chunk({"content": f"\n\n{sources}"})
        yield chunk({}, "stop", **answer_fields(answer), **saved)
        if usage:
            yield "data: " + json.dumps({"id": completion_id, "object": "chat.completion.chunk", "created": created,
                                         "model": MODEL_ID, "choices": [],
                                         "usage": {"prompt_tokens": 0, "completion_tokens": 0,
                                                   "total_tokens": 0}}) + "\n\n"
    except NewsdeskError as e:  # the status line is sent already: the error is the last event
        yield f"data: {json.dumps({'error': {'message': str(e), 'type': 'server_error', 'code': 503}})}\n\n"
    yield "data: [DONE]\n\n"
