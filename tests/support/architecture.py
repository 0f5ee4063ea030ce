"""The package graph, read from the code: every import (at the top, inside functions, under
TYPE_CHECKING) between applybot's modules, the layers they must respect, and the picture in the
README. `python -m tests.support.architecture` rewrites that picture; tests/test_architecture.py checks it."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from tests.support.paths import ROOT

PACKAGES = ("common", "retrieval", "bot", "handlers")
README = ROOT / "README.md"
GRAPH_START, GRAPH_END = "<!-- package graph: start -->", "<!-- package graph: end -->"

# Bottom to top. A module may import modules of its own unit and of units in lower layers only;
# units in one layer (the channels) do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("common",),
    ("retrieval",),
    ("bot",),
    ("bot.conversation",),
    ("handlers.api", "handlers.telegram", "handlers.staff"),
    ("handlers.app",),
    ("handlers.cli",),
)
# `handlers/__init__.py` only names the channels; it imports nothing.
UNIT_OF_PACKAGE_DOCS = {"handlers": "handlers.api"}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(root: Path = ROOT) -> dict[str, set[str]]:
    """module → the project modules it imports, wherever in the file the import is."""
    known = modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[0] in PACKAGES:
                    target = resolve(name)
                    if target and target != module:
                        edges[module].add(target)
    return edges


def unit(module: str) -> str:
    """The layer unit a module belongs to: the longest unit name that prefixes it."""
    if module in UNIT_OF_PACKAGE_DOCS:
        return UNIT_OF_PACKAGE_DOCS[module]
    best = ""
    for layer in LAYERS:
        for name in layer:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best = name
    if not best:
        raise ValueError(f"{module} belongs to no layer")
    return best


def rank(module: str) -> int:
    name = unit(module)
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Imports that go up a layer or sideways between channels."""
    out = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if unit(source) == unit(target) or rank(target) < rank(source):
                continue
            out.append(f"{source} imports {target} ({unit(source)} → {unit(target)})")
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(set(edges) | {t for ts in edges.values() for t in ts}):
        if node not in index:
            visit(node)
    return found


def unit_edges(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The graph between layer units (what the README draws)."""
    return {
        (unit(source), unit(target))
        for source, targets in edges.items()
        for target in targets
        if unit(source) != unit(target)
    }


def mermaid(pairs: Iterable[tuple[str, str]]) -> str:
    """A Mermaid flowchart, top layer first, one arrow per importing pair of units."""
    lines = ["```mermaid", "flowchart TD"]
    for layer in reversed(LAYERS):
        for name in layer:
            lines.append(f'  {name.replace(".", "_")}["{name}"]')
    for source, target in sorted(pairs, key=lambda p: (-rank(p[0]), p[0], -rank(p[1]), p[1])):
        lines.append(f"  {source.replace('.', '_')} --> {target.replace('.', '_')}")
    lines.append("```")
    return "\n".join(lines)


def readme_graph(text: str) -> str | None:
    match = re.search(re.escape(GRAPH_START) + r"\n(.*?)" + re.escape(GRAPH_END), text, re.S)
    return match.group(1).strip("\n") if match else None


def write_readme_graph() -> None:
    text = README.read_text(encoding="utf-8")
    graph = mermaid(unit_edges(imports()))
    if readme_graph(text) is None:
        raise SystemExit(f"README.md has no {GRAPH_START} … {GRAPH_END} block")
    pattern = re.escape(GRAPH_START) + r"\n.*?" + re.escape(GRAPH_END)
    README.write_text(
        re.sub(pattern, lambda _: f"{GRAPH_START}\n{graph}\n{GRAPH_END}", text, flags=re.S), encoding="utf-8"
    )


if __name__ == "__main__":
    write_readme_graph()
