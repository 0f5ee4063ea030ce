"""The package graph holds: imports only go down the layers (channels never import each other), no
module imports itself round a cycle, no module is longer than about 400 lines, and the README draws
the graph the code has."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import architecture as arch

pytestmark = pytest.mark.unit

MAX_MODULE_LINES = 420  # "about 400": one screenful more is a judgement call, two are a second module


def test_every_module_belongs_to_a_layer() -> None:
    for module in arch.modules():
        arch.unit(module)  # raises for a module no layer names


def test_no_module_imports_a_layer_above_it_or_another_channel() -> None:
    assert arch.violations(arch.imports()) == []


def test_no_import_cycles() -> None:
    assert arch.cycles(arch.imports()) == []


def test_the_check_sees_an_upward_import_a_sideways_one_and_a_cycle(tmp_path: Path) -> None:
    files = {
        "common/__init__.py": "",
        "retrieval/__init__.py": "",
        "retrieval/low.py": "def f():\n    from bot import high  # hidden in a function\n",
        "bot/__init__.py": "",
        "bot/high.py": "from retrieval import low\n",
        "handlers/__init__.py": "",
        "handlers/api/__init__.py": "from handlers.telegram import x\n",
        "handlers/telegram/__init__.py": "",
        "handlers/telegram/x.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    edges = arch.imports(tmp_path)
    found = arch.violations(edges)
    assert any(v.startswith("retrieval.low imports bot.high") for v in found)
    assert any(v.startswith("handlers.api imports handlers.telegram") for v in found)
    assert arch.cycles(edges) == [["bot.high", "retrieval.low"]]


def test_no_module_is_over_about_400_lines() -> None:
    long = {
        module: lines
        for module, path in arch.modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_the_readme_draws_the_graph_the_code_has() -> None:
    drawn = arch.readme_graph(arch.README.read_text(encoding="utf-8"))
    assert drawn == arch.mermaid(arch.unit_edges(arch.imports())), "run: python -m tests.support.architecture"


def test_no_test_module_imports_another() -> None:
    """Shared helpers live in tests/support; a test module is never a library for another."""
    offenders = []
    for path in sorted((arch.ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(n.startswith("tests.") and n.rsplit(".", 1)[-1].startswith("test_") for n in names):
                offenders.append(str(path.relative_to(arch.ROOT)))
    assert offenders == []
