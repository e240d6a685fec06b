"""The package's modules import one another without a cycle.

Every import counts, those inside functions too (a lazy import only hides a cycle
until the function runs); those under ``if TYPE_CHECKING:`` never run and do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _modules() -> dict[str, tuple[Path | None, bool]]:
    """Module name -> (its Python source or None for a compiled module, is a package)."""
    mods: dict[str, tuple[Path | None, bool]] = {}
    for path in sorted((SRC / "crossbook").rglob("*")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if path.suffix == ".py":
            is_pkg = parts[-1] == "__init__"
            mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
        elif path.suffix in (".pyi", ".pyx"):
            mods.setdefault(".".join(parts), (None, False))
    return mods


def _type_checking_only(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for sub in node.body for n in ast.walk(sub))
    return hidden


def _imports(name: str, mods: dict[str, tuple[Path | None, bool]]) -> set[str]:
    path, is_pkg = mods[name]
    if path is None:
        return set()
    tree = ast.parse(path.read_text(), str(path))
    package = name if is_pkg else name.rpartition(".")[0]
    hidden = _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the module pkg.sub; `from mod import name`, mod.
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                         for a in node.names)
    return {m for m in found if m in mods and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                component.append(w)
            if component:
                out.append(sorted([v, *component]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_sees_a_function_level_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    mods = _modules()
    graph = {name: _imports(name, mods) for name in mods}
    assert "crossbook.cli" in graph and graph["crossbook.cli"], "the walk found no imports"
    assert _cycles(graph) == []


def test_analytics_and_arb_never_import_the_command_line() -> None:
    mods = _modules()
    above = {"crossbook.cli", "crossbook.demo", "crossbook.console", "crossbook.plots"}
    for name in mods:
        if name.startswith(("crossbook.analytics", "crossbook.arb")):
            assert not _imports(name, mods) & above, name
