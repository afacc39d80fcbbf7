"""What the `newsdesk` subcommands share (ui/cli.py, ui/chat_cli.py, ui/accounts_cli.py): the settings from the
environment and the flags, the Assistant, the --since/--until/--outlet filter flags, and `UsageError`."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from pydantic import ValidationError

from index.errors import ConfigError, InputError, NewsdeskError
from ui.settings import ServingSettings


class UsageError(NewsdeskError):
    """A flag's value is out of range: exit code 2, as argparse gives for any other bad flag."""


# CLI flags that override a setting: (group, field) -> flag
_FLAGS = {("llm", "backend"): "--backend", ("retrieval", "k"): "--k"}


def load_settings(args: argparse.Namespace) -> ServingSettings:
    """The settings from the environment, with the flags that override one (`--backend`, `--k`) applied."""
    try:
        settings = ServingSettings()
    except ValidationError as e:
        raise ConfigError(_explain(e, env=True)) from None
    overrides: dict[str, dict[str, object]] = {}
    for (group, name), flag in _FLAGS.items():
        value = getattr(args, flag.lstrip("-").replace("-", "_"), None)
        if value is not None:
            overrides.setdefault(group, {})[name] = value
    try:
        return settings.with_overrides(**overrides) if overrides else settings
    except ValidationError as e:
        raise UsageError(_explain(e, env=False)) from None


def _explain(e: ValidationError, env: bool) -> str:
    """'--k 500: Input should be less than or equal to 20', or the NEWSDESK_ variable when it came from there."""
    parts = []
    for err in e.errors():
        loc = [str(x) for x in err["loc"]]
        if env:
            name = "NEWSDESK_" + "__".join(loc).upper()
        else:
            name = _FLAGS.get((e.title.removesuffix("Settings").lower(), loc[-1]), loc[-1]) if loc else "?"
        parts.append(f"{name} {err.get('input')!r}: {err['msg']}")
    return "; ".join(parts)


def make_assistant(args: argparse.Namespace) -> Any:
    """The Assistant for these settings (rag/ loads only when a command needs it)."""
    from rag.assistant import Assistant

    return Assistant.from_settings(load_settings(args))


def iso_day(text: str) -> date:
    """An argparse type: "2025-02-12" -> date(2025, 2, 12)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def filters_from(assistant: Any, args: argparse.Namespace) -> Any:
    """--since/--until/--outlet as checked Filters; a bad combination or an unknown outlet is a usage error."""
    from rag.types import Filters

    try:
        return assistant.check_filters(Filters(args.since, args.until, tuple(args.outlet or ())))
    except InputError as e:
        raise UsageError(str(e)) from None


def add_filter_flags(s: argparse.ArgumentParser) -> None:
    s.add_argument("--since", type=iso_day, default=None, metavar="YYYY-MM-DD",
                   help="Only articles published on or after this day (a hard filter).")
    s.add_argument("--until", type=iso_day, default=None, metavar="YYYY-MM-DD",
                   help="Only articles published on or before this day (a hard filter).")
    s.add_argument("--outlet", action="append", metavar="NAME",
                   help="Only articles of this outlet (repeat for several; `newsdesk list` shows them).")
