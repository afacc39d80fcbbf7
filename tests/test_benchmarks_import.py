"""Every module of benchmarks/ imports against today's packages and answers `--help`, and every import it makes
inside its functions resolves too: the commands docs/BENCHMARKS.md quotes cannot rot unseen. Cheap: nothing past
argument parsing runs, no model loads."""

from __future__ import annotations

import ast
import importlib
import importlib.util

import pytest

from tests.conftest import REPO

MODULES = sorted(p.stem for p in (REPO / "benchmarks").glob("*.py") if p.stem != "__init__")
FIRST_PARTY = {"index", "rag", "ui", "evals", "benchmarks"}


def test_the_benchmarks_folder_is_found() -> None:
    assert len(MODULES) >= 8, MODULES  # bulk, calibrate, embedders, gate, perf, plot, quality, run_all


@pytest.mark.parametrize("name", MODULES)
def test_imports_and_answers_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage:")


@pytest.mark.parametrize("name", MODULES)
def test_imports_inside_functions_resolve(name: str) -> None:
    """Benchmarks import heavy parts lazily, where importing the module does not reach them (calibrate.py called
    rag.evaluate, rag.bench_data and rag.compress for two renovations after they had gone)."""
    tree = ast.parse((REPO / "benchmarks" / f"{name}.py").read_text())
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] in FIRST_PARTY:
            if importlib.util.find_spec(node.module) is None:
                missing.append(node.module)
                continue
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{a.name}" for a in node.names if not hasattr(module, a.name)
                        and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
        elif isinstance(node, ast.Import):
            missing += [a.name for a in node.names if a.name.split(".")[0] in FIRST_PARTY
                        and importlib.util.find_spec(a.name) is None]
    assert not missing, missing
