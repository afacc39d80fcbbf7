"""The `newsdesk` CLI: ingest summary and exit codes, ask --json, list, remove."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, REPO
from ui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_list_ask_remove(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "ingest", str(CORPUS))
    assert code == 0 and "2 added, 0 unchanged, 0 replaced, 0 rejected" in out
    code, out, _ = run(capsys, "ingest", str(CORPUS))
    assert code == 0 and "0 added, 2 unchanged" in out

    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["outlet"] for r in rows} == {"dpa", "The Washington Post"}

    code, out, _ = run(capsys, "ask", "Who met Biden on Monday?", "--json", "--backend", "extractive", "--k", "3")
    answer = json.loads(out)
    assert code == 0 and not answer["refused"] and answer["backend"] == "extractive"
    assert any("Stoltenberg and Biden met on Monday" in c["quote"] for c in answer["citations"])

    code, out, _ = run(capsys, "ask", "What is the capital of Peru?", "--backend", "extractive")
    assert code == 0 and "do not say" in out

    dpa = next(r for r in rows if r["outlet"] == "dpa")
    code, out, _ = run(capsys, "remove", dpa["article_id"])
    assert code == 0 and "removed" in out
    code, out, _ = run(capsys, "list", "--json")
    assert len(json.loads(out)) == 1
    code, _, err = run(capsys, "remove", dpa["article_id"])
    assert code == 1 and "No article with id" in err


def test_ingest_with_rejections_exits_1_and_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "ok.txt").write_text("The harbour in Kiel reopened on Tuesday after a storm closed it for days.")
    code, out, _ = run(capsys, "ingest", str(folder))
    assert code == 1
    assert "empty.txt" in out and "1 added" in out and "1 rejected" in out


def test_unreachable_chroma_server_is_exit_2_naming_the_url(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("NEWSDESK_INDEX__CHROMA_URL", url)
    code, _, err = run(capsys, "list")  # list reads only the catalogue? no: it opens the index, which needs Chroma
    assert code == 2 and url in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("newsdesk")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0 and "ingest" in out.stdout and "ask" in out.stdout


@pytest.mark.parametrize("k", ["500", "-3", "0"])
def test_k_out_of_range_is_exit_2_with_a_message(capsys: pytest.CaptureFixture[str], k: str) -> None:
    code, out, err = run(capsys, "ask", "Who met Biden on Monday?", "--k", k, "--backend", "extractive")
    assert code == 2 and out == ""
    assert f"--k {int(k)}" in err and ("less than or equal to 20" in err or "greater than 0" in err), err


# A fresh interpreter that loads the embedder and the cross-encoder: ~10 s of 2 cores, so `make test` only.
@pytest.mark.slow
def test_ask_json_prints_no_progress_bar(seeded: Path) -> None:
    """A half-second model load is not long work: stderr stays empty, stdout is only the JSON."""
    out = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "Who met Biden on Monday?", "--json",
                          "--backend", "extractive"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["citations"]
    assert out.stderr == "", out.stderr


def test_ask_filters_and_their_errors(capsys: pytest.CaptureFixture[str], seeded: Path) -> None:
    code, out, _ = run(capsys, "ask", "What is the NATO spending target?", "--since", "2025-01-01", "--json",
                       "--backend", "extractive")
    answer = json.loads(out)
    assert code == 0 and {c["outlet"] for c in answer["citations"]} == {"The Washington Post"}
    assert answer["filters"]["since"] == "2025-01-01"
    code, _, err = run(capsys, "ask", "What is the NATO spending target?", "--outlet", "Reuters", "--backend",
                       "extractive")
    assert code == 2 and "Unknown outlet 'Reuters'" in err and "dpa" in err
    code, _, err = run(capsys, "ask", "x", "--since", "2025-01-01", "--until", "2024-01-01")
    assert code == 2 and "is after" in err
    with pytest.raises(SystemExit) as e:  # argparse: not a day
        main(["ask", "x", "--since", "next week"])
    assert e.value.code == 2


# A fresh interpreter that loads the embedder and the cross-encoder: ~10 s of 2 cores, so `make test` only.
@pytest.mark.slow
def test_chat_keeps_the_topic_and_exports(seeded: Path, tmp_path: Path) -> None:
    """`newsdesk chat` in a real process: a follow-up with a new year, a filter, an export."""
    script = ("What is the NATO spending target?\nand in 2020?\n/outlet Reuters\n/export "
              f"{tmp_path / 'chat.md'}\n/quit\n")
    out = subprocess.run([sys.executable, "-m", "ui.cli", "chat", "--backend", "extractive"], input=script,
                         capture_output=True, text=True, cwd=REPO, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "Searched as: What is the NATO spending target in 2020?" in out.stdout
    assert "Unknown outlet 'Reuters'" in out.stdout
    exported = (tmp_path / "chat.md").read_text()
    assert "## 1. What is the NATO spending target?" in exported and "## 2. and in 2020?" in exported
    assert "dpa" in exported and "> " in exported
def test_ingest_mixes_urls_folders_and_bulk_exports(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                     news_site: Any) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "tram.txt").write_text("The council of Lübeck approved a new tram line on Wednesday evening.")
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({"headline": "Ferry record", "fulltext": "Ferries between Kiel and Oslo carried "
                                  "more cars than ever this spring, the operator said."}) + "\n{broken\n")
    code, out, _ = run(capsys, "ingest", news_site.url("/news/harbour"), str(folder), str(export),
                       "--text-field", "fulltext", news_site.url("/to-metadata"))
    assert code == 1
    assert "3 added, 0 unchanged, 0 replaced, 2 rejected" in out
    assert f"{export}:2: is not valid JSON" in out
    assert "rule: no link-local addresses" in out
    code, out, _ = run(capsys, "list", "--json")
    titles = {r["title"] for r in json.loads(out)}
    assert {"Harbour reopens after storm", "Ferry record"} <= titles


def test_ingest_progress_knows_its_total_unless_an_export_streams(tmp_path: Path) -> None:
    """The CLI ingests through `Assistant.add_paths`, as the app and the API add articles (Assistant.add_*): files
    are listed first, so the progress bar has a total; a bulk export's rows are counted as they stream."""
    from index.bulk import BulkFields
    from rag.assistant import Assistant
    from rag.settings import Settings

    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({"fulltext": "Ferries between Kiel and Oslo carried more cars than ever this "
                                               "spring, the operator said."}) + "\n")
    assistant = Assistant.from_settings(Settings())
    totals: list[int | None] = []
    report = assistant.add_paths([CORPUS], lambda done, total, label: totals.append(total))
    assert report.count("added") == 2 and set(totals) == {2}
    totals.clear()
    report = assistant.add_paths([export], lambda done, total, label: totals.append(total),
                                 fields=BulkFields(text="fulltext"))
    assert report.count("added") == 1 and set(totals[:-1]) == {None}  # the last call, when done, says the count


def test_ingest_url_without_the_allow_list_names_the_rule(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch, news_site: Any) -> None:
    monkeypatch.delenv("NEWSDESK_FETCH__ALLOW_HOSTS")
    code, out, _ = run(capsys, "ingest", f"http://localhost:{news_site.port}/news/harbour")
    assert code == 1 and "rule: no loopback addresses" in out
    assert f"NEWSDESK_FETCH__ALLOW_HOSTS=localhost:{news_site.port}" in out


def test_feeds_add_list_watch_remove(capsys: pytest.CaptureFixture[str], news_site: Any) -> None:
    from tests.site import rss_feed

    feed = news_site.add("/feed.rss", rss_feed(news_site, [
        {"title": "Harbour", "link": news_site.url("/news/harbour")},
        {"title": "Secret", "link": news_site.url("/to-private")}]), "application/rss+xml")
    code, out, _ = run(capsys, "feeds", "add", feed)
    assert code == 0 and "following Kiel Daily (2 items now" in out
    code, _, err = run(capsys, "feeds", "add", news_site.url("/news/harbour"))
    assert code == 1 and "is not an RSS or Atom feed" in err
    code, out, _ = run(capsys, "feeds", "list")
    assert f"{feed}  Kiel Daily  (never run)" in out and "1 feed(s)" in out

    code, out, _ = run(capsys, "watch", "--once")
    assert code == 1  # an item was rejected
    assert "Kiel Daily: 1 added, 0 skipped, 1 rejected" in out
    assert "  added     Harbour reopens after storm" in out and "rule: no private addresses" in out
    code, out, _ = run(capsys, "watch", "--once")
    assert "Kiel Daily: 0 added, 1 skipped, 1 rejected" in out  # the rejected item is tried again

    code, out, _ = run(capsys, "feeds", "list", "--json")
    (row,) = json.loads(out)
    assert row["url"] == feed and row["last_run"]["skipped"] == 1 and row["last_run"]["error"] is None
    code, out, _ = run(capsys, "feeds", "remove", feed)
    assert code == 0 and "stopped following Kiel Daily" in out
    code, _, err = run(capsys, "feeds", "remove", feed)
    assert code == 1 and "Not following" in err
    code, out, _ = run(capsys, "watch", "--once")
    assert code == 0 and "No feeds followed" in out
    code, out, _ = run(capsys, "list", "--json")
    assert [r["title"] for r in json.loads(out)] == ["Harbour reopens after storm"]  # articles stay


def test_watch_every_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["watch", "--every", "0"])
    assert e.value.code == 2 and "minutes above 0" in capsys.readouterr().err


def test_an_empty_question_is_refused_before_any_search(capsys: pytest.CaptureFixture[str]) -> None:
    from ui.cli import main

    assert main(["ask", "   "]) == 1
    assert "The question is empty." in capsys.readouterr().err


def test_ask_timeline_prints_a_dated_list_and_json(capsys: pytest.CaptureFixture[str], seeded: Path) -> None:
    code, out, _ = run(capsys, "ask", "NATO defence spending target", "--timeline")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("- 2014: The current 2% target has been in place since 2014 ["), out
    assert any(line.startswith("- 24 Nov 2020: ") for line in lines), out
    assert "Sources:" in out and "dpa" in out and "The Washington Post" in out
    code, out, _ = run(capsys, "ask", "How did NATO's defence spending target change over time?", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["backend"] == "timeline" and not answer["refused"]
    days = [e["date"] for e in answer["timeline"]]
    assert days == sorted(days) and "2020-11-24" in days and "2025-02-12" in days
    numbers = {c["n"] for c in answer["citations"]}
    assert all(set(e["citations"]) <= numbers for e in answer["timeline"])


def test_ask_with_choices_cites_the_one_chosen(capsys: pytest.CaptureFixture[str], seeded: Path) -> None:
    code, out, _ = run(capsys, "ask", "What share of their GDP does the US want NATO allies to spend on defence?",
                       "--choice", "1%", "--choice", "5%", "--backend", "extractive", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["answer"].startswith("Answer: 5% [") and answer["citations"], answer["answer"]
