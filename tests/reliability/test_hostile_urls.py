"""Guarantee 5 for URLs: each hostile URL is a row of docs/RELIABILITY.md's URL table and a test here.

All of them go into one ingest (as `newsdesk ingest URL URL …` would send them) together with one good page,
against the real test news site on 127.0.0.1 (allow-listed as 127.0.0.1:PORT only, as a user would allow an
intranet host): every refusal names its rule, the good page lands, and the index is consistent afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.doctor import check_index
from index.news_index import NewsIndex
from index.settings import FetchSettings, IndexSettings
from index.sources import iter_entries
from index.types import IngestReport
from tests.conftest import free_port
from tests.reliability.conftest import assert_store_matches_catalogue
from tests.site import NewsSite, encrypted_pdf, rss_feed, scanned_pdf


@dataclass(frozen=True)
class UrlCase:
    id: str
    url: str  # "/path" on the test site, or a full URL ("{port}" / "{dead}" filled in)
    expect: str  # "added" | "rejected:<words in the message>"


CASES = [
    UrlCase("file-scheme", "file:///etc/passwd", "rejected:rule: only http and https URLs"),
    UrlCase("ftp-scheme", "ftp://example.com/news.txt", "rejected:rule: only http and https URLs"),
    UrlCase("javascript-url", "javascript:alert(document.cookie)", "rejected:rule: only http and https URLs"),
    UrlCase("credentials-in-url", "http://admin:secret@127.0.0.1:{port}/news/harbour",
            "rejected:rule: no credentials in URLs"),
    UrlCase("metadata-ip", "http://169.254.169.254/latest/meta-data/", "rejected:rule: no link-local addresses"),
    UrlCase("private-ip", "http://10.0.0.1/admin", "rejected:rule: no private addresses"),
    UrlCase("cgnat-ip", "http://100.64.0.1/", "rejected:rule: no shared (CGNAT) addresses"),
    UrlCase("localhost-not-allowed", "http://localhost:{port}/news/harbour", "rejected:rule: no loopback addresses"),
    UrlCase("loopback-other-port", "http://127.0.0.1:{dead}/news", "rejected:rule: no loopback addresses"),
    UrlCase("decimal-ip", "http://2130706433:{port}/news/harbour", "rejected:rule: no loopback addresses"),
    UrlCase("ipv4-mapped-ipv6", "http://[::ffff:127.0.0.1]:{port}/news/harbour",
            "rejected:rule: no loopback addresses"),
    UrlCase("unspecified-ip", "http://0.0.0.0:{port}/news/harbour", "rejected:rule: no unspecified addresses"),
    UrlCase("redirect-to-metadata", "/to-metadata", "rejected:rule: no link-local addresses"),
    UrlCase("redirect-to-private", "/to-private", "rejected:rule: no private addresses"),
    UrlCase("redirect-to-localhost", "/to-localhost", "rejected:rule: no loopback addresses"),
    UrlCase("redirect-to-file", "/to-file", "rejected:rule: only http and https URLs"),
    UrlCase("redirect-loop", "/loop-a", "rejected:rule: no redirect loops"),
    UrlCase("redirect-chain-too-long", "/r1", "rejected:rule: at most 5 redirects"),
    UrlCase("huge-body-declared", "/huge", "rejected:rule: size cap"),
    UrlCase("huge-body-streamed", "/endless", "rejected:rule: size cap"),
    UrlCase("slow-drip-body", "/slow", "rejected:rule: total time limit per URL"),
    UrlCase("image-content-type", "/image.png", "rejected:rule: only HTML pages, PDFs, RSS/Atom/XML feeds"),
    UrlCase("octet-stream", "/download", "rejected:rule: only HTML pages, PDFs, RSS/Atom/XML feeds"),
    UrlCase("no-content-type", "/no-type", "rejected:rule: only HTML pages, PDFs, RSS/Atom/XML feeds"),
    UrlCase("http-404", "/missing", "rejected:the server answered 404 Not Found"),
    UrlCase("nothing-listening", "http://127.0.0.1:{dead}/", "rejected:cannot connect"),
    UrlCase("feed-as-article", "/feed.xml", "rejected:newsdesk feeds add"),
    UrlCase("scanned-pdf", "/scan.pdf", "rejected:no text layer"),
    UrlCase("encrypted-pdf", "/locked.pdf", "rejected:password-protected PDF"),
    UrlCase("canonical-on-another-site", "/hijack", "added"),
    UrlCase("good-page", "/news/harbour", "added"),
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NewsIndex, IngestReport, dict[str, str]]]:
    site = NewsSite()
    dead = free_port()
    for n in range(1, 8):
        site.redirect(f"/r{n}", f"/r{n + 1}")
    site.add("/scan.pdf", scanned_pdf(), "application/pdf")
    site.add("/locked.pdf", encrypted_pdf(), "application/pdf")
    site.add("/feed.xml", rss_feed(site, [{"title": "A", "link": site.url("/news/harbour")}]), "application/rss+xml")
    urls = {c.id: (site.url(c.url) if c.url.startswith("/") else c.url.format(port=site.port, dead=dead))
            for c in CASES}
    # The allow list names the test site only (and the dead port, to show a refused connection is reported too).
    fetch = FetchSettings(allow_hosts=(site.host, f"127.0.0.1:{dead}"), total_timeout_s=2.0, read_timeout_s=1.0,
                          max_bytes=2_000_000)
    index = NewsIndex(IndexSettings(home=tmp_path_factory.mktemp("hostile-urls")))
    allowed_dead = {c.id for c in CASES if c.id == "nothing-listening"}
    sources = []
    for case in CASES:
        rules = fetch if case.id in allowed_dead else fetch.model_copy(update={"allow_hosts": (site.host,)})
        sources.extend(iter_entries([urls[case.id]], rules))
    report = index.ingest(sources)
    yield index, report, urls
    site.close()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_url(case: UrlCase, batch: tuple[NewsIndex, IngestReport, dict[str, str]]) -> None:
    index, report, urls = batch
    outcomes = [o for o in report.outcomes if o.source == urls[case.id]]
    assert len(outcomes) == 1, [(o.source, o.status) for o in report.outcomes]
    (o,) = outcomes
    kind, _, words = case.expect.partition(":")
    assert o.status == kind, o
    if kind == "rejected":
        shown = urls[case.id].replace("admin:secret@", "***@")  # a password in a URL is never repeated
        assert words in o.reason and o.reason.startswith(shown), o.reason  # names the URL and the rule


def test_the_good_pages_landed_and_the_index_is_consistent(batch: tuple[NewsIndex, IngestReport,
                                                                        dict[str, str]]) -> None:
    index, report, urls = batch
    assert report.count("added") == 2
    urls_kept = {r.article.meta.url for r in index.articles()}
    assert urls_kept == {urls["good-page"], urls["canonical-on-another-site"]}  # never the other outlet's URL
    result = check_index(index)
    assert result.ok and result.problems == (), result
    assert_store_matches_catalogue(index)


def test_cli_refuses_non_web_schemes_by_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ui.cli import main

    code = main(["ingest", "file:///etc/passwd", "javascript:alert(1)"])
    out = capsys.readouterr().out
    assert code == 1 and out.count("rule: only http and https URLs") == 2
