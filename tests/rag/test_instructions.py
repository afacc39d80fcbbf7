"""Answer-format instructions reach the LLM's prompt and nothing else: not retrieval, not Answer.question."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from index.news_index import NewsIndex
from rag.assistant import Assistant
from rag.llm import ChatLLM
from rag.settings import Settings

QUESTION = "Who met Biden on Monday?"
INSTRUCTIONS = "End your reply with a last line of the form 'Answer: ...'."


class RecordingLLM(ChatLLM):
    """Records the prompt it is given and answers from the first source; the prompt is what is under test."""

    name = "recording"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def stream(self, messages: Sequence[tuple[str, str]], grammar: str | None = None) -> Iterator[str]:
        self.prompts.append("\n".join(content for _, content in messages))
        yield "Stoltenberg and Biden met on Monday [1].\nAnswer: Stoltenberg"


def test_instructions_go_to_the_llm_only(seeded: Path) -> None:
    llm = RecordingLLM()  # the prompt assembly is under test, not the model
    settings = Settings()
    assistant = Assistant(settings, NewsIndex(settings.index), llm=llm)
    plain = assistant.retrieve(QUESTION)
    answer = assistant.ask(QUESTION, instructions=INSTRUCTIONS)
    assert answer.question == QUESTION and answer.standalone_question == QUESTION
    assert [h.chunk.chunk_id for h in answer.hits] == [h.chunk.chunk_id for h in plain.hits]
    assert INSTRUCTIONS in llm.prompts[0] and QUESTION in llm.prompts[0]
    assert not answer.refused and answer.citations[0].supported

    assistant.ask(QUESTION)
    assert INSTRUCTIONS not in llm.prompts[1]
