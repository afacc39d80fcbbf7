"""The app's saved conversations: a sidebar panel to start, resume, rename, delete and download them, and the
saving of each answer. The open conversation's id is in the URL (`?c=…`), so a reload (after signing in again)
comes back to it; the id alone opens nothing: another user's conversation is not found.
"""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from index.errors import NewsdeskError
from rag.types import Turn
from ui.accounts import Caller
from ui.app_auth import sign_out, stores
from ui.export import conversation_markdown, turns_markdown

_ID = "conversation_id"
_SEEN = "last_visit"  # epoch seconds of the reader's previous visit


def start_history(caller: Caller) -> DeltaGenerator:
    """Reopen the conversation named in the URL (a reload) and reserve the top of the sidebar for the panel."""
    wanted = st.query_params.get("c")
    if wanted and st.session_state.get(_ID) != wanted:
        try:
            _load(caller, wanted)
        except NewsdeskError:
            st.query_params.pop("c", None)
            st.toast("That conversation does not exist (or is not yours).")
    return st.sidebar.container()


def show_history(panel: DeltaGenerator, caller: Caller) -> None:
    """The panel: who is signed in, the conversations (newest first), and the open one's actions."""
    store = stores().conversations
    current = st.session_state.get(_ID)
    with panel:
        if caller.authenticated:
            cols = st.columns([3, 2])
            cols[0].caption(f"Signed in as **{caller.name}** ({caller.role})")
            cols[1].button("Sign out", on_click=sign_out, key="sign_out")
        st.header("Conversations")
        st.button("New conversation", icon=":material/add:", on_click=_new, key="new_conversation",
                  width="stretch")
        for conv in store.list(caller.name)[:100]:
            label = ("▶ " if conv.conversation_id == current else "") + (conv.title or "Untitled")
            st.button(label, key=f"open-{conv.conversation_id}", on_click=_load, args=(caller, conv.conversation_id),
                      width="stretch", help=f"{conv.n_turns} question(s)")
        if current is None:
            return
        try:
            conv = store.get(current, owner=caller.name)
        except NewsdeskError:
            return
        with st.expander("This conversation", expanded=False):
            st.text_input("Title", value=conv.title, key=f"title-{conv.conversation_id}", max_chars=240)
            st.button("Rename", key="rename_conversation", on_click=_rename, args=(caller, conv.conversation_id))
            st.download_button("Download as Markdown", icon=":material/download:", data=conversation_markdown(conv),
                               file_name=f"newsdesk-{conv.conversation_id}.md", mime="text/markdown",
                               key="download_conversation", on_click="ignore")
            st.button("Delete conversation", icon=":material/delete:", key="delete_conversation", on_click=_delete,
                      args=(caller, conv.conversation_id))


def answer_download(turn: Turn, i: int) -> None:
    """A download button for one answer: its question, text with [n], and sources, as Markdown."""
    st.download_button("Markdown", icon=":material/download:", data=turns_markdown([turn], turn.question),
                       mime="text/markdown", file_name=f"newsdesk-answer-{i + 1}.md", key=f"download_answer_{i}",
                       on_click="ignore",
                       help="Download this answer with its sources as Markdown")


def open_conversation() -> str | None:
    """The id of the conversation open in this session (None: none yet; the first answer starts one)."""
    current = st.session_state.get(_ID)
    return current if isinstance(current, str) else None


def saved_to(conversation_id: str | None) -> None:
    """The answer was saved to this conversation (ui/asking.py started it if none was open, or the open one was
    deleted meanwhile in another tab): keep it open, and in the URL for a reload."""
    if conversation_id is not None and conversation_id != st.session_state.get(_ID):
        st.session_state[_ID] = conversation_id
        st.query_params["c"] = conversation_id


def last_visit(caller: Caller) -> date | None:
    """The day the reader was last in the open conversation (its last answer before this visit), else in their
    latest one: what "since my last visit" means (rag/timeline.py)."""
    seen = st.session_state.get(_SEEN)
    if seen is None:
        latest = stores().conversations.list(caller.name)
        seen = latest[0].updated_at if latest else None
        st.session_state[_SEEN] = seen
    return datetime.fromtimestamp(seen).date() if seen else None


def _load(caller: Caller, conversation_id: str) -> None:
    conv = stores().conversations.get(conversation_id, owner=caller.name)
    st.session_state[_SEEN] = conv.updated_at  # read before this visit adds anything
    st.session_state["turns"] = conv.history()
    st.session_state[_ID] = conv.conversation_id
    st.query_params["c"] = conv.conversation_id


def _new() -> None:
    st.session_state["turns"] = []
    st.session_state.pop(_ID, None)
    st.query_params.pop("c", None)


def _rename(caller: Caller, conversation_id: str) -> None:
    title = str(st.session_state.get(f"title-{conversation_id}", ""))  # as typed, not as first rendered
    try:
        stores().conversations.rename(conversation_id, title, owner=caller.name)
    except NewsdeskError as e:
        st.toast(str(e))


def _delete(caller: Caller, conversation_id: str) -> None:
    try:
        stores().conversations.delete(conversation_id, owner=caller.name)
    except NewsdeskError:
        pass
    _new()
