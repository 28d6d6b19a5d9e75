"""The package is a pipeline: a module imports only from its own or earlier stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assumption_graph"

STAGES: dict[str, int] = {
    "errors": 0,
    "_lazy": 0,
    "settings": 0,
    "_version": 0,
    "text": 0,
    "expr": 1,
    "streams": 1,
    "distributions": 1,
    "sampling": 1,
    "keys": 1,
    "business": 1,
    "finance": 1,
    "model": 2,
    "io": 2,
    "validate": 3,
    "compile": 4,
    "results": 5,
    "run": 5,
    "case_summary": 5,
    "sensitivity": 5,
    "render": 6,
    "report": 6,
    "plots": 6,
    "html_report": 6,
    "export": 6,
    "cli": 7,
}


def stage_of(module: str) -> int:
    """Stage of a module path like 'compile.ir' (sub-modules share their package's stage)."""
    return STAGES[module.split(".")[0]]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported package module) for every module-level import of the package.

    Imports under ``if TYPE_CHECKING:`` are for type hints only and are skipped;
    imports inside functions are the documented lazy entry points into later
    stages (``Model.check``/``compile``/``diagram``) and are not module level.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    found = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + (1 if path.name == "__init__.py" else 0)]
                target = ".".join([*base, node.module] if node.module else base)
                names = (
                    [target]
                    if node.module
                    else [f"{target}.{a.name}".strip(".") for a in node.names]
                )
                found += [(node.lineno, n) for n in names]
            elif node.module and node.module.startswith("assumption_graph."):
                found.append((node.lineno, node.module.removeprefix("assumption_graph.")))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.removeprefix("assumption_graph."))
                for a in node.names
                if a.name.startswith("assumption_graph.")
            ]
    return found


MODULES = sorted(
    p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py" and p != PACKAGE / "__init__.py"
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_only_backwards(path):
    own = stage_of(module_name(path))
    for line, target in package_imports(path):
        assert stage_of(target) <= own, (
            f"{path.name}:{line} imports {target} (stage {stage_of(target)}) from stage {own}"
        )


def test_every_module_has_a_stage():
    for path in MODULES:
        assert module_name(path).split(".")[0] in STAGES, path


def imported_top_levels(path: Path) -> set[str]:
    """Top-level names of every module the file imports, at any depth of the code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_backend_imports_numba():
    for path in MODULES:
        assert ("numba" in imported_top_levels(path)) == (path.name == "numba_backend.py"), path
