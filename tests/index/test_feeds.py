"""Feeds against the test news site: RSS with links only, Atom with full content, seen items skipped, failing
feeds and items reported without stopping the rest; state kept in the catalogue database."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import InputError, NotFound
from index.feed_store import MAX_ATTEMPTS
from index.feeds import parse_feed, read_feed, run_feeds
from index.news_index import NewsIndex
from index.settings import FetchSettings, IndexSettings
from index.sources import url_source
from tests.site import HARBOUR_V2, NewsSite, article_html, atom_feed, rss_feed

LONG = HARBOUR_V2 + " The mayor thanked the crews who worked through the night to clear the quay of debris. " * 4


@pytest.fixture
def index(isolated_env: Path) -> NewsIndex:
    return NewsIndex(IndexSettings(home=isolated_env))


def fetch(site: NewsSite) -> FetchSettings:
    return FetchSettings(allow_hosts=(site.host,))


def serve_feeds(site: NewsSite) -> tuple[str, str]:
    site.add("/news/ferry", article_html(site.url("/news/ferry"), "Ferry record", "Ferries between Kiel and Oslo "
                                         "carried more cars than ever this spring. The operator ordered a new ship.",
                                         published="2024-03-04", outlet="Kieler Nachrichten"))
    rss = site.add("/feed.rss", rss_feed(site, [
        {"title": "Harbour reopens", "link": site.url("/news/harbour"), "guid": "kd-1"},
        {"title": "Ferry record", "link": "/news/ferry", "guid": "kd-2"},  # relative: resolved against the feed
    ]), "application/rss+xml; charset=utf-8")
    atom = site.add("/atom.xml", atom_feed(site, [
        {"title": "Divers clear the quay", "link": site.url("/wire/divers"), "content": f"<p>{LONG}</p>",
         "date": "2024-03-06T23:30:00-02:00"},
    ]), "application/atom+xml")
    return rss, atom


def test_rss_items_are_fetched_and_atom_content_is_used_whole(index: NewsIndex, news_site: NewsSite) -> None:
    rss, atom = serve_feeds(news_site)
    index.feeds.add(rss, "Kiel Daily")
    index.feeds.add(atom, "Baltic Wire")
    runs = run_feeds(index, fetch(news_site))
    assert [(r.title, len(r.added), r.skipped, r.rejected, r.error) for r in runs] == [
        ("Kiel Daily", 2, 0, (), None), ("Baltic Wire", 1, 0, (), None)]
    by_title = {r.article.meta.title: r.article.meta for r in index.articles()}
    ferry = by_title["Ferry record"]
    assert ferry.url == news_site.url("/news/ferry") and ferry.published == "2024-03-04"
    assert ferry.outlet == "Kieler Nachrichten"  # the page's own site name, not the feed's title
    divers = by_title["Divers clear the quay"]
    assert divers.outlet == "Baltic Wire" and divers.url == news_site.url("/wire/divers")
    assert divers.published == "2024-03-06"  # the day where it was written, not the UTC day after
    assert ("/wire/divers", news_site.host) not in news_site.requests  # full content: the page is not fetched
    assert news_site.requests.count(("/news/harbour", news_site.host)) == 1


def test_seen_items_are_skipped_and_only_new_ones_added(index: NewsIndex, news_site: NewsSite) -> None:
    rss, _ = serve_feeds(news_site)
    index.feeds.add(rss, "Kiel Daily")
    run_feeds(index, fetch(news_site))
    fetched = len(news_site.requests)
    news_site.add("/news/cranes", article_html(news_site.url("/news/cranes"), "New cranes", "Two new cranes arrived "
                                               "at the container terminal in Kiel on Thursday morning."))
    news_site.add("/feed.rss", rss_feed(news_site, [
        {"title": "New cranes", "link": news_site.url("/news/cranes"), "guid": "kd-3"},
        {"title": "Harbour reopens (updated)", "link": news_site.url("/news/harbour?ref=rss"), "guid": "kd-1"},
        {"title": "Ferry record", "link": news_site.url("/news/ferry"), "guid": "kd-2-moved"},  # same URL
    ]), "application/rss+xml")
    (run,) = run_feeds(index, fetch(news_site))
    assert (run.added, run.skipped, run.rejected) == (("New cranes",), 2, ())
    assert [p for p, _ in news_site.requests[fetched:]] == ["/feed.rss", "/news/cranes"]
    assert index.feeds.get(rss).last_added == 1  # type: ignore[union-attr]


def test_an_item_whose_text_is_already_indexed_is_skipped(index: NewsIndex, news_site: NewsSite) -> None:
    index.ingest([url_source(news_site.url("/news/harbour"), fetch(news_site))])
    feed = news_site.add("/feed.rss", rss_feed(news_site, [{"title": "x", "link": news_site.url("/moved")}]),
                         "application/rss+xml")
    index.feeds.add(feed, "Kiel Daily")
    (run,) = run_feeds(index, fetch(news_site))
    assert (run.added, run.skipped) == ((), 1)


def test_a_failing_feed_does_not_stop_the_others(index: NewsIndex, news_site: NewsSite) -> None:
    rss, _ = serve_feeds(news_site)
    for url in (news_site.url("/gone.rss"), "http://10.0.0.1/feed", news_site.url("/news/harbour"), rss):
        index.feeds.add(url, "")
    runs = run_feeds(index, fetch(news_site))
    errors = [r.error for r in runs]
    assert "404" in (errors[0] or "") and "rule: no private addresses" in (errors[1] or "")
    assert "is not an RSS or Atom feed (the server sent text/html)" in (errors[2] or "")
    assert errors[3] is None and len(runs[3].added) == 2
    records = {f.url: f for f in index.feeds.feeds()}
    assert records["http://10.0.0.1/feed"].last_error and records[rss].last_error is None
    assert records[rss].last_run_at is not None


def test_rejected_items_are_reported_and_retried_a_few_times(index: NewsIndex, news_site: NewsSite) -> None:
    feed = news_site.add("/feed.rss", rss_feed(news_site, [
        {"title": "Secret", "link": news_site.url("/to-metadata"), "guid": "bad"},
        {"title": "Harbour", "link": news_site.url("/news/harbour"), "guid": "good"}]), "application/rss+xml")
    index.feeds.add(feed, "Kiel Daily")
    (first,) = run_feeds(index, fetch(news_site))
    assert len(first.added) == 1 and len(first.rejected) == 1
    assert "rule: no link-local addresses" in first.rejected[0]
    for _ in range(MAX_ATTEMPTS - 1):
        (again,) = run_feeds(index, fetch(news_site))
        assert len(again.rejected) == 1 and again.skipped == 1
    (last,) = run_feeds(index, fetch(news_site))
    assert last.rejected == () and last.skipped == 2  # given up on after MAX_ATTEMPTS


def test_parse_errors(news_site: NewsSite) -> None:
    news_site.add("/broken.xml", "<?xml version='1.0'?><catalog><book>Not news</book></catalog>", "application/xml")
    with pytest.raises(InputError, match="is not a valid RSS or Atom feed"):
        read_feed(news_site.url("/broken.xml"), fetch(news_site))
    with pytest.raises(InputError, match="rule: no loopback addresses"):
        read_feed(news_site.url("/feed.rss"), FetchSettings())
    from index.fetch import Page

    feed = parse_feed(Page("u", "u", "application/rss+xml", "utf-8", rss_feed(news_site, [
        {"title": "Teaser only", "link": news_site.url("/a"), "content": "<p>Short teaser.</p>"},
        {"title": "Whole", "link": news_site.url("/b"), "content": f"<p>{LONG}</p>"}]).encode()))
    assert [i.content is not None for i in feed.items] == [False, True]
    assert feed.items[1].keys[-1].startswith("text:")


def test_feed_state_lives_in_the_catalogue_database(index: NewsIndex, isolated_env: Path) -> None:
    import sqlite3

    index.feeds.add("https://example.com/feed", "Example")
    with sqlite3.connect(isolated_env / "catalogue.sqlite3") as db:
        assert db.execute("SELECT url, title FROM feeds").fetchall() == [("https://example.com/feed", "Example")]
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version >= "0002"  # the feeds revision, or one after it
    index.feeds.remove("https://example.com/feed")
    assert index.feeds.feeds() == []
    with pytest.raises(NotFound):
        index.feeds.remove("https://example.com/feed")
    with pytest.raises(InputError, match="http:// or https://"):
        index.feeds.add("file:///etc/passwd", "x")
