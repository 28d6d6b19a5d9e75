"""Figures of a run: per-node summaries and the ``run --json`` contract.

Statistics are over the finite samples only; the non-finite ones are counted.
Percentiles are exact (numpy's linear interpolation between order statistics)
from the kept output samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # built by the business-case summary, which builds on this module
    from .case_summary import BusinessCaseResult

__all__ = ["PERCENTILES", "NodeSummary", "RunResult", "summarise", "level_key"]

PERCENTILES: tuple[float, ...] = (5.0, 10.0, 25.0, 50.0, 70.0, 75.0, 80.0, 90.0, 95.0)


@dataclass(frozen=True)
class NodeSummary:
    """Every figure a run reports for one node. ``None`` where not defined."""

    expected: float | None
    weighted: float | None
    best: float | None
    worst: float | None
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    percentiles: Mapping[float, float | None]
    nonfinite: int

    def as_dict(self) -> dict[str, object]:
        """The node's entry of the JSON contract (percentile levels as text)."""
        return {
            "expected": self.expected,
            "weighted": self.weighted,
            "best": self.best,
            "worst": self.worst,
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "percentiles": {level_key(p): v for p, v in self.percentiles.items()},
            "nonfinite": self.nonfinite,
        }


def level_key(level: float) -> str:
    """A percentile level as the JSON contract's key: ``50.0`` -> ``"50"``."""
    return f"{level:g}"


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def summarise(samples: np.ndarray, figures: Mapping[str, float]) -> NodeSummary:
    """Summarise one node's samples, with its deterministic ``figures``.

    >>> s = summarise(np.array([1.0, 2.0, np.inf, 3.0]), {"expected": 2.0})
    >>> s.mean, s.nonfinite, s.percentiles[50.0]
    (2.0, 1, 2.0)
    """
    is_finite = np.isfinite(samples)
    finite = samples if is_finite.all() else samples[is_finite]  # copy only when needed
    nonfinite = int(samples.size - finite.size)
    with np.errstate(over="ignore", invalid="ignore"):  # huge finite values: std is then None
        return _summary(finite, nonfinite, figures)


def _summary(finite: np.ndarray, nonfinite: int, figures: Mapping[str, float]) -> NodeSummary:
    if finite.size:
        levels = np.percentile(finite, PERCENTILES)
        stats = {
            "mean": float(np.mean(finite)),
            "std": float(np.std(finite, ddof=1)) if finite.size > 1 else math.nan,
            "min": float(finite.min()),
            "max": float(finite.max()),
        }
        percentiles = {p: _finite_or_none(v) for p, v in zip(PERCENTILES, levels, strict=True)}
    else:
        stats = dict.fromkeys(("mean", "std", "min", "max"), math.nan)
        percentiles = dict.fromkeys(PERCENTILES)
    return NodeSummary(
        **{
            k: _finite_or_none(figures.get(k, math.nan))
            for k in ("expected", "weighted", "best", "worst")
        },
        **{k: _finite_or_none(v) for k, v in stats.items()},
        percentiles=percentiles,
        nonfinite=nonfinite,
    )


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run: a summary per output node, and optionally the samples.

    ``result["cost"]`` is the node's :class:`NodeSummary`; ``result.values("cost")``
    its sample array when the run kept samples. A model with a business case has
    its figures and tables in ``business_case``.
    """

    model: str
    samples: int
    seed: int
    method: str
    summaries: Mapping[str, NodeSummary]
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    overrides: Mapping[str, float] = field(default_factory=dict)
    business_case: BusinessCaseResult | None = None

    def __getitem__(self, node_id: str) -> NodeSummary:
        try:
            return self.summaries[node_id]
        except KeyError:
            raise KeyError(f"node {node_id!r} was not an output of this run") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.summaries)

    def __len__(self) -> int:
        return len(self.summaries)

    def _repr_html_(self) -> str:
        """Jupyter shows a result as its key-figure table."""
        from .report import key_figure_html  # a later stage, imported when a notebook asks

        return key_figure_html(self)

    def values(self, node_id: str) -> np.ndarray:
        """The samples of one output node (the run must have kept them)."""
        if node_id not in self.arrays:
            raise KeyError(
                f"no samples of {node_id!r} were kept; run with keep_samples=True"
                " and the node among the outputs"
            )
        return self.arrays[node_id]

    def to_dict(self) -> dict[str, object]:
        """The ``run --json`` contract as plain data (no NaN or infinity in it)."""
        data: dict[str, object] = {
            "model": self.model,
            "samples": self.samples,
            "seed": self.seed,
            "method": self.method,
            "nodes": {node_id: s.as_dict() for node_id, s in self.summaries.items()},
        }
        if self.business_case is not None:
            data["business_case"] = self.business_case.as_dict()
        return data
