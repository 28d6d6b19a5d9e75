"""Every rule an assumption diagram must satisfy, as diagnostics with stable codes.

:func:`check` runs every registered rule and returns a :class:`CheckedModel`: the
model, its evaluation order and every finding. Errors stop a model from being
compiled; warnings are advice. Each diagnostic names the node(s) involved, the file
and the best line, and says what to do.

The rules live in modules by theme (:mod:`.graph`, :mod:`.estimates`, :mod:`.units`,
:mod:`.correlations`, :mod:`.business_case`), each registered with the codes it
reports, their severity and meaning (:mod:`.registry`); :mod:`.reading` declares the
codes of loading a file, which ``check`` merges in. :func:`code_table` writes the
README's tables of codes from that registry.

A ``situation`` node (values without and with the project) is checked like an input:
it fits kind ``uncertain`` when either situation has an estimate and kind ``constant``
when neither draws; each situation's estimate is checked on its own, the message naming
the situation; it states a source and has its declared unit.
"""

from __future__ import annotations

# isort: off
# The order of these imports is the order of the rules and of the table of codes.
from . import reading, graph, estimates, units, correlations, business_case  # noqa: F401

# isort: on
from .core import CheckedModel, check
from .registry import CODES, Code, code_table
from .units import Unit, formula_unit, unit_of

__all__ = [
    "CODES",
    "CheckedModel",
    "Code",
    "Unit",
    "check",
    "code_table",
    "formula_unit",
    "unit_of",
]
