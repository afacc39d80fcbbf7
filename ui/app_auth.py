"""The app's sign-in gate. Once any token exists, a visitor gives one before anything else is shown (or any model
loads); readers may ask, editors also add and remove articles. What one caller may ask is ui/admission.py's rule,
applied by the ask path (ui/asking.py).

The token is kept only in this browser session's server-side state: a reload asks for it again.
"""

from __future__ import annotations

import streamlit as st

from ui.accounts import LOCAL, Caller
from ui.settings import ServingSettings
from ui.stores import Stores
from ui.stores import stores as _stores

_TOKEN = "_newsdesk_token"


def stores() -> Stores:
    """The token and conversation stores of the configured catalogue (ui/stores.py)."""
    return _stores(ServingSettings().index)


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
