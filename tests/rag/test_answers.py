"""Answers from the real packaged models on the shipped corpus (DESIGN.md's seed questions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.prompts import REFUSAL_TEXT
from rag.settings import Settings

BIDEN = "Who met Biden on Monday?"
PERU = "What is the capital of Peru?"
NATO = "What defence-spending target do NATO allies have, and what does Trump want?"


@pytest.fixture(scope="module")
def local_assistant(seeded_home: Path, gguf_path: Path, model_run_dir: Path) -> Assistant:
    return Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "local", "model_dir": gguf_path.parent,
                                                                  "run_dir": model_run_dir}))


def _check_markers_in_range(answer: dict) -> None:  # type: ignore[type-arg]
    assert all(1 <= c["n"] <= 5 for c in answer["citations"])


def test_biden_question_cites_the_2020_article(local_assistant: Assistant) -> None:
    answer = local_assistant.ask(BIDEN)
    d = answer.to_dict()
    assert not answer.refused, d
    assert "Stoltenberg" in answer.text
    supported = [c for c in answer.citations if c.supported]
    assert supported, d
    assert any("Stoltenberg and Biden met on Monday" in c.quote and c.hit.meta.published == "2020-11-24"
               for c in supported), d
    for c in answer.citations:
        article = local_assistant.article(c.hit.chunk.article_id).article
        assert article.text[c.start:c.end] == c.quote
    _check_markers_in_range(d)


def test_peru_question_is_refused_without_calling_the_llm(local_assistant: Assistant) -> None:
    stream = local_assistant.stream(PERU)
    assert stream.refused_by_gate
    answer = stream.answer()
    assert answer.refused and answer.text == REFUSAL_TEXT and not answer.citations
    assert "Lima" not in answer.text


def test_nato_question_gives_2_and_5_percent_with_dates_and_both_articles(local_assistant: Assistant) -> None:
    answer = local_assistant.ask(NATO)
    d = answer.to_dict()
    assert not answer.refused, d
    # The figures with their dates and sources, whatever the 1.5B model wrote (rag/conflicts.py).
    assert "2%" in answer.reply and "5%" in answer.reply, answer.reply
    assert "24 Nov 2020" in answer.reply and "12 Feb 2025" in answer.reply, answer.reply
    assert {c.hit.meta.published for c in answer.citations} >= {"2020-11-24", "2025-02-12"}, d
    assert all(1 <= c.n <= len(answer.hits) for c in answer.citations)
    assert not any("Source:" in c.quote or "https://" in c.quote for c in answer.citations), d
    # The sources give 2% as the target (2020 and 2025) and 3-3.5% only as Stoltenberg's proposal: the dated
    # figures say so, whatever the model wrote (retrieval and the cross-encoder, before the model).
    from index.chunking import sentence_spans
    from rag.claims import hedged
    from rag.values import extract_values

    figures = {(v.norm, v.hit.meta.published, hedged(v.quote)) for v in answer.sources_differ}
    assert {("2", "2020-11-24", False), ("2", "2025-02-12", False), ("3-3.5", "2025-02-12", True)} <= figures, \
        d["sources_differ"]
    # No clause the model wrote states the proposal as the target, in any spelling ("3-3.5%", "3 to 3.5 per
    # cent"): the claim check removes a sentence that does (rag/claims.py).
    body = answer.text  # the prose: the dated figures are data beside it
    assert "Sources differ" not in body and answer.reply.startswith(body), answer.reply
    stated = [body[s:e] for s, e in sentence_spans(body) for v in extract_values(body[s:e])
              if v.norm == "3-3.5" and not hedged(body[s:e], v.start, v.end)]
    assert not stated, answer.text


def test_answer_json_has_exactly_the_contract_keys(local_assistant: Assistant) -> None:
    d = local_assistant.ask(BIDEN).to_dict()
    # DESIGN.md's keys, and this round's additions (README, "The Answer JSON").
    assert set(d) - {"notice"} == {"question", "standalone_question", "answer", "refused", "backend", "citations",
                                   "dropped_markers", "unsupported_sentences", "timings_ms", "sources_differ",
                                   "time_range", "filters", "nearest_passages", "refusal_reason", "timeline"}
    assert d["refusal_reason"] is None
    assert set(d["timings_ms"]) == {"retrieve", "rerank", "generate"}
    for c in d["citations"]:
        assert set(c) == {"n", "article_id", "chunk_id", "title", "outlet", "url", "published", "start", "end",
                          "quote", "supported", "also_in"}
    assert d["backend"] == "local"


def test_extractive_backend_answers_with_cited_sentences(seeded_home: Path) -> None:
    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "extractive"}))
    answer = assistant.ask(BIDEN)
    assert answer.backend == "extractive" and not answer.refused
    assert any("Stoltenberg and Biden met on Monday" in c.quote for c in answer.citations)
    assert assistant.ask(PERU).refused


def test_follow_up_question_is_searched_with_its_context(seeded_home: Path) -> None:
    from rag.types import Turn

    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "extractive"}))
    first = assistant.ask(NATO)
    follow = assistant.stream("And what did Poland do?", history=[Turn(NATO, first)])
    assert NATO in follow.question.searched


SAME_TOPIC_UNANSWERED = [  # whole articles of tests/data/timeline and the seeds; none of these is answered there
    "What is Kestria's unemployment rate?", "Who designed the Lusk harbour bridge?",
    "How many trams will cross the Lusk bridge each day?", "What did Valdoria's unions demand for 2026?",
    "When will the Central Bank of Kestria next meet?", "How much did NATO spend on defence in Afghanistan?",
    "What is the population of Port Ardent?", "Which company will build the Lusk harbour bridge?",
    "What did Stoltenberg say about China?",
]
SAME_TOPIC_ANSWERED = {"What is the minimum wage in Valdoria?": "12.82", "Who met Biden on Monday?": "Stoltenberg",
                       "How much will the Lusk harbour bridge cost?": "410 million"}


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory, gguf_path: Path, model_run_dir: Path) -> Assistant:
    from tests.conftest import CORPUS
    from tests.rag.test_time_and_conflicts import TIMELINE

    a = Assistant.from_settings(Settings(home=tmp_path_factory.mktemp("newsroom"),
                                         llm={"backend": "local", "model_dir": gguf_path.parent,
                                              "run_dir": model_run_dir}))
    a.add_paths([TIMELINE, CORPUS])
    return a


@pytest.mark.slow
def test_same_topic_questions_the_articles_do_not_answer_are_refused(newsroom: Assistant) -> None:
    """Whole articles make the similarity gate pass for same-topic questions; the checks after the model refuse
    them. Measured: 8 of 9 (docs/BENCHMARKS.md); the one that passes, "designed by the council's transport office",
    names words of a true sentence on the bridge."""
    answers = {q: newsroom.ask(q) for q in SAME_TOPIC_UNANSWERED}
    refused = [q for q, a in answers.items() if a.refused]
    assert len(refused) >= 7, {q: a.text for q, a in answers.items() if not a.refused}
    for q, a in answers.items():
        if a.refused:
            assert a.to_dict()["nearest_passages"], q  # a refusal still shows where to look
    for q, expected in SAME_TOPIC_ANSWERED.items():
        answer = newsroom.ask(q)
        assert not answer.refused and expected in answer.reply, (q, answer.reply)


@pytest.mark.slow
def test_dated_disagreement_with_the_embedded_model(newsroom: Assistant) -> None:
    answer = newsroom.ask("What is the minimum wage in Valdoria?")
    assert {"Ardent Daily", "Valdoria Courier"} <= {c.hit.meta.outlet for c in answer.citations}, answer.reply
    for value, day in (("12.82 euros", "2 Jan 2025"), ("9.82 euros", "4 Jan 2022")):
        assert value in answer.reply and day in answer.reply, answer.reply
