"""RSS/Atom feeds -> new articles: read a feed (feedparser) through the safe fetcher, pick the items not seen
before, fetch each one's page (or use the feed's full content when it carries the article), and ingest them.

Pages are fetched before the index's write lock is taken, so a slow site never holds up other writers;
a fetch that fails becomes that item's rejected outcome. A feed that fails is reported and the next one runs.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.errors import InputError
from index.fetch import Page, fetch_url
from index.parse import normalise_date
from index.settings import FetchSettings
from index.source import Source

if TYPE_CHECKING:
    from index.news_index import NewsIndex

# A feed's content counts as the whole article from this many characters of text on; shorter content is a
# teaser, and the item's page is fetched instead.
FULL_CONTENT_CHARS = 400


@dataclass(frozen=True, slots=True)
class FeedItem:
    keys: tuple[str, ...]  # "guid:…", "url:…", "text:…": seen when any was seen
    label: str  # the link, or feed-url#guid when there is none
    title: str = ""
    link: str | None = None
    published: str | None = None
    author: str = ""
    content: str | None = None  # the article as HTML, when the feed carries it whole


@dataclass(frozen=True, slots=True)
class Feed:
    url: str
    title: str
    items: tuple[FeedItem, ...]


@dataclass(frozen=True, slots=True)
class FeedRun:
    """What one run did for one feed."""

    url: str
    title: str
    added: tuple[str, ...] = ()  # titles of added (or replaced) articles
    skipped: int = 0  # items seen before, or whose text is already indexed
    rejected: tuple[str, ...] = ()  # reasons
    error: str | None = None  # the feed itself could not be read

    def summary(self) -> str:
        if self.error:
            return f"{self.title or self.url}: failed: {self.error}"
        return (f"{self.title or self.url}: {len(self.added)} added, {self.skipped} skipped, "
                f"{len(self.rejected)} rejected")

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "added": list(self.added), "skipped": self.skipped,
                "rejected": list(self.rejected), "error": self.error}


def read_feed(url: str, fetch: FetchSettings) -> Feed:
    """Fetch and parse a feed.

    Raises:
        InputError: the fetch was refused or failed (the message names the rule), or the body is no RSS/Atom feed.
    """
    return parse_feed(fetch_url(url, fetch))


def parse_feed(page: Page) -> Feed:
    import feedparser  # only when feeds are read

    if page.kind not in ("feed", "xml"):
        raise InputError(f"{page.url}: is not an RSS or Atom feed (the server sent {page.content_type}); give the "
                         "feed's own address (often …/feed, …/rss or …/atom.xml).")
    parsed = feedparser.parse(page.data, response_headers={"content-location": page.final_url,
                                                           "content-type": page.content_type})
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no RSS or Atom elements"
        raise InputError(f"{page.url}: is not a valid RSS or Atom feed ({reason}).")
    title = " ".join(str(parsed.feed.get("title") or "").split())
    items = tuple(_item(page.url, title, entry) for entry in parsed.entries)
    return Feed(page.url, title, items)


def _item(feed_url: str, feed_title: str, entry: Any) -> FeedItem:
    link = str(entry.get("link") or "").strip() or None
    guid = str(entry.get("id") or "").strip()
    content = next((c.get("value") for c in entry.get("content") or [] if "html" in (c.get("type") or "html")), None)
    text = " ".join(re.sub(r"<[^>]+>", " ", content or "").split())
    full = content if len(text) >= FULL_CONTENT_CHARS else None
    keys = [f"guid:{guid}"] if guid else []
    keys += [f"url:{link}"] if link else []
    keys += [f"text:{hashlib.sha256(text.encode()).hexdigest()[:32]}"] if full else []
    return FeedItem(keys=tuple(keys), label=link or f"{feed_url}#{guid or len(keys)}",
                    title=" ".join(str(entry.get("title") or "").split()), link=link,
                    published=_entry_date(entry), author=str(entry.get("author") or ""), content=full)


def _entry_date(entry: Any) -> str | None:
    # The feed's own text first ("Wed, 06 Mar 2024 09:30:00 +0100" is the 6th where it was written);
    # feedparser's parsed tuple is in UTC, which can be the day before or after.
    for raw_key, parsed_key in (("published", "published_parsed"), ("updated", "updated_parsed")):
        raw = entry.get(raw_key)
        if raw:
            try:
                return normalise_date(raw)
            except InputError:
                parsed = entry.get(parsed_key)
                if parsed:
                    return time.strftime("%Y-%m-%d", parsed)
    return None


def item_source(item: FeedItem, feed: Feed, fetch: FetchSettings) -> Source:
    """The Source of a new item: its full content, or its page (fetched now, outside the write lock)."""
    meta: dict[str, object] = {"title": item.title, "published": item.published, "author": item.author,
                               "outlet": feed.title}
    if item.content is not None:
        # The feed's metadata is the article's; the HTML (a fragment, which trafilatura cannot parse alone) goes
        # through the same extraction as a page.
        html = f"<!doctype html><html><body><article>{item.content}</article></body></html>"
        page = Page(item.label, item.link or item.label, "text/html", "utf-8", html.encode())
        return Source(label=item.label, page=page, meta={**meta, "url": item.link})
    if item.link is None:
        return Source(label=item.label, error=f"{item.label}: the feed item has neither a link nor its text.")
    try:
        page = fetch_url(item.link, fetch)
    except InputError as e:
        return Source(label=item.label, error=str(e))
    # The page's own title, outlet and date win over the feed's, which only fill gaps.
    return Source(label=item.label, page=page, defaults=meta)


def run_feed(index: NewsIndex, url: str, fetch: FetchSettings) -> FeedRun:
    """Poll one followed feed: ingest its new items and record the run. Never raises for the feed's own
    failures (they are the run's `error`); an index failure (IndexBusy, BackendUnavailable) propagates."""
    store = index.feeds
    record = store.get(url)
    title = record.title if record else ""
    try:
        feed = read_feed(url, fetch)
    except InputError as e:
        store.record_run(url, 0, 0, 0, str(e))
        return FeedRun(url, title, error=str(e))
    new: dict[str, FeedItem] = {}
    for item in feed.items:
        if item.label not in new and not store.is_seen(url, item.keys):
            new[item.label] = item
    skipped = len(feed.items) - len(new)
    sources = [item_source(item, feed, fetch) for item in new.values()]
    report = index.ingest(sources) if sources else None
    outcomes = {o.source: o for o in report.outcomes} if report else {}
    added: list[str] = []
    rejected: list[str] = []
    for item in new.values():
        outcome = outcomes.get(item.label)
        if outcome is None:  # not reported under its label: tried again next run
            continue
        if outcome.status in ("added", "replaced"):
            added.append(outcome.title or item.title)
        elif outcome.status == "unchanged":
            skipped += 1
        else:
            rejected.append(outcome.reason)
        store.mark(url, item.keys, ok=outcome.status != "rejected", reason=outcome.reason)
    store.record_run(url, len(added), skipped, len(rejected), None)
    return FeedRun(url, feed.title or title, tuple(added), skipped, tuple(rejected))


def run_feeds(index: NewsIndex, fetch: FetchSettings, urls: Sequence[str] | None = None) -> list[FeedRun]:
    """Poll every followed feed (or those named), one after another."""
    return [run_feed(index, url, fetch) for url in (urls if urls is not None else [f.url for f in index.feeds.feeds()])]
