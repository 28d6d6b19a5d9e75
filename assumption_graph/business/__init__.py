"""The business-case layer in one place, one module per pipeline stage.

- :mod:`.settings` (define): what a case is, the ``business_case:`` section read
  into a frozen :class:`BusinessCase`, and how amounts fall in the years;
- :mod:`.labels` (define): what the case graph's nodes are called, a node's copy
  in one situation as a structured :class:`~.labels.CaseNode`, and their titles;
- :mod:`.expand` (compile): the case expanded into the plain graph the kernel
  runs, situation nodes doubled and key figures added as nodes;
- :mod:`.figures` (summarise): the key figures and tables of a run.

The case's check rules live with the other rules in ``validate``. This package
re-exports the settings only, so importing it never loads a later stage.
"""

from __future__ import annotations

from .settings import (
    CASE_KEYS,
    CATEGORIES,
    GENERAL_RISK,
    MAX_HORIZON,
    PHASES,
    PURPOSES,
    RATE_RANGE,
    RISK_TYPES,
    YEAR_RANGE,
    BusinessCase,
    Month,
    NonEconomicGain,
    Phase,
    Risk,
    business_case_from_keys,
    year_weights,
)

__all__ = [
    "PURPOSES",
    "PHASES",
    "CATEGORIES",
    "RISK_TYPES",
    "GENERAL_RISK",
    "YEAR_RANGE",
    "MAX_HORIZON",
    "RATE_RANGE",
    "CASE_KEYS",
    "Month",
    "Phase",
    "Risk",
    "NonEconomicGain",
    "BusinessCase",
    "business_case_from_keys",
    "year_weights",
]
