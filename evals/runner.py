"""Measure retrieval and answers on MultiHop-RAG and RealTime QA through the normal ingest and ask paths.

Metric functions at the top are pure (tests/quality/test_metrics.py); the runners below build a fresh
index in a temporary home, ask every query and aggregate per-query records into `metrics` and `by_type`.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Sequence

from index.errors import InputError
from index.types import ArticleMeta, Chunk
from rag.bench_data import (NULL_ANSWER, MultiHopQuery, RealTimeQuestion, load_multihop_queries,
                            load_realtimeqa, multihop_sources)
from rag.settings import Settings
from rag.types import Answer, Hit

Retriever = Literal["hybrid", "dense", "bm25", "plain"]
RETRIEVERS: tuple[str, ...] = ("hybrid", "dense", "bm25", "plain")
Progress = Callable[[int, int, str], None]  # (done, total, what)

# Passages retrieved for the ranking metrics; answers still get `settings.retrieval.k` passages.
RANK_DEPTH = 10

# MultiHop-RAG's gold answers are a few words ("Yes", "Sam Bankman-Fried"): the official metric compares
# words, so a whole paragraph would match almost anything. The model is asked for a last short line.
MULTIHOP_ANSWER_SUFFIX = ("\nEnd your reply with a last line of the form 'Answer: ...' giving only the short "
                          "answer (a name, a number, Yes or No), or 'Answer: Insufficient information.' "
                          "if the sources do not say.")


# --- pure metric functions -------------------------------------------------------------------------------
def squash(text: str) -> str:
    """The official MultiHop-RAG normalisation: spaces and newlines deleted, nothing else."""
    return text.replace(" ", "").replace("\n", "")


def facts_in(chunk_text: str, facts: Sequence[str]) -> set[int]:
    """Indices of the gold facts that appear whole in the chunk (official hit rule, case-sensitive)."""
    body = squash(chunk_text)
    return {i for i, fact in enumerate(facts) if squash(fact) and squash(fact) in body}


def rank_metrics(is_hit: Sequence[bool], ks: Sequence[int] = (4, 10), mrr_at: int = 10) -> dict[str, float]:
    """hits@k (1 if any of the first k is a hit) and mrr@mrr_at (1/rank of the first hit, 0 if none)."""
    first = next((r for r, h in enumerate(is_hit, start=1) if h), None)
    out = {f"hits@{k}": float(first is not None and first <= k) for k in ks}
    out[f"mrr@{mrr_at}"] = 1.0 / first if first is not None and first <= mrr_at else 0.0
    return out


def multihop_retrieval_metrics(chunk_texts: Sequence[str], facts: Sequence[str]) -> dict[str, float]:
    """hits@4, hits@10, mrr@10 and evidence_recall@10 of one ranked list against a query's gold facts."""
    facts = list(dict.fromkeys(facts))
    found = [facts_in(t, facts) for t in chunk_texts[:RANK_DEPTH]]
    out = rank_metrics([bool(f) for f in found])
    covered = set().union(*found) if found else set()
    out["evidence_recall@10"] = len(covered) / len(facts) if facts else 0.0
    return out


_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_ANSWER_LINE = re.compile(r"^\W*(?:final\s+|short\s+)?answer\W*:\s*(.+?)\s*$", re.I | re.M)


def final_answer(text: str) -> str:
    """The short answer: the last 'Answer: …' line if there is one, else the first sentence; markers removed.

    The small local model often ignores the answer-line request and answers in full sentences; its first
    sentence carries the answer ("Yes, both …", "… is Sam Bankman-Fried.").
    """
    from index.chunking import sentence_spans

    lines = _ANSWER_LINE.findall(text)
    if lines:
        short = lines[-1]
    else:
        clean = _MARKERS.sub("", text).strip()
        spans = sentence_spans(clean)
        short = clean[spans[0][0]:spans[0][1]] if spans else clean
    return " ".join(_MARKERS.sub("", short).split()).strip(" *_")


def _bare_words(text: str) -> set[str]:
    return {w.strip(".,;:!?\"'()[]*") for w in text.lower().split()} - {""}


def official_correct(prediction: str, gold: str) -> bool:
    """MultiHop-RAG `qa_evaluate.py`: lowercased prediction and gold share a whitespace-separated word.

    Punctuation at the ends of words is dropped first ("Yes," matches "Yes"): the paper's answers were bare
    words, ours come in sentences.
    """
    return bool(_bare_words(prediction) & _bare_words(gold))


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def strict_correct(prediction: str, gold: str) -> bool:
    """The gold answer appears in the prediction as whole words (case and punctuation ignored)."""
    g = _words(gold)
    return bool(g) and re.search(rf"(?<!\w){re.escape(g)}(?!\w)", _words(prediction)) is not None


def is_refusal(answer_text: str, refused: bool) -> bool:
    """The system declined: the gate refused, or the (short) answer says the sources do not tell."""
    from rag.citations import looks_like_refusal

    return refused or looks_like_refusal(final_answer(answer_text)) or \
        final_answer(answer_text).lower().rstrip(".") == NULL_ANSWER.lower().rstrip(".")


def choice_correct(answer_text: str, choices: Sequence[str], right: int) -> bool:
    """RealTime QA: the answer names the right choice and no other (whole words, case-insensitive).

    Occurrences of the right choice are blanked before looking for the others, so a wrong choice that is
    part of the right one ("New York" inside "New York City") does not count against it.
    """
    text = f" {_words(_MARKERS.sub('', answer_text))} "
    target = _words(choices[right])
    if not target or f" {target} " not in text:
        return False
    rest = text.replace(f" {target} ", " | ")
    for i, choice in enumerate(choices):
        w = _words(choice)
        if i == right or not w or w == target:
            continue
        # A wrong choice inside the right one is looked for outside the right one's mentions only.
        if f" {w} " in (rest if f" {w} " in f" {target} " else text):
            return False
    return True


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def aggregate(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, float | None]:
    """Mean of each metric over the records where it applies (None where it does not)."""
    return {k: mean(r.get(k) for r in records) for k in keys}


def refusal_scores(records: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Precision and recall of refusals, taking null queries as the positives."""
    refused = [r for r in records if r.get("refused")]
    nulls = [r for r in records if r.get("is_null")]
    return {"refusal_precision": mean(float(r["is_null"]) for r in refused),
            "refusal_recall": mean(float(r["refused"]) for r in nulls)}


# --- results ----------------------------------------------------------------------------------------------
@dataclass
class EvalResult:
    metrics: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    config: dict[str, Any]
    n: int
    seconds: float
    records: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON of `newsdesk eval … --json` (per-query records are not part of it)."""
        return {"metrics": self.metrics, "by_type": self.by_type, "config": self.config, "n": self.n,
                "seconds": round(self.seconds, 1)}


# --- running ----------------------------------------------------------------------------------------------
class _Ranker:
    """One ranked list per question from our retrievers or the plain LangChain baseline."""

    def __init__(self, assistant: Any, retriever: str, baseline: Any | None) -> None:
        self.assistant, self.retriever, self.baseline = assistant, retriever, baseline

    def rank(self, question: str, as_of: date | None = None) -> list[tuple[str, str]]:
        """(key, text) best first, key = article id (ours) or source label (plain, which knows no dates)."""
        if self.retriever == "plain":
            assert self.baseline is not None
            ranked: list[tuple[str, str]] = self.baseline.search(question, RANK_DEPTH)
            return ranked
        hits = self.assistant.retrieve(question, RANK_DEPTH, as_of).hits
        return [(h.chunk.article_id, h.chunk.text) for h in hits]


def eval_settings(base: Settings, home: Path, retriever: str, backend: str | None) -> Settings:
    """`base` with a fresh home and the chosen retriever; the local model's cache dir is kept."""
    retrieval = base.retrieval.model_copy(update={"mode": retriever if retriever != "plain" else "dense"})
    llm = base.llm.model_copy(update={"backend": backend} if backend else {})
    return Settings(home=home, index=base.index.model_copy(), retrieval=retrieval, llm=llm)


def _config(settings: Settings, retriever: str, generate: bool, gold: bool, limit: int | None,
            dataset: str, extra: dict[str, Any]) -> dict[str, Any]:
    from rag.baseline import PLAIN_CHUNK_OVERLAP, PLAIN_CHUNK_SIZE

    s, i = settings.retrieval, settings.index
    chunking = ({"splitter": "RecursiveCharacterTextSplitter", "chunk_size": PLAIN_CHUNK_SIZE,
                 "chunk_overlap": PLAIN_CHUNK_OVERLAP} if retriever == "plain" else
                {"splitter": "sentences", "chunk_chars": i.chunk_chars, "chunk_overlap": i.chunk_overlap,
                 "embed_title": i.embed_title, "embed_meta": i.embed_meta})
    return {"dataset": dataset, "retriever": retriever, "rank_depth": RANK_DEPTH, "k": s.k,
            "fetch_k": s.fetch_k, "fusion": s.fusion, "rrf_k": s.rrf_k, "dense_weight": s.dense_weight,
            "keyword_weight": s.keyword_weight, "metadata_boost": s.metadata_boost,
            "metadata_fetch": s.metadata_fetch, "recency_days": s.recency_days, "recency_boost": s.recency_boost,
            "min_relevance": s.min_relevance,
            "reranker": str(s.reranker_path) if s.reranker_path else None,
            "models": {"embedding": i.embedding_model,
                       "llm": (settings.llm.backend if generate or gold else None)},
            "chunking": chunking, "generate": generate, "gold_evidence": gold, "limit": limit, **extra}


class _Session:
    """A temporary home with the corpus ingested, our assistant over it, and the plain baseline if asked."""

    def __init__(self, settings: Settings, sources: list[Any], retrievers: Sequence[str],
                 progress: Progress | None, home: Path | None = None) -> None:
        from rag.assistant import Assistant

        self._tmp = None
        if home is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="newsdesk-eval-", ignore_cleanup_errors=True)
            home = Path(self._tmp.name)
        self.settings = eval_settings(settings, home, "hybrid", None)
        self.assistant = Assistant.from_settings(self.settings)
        report = self.assistant.index.ingest(sources, progress)
        if report.rejected:
            raise RuntimeError(f"{len(report.rejected)} benchmark articles were rejected, e.g. "
                               f"{report.rejected[0].reason}")
        self.article_of = {o.source: o.article_id for o in report.outcomes}
        self.n_chunks = self.assistant.index.store.count()
        self.baseline = None
        if "plain" in retrievers:
            from rag.baseline import PlainChromaBaseline

            self.baseline = PlainChromaBaseline(self.assistant.index.embedder, home / "plain")
            self.baseline.add(sources)

    def ranker(self, retriever: str) -> _Ranker:
        return _Ranker(self.assistant_for(retriever, None), retriever, self.baseline)

    def assistant_for(self, retriever: str, backend: str | None) -> Any:
        from rag.assistant import Assistant

        updates: dict[str, dict[str, object]] = {"retrieval": {"mode": "dense" if retriever == "plain" else retriever}}
        if backend:
            updates["llm"] = {"backend": backend}
        return Assistant(self.settings.with_overrides(**updates), self.assistant.index)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


def _hits_from_facts(evidence: Sequence[Any]) -> list[Hit]:
    """The paper's ground-truth-chunk setting: each gold fact is one numbered source."""
    hits = []
    for n, ev in enumerate(evidence):
        chunk = Chunk(f"gold:{n}", f"gold{n}", 0, 0, len(ev.fact), ev.fact)
        meta = ArticleMeta(title=ev.title, outlet=ev.source, published=(ev.published or "")[:10] or None, url=ev.url)
        hits.append(Hit(chunk, meta, 1.0, "gold", 1.0))
    return hits


def _answer_from_hits(assistant: Any, question: str, hits: Sequence[Hit]) -> Answer:
    """Generate over given sources (no retrieval), then verify citations as the assistant does."""
    from rag.chain import build_generation_chain
    from rag.citations import looks_like_refusal, verify_citations
    from rag.extractive import extractive_answer
    from rag.prompts import REFUSAL_TEXT

    llm = assistant.llm
    text = extractive_answer(question, hits) if llm is None else \
        "".join(build_generation_chain(llm).stream({"question": question, "hits": list(hits)})).strip()
    base: dict[str, Any] = dict(question=question, standalone_question=question,
                                backend=assistant.settings.llm.backend, hits=tuple(hits))
    if not text:
        return Answer(text=REFUSAL_TEXT, refused=True, **base)
    v = verify_citations(text, hits)
    refused = looks_like_refusal(final_answer(v.text)) and not any(c.supported for c in v.citations)
    return Answer(text=v.text, refused=refused, citations=v.citations, dropped_markers=v.dropped_markers,
                  unsupported_sentences=v.unsupported_sentences, **base)


MULTIHOP_RETRIEVAL_KEYS = ("hits@4", "hits@10", "mrr@10", "evidence_recall@10")
MULTIHOP_ANSWER_KEYS = ("accuracy_official", "accuracy_strict", "citation_precision", "answer_line_rate")


def run_multihop(queries_path: Path, articles_path: Path, settings: Settings, *, retriever: str = "hybrid",
                 limit: int | None = None, generate: bool = False, gold_evidence: bool = False,
                 backend: str | None = None, progress: Progress | None = None,
                 home: Path | None = None) -> EvalResult:
    """MultiHop-RAG: retrieval metrics (null queries excluded) and, with `generate`/`gold_evidence`, answers.

    Args:
        queries_path: `queries_dev.json`-style file.
        articles_path: `evidence_articles.json`-style file (the corpus).
        settings: base settings; the home is replaced by a temporary one (or `home`).
        retriever: hybrid | dense | bm25 (ours) or plain (LangChain Chroma by hand).
        limit: evaluate the first N queries only.
        generate: also answer each query through the assistant (the `backend`'s LLM).
        gold_evidence: answer from the gold facts instead of retrieved passages.
    """
    return run_multihop_many(queries_path, articles_path, settings, retrievers=[retriever], limit=limit,
                             generate=generate, gold_evidence=gold_evidence, backend=backend,
                             progress=progress, home=home)[retriever]


def run_multihop_many(queries_path: Path, articles_path: Path, settings: Settings, *, retrievers: Sequence[str],
                      limit: int | None = None, generate: bool = False, gold_evidence: bool = False,
                      backend: str | None = None, progress: Progress | None = None,
                      home: Path | None = None) -> dict[str, EvalResult]:
    """`run_multihop` for several retrievers over one ingest (the benchmarks compare them side by side)."""
    queries = load_multihop_queries(queries_path)[: limit or None]
    sources = multihop_sources(articles_path)
    session = _Session(settings, sources, retrievers, _stage(progress, "ingest"), home)
    try:
        return {r: _multihop_one(session, queries, r, limit, generate, gold_evidence, backend, progress)
                for r in retrievers}
    finally:
        session.close()


def _multihop_one(session: _Session, queries: list[MultiHopQuery], retriever: str, limit: int | None,
                  generate: bool, gold: bool, backend: str | None, progress: Progress | None,
                  as_of: str = "question") -> EvalResult:
    t0 = time.perf_counter()
    ranker = session.ranker(retriever)
    answerer = session.assistant_for(retriever, backend) if (generate or gold) else None
    records: list[dict[str, Any]] = []
    for n, q in enumerate(queries):
        if progress:
            progress(n, len(queries), f"{retriever} {q.question_type}")
        facts = [e.fact for e in q.evidence]
        rec: dict[str, Any] = {"query": q.query, "question_type": q.question_type, "is_null": q.is_null,
                               "gold": q.answer}
        ranked = ranker.rank(q.query)
        if not q.is_null:
            rec.update(multihop_retrieval_metrics([t for _, t in ranked], facts))
        if answerer is not None:
            if gold:
                if q.is_null:  # no gold facts to give: the paper's ground-truth setting skips these
                    records.append(rec)
                    continue
                answer = _answer_from_hits(answerer, q.query + MULTIHOP_ANSWER_SUFFIX, _hits_from_facts(q.evidence))
            else:
                # The answer-format line goes to the LLM only: retrieval sees the benchmark's question.
                answer = answerer.ask(q.query, instructions=MULTIHOP_ANSWER_SUFFIX)
            rec.update(_score_multihop_answer(answer, q, facts))
        records.append(rec)
    if progress:
        progress(len(queries), len(queries), retriever)
    keys = list(MULTIHOP_RETRIEVAL_KEYS) + (list(MULTIHOP_ANSWER_KEYS) if answerer is not None else [])
    metrics = aggregate(records, keys)
    if answerer is not None and not gold:
        metrics.update(refusal_scores(records))
    by_type = {t: {**aggregate([r for r in records if r["question_type"] == t], keys),
                   "n": sum(1 for r in records if r["question_type"] == t)}
               for t in sorted({r["question_type"] for r in records})}
    config = _config(session.settings, retriever, generate, gold, limit, "multihop_rag",
                     {"corpus_articles": len(session.article_of), "corpus_chunks": session.n_chunks,
                      "answer_suffix": MULTIHOP_ANSWER_SUFFIX.strip() if answerer is not None else None})
    return EvalResult(metrics, by_type, config, len(records), time.perf_counter() - t0, records)


def _score_multihop_answer(answer: Answer, q: MultiHopQuery, facts: Sequence[str]) -> dict[str, Any]:
    short = final_answer(answer.text)
    refused = is_refusal(answer.text, answer.refused)
    rec: dict[str, Any] = {"answer": answer.text, "short_answer": short, "refused": refused,
                           "answer_line_rate": float(bool(_ANSWER_LINE.search(answer.text))) if not refused else None,
                           "unsupported_sentences": len(answer.unsupported_sentences)}  # details file only
    if q.is_null:
        rec["accuracy_official"] = rec["accuracy_strict"] = float(refused)
        return rec
    rec["accuracy_official"] = float(not refused and official_correct(short, q.answer))
    rec["accuracy_strict"] = float(not refused and strict_correct(short, q.answer))
    shown = [c for c in answer.citations]
    if shown:
        rec["citation_precision"] = sum(bool(facts_in(c.hit.chunk.text, facts)) for c in shown) / len(shown)
    return rec


REALTIME_RETRIEVAL_KEYS = ("hits@1", "hits@4", "hits@10", "mrr@10")
REALTIME_ANSWER_KEYS = ("choice_accuracy", "refusal_rate")


def realtime_instructions(q: RealTimeQuestion) -> str:
    """The four choices and the answer format: for the LLM only, retrieval searches the quiz sentence."""
    return f"Choices: {'; '.join(q.choices)}\nAnswer with the one right choice, named exactly as written."


def realtime_prompt(q: RealTimeQuestion) -> str:
    return f"{q.question}\n{realtime_instructions(q)}"


def run_realtimeqa(path: Path, settings: Settings, *, retriever: str = "hybrid", limit: int | None = None,
                   generate: bool = False, gold_evidence: bool = False, backend: str | None = None,
                   progress: Progress | None = None, home: Path | None = None,
                   as_of: str = "question") -> EvalResult:
    """RealTime QA: hits@1/4/10 and mrr@10 for each question with a passage; with `generate`, choice accuracy.

    `as_of="question"` asks each question as of its quiz date (the benchmark's setting: "this week" means
    that week); "today" asks them all today, which turns the recency prior off for this 2023 corpus.
    """
    return run_realtimeqa_many(path, settings, retrievers=[retriever], limit=limit, generate=generate,
                               gold_evidence=gold_evidence, backend=backend, progress=progress, home=home,
                               as_of=as_of)[retriever]


def run_realtimeqa_many(path: Path, settings: Settings, *, retrievers: Sequence[str], limit: int | None = None,
                        generate: bool = False, gold_evidence: bool = False, backend: str | None = None,
                        progress: Progress | None = None, home: Path | None = None,
                        as_of: str = "question") -> dict[str, EvalResult]:
    if as_of not in ("question", "today"):
        raise InputError(f"as_of must be 'question' or 'today', not {as_of!r}.")
    questions, sources = load_realtimeqa(path)
    # Questions without a passage have no gold to retrieve; they are left out, as the README's corpus is.
    questions = [q for q in questions if q.passage][: limit or None]
    session = _Session(settings, sources, retrievers, _stage(progress, "ingest"), home)
    try:
        return {r: _realtime_one(session, questions, r, limit, generate, gold_evidence, backend, progress, as_of)
                for r in retrievers}
    finally:
        session.close()


def _realtime_one(session: _Session, questions: list[RealTimeQuestion], retriever: str, limit: int | None,
                  generate: bool, gold: bool, backend: str | None, progress: Progress | None,
                  as_of: str = "question") -> EvalResult:
    t0 = time.perf_counter()
    ranker = session.ranker(retriever)
    answerer = session.assistant_for(retriever, backend) if (generate or gold) else None
    records: list[dict[str, Any]] = []
    for n, q in enumerate(questions):
        if progress:
            progress(n, len(questions), f"{retriever} {q.source}")
        gold_key = q.passage_key if retriever == "plain" else session.article_of[q.passage_key]
        day = question_day(q.question_date) if as_of == "question" else None
        ranked = ranker.rank(q.question, day)
        rec: dict[str, Any] = {"question_id": q.question_id, "question": q.question, "question_type": q.source,
                               "gold": q.answer}
        rec.update(rank_metrics([key == gold_key for key, _ in ranked], ks=(1, 4, 10)))
        if answerer is not None:
            if gold:
                answer = _answer_from_hits(answerer, realtime_prompt(q),
                                           _hits_from_facts([_Ev(q.passage, q.question_date)]))
            else:
                answer = answerer.ask(q.question, as_of=day, instructions=realtime_instructions(q))
            rec["answer"] = answer.text
            rec["unsupported_sentences"] = len(answer.unsupported_sentences)  # details file only
            rec["refusal_rate"] = float(answer.refused)
            rec["choice_accuracy"] = float(not answer.refused and choice_correct(answer.text, q.choices,
                                                                                 q.answer_index))
        records.append(rec)
    if progress:
        progress(len(questions), len(questions), retriever)
    keys = list(REALTIME_RETRIEVAL_KEYS) + (list(REALTIME_ANSWER_KEYS) if answerer is not None else [])
    by_type = {t: {**aggregate([r for r in records if r["question_type"] == t], keys),
                   "n": sum(1 for r in records if r["question_type"] == t)}
               for t in sorted({r["question_type"] for r in records})}
    config = _config(session.settings, retriever, generate, gold, limit, "realtimeqa",
                     {"corpus_articles": len(set(session.article_of.values())), "corpus_chunks": session.n_chunks,
                      "prompt": ("question searched; choices and answer format to the LLM only"
                                 if answerer is not None else None),
                      "as_of": as_of if retriever != "plain" else None})
    return EvalResult(aggregate(records, keys), by_type, config, len(records), time.perf_counter() - t0, records)


def question_day(text: str | None) -> date | None:
    """The quiz date ('2023/01/05' or ISO) as a date; None when missing or unreadable."""
    try:
        return date.fromisoformat((text or "")[:10].replace("/", "-"))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Ev:
    fact: str
    published: str | None = None
    title: str = ""
    source: str = ""
    url: str | None = None


def _stage(progress: Progress | None, name: str) -> Progress | None:
    if progress is None:
        return None
    return lambda done, total, what: progress(done, total, f"{name} {what}")
