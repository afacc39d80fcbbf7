"""Answer assembly: write (falling back when a backend fails), verify the markers, refuse, build the Answer.

`AnswerStream` (the assistant's streaming path) and the eval's gold-evidence runs both go through
`Draft` and `assemble_answer`, so what a reader sees and what the benchmarks score are built the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from index.errors import BackendUnavailable
from rag.choices import best_source, choice_line
from rag.citations import answer_sentences, looks_like_refusal, verify_citations
from rag.claims import is_conclusion, is_verdict, restates_question
from rag.llm import LLM
from rag.markers import strip_markers_and_labels
from rag.prompts import REFUSAL, REFUSAL_TEXT, UNSUPPORTED_TEXT
from rag.types import Answer, Citation, DatedValue, Hit, Prompt, Reading, Relevance, Timings


@dataclass
class Draft:
    """The answer's raw text as a backend writes it; `write` fills it while the caller streams."""

    backend: str
    parts: list[str] = field(default_factory=list)
    notice: str | None = None  # set when the backend failed and the fallback wrote instead
    seconds: float = 0.0
    beyond: Reading | None = None  # a passage retrieved but not read that the answer by choice cites (its n follows)

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


    def choose(self, llm: LLM, prompt: Prompt, fallback: LLM, judge: Relevance | None,
               unread: Sequence[Hit] = ()) -> Iterator[str]:
        """The answer line for the choice `llm` picks of `prompt.choices`, cited by the code (rag/choices.py); the
        refusal when it picks none. `fallback` picks when the backend fails.

        When no passage read names the choice, the best of the `unread` passages retrieved that does is cited as
        the next source (`beyond`). When none names it at all, the choice the passages do name is given, picked as
        the extractive backend picks (the one a sentence names while best answering the question), with a notice:
        on the first 100 RealTime QA questions the model's unnamed picks were wrong 17 times in 26, the passages'
        choice right 7 times in 8. A model that says the sources do not tell is not overruled (its refusals were
        right: the passages' choice was wrong in the one case it had one).
        """
        t0 = time.perf_counter()
        try:
            try:
                picked = llm.choose(prompt)
            except BackendUnavailable as e:
                self.notice = f"{e} The extractive backend chose instead."
                self.backend = fallback.name
                picked = fallback.choose(prompt)
            if picked is None:
                text = REFUSAL  # what the model is told to write when the sources do not say
            else:
                choice = prompt.choices[picked - 1]
                found = self._cite(prompt, choice, judge, unread)
                if found is None:
                    every = dataclasses.replace(prompt, readings=(*prompt.readings, *self._numbered(prompt, unread)))
                    named = fallback.choose(every)
                    if named is not None and named != picked:
                        self.notice = (f"The model chose “{choice}”, which no passage found names; the answer is "
                                       "the choice the passages name.")
                        choice = prompt.choices[named - 1]
                        found = self._cite(prompt, choice, judge, unread)
                text = choice_line(choice, found)
            self.parts = [text]
            yield text
        finally:
            self.seconds = time.perf_counter() - t0

    @staticmethod
    def _numbered(prompt: Prompt, unread: Sequence[Hit]) -> list[Reading]:
        """The passages retrieved but not read, numbered after the ones read."""
        return [Reading.whole(len(prompt.readings) + 1 + i, h) for i, h in enumerate(unread)]

    def _cite(self, prompt: Prompt, choice: str, judge: Relevance | None, unread: Sequence[Hit]) -> int | None:
        """The source number of the passage that names the choice: one read, else the best unread one, which then
        becomes the next source (`beyond`); None when none names it."""
        self.beyond = None
        found = best_source(prompt.searched, choice, prompt.readings, judge)
        if found is not None:
            return found[0]
        others = self._numbered(prompt, unread)
        other = best_source(prompt.searched, choice, others, judge)
        if other is None:
            return None
        n_next = len(prompt.readings) + 1
        self.beyond = Reading.whole(n_next, others[other[0] - n_next].hit)
        return n_next


def assemble_answer(question: str, standalone: str, hits: Sequence[Hit], draft: Draft,
                    timings: Timings | None = None, relevance: Relevance | None = None,
                    min_relevance: float = 0.0, differ: Sequence[DatedValue] = (),
                    refusal: str = REFUSAL_TEXT, min_answer_relevance: float | None = None,
                    nothing_written: str = "gate") -> Answer:
    """The verified Answer from what was written (`draft`), or a refusal that still carries the nearest passages.

    Every sentence is checked against the passages it cites (rag/citations.py, rag/claims.py): the ones the
    sources do not support leave the answer and are listed in `unsupported_sentences`. A refusal when nothing
    was written (an empty draft: the relevance gate refused, so no backend ran), when nothing supported is left,
    when the text says the sources do not tell, or when no sentence left answers the question: asked "How many
    trams will cross the Lusk bridge each day?", the 1.5B model quoted the bridge's cost, true and cited, and
    the cross-encoder rated it -3.8 for the question (answers score 3-10).

    When the sources differ (`differ`, rag/conflicts.py), the dated figures follow the answer as a timeline that
    cites each source, whatever the backend wrote (not after a refusal: figures of a question the sources do not
    answer would mislead).

    Args:
        relevance, min_relevance: the cross-encoder and the score a cited sentence must reach (None: not judged).
        differ: the dated figures of sources that disagree; their passages must be among `hits`.
        min_answer_relevance: the score (question vs answer sentence) the best sentence left must reach.
        nothing_written: the refusal reason when the draft is empty ("gate", or "filters" when they left no
            article): no backend ran.
    """
    base = dict(question=question, standalone_question=standalone, hits=tuple(hits), timings_ms=timings or Timings(),
                backend=draft.backend, notice=draft.notice, draft=draft.text)
    text = draft.text
    if not text:
        return Answer(text=refusal, refused=True, refusal_reason=nothing_written, **base)  # type: ignore[arg-type]
    verified = verify_citations(text, hits, relevance, min_relevance, standalone, dated=True)
    answers = bool(verified.citations) and _answers(standalone, verified.text, relevance, min_answer_relevance)
    number = {h.chunk.chunk_id: n for n, h in enumerate(hits, start=1)}
    differ = [d for d in differ if d.hit.chunk.chunk_id in number]
    if differ and answers:
        citations = {c.n: c for c in verified.citations}
        for d in differ:
            n = number[d.hit.chunk.chunk_id]
            citations.setdefault(n, Citation(n, d.hit, d.start, d.end, d.quote, True))
        return Answer(text=verified.text, refused=False,
                      citations=tuple(citations[n] for n in sorted(citations)),
                      dropped_markers=verified.dropped_markers, unsupported_sentences=verified.unsupported_sentences,
                      sources_differ=tuple(differ), **base)  # type: ignore[arg-type]
    if not answers:
        said_so = looks_like_refusal(text) and not verified.unsupported_sentences
        reason = "declined" if said_so else "off_question" if verified.citations else "unsupported"
        return Answer(text=REFUSAL_TEXT if said_so else UNSUPPORTED_TEXT, refused=True, refusal_reason=reason,
                      dropped_markers=verified.dropped_markers,
                      unsupported_sentences=verified.unsupported_sentences, **base)  # type: ignore[arg-type]
    return Answer(text=verified.text, refused=False, citations=verified.citations,
                  dropped_markers=verified.dropped_markers, unsupported_sentences=verified.unsupported_sentences,
                  **base)  # type: ignore[arg-type]


def _answers(question: str, text: str, relevance: Relevance | None, min_answer_relevance: float | None) -> bool:
    """Whether some sentence of the checked answer bears on the question (conclusion lines aside)."""
    if relevance is None or min_answer_relevance is None:
        return True
    sentences = [strip_markers_and_labels(s).strip() for s in answer_sentences(text)]
    if any((is_verdict(s) or restates_question(s, question)) and not looks_like_refusal(s) for s in sentences):
        # "Answer: Yes [1].", "Kevin McCarthy sparked a dayslong stalemate [1]." for "Which GOP leader sparked a
        # dayslong stalemate?": they answer by their form (the cross-encoder rated that one -8.7 for the
        # question); their values and sources were checked.
        return True
    claims = [s for s in sentences if s and not is_conclusion(s) and not looks_like_refusal(s)]
    if not claims:
        return True  # "It rose [1]." is all there is: its values were checked
    return max(relevance(question, claims)) >= min_answer_relevance


ReadFn = Callable[[str, Sequence[Hit]], tuple[Reading, ...]]


def answer_from_hits(question: str, hits: Sequence[Hit], llm: LLM, fallback: LLM, instructions: str = "",
                     read: ReadFn | None = None, relevance: Relevance | None = None,
                     min_relevance: float = 0.0) -> Answer:
    """Write and verify an answer over given passages, without retrieval (the eval's gold-evidence setting).

    `read` chooses what the model reads of each passage (default: whole passages).
    """
    readings = read(question, hits) if read else tuple(Reading.whole(n, h) for n, h in enumerate(hits, start=1))
    draft = Draft(llm.name)
    for _ in draft.write(llm, Prompt(question, readings, instructions), fallback):
        pass
    return assemble_answer(question, question, [r.hit for r in readings], draft,
                           Timings(generate=round(draft.seconds * 1000)), relevance, min_relevance)
