"""index/, rag/ and evals/ type-check under mypy --strict (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_mypy_strict_on_the_library() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "index", "rag", "evals"], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:]
