"""The app's Alerts panel: the signed-in user's alerts with their unread counts (articles added since each one's
last check, whether or not they bear on its question: only a check can tell), a button to check one (its news,
cited; marks it read), and, for editors, adding and removing. The check is ui/alerts.py's `check_alert`, as in the
CLI and the API.
"""

from __future__ import annotations

import streamlit as st

from index.errors import NewsdeskError
from rag.assistant import Assistant
from ui.accounts import Caller
from ui.admission import question_problem
from ui.alerts import AlertNews, check_alert, unread_counts
from ui.render import alert_news_markdown, escape_markdown
from ui.settings import ServingSettings

_NEWS = "alert_news"  # alert id -> its last check in this session, shown under it
_PROBLEM = "alert_problem"  # what went wrong in the last button's callback, shown once


def show_alerts(assistant: Assistant, caller: Caller) -> None:
    alerts = assistant.index.alerts.list(caller.name)
    unread = unread_counts(assistant.index, alerts)
    news: dict[int, AlertNews] = st.session_state.setdefault(_NEWS, {})
    label = f"Alerts ({sum(unread.values())} unread)" if alerts else "Alerts"
    with st.sidebar.expander(label, expanded=bool(news)):
        if problem := st.session_state.pop(_PROBLEM, None):
            st.error(problem)
        st.caption("Unread: articles added since an alert's last check. *Check* tells what they bring to its "
                   "question, and marks it read.")
        for a in alerts:
            st.markdown(f"**{escape_markdown(a.question)}**  \n{unread[a.alert_id]} unread")
            check, remove = st.columns(2)
            check.button("Check", key=f"check_alert_{a.alert_id}", on_click=_check, args=(assistant, caller,
                                                                                             a.alert_id))
            if caller.can("editor"):
                remove.button("Remove", key=f"remove_alert_{a.alert_id}", on_click=_remove,
                              args=(assistant, caller, a.alert_id))
            if a.alert_id in news:
                st.markdown(alert_news_markdown(news[a.alert_id]))
        if not alerts:
            st.caption("No alerts yet." + (" Save a question below." if caller.can("editor") else ""))
        if caller.can("editor"):  # readers see and check their own; editors make them
            with st.form("add_alert", clear_on_submit=True):
                st.text_input("New alert", key="alert_question", placeholder="A question to follow",
                              help="Its news starts with the articles added from now on.")
                st.form_submit_button("Add alert", on_click=_add, args=(assistant, caller))


def _check(assistant: Assistant, caller: Caller, alert_id: int) -> None:
    try:
        found = check_alert(assistant, assistant.index.alerts.get(alert_id, caller.name))
    except NewsdeskError as e:
        st.session_state[_PROBLEM] = str(e)
        return
    st.session_state.setdefault(_NEWS, {})[alert_id] = found


def _add(assistant: Assistant, caller: Caller) -> None:
    question = str(st.session_state.get("alert_question", ""))
    if problem := question_problem(question, ServingSettings().api.max_question_chars):
        st.session_state[_PROBLEM] = problem
        return
    try:
        assistant.index.alerts.add(caller.name, question)
    except NewsdeskError as e:
        st.session_state[_PROBLEM] = str(e)


def _remove(assistant: Assistant, caller: Caller, alert_id: int) -> None:
    try:
        assistant.index.alerts.remove(alert_id, caller.name)
    except NewsdeskError as e:
        st.session_state[_PROBLEM] = str(e)
    st.session_state.setdefault(_NEWS, {}).pop(alert_id, None)
