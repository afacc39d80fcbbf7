"""The packaged cross-encoder: relevant above irrelevant, scores independent of batching, short inputs stay short."""

from __future__ import annotations

import threading

import pytest

from rag.rerank import CrossEncoder

NATO_Q = "What defence-spending target do NATO allies have, and what does Trump want?"
NATO_2020 = ("NATO allies committed in 2014 to move towards spending 2% of their GDP on defence within a "
             "decade, and Trump has long complained that most of them do not.")
NATO_2025 = "Trump is pushing NATO allies to raise their defence spending to 5% of GDP, up from the 2% target."
UNRELATED = "The Lima stock exchange closed higher on Tuesday after a quiet session."


@pytest.fixture(scope="module")
def ce() -> CrossEncoder:
    return CrossEncoder()


def test_relevant_sentence_scores_positive_irrelevant_very_negative(ce: CrossEncoder) -> None:
    peru = ce.score("What is the capital of Peru?", [NATO_2020, NATO_2025])
    assert all(s < -8 for s in peru), peru  # ~ -11
    nato = ce.score(NATO_Q, [NATO_2020, NATO_2025, UNRELATED])
    assert nato[0] > 0 and nato[1] > 0, nato
    assert nato[2] < -5 and min(nato[:2]) > nato[2] + 8, nato


def test_scores_barely_depend_on_batching_and_not_on_order(ce: CrossEncoder) -> None:
    # Pad tokens are masked, but the int8 model quantises activations per run, so batch-mates move a pair's
    # logit a little (measured up to ~0.4 on a scale of -11..+8); the order of the texts changes nothing.
    texts = [NATO_2025, UNRELATED * 8, NATO_2020, "Yes."]
    together = ce.score(NATO_Q, texts)
    alone = [ce.score(NATO_Q, [t])[0] for t in texts]
    assert max(abs(a - b) for a, b in zip(together, alone)) < 0.75
    assert ce.score(NATO_Q, texts[::-1]) == pytest.approx(together[::-1], abs=1e-4)
    assert ce.score(NATO_Q, []) == []


def test_pairs_are_not_padded_and_are_truncated(ce: CrossEncoder) -> None:
    (short,) = ce.encode_pairs("Who met Biden?", ["Stoltenberg met Biden on Monday."])
    assert len(short) < 20  # [CLS] q [SEP] text [SEP], not 512 tokens
    (long,) = ce.encode_pairs(NATO_Q, [NATO_2020 * 30])
    assert len(long) == ce.max_length == 256


def test_shared_instance_is_thread_safe(ce: CrossEncoder) -> None:
    expected = ce.score(NATO_Q, [NATO_2020, UNRELATED])
    results: list[list[float]] = []
    threads = [threading.Thread(target=lambda: results.append(ce.score(NATO_Q, [NATO_2020, UNRELATED])))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == pytest.approx(expected, abs=1e-4) for r in results)
