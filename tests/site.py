"""A real news site on 127.0.0.1 for the fetch, feed and URL-ingest tests: article pages with OpenGraph and
JSON-LD metadata, PDFs made with fpdf2 (text, scanned, encrypted), RSS and Atom feeds, redirect chains and
loops, redirects to private and metadata addresses, a huge body, a slow-drip body and wrong content types."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

HARBOUR_V1 = ("The harbour in Kiel reopened on Tuesday after a storm closed it for three days. Ferries to Oslo "
              "resumed in the evening, the port authority said. Fishermen returned to the quay at dawn.")
HARBOUR_V2 = HARBOUR_V1.replace("three days", "four days") + " Repairs will cost two million euros."


@dataclass
class Route:
    body: bytes = b""
    ctype: str | None = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "plain"  # "plain" | "drip" (a byte every 0.2 s) | "endless" (chunked, never ends)


class NewsSite:
    """A threaded HTTP server on a free loopback port; tests add or change routes while it runs."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header) in arrival order
        self.sent: dict[str, int] = {}  # body bytes written per path (to show a huge body was not read whole)
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.requests.append((path, self.headers.get("Host", "")))
                route = site.routes.get(path)
                if route is None:
                    route = Route(b"<html><body>Not here.</body></html>", status=404)
                try:
                    self._answer(path, route)
                except OSError:
                    pass  # the client hung up (as it should on huge and slow bodies)

            def _answer(self, path: str, route: Route) -> None:
                self.send_response(route.status)
                if route.ctype is not None:
                    self.send_header("Content-Type", route.ctype)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.mode == "endless":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    block = b"<p>" + b"news " * 13_000 + b"</p>"  # ~64 kB
                    while True:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                        site.sent[path] = site.sent.get(path, 0) + len(block)
                elif route.mode == "drip":
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(100_000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        site.sent[path] = site.sent.get(path, 0) + 1
                        time.sleep(0.2)
                else:
                    if "Content-Length" not in route.headers:
                        self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                    site.sent[path] = site.sent.get(path, 0) + len(route.body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.host = f"127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for it, once per test.
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._standard_routes()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- routes -------------------------------------------------------------------------------
    def add(self, path: str, body: bytes | str, ctype: str | None = "text/html; charset=utf-8", **kw: object) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, ctype, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        self.routes[path] = Route(b"", None, status=status, headers={"Location": to})
        return self.url(path)

    def set_article(self, text: str) -> None:
        """The article page at /news/harbour (also reachable as /article?utm=… through its canonical link)."""
        self.add("/news/harbour", article_html(self.url("/news/harbour"), "Harbour reopens after storm", text))

    def _standard_routes(self) -> None:
        self.set_article(HARBOUR_V1)
        self.redirect("/moved", "/moved-again")
        self.redirect("/moved-again", self.url("/news/harbour"), status=301)
        self.redirect("/loop-a", "/loop-b")
        self.redirect("/loop-b", "/loop-a")
        self.redirect("/to-metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")
        self.redirect("/to-private", "http://10.0.0.1/admin")
        self.redirect("/to-localhost", f"http://localhost:{self.port}/news/harbour")
        self.redirect("/to-file", "file:///etc/passwd")
        self.add("/huge", b"", headers={"Content-Length": str(50_000_000)})
        self.routes["/endless"] = Route(ctype="text/html", mode="endless")
        self.routes["/slow"] = Route(ctype="text/html", mode="drip")
        self.add("/image.png", b"\x89PNG\r\n\x1a\n" + bytes(500), "image/png")
        self.add("/download", b"%PDF-1.4 not really", "application/octet-stream")
        self.add("/no-type", HARBOUR_V1, None)
        self.add("/plain.txt", "Plain text news: " + HARBOUR_V1, "text/plain; charset=utf-8")
        self.add("/empty", "<!doctype html><html><head><title>x</title></head><body><script>x()</script></body></html>")
        self.add("/hijack", article_html("https://other-outlet.example/news/harbour", "Copied", HARBOUR_V1 +
                                         " Copied by another site."))


def article_html(canonical: str, title: str, text: str, published: str = "2024-03-05",
                 outlet: str = "Kieler Nachrichten", author: str = "Jana Petersen") -> str:
    paragraphs = "".join(f"<p>{escape(p.strip())}.</p>" for p in text.split(". ") if p.strip())
    return f"""<!doctype html>
<html lang="en"><head>
<meta charset="utf-8"><title>{escape(title)} | {escape(outlet)}</title>
<link rel="canonical" href="{escape(canonical)}">
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="{escape(outlet)}">
<meta property="og:url" content="{escape(canonical)}">
<meta property="article:published_time" content="{published}T08:00:00+01:00">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "{escape(title)}", "datePublished": "{published}T08:00:00+01:00",
 "author": {{"@type": "Person", "name": "{escape(author)}"}},
 "publisher": {{"@type": "Organization", "name": "{escape(outlet)}"}}}}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/sport">Sport</a></nav>
<article><h1>{escape(title)}</h1><p class="byline">By {escape(author)}</p>{paragraphs}</article>
<footer>© {escape(outlet)} — all rights reserved</footer>
</body></html>"""


def rss_feed(site: NewsSite, items: list[dict[str, str]], title: str = "Kiel Daily") -> str:
    """RSS 2.0; an item with "content" carries the full article in content:encoded."""
    parts = []
    for item in items:
        content = (f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if item.get("content") else "")
        parts.append(f"""<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>
<guid isPermaLink="false">{escape(item.get('guid', item['link']))}</guid>
<pubDate>{item.get('date', 'Tue, 05 Mar 2024 08:00:00 GMT')}</pubDate>
<description>{escape(item.get('summary', 'A short teaser.'))}</description>{content}</item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>{escape(title)}</title><link>{site.base}/</link><description>News from Kiel</description>
{''.join(parts)}
</channel></rss>"""


def atom_feed(site: NewsSite, entries: list[dict[str, str]], title: str = "Baltic Wire") -> str:
    """Atom 1.0; an entry with "content" carries the full article as HTML content."""
    now = format_datetime(datetime(2024, 3, 6, tzinfo=UTC))
    parts = []
    for e in entries:
        content = (f'<content type="html">{escape(e["content"])}</content>' if e.get("content") else "")
        parts.append(f"""<entry><title>{escape(e['title'])}</title><link href="{escape(e['link'])}"/>
<id>{escape(e.get('guid', e['link']))}</id><updated>{e.get('date', '2024-03-06T09:00:00Z')}</updated>
<summary>{escape(e.get('summary', 'A short teaser.'))}</summary>{content}</entry>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{escape(title)}</title><id>{site.base}/atom</id>
<updated>2024-03-06T09:00:00Z</updated><!-- {now} -->
{''.join(parts)}
</feed>"""


# --- PDFs, made here so nothing binary is checked in -----------------------------------------------------
PAGE_OPENINGS = ("On Monday the council met.", "On Tuesday the storm passed.", "On Wednesday the divers came.",
                 "On Thursday the cranes moved.", "On Friday the ferries ran.")


def text_pdf(title: str = "Harbour reopens in Kiel", paragraphs: tuple[str, ...] = (HARBOUR_V1,),
             created: datetime | None = datetime(2024, 3, 5, tzinfo=UTC), pages: int = 1,
             header: str = "") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_author("Jana Petersen")
    if created:
        pdf.set_creation_date(created)
    pdf.set_font("Helvetica", size=11)
    for n in range(pages):
        pdf.add_page()
        if header:
            pdf.cell(0, 8, header, new_x="LMARGIN", new_y="NEXT")
        for p in paragraphs:
            pdf.multi_cell(0, 6, p if pages == 1 else PAGE_OPENINGS[n % len(PAGE_OPENINGS)] + " " + p,
                           new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
        if header:
            pdf.cell(0, 8, str(n + 1), new_x="LMARGIN", new_y="NEXT", align="C")
    return bytes(pdf.output())


def lines_pdf(lines: list[str]) -> bytes:
    """One PDF line per item, exactly as given (for hyphenation at line ends)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A page that is only an image of text, as a scanner makes it."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 300), "white")
    ImageDraw.Draw(img).text((20, 20), "The harbour in Kiel reopened on Tuesday.", fill="black")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(img, x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str = "secret") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, HARBOUR_V1)
    pdf.set_encryption(owner_password="owner", user_password=user_password or None)
    return bytes(pdf.output())
