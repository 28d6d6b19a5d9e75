"""Key-figure tables as text, for the terminal and for logs."""

from __future__ import annotations

import math

from .model import Model
from .results import RunResult

__all__ = ["format_cell", "key_figure_table"]

_COLUMNS = (
    ("expected", "expected"),
    ("weighted", "weighted"),
    ("best", "best"),
    ("worst", "worst"),
    ("mean", "mean"),
    ("std", "std"),
    ("P10", 10.0),
    ("P50", 50.0),
    ("P90", 90.0),
)


def format_cell(value: float | None) -> str:
    """A figure for a table: thousands separated, one decimal, ``-`` when undefined.

    >>> format_cell(1234567.891), format_cell(0.5), format_cell(None)
    ('1,234,567.9', '0.5', '-')
    """
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and abs(value) < 0.05:
        return f"{value:.3g}"
    return f"{value:,.1f}"


def key_figure_table(result: RunResult, model: Model | None = None) -> str:
    """The run's figures, one row per output node, as aligned text."""
    header = ["node", *(name for name, _ in _COLUMNS), "nonfinite"]
    rows = [header]
    for node_id, summary in result.summaries.items():
        label = model[node_id].label if model is not None and node_id in model else ""
        name = f"{node_id} ({label})" if label else node_id
        cells = [
            format_cell(
                summary.percentiles[key] if isinstance(key, float) else getattr(summary, key)
            )
            for _, key in _COLUMNS
        ]
        rows.append([name, *cells, str(summary.nonfinite)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    title = (
        f"{result.model}: {result.samples:,} samples, seed {result.seed}, method {result.method}"
    )
    return "\n".join([title, *lines])
