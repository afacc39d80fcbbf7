"""Files, bytes, fetched pages and pasted text -> Article: encoding, HTML and PDF to text, metadata; rejects bad
input."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import unicodedata
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from index.errors import InputError
from index.types import Article, ArticleMeta

if TYPE_CHECKING:
    from index.fetch import Page

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
MAX_TITLE_CHARS = 300
_MIN_TEXT_CHARS = 20
# Longest run without a space or line break that text may have. Real prose, long URLs and CJK
# paragraphs stay far below it; base64 blobs and minified code do not (a 1 MB line would become
# 1,250 chunks of noise that crowd out real passages).
MAX_RUN_CHARS = 10_000

# Magic numbers of formats people drop into folders by mistake; named in the error message.
_BINARY_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\x7fELF": "an ELF executable",
    b"PK\x03\x04": "a zip archive (or docx/xlsx)",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_META_KEYS = {"title", "outlet", "author", "published", "date", "url", "source"}


def article_id_for(text: str) -> str:
    """The dedup key: sha256 of the text with whitespace collapsed."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]


def decode_bytes(data: bytes, name: str) -> str:
    """Bytes -> str: BOMs first, then UTF-8, then cp1252 (what Windows editors write)."""
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise InputError(f"{name}: looks like {what}, not a text or HTML article.")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(f"{name}: has a UTF-16 byte-order mark but is not valid UTF-16 ({e.reason}).") from e
    if b"\x00" in data:
        raise InputError(f"{name}: contains NUL bytes, so it is binary, not a text article.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    if text.count("\ufffd") > max(10, len(text) // 100):
        raise InputError(f"{name}: is neither UTF-8 nor cp1252 text (too many undecodable bytes).")
    return text


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Control characters other than newline/tab confuse tokenisers and terminals alike.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _clean_field(value: object, limit: int = MAX_TITLE_CHARS) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def normalise_date(value: object) -> str | None:
    """Dates come as '2020-11-24', '2023-09-28T12:00:00+00:00' or '2023/01/05'; keep 'YYYY-MM-DD'."""
    if value is None or value == "":
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    text = str(value).strip().replace("/", "-")
    m = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not m:
        # Feeds and exports write RFC 822 dates: "Tue, 05 Mar 2024 09:30:00 GMT".
        try:
            return parsedate_to_datetime(str(value)).date().isoformat()
        except (TypeError, ValueError, IndexError):
            pass
        raise InputError(f"Date {value!r} is not in YYYY-MM-DD form.")
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError as e:
        raise InputError(f"Date {value!r} is not a real date ({e}).") from e


def _url_or_none(value: object) -> str | None:
    if not value:
        return None
    url = str(value).strip()
    # Only web links are kept: a javascript: or data: URL must never become a clickable source.
    return url if re.match(r"https?://[^\s<>\"]+$", url) else None


def make_meta(fields: dict[str, object], source: str) -> ArticleMeta:
    return ArticleMeta(
        title=_clean_field(fields.get("title") or ""),
        outlet=_clean_field(fields.get("outlet") or "", 120),
        author=_clean_field(fields.get("author") or "", 200),
        published=normalise_date(fields.get("published") or fields.get("date")),
        url=_url_or_none(fields.get("url")),
        source=_clean_field(source, 500),
    )


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    fields: dict[str, object] = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in _META_KEYS:
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return fields, text[m.end():]


def _html_to_text(html: str) -> tuple[dict[str, object], str]:
    import trafilatura  # heavy import, only for HTML

    fields: dict[str, object] = {}
    meta = trafilatura.extract_metadata(html)
    if meta is not None:
        fields = {"title": meta.title, "outlet": meta.sitename, "author": meta.author,
                  "published": meta.date, "url": meta.url}
    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=True,
                               favor_recall=True)
    if not text:
        text = trafilatura.html2txt(html) or ""
    return {k: v for k, v in fields.items() if v}, text


def _first_line_title(text: str) -> str:
    # A short first line is a headline; a long one is the lead paragraph, so cut it at a word.
    first = text.strip().split("\n", 1)[0].lstrip("# ").strip()
    if len(first) <= 120:
        return first
    return first[:100].rsplit(" ", 1)[0] + "…"


def parse_text(text: str, meta: dict[str, object] | None = None, *, source: str = "paste",
               is_html: bool = False) -> Article:
    """Pasted or decoded text (plus optional metadata) -> Article.

    Raises:
        InputError: empty or too-short text, or invalid metadata.
    """
    fields: dict[str, object] = {}
    if is_html:
        fields, text = _html_to_text(text)
    else:
        fields, text = _split_front_matter(text.lstrip("\ufeff"))
    fields.update({k: v for k, v in (meta or {}).items() if v not in (None, "")})
    body = normalise_text(text)
    if len(body) < _MIN_TEXT_CHARS:
        what = "is empty" if not body else f"has only {len(body)} characters of text"
        raise InputError(f"{source}: {what}; nothing to index.")
    longest = max((m.end() - m.start() for m in re.finditer(r"\S+", body)), default=0)
    if longest > MAX_RUN_CHARS:
        raise InputError(f"{source}: has a run of {longest:,} characters without a space or line break "
                         "(an encoded blob or minified code?), which is not article text.")
    if not fields.get("title"):
        fields["title"] = _first_line_title(body)
    if not fields.get("url"):
        # Agency copy often ends with "Source: https://…": that is the article's URL.
        m = re.search(r"^Source:\s*(https?://\S+)\s*$", body, re.M)
        if m:
            fields["url"] = m.group(1)
    try:
        article_meta = make_meta(fields, source)
    except InputError as e:  # a batch report must say which file had the bad date
        raise InputError(f"{source}: {e}") from e
    return Article(article_id=article_id_for(body), meta=article_meta, text=body)


def safe_file_name(name: str) -> str:
    """A file name as a label: its base name, without NULs or folders ("../../etc/passwd" -> "passwd")."""
    return Path(name.replace("\x00", "")).name.strip(". ") or "upload"


def parse_bytes(data: bytes, name: str, meta: dict[str, object] | None = None, *,
                max_bytes: int = 20_000_000, source: str | None = None) -> Article:
    """An uploaded or read file -> Article. `name` decides the format by its suffix."""
    safe_name = safe_file_name(name)
    if len(data) > max_bytes:
        raise InputError(f"{safe_name}: is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                         "(NEWSDESK_INDEX__MAX_FILE_BYTES).")
    if not data.strip():
        raise InputError(f"{safe_name}: is empty; nothing to index.")
    suffix = Path(safe_name).suffix.lower()
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"{safe_name}: unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}.")
    if suffix == ".pdf" or data.startswith(b"%PDF"):
        return parse_pdf(data, meta, source=source or safe_name, max_bytes=max_bytes)
    text = decode_bytes(data, safe_name)
    is_html = suffix in (".html", ".htm") or bool(re.match(r"\s*(<!doctype html|<html)", text[:200], re.I))
    return parse_text(text, meta, source=source or safe_name, is_html=is_html)


def parse_pdf(data: bytes, meta: dict[str, object] | None = None, *, source: str, max_bytes: int = 20_000_000,
              defaults: dict[str, object] | None = None) -> Article:
    """A PDF -> Article; title, author and date from its metadata unless `meta` (a sidecar, an API call) says;
    `defaults` (a feed's) fill only what the PDF does not say.

    Raises:
        InputError: damaged, password-protected or scanned (no text layer), or bad metadata.
    """
    from index.pdf import read_pdf

    pdf = read_pdf(data, source, max_chars=max_bytes)
    own: dict[str, object] = {"title": pdf.title, "author": pdf.author, "published": pdf.published}
    fields = {**_present(defaults), **_present(own), **_present(meta)}
    return parse_text(pdf.text, fields, source=source)


def _present(fields: dict[str, object] | None) -> dict[str, object]:
    return {k: v for k, v in (fields or {}).items() if v not in (None, "")}


def parse_page(page: Page, meta: dict[str, object] | None = None, *, defaults: dict[str, object] | None = None,
               max_bytes: int = 20_000_000) -> Article:
    """A fetched web page, PDF or text -> Article whose `url` is the page's canonical URL (when it is on the
    same site) or else the URL after redirects: that URL is what a changed page replaces. `meta` overrides what
    the page says about itself; `defaults` only fill what it does not say.

    Raises:
        InputError: the page is a feed, or has no article text, or its metadata is bad.
    """
    source = page.url
    if page.kind in ("feed", "xml"):
        raise InputError(f"{source}: is a news feed (RSS/Atom), not an article; follow it with "
                         f"`newsdesk feeds add {source}`.")
    given = {k: v for k, v in _present(defaults).items() if k != "url"}
    if page.kind == "pdf":
        return parse_pdf(page.data, {"url": page.final_url, **_present(meta)}, source=source, max_bytes=max_bytes,
                         defaults=given)
    text = _decode_page(page)
    fields: dict[str, object] = {}
    if page.kind == "html":
        fields, text = _html_to_text(text)
    canonical = fields.pop("url", None)
    fields = {**given, **fields, **_present(meta)}
    if not fields.get("url"):
        fields["url"] = canonical if canonical and _same_site(str(canonical), page.final_url) else page.final_url
    return parse_text(text, fields, source=source)


def _decode_page(page: Page) -> str:
    if page.charset:
        try:
            return page.data.decode(page.charset, errors="replace")
        except LookupError:
            pass  # an unknown charset name: guess as for files
    return decode_bytes(page.data, page.url)


def _same_site(url: str, other: str) -> bool:
    # A page may name its canonical URL only on its own site: otherwise a hostile page could claim another
    # outlet's URL and replace that outlet's article.
    def host(u: str) -> str:
        return (urlsplit(u).hostname or "").removeprefix("www.")

    return bool(_url_or_none(url)) and host(url) == host(other) != ""


def read_sidecar(path: Path) -> dict[str, object]:
    """Optional `<file>.meta.json` beside an article file."""
    sidecar = path.with_name(path.name + ".meta.json")
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{sidecar}: unreadable metadata sidecar ({e}).") from e
    if not isinstance(data, dict):
        raise InputError(f"{sidecar}: metadata sidecar must be a JSON object.")
    return data


def parse_file(path: Path, *, max_bytes: int = 20_000_000) -> Article:
    """A file on disk -> Article, metadata from front matter, a sidecar or the HTML itself."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            # A FIFO would block the ingest forever and /dev/zero would never end.
            raise InputError(f"{path}: is not a regular file (a pipe, device or socket); nothing to index.")
        size = info.st_size
        if size > max_bytes:
            raise InputError(f"{path}: is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit "
                             "(NEWSDESK_INDEX__MAX_FILE_BYTES).")
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror or e}).") from e
    return parse_bytes(data, path.name, read_sidecar(path), max_bytes=max_bytes, source=str(path))
