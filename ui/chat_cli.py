"""`newsdesk chat`: a conversation in the terminal, with follow-ups, streamed answers and the sources under each.

Commands inside the chat: /help, /new (forget the conversation), /since DAY, /until DAY, /outlet NAME,
/filters (show them), /clear-filters, /export [FILE] (the conversation as Markdown), /quit.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from index.errors import BackendUnavailable, NewsdeskError

HELP = ("Ask a question, or: /new  /since YYYY-MM-DD  /until YYYY-MM-DD  /outlet NAME  /filters  /clear-filters  "
        "/export [FILE]  /quit")


def run_chat(assistant: Any, stdin: TextIO, stdout: TextIO, as_of: date | None = None, filters: Any = None,
             stream: bool = True) -> int:
    """The read-answer loop; returns the exit code. Answers stream when `stream` (a terminal).

    Questions take the ask path of every front end (ui/asking.py) with the turns so far as history; nothing is
    saved and no rate is counted (one person at their own terminal). A question the rule refuses (too long) is
    an error line, as a backend that is down is, and the chat goes on."""
    from rag.types import Filters, Turn
    from ui.admission import QuestionRefused
    from ui.asking import Asker
    from ui.export import turns_markdown
    from ui.render import answer_to_text
    from ui.settings import ServingSettings

    # The question rule's limit is a serving setting (NEWSDESK_API__*), which the library's settings do not hold.
    settings = assistant.settings
    asker = Asker(lambda: assistant, settings if isinstance(settings, ServingSettings)
                  else ServingSettings(**settings.model_dump(include={"home", "database_url"})))
    turns: list[Turn] = []
    filters = filters or Filters()
    print(f"Newsdesk chat over {len(assistant.articles())} article(s). {HELP}", file=stdout)
    while True:
        print("\n> ", end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return 0
        text = line.strip()
        if not text:
            continue
        if text.startswith("/"):
            command, _, arg = text.partition(" ")
            arg = arg.strip()
            try:
                if command in ("/quit", "/exit"):
                    return 0
                if command == "/help":
                    print(HELP, file=stdout)
                elif command == "/new":
                    turns.clear()
                    print("New conversation.", file=stdout)
                elif command in ("/since", "/until"):
                    day = date.fromisoformat(arg) if arg else None
                    changed = replace(filters, **{command[1:]: day})
                    filters = assistant.check_filters(changed)
                    print(f"Filters: {_show(filters)}", file=stdout)
                elif command == "/outlet":
                    filters = assistant.check_filters(replace(filters, outlets=(*filters.outlets, arg)))
                    print(f"Filters: {_show(filters)}", file=stdout)
                elif command == "/filters":
                    print(f"Filters: {_show(filters)}", file=stdout)
                elif command == "/clear-filters":
                    filters = Filters()
                    print("Filters cleared.", file=stdout)
                elif command == "/export":
                    markdown = turns_markdown(turns, "Newsdesk chat")
                    if arg:
                        Path(arg).write_text(markdown, encoding="utf-8")
                        print(f"Saved {len(turns)} answer(s) to {arg}.", file=stdout)
                    else:
                        print(markdown, file=stdout)
                else:
                    print(f"Unknown command {command}. {HELP}", file=stdout)
            except ValueError as e:
                print(f"error: {e}", file=stdout)
            except NewsdeskError as e:
                print(f"error: {e}", file=stdout)
            continue
        try:
            asking = asker.ask(text, history=turns, as_of=as_of, filters=filters)
            if stream and not asking.refused_by_gate:
                for token in asking.tokens():
                    print(token, end="", file=stdout, flush=True)
                print("\n", file=stdout)
            answer = asking.answer()
        except (BackendUnavailable, QuestionRefused) as e:
            print(f"error: {e}", file=stdout)
            continue
        print(answer_to_text(answer), file=stdout)
        turns.append(Turn(text, answer))


def _show(filters: Any) -> str:
    parts = [f"since {filters.since}" if filters.since else "", f"until {filters.until}" if filters.until else "",
             f"outlets {', '.join(filters.outlets)}" if filters.outlets else ""]
    return "; ".join(p for p in parts if p) or "none"


def cmd_chat(args: argparse.Namespace) -> int:
    from ui.cli_common import filters_from
    from ui.cli_common import make_assistant as _assistant

    assistant = _assistant(args)
    return run_chat(assistant, sys.stdin, sys.stdout, args.as_of, filters_from(assistant, args),
                    stream=sys.stdout.isatty())


def add_chat_parser(sub: Any) -> None:
    from ui.cli_common import add_filter_flags
    from ui.cli_common import iso_day as _iso_day

    s = sub.add_parser("chat", help="A conversation in the terminal: follow-ups, streamed answers, sources.")
    s.add_argument("--backend", choices=["local", "openai", "extractive"], default=None)
    s.add_argument("--k", type=int, default=None, help="Passages given to the LLM.")
    s.add_argument("--as-of", type=_iso_day, default=None, metavar="YYYY-MM-DD",
                   help="Ask as of this day (default: today).")
    add_filter_flags(s)
    s.set_defaults(func=cmd_chat)
