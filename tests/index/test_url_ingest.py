"""Articles by URL through the real index (embedded Chroma, the packaged embedder) from the test news site."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.news_index import NewsIndex
from index.settings import FetchSettings, IndexSettings
from index.sources import iter_sources, url_source
from tests.site import HARBOUR_V2, NewsSite, encrypted_pdf, rss_feed, scanned_pdf, text_pdf


@pytest.fixture
def index(isolated_env: Path) -> NewsIndex:
    return NewsIndex(IndexSettings(home=isolated_env))


def fetch(site: NewsSite) -> FetchSettings:
    return FetchSettings(allow_hosts=(site.host,))


def test_page_metadata_and_canonical_url(index: NewsIndex, news_site: NewsSite) -> None:
    report = index.ingest([url_source(news_site.url("/moved"), fetch(news_site))])
    assert report.count("added") == 1, report
    (record,) = index.articles()
    meta = record.article.meta
    assert meta.title == "Harbour reopens after storm" and meta.outlet == "Kieler Nachrichten"
    assert meta.author == "Jana Petersen" and meta.published == "2024-03-05"
    assert meta.url == news_site.url("/news/harbour")  # canonical, not the redirecting address
    assert meta.source == news_site.url("/moved")
    assert "Ferries to Oslo resumed" in record.article.text and "all rights reserved" not in record.article.text


def test_same_url_unchanged_then_changed_replaces(index: NewsIndex, news_site: NewsSite) -> None:
    source = url_source(news_site.url("/news/harbour"), fetch(news_site))
    first = index.ingest([source])
    assert first.count("added") == 1
    again = index.ingest([source])
    assert again.count("unchanged") == 1 and again.count("added") == 0
    news_site.set_article(HARBOUR_V2)
    changed = index.ingest([source])
    assert changed.count("replaced") == 1, changed
    (record,) = index.articles()
    assert "four days" in record.article.text
    assert set(index.store.ids_by_article().values()) == {record.article.article_id}


def test_a_canonical_url_on_another_site_is_not_trusted(index: NewsIndex, news_site: NewsSite) -> None:
    index.ingest([url_source(news_site.url("/hijack"), fetch(news_site))])
    (record,) = index.articles()
    assert record.article.meta.url == news_site.url("/hijack")


def test_pdf_by_url_uses_its_metadata_and_final_url(index: NewsIndex, news_site: NewsSite) -> None:
    news_site.add("/files/harbour.pdf", text_pdf(), "application/pdf")
    news_site.redirect("/latest.pdf", "/files/harbour.pdf")
    report = index.ingest([url_source(news_site.url("/latest.pdf"), fetch(news_site))])
    assert report.count("added") == 1, report
    meta = index.articles()[0].article.meta
    assert (meta.title, meta.published, meta.url) == ("Harbour reopens in Kiel", "2024-03-05",
                                                      news_site.url("/files/harbour.pdf"))


def test_refusals_and_failures_are_rejected_outcomes_and_the_rest_lands(index: NewsIndex,
                                                                       news_site: NewsSite) -> None:
    news_site.add("/scan.pdf", scanned_pdf(), "application/pdf")
    news_site.add("/locked.pdf", encrypted_pdf(), "application/pdf")
    news_site.add("/feed.xml", rss_feed(news_site, [{"title": "A", "link": news_site.url("/news/harbour")}]),
                  "application/rss+xml")
    urls = ["/to-metadata", "/to-private", "/loop-a", "/image.png", "/scan.pdf", "/locked.pdf", "/feed.xml", "/empty",
            "/missing", "/news/harbour"]
    report = index.ingest([url_source(news_site.url(u), fetch(news_site)) for u in urls])
    reasons = {o.source.removeprefix(news_site.base): o.reason for o in report.rejected}
    assert set(reasons) == set(urls) - {"/news/harbour"}
    assert "rule: no link-local addresses" in reasons["/to-metadata"]
    assert "rule: no private addresses" in reasons["/to-private"]
    assert "rule: no redirect loops" in reasons["/loop-a"]
    assert "rule: only HTML pages" in reasons["/image.png"]
    assert "no text layer" in reasons["/scan.pdf"] and "password-protected" in reasons["/locked.pdf"]
    assert "newsdesk feeds add" in reasons["/feed.xml"]
    assert "nothing to index" in reasons["/empty"] and "404" in reasons["/missing"]
    assert all(r.startswith(news_site.base) for r in reasons.values())  # each message names its URL
    assert report.count("added") == 1 and len(index.articles()) == 1


def test_urls_mix_with_files_and_folders(index: NewsIndex, news_site: NewsSite, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("The council of Lübeck approved a new tram line on Wednesday evening.")
    (folder / "b.pdf").write_bytes(text_pdf(title="Ferry news", paragraphs=("Ferries between Kiel and Oslo carry "
                                                                            "more cars this spring.",)))
    report = index.ingest(iter_sources([str(folder), news_site.url("/news/harbour")], fetch(news_site)))
    assert report.count("added") == 3, report
