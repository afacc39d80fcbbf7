"""Saved conversations (per owner), Answer.from_dict (tolerant of newer keys), and Markdown/JSON export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.db import Database, sqlite_url
from index.errors import InputError, NotFound
from index.types import ArticleMeta, Chunk
from rag.types import Answer, Citation, Hit, Timings, Turn
from ui.conversations import ConversationStore, title_from
from ui.export import answer_markdown, conversation_json, conversation_markdown, turns_json, turns_markdown

TEXT = "NATO chief Jens Stoltenberg said on Tuesday that Biden will insist on higher defence spending."


def make_answer(question: str = "Who met Biden on Monday?", **extra: object) -> Answer:
    meta = ArticleMeta(title="Stoltenberg: Biden will insist", outlet="dpa", published="2020-11-24",
                       url="https://example.com/nato")
    hit = Hit(Chunk("a" * 32 + ":3", "a" * 32, 3, 100, 100 + len(TEXT), TEXT), meta, 0.8, "fused")
    citation = Citation(1, hit, 100, 100 + len(TEXT), TEXT, True)
    fields: dict[str, object] = dict(question=question, standalone_question=question,
                                     text="Stoltenberg met Biden on Monday [1].", refused=False, backend="extractive",
                                     citations=(citation,), unsupported_sentences=("He also likes tea.",),
                                     timings_ms=Timings(5, 6, 7), hits=(hit,))
    fields.update(extra)
    return Answer(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(Database(sqlite_url(tmp_path / "catalogue.sqlite3")))


def test_answer_round_trips_through_its_dict_and_ignores_unknown_keys() -> None:
    from datetime import date

    from rag.types import DatedValue, Filters, TimeRange

    first = make_answer()
    other = Hit(Chunk("c" * 32 + ":0", "c" * 32, 0, 0, 40, "In 2025 allies agreed on 3.5% of GDP by 2035."),
                ArticleMeta(title="NATO summit", outlet="AP", published="2025-06-25"), 0.5, "fused")
    differ = (DatedValue("2%", "percent", "2", first.hits[0], 100, 110, TEXT[:10]),
              DatedValue("3.5%", "percent", "3.5", other, 24, 28, "3.5%"))
    since = TimeRange(date(2020, 1, 1), date(2025, 12, 31), "since 2020")
    answer = make_answer(notice="LLM server down", dropped_markers=(7,), hits=(first.hits[0], other),
                         sources_differ=differ, time_range=since,
                         filters=Filters(since=date(2020, 1, 1), outlets=("dpa",)))
    d = answer.to_dict()
    assert [v["n"] for v in d["sources_differ"]] == [1, 2]
    back = Answer.from_dict(d)
    assert back.to_dict() == d  # [n] of each value too: the sources are renumbered as saved
    # The JSON's "answer" is the reply (prose, then the figures' paragraph); the prose comes back as it was.
    assert d["answer"] == answer.reply and answer.reply.startswith(answer.text + "\n\nSources differ. dpa")
    assert back.text == answer.text and back.reply == answer.reply
    assert back.citations[0].hit.chunk.article_id == "a" * 32 and back.citations[0].hit.meta.url
    # A newer version's fields must not break loading.
    newer = {**d, "claims_checked": [{"sentence": "…", "ok": True}], "confidence": 0.9,
             "citations": [{**d["citations"][0], "speaker": "Stoltenberg"}]}
    assert Answer.from_dict(newer).to_dict() == d
    minimal = Answer.from_dict({"answer": "x"})  # the bare minimum loads too
    assert minimal.text == "x" and minimal.hits == () and minimal.to_dict()["filters"] is None
    # The export of a saved answer says which source gives which figure, with its [n].
    md = answer_markdown(back)
    assert "**The sources differ:**" in md and "- **3.5%** — AP, 2025-06-25 [2]: “3.5%”" in md
    assert "- **2%** — dpa, 2020-11-24 [1]" in md


def test_conversations_belong_to_their_owner(store: ConversationStore) -> None:
    conv = store.create("alice")
    store.add_turn(conv.conversation_id, Turn("Who met Biden on Monday?", make_answer()), owner="alice")
    store.add_turn(conv.conversation_id, Turn("And what did he say?", make_answer("And what did he say?")),
                   owner="alice")
    got = store.get(conv.conversation_id, owner="alice")
    assert got.title == "Who met Biden on Monday?"  # the first question titles it
    assert [t.question for t in got.turns] == ["Who met Biden on Monday?", "And what did he say?"]
    assert got.history()[0].answer.to_dict() == make_answer().to_dict()
    assert [c.conversation_id for c in store.list("alice")] == [conv.conversation_id]
    assert store.list("alice")[0].n_turns == 2

    # Bob can neither see, read, add to, rename nor delete it: it does not exist for him.
    assert store.list("bob") == []
    for act in (lambda: store.get(conv.conversation_id, owner="bob"),
                lambda: store.add_turn(conv.conversation_id, Turn("q", make_answer()), owner="bob"),
                lambda: store.rename(conv.conversation_id, "mine", owner="bob"),
                lambda: store.delete(conv.conversation_id, owner="bob")):
        with pytest.raises(NotFound, match="No conversation with id"):
            act()
    assert len(store.get(conv.conversation_id, owner=None).turns) == 2  # the operator's view (CLI)

    store.rename(conv.conversation_id, "  NATO   talks ", owner="alice")
    assert store.get(conv.conversation_id, owner="alice").title == "NATO talks"
    with pytest.raises(InputError):
        store.rename(conv.conversation_id, "   ", owner="alice")
    store.delete(conv.conversation_id, owner="alice")
    with pytest.raises(NotFound):
        store.get(conv.conversation_id, owner="alice")
    assert store.list(None) == []


def test_newest_conversation_first_and_long_titles_cut_at_a_word(store: ConversationStore) -> None:
    a = store.create("alice", "first")
    b = store.create("alice", "second")
    store.add_turn(a.conversation_id, Turn("q", make_answer()), owner="alice")
    assert [c.title for c in store.list("alice")] == ["first", "second"]  # a was updated last
    title = title_from("word " * 100)
    assert len(title) <= 121 and title.endswith("…") and "  " not in title
    assert b.conversation_id != a.conversation_id and re.fullmatch(r"[0-9a-f]{16}", a.conversation_id)


def test_markdown_export_has_questions_answers_markers_and_sources(store: ConversationStore) -> None:
    conv = store.create("alice")
    store.add_turn(conv.conversation_id, Turn("Who met Biden on Monday?", make_answer()), owner="alice")
    md = conversation_markdown(store.get(conv.conversation_id, owner="alice"))
    assert md.startswith("# Who met Biden on Monday?\n")
    assert "## 1. Who met Biden on Monday?" in md
    assert "Stoltenberg met Biden on Monday [1]." in md  # the marker stays a plain [1]
    assert ("- [1] **Stoltenberg: Biden will insist** — dpa, 2020-11-24, <https://example.com/nato>\n"
            f"  > {TEXT}") in md
    assert "**Not supported by the cited sources:**" in md and "He also likes tea." in md

    data = conversation_json(store.get(conv.conversation_id, owner="alice"))
    assert data["turns"][0]["answer"] == json.loads(json.dumps(make_answer().to_dict()))
    assert turns_json([Turn("q", make_answer())])["turns"][0]["answer"]["citations"][0]["quote"] == TEXT


def test_export_escapes_hostile_article_and_model_text() -> None:
    meta = ArticleMeta(title="<script>alert(1)</script> [x](javascript:alert(1))", outlet="**Evil**",
                       url="javascript:alert(1)")
    quote = "# Heading\n<img src=x onerror=alert(1)>"
    hit = Hit(Chunk("b:0", "b", 0, 0, len(quote), quote), meta, 1.0, "fused")
    answer = Answer("q", "q", "Look <b>here</b> [1] and [evil](http://x) [2].", False, "x",
                    citations=(Citation(1, hit, 0, len(quote), quote, False),))
    md = answer_markdown(answer)
    assert not re.search(r"(?<!\\)<", md), "an unescaped < could open an HTML tag"
    assert not re.search(r"(?<!\\)\]\(", md), "an unescaped ]( could make a link"
    assert "\\<script\\>" in md and "\\[x\\]" in md and "\\*\\*Evil\\*\\*" in md
    assert "[1]" in md and "[2]" in md and "\\[evil\\]" in md
    assert "  > \\# Heading" in md  # a quoted line cannot become a heading
    assert "does not support the sentence" in md
    doc = turns_markdown([Turn("# not a heading", answer)])
    assert "## 1. \\# not a heading" in doc
