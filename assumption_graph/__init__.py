"""assumption_graph: assumption diagrams for business cases.

Define a diagram (file or code) → check it → compile it to a numba kernel →
run Monte Carlo → summarise → draw and report.

>>> import assumption_graph as ag
>>> m = ag.Model("demo")
>>> m.add("hours", estimate=[1200, 1500, 2100], unit="h", source="offer")
>>> m.add("rate", value=0.95, unit="tkr/h", source="contract")
>>> m.add("consultancy", kind="main", formula="hours * rate", unit="tkr")
>>> m.check().ok
True
>>> round(m.compile().run(n=10_000, seed=1)["consultancy"].expected, 6)
1425.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# Where each public name lives. The modules are imported on first use, so that
# the command line can set up its signal handling before numpy and the rest load.
_HOMES = {
    "discrete": "distributions",
    "discrete_values": "distributions",
    "fixed": "distributions",
    "lognormal": "distributions",
    "metalog": "distributions",
    "normal": "distributions",
    "pert": "distributions",
    "random": "distributions",
    "risk_event": "distributions",
    "triangle": "distributions",
    "uniform": "distributions",
    "uniform_values": "distributions",
    "AssumptionGraphError": "errors",
    "CheckFailed": "errors",
    "Diagnostic": "errors",
    "FormulaError": "errors",
    "ModelError": "errors",
    "ModelFileError": "errors",
    "OutputError": "errors",
    "RenderError": "errors",
    "RunError": "errors",
    "export_workbook": "export",
    "load": "io",
    "loads": "io",
    "read_model": "io",
    "save": "io",
    "Model": "model",
    "Node": "model",
    "PortfolioResult": "portfolio",
    "run_portfolio": "portfolio",
    "NodeSummary": "results",
    "RunResult": "results",
    "Simulator": "run",
    "simulate": "run",
    "ScenarioResult": "scenarios",
    "SensitivityResult": "sensitivity",
    "CheckedModel": "validate",
    "check": "validate",
}

if TYPE_CHECKING:  # the same names, for type checkers
    from .distributions import (
        discrete,
        discrete_values,
        fixed,
        lognormal,
        metalog,
        normal,
        pert,
        random,
        risk_event,
        triangle,
        uniform,
        uniform_values,
    )
    from .errors import (
        AssumptionGraphError,
        CheckFailed,
        Diagnostic,
        FormulaError,
        ModelError,
        ModelFileError,
        OutputError,
        RenderError,
        RunError,
    )
    from .export import export_workbook
    from .io import load, loads, read_model, save
    from .model import Model, Node
    from .portfolio import PortfolioResult, run_portfolio
    from .results import NodeSummary, RunResult
    from .run import Simulator, simulate
    from .scenarios import ScenarioResult
    from .sensitivity import SensitivityResult
    from .validate import CheckedModel, check

__all__ = [
    "AssumptionGraphError",
    "CheckFailed",
    "CheckedModel",
    "Diagnostic",
    "FormulaError",
    "Model",
    "ModelError",
    "ModelFileError",
    "Node",
    "NodeSummary",
    "OutputError",
    "PortfolioResult",
    "RenderError",
    "RunError",
    "RunResult",
    "ScenarioResult",
    "SensitivityResult",
    "Simulator",
    "check",
    "discrete",
    "discrete_values",
    "export_workbook",
    "fixed",
    "load",
    "loads",
    "lognormal",
    "metalog",
    "normal",
    "pert",
    "random",
    "read_model",
    "risk_event",
    "run_portfolio",
    "save",
    "simulate",
    "triangle",
    "uniform",
    "uniform_values",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
