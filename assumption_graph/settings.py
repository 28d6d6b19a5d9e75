"""The commands' settings and their defaults, in a module that loads nothing.

The command line builds its options from them at every start, ``check``
included, so they live apart from :mod:`run`, :mod:`sampling` and :mod:`render`
and what those import.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "cache_root",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "METHODS",
    "FORMATS",
    "LEVELS",
    "AUTO",
    "DIAGRAM_NODES",
    "DIAGRAM_EDGES",
    "GROUPS",
]

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 0
#: How input values are made: Monte Carlo, Latin hypercube, scrambled Sobol points.
METHODS: tuple[str, ...] = ("mc", "lhs", "sobol")

# How ``draw`` draws a diagram (see :mod:`.render`).
FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot")
LEVELS: tuple[str, ...] = ("detail", "overview")
AUTO = "auto"  # the level chosen by size: see :func:`.render.resolve_level`
# The biggest diagram drawn without being asked for. Measured on 2 busy cores: ``dot``
# lays out 300 nodes in 0.3-9 s (a layered graph; a chain of 50 areas sharing one
# input), 275 nodes with 494 edges (inputs shared along the chain) in 8 s, 600 nodes of
# the chain in more than 2 minutes, and layered graphs of 3,000 / 5,000 / 8,000 nodes
# in 2.5 / 31 / 113 s. Edges spanning many ranks cost most; typical models have about
# 1.5 edges a node.
DIAGRAM_NODES = 300
DIAGRAM_EDGES = 450
GROUPS: tuple[str, ...] = ("side", "phase", "category")  # how the business case is divided


def cache_root() -> Path:
    """Where compiled kernels and other made-once files are kept: ``ASSUMPTION_GRAPH_CACHE``,
    else ``NUMBA_CACHE_DIR``, else ``~/.cache/assumption_graph``."""
    root = (
        os.environ.get("ASSUMPTION_GRAPH_CACHE")
        or os.environ.get("NUMBA_CACHE_DIR")
        or Path.home() / ".cache" / "assumption_graph"
    )
    return Path(root)
