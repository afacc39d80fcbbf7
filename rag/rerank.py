"""Optional cross-encoder reranking from a local directory (no PyPI package ships such weights)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from index.errors import ConfigError
from rag.types import Hit


class CrossEncoderReranker:
    def __init__(self, path: Path) -> None:
        if not (path / "config.json").is_file():
            raise ConfigError(f"NEWSDESK_RETRIEVAL__RERANKER_PATH={path} holds no cross-encoder (no config.json).")
        from sentence_transformers import CrossEncoder

        self._model = CrossEncoder(str(path), device="cpu", local_files_only=True)

    def rerank(self, question: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        if not hits:
            return []
        scores = self._model.predict([(question, h.chunk.text) for h in hits], show_progress_bar=False)
        ranked = sorted(zip(hits, scores), key=lambda hs: -float(hs[1]))
        return [dataclasses.replace(h, score=float(s), stage="reranked") for h, s in ranked[:k]]
