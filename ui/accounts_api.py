"""HTTP routes for tokens (admins), the caller's own saved conversations and their export, and the API docs
(which need a token like everything else but /health)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from ui.accounts import ROLES
from ui.api_deps import Admin, Reader, conversations, log, tokens
from ui.export import conversation_json, conversation_markdown

router = APIRouter()


@router.get("/me")
def me(caller: Reader) -> dict[str, Any]:
    """Who the token belongs to (`authenticated: false` while no token exists)."""
    return {"name": caller.name, "role": caller.role, "authenticated": caller.authenticated}


# --- tokens (admins) ---------------------------------------------------------------------------------
class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: Literal["reader", "editor", "admin"] = Field(description=f"One of {', '.join(ROLES)}.")


@router.get("/tokens")
def list_tokens(_: Admin) -> list[dict[str, Any]]:
    return [t.to_dict() for t in tokens().list()]


@router.post("/tokens")
def add_token(body: TokenIn, caller: Admin) -> dict[str, Any]:
    """The new token is in this response and nowhere else: it is stored as a hash."""
    token = tokens().add(body.name, body.role)
    log.info("token %r (%s) added by %r", body.name, body.role, caller.name)
    return {"name": body.name, "role": body.role, "token": token}


@router.delete("/tokens/{name}")
def revoke_token(name: str, caller: Admin) -> dict[str, Any]:
    info = tokens().revoke(name)
    log.info("token %r revoked by %r", name, caller.name)
    return info.to_dict()


# --- the caller's conversations --------------------------------------------------------------------------
class ConversationIn(BaseModel):
    title: str = Field("", max_length=500)


class Rename(BaseModel):
    title: str = Field(min_length=1, max_length=500)


@router.get("/conversations")
def list_conversations(caller: Reader) -> list[dict[str, Any]]:
    return [c.to_dict() for c in conversations().list(caller.name)]


@router.post("/conversations")
def create_conversation(caller: Reader, body: ConversationIn | None = None) -> dict[str, Any]:
    return conversations().create(caller.name, body.title if body else "").to_dict()


@router.get("/conversations/{conversation_id}")
def get_conversation(conversation_id: str, caller: Reader) -> dict[str, Any]:
    return conversations().get(conversation_id, owner=caller.name).to_dict(with_turns=True)


@router.patch("/conversations/{conversation_id}")
def rename_conversation(conversation_id: str, body: Rename, caller: Reader) -> dict[str, Any]:
    conversations().rename(conversation_id, body.title, owner=caller.name)
    return conversations().get(conversation_id, owner=caller.name).to_dict()


@router.delete("/conversations/{conversation_id}")
def delete_conversation(conversation_id: str, caller: Reader) -> dict[str, Any]:
    conversations().delete(conversation_id, owner=caller.name)
    return {"deleted": conversation_id}


@router.get("/conversations/{conversation_id}/export")
def export_conversation(conversation_id: str, caller: Reader, format: Literal["md", "json"] = "md") -> Response:
    """The conversation as a Markdown (or JSON) download: questions, answers with [n], and their sources."""
    conv = conversations().get(conversation_id, owner=caller.name)
    disposition = {"Content-Disposition": f'attachment; filename="newsdesk-{conv.conversation_id}.{format}"'}
    if format == "json":
        return JSONResponse(conversation_json(conv), headers=disposition)
    return Response(conversation_markdown(conv), media_type="text/markdown; charset=utf-8", headers=disposition)


# --- API docs: behind a token too once tokens exist --------------------------------------------------------
@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _: Reader) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", include_in_schema=False)
def docs(_: Reader) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Newsdesk API")

