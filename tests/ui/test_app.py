"""The Streamlit app through streamlit.testing.v1.AppTest: ask, see answer and sources, add an article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

APP = str(REPO / "ui" / "streamlit_app.py")


@pytest.fixture
def app(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    # Extractive backend: these tests are about the UI wiring; answer quality is tested in tests/rag.
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    import streamlit as st

    st.cache_resource.clear()  # the cached Assistant of an earlier test points at another home
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _all_markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_ask_shows_answer_and_cited_sources(app: AppTest) -> None:
    app.chat_input[0].set_value("Who met Biden on Monday?").run()
    assert not app.exception
    text = _all_markdown(app)
    assert "Stoltenberg and Biden met on Monday" in text
    labels = [e.label for e in app.expander]
    assert any("dpa" in label and "2020-11-24" in label for label in labels), labels
    assert "<mark>" in text  # the cited sentence is highlighted inside the article


def test_off_corpus_question_is_refused(app: AppTest) -> None:
    app.chat_input[0].set_value("What is the capital of Peru?").run()
    assert not app.exception
    assert any("do not say" in w.value for w in app.warning)


def test_pasted_article_is_searchable_at_once_and_duplicate_says_so(app: AppTest) -> None:
    text = ("The city of Ghent opened a new bicycle bridge over the Leie river on Saturday, "
            "the mayor announced, calling it the longest of its kind in Belgium.")
    app.text_area(key="paste_text").set_value(text)
    app.text_input(key="paste_title").set_value("Ghent opens bicycle bridge")
    app.button[0 if len(app.button) == 1 else -1].click().run()
    assert not app.exception
    assert any("Added" in s.value for s in app.success), [s.value for s in app.success]
    app.chat_input[0].set_value("What did Ghent open over the Leie river?").run()
    assert "bicycle bridge" in _all_markdown(app)
    app.text_area(key="paste_text").set_value(text)
    app.button[-1].click().run()
    assert any("Already indexed" in i.value for i in app.info)


def test_article_html_is_shown_as_text(app: AppTest, seeded: Path) -> None:
    from index.news_index import NewsIndex
    from index.sources import Source
    from rag.settings import Settings

    NewsIndex(Settings().index).ingest([Source("evil", text=(
        "The council met on Friday to approve the harbour budget <img src=x onerror=alert(1)> <script>x()</script>."))])
    app.chat_input[0].set_value("What did the council approve on Friday?").run()
    html_blocks = [m.value for m in app.markdown if m.proto.allow_html]
    assert html_blocks and any("&lt;img src=x onerror=alert(1)&gt;" in b for b in html_blocks)
    assert not any("<img" in b or "<script" in b for b in html_blocks)


def test_answer_as_of_a_day_in_the_sidebar(app: AppTest) -> None:
    from datetime import date

    from tests.rag.test_retrieve import FESTIVALS, QUESTION

    for text, meta in FESTIVALS[:2]:
        app.text_area(key="paste_text").set_value(text)
        app.text_input(key="paste_title").set_value(str(meta["title"]))
        app.text_input(key="paste_published").set_value(str(meta["published"]))
        app.button[-1].click().run()
        assert not app.exception
    for day, festival in ((date(2022, 10, 27), "Diwali"), (date(2023, 3, 10), "Holi")):
        app.date_input(key="as_of").set_value(day).run()
        app.chat_input[0].set_value(QUESTION).run()
        assert not app.exception
        answer = "\n".join(m.value for m in app.chat_message[-1].markdown)
        # The extractive answer opens with the best passage: that week's festival comes first.
        found = [name for name in ("Holi", "Diwali") if name in answer]
        assert found and min(found, key=answer.index) == festival, answer


def test_sources_differ_box_filters_and_a_follow_up_with_a_new_year(app: AppTest) -> None:
    from tests.rag.test_time_and_conflicts import TIMELINE

    assert app.sidebar.multiselect(key="outlets").options  # the outlet picker lists the index's outlets
    import streamlit as st

    from index.news_index import NewsIndex
    from index.sources import sources_from_paths
    from rag.settings import Settings

    NewsIndex(Settings().index).ingest(sources_from_paths([TIMELINE]))
    st.cache_resource.clear()
    app.run()
    app.chat_input[0].set_value("What is the minimum wage in Valdoria?").run()
    assert not app.exception
    labels = [e.label for e in app.expander]
    assert any("12.82 euros" in label and "2 Jan 2025" in label for label in labels), labels
    assert any("9.82 euros" in label and "4 Jan 2022" in label for label in labels), labels
    assert "Sources differ" in _all_markdown(app)
    app.chat_input[0].set_value("and in 2022?").run()
    captions = " ".join(c.value for c in app.caption)
    assert "What is the minimum wage in Valdoria in 2022" in captions and "in 2022" in captions, captions
    app.sidebar.multiselect(key="outlets").select("Ardent Daily").run()
    app.chat_input[0].set_value("What is the minimum wage in Valdoria?").run()
    last = app.chat_message[-1]
    assert "12.82" in "\n".join(m.value for m in last.markdown) and "9.82" not in "\n".join(
        m.value for m in last.markdown)
def _click(app: AppTest, label: str) -> None:
    next(b for b in app.button if b.label == label).click().run()


def test_add_by_url(news_site: Any, app: AppTest) -> None:
    app.text_input(key="add_url").set_value(news_site.url("/news/harbour"))
    _click(app, "Fetch and add")
    assert not app.exception
    assert any("Added: Harbour reopens after storm" in s.value for s in app.success), [s.value for s in app.success]
    app.chat_input[0].set_value("When did the harbour in Kiel reopen?").run()
    assert "Ferries to Oslo" in _all_markdown(app)
    app.text_input(key="add_url").set_value("http://169.254.169.254/latest/meta-data/")
    _click(app, "Fetch and add")
    assert not app.exception
    assert any("rule: no link-local addresses" in e.value for e in app.error), [e.value for e in app.error]


def test_feeds_and_their_last_run_are_listed(news_site: Any, app: AppTest) -> None:
    from index.feeds import run_feeds
    from rag.settings import Settings
    from tests.site import rss_feed

    feed = news_site.add("/feed.rss", rss_feed(news_site, [{"title": "H", "link": news_site.url("/news/harbour")}]),
                         "application/rss+xml")
    from index.news_index import NewsIndex

    settings = Settings()
    index = NewsIndex(settings.index)
    index.feeds.add(feed, "Kiel Daily")
    app.run()
    expander = next(e for e in app.expander if e.label.startswith("Feeds"))
    assert expander.label == "Feeds (1)" and "not run yet" in "\n".join(m.value for m in expander.markdown)
    run_feeds(index, settings.fetch)
    app.run()
    expander = next(e for e in app.expander if e.label.startswith("Feeds"))
    text = "\n".join(m.value for m in expander.markdown)
    assert "Kiel Daily" in text and "1 added, 0 skipped, 0 rejected" in text, text


def test_a_cited_wire_story_shows_where_else_it_ran(app: AppTest) -> None:
    from index.news_index import NewsIndex
    from rag.settings import Settings
    from tests.index.test_copies import COPIES, sources

    NewsIndex(Settings().index).ingest(sources(COPIES))  # three outlets, one wire story
    app.chat_input[0].set_value("How many residents left Dresden in the Elbe flood?").run()
    assert not app.exception
    captions = [c.value for c in app.caption if "also in:" in c.value]
    assert captions, [c.value for c in app.caption]
    assert sum(o in captions[0] for o in ("Reuters", "The Denver Post", "The Age")) == 2, captions


def test_a_timeline_is_drawn_with_a_chart_of_its_figure(app: AppTest) -> None:
    app.chat_input[0].set_value("How did NATO's defence spending target change over time?").run()
    assert not app.exception
    text = _all_markdown(app)
    assert "**2014**" in text and "**24 Nov 2020**" in text and "**12 Feb 2025**" in text
    assert "The current 2% target has been in place since 2014" in text
    assert app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart"), "no chart of the target over time"
    labels = [e.label for e in app.expander]
    assert any("dpa" in label for label in labels) and any("Washington Post" in label for label in labels), labels


def test_since_my_last_visit_counts_from_the_last_visit(app: AppTest) -> None:
    app.session_state["last_visit"] = 1735732800.0  # 2025-01-01 12:00 UTC: the 2025 article's news is new
    app.chat_input[0].set_value("What changed in NATO's defence spending target since my last visit?").run()
    assert not app.exception
    text = _all_markdown(app)
    # Where things stood: the latest event up to that day (the 20% rise "in 2024"); 2014 and 2020 are not shown.
    assert "**Before: 2024**" in text and "**12 Feb 2025**" in text, text
    assert "**24 Nov 2020**" not in text and "**2014**" not in text


def test_questions_are_admitted_in_the_apis_words(seeded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one admission rule (ui/admission.py): a refused question costs no answer of the caller's minute."""
    monkeypatch.setenv("NEWSDESK_LLM__BACKEND", "extractive")
    monkeypatch.setenv("NEWSDESK_API__MAX_QUESTION_CHARS", "60")
    monkeypatch.setenv("NEWSDESK_API__ANSWERS_PER_MINUTE", "1")
    import streamlit as st

    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.chat_input[0].set_value("x" * 61).run()
    assert [e.value for e in at.error] == [
        "The question has 61 characters; the limit is 60 (NEWSDESK_API__MAX_QUESTION_CHARS)."]
    at.chat_input[0].set_value("Who met Biden on Monday?").run()
    assert not at.exception and "Stoltenberg" in _all_markdown(at)
    at.chat_input[0].set_value("What did they discuss?").run()
    assert any(w.value.startswith("Too many questions: at most 1 answers a minute per caller "
                                  "(NEWSDESK_API__ANSWERS_PER_MINUTE). Try again in ") for w in at.warning)
