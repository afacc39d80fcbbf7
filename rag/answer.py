"""Answer assembly: write (falling back when a backend fails), verify the markers, refuse, build the Answer.

`AnswerStream` (the assistant's streaming path) and the eval's gold-evidence runs both go through
`Draft` and `assemble_answer`, so what a reader sees and what the benchmarks score are built the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from index.errors import BackendUnavailable
from rag.citations import looks_like_refusal, verify_citations
from rag.llm import LLM
from rag.prompts import REFUSAL_TEXT
from rag.types import Answer, Hit, Prompt, Reading, Timings


@dataclass
class Draft:
    """The answer's raw text as a backend writes it; `write` fills it while the caller streams."""

    backend: str
    parts: list[str] = field(default_factory=list)
    notice: str | None = None  # set when the backend failed and the fallback wrote instead
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def write(self, llm: LLM, prompt: Prompt, fallback: LLM) -> Iterator[str]:
        """Yield the answer's text while `llm` writes it; if the backend fails, `fallback` writes instead
        (its text follows a blank line, after whatever was already streamed) and `notice` says why."""
        t0 = time.perf_counter()
        try:
            for token in llm.write(prompt):
                self.parts.append(token)
                yield token
        except BackendUnavailable as e:
            self.notice = f"{e} Showing the extractive answer (best matching sentences) instead."
            self.backend = fallback.name
            self.parts = list(fallback.write(prompt))
            yield "\n\n" + self.text
        finally:
            self.seconds = time.perf_counter() - t0


def assemble_answer(question: str, standalone: str, hits: Sequence[Hit], draft: Draft,
                    timings: Timings | None = None) -> Answer:
    """The verified Answer from what was written (`draft`), or a refusal.

    A refusal when nothing was written (an empty draft: the relevance gate refused, so no backend ran, or the
    backend wrote nothing), or when the text says the sources do not tell and no citation supports anything.
    Otherwise every [n] is checked against the passage it names (rag/citations.py).
    """
    base = dict(question=question, standalone_question=standalone, hits=tuple(hits), timings_ms=timings or Timings(),
                backend=draft.backend, notice=draft.notice)
    text = draft.text
    if not text:
        return Answer(text=REFUSAL_TEXT, refused=True, **base)  # type: ignore[arg-type]
    verified = verify_citations(text, hits)
    if looks_like_refusal(verified.text) and not any(c.supported for c in verified.citations):
        return Answer(text=REFUSAL_TEXT, refused=True, dropped_markers=verified.dropped_markers,
                      **base)  # type: ignore[arg-type]
    return Answer(text=verified.text, refused=False, citations=verified.citations,
                  dropped_markers=verified.dropped_markers, unsupported_sentences=verified.unsupported_sentences,
                  **base)  # type: ignore[arg-type]


ReadFn = Callable[[str, Sequence[Hit]], tuple[Reading, ...]]


def answer_from_hits(question: str, hits: Sequence[Hit], llm: LLM, fallback: LLM, instructions: str = "",
                     read: ReadFn | None = None) -> Answer:
    """Write and verify an answer over given passages, without retrieval (the eval's gold-evidence setting).

    `read` chooses what the model reads of each passage (default: whole passages).
    """
    readings = read(question, hits) if read else tuple(Reading.whole(n, h) for n, h in enumerate(hits, start=1))
    draft = Draft(llm.name)
    for _ in draft.write(llm, Prompt(question, readings, instructions), fallback):
        pass
    return assemble_answer(question, question, hits, draft, Timings(generate=round(draft.seconds * 1000)))
