"""A conversation or one answer as Markdown or JSON: each question, the answer with its [n] markers, and under
it the sources (title, outlet, date, URL, the quoted passage). Pure functions: the CLI, the app's download
button, the API and `newsdesk chat` all call these.

Article and model text is escaped, so a title like `<script>` or `[x](javascript:…)` stays literal text in any
Markdown viewer; only the answer's own `[n]` markers are left as they are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from rag.markers import ESCAPED as ESCAPED_MARKER
from rag.types import Answer, Citation, Turn
from ui.conversations import Conversation

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d+[.)])", re.M)
_URL = re.compile(r"^https?://[^\s<>]+$")


def escape(text: str) -> str:
    """Text shown literally in Markdown: no HTML, links, emphasis, headings or lists."""
    def line_start(m: re.Match[str]) -> str:
        mark = m.group(2)
        return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)

    return _LINE_START.sub(line_start, _inline(text))


def _inline(text: str) -> str:
    """`escape` for a piece inside a line (a title, an outlet, a figure): "3.5%" cannot start a list there."""
    return _SPECIAL.sub(r"\\\1", text)


def source_line(c: Citation) -> str:
    """`[1] **Title** — dpa, 2020-11-24 — <https://…>`"""
    m = c.hit.meta
    parts = [_inline(p) for p in (m.outlet, m.published) if p]
    if m.url:
        parts.append(f"<{m.url}>" if _URL.match(m.url) else _inline(m.url))
    line = f"[{c.n}] **{_inline(_one_line(m.title) or 'Untitled')}**" + (" — " + ", ".join(parts) if parts else "")
    return line + ("" if c.supported else " (⚠️ does not support the sentence citing it)")


def sources_markdown(answer: Answer) -> str:
    """The answer's sources, each with its quoted passage; "" when it cites none."""
    if not answer.citations:
        return ""
    lines = ["**Sources**", ""]
    for c in answer.citations:
        lines.append(f"- {source_line(c)}")
        lines += [f"  > {escape(q)}" if q.strip() else "  >" for q in c.quote.splitlines() or [""]]
        if c.also_in:  # the same wire story, run by other outlets
            lines.append("  Also in: " + ", ".join(
                ", ".join(_inline(p) for p in (x.outlet or "Unknown outlet", (x.published or "")[:10]) if p)
                + (f" <{x.url}>" if x.url and _URL.match(x.url) else "") for x in c.also_in))
    return "\n".join(lines)


def answer_markdown(answer: Answer) -> str:
    """The answer text (markers kept as `[n]`), its notice, the sources and anything unsupported."""
    blocks = [ESCAPED_MARKER.sub(r"[\1]", escape(answer.text.strip()))]
    if answer.notice:
        blocks.append(f"> **Note:** {escape(_one_line(answer.notice))}")
    if sources := sources_markdown(answer):
        blocks.append(sources)
    if answer.sources_differ:
        lines = ["**The sources differ:**", ""]
        for v in answer.sources_differ:
            m = v.hit.meta
            n = answer.source_number(v.hit.chunk.chunk_id)
            where = ", ".join(_inline(p) for p in (m.outlet, m.published) if p) or _inline(m.title or "a source")
            lines.append(f"- **{_inline(v.value)}** — {where}" + (f" [{n}]" if n else "") +
                         f": “{_inline(_one_line(v.quote))}”")
        blocks.append("\n".join(lines))
    if answer.unsupported_sentences:
        blocks.append("**Not supported by the cited sources:**\n\n" +
                      "\n".join(f"- {escape(_one_line(s))}" for s in answer.unsupported_sentences))
    if answer.dropped_markers:
        blocks.append("_Markers that named no source were removed: "
                      f"{', '.join(str(m) for m in answer.dropped_markers)}._")
    return "\n\n".join(blocks)


def turns_markdown(turns: Sequence[Turn], title: str = "Newsdesk conversation",
                   asked_at: Sequence[float | None] = ()) -> str:
    """A whole conversation (or one answer: a list of one turn) as a Markdown document."""
    head = [f"# {escape(_one_line(title)) or 'Newsdesk conversation'}", "",
            f"_Exported from Newsdesk on {_day_time(time.time())}; {len(turns)} question(s)._"]
    blocks = ["\n".join(head)]
    for i, turn in enumerate(turns, 1):
        when = asked_at[i - 1] if i - 1 < len(asked_at) else None
        heading = f"## {i}. {escape(_one_line(turn.question))}"
        blocks.append(heading + (f"\n\n_Asked {_day_time(when)}_" if when is not None else "")
                      + "\n\n" + answer_markdown(turn.answer))
    return "\n\n".join(blocks) + "\n"


def conversation_markdown(conversation: Conversation) -> str:
    return turns_markdown(conversation.history(), conversation.title or "Newsdesk conversation",
                          [t.asked_at for t in conversation.turns])


def turns_json(turns: Sequence[Turn], title: str = "Newsdesk conversation") -> dict[str, Any]:
    """The same as JSON: the title and each turn's question and Answer contract."""
    return {"title": title, "turns": [{"question": t.question, "answer": t.answer.to_dict()} for t in turns]}


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    """A saved conversation as JSON, its answers exactly as saved (fields a newer version added included)."""
    return conversation.to_dict(with_turns=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _day_time(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))
