"""`newsdesk token …` and `newsdesk history …`, and the bind rule: with no token, `serve` and `ui` listen only on
loopback (exit 2 and how to make a token otherwise; `--insecure-no-auth` starts anyway, with a warning)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.db import catalogue_database
from rag.settings import Settings
from tests.conftest import REPO, free_port, wait_until_up
from tests.ui.test_conversations import make_answer
from ui.accounts import TokenStore
from ui.accounts_cli import is_loopback
from ui.cli import main
from ui.conversations import ConversationStore


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def test_token_add_prints_only_the_token_then_list_and_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    # As a shell script would use it: TOKEN=$(newsdesk token add alice --role reader)
    out = cli("token", "add", "alice", "--role", "reader")
    assert out.returncode == 0 and out.stdout.count("\n") == 1
    token = out.stdout.strip()
    assert token.startswith("nd_") and token not in out.stderr and "shown only now" in out.stderr
    code, listed, _ = run(capsys, "token", "list", "--json")
    assert code == 0 and [(t["name"], t["role"], t["revoked"]) for t in json.loads(listed)] == [
        ("alice", "reader", False)]
    assert token not in listed
    code, _, err = run(capsys, "token", "add", "alice", "--role", "admin")
    assert code == 1 and "exists already" in err
    with pytest.raises(SystemExit):  # argparse: the role must be one of the three
        main(["token", "add", "bob", "--role", "root"])
    capsys.readouterr()
    code, out_text, _ = run(capsys, "token", "revoke", "alice")
    assert code == 0 and "revoked alice" in out_text
    code, text, _ = run(capsys, "token", "list")
    assert "alice" in text and "revoked" in text
    code, _, err = run(capsys, "token", "revoke", "alice")
    assert code == 1 and "No active token named 'alice'" in err


def test_history_list_show_export_delete(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = ConversationStore(catalogue_database(Settings().index))
    mine = store.create("alice")
    store.add_turn(mine.conversation_id, _turn("Who met Biden on Monday?"), owner="alice")
    store.create("bob", "Bob's")
    code, out, _ = run(capsys, "history", "list", "--json")
    assert code == 0 and {c["owner"] for c in json.loads(out)} == {"alice", "bob"}
    code, out, _ = run(capsys, "history", "list", "--user", "alice")
    assert mine.conversation_id in out and "Bob's" not in out and "1 conversation(s)" in out
    code, out, _ = run(capsys, "history", "show", mine.conversation_id)
    assert code == 0 and "Who met Biden on Monday?" in out and "Stoltenberg met Biden on Monday [1]." in out
    code, out, _ = run(capsys, "history", "export", mine.conversation_id)
    assert code == 0 and out.startswith("# Who met Biden on Monday?") and "- [1] **Stoltenberg" in out
    target = tmp_path / "conv.json"
    code, _, err = run(capsys, "history", "export", mine.conversation_id, "--format", "json", "-o", str(target))
    assert code == 0 and json.loads(target.read_text())["turns"][0]["question"] == "Who met Biden on Monday?"
    code, out, _ = run(capsys, "history", "delete", mine.conversation_id)
    assert code == 0
    code, _, err = run(capsys, "history", "show", mine.conversation_id)
    assert code == 1 and "No conversation with id" in err


def _turn(question: str):  # type: ignore[no-untyped-def]
    from rag.types import Turn

    return Turn(question, make_answer(question))


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "192.168.1.2", "example.com", "localhost.evil.com"])
def test_other_hosts(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize("command", ["serve", "ui"])
def test_public_bind_without_tokens_is_refused(command: str) -> None:
    out = cli(command, "--host", "0.0.0.0", "--port", str(free_port()))
    assert out.returncode == 2 and out.stdout == ""
    assert "refusing to listen on 0.0.0.0" in out.stderr and "newsdesk token add" in out.stderr
    assert "--insecure-no-auth" in out.stderr


def test_a_token_lifts_the_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from ui.accounts_cli import bind_refusal

    args = argparse.Namespace(host="0.0.0.0", insecure_no_auth=False, backend=None, k=None)
    assert bind_refusal(args, "serve") is not None
    TokenStore(catalogue_database(Settings().index)).add("ops", "admin")
    assert bind_refusal(args, "serve") is None and capsys.readouterr().err == ""


@pytest.mark.e2e
def test_insecure_no_auth_starts_with_a_warning(tmp_path: Path) -> None:
    port = free_port()
    err = tmp_path / "serve.err"
    with err.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--host", "0.0.0.0", "--port", str(port),
                                 "--insecure-no-auth"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=sink,
                                env=os.environ.copy())
    try:
        wait_until_up(f"http://127.0.0.1:{port}/me", proc, seconds=120)  # /me loads no model
    finally:
        proc.terminate()
        proc.wait(20)
    assert "WARNING: listening on 0.0.0.0 without authentication (--insecure-no-auth)" in err.read_text()
