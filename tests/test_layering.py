"""The package is a pipeline: a module imports only from its own or earlier stages."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "assumption_graph"

STAGES: dict[str, int] = {
    "errors": 0,
    "_lazy": 0,
    "settings": 0,
    "_version": 0,
    "text": 0,
    "quiet": 0,
    "expr": 1,
    "functions": 1,
    "streams": 1,
    "distributions": 1,
    "sampling": 1,
    "copula_matrix": 1,  # numpy-free: check settles most correlation matrices without it
    "keys": 1,
    "business": 1,
    "business.settings": 1,
    "business.labels": 1,
    "business.expand": 4,
    "business.figures": 5,
    "finance": 1,
    "sipmath": 1,  # the HDR generator, the metalog, reading a library
    "sipmath.write": 6,  # a library from a model and a run's samples
    "model": 2,
    "io": 2,
    "estimates_sheet": 2,  # a model's inputs as a sheet to fill in, and reading it back
    "validate": 3,  # its registry, context, core and rule modules by theme alike
    "estimates_update": 3,  # a filled-in sheet written back, the changed model checked
    "compile": 4,
    "results": 5,
    "run": 5,
    "cluster": 5,  # a run's chunks and a portfolio's cases on Dask workers
    "sensitivity": 5,
    "scenario_file": 2,
    "scenarios": 5,
    "scenario_report": 6,
    "portfolio": 5,
    "render": 6,
    "report": 6,
    "plots": 6,
    "html_report": 6,
    "pages": 6,
    "live": 6,
    "serve": 7,
    "export": 6,
    "workbook_formulas": 6,
    "portfolio_report": 6,
    "cli": 7,
}


def stage_of(module: str) -> int:
    """Stage of a module path like 'compile.ir': its own entry, else its package's.

    A package whose modules belong to different stages (``business``) lists each
    of them; the others' sub-modules share their package's stage.
    """
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in STAGES:
            return STAGES[name]
    raise KeyError(module)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:``: imports for type hints, never run."""
    return {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for branch in node.body
        for inner in ast.walk(branch)
    }


def _module_or_package(name: str) -> str:
    """``name`` if it is a module of the package, else the module it is a name of."""
    return name if name in MODULE_NAMES or "." not in name else name.rsplit(".", 1)[0]


def package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported package module) for every import of the package the module runs.

    Imports at any depth count, those inside functions too: a function that
    imports a later stage closes a cycle as surely as a module-level import.
    Imports under ``if TYPE_CHECKING:`` are for type hints only and are skipped.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hints = _type_checking_only(tree)
    here = module_name(path).split(".")
    found = []
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + (1 if path.name == "__init__.py" else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("assumption_graph."):
                target = node.module.removeprefix("assumption_graph.")
            else:
                continue
            found += [
                (node.lineno, _module_or_package(f"{target}.{a.name}".strip(".")))
                for a in node.names
            ]
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
MODULE_NAMES = {module_name(p) for p in MODULES}

# The only imports from a later stage, or back round a cycle: the convenience
# methods users call on an earlier stage's object. Each runs inside the method,
# when the user calls it; a new one must be added here, with its reason.
ALLOWED_FORWARD: dict[tuple[str, str], str] = {
    ("model", "validate"): "Model.check()",
    ("model", "run"): "Model.compile()",
    ("model", "render"): "Model.diagram() and the notebook's picture of a model",
    ("results", "report"): "RunResult's tables and the notebook's display of a result",
    ("results", "plots"): "RunResult.plot",
    ("run", "sensitivity"): "Simulator.sensitivity()",
    ("run", "scenarios"): "Simulator.scenarios()",
}


def import_graph() -> dict[str, dict[str, int]]:
    """Module -> {imported package module: line of the first such import}."""
    graph: dict[str, dict[str, int]] = {}
    for path in MODULES:
        targets = graph.setdefault(module_name(path), {})
        for line, target in package_imports(path):
            if target != module_name(path):
                targets.setdefault(target, line)
    return graph


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_only_backwards(path):
    here = module_name(path)
    own = stage_of(here)
    for line, target in package_imports(path):
        assert stage_of(target) <= own or (here, target) in ALLOWED_FORWARD, (
            f"{path.name}:{line} imports {target} (stage {stage_of(target)}) from stage {own}"
        )


def test_every_allowed_forward_import_exists_and_points_forward_or_round():
    graph = import_graph()
    for (source, target), why in ALLOWED_FORWARD.items():
        assert target in graph.get(source, {}), f"{source} no longer imports {target}: {why}"


def test_the_modules_import_each_other_without_a_cycle():
    graph = nx.DiGraph(
        (source, target)
        for source, targets in import_graph().items()
        for target in targets
        if (source, target) not in ALLOWED_FORWARD
    )
    cycles = list(itertools.islice(nx.simple_cycles(graph), 5))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles)


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


def _raises_from(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).endswith(("Error", "Exception", "Failed")) for base in node.bases)


def test_every_public_exception_lives_in_errors():
    for path in MODULES:
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and _raises_from(node):
                assert node.name.startswith("_"), f"{path.name}: {node.name} belongs in errors.py"
