"""Streamlit chat over the library: widgets, session state and Assistant calls, nothing else."""

from __future__ import annotations

from datetime import date, datetime

import streamlit as st

from index.errors import NewsdeskError
from index.feed_store import FeedRecord
from rag.assistant import Assistant
from rag.types import Answer, Filters, Turn
from ui.accounts import Caller
from ui.admission import TooManyQuestions, rate_key
from ui.app_alerts import show_alerts
from ui.app_auth import signed_in, stores
from ui.app_history import answer_download, last_visit, open_conversation, saved_to, show_history, start_history
from ui.asking import Asker
from ui.render import (
    also_in_line,
    answer_markdown,
    differ_rows,
    escape_markdown,
    highlighted_article_html,
    refusal_words,
    scope_line,
    source_label,
    timeline_figures,
    timeline_rows,
)
from ui.settings import ServingSettings

st.set_page_config(page_title="Newsdesk", page_icon="🗞️", layout="wide")


@st.cache_resource(show_spinner="Loading models and index…")
def get_assistant() -> Assistant:
    return Assistant.from_settings(ServingSettings())


def _highlighted(article_id: str, start: int, end: int) -> None:
    try:
        article = get_assistant().article(article_id).article
    except NewsdeskError:
        st.caption("This article has since been removed from the index.")
        return
    # The article is escaped before it is wrapped: no HTML from an article is ever rendered.
    st.markdown(highlighted_article_html(article.text, start, end), unsafe_allow_html=True)


def render_answer(answer: Answer) -> None:
    if answer.notice:
        st.info(answer.notice)
    if scope := scope_line(answer):
        st.caption(escape_markdown(scope))
    if answer.unsupported_sentences:
        with st.expander(f"Removed {len(answer.unsupported_sentences)} sentence(s) the sources do not support"):
            for s in answer.unsupported_sentences:
                st.markdown(f"~~{escape_markdown(s)}~~")
    if answer.refused:
        st.warning(answer.text)
        if why := refusal_words(answer):
            st.caption(f"Why: {escape_markdown(why)}.")
        for n, hit in enumerate(answer.hits[:3], start=1):
            m = hit.meta
            label = f"Nearest passage [{n}] {m.title} — {m.outlet or ''} {m.published or ''}"
            with st.expander(escape_markdown(label)):
                _highlighted(hit.chunk.article_id, hit.chunk.start, hit.chunk.end)
        return
    if answer.timeline:
        render_timeline(answer)
    else:
        st.markdown(answer_markdown(answer))
    if answer.sources_differ:
        with st.container(border=True):
            st.markdown("**Sources differ** — each figure with its date and source, " +
                        ("oldest first" if _oldest_first(answer) else "newest first"))
            for (when, value, quote, marker), d in zip(differ_rows(answer), answer.sources_differ):
                with st.expander(escape_markdown(f"{when}: {value} [{marker}]")):
                    st.markdown(f"> {escape_markdown(quote)}")
                    _highlighted(d.hit.chunk.article_id, d.start, d.end)
    for c in answer.citations:
        with st.expander(escape_markdown(source_label(c))):
            st.markdown(f"> {escape_markdown(c.quote)}")
            if c.hit.meta.url:
                st.markdown(f"[{escape_markdown(c.hit.meta.url)}]({c.hit.meta.url})")
            if also := also_in_line(c):
                st.caption(escape_markdown(also))
            _highlighted(c.hit.chunk.article_id, c.start, c.end)


def render_timeline(answer: Answer) -> None:
    """The events top to bottom, oldest first, each with its day and sources; beside them, when the events tell
    the story of one figure (a target, a fare), that figure over time."""
    figures = timeline_figures(answer)
    events, chart = st.columns([3, 2]) if figures else (st.container(), None)
    with events:
        for when, event, markers in timeline_rows(answer):
            day, line = st.columns([1, 4])
            day.markdown(f"**{escape_markdown(when)}**")
            line.markdown(f"{escape_markdown(event)} **{markers}**")  # markers are "[1][2]": digits only
    if chart is not None:
        import altair as alt
        import pandas as pd

        data = pd.DataFrame([{"date": day, "value": value, "as written": text} for day, value, text in figures])
        with chart:
            st.altair_chart(alt.Chart(data).mark_line(point=True).encode(
                x=alt.X("date:T", title=None), y=alt.Y("value:Q", title=None),
                tooltip=["date:T", "as written:N"]), width="stretch")


def _oldest_first(answer: Answer) -> bool:
    days = [d.hit.meta.published or "" for d in answer.sources_differ if d.hit.meta.published]
    return len(days) > 1 and days[0] < days[-1]


def sidebar(assistant: Assistant, can_edit: bool = True) -> None:
    with st.sidebar:
        st.date_input("Answer as of", value=date.today(), key="as_of",
                      help="Articles of the 7 days up to this day count as recent (\"this week\").")
        st.header("Filters")
        st.date_input("Published from", value=None, key="since", help="Only articles published on or after this day.")
        st.date_input("Published until", value=None, key="until", help="Only articles published on or before it.")
        st.multiselect("Outlets", options=assistant.index.outlets(), key="outlets",
                       help="Only articles of these outlets (none chosen: all).")
        st.header("Articles")
        articles = assistant.articles()
        st.caption(f"{len(articles)} article(s) indexed")
        if can_edit:  # readers may ask, not change the index
            with st.form("by_url", clear_on_submit=True):
                url = st.text_input("Add by URL", placeholder="https://…", key="add_url",
                                    help="A news page or PDF on the web; intranet hosts need "
                                         "NEWSDESK_FETCH__ALLOW_HOSTS.")
                if st.form_submit_button("Fetch and add") and url.strip():
                    with st.spinner("Fetching…"):
                        _show_report(assistant.add_url(url.strip()))
            uploads = st.file_uploader("Add files", type=["txt", "md", "html", "htm", "pdf"],
                                       accept_multiple_files=True)
            if uploads and st.button("Add uploaded files"):
                for up in uploads:
                    _show_report(assistant.add_upload(up.name, up.getvalue()))
            with st.form("paste", clear_on_submit=False):
                text = st.text_area("…or paste an article", key="paste_text")
                title = st.text_input("Title (optional)", key="paste_title")
                url = st.text_input("URL (optional)", key="paste_url")
                published = st.text_input("Date, YYYY-MM-DD (optional)", key="paste_published")
                outlet = st.text_input("Outlet (optional)", key="paste_outlet")
                if st.form_submit_button("Add article"):
                    meta: dict[str, object] = {"title": title, "url": url, "published": published,
                                               "outlet": outlet}
                    try:
                        _show_report(assistant.add_text(text, meta))
                    except NewsdeskError as e:
                        st.error(str(e))
        feeds = assistant.feeds()
        with st.expander(f"Feeds ({len(feeds)})"):
            if not feeds:
                st.caption("No feeds followed. `newsdesk feeds add URL`, then `newsdesk watch`.")
            for f in feeds:
                st.markdown(f"**{escape_markdown(f.title or f.url)}**  \n{escape_markdown(f.url)}  \n"
                            f"{escape_markdown(_last_run(f))}")
        with st.expander("Indexed articles"):
            for r in articles:
                m = r.article.meta
                st.markdown(f"- {escape_markdown(m.title)} · {escape_markdown(m.outlet or '')} "
                            f"{escape_markdown(m.published or '')}")


def _last_run(feed: FeedRecord) -> str:
    if feed.last_run_at is None:
        return "not run yet"
    when = datetime.fromtimestamp(feed.last_run_at).strftime("%Y-%m-%d %H:%M")
    if feed.last_error:
        return f"last run {when}: failed: {feed.last_error}"
    return f"last run {when}: {feed.last_added} added, {feed.last_skipped} skipped, {feed.last_rejected} rejected"


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


def asker(caller: Caller) -> Asker:
    """The ask path (ui/asking.py) for this session's caller: answers counted per token, or per client address
    while no token exists (None on localhost: one local reader); turns saved to the caller's conversations."""
    address = st.context.ip_address
    if not isinstance(address, str):  # None on localhost (and no address at all under AppTest)
        address = "localhost"
    return Asker(get_assistant, ServingSettings(), caller, rate_key(caller, address), stores().conversations)


def _filters() -> Filters:
    since, until = st.session_state.get("since"), st.session_state.get("until")
    return Filters(since if isinstance(since, date) else None, until if isinstance(until, date) else None,
                   tuple(st.session_state.get("outlets") or ()))


def main() -> None:
    st.title("Newsdesk")
    st.caption("Answers from your articles only; every [n] opens the passage it came from.")
    try:  # the catalogue (tokens, conversations) may be a Postgres that is down: say so, keep running
        caller = signed_in()  # with tokens: the sign-in form until a valid one is given
        history = start_history(caller)
        assistant = get_assistant()
    except NewsdeskError as e:
        st.error(str(e))
        st.stop()
    try:
        show_alerts(assistant, caller)  # under the conversations: unread counts are the first thing to see
    except NewsdeskError as e:
        st.error(str(e))
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
        as_of = st.session_state.get("as_of")
        try:  # the question rule, the filters and the rate, before the question is shown (ui/admission.py)
            admitted = asker(caller).admit(
                question, history=turns, conversation_id=open_conversation(), new_if_missing=True, filters=_filters(),
                as_of=as_of if isinstance(as_of, date) and as_of != date.today() else None,
                last_visit=last_visit(caller))
        except TooManyQuestions as e:
            st.warning(str(e))
            st.stop()
        except NewsdeskError as e:
            st.error(str(e))
            st.stop()
        st.chat_message("user").text(question)
        with st.chat_message("assistant"):
            slot = st.empty()
            try:
                asking = admitted.stream()
                with slot.container():
                    st.write_stream(asking.tokens())
                answer = asking.answer()  # saved to the open conversation, or to a new one
            except NewsdeskError as e:
                slot.error(str(e))
                st.stop()
            slot.empty()
            render_answer(answer)
            answer_download(Turn(question, answer), len(turns))
        turns.append(Turn(question, answer))
        saved_to(asking.conversation_id)
    try:
        show_history(history, caller)
    except NewsdeskError as e:
        st.error(str(e))


main()
