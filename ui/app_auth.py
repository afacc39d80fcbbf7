"""The app's sign-in gate and per-caller limits. Once any token exists, a visitor gives one before anything else
is shown (or any model loads); readers may ask, editors also add and remove articles.

The token is kept only in this browser session's server-side state: a reload asks for it again.
"""

from __future__ import annotations

import streamlit as st

from rag.settings import Settings
from ui.accounts import LOCAL, Caller
from ui.limits import RateLimiter
from ui.stores import Stores
from ui.stores import stores as _stores

_TOKEN = "_newsdesk_token"


def stores() -> Stores:
    """The token and conversation stores of the configured catalogue (ui/stores.py)."""
    return _stores(Settings().index)


def signed_in() -> Caller:
    """Who this session is; until a valid token is given, the sign-in form is all the page shows."""
    tokens = stores().tokens
    if not tokens.auth_enabled():
        return LOCAL
    token = st.session_state.get(_TOKEN)
    if token:
        caller = tokens.authenticate(token)
        if caller is not None:
            return caller
        del st.session_state[_TOKEN]
        st.warning("Your token has been revoked; sign in with another one.")
    with st.form("sign_in"):
        entered = st.text_input("Access token", type="password", key="sign_in_token",
                                help="Ask your Newsdesk admin for one (`newsdesk token add NAME --role reader`).")
        if st.form_submit_button("Sign in"):
            if tokens.authenticate(entered.strip()) is not None:
                st.session_state[_TOKEN] = entered.strip()
                st.rerun()
            st.error("Unknown or revoked token.")
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def sign_out() -> None:
    st.session_state.pop(_TOKEN, None)
    for key in ("turns", "conversation_id"):
        st.session_state.pop(key, None)
    st.query_params.clear()


@st.cache_resource
def _limiter(catalogue: str, per_minute: int) -> RateLimiter:
    return RateLimiter(per_minute, 60.0)


def admit_question(caller: Caller, question: str) -> None:
    """Stop the run with a message when the question is too long or the caller asks too often."""
    settings = Settings()
    api = settings.api
    from ui.admission import question_problem

    if problem := question_problem(question, api.max_question_chars):
        st.error(problem)
        st.stop()
    wait = _limiter(str(settings.index.catalogue_path), api.answers_per_minute).acquire(caller.name)
    if wait:
        st.warning(f"Too many questions: at most {api.answers_per_minute} a minute. Try again in {wait} s.")
        st.stop()
