"""`newsdesk token add|list|revoke`, `newsdesk history list|show|delete|export`, and the bind rule that
`newsdesk serve` and `newsdesk ui` apply before they listen.

These run as whoever holds the database (an operator), so `history` sees every user's conversations.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from typing import TYPE_CHECKING, Any

from ui.accounts import ROLES

if TYPE_CHECKING:  # `newsdesk --help` need not load the conversation store
    from ui.stores import Stores



def _stores(args: argparse.Namespace) -> Stores:
    from ui.cli_common import load_settings as _settings
    from ui.stores import stores

    return stores(_settings(args).index)


# --- tokens --------------------------------------------------------------------------------------------
def cmd_token_add(args: argparse.Namespace) -> int:
    token = _stores(args).tokens.add(args.name, args.role)
    print(token)  # only the token on stdout: TOKEN=$(newsdesk token add alice --role reader)
    print(f"Token for {args.name!r} ({args.role}); it is shown only now, keep it somewhere safe.", file=sys.stderr)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    rows = [t.to_dict() for t in _stores(args).tokens.list()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked"] else "active"
        print(f"{r['name'][:32]:32}  {r['role']:6}  created {r['created_at']}  {state}")
    print(f"{len(rows)} token(s)" + ("" if rows else "; authentication is off (only loopback may listen)"))
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    info = _stores(args).tokens.revoke(args.name)
    print(f"revoked {info.name} ({info.role})")
    return 0


# --- conversations -------------------------------------------------------------------------------------
def cmd_history_list(args: argparse.Namespace) -> int:
    rows = [c.to_dict() for c in _stores(args).conversations.list(args.user)]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['id']}  {r['updated_at']}  {r['owner'][:16]:16}  {r['turns']:3} q  {r['title'][:60]}")
    print(f"{len(rows)} conversation(s)")
    return 0


def cmd_history_show(args: argparse.Namespace) -> int:
    conv = _stores(args).conversations.get(args.conversation_id, owner=None)
    if args.json:
        print(json.dumps(conv.to_dict(with_turns=True), indent=2, ensure_ascii=False))
        return 0
    from ui.render import answer_to_text

    print(f"{conv.title}  ({conv.owner}, {len(conv.turns)} question(s))")
    for i, turn in enumerate(conv.history(), 1):
        print(f"\n[{i}] {turn.question}\n")
        print(answer_to_text(turn.answer))
    return 0


def cmd_history_delete(args: argparse.Namespace) -> int:
    _stores(args).conversations.delete(args.conversation_id, owner=None)
    print(f"deleted {args.conversation_id}")
    return 0


def cmd_history_export(args: argparse.Namespace) -> int:
    from ui.export import conversation_json, conversation_markdown

    conv = _stores(args).conversations.get(args.conversation_id, owner=None)
    out = (json.dumps(conversation_json(conv), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
           else conversation_markdown(conv))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(out)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(out)
    return 0


def add_accounts_parsers(sub: Any) -> None:
    t = sub.add_parser("token", help="Access tokens for `serve` and `ui` (once one exists, every caller needs one).")
    ts = t.add_subparsers(dest="token_command", required=True)
    s = ts.add_parser("add", help="Make a token and print it (only the token, on stdout; shown once).")
    s.add_argument("name", help="Who it is for; their conversations are saved under this name.")
    s.add_argument("--role", choices=ROLES, required=True,
                   help="reader: ask and see own conversations; editor: also add and remove articles; "
                        "admin: also manage tokens.")
    s.set_defaults(func=cmd_token_add)
    s = ts.add_parser("list", help="List tokens (names, roles, dates; never the tokens).")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_token_list)
    s = ts.add_parser("revoke", help="Revoke a token at once; the name's conversations stay.")
    s.add_argument("name")
    s.set_defaults(func=cmd_token_revoke)

    h = sub.add_parser("history", help="Saved conversations (every user's: this runs as the database's owner).")
    hs = h.add_subparsers(dest="history_command", required=True)
    s = hs.add_parser("list", help="List conversations, newest first.")
    s.add_argument("--user", default=None, help="Only this user's (a token name, or `local`).")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_history_list)
    s = hs.add_parser("show", help="Show a conversation's questions and answers.")
    s.add_argument("conversation_id")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_history_show)
    s = hs.add_parser("delete", help="Delete a conversation.")
    s.add_argument("conversation_id")
    s.set_defaults(func=cmd_history_delete)
    s = hs.add_parser("export", help="Export a conversation: questions, answers with [n], and their sources.")
    s.add_argument("conversation_id")
    s.add_argument("--format", choices=["md", "json"], default="md")
    s.add_argument("--output", "-o", default=None, help="Write to this file instead of stdout.")
    s.set_defaults(func=cmd_history_export)


# --- who may listen where -------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def bind_refusal(args: argparse.Namespace, command: str) -> str | None:
    """Why `serve`/`ui` must not listen on `args.host` (no token exists and it is not loopback), or None.

    With --insecure-no-auth it warns on stderr instead of refusing.
    """
    if is_loopback(args.host) or _stores(args).tokens.auth_enabled():
        return None
    if args.insecure_no_auth:
        print(f"WARNING: listening on {args.host} without authentication (--insecure-no-auth): anyone who can reach "
              "this port can read, add and remove articles and make tokens.", file=sys.stderr)
        return None
    return (f"refusing to listen on {args.host}: no access token exists yet, so anyone who can reach it could read, "
            "add and remove articles. Create one first, e.g. `newsdesk token add alice --role admin`, and give "
            f"callers tokens of their own (they send `Authorization: Bearer <token>`); then run `newsdesk {command} "
            f"--host {args.host}` again. To listen there without authentication anyway, add --insecure-no-auth.")


def add_bind_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--insecure-no-auth", action="store_true",
                        help="Listen on a non-loopback address although no access token exists (warns).")
