"""Streamlit chat over the library: widgets, session state and Assistant calls, nothing else."""

from __future__ import annotations

from datetime import date

import streamlit as st

from index.errors import NewsdeskError
from rag.assistant import Assistant
from rag.settings import Settings
from rag.types import Answer, Turn
from ui.app_auth import admit_question, signed_in
from ui.app_history import answer_download, save_turn, show_history, start_history
from ui.render import answer_markdown, escape_markdown, highlighted_article_html, source_label

st.set_page_config(page_title="Newsdesk", page_icon="🗞️", layout="wide")


@st.cache_resource(show_spinner="Loading models and index…")
def get_assistant() -> Assistant:
    return Assistant.from_settings(Settings())


def render_answer(answer: Answer) -> None:
    if answer.notice:
        st.info(answer.notice)
    if answer.refused:
        st.warning(answer.text)
        return
    st.markdown(answer_markdown(answer))
    if answer.unsupported_sentences:
        st.caption("⚠️ Not supported by the cited passages: " +
                   " · ".join(escape_markdown(s) for s in answer.unsupported_sentences))
    assistant = get_assistant()
    for c in answer.citations:
        badge = "" if c.supported else " — ⚠️ does not support its sentence"
        with st.expander(escape_markdown(source_label(c)) + badge):
            st.markdown(f"> {escape_markdown(c.quote)}")
            if c.hit.meta.url:
                st.markdown(f"[{escape_markdown(c.hit.meta.url)}]({c.hit.meta.url})")
            try:
                article = assistant.article(c.hit.chunk.article_id).article
            except NewsdeskError:
                st.caption("This article has since been removed from the index.")
                continue
            # The article is escaped before it is wrapped: no HTML from an article is ever rendered.
            st.markdown(highlighted_article_html(article.text, c.start, c.end), unsafe_allow_html=True)


def sidebar(assistant: Assistant, can_edit: bool = True) -> None:
    with st.sidebar:
        st.date_input("Answer as of", value=date.today(), key="as_of",
                      help="Articles of the 7 days up to this day count as recent (\"this week\").")
        st.header("Articles")
        articles = assistant.articles()
        st.caption(f"{len(articles)} article(s) indexed")
        if can_edit:  # readers may ask, not change the index
            uploads = st.file_uploader("Add files", type=["txt", "md", "html", "htm"], accept_multiple_files=True)
            if uploads and st.button("Add uploaded files"):
                for up in uploads:
                    _show_report(assistant.add_upload(up.name, up.getvalue()))
            with st.form("paste", clear_on_submit=False):
                text = st.text_area("…or paste an article")
                title = st.text_input("Title (optional)")
                url = st.text_input("URL (optional)")
                published = st.text_input("Date, YYYY-MM-DD (optional)")
                outlet = st.text_input("Outlet (optional)")
                if st.form_submit_button("Add article"):
                    meta: dict[str, object] = {"title": title, "url": url, "published": published, "outlet": outlet}
                    try:
                        _show_report(assistant.add_text(text, meta))
                    except NewsdeskError as e:
                        st.error(str(e))
        with st.expander("Indexed articles"):
            for r in articles:
                m = r.article.meta
                st.markdown(f"- {escape_markdown(m.title)} · {escape_markdown(m.outlet or '')} "
                            f"{escape_markdown(m.published or '')}")


def _show_report(report) -> None:  # type: ignore[no-untyped-def]
    for o in report.outcomes:
        if o.status == "added":
            st.success(f"Added: {o.title} ({o.chunks} passages)")
        elif o.status == "replaced":
            st.success(f"Replaced the earlier version: {o.title}")
        elif o.status == "unchanged":
            st.info(f"Already indexed, nothing changed: {o.title}")
        else:
            st.error(o.reason)


def main() -> None:
    st.title("Newsdesk")
    st.caption("Answers from your articles only; every [n] opens the passage it came from.")
    caller = signed_in()  # with tokens: the sign-in form until a valid one is given
    history = start_history(caller)
    try:
        assistant = get_assistant()
    except NewsdeskError as e:
        st.error(str(e))
        st.stop()
    try:
        sidebar(assistant, can_edit=caller.can("editor"))
    except NewsdeskError as e:
        st.error(str(e))
    turns: list[Turn] = st.session_state.setdefault("turns", [])
    for i, turn in enumerate(turns):
        st.chat_message("user").text(turn.question)
        with st.chat_message("assistant"):
            render_answer(turn.answer)
            answer_download(turn, i)
    if question := st.chat_input("Ask about the news"):
        admit_question(caller, question)
        st.chat_message("user").text(question)
        with st.chat_message("assistant"):
            slot = st.empty()
            try:
                as_of = st.session_state.get("as_of")
                stream = assistant.stream(question, history=turns,
                                          as_of=as_of if isinstance(as_of, date) and as_of != date.today() else None)
                with slot.container():
                    st.write_stream(stream.tokens())
                answer = stream.answer()
            except NewsdeskError as e:
                slot.error(str(e))
                st.stop()
            slot.empty()
            render_answer(answer)
            answer_download(Turn(question, answer), len(turns))
        turns.append(Turn(question, answer))
        save_turn(caller, turns[-1])
    show_history(history, caller)


main()
