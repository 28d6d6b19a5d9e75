"""A run's settings and their defaults, in a module that loads nothing.

The command line builds its options from them at every start, ``check``
included, so they live apart from :mod:`run` and :mod:`sampling` and their
numpy.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SAMPLES", "DEFAULT_SEED", "METHODS"]

DEFAULT_SAMPLES = 100_000
DEFAULT_SEED = 0
#: How input values are made: Monte Carlo, Latin hypercube, scrambled Sobol points.
METHODS: tuple[str, ...] = ("mc", "lhs", "sobol")
