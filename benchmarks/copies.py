"""Wire-copy grouping: precision and recall of `index.copies.CopyFinder` at several thresholds and shingle sizes.

    .venv/bin/python -m benchmarks.copies [--thresholds 0.3,0.4,...] [--words 3,5]

The set (benchmarks/data/copies.json, ids and labels only; texts are read from ../shared/bench in place):
- the whole benchmark corpus (RealTime QA evidence passages and MultiHop-RAG articles, 1,586 texts): every text
  a different story, so any two grouped are a false positive. The corpus holds no syndicated copies (MinHash at
  0.3 proposes 22 pairs, none a copy, read by hand; no two articles share a title);
- `near_misses`: pairs of corpus texts on the same topic that are different stories or different outlets' own
  reports of one event (labelled by reading them: two reports of the Fox–Dominion settlement, two Diablo 4 build
  guides from one template, …). They are in the corpus already; listed so their own false-positive rate shows;
- `background`: synthetic near-misses: the second text of a near-miss pair followed by the first text's opening
  sentence, as a follow-up story repeats another's lede as background;
- `copies`: wire copies made from corpus texts by the edits reprints make (`EDITS`: an outlet's dateline, a
  credit line, a cut last sentence, house spelling, a few words changed, an added sentence), since the corpus
  has none of its own.

Every text is grouped in one seeded shuffled order, the way ingest does it (each joins the group of its best match
above the threshold, else starts its own); precision and recall count pairs in the same group against the gold
groups (a base text and its copies).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from index.copies import CopyFinder, Signer

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
SET = Path(__file__).resolve().parent / "data" / "copies.json"

_DATELINES = ["WASHINGTON (AP) — ", "LONDON (Reuters) - ", "NEW YORK (AP) — ", "PARIS (AFP) - ", "SYDNEY, Australia — "]
_CREDITS = ["Reporting by Jane Doe; Editing by John Roe", "The Associated Press contributed to this report.",
            "This story was originally published by Reuters.", "Copyright 2023 The Associated Press. "
            "All rights reserved."]
_ADDED = ["Officials did not immediately respond to a request for comment.",
          "The story is developing and will be updated.", "Local reaction was mixed on Tuesday."]
_SPELLING = {"percent": "per cent", "color": "colour", "center": "centre", "organization": "organisation",
             "program": "programme", "defense": "defence", "analyze": "analyse", "Mr.": "Mr", "Dr.": "Dr",
             "favorite": "favourite", "toward": "towards", "labor": "labour", "%": " per cent"}
_SWAPS = ["also", "now", "recently", "reportedly", "on Tuesday"]
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

EDITS = ("dateline", "credit", "trim", "spelling", "words", "added")


def apply_edit(text: str, edit: str, rng: random.Random) -> str:
    """One edit a reprint makes to an agency story."""
    if edit == "dateline":
        return rng.choice(_DATELINES) + text
    if edit == "credit":
        return text + "\n\n" + rng.choice(_CREDITS)
    if edit == "added":
        parts = _SENTENCE.split(text)
        at = rng.randrange(1, len(parts) + 1)
        return " ".join([*parts[:at], rng.choice(_ADDED), *parts[at:]])
    if edit == "trim":
        parts = _SENTENCE.split(text.strip())
        return " ".join(parts[:-1]) if len(parts) >= 3 else text
    if edit == "spelling":
        for us, uk in _SPELLING.items():
            text = text.replace(us, uk)
        return text
    if edit == "words":  # about one word in 30 dropped or replaced
        words = text.split(" ")
        for i in sorted(rng.sample(range(len(words)), max(1, len(words) // 30)), reverse=True):
            if rng.random() < 0.5:
                del words[i]
            else:
                words[i] = rng.choice(_SWAPS)
        return " ".join(words)
    raise ValueError(f"unknown edit {edit!r}")


def make_copy(text: str, edits: Sequence[str], seed: int) -> str:
    rng = random.Random(seed)
    for edit in edits:
        text = apply_edit(text, edit, rng)
    return text


def corpus() -> dict[str, str]:
    """label -> text of every benchmark passage (as `evals.datasets` loads them)."""
    from evals.datasets import load_realtimeqa, multihop_sources

    _, rtqa = load_realtimeqa(BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")
    sources = [*rtqa, *multihop_sources(BENCH / "multihop_rag" / "evidence_articles.json")]
    return {s.label: s.text.strip() for s in sources if s.text and len(s.text.strip()) >= 40}


def make_set(texts: dict[str, str], near_misses: list[dict[str, str]], n_bases: int, seed: int) -> dict[str, Any]:
    """Copy recipes for `n_bases` corpus texts of 40+ words (1-3 copies each, 1-3 edits each)."""
    rng = random.Random(seed)
    bases = rng.sample(sorted(k for k, t in texts.items() if len(t.split()) >= 40), n_bases)
    copies = []
    for base in bases:
        for _ in range(rng.randint(1, 3)):
            copies.append({"base": base, "edits": rng.sample(EDITS, rng.randint(1, 3)), "seed": rng.randrange(10**6)})
    return {"seed": seed, "near_misses": near_misses, "copies": copies}


def evaluate(texts: dict[str, str], spec: dict[str, Any], threshold: float, words: int, seed: int,
             debug: bool = False) -> dict[str, Any]:
    items = dict(texts)
    gold: dict[str, str] = {k: k for k in items}  # text id -> gold group
    for i, c in enumerate(spec["copies"]):
        cid = f"copy:{i}"
        items[cid] = make_copy(texts[c["base"]], c["edits"], c["seed"])
        gold[cid] = c["base"]
    for i, nm in backgrounds(texts, spec):
        bid = f"background:{i}"
        # b's story repeating a's opening sentence as background: a copy of b (one sentence added), not of a.
        items[bid] = texts[nm["b"]] + "\n\n" + _SENTENCE.split(texts[nm["a"]].strip())[0]
        gold[bid] = gold[nm["b"]]
    order = sorted(items)
    random.Random(seed).shuffle(order)
    finder = CopyFinder(threshold, Signer(words))
    head: dict[str, str] = {}
    t = time.perf_counter()
    for aid in order:
        sig = finder.signer.sign(items[aid])
        found = finder.match(sig)
        head[aid] = head[found[0]] if found else aid
        finder.add(aid, sig)
    seconds = time.perf_counter() - t
    predicted = _pairs(head)
    truth = _pairs(gold)
    tp = len(predicted & truth)
    if debug:
        for a, b in sorted(predicted - truth):
            print(f"FP {a} {b}\n  {items[a][:200]!r}\n  {items[b][:200]!r}", file=sys.stderr)
    copies_found = {i: (head[f"copy:{i}"] == head[c["base"]]) for i, c in enumerate(spec["copies"])}
    per_edit = {e: _share([ok for i, ok in copies_found.items() if e in spec["copies"][i]["edits"]]) for e in EDITS}
    nm_grouped = sum(head[nm["a"]] == head[nm["b"]] for nm in spec["near_misses"])
    bg = backgrounds(texts, spec)
    bg_grouped = sum(head[f"background:{i}"] == head[nm["a"]] for i, nm in bg)
    return {"threshold": threshold, "words": words, "precision": round(tp / len(predicted), 4) if predicted else 1.0,
            "recall": round(tp / len(truth), 4), "predicted_pairs": len(predicted), "gold_pairs": len(truth),
            "near_misses_grouped": f"{nm_grouped}/{len(spec['near_misses'])}",
            "background_grouped": f"{bg_grouped}/{len(bg)}",
            "recall_by_edit": per_edit, "ms_per_text": round(1000 * seconds / len(order), 3)}


def backgrounds(texts: dict[str, str], spec: dict[str, Any]) -> list[tuple[int, dict[str, str]]]:
    """The near-miss pairs whose first text's opening sentence is under half its words: a follow-up that repeats
    more than half of a story verbatim is rather a longer version of it."""
    out = []
    for i, nm in enumerate(spec["near_misses"]):
        a = texts[nm["a"]].strip()
        if len(_SENTENCE.split(a)[0].split()) < len(a.split()) / 2:
            out.append((i, nm))
    return out


def _pairs(group: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for aid, g in group.items():
        members.setdefault(g, []).append(aid)
    return {tuple(sorted(p)) for m in members.values() for p in combinations(m, 2)}  # type: ignore[misc]


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9")
    p.add_argument("--words", default="3,5", help="shingle sizes (words) to compare")
    p.add_argument("--seed", type=int, default=7, help="the ingest order's shuffle")
    p.add_argument("--make-set", type=int, default=0, metavar="N",
                   help="rewrite the copy recipes of benchmarks/data/copies.json for N base texts (keeps near_misses)")
    p.add_argument("--show-errors", action="store_true", help="print the false-positive pairs to stderr")
    args = p.parse_args(argv)
    texts = corpus()
    spec = json.loads(SET.read_text(encoding="utf-8"))
    if args.make_set:
        spec = make_set(texts, spec["near_misses"], args.make_set, spec.get("seed", 1))
        SET.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    missing = {x for nm in spec["near_misses"] for x in (nm["a"], nm["b"])} - texts.keys()
    if missing:
        raise SystemExit(f"near-miss ids not in the corpus: {sorted(missing)}")
    rows = [evaluate(texts, spec, float(t), int(w), args.seed, args.show_errors)
            for w in args.words.split(",") for t in args.thresholds.split(",")]
    print(json.dumps({"bench": "copies", "texts": len(texts), "copies": len(spec["copies"]),
                      "near_misses": len(spec["near_misses"]), "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
