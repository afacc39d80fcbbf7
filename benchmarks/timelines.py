"""Timeline answers (issue 20): event precision and recall against a gold file of dated events, and the time to
the first event.

    .venv/bin/python -m benchmarks.timelines [--gold FILE] [--details FILE] [--stories N]
    .venv/bin/python -m benchmarks.timelines --check            # the gold's quotes against the articles; no model
    .venv/bin/python -m benchmarks.timelines --answers FILE     # score saved answers (a --details file) again

The gold (benchmarks/data/timelines.json): stories of MultiHop-RAG's corpus (../shared/bench, Sep–Dec 2023) that
unfold over days across outlets, each with a question, the day it is asked as of, and its dated events, each with
the article sentences that state it. The articles are indexed as the evals index them (evals/runner.py: a fresh
temporary home, the normal ingest), one question warms the assistant up, then each story's question is streamed
with `timeline=True` as of its day: the time to the first event is from the call to the first text `tokens()`
yields; then `answer()` gives the timeline.

A predicted event is correct ("true, correctly dated, cited") when one of its citations is in an article of a gold
event's evidence (matched by URL, else title) and either the cited sentence shares a character span with the gold
sentence in that article's text, or the event's words and the gold sentence's have a Jaccard overlap ≥ 0.5; and
its date equals the gold date at the gold's precision (a month- or year-precision gold event matches any day in
that month or year; a prediction coarser than the gold's precision does not match). Precision = correct predicted
events / predicted events; recall = gold events matched by some correct prediction / gold events. Prints one JSON
object (docs/BENCHMARKS.md quotes it) and a per-story table on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
GOLD = Path(__file__).resolve().parent / "data" / "timelines.json"
WARM_UP = "How did the Binance case against Changpeng Zhao develop?"  # a story that is not in the gold
JACCARD = 0.5
_RANK = {"year": 1, "month": 2, "day": 3}
_WORD = re.compile(r"\w+")
_CITED_KEYS = ("n", "outlet", "published", "title", "url", "start", "end", "quote", "passage", "loose")

Bodies = Mapping[str, str]  # article key (url:… or title:…) -> the article's text as indexed


# --- the articles, as the index holds them --------------------------------------------------------------------
def _title_key(title: str) -> str:
    return "title:" + " ".join(str(title).split())


def article_keys(url: str | None, title: str | None) -> list[str]:
    """The keys an article is found by: its URL, else its title (whitespace collapsed, as the index keeps it)."""
    return ([f"url:{url}"] if url else []) + ([_title_key(title)] if title else [])


def article_bodies(articles: Path) -> dict[str, str]:
    """url:… and title:… -> the text the index holds for each MultiHop-RAG article (parsed as ingest parses it)."""
    from evals.datasets import multihop_sources

    out: dict[str, str] = {}
    for source in multihop_sources(articles):
        article = source.parse(max_bytes=10**8)
        for key in article_keys(article.meta.url, article.meta.title):
            out[key] = article.text
    return out


def _body_of(ref: Mapping[str, Any], bodies: Bodies) -> str | None:
    return next((bodies[k] for k in article_keys(ref.get("url"), ref.get("title")) if k in bodies), None)


# --- matching (pure) -----------------------------------------------------------------------------------------
def same_article(cited: Mapping[str, Any], evidence: Mapping[str, Any]) -> bool:
    """By URL when both have one, else by title."""
    if cited.get("url") and evidence.get("url"):
        return bool(cited["url"] == evidence["url"])
    a, b = cited.get("title"), evidence.get("title")
    return bool(a and b and _title_key(a) == _title_key(b))


def cited_span(cited: Mapping[str, Any], body: str) -> tuple[int, int] | None:
    """Where the cited sentence lies in the article's text: its offsets when they hold its quote, else where the
    quote is found."""
    quote = str(cited.get("quote") or "")
    start, end = cited.get("start"), cited.get("end")
    if isinstance(start, int) and isinstance(end, int) and end > start and body[start:end] == quote:
        return start, end
    at = body.find(quote) if quote else -1
    return (at, at + len(quote)) if at >= 0 else None


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def jaccard(a: str, b: str) -> float:
    x, y = words(a), words(b)
    return len(x & y) / len(x | y) if x | y else 0.0


def supported_by(event: str, cited: Sequence[Mapping[str, Any]], evidence: Mapping[str, Any], bodies: Bodies) -> bool:
    """Is one of the event's citations this gold evidence: the same article, and the same sentence (shared span;
    not for `loose` citations, which are not the event's sentence) or the event's own words close to the gold
    sentence's."""
    for c in cited:
        if not same_article(c, evidence):
            continue
        if jaccard(event, evidence["quote"]) >= JACCARD:
            return True
        body = _body_of(evidence, bodies)
        if body is None or c.get("loose"):
            continue
        gold_at = body.find(evidence["quote"])
        span = cited_span(c, body)
        if gold_at >= 0 and span is not None and span[0] < gold_at + len(evidence["quote"]) and gold_at < span[1]:
            return True
    return False


def date_matches(predicted: str, precision: str, gold: str, gold_precision: str) -> bool:
    """The predicted day equals the gold's at the gold's precision; a coarser prediction never matches."""
    if _RANK.get(precision, 3) < _RANK[gold_precision]:
        return False
    n = {"day": 10, "month": 7, "year": 4}[gold_precision]
    return len(predicted) >= n and predicted[:n] == gold[:n]


def judge_event(predicted: Mapping[str, Any], gold_events: Sequence[Mapping[str, Any]],
                bodies: Bodies) -> dict[str, Any]:
    """Which gold events a predicted event matches, and if none, why: a cause for the report.

    `predicted`: {date, precision, event, cited: [{url, title, start, end, quote}, …]}. Causes: "uncited" (no
    citation), "wrong date" (it states a gold event, dated otherwise; `as_its_sentence` when the date is the one
    its cited sentence alone gives by the issue's rule), "not in gold" (no gold sentence of this story).
    """
    cited = list(predicted.get("cited") or ())
    day, precision, text = str(predicted.get("date") or ""), str(predicted.get("precision") or "day"), \
        str(predicted.get("event") or "")
    stated: list[int] = []
    matched: list[int] = []
    rule_dates: list[str] = []
    for i, g in enumerate(gold_events):
        hits = [ev for ev in g["evidence"] if supported_by(text, cited, ev, bodies)]
        if not hits:
            continue
        stated.append(i)
        rule_dates += [ev["dated"] for ev in hits if ev.get("dated")]
        if date_matches(day, precision, g["date"], g["precision"]):
            matched.append(i)
    out: dict[str, Any] = {"correct": bool(matched), "matched": matched, "states": stated}
    if not matched:
        out["cause"] = "uncited" if not cited else ("wrong date" if stated else "not in gold")
        if stated:
            out["gold_dates"] = sorted({gold_events[i]["date"][:_len(gold_events[i]["precision"])] for i in stated})
            out["as_its_sentence"] = any(day.startswith(d) for d in rule_dates)
    return out


def _len(precision: str) -> int:
    return {"day": 10, "month": 7, "year": 4}[precision]


def score_story(predicted: Sequence[Mapping[str, Any]], story: Mapping[str, Any], bodies: Bodies) -> dict[str, Any]:
    """Each predicted event judged; the story's counts."""
    gold = story["events"]
    judged = [judge_event(p, gold, bodies) for p in predicted]
    found = sorted({i for j in judged for i in j["matched"]})
    correct = sum(j["correct"] for j in judged)
    return {"story": story["id"], "predicted": len(predicted), "correct": correct, "gold": len(gold),
            "recalled": len(found), "precision": _ratio(correct, len(predicted)),
            "recall": _ratio(len(found), len(gold)),
            "judged": judged, "missed": [i for i in range(len(gold)) if i not in found]}


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def predicted_events(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An Answer's JSON (`Answer.to_dict`, plus `sources` for numbers no citation carries) -> the predicted events,
    each with what its numbers cite.

    One source number may carry several citations (one per sentence of that passage an answer uses): an event
    cites those whose quote is its own sentence (one holds the other, or their words overlap by Jaccard >= 0.5).
    When none is, its number's citations and passages are kept `loose`: they name the article (for the words
    check) but their spans are not the event's, so they share no span with a gold sentence on its behalf.
    """
    by_n: dict[int, list[Mapping[str, Any]]] = {}
    for c in answer.get("citations") or ():
        by_n.setdefault(int(c["n"]), []).append(c)
    for s in answer.get("sources") or ():
        by_n.setdefault(int(s["n"]), []).append({**s, "loose": True})
    out = []
    for e in answer.get("timeline") or ():
        text = str(e.get("event") or "")
        cited: list[Mapping[str, Any]] = []
        for n in e.get("citations") or ():
            carried = by_n.get(int(n), [])
            own = [c for c in carried if not c.get("loose") and _same_sentence(text, str(c.get("quote") or ""))]
            cited += own or [{**c, "loose": True} for c in carried]
        out.append({**e, "cited": cited})
    return out


def _same_sentence(event: str, quote: str) -> bool:
    a, b = " ".join(event.split()), " ".join(quote.split())
    return bool(a and b) and (a in b or b in a or jaccard(a, b) >= JACCARD)


def after_as_of(predicted: Mapping[str, Any], as_of: str) -> bool:
    """Every article the event cites was published after the day the question is asked as of (news it could
    not know on that day)."""
    days = [str(c.get("published") or "") for c in predicted.get("cited") or ()]
    return bool(days) and all(d[:10] > as_of for d in days)


def check_gold(gold: Mapping[str, Any], bodies: Bodies) -> list[str]:
    """What is wrong with a gold file: quotes not verbatim in their article, bad dates or precisions, evidence
    published after the story's day."""
    problems = []
    for s in gold["stories"]:
        as_of = date.fromisoformat(s["as_of"])
        for n, e in enumerate(s["events"]):
            where = f"{s['id']} event {n + 1}"
            if e.get("precision") not in _RANK:
                problems.append(f"{where}: precision {e.get('precision')!r}")
            day = date.fromisoformat(e["date"])
            if day > as_of:
                problems.append(f"{where}: {e['date']} is after as_of {s['as_of']}")
            if not e.get("evidence"):
                problems.append(f"{where}: no evidence")
            for ev in e.get("evidence") or ():
                body = _body_of(ev, bodies)
                if body is None:
                    problems.append(f"{where}: no article {ev.get('url') or ev.get('title')!r}")
                elif ev["quote"] not in body:
                    problems.append(f"{where}: quote not in its article: {ev['quote'][:60]!r}")
                if ev.get("published") and ev["published"] > s["as_of"]:
                    problems.append(f"{where}: evidence published {ev['published']}, after as_of")
    return problems


# --- running the assistant ------------------------------------------------------------------------------------
def answer_record(answer: Any) -> dict[str, Any]:
    """An Answer's JSON, with the passages of source numbers no citation carries (`sources`)."""
    d: dict[str, Any] = answer.to_dict()
    carried = {c.n for c in answer.citations}
    wanted = {n for e in answer.timeline for n in e.citations} - carried
    d["sources"] = [{"n": n, "url": h.meta.url, "title": h.meta.title, "outlet": h.meta.outlet or None,
                     "published": h.meta.published, "start": h.chunk.start, "end": h.chunk.end,
                     "quote": h.chunk.text, "passage": True}
                    for n, h in enumerate(answer.hits, start=1) if n in wanted]
    return d


def run_stories(stories: Sequence[Mapping[str, Any]], articles: Path, progress: bool = True) -> list[dict[str, Any]]:
    """Index the articles in a fresh home, warm up, then each story's question: its answer and time to first event."""
    from evals.datasets import multihop_sources
    from evals.runner import _Session  # the evals' fresh home and ingest, reused as they are
    from rag.settings import Settings

    t = time.perf_counter()
    session = _Session(Settings(), multihop_sources(articles), (), None)
    try:
        assistant = session.assistant
        _log(f"indexed {len(set(session.article_of.values()))} articles in {time.perf_counter() - t:.0f} s", progress)
        t = time.perf_counter()
        _consume(assistant, WARM_UP, None)
        _log(f"warm-up {time.perf_counter() - t:.1f} s", progress)
        out = []
        for s in stories:
            first_ms, total_ms, answer = _consume(assistant, s["question"], date.fromisoformat(s["as_of"]))
            out.append({"story": s["id"], "question": s["question"], "as_of": s["as_of"], "first_event_ms": first_ms,
                        "answer_ms": total_ms, "answer": answer_record(answer)})
            _log(f"{s['id']}: first event {first_ms} ms, answer {total_ms} ms, {len(answer.timeline)} events", progress)
        return out
    finally:
        session.close()


def _consume(assistant: Any, question: str, as_of: date | None) -> tuple[int | None, int, Any]:
    t = time.perf_counter()
    stream = assistant.stream(question, timeline=True, as_of=as_of)
    first = None
    for token in stream.tokens():
        if first is None and token:
            first = time.perf_counter()
    answer = stream.answer()
    end = time.perf_counter()
    return (round((first - t) * 1000) if first else None), round((end - t) * 1000), answer


def _log(message: str, on: bool) -> None:
    if on:
        print(message, file=sys.stderr, flush=True)


# --- the report -----------------------------------------------------------------------------------------------
def score_runs(runs: Sequence[Mapping[str, Any]], gold: Mapping[str, Any], bodies: Bodies) -> tuple[dict[str, Any],
                                                                                                 list[dict[str, Any]]]:
    """The pooled and per-story numbers, and the per-event detail lines."""
    stories = {s["id"]: s for s in gold["stories"]}
    rows, details = [], []
    for run in runs:
        story = stories[run["story"]]
        answer = run["answer"]
        predicted = predicted_events(answer)
        scored = score_story(predicted, story, bodies)
        rows.append({k: v for k, v in scored.items() if k not in ("judged", "missed")}
                    | {"refused": bool(answer.get("refused")), "first_event_ms": run.get("first_event_ms"),
                       "answer_ms": run.get("answer_ms")})
        details.append({"kind": "story", **{k: run.get(k) for k in ("story", "question", "as_of", "first_event_ms",
                                                                     "answer_ms")}, "answer": answer})
        for p, j in zip(predicted, scored["judged"]):
            details.append({"kind": "event", "story": story["id"], "date": p.get("date"),
                            "precision": p.get("precision"), "dated_by": p.get("dated_by"), "before": p.get("before"),
                            "event": p.get("event"), "citations": p.get("citations"),
                            "cited": [{k: c[k] for k in _CITED_KEYS if c.get(k) is not None} for c in p["cited"]],
                            "after_as_of": after_as_of(p, story["as_of"]), **j})
        for i in scored["missed"]:
            g = story["events"][i]
            details.append({"kind": "missed", "story": story["id"], "gold": i, "date": g["date"],
                            "precision": g["precision"], "event": g["event"]})
    firsts = [r["first_event_ms"] for r in rows if r["first_event_ms"] is not None]
    predicted_n, correct = sum(r["predicted"] for r in rows), sum(r["correct"] for r in rows)
    gold_n, recalled = sum(r["gold"] for r in rows), sum(r["recalled"] for r in rows)
    causes: dict[str, int] = {}
    for d in details:
        if d["kind"] == "event" and not d["correct"]:
            causes[d["cause"]] = causes.get(d["cause"], 0) + 1
    summary = {"precision": _ratio(correct, predicted_n), "recall": _ratio(recalled, gold_n),
               "events_predicted": predicted_n, "events_correct": correct, "gold_events": gold_n,
               "gold_recalled": recalled, "stories": len(rows), "refused": sum(r["refused"] for r in rows),
               "empty_timelines": sum(r["predicted"] == 0 for r in rows), "wrong_by_cause": causes,
               "events_citing_after_as_of": sum(1 for d in details if d["kind"] == "event" and d["after_as_of"]),
               "first_event_ms_median": round(statistics.median(firsts)) if firsts else None,
               "first_event_ms_max": max(firsts) if firsts else None, "per_story": rows}
    return summary, details


def table(summary: Mapping[str, Any]) -> str:
    """The per-story table, in Markdown."""
    lines = ["| story | predicted | correct | precision | gold | recalled | recall | first event |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in summary["per_story"]:
        first = "refused" if r["refused"] else (f"{r['first_event_ms'] / 1000:.1f} s"
                                                if r["first_event_ms"] is not None else "–")
        lines.append(f"| {r['story']} | {r['predicted']} | {r['correct']} | {_fmt(r['precision'])} | {r['gold']} | "
                     f"{r['recalled']} | {_fmt(r['recall'])} | {first} |")
    return "\n".join(lines)


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
               "")
    return {"cpu": cpu, "cores": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}


def _lines(path: str) -> Iterable[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", type=Path, default=GOLD, help="the gold stories (default: benchmarks/data/timelines.json)")
    p.add_argument("--bench", type=Path, default=BENCH, help="the benchmark data folder (../shared/bench)")
    p.add_argument("--details", type=Path, default=None,
                   help="write JSON lines: each story's answer, each predicted event judged, each gold event missed")
    p.add_argument("--stories", type=int, default=None, metavar="N", help="only the first N stories")
    p.add_argument("--answers", type=Path, default=None,
                   help="score the answers a --details file saved, instead of asking (no index, no model)")
    p.add_argument("--check", action="store_true", help="check the gold's quotes and dates against the articles only")
    args = p.parse_args(argv)
    gold = json.loads(args.gold.read_text(encoding="utf-8"))
    bodies = article_bodies(args.bench / "multihop_rag" / "evidence_articles.json")
    problems = check_gold(gold, bodies)
    if args.check or problems:
        for line in problems:
            print(line, file=sys.stderr)
        n = sum(len(s["events"]) for s in gold["stories"])
        q = sum(len(e["evidence"]) for s in gold["stories"] for e in s["events"])
        print(json.dumps({"bench": "timelines", "check": "failed" if problems else "ok",
                          "stories": len(gold["stories"]), "events": n, "evidence": q, "problems": len(problems)}))
        return 1 if problems else 0
    stories = gold["stories"][: args.stories or None]
    if args.answers:
        saved = [json.loads(line) for line in args.answers.read_text().splitlines() if line.strip()]
        wanted = {s["id"] for s in stories}
        runs = [r for r in saved if r.get("kind", "story") == "story" and r["story"] in wanted]
    else:
        runs = run_stories(stories, args.bench / "multihop_rag" / "evidence_articles.json")
    summary, details = score_runs(runs, gold, bodies)
    if args.details:
        args.details.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details), encoding="utf-8")
    print(table(summary), file=sys.stderr)
    print(json.dumps({"bench": "timelines", "gold": str(args.gold), "machine": _machine(),
                      "replayed": str(args.answers) if args.answers else None, **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
