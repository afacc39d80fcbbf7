"""URL -> bytes, safely: the only code that talks to web servers (pages, PDFs, feeds).

Each hop of a fetch is checked before anything is sent: the scheme, credentials in the URL, and every
address the host resolves to (loopback, private, link-local including the cloud metadata service, CGNAT,
multicast, reserved, and IPv6 forms that embed an IPv4 address). The connection then goes to the address
that was checked (the host is resolved once per hop and never again), with the original Host header and
TLS server name, so a DNS answer that changes between the check and the connect (DNS rebinding) cannot
steer it elsewhere. Redirects are followed by hand, each hop checked again; the body is streamed under a
byte cap; a watchdog enforces the total deadline even against a server that sends one byte a second.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from index.errors import FetchFailed, FetchRefused
from index.settings import FetchSettings

# Media types Newsdesk can parse, and what each is.
PARSEABLE_TYPES = {
    "text/html": "html", "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/rss+xml": "feed", "application/atom+xml": "feed", "application/x-rss+xml": "feed",
    "application/xml": "xml", "text/xml": "xml",
    "text/plain": "text",
}
_ACCEPT = ("text/html,application/xhtml+xml,application/pdf,application/rss+xml,application/atom+xml,"
           "application/xml;q=0.9,text/xml;q=0.9,text/plain;q=0.8")
_REDIRECTS = (301, 302, 303, 307, 308)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOWABLE = {"loopback", "private", "cgnat", "reserved"}  # address rules whose refusal suggests the allow list

Resolver = Callable[[str, int], list[str]]  # (host, port) -> IP addresses, as getaddrinfo gives them


@dataclass(frozen=True, slots=True)
class Page:
    """A fetched body and what the server said it is."""

    url: str  # as asked for
    final_url: str  # after redirects
    content_type: str  # media type, lower case, without parameters; a key of PARSEABLE_TYPES
    charset: str | None
    data: bytes

    @property
    def kind(self) -> str:
        """What the body is: html, pdf, feed, xml or text."""
        return PARSEABLE_TYPES[self.content_type]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def shown_url(url: str) -> str:
    """A URL as messages show it: without a user name or password."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


def is_url(text: str) -> bool:
    """Whether a command-line argument is meant as a URL rather than a path: any `scheme://…`, and the
    script schemes. Non-web ones then reach `fetch_url` and are refused by name, not as a missing file."""
    return bool(re.match(r"[a-z][a-z0-9+.-]*://", text, re.I)) or text.lower().startswith(
        ("javascript:", "data:", "vbscript:"))


def fetch_url(url: str, settings: FetchSettings, resolve: Resolver = resolve_host) -> Page:
    """GET a URL under the rules in this module's docstring.

    Args:
        url: an http(s) URL.
        settings: limits and the allow list.
        resolve: host name -> addresses (tests use a fixed table to show the pinning; default: the system).

    Raises:
        FetchRefused: a rule refused the URL, a redirect hop, the size, the content type or the time taken; the
            message names the rule and the setting that changes it.
        FetchFailed: the host does not resolve, nothing answers, TLS fails, or the server answered an error.
    """
    deadline = time.monotonic() + settings.total_timeout_s
    visited: list[str] = []
    current = url.strip()
    for _ in range(settings.max_redirects + 1):
        hop = _Hop(url, current, settings, deadline, resolve)
        location = hop.run()
        if isinstance(location, Page):
            return location
        visited.append(current)
        if location in visited:
            raise FetchRefused(f"{shown_url(url)}: refused: {shown_url(current)} redirects back to "
                               f"{shown_url(location)} (rule: no redirect loops; the site sends requests in a circle, "
                               "so there is no page to read).", "redirect loop")
        current = location
    raise FetchRefused(f"{shown_url(url)}: refused: more than {settings.max_redirects} redirects (rule: at most "
                       f"{settings.max_redirects} redirects; raise NEWSDESK_FETCH__MAX_REDIRECTS if the site needs "
                       "more).", "redirect limit")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked IP address while the Host header names the URL's host."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.ip = ip
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self.raw = socket.create_connection((self.ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS: the certificate is checked against the URL's host (SNI too), not the IP."""

    def __init__(self, host: str, port: int, ip: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.ip = ip
        self.tls = context
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        sock = socket.create_connection((self.ip, self.port), self.timeout)
        self.sock = self.raw = self.tls.wrap_socket(sock, server_hostname=self.host)


class _Hop:
    """One request of a fetch: check the URL, resolve and check its host, connect, read."""

    def __init__(self, original: str, url: str, settings: FetchSettings, deadline: float, resolve: Resolver) -> None:
        self.original = original
        self.url = url
        self.settings = settings
        self.deadline = deadline
        self.resolve = resolve
        self.expired = threading.Event()
        self.conn: _PinnedHTTPConnection | _PinnedHTTPSConnection | None = None

    # --- messages ----------------------------------------------------------------------------
    def _where(self) -> str:
        return "" if self.url == self.original else f"redirect to {shown_url(self.url)}: "

    def refuse(self, what: str, rule: str, fix: str, key: str) -> FetchRefused:
        return FetchRefused(f"{shown_url(self.original)}: refused: {self._where()}{what} (rule: {rule}; {fix}).",
                            key)

    def fail(self, what: str) -> FetchFailed:
        return FetchFailed(f"{shown_url(self.original)}: {self._where()}{what}")

    def out_of_time(self) -> FetchRefused:
        return self.refuse(f"took longer than {self.settings.total_timeout_s:g} s", "total time limit per URL",
                           "raise NEWSDESK_FETCH__TOTAL_TIMEOUT_S", "total time")

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.out_of_time()
        return left

    # --- the hop -----------------------------------------------------------------------------
    def run(self) -> Page | str:
        """The page, or the next URL when the server redirects."""
        scheme, host, port, target = self.check_url()
        addresses = self.check_addresses(host, port)
        timer = threading.Timer(self.remaining(), self._expire)
        timer.daemon = True
        timer.start()
        try:
            return self.request(scheme, host, port, target, addresses)
        except FetchRefused:
            raise
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            if self.expired.is_set():
                raise self.out_of_time() from None
            if isinstance(e, TimeoutError):
                raise self.fail(f"the server sent nothing for {self.settings.read_timeout_s:g} s (raise "
                                "NEWSDESK_FETCH__READ_TIMEOUT_S for slow sites).") from None
            if isinstance(e, ssl.SSLError):
                raise self.fail(f"the TLS connection failed ({e.reason or e}).") from None
            if isinstance(e, http.client.IncompleteRead):
                raise self.fail("the server broke off the body before it was complete.") from None
            if isinstance(e, http.client.HTTPException):
                raise self.fail(f"the server did not answer in HTTP ({type(e).__name__}).") from None
            raise self.fail(f"the connection failed ({e.strerror or e}).") from None
        finally:
            timer.cancel()
            if self.conn is not None:
                self.conn.close()

    def _expire(self) -> None:
        # Runs on the timer thread at the deadline: shutting the socket down wakes a read blocked on a
        # slow-drip server (a per-read timeout alone never fires if one byte arrives every second).
        self.expired.set()
        raw = self.conn.raw if self.conn is not None else None
        if raw is not None:
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def check_url(self) -> tuple[str, str, int, str]:
        parts = urlsplit(self.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            shown = f"{scheme}:" if scheme else "a link without a scheme"
            raise self.refuse(f"{shown} is not a web address", "only http and https URLs",
                              "give an http:// or https:// link", "scheme")
        if parts.username is not None or parts.password is not None:
            raise self.refuse("the URL holds a user name or password", "no credentials in URLs",
                              "remove the user:password@ part", "credentials")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise self.fail("is not a valid URL (bad port).") from None
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise self.fail("is not a valid URL (no host).")
        try:
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except UnicodeError:
            raise self.fail(f"is not a valid URL (host {host!r}).") from None
        path = quote(parts.path or "/", safe="/%;:@&=+$,!~*'()-._")
        query = quote(parts.query, safe="/%;:@&=+$,!~*'()-._?") if parts.query else ""
        return scheme, host, port, path + (f"?{query}" if query else "")

    def allowed(self, host: str, port: int) -> bool:
        shown = f"[{host}]" if ":" in host else host
        return host in self.settings.allow_hosts or f"{shown}:{port}" in self.settings.allow_hosts

    def check_addresses(self, host: str, port: int) -> list[str]:
        """The host's addresses, each one checked; the connection goes to one of exactly these."""
        addresses = self._resolve(host, port)
        if self.allowed(host, port):
            return addresses
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            verdict = address_rule(ip)
            if verdict is not None:
                what, rule, key = verdict
                named = host if host == text else f"{host} resolves to {text}, which"
                entry = (f"[{host}]" if ":" in host else host) + ("" if port in (80, 443) else f":{port}")
                # No hint to allow-list the metadata service, multicast or "this machine": nobody should.
                fix = (f"allow it with NEWSDESK_FETCH__ALLOW_HOSTS={entry}" if key in _ALLOWABLE
                       else "there is no news there")
                raise self.refuse(f"{named} is {what}", rule, fix, key)
        return addresses

    def _resolve(self, host: str, port: int) -> list[str]:
        # getaddrinfo cannot be interrupted, so it runs on a thread that the deadline stops waiting for.
        found: list[str] = []
        errors: list[BaseException] = []

        def work() -> None:
            try:
                found.extend(self.resolve(host, port))
            except Exception as e:  # reported below, on the caller's thread
                errors.append(e)

        thread = threading.Thread(target=work, daemon=True, name="newsdesk-resolve")
        thread.start()
        thread.join(min(self.remaining(), self.settings.connect_timeout_s))
        if thread.is_alive():
            raise self.fail(f"looking up {host} took longer than {self.settings.connect_timeout_s:g} s "
                            "(NEWSDESK_FETCH__CONNECT_TIMEOUT_S).")
        if errors or not found:
            reason = getattr(errors[0], "strerror", None) or errors[0] if errors else "no addresses"
            raise self.fail(f"the host {host} does not resolve ({reason}).")
        return found

    def connect(self, scheme: str, host: str, port: int, addresses: list[str]) -> None:
        last: OSError | None = None
        for ip in addresses:
            timeout = min(self.settings.connect_timeout_s, self.remaining())
            if scheme == "https":
                conn: _PinnedHTTPConnection | _PinnedHTTPSConnection = _PinnedHTTPSConnection(
                    host, port, ip, timeout, ssl.create_default_context())
            else:
                conn = _PinnedHTTPConnection(host, port, ip, timeout)
            self.conn = conn
            try:
                conn.connect()
            except ssl.SSLError:
                raise
            except TimeoutError:
                last = TimeoutError(f"no answer within {timeout:g} s (NEWSDESK_FETCH__CONNECT_TIMEOUT_S)")
                continue
            except OSError as e:
                last = e
                continue
            assert conn.raw is not None
            conn.raw.settimeout(min(self.settings.read_timeout_s, self.remaining()))
            return
        if self.expired.is_set():
            raise self.out_of_time()
        reason = (last.strerror or str(last)) if last else "no address"
        raise self.fail(f"cannot connect to {host}:{port} ({reason}).")

    def request(self, scheme: str, host: str, port: int, target: str, addresses: list[str]) -> Page | str:
        self.connect(scheme, host, port, addresses)
        assert self.conn is not None
        self.conn.request("GET", target, headers={
            "User-Agent": self.settings.user_agent, "Accept": _ACCEPT, "Accept-Encoding": "identity",
            "Connection": "close"})
        resp = self.conn.getresponse()
        if resp.status in _REDIRECTS:
            location = resp.getheader("Location")
            if not location:
                raise self.fail(f"the server answered {resp.status} {resp.reason} without saying where to.")
            return urljoin(self.url, location.strip()).split("#", 1)[0]
        if not 200 <= resp.status < 300:
            raise self.fail(f"the server answered {resp.status} {resp.reason}.")
        media, charset = self.check_type(resp)
        data = self.read_body(resp)
        return Page(self.original, self.url, media, charset, data)

    def check_type(self, resp: http.client.HTTPResponse) -> tuple[str, str | None]:
        header = resp.getheader("Content-Type")
        media = (header or "").split(";", 1)[0].strip().lower()
        if media not in PARSEABLE_TYPES:
            what = f"the server sent {media}" if media else "the server did not say what it sent (no Content-Type)"
            raise self.refuse(what, "only HTML pages, PDFs, RSS/Atom/XML feeds and plain text",
                              "link to the article page, its PDF or its feed", "content type")
        return media, resp.headers.get_content_charset()

    def read_body(self, resp: http.client.HTTPResponse) -> bytes:
        cap = self.settings.max_bytes

        def too_big(size: str) -> FetchRefused:
            return self.refuse(f"the body is {size} bytes, over the {cap:,}-byte cap", "size cap",
                               "raise NEWSDESK_FETCH__MAX_BYTES", "size")

        length = resp.getheader("Content-Length")
        if length and length.strip().isdigit() and int(length) > cap:
            raise too_big(f"{int(length):,}")  # refused unread
        encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
            raise self.fail(f"the server sent the body encoded as {encoding!r}, which Newsdesk does not decode.")
        # We ask for identity; a server that compresses anyway is decoded under the same cap (no zip bombs).
        inflate = zlib.decompressobj(wbits=47) if encoding != "identity" else None
        body = bytearray()
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, cap + 1 - len(body))
                except zlib.error as e:
                    raise self.fail(f"the compressed body is damaged ({e}).") from None
            body += chunk
            if len(body) > cap:
                raise too_big("more than " + f"{cap:,}")  # stopped here: the rest is never read
        if self.expired.is_set():  # the watchdog's shutdown looks like the end of the body
            raise self.out_of_time()
        return bytes(body)


def address_rule(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[str, str, str] | None:
    """(what the address is, the rule it breaks, a short key), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 inside IPv6 (mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64) reaches the IPv4 address it embeds.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_rule(embedded)
            if inner is not None:
                return f"{inner[0]} inside an IPv6 address", inner[1], inner[2]
    if ip.is_loopback:
        return "a loopback address", "no loopback addresses", "loopback"
    if ip.is_unspecified:
        return "the unspecified address (this machine)", "no unspecified addresses", "unspecified"
    if ip.is_link_local:
        return ("a link-local address", "no link-local addresses, which include the cloud metadata service "
                "169.254.169.254", "link-local")
    if ip.is_multicast:
        return "a multicast address", "no multicast addresses", "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address", "no shared (CGNAT) addresses", "cgnat"
    if ip.is_private:
        return "a private address", "no private addresses", "private"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address", "only public internet addresses", "reserved"
    return None
