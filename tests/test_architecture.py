"""The package's architecture: layers import only downward, no import circles, ``import sim`` is light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
LAYERS = ["inputs", "model", "pictures", "evidence", "experiments", "cli"]
"""Bottom to top: a module may import its own layer or those below it, never above."""
MAX_LINES = 300
LONG_OK = "Longer than 300 lines because"
"""A module over MAX_LINES states why in its docstring, starting with these words."""


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(SIM.parent).with_suffix("").parts).removesuffix(".__init__"): p
        for p in SIM.rglob("*.py")
    }


def _nodes(tree: ast.AST, typing: bool):
    """Every node, leaving out ``if TYPE_CHECKING:`` blocks unless ``typing``."""
    for node in ast.iter_child_nodes(tree):
        if not typing and isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _nodes(node, typing)


def _imports(path: Path, typing: bool = True) -> set[str]:
    """Every sim module the file imports, at module level or inside functions.

    Args:
        typing: count imports made only for type checkers (``if TYPE_CHECKING:``), which run never.
    """
    found = set()
    for node in _nodes(ast.parse(path.read_text()), typing):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sim")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    modules = _modules()
    return {m for m in found if m in modules}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_module_sits_in_a_layer():
    loose = [m for m in _modules() if _layer(m) is None and m not in {"sim", "sim.__main__"}]
    assert not loose, f"modules outside the layers {LAYERS}: {loose}"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_only_run_downward(module):
    mine = _layer(module)
    if mine is None:
        return  # sim and sim.__main__ sit on top
    upward = [m for m in _imports(_modules()[module]) if (_layer(m) or 0) > mine]
    assert not upward, f"{module} ({LAYERS[mine]}) imports from a layer above: {upward}"


def test_no_import_circles_between_modules():
    modules = _modules()
    graph = {
        m: {i for i in _imports(p, typing=False) if i != m and not m.startswith(i + ".")}
        for m, p in modules.items()
    }
    graph = {m: {i for i in deps if not (modules[i].name == "__init__.py")} for m, deps in graph.items()}
    seen, stack, cycles = set(), [], []

    def visit(m):
        if m in stack:
            cycles.append(stack[stack.index(m) :] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in graph[m]:
            visit(d)
        stack.pop()

    for m in graph:
        visit(m)
    assert not cycles, f"import circles: {cycles}"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_modules_are_short_or_say_why(module):
    path = _modules()[module]
    n = len(path.read_text().splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert n <= MAX_LINES or LONG_OK in doc, f"{path.relative_to(SIM.parent)}: {n} lines and no reason"


def test_a_negative_control_upward_import_is_caught(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from sim.cli.main import main\n")
    assert "sim.cli.main" in _imports(bad) and _layer("sim.cli.main") > _layer("sim.model.rules")


@pytest.mark.parametrize(
    "statement", ["import sim", "import sim.cli.main", "import sim.model.rules", "import sim.inputs.params"]
)
def test_light_imports_load_neither_mesa_nor_pandas(statement):
    heavy = "('mesa', 'pandas', 'matplotlib')"
    code = f"{statement}; import sys; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"{statement} loads {out.strip()}"


def test_public_names_still_import():
    code = "from sim import load_scenario, run_scenario, summarise, DivestmentModel, Scenario; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "ok"
