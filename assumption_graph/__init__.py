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

from ._version import __version__
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
    RunError,
)
from .export import export_workbook
from .io import load, loads, read_model, save
from .model import Model, Node
from .results import NodeSummary, RunResult
from .run import Simulator, simulate
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
    "RunError",
    "RunResult",
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
    "save",
    "simulate",
    "triangle",
    "uniform",
    "uniform_values",
    "__version__",
]
