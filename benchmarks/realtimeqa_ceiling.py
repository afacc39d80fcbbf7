"""How many RealTime QA questions the corpus can answer at all: the ceiling of an honest "answered" rate.

    .venv/bin/python -m benchmarks.realtimeqa_ceiling [--offset 0] [--limit 100] [--details DETAILS.jsonl]

A question's right choice counts as stated when a sentence names it by Newsdesk's own naming rule
(`rag.choices.names`: its figures, dates and names, and enough of its words), the rule that decides whether an
answer by choice is cited or refused. For each question of the slice: whether its own evidence passage names
the right choice, and whether any passage of the corpus does (an upper bound: a short choice like "Six" or
"2017" is named by passages about other things). With `--details` (from `newsdesk eval realtimeqa --generate
--details`), the answers of that run are split by the same two columns. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "bench"


def ceiling(path: Path, offset: int, limit: int, details: Path | None) -> dict[str, Any]:
    from evals.suites import RealTimeQA
    from index.chunking import sentence_spans
    from index.keyword import tokenize
    from rag.choices import enough_words, names

    questions, sources = RealTimeQA(path).load()  # the questions `newsdesk eval realtimeqa` asks, in its order

    def split(text: str) -> list[str]:  # the index's own sentences
        return [text[a:b] for a, b in sentence_spans(text)]

    sentences = [s for src in sources for s in split(src.text or "")]
    sentence_words = [set(tokenize(s)) for s in sentences]

    def named_in(text: str, choice: str) -> bool:
        return any(names(choice, s) for s in split(text))

    def named_anywhere(choice: str) -> bool:
        words = set(tokenize(choice))
        return any(enough_words(words, w) and names(choice, s) for s, w in zip(sentences, sentence_words))

    rows: list[tuple[str, bool, bool]] = [(q.question_id, named_in(q.passage, q.answer), named_anywhere(q.answer))
                                          for q in questions[offset:offset + limit]]
    n = len(rows)
    out: dict[str, Any] = {
        "bench": "realtimeqa_ceiling", "file": str(path), "offset": offset, "n": n,
        "own_passage_names_the_answer": sum(own for _, own, _ in rows) / n,
        "some_passage_names_the_answer": sum(anywhere for _, _, anywhere in rows) / n,
    }
    if details is not None:
        saved = [json.loads(line) for line in details.read_text().splitlines() if line.strip()]
        by_id = {str(d["question_id"]): d for d in saved}
        cells: dict[str, dict[str, int]] = {}
        for qid, own, anywhere in rows:
            d = by_id.get(qid)
            if d is None:
                continue
            where = "own" if own else "elsewhere" if anywhere else "nowhere"
            cell = cells.setdefault(where, {"questions": 0, "answered": 0, "right": 0})
            cell["questions"] += 1
            cell["answered"] += int(d.get("refusal_rate") == 0)
            cell["right"] += int(d.get("choice_accuracy") == 1)
        out["run"] = {"details": str(details), "by_where_the_answer_is_named": cells}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.realtimeqa_ceiling", description=__doc__.split("\n")[0])
    p.add_argument("--file", type=Path, default=BENCH / "realtimeqa" / "realtimeqa_2023.jsonl")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--details", type=Path, default=None, help="A `newsdesk eval realtimeqa --generate --details` file.")
    args = p.parse_args(argv)
    print(json.dumps(ceiling(args.file, args.offset, args.limit, args.details), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
