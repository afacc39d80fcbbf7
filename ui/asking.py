"""The one ask path of every front end (`newsdesk ask` and `chat`, the app, POST /ask, /v1/chat/completions):
admit → history → stream → save. A front end makes an `Asker` for whoever asks and only adapts input (flags,
widgets, request bodies, OpenAI messages) and output (a terminal, Streamlit, JSON, server-sent events).

Nothing here shows an error. A question not let through raises `QuestionRefused`, `FiltersRefused` or
`TooManyQuestions` (ui/admission.py), a conversation that is not the caller's `NotFound`, and each front end maps
them once: the CLI's `main`, the app's messages, the API's exception handler (ui/api_deps.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from index.errors import InputError, NotFound
from rag.timeline import with_last_visit
from rag.types import Answer, Filters, Turn
from ui.accounts import LOCAL, Caller
from ui.admission import FiltersRefused, charge, check_question
from ui.conversations import ConversationStore
from ui.settings import ServingSettings

if TYPE_CHECKING:  # the CLI imports this module before it needs the models
    from rag.assistant import AnswerStream, Assistant


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks, and through what.

    Args:
        assistant: gives the Assistant (made on first need: a question the rule refuses costs no index).
        settings: the limits in force (NEWSDESK_API__MAX_QUESTION_CHARS, NEWSDESK_API__ANSWERS_PER_MINUTE).
        caller: who asks: the owner of the conversations read and saved.
        rate_key: whose answers a minute are counted (`ui.admission.rate_key`); None counts none: the CLI, where
            one person asks on their own machine, a process a command (a limit in its memory would mean nothing).
        conversations: where turns are saved; None saves none (the CLI).
    """

    assistant: Callable[[], Assistant]
    settings: ServingSettings
    caller: Caller = LOCAL
    rate_key: str | None = None
    conversations: ConversationStore | None = None

    def admit(self, question: str, *, history: Sequence[Turn] | None = None, conversation_id: str | None = None,
              new_if_missing: bool = False, filters: Filters = Filters(), k: int | None = None,
              as_of: date | None = None, timeline: bool = False, last_visit: date | None = None,
              choices: Sequence[str] = ()) -> Admitted:
        """Let a question through, checking in this order before any search: the question rule, the filters,
        the conversation, the rate (last, so a refused question costs the caller nothing).

        Args:
            question: as the reader asked it (what the turn saves).
            history: the earlier turns the front end holds (the app's session, the chat's, /v1's messages); None:
                the conversation's saved turns, or none without a conversation.
            conversation_id: the caller's conversation the turn is saved to (and read from, without `history`).
            new_if_missing: the app's way: no conversation open, or the open one deleted meanwhile (in another
                tab), starts a new one when the turn is saved; otherwise a missing one is `NotFound` now.
            filters: the reader's hard filters, checked here.
            k, as_of, timeline, choices: as `Assistant.stream` takes them.
            last_visit: the day the reader was last here (the app): "since my last visit" is asked as since it.

        Raises:
            QuestionRefused: the question is empty or too long.
            FiltersRefused: the filters cannot be met.
            NotFound: the conversation is missing or another user's (unless `new_if_missing`).
            TooManyQuestions: the caller is over the rate.
        """
        check_question(question, self.settings.api.max_question_chars)
        checked = filters
        if filters != Filters():  # no filters: nothing to check, and no look-up of the index's outlets
            try:
                checked = self.assistant().check_filters(filters)
            except InputError as e:
                raise FiltersRefused(str(e)) from None
        turns: Sequence[Turn] = () if history is None else history
        if conversation_id is not None and not new_if_missing:
            conversation = self._store().get(conversation_id, owner=self.caller.name)  # 404 before any work
            if history is None:
                turns = conversation.history()
        if self.rate_key is not None:
            charge(self.rate_key, self.settings)
        return Admitted(self, question, tuple(turns), conversation_id, new_if_missing, checked, k, as_of, timeline,
                        last_visit, tuple(choices))

    def ask(self, question: str, *, history: Sequence[Turn] | None = None, conversation_id: str | None = None,
            new_if_missing: bool = False, filters: Filters = Filters(), k: int | None = None,
            as_of: date | None = None, timeline: bool = False, last_visit: date | None = None,
            choices: Sequence[str] = ()) -> Asking:
        """`admit(…).stream()`: admitted, then retrieved and on its way (raises as `admit` does, and as
        `Assistant.stream`)."""
        return self.admit(question, history=history, conversation_id=conversation_id, new_if_missing=new_if_missing,
                          filters=filters, k=k, as_of=as_of, timeline=timeline, last_visit=last_visit,
                          choices=choices).stream()

    def _store(self) -> ConversationStore:
        if self.conversations is None:
            raise TypeError("this Asker saves no conversations: give it a ConversationStore")
        return self.conversations


@dataclass(frozen=True, slots=True)
class Admitted:
    """A question let through; `stream()` starts its answer."""

    asker: Asker
    question: str
    history: tuple[Turn, ...]
    conversation_id: str | None
    new_if_missing: bool
    filters: Filters
    k: int | None
    as_of: date | None
    timeline: bool
    last_visit: date | None
    choices: tuple[str, ...] = ()

    def stream(self) -> Asking:
        """Retrieve for the question (the relevance gate runs here) and start its answer.

        Raises:
            BackendUnavailable: the vector store is unreachable.
        """
        asked = with_last_visit(self.question, self.last_visit)
        stream = self.asker.assistant().stream(asked, history=self.history, k=self.k, as_of=self.as_of,
                                               filters=self.filters, timeline=self.timeline, choices=self.choices)
        return Asking(self, stream)


class Asking:
    """An answer on its way: the raw tokens while it is written, then the verified answer; the turn is saved to
    the conversation (when there is one) as soon as the answer is complete."""

    def __init__(self, admitted: Admitted, stream: AnswerStream) -> None:
        self._admitted = admitted
        self._stream = stream
        self._answer: Answer | None = None
        self.conversation_id = admitted.conversation_id  # where the turn is saved (a new one's id once started)

    @property
    def question(self) -> str:
        return self._admitted.question

    @property
    def refused_by_gate(self) -> bool:
        """Refused before any model ran: no tokens will come, the refusal is the answer's text."""
        return self._stream.refused_by_gate

    def tokens(self) -> Iterator[str]:
        """The raw answer text as it is written (unverified; `answer()` gives the checked version)."""
        return self._stream.tokens()

    def answer(self) -> Answer:
        """The verified answer (finished first if the tokens were not read), saved with its question once.

        Raises:
            NotFound: the conversation was deleted meanwhile (unless `new_if_missing`: a new one is started).
            BackendUnavailable: the catalogue database does not answer.
        """
        if self._answer is None:
            answer = self._stream.answer()
            self._save(Turn(self.question, answer))
            self._answer = answer
        return self._answer

    def _save(self, turn: Turn) -> None:
        a = self._admitted
        if a.conversation_id is None and not a.new_if_missing:
            return
        store, owner = a.asker._store(), a.asker.caller.name
        if a.conversation_id is not None:
            try:
                store.add_turn(a.conversation_id, turn, owner=owner)
                return
            except NotFound:
                if not a.new_if_missing:
                    raise
        self.conversation_id = store.create(owner).conversation_id
        store.add_turn(self.conversation_id, turn, owner=owner)
