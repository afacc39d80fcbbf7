"""index/, rag/, ui/, evals/ and benchmarks/ type-check under mypy --strict (settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


# A minute of two CPUs from a cold cache: `make test` runs it, `make check` does not.
@pytest.mark.slow
def test_mypy_strict_on_the_library_the_front_ends_and_the_benchmarks() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "index", "rag", "ui", "evals", "benchmarks"], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:]
