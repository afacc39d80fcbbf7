"""The safe fetcher against a real HTTP server on 127.0.0.1 (tests/site.py): every rule refuses what it should,
names itself, and lets the allow-listed test site through."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from index.errors import FetchFailed, FetchRefused
from index.fetch import fetch_url
from index.settings import FetchSettings
from tests.site import NewsSite


@pytest.fixture
def site() -> Iterator[NewsSite]:
    s = NewsSite()
    yield s
    s.close()


def allowed(site: NewsSite, **kw: object) -> FetchSettings:
    return FetchSettings(allow_hosts=(site.host,), **kw)  # type: ignore[arg-type]


def test_allow_listed_site_is_fetched_with_its_content_type(site: NewsSite) -> None:
    page = fetch_url(site.url("/news/harbour"), allowed(site))
    assert page.kind == "html" and page.charset == "utf-8" and b"harbour in Kiel" in page.data
    assert page.final_url == page.url == site.url("/news/harbour")


def test_redirect_chain_is_followed_to_the_final_url(site: NewsSite) -> None:
    page = fetch_url(site.url("/moved"), allowed(site))
    assert page.final_url == site.url("/news/harbour") and page.url == site.url("/moved")
    assert [p for p, _ in site.requests] == ["/moved", "/moved-again", "/news/harbour"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_refused_without_the_allow_list_naming_the_rule(site: NewsSite, host: str) -> None:
    with pytest.raises(FetchRefused) as e:
        fetch_url(f"http://{host}:{site.port}/news/harbour", FetchSettings())
    assert "rule: no loopback addresses" in str(e.value)
    assert f"NEWSDESK_FETCH__ALLOW_HOSTS={host}:{site.port}" in str(e.value)
    assert site.requests == []  # refused before connecting


def test_allow_list_entry_with_a_port_allows_only_that_port(site: NewsSite) -> None:
    other = NewsSite()
    try:
        with pytest.raises(FetchRefused, match="loopback"):
            fetch_url(other.url("/news/harbour"), allowed(site))
        assert fetch_url(other.url("/news/harbour"), FetchSettings(allow_hosts=("127.0.0.1",))).data
    finally:
        other.close()


@pytest.mark.parametrize(("path", "words"), [
    ("/to-metadata", "169.254.169.254 is a link-local address (rule: no link-local addresses"),
    ("/to-private", "10.0.0.1 is a private address (rule: no private addresses"),
    ("/to-localhost", "localhost resolves to 127.0.0.1, which is a loopback address (rule: no loopback"),
    ("/to-file", "file: is not a web address (rule: only http and https URLs"),
    ("/loop-a", "(rule: no redirect loops"),
])
def test_every_redirect_hop_is_checked(site: NewsSite, path: str, words: str) -> None:
    with pytest.raises(FetchRefused) as e:
        fetch_url(site.url(path), allowed(site))
    assert words in str(e.value) and str(e.value).startswith(site.url(path))


def test_redirect_limit(site: NewsSite) -> None:
    with pytest.raises(FetchRefused, match=r"more than 1 redirects \(rule: at most 1 redirects; raise "
                                           "NEWSDESK_FETCH__MAX_REDIRECTS"):
        fetch_url(site.url("/moved"), allowed(site, max_redirects=1))


def test_huge_body_with_a_length_is_refused_unread(site: NewsSite) -> None:
    with pytest.raises(FetchRefused, match=r"50,000,000 bytes, over the 1,000,000-byte cap \(rule: size cap"):
        fetch_url(site.url("/huge"), allowed(site, max_bytes=1_000_000))


def test_endless_body_is_cut_at_the_cap(site: NewsSite) -> None:
    t0 = time.monotonic()
    with pytest.raises(FetchRefused, match="rule: size cap; raise NEWSDESK_FETCH__MAX_BYTES"):
        fetch_url(site.url("/endless"), allowed(site, max_bytes=1_000_000))
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    # The server wrote until the client hung up: the cap plus what socket buffers hold, never the whole (endless) body.
    assert site.sent["/endless"] < 12_000_000


def test_slow_drip_body_hits_the_total_deadline(site: NewsSite) -> None:
    t0 = time.monotonic()
    with pytest.raises(FetchRefused, match=r"took longer than 1.5 s \(rule: total time limit per URL"):
        fetch_url(site.url("/slow"), allowed(site, total_timeout_s=1.5, read_timeout_s=1.0))
    assert time.monotonic() - t0 < 3.0  # one byte every 0.2 s never trips the 1 s read timeout alone
    assert site.sent["/slow"] < 20


@pytest.mark.parametrize(("path", "words"), [("/image.png", "the server sent image/png"),
                                             ("/download", "the server sent application/octet-stream"),
                                             ("/no-type", "did not say what it sent")])
def test_wrong_content_type_is_refused(site: NewsSite, path: str, words: str) -> None:
    with pytest.raises(FetchRefused) as e:
        fetch_url(site.url(path), allowed(site))
    assert words in str(e.value) and "rule: only HTML pages, PDFs, RSS/Atom/XML feeds and plain text" in str(e.value)


def test_http_errors_and_dead_ports_fail_with_the_reason(site: NewsSite) -> None:
    from tests.conftest import free_port

    with pytest.raises(FetchFailed, match="answered 404 Not Found"):
        fetch_url(site.url("/missing"), allowed(site))
    port = free_port()
    with pytest.raises(FetchFailed, match=f"cannot connect to 127.0.0.1:{port}"):
        fetch_url(f"http://127.0.0.1:{port}/", FetchSettings(allow_hosts=(f"127.0.0.1:{port}",)))


def test_connection_goes_to_the_checked_address_with_the_original_host_header(site: NewsSite) -> None:
    """DNS rebinding: the host is resolved once per hop and the connection goes to that checked address.
    A fixed resolver stands in for DNS here (no test may depend on real DNS); it counts its calls."""
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.9"]  # a second lookup would get another answer

    url = f"http://news.example:{site.port}/news/harbour"
    page = fetch_url(url, FetchSettings(allow_hosts=(f"news.example:{site.port}",)), resolve=resolve)
    assert b"harbour in Kiel" in page.data
    assert calls == ["news.example"]
    assert site.requests == [("/news/harbour", f"news.example:{site.port}")]


def test_a_dns_answer_mixing_public_and_private_addresses_is_refused(site: NewsSite) -> None:
    with pytest.raises(FetchRefused, match="rebind.example resolves to 127.0.0.1, which is a loopback address"):
        fetch_url(f"http://rebind.example:{site.port}/news/harbour", FetchSettings(),
                  resolve=lambda host, port: ["93.184.216.34", "127.0.0.1"])
    assert site.requests == []


@pytest.mark.parametrize(("url", "rule"), [
    ("http://2130706433/", "no loopback addresses"),
    ("http://0x7f000001/", "no loopback addresses"),
    ("http://127.1/", "no loopback addresses"),
    ("http://[::1]/", "no loopback addresses"),
    ("http://[::ffff:127.0.0.1]/", "no loopback addresses"),
    ("http://[2002:7f00:1::]/", "no loopback addresses"),
    ("http://[64:ff9b::a00:1]/", "no private addresses"),
    ("http://[fd00:ec2::254]/", "no private addresses"),
    ("http://0.0.0.0/", "no unspecified addresses"),
    ("http://100.64.0.1/", "no shared (CGNAT) addresses"),
    ("http://224.0.0.1/", "no multicast addresses"),
    ("http://[fe80::1]/", "no link-local addresses"),
    ("http://user:pw@example.com/", "no credentials in URLs"),
    ("ftp://example.com/news", "only http and https URLs"),
    ("javascript:alert(1)", "only http and https URLs"),
])
def test_address_tricks_are_refused(url: str, rule: str) -> None:
    with pytest.raises(FetchRefused) as e:
        fetch_url(url, FetchSettings())
    assert f"rule: {rule}" in str(e.value)


def test_allow_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.settings import Settings

    monkeypatch.setenv("NEWSDESK_FETCH__ALLOW_HOSTS", "intranet.example, 127.0.0.1:8080")
    assert Settings().fetch.allow_hosts == ("intranet.example", "127.0.0.1:8080")
    monkeypatch.setenv("NEWSDESK_FETCH__ALLOW_HOSTS", "http://intranet.example/")
    with pytest.raises(ValueError, match="not `host` or `host:port`"):
        Settings()
