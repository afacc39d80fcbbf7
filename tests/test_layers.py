"""Imports point down (ui -> rag -> index; evals and benchmarks beside rag) and no modules import each other in a
circle, read from the source: every import, at module level, inside a function or under TYPE_CHECKING. Pure, well
under a second."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from tests.conftest import REPO

PACKAGES = ("index", "rag", "ui", "evals", "benchmarks")
# What each package must never import.
FORBIDDEN = {
    "index": ("rag", "ui", "evals", "benchmarks"),
    "rag": ("ui", "evals", "benchmarks"),
}
# Cycles allowed (a cycle must lie inside one of these to pass): none.
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


def _modules() -> dict[str, ast.Module]:
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
            out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def _imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)  # "from rag import claims"


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imported(tree) if m in modules and m != name} for name, tree in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.add(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, iter(sorted(graph[nxt]))))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return found


def test_imports_point_down() -> None:
    wrong = [f"{name} imports {m}" for name, imported in _graph().items() for m in imported
             if m.split(".")[0] in FORBIDDEN.get(name.split(".")[0], ())]
    assert not wrong, wrong


def test_no_import_cycles() -> None:
    cycles = [sorted(c) for c in _cycles(_graph()) if not any(c <= known for known in KNOWN_CYCLES)]
    assert not cycles, cycles


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}, "f": set()}
    assert _cycles(graph) == [{"a", "b", "c"}]
