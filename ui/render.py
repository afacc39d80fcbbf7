"""Answer -> text/markdown/HTML pieces. Pure functions; article text is always escaped."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING

from index.types import short_date
from rag.markers import ESCAPED as ESCAPED_MARKER
from rag.timeline import markers, when
from rag.types import REFUSAL_REASONS, Answer, Citation
from rag.values import extract_values

if TYPE_CHECKING:  # types only: rendering needs no database or model code
    from ui.alerts import AlertNews, NewsSource

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])", re.M)


def escape_markdown(text: str) -> str:
    """Article or model text shown as literal characters in Streamlit markdown (no HTML, no links,
    no headings or lists)."""
    def line_start(m: re.Match[str]) -> str:
        mark = m.group(2)  # "3." must become "3\." (a backslash before a digit is not an escape)
        return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)

    return _MD_LINE_START.sub(line_start, _MD_SPECIAL.sub(r"\\\1", text))


def source_label(c: Citation) -> str:
    m = c.hit.meta
    parts = [p for p in (m.outlet, m.published) if p]
    return f"[{c.n}] {m.title or 'Untitled'}" + (f" — {', '.join(parts)}" if parts else "")


def also_in_line(c: Citation) -> str:
    """'also in: Reuters (2023-10-02), The Age (2023-10-03)': the other outlets that ran the same wire story, or ''."""
    if not c.also_in:
        return ""
    names = [f"{x.outlet or 'Unknown outlet'}" + (f" ({x.published[:10]})" if x.published else "") for x in c.also_in]
    return "also in: " + ", ".join(names)


def differ_rows(answer: Answer) -> list[tuple[str, str, str, int | None]]:
    """The "Sources differ" timeline as rows: (date · outlet, value, quote, source number)."""
    rows = []
    for d in answer.sources_differ:
        m = d.hit.meta
        when = " · ".join(p for p in (short_date(m.published), m.outlet) if p) or "Undated source"
        rows.append((when, d.value, d.quote, answer.source_number(d.hit.chunk.chunk_id)))
    return rows


def timeline_rows(answer: Answer) -> list[tuple[str, str, str]]:
    """A timeline answer's events as rows: (when, the event, its markers '[1][2]'); the line on where things stood
    before a "since" day says so in its `when`."""
    return [(("Before: " if e.before else "") + when(e), e.event, markers(e))
            for e in answer.timeline]


def timeline_figures(answer: Answer) -> list[tuple[str, float, str]]:
    """(ISO day, value, as written) of the figure each event gives, when the events tell the story of one figure
    (each gives exactly one percentage, or one amount in one currency, and there are two or more): what the app
    charts beside the timeline. [] otherwise."""
    points = []
    for e in answer.timeline:
        values = [v for v in extract_values(e.event) if v.kind in ("percent", "money")]
        if len(values) != 1:
            continue
        v = values[0]
        unit, _, amount = v.norm.rpartition(" ") if v.kind == "money" else ("%", "", v.norm)
        try:
            number = float(amount.split("-")[-1])  # a range "3-3.5" is charted at its top
        except ValueError:
            continue
        points.append((unit, e.date, number, v.text))
    units = {u for u, _, _, _ in points}
    if len(points) < 2 or len(units) != 1:
        return []
    return [(day, number, text) for _, day, number, text in points]


def answer_markdown(answer: Answer) -> str:
    """The answer for a chat bubble (without its "Sources differ" figures): text escaped, markers kept as bold [n]."""
    escaped = escape_markdown(answer.text)
    return ESCAPED_MARKER.sub(r"**[\1]**", escaped)


def highlighted_article_html(text: str, start: int, end: int) -> str:
    """The whole article as escaped HTML with the cited span in <mark>."""
    before, quote, after = (html.escape(text[:start]), html.escape(text[start:end]), html.escape(text[end:]))
    body = f"{before}<mark>{quote}</mark>{after}"
    return ("<div style='white-space: pre-wrap; max-height: 24em; overflow-y: auto; font-size: 0.9em'>"
            f"{body}</div>")


def scope_line(answer: Answer) -> str:
    """'Searched as: … · Time: in 2020 (2020-01-01 to 2020-12-31) · Filters: since 2024-01-01', or ''."""
    parts = []
    if answer.standalone_question != answer.question:
        parts.append(f"Searched as: {answer.standalone_question}")
    if t := answer.time_range:
        span = f"{t.since or '…'} to {t.until or '…'}"
        parts.append(f"Time: {t.phrase} ({span}; earlier articles left out)")
    if f := answer.filters:
        chosen = [f"since {f.since}" if f.since else "", f"until {f.until}" if f.until else "",
                  f"outlets: {', '.join(f.outlets)}" if f.outlets else "",
                  f"{len(f.article_ids)} chosen article(s)" if f.article_ids else ""]
        parts.append("Filters: " + ", ".join(c for c in chosen if c))
    return " · ".join(parts)


def refusal_words(answer: Answer) -> str:
    """Why the answer was refused, in plain words ('' when it was not)."""
    return REFUSAL_REASONS.get(answer.refusal_reason or "", "") if answer.refused else ""


def answer_to_text(answer: Answer) -> str:
    """Plain text for the terminal."""
    lines = [answer.reply]
    if why := refusal_words(answer):
        lines += [f"Why: {why}."]
    if scope := scope_line(answer):
        lines += ["", scope]
    if answer.notice:
        lines += ["", f"Note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations):
            if i == 0 or answer.citations[i - 1].n != c.n:  # a timeline cites several sentences of one source
                flag = "" if c.supported else "  (does not support the sentence citing it)"
                lines.append(f"  {source_label(c)}{flag}")
                if c.hit.meta.url:
                    lines.append(f"      {c.hit.meta.url}")
            lines.append(f"      “{c.quote}”")
            if also := also_in_line(c):
                lines.append(f"      {also}")
    if answer.dropped_markers:
        lines.append(f"Dropped markers that named no source: {', '.join(map(str, answer.dropped_markers))}")
    if answer.unsupported_sentences:
        lines += ["", "Removed, not supported by the cited sources:"] + [f"  - {s}" for s in
                                                                         answer.unsupported_sentences]
    if answer.refused and answer.hits:
        lines += ["", "Nearest passages:"]
        for n, hit in enumerate(answer.hits[:3], start=1):
            m = hit.meta
            lines.append(f"  [{n}] {m.title or 'Untitled'} — {', '.join(p for p in (m.outlet, m.published) if p)}")
            lines.append(f"      “{hit.chunk.text[:240]}{'…' if len(hit.chunk.text) > 240 else ''}”")
    t = answer.timings_ms
    lines += ["", f"[{answer.backend}; retrieve {t.retrieve} ms, read {t.rerank} ms, generate {t.generate} ms]"]
    return "\n".join(lines)


def local_time(timestamp: float) -> str:
    """'2026-12-01 10:00' in this machine's time zone."""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def news_source_label(s: NewsSource) -> str:
    """'Harbour reopens — Kieler Nachrichten, 2024-03-04'."""
    parts = [p for p in (s.outlet, s.published) if p]
    return (s.title or "Untitled") + (f" — {', '.join(parts)}" if parts else "")


def no_news_line(news: AlertNews) -> str:
    return f"No news for alert {news.alert.alert_id} since {local_time(news.since)}."


def alert_news_text(news: AlertNews) -> str:
    """An alert check for the terminal: its events, oldest first, each with the articles that report it."""
    if not news.events:
        return no_news_line(news)
    lines = [f"Alert {news.alert.alert_id}: {news.alert.question}",
             f"  news since {local_time(news.since)} ({news.new_articles} article(s) added):"]
    for e in news.events:
        lines.append(f"  {e.date}  {e.event}")
        lines += [f"              {news_source_label(s)}" for s in e.sources]
    return "\n".join(lines)


def alert_news_markdown(news: AlertNews) -> str:
    """An alert check for the app: each event with its day and the articles that report it, escaped."""
    if not news.events:
        return escape_markdown(no_news_line(news))
    lines = [escape_markdown(f"News since {local_time(news.since)} ({news.new_articles} article(s) added):")]
    for e in news.events:
        sources = "; ".join(news_source_label(s) for s in e.sources)
        lines.append(f"- **{escape_markdown(e.date)}** {escape_markdown(e.event)}  \n  *{escape_markdown(sources)}*")
    return "\n".join(lines)
