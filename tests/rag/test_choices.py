"""Answers by choice (rag/choices.py, `choose` in rag/llm.py): the model picks a number, the code cites it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.types import ArticleMeta, Chunk
from rag.assistant import Assistant
from rag.backends.extractive import ExtractiveLLM
from rag.choices import best_source, choice_line, names
from rag.llm import choice_grammar, parse_choice
from rag.settings import Settings
from rag.types import Hit, Prompt, Reading

BRIDGE = ("The Lusk harbour bridge will open in May. The city council approved a toll of 2.40 euros on Tuesday. "
          "Mayor Ines Roth said the bridge cost 310 million euros.")


def _reading(n: int, text: str, title: str = "Lusk bridge") -> Reading:
    return Reading.whole(n, Hit(Chunk(f"a{n}:0", f"a{n}", 0, 0, len(text), text), ArticleMeta(title=title), 1.0,
                                "fused"))


@pytest.mark.parametrize(("reply", "n", "expected"), [
    ("2", 4, 2), ("3.", 4, 3), (" 1", 4, 1), ("0", 4, None), ("5", 4, None), ("", 4, None), ("Choice 4", 4, 4),
])
def test_a_reply_is_read_as_a_choice(reply: str, n: int, expected: int | None) -> None:
    assert parse_choice(reply, n) == expected


def test_the_grammar_admits_the_numbers_only() -> None:
    assert choice_grammar(3) == 'root ::= "0" | "1" | "2" | "3"'


@pytest.mark.parametrize(("choice", "named"), [
    ("2.40 euros", True), ("2.50 euros", False), ("Ines Roth", True), ("Mayor Roth", True), ("Jonas Wirth", False),
    ("310 million euros", True), ("May", True), ("June", False),
    # Named in short: half the words, two or more, and the names match in part.
    ("Lusk harbour bridge", True), ("Lusk harbour bridge tower", True), ("Lusk Bay", False),
    ("the Kiel harbour bridge", False),
])
def test_which_choices_a_sentence_names(choice: str, named: bool) -> None:
    assert names(choice, BRIDGE) is named


@pytest.mark.parametrize(("choice", "sentence", "named"), [
    ("Tornado", "More than a dozen reported tornadoes struck Texas.", True),  # a plural the tokens keep as 'tornadoe'
    ("Churches", "The church was closed.", True),
    ("Bears", "A beaver dam was found.", False),
    ("Releasing a herpes virus", "Australia is considering using a carp herpes virus to cull the fish.", True),
])
def test_a_choice_is_named_in_other_forms_of_its_words(choice: str, sentence: str, named: bool) -> None:
    assert names(choice, sentence) is named


def test_an_answer_line_is_backed_by_a_passage_that_names_it_in_other_words() -> None:
    """The check of an answer line (rag/claims.py) names a choice as rag/choices.py does: one rule."""
    from rag.citations import verify_citations

    carp = _reading(1, "The Australian government is considering using a carp herpes virus to cull the invasive "
                       "species, but critics say further research is needed.", title="Carp plan").hit
    verified = verify_citations("Answer: Releasing a herpes virus [1].", [carp], None, 0.0,
                                "What controversial solution has been proposed to reduce the carp population?")
    assert verified.citations and not verified.unsupported_sentences, verified


def test_the_passage_that_names_the_choice_is_cited() -> None:
    readings = (_reading(1, "The harbour of Lusk is busy in summer, the port authority said on Monday."),
                _reading(2, BRIDGE))
    assert best_source("What is the bridge toll?", "2.40 euros", readings, None) == (2, 0.0)
    assert best_source("What is the bridge toll?", "5 euros", readings, None) is None
    assert choice_line("2.40 euros", 2) == "Answer: 2.40 euros [2]."
    assert choice_line("5 euros", None) == "Answer: 5 euros."
    # The no-model backend chooses too: the choice a passage names, best answering the question with it.
    prompt = Prompt("What toll did the council approve?", readings, choices=("5 euros", "2.40 euros", "1 euro"))
    assert ExtractiveLLM(None).choose(prompt) == 2


class _Picks:
    """A backend that picks the choice it is told to (what is checked is the citing, not the model)."""

    name = "picks"

    def __init__(self, n: int) -> None:
        self.n = n

    def choose(self, prompt: Prompt) -> int | None:
        return self.n


def test_a_choice_no_passage_read_names_is_cited_from_a_passage_retrieved_beyond() -> None:
    from rag.answer import Draft

    read = (_reading(1, "The harbour of Lusk is busy in summer, the port authority said on Monday."),)
    unread = _reading(7, BRIDGE).hit
    prompt = Prompt("What toll did the council approve?", read, choices=("5 euros", "2.40 euros"))
    draft = Draft("picks")
    assert "".join(draft.choose(_Picks(2), prompt, ExtractiveLLM(None), None,  # type: ignore[arg-type]
                                unread=[unread])) == "Answer: 2.40 euros [2]."
    assert draft.beyond is not None and draft.beyond.n == 2 and draft.beyond.hit is unread
    # The model's choice named nowhere: the choice the passages name, cited, and a notice says so.
    draft = Draft("picks")
    assert "".join(draft.choose(_Picks(1), prompt, ExtractiveLLM(None), None,  # type: ignore[arg-type]
                                unread=[unread])) == "Answer: 2.40 euros [2]."
    assert draft.notice and "“5 euros”" in draft.notice and draft.beyond is not None
    # No choice named anywhere: the model's, uncited (the checks then refuse it), nothing added, no notice.
    prompt = Prompt("What toll did the council approve?", read, choices=("5 euros", "7 euros"))
    draft = Draft("picks")
    assert "".join(draft.choose(_Picks(1), prompt, ExtractiveLLM(None), None,  # type: ignore[arg-type]
                                unread=[unread])) == "Answer: 5 euros."
    assert draft.beyond is None and draft.notice is None


def test_choices_through_the_assistant_are_cited_and_checked(seeded_home: Path) -> None:
    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "extractive"}))
    answer = assistant.ask("What share of their GDP does the US want NATO allies to spend on defence?",
                           choices=["1%", "5%", "10%"])
    assert not answer.refused, answer.text
    assert answer.text.startswith("Answer: 5% [") and answer.citations
    assert any("5%" in c.quote for c in answer.citations)
    none = assistant.ask("What share of their GDP does the US want NATO allies to spend on defence?",
                         choices=["12%", "15%"])
    assert none.refused and none.refusal_reason == "declined"


def test_with_choices_a_passage_that_names_one_admits_the_question(seeded_home: Path) -> None:
    """A quiz question's own words are mostly not in its passage, so the word-coverage gate refuses it; with
    choices, a passage that names one admits it to the model, whose pick the code still checks."""
    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={"backend": "extractive"}))
    quiz = ("The 1949 treaty organisation's members were told by an incoming administration what share of economic "
            "output to set aside for their armed forces?")
    assert assistant.ask(quiz).refusal_reason == "gate"
    assert assistant.ask(quiz, choices=["1%", "5%", "10%"]).refusal_reason != "gate"
    # No passage names any choice: still refused before any model runs.
    peru = assistant.ask("Which city is the capital of Peru?", choices=["Lima", "Cusco", "Arequipa"])
    assert peru.refused and peru.refusal_reason == "gate"


def test_the_embedded_model_picks_a_choice_under_its_grammar(seeded_home: Path, gguf_path: Path,
                                                              model_run_dir: Path) -> None:
    assistant = Assistant.from_settings(Settings(home=seeded_home, llm={
        "backend": "local", "model_dir": gguf_path.parent, "run_dir": model_run_dir}))
    answer = assistant.ask("Since when has the 2% NATO target been in place?", choices=["2014", "2020", "2025"])
    assert answer.backend == "local" and answer.draft.startswith("Answer: "), answer.draft
    assert answer.draft.removeprefix("Answer: ").split(" [")[0] in {"2014", "2020", "2025"}
