"""The `newsdesk` command. Turns NewsdeskError into a message and an exit code (1 input/config, 2 backend down or a
flag out of range)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.errors import BackendUnavailable, ConfigError, IndexBusy, NewsdeskError
from ui.accounts_cli import add_accounts_parsers, add_bind_flags, bind_refusal
from ui.admission import FiltersRefused
from ui.cli_common import UsageError, add_filter_flags
from ui.cli_common import iso_day as _iso_day
from ui.cli_common import load_settings as _settings
from ui.cli_common import make_assistant as _assistant

EXIT_INPUT, EXIT_BACKEND = 1, 2


def _progress_bar(desc: str, unit: str = "file") -> tuple[Callable[[int, int | None, str], None], Callable[[], None]]:
    from tqdm import tqdm

    bar: list[Any] = []

    def update(done: int, total: int | None, label: str) -> None:
        if not bar:
            # total None (a bulk export streamed row by row): the bar shows the count and the rate.
            bar.append(tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
                            disable=None))
        if bar[0].total != total and total is not None:
            bar[0].total = total
        bar[0].n = done
        bar[0].set_postfix_str(Path(label).name[:40], refresh=True)

    def close() -> None:
        if bar:
            bar[0].close()

    return update, close


def cmd_ingest(args: argparse.Namespace) -> int:
    from index.bulk import BulkFields

    assistant = _assistant(args)  # nothing loads until a question: adding articles needs only the embedder
    if args.if_empty and (articles := assistant.articles()):
        print(f"{len(articles)} article(s) already indexed; nothing to do (--if-empty).")
        return 0
    fields = BulkFields(text=args.text_field, title=args.title_field, url=args.url_field,
                        published=args.date_field, outlet=args.outlet_field, author=args.author_field)
    update, close = _progress_bar("Indexing", unit="article")
    try:  # the app's and the API's path too (Assistant.add_*)
        report = assistant.add_paths(args.paths, update, on_wait=lambda msg: print(msg, file=sys.stderr),
                                     fields=fields)
    finally:
        close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for o in report.outcomes:
            if o.status == "rejected":
                print(f"rejected  {o.reason}")
            elif o.status == "replaced":
                print(f"replaced  {o.source} ({o.reason})")
        print(report.summary())
    return EXIT_INPUT if report.rejected else 0


def cmd_feeds(args: argparse.Namespace) -> int:
    from index.feeds import read_feed
    from index.news_index import NewsIndex

    settings = _settings(args)
    store = NewsIndex(settings.index).feeds
    if args.feeds_command == "add":
        feed = read_feed(args.url, settings.fetch)  # a typo or a page that is no feed fails now, not at 3 a.m.
        store.add(args.url, feed.title)
        print(f"following {feed.title or args.url} ({len(feed.items)} items now; `newsdesk watch --once` "
              "fetches the new ones)")
    elif args.feeds_command == "remove":
        record = store.remove(args.url)
        print(f"stopped following {record.title or record.url} (its articles stay indexed)")
    else:
        records = store.feeds()
        if args.json:
            print(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
            return 0
        for r in records:
            if r.last_run_at is None:
                last = "never run"
            elif r.last_error:
                last = f"last run {_when(r.last_run_at)}: failed: {r.last_error}"
            else:
                last = (f"last run {_when(r.last_run_at)}: {r.last_added} added, {r.last_skipped} skipped, "
                        f"{r.last_rejected} rejected")
            print(f"{r.url}  {r.title or '-'}  ({last})")
        print(f"{len(records)} feed(s)")
    return 0


def _when(timestamp: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def cmd_alerts(args: argparse.Namespace) -> int:
    """`newsdesk alerts add|list|remove|check`: the local user's alerts (ui/alerts.py)."""
    from index.news_index import NewsIndex
    from ui.accounts import LOCAL_USER
    from ui.alerts import alert_dict, unread_counts

    settings = _settings(args)
    if args.alerts_command == "check":
        from rag.assistant import Assistant

        news = check_alerts(Assistant.from_settings(settings), show=None if args.json else _print_news)
        if args.json:
            print(json.dumps([n.to_dict() for n in news], indent=2, ensure_ascii=False))
        elif not news:
            print('No alerts; add one with `newsdesk alerts add "QUESTION"`.')
        return 0
    index = NewsIndex(settings.index)
    store = index.alerts
    if args.alerts_command == "add":
        from ui.admission import check_question

        check_question(args.question, settings.api.max_question_chars)
        alert = store.add(LOCAL_USER, args.question)
        print(alert.alert_id)  # only the id on stdout: ID=$(newsdesk alerts add "…")
        print(f"Alert {alert.alert_id} saved; `newsdesk alerts check` reports what articles added from now on bring "
              "to its answer.", file=sys.stderr)
    elif args.alerts_command == "remove":
        alert = store.remove(args.alert_id, LOCAL_USER)
        print(f"removed alert {alert.alert_id}  {alert.question}")
    else:
        alerts = store.list(LOCAL_USER)
        unread = unread_counts(index, alerts)
        if args.json:
            print(json.dumps([alert_dict(a, unread[a.alert_id]) for a in alerts], indent=2, ensure_ascii=False))
            return 0
        for a in alerts:
            checked = f"last checked {_when(a.last_checked_at)}" if a.last_checked_at else "never checked"
            print(f"{a.alert_id:4}  {unread[a.alert_id]:3} unread  {checked:28}  {a.question[:70]}")
        print(f"{len(alerts)} alert(s); unread = articles added since the alert's last check")
    return 0


def check_alerts(assistant: Any, show: Callable[[Any], None] | None = None) -> list[Any]:
    """Check each of the local user's alerts (ui/alerts.py `check_alert`), showing each one's news as it comes."""
    from ui.accounts import LOCAL_USER
    from ui.alerts import check_alert

    found = []
    for alert in assistant.index.alerts.list(LOCAL_USER):
        found.append(check_alert(assistant, alert))
        if show is not None:
            show(found[-1])
    return found


def _print_news(news: Any) -> None:
    from ui.render import alert_news_text

    print(alert_news_text(news), flush=True)


def cmd_watch(args: argparse.Namespace) -> int:
    import time

    from index.feeds import run_feeds
    from index.news_index import NewsIndex
    from rag.assistant import Assistant

    settings = _settings(args)
    index = NewsIndex(settings.index)
    assistant = Assistant(settings, index)  # models load at the first alert with articles to read
    while True:
        if not index.feeds.feeds():
            print("No feeds followed; add one with `newsdesk feeds add URL`.")
            return 0
        try:
            runs = run_feeds(index, settings.fetch)
        except (IndexBusy, BackendUnavailable) as e:
            if args.once:
                raise
            # A long-running watcher outlives a busy index or a Chroma restart: say so, try again next time.
            print(f"error: {e}", file=sys.stderr, flush=True)
            runs = []
        for run in runs:
            print(run.summary(), flush=True)
            for title in run.added:
                print(f"  added     {title}")
            for reason in run.rejected:
                print(f"  rejected  {reason}")
        try:  # what the new articles (from the feeds, or added otherwise) bring to each alert
            check_alerts(assistant, show=_print_news)
        except (IndexBusy, BackendUnavailable) as e:
            if args.once:
                raise
            print(f"error: {e}", file=sys.stderr, flush=True)  # the alerts stay unread, for the next run
        if args.once:
            return EXIT_INPUT if any(r.error or r.rejected for r in runs) else 0
        print(f"next run in {args.every:g} min (Ctrl-C stops)", flush=True)
        time.sleep(args.every * 60)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes above 0")
    return value


def cmd_ask(args: argparse.Namespace) -> int:
    """The ask path of every front end (ui/asking.py): a refused question exits 1 before any search (the API
    answers 422), filters that cannot be met exit 2 (`main`); no rate is counted and nothing is saved."""
    from functools import cache

    from rag.types import Filters
    from ui.asking import Asker

    settings = _settings(args)
    asker = Asker(cache(lambda: _assistant(args)), settings)
    asking = asker.ask(args.question, k=args.k, as_of=args.as_of, timeline=args.timeline,
                       filters=Filters(args.since, args.until, tuple(args.outlet or ())), choices=args.choice or ())
    if not args.json and sys.stdout.isatty():
        for token in asking.tokens():
            print(token, end="", flush=True)
        print("\n")
    answer = asking.answer()
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 0
    from ui.render import answer_to_text

    print(answer_to_text(answer))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from index.news_index import NewsIndex

    rows = [r.to_dict() for r in NewsIndex(_settings(args).index).articles()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            copy = f"  (copy of {row['copy_of'][:12]})" if row["copy_of"] else ""
            print(f"{row['article_id'][:12]}  {row['published'] or '----------'}  {(row['outlet'] or '-')[:20]:20}  "
                  f"{row['title'][:70]}{copy}")
        print(f"{len(rows)} article(s)")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.news_index import NewsIndex

    record = NewsIndex(_settings(args).index).remove(args.article_id,
                                                     on_wait=lambda msg: print(msg, file=sys.stderr))
    print(f"removed {record.article.article_id[:12]}  {record.article.meta.title}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from index.doctor import doctor

    report = doctor(_settings(args).index, repair=args.repair)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for p in report.problems:
            print(f"{p.kind}: {p.detail}" + ("  (repaired)" if p.repaired else ""))
        print("ok" if report.ok else f"{len(report.problems)} problem(s)")
    return 0 if report.ok else EXIT_INPUT


def cmd_ui(args: argparse.Namespace) -> int:
    if refusal := bind_refusal(args, "ui"):
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_BACKEND
    app = Path(__file__).with_name("streamlit_app.py")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
           "--server.port", str(args.port), "--server.address", args.host, "--browser.gatherUsageStats", "false"]
    print(f"Newsdesk is starting at http://{args.host}:{args.port}", flush=True)
    os.execv(sys.executable, cmd)
    return 0  # pragma: no cover


def cmd_serve(args: argparse.Namespace) -> int:
    if refusal := bind_refusal(args, "serve"):
        print(f"error: {refusal}", file=sys.stderr)
        return EXIT_BACKEND
    import uvicorn

    from ui.api_deps import log_config

    print(f"Newsdesk HTTP API at http://{args.host}:{args.port}/docs", flush=True)
    # The access log shows paths without query strings, and no log line ever holds a token (ui/api_deps.py).
    uvicorn.run("ui.http:app", host=args.host, port=args.port, log_config=log_config(), log_level="info")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """Assemble and verify the local model once (make install runs this), then prove it runs on this CPU with a
    one-token generation in its own process, so a build that cannot run fails the install, not the first question."""
    from index.embedding import packaged_model_path
    from rag.backends import host_model_process
    from rag.model_files import ensure_gguf

    settings = _settings(args)
    print(f"embedding model: {packaged_model_path(settings.index.embedding_model)}")
    update, close = _progress_bar("Assembling local model")
    try:
        assert settings.llm.model_dir is not None
        path = ensure_gguf(settings.llm.model_dir, lambda done, total: update(done >> 20, total >> 20, "MB"))
    finally:
        close()
    print(f"local LLM: {path} (sha256 verified)")
    if args.no_generate:
        return 0
    process = host_model_process(settings.llm)
    server, started = process.ensure()
    try:
        text = _one_token(server)
    finally:
        if started:
            process.stop()
    print(f"local LLM generates on this CPU: {text!r} (model process pid {server.pid}, llama.cpp CPU code "
          f"{server.cpu_variant or 'unknown'})")
    return 0


def _one_token(server: Any) -> str:
    """One real token from the model process (through the backends' one client), or a ConfigError saying why it
    cannot generate."""
    from rag.backends.llama_server import ALIAS
    from rag.backends.openai_compatible import OpenAICompatibleLLM

    client = OpenAICompatibleLLM(server.base_url, server.api_key, ALIAS, timeout_s=120, max_tokens=1, name="local")
    try:
        return "".join(client.stream([("user", "Say OK.")]))
    except BackendUnavailable as e:
        raise ConfigError(f"The local model loaded but could not generate a token ({e}). "
                          "If its process crashed, llama-cpp-python was built for another CPU: "
                          "`make clean install` rebuilds it (scripts/llama-wheel.sh).") from e


def cmd_model(args: argparse.Namespace) -> int:
    """`newsdesk model start|status|stop`: the embedded model's process on this host, for people who want it
    explicit (front ends start it on demand)."""
    from rag.backends import host_model_process

    process = host_model_process(_settings(args).llm)
    if args.model_command == "start":
        server, started = process.ensure()
        print(json.dumps(server.public()) if args.json else
              f"{'started' if started else 'already running'}: pid {server.pid} at {server.base_url} "
              f"({Path(server.model).name})")
        return 0
    if args.model_command == "stop":
        stopped = process.stop()
        if args.json:
            print(json.dumps({"stopped": stopped.pid if stopped else None}))
        else:
            print(f"stopped pid {stopped.pid}" if stopped else "no model process was running")
        return 0
    running = process.status()
    if args.json:
        print(json.dumps(running.public() if running else {"running": False, "pid": None, "address": None,
                                                           "model": None, "uptime_s": None}))
        return 0 if running else 3
    if running is None:
        print("no model process is running (the first question starts one; `newsdesk model start`)")
        return 3
    d = running.public()
    print(f"running: pid {d['pid']} at {d['base_url']}, {Path(running.model).name}, up {d['uptime_s']} s, "
          f"{d['rss_mb']} MB resident, CPU code {running.cpu_variant or 'unknown'}, "
          f"exits after {running.idle_exit_s:.0f} s idle")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newsdesk", description="Cited answers from your news articles.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="Add articles: files or folders (.txt .md .html .pdf), web pages by URL, and "
                                      "bulk exports (.jsonl .csv .tsv, one article per row).")
    s.add_argument("paths", nargs="+", metavar="PATH_OR_URL")
    s.add_argument("--json", action="store_true", help="Print the report as JSON.")
    for role, default in (("text", "body/text/content/article"), ("title", "title/headline"), ("url", "url/link"),
                          ("date", "published/date/published_at/pubDate"),
                          ("outlet", "outlet/source/site/publisher"), ("author", "author/byline")):
        s.add_argument(f"--{role}-field", default=None, metavar="NAME",
                       help=f"Bulk exports: the key or column holding the {role} (default: the first of {default}).")
    s.add_argument("--if-empty", action="store_true", help="Do nothing if the index already has articles.")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("feeds", help="Follow RSS/Atom feeds (`newsdesk watch` ingests their new items).")
    feeds = s.add_subparsers(dest="feeds_command", required=True)
    f = feeds.add_parser("add", help="Follow a feed (it is read once now to check it).")
    f.add_argument("url")
    f = feeds.add_parser("list", help="The feeds followed and their last run.")
    f.add_argument("--json", action="store_true")
    f = feeds.add_parser("remove", help="Stop following a feed (its articles stay indexed).")
    f.add_argument("url")
    s.set_defaults(func=cmd_feeds)

    s = sub.add_parser("watch", help="Poll the followed feeds and ingest new items, now and every few minutes; then "
                                     "check your alerts and print their news.")
    s.add_argument("--once", action="store_true", help="Poll once and exit (1 if a feed failed or an item was "
                                                       "rejected): for cron.")
    s.add_argument("--every", type=_minutes, default=30.0, metavar="MINUTES", help="Minutes between runs (30).")
    s.set_defaults(func=cmd_watch)

    s = sub.add_parser("alerts", help="Saved questions: what articles added since the last check bring to their "
                                      "answers (`newsdesk watch` checks them after each poll).")
    alerts = s.add_subparsers(dest="alerts_command", required=True)
    a = alerts.add_parser("add", help="Save a question as an alert; prints its id.")
    a.add_argument("question")
    a = alerts.add_parser("list", help="Your alerts with their unread counts (articles added since the last check).")
    a.add_argument("--json", action="store_true")
    a = alerts.add_parser("remove", help="Delete an alert.")
    a.add_argument("alert_id", type=int, metavar="ID")
    a = alerts.add_parser("check", help="For each alert, the new events and figures in the articles added since "
                                        "its last check, cited; marks them read.")
    a.add_argument("--json", action="store_true", help='A list of {"id", "question", "events": [{"date", "event", '
                                                       '"citations": [{"article_id", "title", "outlet", '
                                                       '"published"}]}]}.')
    a.add_argument("--backend", choices=["local", "openai", "extractive"], default=None)
    s.set_defaults(func=cmd_alerts)

    s = sub.add_parser("ask", help="Ask a question; the answer cites its passages.")
    s.add_argument("question")
    s.add_argument("--json", action="store_true", help="Print the Answer contract as JSON.")
    s.add_argument("--k", type=int, default=None, help="Passages given to the LLM.")
    s.add_argument("--backend", choices=["local", "openai", "extractive"], default=None)
    s.add_argument("--as-of", type=_iso_day, default=None, metavar="YYYY-MM-DD",
                   help="Ask as of this day: 'last week' and the recent articles count from it (default: today).")
    s.add_argument("--timeline", action="store_true",
                   help="Answer with the story's dated events, oldest first, each cited (questions that ask how "
                        "something developed get one anyway).")
    s.add_argument("--choice", action="append", metavar="ANSWER",
                   help="An answer to choose from (repeat for each; a quiz): the model picks one, the answer cites "
                        "the passage that names it, or says the articles do not say.")
    add_filter_flags(s)
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("list", help="List indexed articles.")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("remove", help="Remove an article (id or unique id prefix) and all its chunks.")
    s.add_argument("article_id")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("doctor", help="Check the catalogue, the vector store and this home's keyword index.")
    s.add_argument("--json", action="store_true")
    s.add_argument("--repair", action="store_true", help="Fix what can be fixed without losing a complete article.")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("ui", help="Start the Streamlit chat app.")
    s.add_argument("--port", type=int, default=8501)
    s.add_argument("--host", default="127.0.0.1")
    add_bind_flags(s)
    s.set_defaults(func=cmd_ui)

    s = sub.add_parser("serve", help="Start the HTTP API.")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--host", default="127.0.0.1")
    add_bind_flags(s)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("models", help="Assemble and verify the packaged local model, and generate one token with it.")
    s.add_argument("--no-generate", action="store_true", help="Only assemble and check the files.")
    s.set_defaults(func=cmd_models)

    s = sub.add_parser("model", help="The embedded model's process on this host (started on demand by the app, "
                                     "the API and the CLI; shared by them).")
    s.add_argument("model_command", choices=["start", "status", "stop"])
    s.add_argument("--json", action="store_true", help="status: pid, address, model, uptime_s (exit 3 when none "
                                                       "runs); start: the same for the process started or found.")
    s.set_defaults(func=cmd_model)

    from ui.chat_cli import add_chat_parser
    from ui.eval_cli import add_eval_parser

    add_chat_parser(sub)
    add_eval_parser(sub)
    add_accounts_parsers(sub)
    return p


def _log_model_process() -> None:
    """'Starting the embedded model process…' on stderr: a question that starts it says why it takes longer."""
    import logging

    class ToStderr(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"newsdesk: {record.getMessage()}", file=sys.stderr, flush=True)  # today's stderr, not import's

    log = logging.getLogger("newsdesk.model")
    if not log.handlers:
        log.addHandler(ToStderr())
        log.setLevel(logging.INFO)
        log.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # `ingest a.txt --text-field body b.jsonl URL`: argparse leaves paths after an option over; they are paths.
    if extra and args.command == "ingest" and not any(e.startswith("-") for e in extra):
        args.paths += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _log_model_process()
    try:
        return int(args.func(args))
    except (BackendUnavailable, UsageError, FiltersRefused) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BACKEND
    except NewsdeskError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
