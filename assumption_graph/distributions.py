"""Probability models of uncertain inputs: parameters, figures and samplers.

Each model is a small frozen dataclass describing one input's three-point
estimate. It answers three questions:

- the three-point reading ``low``, ``mid``, ``high`` (``mid`` gives the expected
  figure, ``low`` and ``high`` the best and worst cases);
- the ``weighted`` value for the probability-weighted figure, and the true
  ``mean`` of the distribution;
- ``problems()``: what is wrong with the parameters, as ``(code, message)`` pairs.

Sampling is split in two layers that must agree:

- plain, numba-compatible scalar functions (``triangle_from_u``, ``ndtri``,
  ...) that the numba backend compiles with
  :func:`assumption_graph.stream_samplers.jit_scalars` and calls inside its
  kernel, one sample at a time;
- their vectorised numpy twins (``triangle_from_u_array``, ...), used by
  ``Distribution.sample_array`` and the reference interpreter.

The samplers that draw several uniforms from a stream (PERT's, a risk event's)
are in :mod:`assumption_graph.stream_samplers`: their counters are numpy
numbers, and this module loads numpy only when something is sampled.

Every model except PERT (and a risk event with a PERT consequence) transforms
one counter-based uniform, ``streams.uniform(stream, sample, 0)``, by its
inverse CDF, so sample ``i`` is the same number whatever the chunking or thread
count. PERT draws Beta(alpha, beta) by rejection and consumes ``sub = 0, 1, 2,
...`` of the same stream: a PERT node under a step envelope of its density
(``pert_from_table``, about three uniforms a draw: its table is built once per
shape by ``pert_envelope``), a risk event's PERT consequence by Cheng's
algorithm BB (``pert_sample``). ``quantile(u)``, the inverse CDF itself, is what
Latin hypercube and Sobol sampling and correlated inputs use.

How each model reads ``low``/``mid``/``high``:

============ ============================== ============================== =======================
model        parameters                     low / mid / high               weighted
============ ============================== ============================== =======================
fixed        mid                            mid / mid / mid                mid
uniform      low, mid, high                 as given (draws ignore mid)    (low + high) / 2
triangle     low, mid (mode), high, probs   as given                       low·p1 + mid·p2 + high·p3
discrete     low, mid, high, probs          as given                       low·p1 + mid·p2 + high·p3
pert         low, mid (mode), high          as given                       (low + 4·mid + high) / 6
normal       mean, sd [, percentiles]       P5 / mean / P95 (a)            mean
lognormal    mu, sigma (of log X) [, pct.]  P5 / median / P95 (a)          exp(mu + sigma²/2)
metalog      P10, P50, P90 [, percentiles]  P10 / P50 / P90 (a)            mean, a1 + a3/2
risk_event   p, consequence low, mid, high  0 or lowest / (b) / highest    p × consequence's
discrete (c) values v1..vk, probabilities   min / median value / max       mean, Σ p·v
uniform (c)  values v1..vk                  min / median value / max       mean of the values
============ ============================== ============================== =======================

(a) ``percentiles: [q, 50, 100 - q]`` (0 < q < 50) says which percentiles low
and high are; the default is [5, 50, 95] for normal and lognormal, [10, 50, 90]
for metalog. Fitted from an estimate, a normal takes mid as its mean and
``sd = (high - low) / (2·z)``; a lognormal takes mid as its median and
``sigma = ln(high / low) / (2·z)``, ``z`` the normal's (100 - q)th percentile;
the estimate must be ordered (``estimate-order``).

``metalog`` is the 3-term metalog of Keelin (2016), fitted exactly through the
three percentiles: ``Q(y) = a1 + a2·L + a3·(y - 1/2)·L`` with ``L = ln(y / (1 - y))``,
``a1 = P50``, ``a2 = (high - low) / (2c)``, ``a3 = (high + low - 2·P50) / (2wc)``,
``c = ln((1 - α) / α)``, ``w = 1/2 - α``, ``α = q / 100``. It is a distribution
only when Q increases: ``a2 > 0`` and ``|a3| / a2 < 1.66711`` (Keelin's bound,
:data:`METALOG_SHAPE_BOUND`), i.e. P50 not too close to P10 or P90. Unbounded
on both sides. Three equal percentiles are a constant.

(b) A ``risk_event`` happens with probability ``p`` and then has an uncertain
consequence (``consequence_model`` triangle, the default, uniform or pert, over
the estimate); otherwise it is 0. Its inverse CDF is the mixture's: with ``F0``
the consequence's share below 0 (0 for a cost), ``Q(u)`` is the consequence's
quantile at ``u / p`` for ``u < p·F0``, 0 up to ``p·F0 + 1 - p``, and the
consequence's quantile at ``(u - (1 - p)) / p`` above; for a cost that is 0 for
``u <= 1 - p``. Readings: low and high are the ends of what can happen, 0
included (for a cost: 0, it does not happen, and the consequence's high); mid is
0 when ``p < 0.5``, else the consequence's mid. Weighted figure: ``p`` times the
consequence's weighted figure (triangle 0.2/0.6/0.2, uniform (low + high) / 2,
pert (low + 4·mid + high) / 6); mean ``p`` times its mean. Monte Carlo draws
with a PERT consequence decide "happens" by ``u > 1 - p`` and draw the PERT by
rejection from ``sub = 1, 2, ...``.

(c) ``values: [v1, ..., vk]`` with ``model: discrete`` and one probability per
value, or ``model: uniform`` (each value 1/k). The values may come in any
order; draws are by the inverse CDF over the values sorted. The median value is
the smallest with at least half the probability at or below it. The kernel
reads the sorted values and their cumulative probabilities from a table.
"""

from __future__ import annotations

import functools
import itertools
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeGuard, TypeVar

from assumption_graph._lazy import lazy_import, loaded
from assumption_graph.errors import ModelError, did_you_mean, shown

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

__all__ = [
    "Z95",
    "PROBABILITY_TOLERANCE",
    "DEFAULT_TRIANGLE_PROBABILITIES",
    "DEFAULT_PERCENTILES",
    "METALOG_PERCENTILES",
    "Distribution",
    "Fixed",
    "Uniform",
    "Triangle",
    "Discrete",
    "Pert",
    "Normal",
    "LogNormal",
    "Metalog",
    "RiskEvent",
    "DiscreteValues",
    "UniformValues",
    "MODELS",
    "METALOG_SHAPE_BOUND",
    "RISK_CONSEQUENCES",
    "LARGEST",
    "TAIL_U",
    "ESTIMATE_OPTIONS",
    "fixed",
    "uniform",
    "random",
    "triangle",
    "discrete",
    "pert",
    "normal",
    "lognormal",
    "metalog",
    "risk_event",
    "discrete_values",
    "uniform_values",
    "from_estimate",
    "option_error",
    "percentile_levels",
    # scalar, numba-compatible samplers
    "ndtri",
    "fixed_from_u",
    "uniform_from_u",
    "triangle_from_u",
    "discrete_from_u",
    "normal_from_u",
    "lognormal_from_u",
    "metalog_from_u",
    "table_from_u",
    "risk_event_from_u",
    "pert_shapes",
    # numpy twins
    "ndtri_array",
    "fixed_from_u_array",
    "uniform_from_u_array",
    "triangle_from_u_array",
    "discrete_from_u_array",
    "normal_from_u_array",
    "lognormal_from_u_array",
    "metalog_from_u_array",
    "table_from_u_array",
    "risk_event_from_u_array",
]

#: The standard normal's 95th percentile: low/high of normal and lognormal are P5/P95.
Z95 = 1.6448536269514722
#: The guide's default weights of a triangle's low, mid and high.
DEFAULT_TRIANGLE_PROBABILITIES = (0.2, 0.6, 0.2)
#: Probabilities must sum to 1 within this.
PROBABILITY_TOLERANCE = 1e-6
#: Keelin's bound: a 3-term metalog is a distribution only when |a3| / a2 is below
#: this (1 / max over y of (y - 1/2) + y(1 - y)·ln(y / (1 - y))).
METALOG_SHAPE_BOUND = 1.6671131192
#: A risk event's consequence models; the kernel gets the position as a number.
RISK_CONSEQUENCES: tuple[str, ...] = ("triangle", "uniform", "pert")
#: The largest number a float64 holds: a model whose numbers pass it is refused (``scale``).
LARGEST = sys.float_info.max
#: The smallest uniform a quantile is fed, or its distance from 1: Monte Carlo draws
#: and Sobol points keep 2**-54 away from 0 and 1, a Latin hypercube 2**-53 / n; this
#: covers runs of up to 2**53 samples. Unbounded models reach their farthest there.
TAIL_U = 2.0**-106

# ---------------------------------------------------------------------------
# Scalar samplers: plain Python, math module only, numba-compatible.
# No Python objects, no exceptions, no allocation. Invalid parameters give NaN.
# ---------------------------------------------------------------------------

# Wichura (1988), algorithm AS241 PPND16: ndtri to about 1 part in 1e16.
_A0 = 3.3871328727963666080e0
_A1 = 1.3314166789178437745e2
_A2 = 1.9715909503065514427e3
_A3 = 1.3731693765509461125e4
_A4 = 4.5921953931549871457e4
_A5 = 6.7265770927008700853e4
_A6 = 3.3430575583588128105e4
_A7 = 2.5090809287301226727e3
_B1 = 4.2313330701600911252e1
_B2 = 6.8718700749205790830e2
_B3 = 5.3941960214247511077e3
_B4 = 2.1213794301586595867e4
_B5 = 3.9307895800092710610e4
_B6 = 2.8729085735721942674e4
_B7 = 5.2264952788528545610e3
_C0 = 1.42343711074968357734e0
_C1 = 4.63033784615654529590e0
_C2 = 5.76949722146069140550e0
_C3 = 3.64784832476320460504e0
_C4 = 1.27045825245236838258e0
_C5 = 2.41780725177450611770e-1
_C6 = 2.27238449892691845833e-2
_C7 = 7.74545014278341407640e-4
_D1 = 2.05319162663775882187e0
_D2 = 1.67638483018380384940e0
_D3 = 6.89767334985100004550e-1
_D4 = 1.48103976427480074590e-1
_D5 = 1.51986665636164571966e-2
_D6 = 5.47593808499534494600e-4
_D7 = 1.05075007164441684324e-9
_E0 = 6.65790464350110377720e0
_E1 = 5.46378491116411436990e0
_E2 = 1.78482653991729133580e0
_E3 = 2.96560571828504891230e-1
_E4 = 2.65321895265761230930e-2
_E5 = 1.24266094738807843860e-3
_E6 = 2.71155556874348757815e-5
_E7 = 2.01033439929228813265e-7
_F1 = 5.99832206555887937690e-1
_F2 = 1.36929880922735805310e-1
_F3 = 1.48753612908506148525e-2
_F4 = 7.86869131145613259100e-4
_F5 = 1.84631831751005468180e-5
_F6 = 1.42151175831644588870e-7
_F7 = 2.04426310338993978564e-15

_SPLIT1 = 0.425
_SPLIT2 = 5.0
_CONST1 = 0.180625
_CONST2 = 1.6


def _ndtri_central(q: float) -> float:
    """``ndtri(0.5 + q)`` for ``|q| <= 0.425``: AS241's central rational function."""
    r = _CONST1 - q * q
    num = ((((((_A7 * r + _A6) * r + _A5) * r + _A4) * r + _A3) * r + _A2) * r + _A1) * r + _A0
    den = ((((((_B7 * r + _B6) * r + _B5) * r + _B4) * r + _B3) * r + _B2) * r + _B1) * r + 1.0
    return q * num / den


def ndtri(p: float) -> float:
    """Inverse of the standard normal CDF (Wichura's AS241, PPND16).

    Accurate to about 1e-16 relative for min(p, 1 - p) > 1e-300; -inf at 0,
    +inf at 1, NaN outside [0, 1]. Numba-compatible.
    """
    if p <= 0.0:
        return -math.inf if p == 0.0 else math.nan
    if p >= 1.0:
        return math.inf if p == 1.0 else math.nan
    q = p - 0.5
    if abs(q) <= _SPLIT1:
        return _ndtri_central(q)
    r = p if q < 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= _SPLIT2:
        r = r - _CONST2
        num = ((((((_C7 * r + _C6) * r + _C5) * r + _C4) * r + _C3) * r + _C2) * r + _C1) * r + _C0
        den = ((((((_D7 * r + _D6) * r + _D5) * r + _D4) * r + _D3) * r + _D2) * r + _D1) * r + 1.0
    else:
        r = r - _SPLIT2
        num = ((((((_E7 * r + _E6) * r + _E5) * r + _E4) * r + _E3) * r + _E2) * r + _E1) * r + _E0
        den = ((((((_F7 * r + _F6) * r + _F5) * r + _F4) * r + _F3) * r + _F2) * r + _F1) * r + 1.0
    value = num / den
    return -value if q < 0.0 else value


def fixed_from_u(u: float, mid: float) -> float:
    """A fixed input ignores its uniform: always ``mid``. Numba-compatible."""
    return mid


def uniform_from_u(u: float, low: float, high: float) -> float:
    """Uniform on [low, high] from u in (0, 1); NaN if high < low. Numba-compatible."""
    if not high >= low:
        return math.nan
    return min(max(low + u * (high - low), low), high)


def triangle_from_u(u: float, low: float, mid: float, high: float) -> float:
    """Triangular(min=low, mode=mid, max=high) by its closed-form inverse CDF.

    ``low == high`` gives ``low``; ``mid`` may equal either end. Parameters out of
    order give NaN. The result is clamped to [low, high] against rounding.
    Numba-compatible.
    """
    if not (low <= mid and mid <= high):
        return math.nan
    span = high - low
    if span == 0.0:
        return low
    # Branch-free on purpose: u is random, so a branch here mispredicts half
    # the time; selecting the argument and then taking one root does not.
    left = u * span < mid - low
    root = math.sqrt(u * span * (mid - low) if left else (1.0 - u) * span * (high - mid))
    x = low + root if left else high - root
    return min(max(x, low), high)


def discrete_from_u(
    u: float, p_low: float, p_mid: float, low: float, mid: float, high: float
) -> float:
    """Exactly one of low, mid, high with probabilities p_low, p_mid, rest. Numba-compatible."""
    if u < p_low:
        return low
    if u < p_low + p_mid:
        return mid
    return high


def normal_from_u(u: float, mean: float, sd: float) -> float:
    """Normal(mean, sd) from u in (0, 1): ``mean + sd·ndtri(u)``. Numba-compatible."""
    return mean + sd * ndtri(u)


def normal_central(u: float, mean: float, sd: float) -> float:
    """``normal_from_u(u, mean, sd)`` where ``u`` is in the central 85 %, else NaN.

    Bit for bit the same where it has a value, with no branch, logarithm or
    square root, so the kernel runs it vectorised over a block and calls
    ``normal_from_u`` (or ``lognormal_from_u``) only for the samples left NaN.
    Numba-compatible.
    """
    q = u - 0.5
    return mean + sd * _ndtri_central(q) if abs(q) <= _SPLIT1 else math.nan


def lognormal_from_u(u: float, mu: float, sigma: float) -> float:
    """LogNormal with log X ~ Normal(mu, sigma): ``exp(mu + sigma·ndtri(u))``. Numba-compatible."""
    return math.exp(mu + sigma * ndtri(u))


def metalog_from_u(u: float, a1: float, a2: float, a3: float) -> float:
    """The 3-term metalog's quantile ``a1 + a2·L + a3·(u - 1/2)·L``, ``L = ln(u / (1 - u))``.

    Numba-compatible.
    """
    logit = math.log(u / (1.0 - u))
    return a1 + a2 * logit + a3 * (u - 0.5) * logit


def table_from_u(u: float, table: np.ndarray, offset: int, count: int) -> float:
    """One of ``count`` values by the inverse CDF, read from a table of cumulative probabilities.

    ``table[offset : offset + count]`` holds the cumulative probabilities of the
    values sorted ascending (the last is not read: it stands for 1) and
    ``table[offset + count : offset + 2·count]`` the sorted values. The result is
    the first value whose cumulative probability exceeds ``u`` (binary search),
    or the last. Numba-compatible.
    """
    first = 0
    last = count - 1
    while first < last:
        middle = (first + last) // 2
        if u < table[offset + middle]:
            last = middle
        else:
            first = middle + 1
    return table[offset + count + first]


def pert_shapes(low: float, mid: float, high: float) -> tuple[float, float]:
    """(alpha, beta) of PERT(low, mid, high)'s Beta, lambda 4, for low < high. Numba-compatible."""
    span = high - low
    return 1.0 + 4.0 * (mid - low) / span, 1.0 + 4.0 * (high - mid) / span


PERT_BINS = 128  # bins of the envelope a PERT node's draws are made under


# A risk event's consequence model as the number the kernel gets (RISK_CONSEQUENCES).
_TRIANGLE_SHAPE = 0.0
_UNIFORM_SHAPE = 1.0
_PERT_SHAPE = 2.0


def _share_below_zero(shape: float, low: float, mid: float, high: float) -> float:
    """P(X < 0) for a triangular or uniform consequence X on [low, high]. Numba-compatible.

    Written as products of ratios no greater than 1, each over a denominator at
    least as large as its (non-zero) numerator, so that nothing underflows to a
    division by zero when an end is tiny.
    """
    if not low < 0.0:
        return 0.0
    if not high > 0.0:
        return 1.0
    span = high - low
    if shape == _UNIFORM_SHAPE:
        return -low / span
    if mid >= 0.0:
        return (-low / span) * (-low / (mid - low))
    return 1.0 - (high / span) * (high / (high - mid))


def risk_event_from_u(
    u: float, p: float, shape: float, low: float, mid: float, high: float
) -> float:
    """A risk event by its inverse CDF: 0 with probability 1 - p, else the consequence.

    ``shape`` is 0 (triangle) or 1 (uniform over [low, high]). With ``F0`` the
    consequence's share below 0, ``u < p·F0`` maps to the consequence at
    ``u / p``, ``u`` up to ``p·F0 + 1 - p`` to 0, and the rest to the consequence
    at ``(u - (1 - p)) / p``, so the result never decreases with ``u``.
    Numba-compatible.
    """
    below = p * _share_below_zero(shape, low, mid, high)
    if u < below:
        v = u / p
    elif u <= below + (1.0 - p):
        return 0.0
    else:
        v = (u - (1.0 - p)) / p
    if shape == _UNIFORM_SHAPE:
        return uniform_from_u(v, low, high)
    return triangle_from_u(v, low, mid, high)


# ---------------------------------------------------------------------------
# numpy twins: same operations in the same order, so the same numbers.
# ---------------------------------------------------------------------------


def _horner(r: np.ndarray, coefficients: Sequence[float]) -> np.ndarray:
    """``((c7·r + c6)·r + ...)·r + c0`` with coefficients given c7 first."""
    value = coefficients[0] * r + coefficients[1]
    for c in coefficients[2:]:
        value = value * r + c
    return value


def ndtri_array(p: np.ndarray) -> np.ndarray:
    """numpy twin of ``ndtri``, elementwise."""
    p = np.asarray(p, dtype=np.float64)
    flat = p.ravel()
    out = np.empty_like(flat)
    q = flat - 0.5
    central = np.abs(q) <= _SPLIT1
    tail = ~central & (flat > 0.0) & (flat < 1.0)
    edge = ~central & ~tail

    qc = q[central]
    r = _CONST1 - qc * qc
    num = _horner(r, (_A7, _A6, _A5, _A4, _A3, _A2, _A1, _A0))
    den = _horner(r, (_B7, _B6, _B5, _B4, _B3, _B2, _B1, 1.0))
    out[central] = qc * num / den

    qt = q[tail]
    pt = flat[tail]
    r = np.where(qt < 0.0, pt, 1.0 - pt)
    r = np.sqrt(-np.log(r))
    value = np.empty_like(r)
    near = r <= _SPLIT2
    rn = r[near] - _CONST2
    num = _horner(rn, (_C7, _C6, _C5, _C4, _C3, _C2, _C1, _C0))
    den = _horner(rn, (_D7, _D6, _D5, _D4, _D3, _D2, _D1, 1.0))
    value[near] = num / den
    rf = r[~near] - _SPLIT2
    num = _horner(rf, (_E7, _E6, _E5, _E4, _E3, _E2, _E1, _E0))
    den = _horner(rf, (_F7, _F6, _F5, _F4, _F3, _F2, _F1, 1.0))
    value[~near] = num / den
    out[tail] = np.where(qt < 0.0, -value, value)

    pe = flat[edge]
    out[edge] = np.where(pe == 0.0, -np.inf, np.where(pe == 1.0, np.inf, np.nan))
    return out.reshape(p.shape)


def fixed_from_u_array(u: np.ndarray, mid: float) -> np.ndarray:
    """numpy twin of ``fixed_from_u``."""
    return np.full(np.shape(u), float(mid))


def uniform_from_u_array(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """numpy twin of ``uniform_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    if not high >= low:
        return np.full(u.shape, np.nan)
    return np.minimum(np.maximum(low + u * (high - low), low), high)


def triangle_from_u_array(u: np.ndarray, low: float, mid: float, high: float) -> np.ndarray:
    """numpy twin of ``triangle_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    if not (low <= mid and mid <= high):
        return np.full(u.shape, np.nan)
    span = high - low
    if span == 0.0:
        return np.full(u.shape, float(low))
    left = u * span < mid - low
    with np.errstate(invalid="ignore"):
        x = np.where(
            left,
            low + np.sqrt(u * span * (mid - low)),
            high - np.sqrt((1.0 - u) * span * (high - mid)),
        )
    return np.minimum(np.maximum(x, low), high)


def discrete_from_u_array(
    u: np.ndarray, p_low: float, p_mid: float, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``discrete_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    return np.where(u < p_low, float(low), np.where(u < p_low + p_mid, float(mid), float(high)))


def normal_from_u_array(u: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """numpy twin of ``normal_from_u``."""
    return mean + sd * ndtri_array(u)


def lognormal_from_u_array(u: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """numpy twin of ``lognormal_from_u``."""
    return np.exp(mu + sigma * ndtri_array(u))


def metalog_from_u_array(u: np.ndarray, a1: float, a2: float, a3: float) -> np.ndarray:
    """numpy twin of ``metalog_from_u``."""
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(u / (1.0 - u))
    return a1 + a2 * logit + a3 * (u - 0.5) * logit


def table_from_u_array(u: np.ndarray, table: np.ndarray, offset: int, count: int) -> np.ndarray:
    """numpy twin of ``table_from_u``."""
    table = np.asarray(table, dtype=np.float64)
    cumulative = table[offset : offset + count - 1]
    values = table[offset + count : offset + 2 * count]
    return values[np.searchsorted(cumulative, np.asarray(u, dtype=np.float64), side="right")]


def risk_event_from_u_array(
    u: np.ndarray, p: float, shape: float, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``risk_event_from_u``."""
    if shape == _UNIFORM_SHAPE:
        consequence = functools.partial(uniform_from_u_array, low=low, high=high)
    else:
        consequence = functools.partial(triangle_from_u_array, low=low, mid=mid, high=high)
    return _mixture_array(u, p, p * _share_below_zero(shape, low, mid, high), consequence)


def _mixture_array(
    u: np.ndarray, p: float, below: float, consequence: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """0 with probability 1 - p, else ``consequence`` (its quantile); ``below = p·P(X < 0)``.

    The same arithmetic as ``risk_event_from_u``: ``u < below`` maps to
    ``consequence(u / p)``, ``u > below + (1 - p)`` to ``consequence((u - (1 - p)) / p)``.
    """
    u = np.asarray(u, dtype=np.float64)
    lower = u < below
    happens = lower | (u > below + (1.0 - p))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(lower, u / p, (u - (1.0 - p)) / p)
    v = np.where(happens, v, 0.5)  # any u the consequence accepts; the result is 0 there
    return np.where(happens, consequence(v), 0.0)


@functools.lru_cache(maxsize=1024)
def pert_envelope(alpha: float, beta: float, bins: int = PERT_BINS) -> tuple[float, ...]:
    """The table ``pert_from_table`` draws Beta(alpha, beta) with (alpha, beta >= 1).

    ``bins`` alias thresholds, ``bins`` alias bins, then the density
    ``x**(alpha-1)·(1-x)**(beta-1)``'s maximum and minimum on each bin, widened by
    a relative 1e-12 against rounding. The density is unimodal, so its extremes on
    a bin are at the bin's ends or at the mode. Vose's alias method.
    """
    a, b = alpha - 1.0, beta - 1.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_edges = np.exp(a * np.log(edges) + b * np.log1p(-edges))
    at_edges = np.nan_to_num(at_edges, nan=1.0)  # 0**0 at an end is 1
    high = np.maximum(at_edges[:-1], at_edges[1:])
    mode = a / (a + b) if a + b > 0.0 else 0.5
    k = min(int(mode * bins), bins - 1)
    high[k] = max(
        high[k], math.exp(a * math.log(mode) + b * math.log1p(-mode)) if 0 < mode < 1 else 1.0
    )
    low = np.minimum(at_edges[:-1], at_edges[1:])
    high, low = high * (1.0 + 1e-12), low * (1.0 - 1e-12)
    threshold, alias = _alias_table(high / high.sum() * bins)
    return tuple(np.concatenate([threshold, alias, high, low]).tolist())


def _alias_table(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table for weights ``scaled`` that sum to their count."""
    n = scaled.size
    threshold = np.ones(n)
    alias = np.arange(n, dtype=np.float64)
    work = scaled.astype(np.float64).copy()
    small = [i for i in range(n) if work[i] < 1.0]
    large = [i for i in range(n) if work[i] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        threshold[s_], alias[s_] = work[s_], l_
        work[l_] -= 1.0 - work[s_]
        (small if work[l_] < 1.0 else large).append(l_)
    return threshold, alias


# ---------------------------------------------------------------------------
# The models
# ---------------------------------------------------------------------------


def _number(x: float) -> str:
    """A number as a user wrote it: 1500 rather than 1500.0, else repr."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _as_float(owner: object, field: str, value: object) -> float:
    """``float(value)``, or a ModelError naming the model (class or instance) and field."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        cls = owner if isinstance(owner, type) else type(owner)
        raise ModelError(f"{cls.__name__}: {field} must be a number, got {shown(value)}") from None


class Distribution:
    """What every probability model offers (subclasses are frozen dataclasses).

    ``name`` is the model's name in a model file. ``sampler`` names the scalar
    function in this module that draws it and ``sampler_args`` gives its
    parameters after the uniform ``u`` (or, for PERT, after ``stream, sample,
    table, offset, count``: ``draws_from_stream`` is then True). A model drawn
    from a table of numbers (``values:``, and PERT's envelope) has a
    ``sampler_table``: the lowering puts it in the program's flat table and the
    sampler reads ``table[offset:offset+count]``.
    """

    name: ClassVar[str]
    sampler: ClassVar[str]
    draws_from_stream: ClassVar[bool] = False
    _fields: ClassVar[tuple[str, ...]]

    # Each model provides low, mid, high and mean as fields or properties. They
    # are declared for type checkers only: a property on this base class would
    # block a subclass's dataclass field of the same name.
    if TYPE_CHECKING:

        @property
        def low(self) -> float:
            """Lower end of the three-point reading (best case for a cost)."""

        @property
        def mid(self) -> float:
            """The expected figure's reading of the input."""

        @property
        def high(self) -> float:
            """Upper end of the three-point reading (worst case for a cost)."""

        @property
        def mean(self) -> float:
            """The distribution's true mean."""

    @property
    def weighted(self) -> float:
        """The value used for the probability-weighted figure."""
        raise NotImplementedError

    @property
    def weights(self) -> tuple[float, float, float] | None:
        """The (low, mid, high) weights of the weighted figure, or None if it is a mean."""
        return None

    @property
    def sampler_args(self) -> tuple[float, ...]:
        """Arguments of ``sampler`` after ``u`` (or after ``stream, sample``)."""
        raise NotImplementedError

    @property
    def sampler_table(self) -> tuple[float, ...]:
        """The numbers a table sampler reads (empty for the other models)."""
        return ()

    def __post_init__(self) -> None:
        for name in self._fields:
            object.__setattr__(self, name, _as_float(self, name, getattr(self, name)))

    def _numbers(self) -> list[tuple[str, float]]:
        """Every numeric parameter with its name, for the finiteness check."""
        return [(name, getattr(self, name)) for name in self._fields]

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with the parameters, as (code, message); empty when valid.

        Finite parameters first, then the model's own rules, then its
        :meth:`magnitude` (``scale``): numbers past float64's largest would make
        draws infinite or clamp them without a word.
        """
        bad = [(name, x) for name, x in self._numbers() if not math.isfinite(x)]
        if bad:
            listed = ", ".join(f"{name}={shown(x)}" for name, x in bad)
            return [
                (
                    "nonfinite",
                    f"parameters must be finite numbers, got {listed}; "
                    "give a finite number for each",
                )
            ]
        return self._problems() or _magnitude_problems(self)

    def _problems(self) -> list[tuple[str, str]]:
        return []

    def magnitude(self) -> float:
        """The largest absolute number the model computes; inf where one overflows.

        Over what the sampler, its numpy twin and the quantile compute (at the
        farthest uniform, :data:`TAIL_U`), the readings, the weighted figure, the
        mean, and the variance a summary computes: each model lists them in
        ``_reach``. ``check`` refuses a model whose magnitude passes
        :data:`LARGEST` (code ``scale``).

        >>> triangle(1, 2, 4).magnitude()  # the spread squared, (4 - 1)**2
        9.0
        """
        try:
            reached = [abs(float(x)) for x in self._reach()]
        except OverflowError:  # math.exp and fsum raise where numpy gives inf
            return math.inf
        return max((math.inf if math.isnan(x) else x for x in reached), default=0.0)

    def _reach(self) -> Iterable[float]:
        """The numbers ``magnitude`` takes the largest of; this default fits a bounded model.

        Its ends and figures, and the spread squared, ``(high - low)**2``: an upper
        bound of the variance and of the products a sampler takes (a triangle's
        ``u·span·(mid - low)``).
        """
        span = self.high - self.low
        return (self.low, self.high, self.mid, self.mean, self.weighted, span * span)

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index from counter stream ``stream`` (numpy reference).

        Bit-compatible with the scalar sampler called as the kernel does.
        """
        from .streams import uniform_array

        return self.quantile(uniform_array(stream, samples, 0))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at ``u`` in (0, 1), elementwise (numpy).

        What Latin hypercube and Sobol sampling, correlated inputs and Sobol
        indices feed their uniform numbers through.
        """
        return _TWINS[self.sampler](np.asarray(u, dtype=np.float64), *self.sampler_args)


def _order_problems(low: float, mid: float, high: float) -> list[tuple[str, str]]:
    if low <= mid <= high:
        return []
    return [
        (
            "estimate-order",
            f"estimate must be ordered low <= mid <= high, got low={_number(low)}, "
            f"mid={_number(mid)}, high={_number(high)}; put the three numbers in order",
        )
    ]


def _probability_problems(
    probabilities: tuple[float, ...], values: tuple[float, ...] | None = None
) -> list[tuple[str, str]]:
    """Count, range and sum of the probabilities of low, mid, high (or of ``values``)."""
    if values is None:
        labels = ["low", "mid", "high"]
        want, each = "3 probabilities (for low, mid and high)", "each of low, mid and high"
    else:
        labels = [f"value {_number(v)}" for v in values]
        want, each = f"{len(values)} probabilities (one per value)", "each value"
    if len(probabilities) != len(labels):
        return [
            (
                "probabilities-count",
                f"expected {want}, got {len(probabilities)}; "
                f"give exactly one probability for {each}",
            )
        ]
    found = []
    for label, p in zip(labels, probabilities, strict=True):
        if not 0.0 <= p <= 1.0:
            found.append(
                (
                    "probability-range",
                    f"probability of {label} is {_number(p)}, outside [0, 1]; "
                    "use a number between 0 and 1",
                )
            )
    total = math.fsum(probabilities)
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        found.append(
            (
                "probability-sum",
                f"probabilities sum to {total:.10g}, not 1; adjust them so they add up to 1",
            )
        )
    return found


def _scale_problems(field: str, what: str, value: float) -> list[tuple[str, str]]:
    if value >= 0.0:
        return []
    return [("scale", f"{what} {field}={_number(value)} is negative; use {field} >= 0")]


def _magnitude_problems(model: Distribution) -> list[tuple[str, str]]:
    """``scale`` when the model's numbers pass float64's largest (``Distribution.magnitude``)."""
    if model.magnitude() <= LARGEST:
        return []
    numbers = [(name, x) for name, x in model._numbers() if not name.startswith("probabilities")]
    if len(numbers) > 4:  # a long list of values: the largest says enough
        numbers = [max(numbers, key=lambda item: abs(item[1]))]
    given = ", ".join(f"{name}={x:.6g}" for name, x in numbers)
    return [
        (
            "scale",
            f"numbers too large to compute with: with {given} the model's draws, mean or "
            f"variance pass {LARGEST:.2g}, the largest number a 64-bit float holds; "
            "give the amounts in a larger unit (e.g. millions instead of units), or check them",
        )
    ]


def _exp(x: float) -> float:
    """``math.exp`` with inf for what overflows, as numpy's exp has it."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


# How far the unbounded samplers reach at TAIL_U: ndtri(TAIL_U) = -11.8, and the
# metalog's logit ln(u / (1 - u)) = -73.5 (1 - TAIL_U rounds to 1).
_Z_TAIL = -ndtri(TAIL_U)
_LOGIT_TAIL = -math.log(TAIL_U)


@dataclass(frozen=True)
class Fixed(Distribution):
    """Not uncertain ("ikke usikker"): always ``mid``; weights 0, 1, 0."""

    mid: float

    name: ClassVar[str] = "fixed"
    sampler: ClassVar[str] = "fixed_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("mid",)

    @property
    def low(self) -> float:
        return self.mid

    @property
    def high(self) -> float:
        return self.mid

    @property
    def weighted(self) -> float:
        return self.mid

    @property
    def mean(self) -> float:
        return self.mid

    @property
    def weights(self) -> tuple[float, float, float]:
        return (0.0, 1.0, 0.0)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mid,)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high] ("tilfældig", alias random); weights 0.5, 0, 0.5.

    ``mid`` is the expected figure's reading; the draws do not use it.
    """

    low: float
    mid: float
    high: float

    name: ClassVar[str] = "uniform"
    sampler: ClassVar[str] = "uniform_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def weighted(self) -> float:
        return 0.5 * self.low + 0.5 * self.high

    @property
    def mean(self) -> float:
        return 0.5 * self.low + 0.5 * self.high

    @property
    def weights(self) -> tuple[float, float, float]:
        return (0.5, 0.0, 0.5)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.low, self.high)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high)


@dataclass(frozen=True)
class Triangle(Distribution):
    """Triangular(min=low, mode=mid, max=high) ("trekant").

    ``probabilities`` (default 0.2, 0.6, 0.2) weight low, mid and high for the
    weighted figure; the draws are triangular whatever they are.
    """

    low: float
    mid: float
    high: float
    probabilities: tuple[float, ...] = DEFAULT_TRIANGLE_PROBABILITIES

    name: ClassVar[str] = "triangle"
    sampler: ClassVar[str] = "triangle_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_probabilities(self)

    @property
    def weighted(self) -> float:
        return _weighted(self)

    @property
    def mean(self) -> float:
        return (self.low + self.mid + self.high) / 3.0

    @property
    def weights(self) -> tuple[float, float, float] | None:
        return _weights(self.probabilities)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.low, self.mid, self.high)

    def _numbers(self) -> list[tuple[str, float]]:
        return super()._numbers() + _probability_numbers(self.probabilities)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high) + _probability_problems(
            self.probabilities
        )


@dataclass(frozen=True)
class Discrete(Distribution):
    """Exactly one of low, mid, high with the user's probabilities ("brugerdefineret")."""

    low: float
    mid: float
    high: float
    probabilities: tuple[float, ...]

    name: ClassVar[str] = "discrete"
    sampler: ClassVar[str] = "discrete_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_probabilities(self)

    @property
    def weighted(self) -> float:
        return _weighted(self)

    @property
    def mean(self) -> float:
        return _weighted(self)

    @property
    def weights(self) -> tuple[float, float, float] | None:
        return _weights(self.probabilities)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        p = self.probabilities
        p_low = p[0] if len(p) > 0 else math.nan
        p_mid = p[1] if len(p) > 1 else math.nan
        return (p_low, p_mid, self.low, self.mid, self.high)

    def _numbers(self) -> list[tuple[str, float]]:
        return super()._numbers() + _probability_numbers(self.probabilities)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high) + _probability_problems(
            self.probabilities
        )


@dataclass(frozen=True)
class Pert(Distribution):
    """PERT(low, mode=mid, high) with lambda 4: a Beta scaled to [low, high].

    Weighted figure and mean: (low + 4·mid + high) / 6.
    """

    low: float
    mid: float
    high: float

    name: ClassVar[str] = "pert"
    sampler: ClassVar[str] = "pert_from_table"
    draws_from_stream: ClassVar[bool] = True
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def weighted(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    @property
    def mean(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    @property
    def shapes(self) -> tuple[float, float]:
        """(alpha, beta) of the Beta scaled to [low, high]; NaN when low == high."""
        if self.high == self.low:
            return (math.nan, math.nan)
        return pert_shapes(self.low, self.mid, self.high)

    @property
    def sampler_args(self) -> tuple[float, ...]:
        alpha, beta = self.shapes
        return (self.low, self.high, alpha - 1.0, beta - 1.0)

    @property
    def sampler_table(self) -> tuple[float, ...]:
        """The envelope ``pert_from_table`` draws under (:func:`pert_envelope`)."""
        alpha, beta = self.shapes
        if not (self.low <= self.mid <= self.high) or self.low == self.high:
            return ()
        return pert_envelope(alpha, beta)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high)

    def _reach(self) -> Iterable[float]:
        """A bounded model's, and the Beta's shapes: ``4·(mid - low)`` overflows first."""
        return (*super()._reach(), *(self.shapes if self.high > self.low else ()))

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index (rejection under a step envelope, counter stream)."""
        table = np.array(self.sampler_table, dtype=np.float64)
        from .stream_samplers import pert_from_table_array

        return pert_from_table_array(stream, samples, table, *self.sampler_args)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF: ``low + (high - low)·B⁻¹(u; alpha, beta)`` with scipy's ``betaincinv``.

        Monte Carlo draws use rejection sampling instead (faster, exact); this is
        for the methods that need the inverse CDF itself.
        """
        from scipy.special import betaincinv  # heavy: imported when a method needs it

        u = np.asarray(u, dtype=np.float64)
        span = self.high - self.low
        if span == 0.0:
            return np.full(u.shape, self.low)
        x = self.low + span * betaincinv(*self.shapes, u)
        return np.minimum(np.maximum(x, self.low), self.high)


#: The percentiles ``low`` and ``high`` are read at, by model (``percentiles:``).
DEFAULT_PERCENTILES = (5.0, 50.0, 95.0)
METALOG_PERCENTILES = (10.0, 50.0, 90.0)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd). Reads low/high as P5/P95 (mean ∓ z·sd), mid as the mean.

    ``percentiles`` ([q, 50, 100 - q], default [5, 50, 95]) says which percentiles
    low and high are; ``z`` is the normal's (100 - q)th percentile.
    """

    mean: float
    sd: float
    #: The (low, mid, high) it was read from, if any (``check`` warns on skew).
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)
    percentiles: tuple[float, float, float] = DEFAULT_PERCENTILES

    name: ClassVar[str] = "normal"
    sampler: ClassVar[str] = "normal_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("mean", "sd")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_estimate(self)
        _set_percentiles(self)

    @classmethod
    def from_estimate(
        cls,
        low: float,
        mid: float,
        high: float,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    ) -> Normal:
        """The normal with mean ``mid`` whose P5..P95 (or other percentiles) spans ``high - low``.

        ``sd = (high - low) / (2·z)``. The estimate is kept in ``estimate``.
        """
        low, mid, high = (_as_float(cls, "estimate", v) for v in (low, mid, high))
        levels = _percentiles(cls, percentiles)
        return cls(mid, (high - low) / (2.0 * _z(levels)), (low, mid, high), levels)

    @property
    def low(self) -> float:
        return self.mean - _z(self.percentiles) * self.sd

    @property
    def mid(self) -> float:
        return self.mean

    @property
    def high(self) -> float:
        return self.mean + _z(self.percentiles) * self.sd

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mean, self.sd)

    def _problems(self) -> list[tuple[str, str]]:
        return _estimate_order(self) or _scale_problems("sd", "standard deviation", self.sd)

    def _numbers(self) -> list[tuple[str, float]]:
        return _given_numbers(self)

    def _reach(self) -> Iterable[float]:
        """The draws at the farthest uniforms, the readings and the variance ``sd²``."""
        tail = _Z_TAIL * self.sd
        return (self.mean - tail, self.mean + tail, self.low, self.high, self.sd * self.sd)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """LogNormal: log X ~ Normal(mu, sigma).

    Reads low/high as P5/P95 (exp(mu ∓ z·sigma), or the given ``percentiles``)
    and mid as the median exp(mu); the weighted figure is the mean exp(mu + sigma²/2).
    """

    mu: float
    sigma: float
    #: The (low, mid, high) it was read from, if any.
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)
    percentiles: tuple[float, float, float] = DEFAULT_PERCENTILES

    name: ClassVar[str] = "lognormal"
    sampler: ClassVar[str] = "lognormal_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_estimate(self)
        _set_percentiles(self)

    @classmethod
    def from_estimate(
        cls,
        low: float,
        mid: float,
        high: float,
        percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    ) -> LogNormal:
        """The lognormal with median ``mid`` whose P5..P95 (or other percentiles) ratio is high/low.

        ``mu = ln(mid)``, ``sigma = ln(high / low) / (2·z)``; the estimate is
        kept in ``estimate``. All three must be positive: a lognormal input is
        never zero or negative.
        """
        low, mid, high = (_as_float(cls, "estimate", v) for v in (low, mid, high))
        if not (low > 0.0 and mid > 0.0 and high > 0.0):
            raise ModelError(
                f"a lognormal estimate needs positive numbers, got low={_number(low)}, "
                f"mid={_number(mid)}, high={_number(high)}",
                hint="use a normal or triangle model for values that can be zero or negative",
            )
        levels = _percentiles(cls, percentiles)
        sigma = math.log(high / low) / (2.0 * _z(levels))
        return cls(math.log(mid), sigma, (low, mid, high), levels)

    @property
    def low(self) -> float:
        return math.exp(self.mu - _z(self.percentiles) * self.sigma)

    @property
    def mid(self) -> float:
        return math.exp(self.mu)

    @property
    def high(self) -> float:
        return math.exp(self.mu + _z(self.percentiles) * self.sigma)

    @property
    def weighted(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma * self.sigma)

    @property
    def mean(self) -> float:
        return self.weighted

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mu, self.sigma)

    def _problems(self) -> list[tuple[str, str]]:
        return _estimate_order(self) or _scale_problems("sigma", "log-scale spread", self.sigma)

    def _numbers(self) -> list[tuple[str, float]]:
        return _given_numbers(self)

    def _reach(self) -> Iterable[float]:
        """The highest draw, the readings, the mean and the variance.

        The variance ``(exp(sigma²) - 1)·exp(2mu + sigma²)`` is taken through its
        logarithm, so that only a variance that overflows reads as inf.
        """
        s2 = self.sigma * self.sigma
        log_variance = 2.0 * self.mu + s2 + math.log(math.expm1(s2)) if s2 > 0.0 else -math.inf
        return (
            _exp(self.mu + _Z_TAIL * self.sigma),
            _exp(self.mu - _z(self.percentiles) * self.sigma),
            _exp(self.mu),
            _exp(self.mu + _z(self.percentiles) * self.sigma),
            _exp(self.mu + 0.5 * s2),
            _exp(log_variance),
        )


@dataclass(frozen=True)
class Metalog(Distribution):
    """The 3-term metalog (Keelin 2016) through three percentiles: P10, P50, P90 by default.

    ``low``, ``mid``, ``high`` are the percentiles as given (``percentiles`` says
    which: [q, 50, 100 - q]). The quantile function is closed form; the
    weighted figure is the mean, ``a1 + a3/2``. Unbounded on both sides.
    """

    low: float
    mid: float
    high: float
    percentiles: tuple[float, float, float] = METALOG_PERCENTILES

    name: ClassVar[str] = "metalog"
    sampler: ClassVar[str] = "metalog_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_percentiles(self)

    @property
    def coefficients(self) -> tuple[float, float, float]:
        """(a1, a2, a3) of ``Q(y) = a1 + a2·L + a3·(y - 1/2)·L``, ``L = ln(y / (1 - y))``."""
        alpha = self.percentiles[0] / 100.0
        c = math.log((1.0 - alpha) / alpha)
        a2 = (self.high - self.low) / (2.0 * c)
        a3 = (self.high + self.low - 2.0 * self.mid) / (2.0 * (0.5 - alpha) * c)
        return (self.mid, a2, a3)

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def mean(self) -> float:
        a1, _, a3 = self.coefficients
        return a1 + 0.5 * a3

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return self.coefficients

    def _problems(self) -> list[tuple[str, str]]:
        order = _order_problems(self.low, self.mid, self.high)
        return order or _metalog_shape_problems(self)

    def _reach(self) -> Iterable[float]:
        """The coefficients, the draws at the farthest uniforms, the mean and the variance.

        The quantile's terms ``a2·L`` and ``a3·(u - 1/2)·L`` at ``|L|`` = 73.5, and
        the variance ``a2²·π²/3 + a3²·(π²/36 + 1/12)``.
        """
        a1, a2, a3 = self.coefficients
        spread, skew = a2 * _LOGIT_TAIL, 0.5 * a3 * _LOGIT_TAIL
        variance = a2 * a2 * (math.pi**2 / 3.0) + a3 * a3 * (math.pi**2 / 36.0 + 1.0 / 12.0)
        return (
            a1,
            a2,
            a3,
            spread,
            skew,
            a1 - spread + skew,
            a1 + spread + skew,
            self.mean,
            variance,
        )


def _metalog_shape_problems(model: Metalog) -> list[tuple[str, str]]:
    """``metalog-infeasible`` when the fitted quantile function is not increasing."""
    low, mid, high = model.low, model.mid, model.high
    if low == high:  # all three equal (they are ordered): a constant, fine
        return []
    _, a2, a3 = model.coefficients
    if abs(a3) < METALOG_SHAPE_BOUND * a2:
        return []
    # |a3| / a2 < bound  <=>  P50 strictly inside low + (high - low)·(1 ∓ bound·w) / 2
    half = METALOG_SHAPE_BOUND * (0.5 - model.percentiles[0] / 100.0) / 2.0
    least, most = low + (high - low) * (0.5 - half), low + (high - low) * (0.5 + half)
    p_low, _, p_high = (f"P{_number(q)}" for q in model.percentiles)
    near, instead = (p_low, "lognormal or pert") if mid - low < high - mid else (p_high, "pert")
    return [
        (
            "metalog-infeasible",
            f"P50={_number(mid)} is too close to {near} for a metalog (with {p_low}="
            f"{_number(low)} and {p_high}={_number(high)} it must lie strictly between "
            f"{least:.6g} and {most:.6g}, or the quantile function would turn back); "
            f"use model: {instead} for an estimate this skewed, or move P50",
        )
    ]


@dataclass(frozen=True)
class RiskEvent(Distribution):
    """A risk event: with probability ``probability`` it happens and costs the consequence, else 0.

    ``estimate`` is the consequence's (low, mid, high), drawn by
    ``consequence_model`` (triangle, uniform or pert). Readings: low and high are
    the ends of what can happen, 0 included; mid is 0 when the probability is
    below 0.5, else the consequence's mid. Weighted figure and mean: the
    probability times the consequence's weighted figure and mean.
    """

    probability: float
    estimate: tuple[float, float, float]
    consequence_model: str = "triangle"

    name: ClassVar[str] = "risk_event"
    sampler: ClassVar[str] = "risk_event_sample"
    draws_from_stream: ClassVar[bool] = True
    _fields: ClassVar[tuple[str, ...]] = ("probability",)

    def __post_init__(self) -> None:
        super().__post_init__()
        raw = self.estimate
        if not _is_list(raw) or len(raw) != 3:
            raise ModelError(f"RiskEvent: estimate must be (low, mid, high), got {shown(raw)}")
        object.__setattr__(self, "estimate", tuple(_as_float(self, "estimate", v) for v in raw))
        if self.consequence_model not in RISK_CONSEQUENCES:
            raise ModelError(
                f"unknown consequence model {shown(self.consequence_model)}",
                hint=did_you_mean(
                    self.consequence_model, RISK_CONSEQUENCES, "use triangle, uniform or pert"
                ),
            )

    @property
    def consequence(self) -> Triangle | Uniform | Pert:
        """What the event costs when it happens."""
        low, mid, high = self.estimate
        if self.consequence_model == "uniform":
            return Uniform(low, mid, high)
        if self.consequence_model == "pert":
            return Pert(low, mid, high)
        return Triangle(low, mid, high)

    @property
    def low(self) -> float:
        return min(0.0, self.estimate[0])

    @property
    def mid(self) -> float:
        return 0.0 if self.probability < 0.5 else self.estimate[1]

    @property
    def high(self) -> float:
        return max(0.0, self.estimate[2])

    @property
    def weighted(self) -> float:
        return self.probability * self.consequence.weighted

    @property
    def mean(self) -> float:
        return self.probability * self.consequence.mean

    @property
    def sampler_args(self) -> tuple[float, ...]:
        shape = float(RISK_CONSEQUENCES.index(self.consequence_model))
        return (self.probability, shape, *self.estimate)

    def _numbers(self) -> list[tuple[str, float]]:
        named = zip(("estimate low", "estimate mid", "estimate high"), self.estimate, strict=True)
        return super()._numbers() + list(named)

    def _problems(self) -> list[tuple[str, str]]:
        found = _order_problems(*self.estimate)
        if not 0.0 <= self.probability <= 1.0:
            found.append(
                (
                    "probability-range",
                    f"the risk event's probability is {_number(self.probability)}, outside "
                    "[0, 1]; give the chance that it happens as a number between 0 and 1",
                )
            )
        return found

    def _reach(self) -> Iterable[float]:
        """A bounded model's over its ends (0 included), and what its consequence computes."""
        return (*super()._reach(), self.consequence.magnitude())

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index (a PERT consequence by rejection)."""
        from .stream_samplers import risk_event_sample_array

        return risk_event_sample_array(stream, samples, *self.sampler_args)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The mixture's inverse CDF (see ``risk_event_from_u``); a PERT consequence via scipy."""
        if self.consequence_model != "pert":
            return risk_event_from_u_array(u, *self.sampler_args)
        from scipy.special import betainc  # heavy: imported when a method needs it

        low, mid, high = self.estimate
        below = 0.0  # P(X < 0) for the consequence X, as _share_below_zero for the others
        if low < 0.0:
            alpha, beta = pert_shapes(low, mid, high)
            below = 1.0 if not high > 0.0 else float(betainc(alpha, beta, -low / (high - low)))
        p = self.probability
        return _mixture_array(u, p, p * below, self.consequence.quantile)


class _ValueTable(Distribution):
    """A finite set of values with probabilities (``values:``), drawn from a table.

    Subclasses hold ``values`` and ``probabilities``. Readings: low and high are
    the smallest and largest value, mid the median value (the smallest with at
    least half the probability at or below it); weighted figure and mean: Σ p·v.
    """

    values: tuple[float, ...]
    probabilities: tuple[float, ...]
    sampler: ClassVar[str] = "table_from_u"
    _fields: ClassVar[tuple[str, ...]] = ()

    def _set_values(self) -> None:
        raw = self.values
        if not _is_list(raw):
            raise ModelError(
                f"{type(self).__name__}: values must be a list of numbers, got {shown(raw)}"
            )
        if len(raw) == 0:
            raise ModelError(f"{type(self).__name__}: values must hold at least one number")
        object.__setattr__(self, "values", tuple(_as_float(self, "values", v) for v in raw))

    def _sorted(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The values ascending and the cumulative probabilities in that order."""
        order = sorted(range(len(self.values)), key=self.values.__getitem__)
        values = tuple(self.values[k] for k in order)
        return values, self._cumulative(order)

    def _cumulative(self, order: list[int]) -> tuple[float, ...]:
        return tuple(itertools.accumulate(self.probabilities[k] for k in order))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def mid(self) -> float:
        if len(self.probabilities) != len(self.values):
            return math.nan
        values, cumulative = self._sorted()
        return next(
            (v for v, c in zip(values, cumulative, strict=True) if c >= 0.5 - 1e-12), values[-1]
        )

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def mean(self) -> float:
        if len(self.probabilities) != len(self.values):
            return math.nan
        return math.fsum(p * v for p, v in zip(self.probabilities, self.values, strict=True))

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return ()

    @property
    def sampler_table(self) -> tuple[float, ...]:
        """The cumulative probabilities of the sorted values, then the sorted values."""
        values, cumulative = self._sorted()
        return cumulative + values

    def _numbers(self) -> list[tuple[str, float]]:
        values = [(f"values[{i}]", v) for i, v in enumerate(self.values)]
        return values + _probability_numbers(self.probabilities)

    def _reach(self) -> Iterable[float]:
        """The ends, the mean and the spread squared (mid is a value, weighted the mean)."""
        low, high = self.low, self.high
        return (low, high, self.mean, (high - low) * (high - low))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return table_from_u_array(u, np.array(self.sampler_table), 0, len(self.values))


@dataclass(frozen=True)
class DiscreteValues(_ValueTable):
    """Exactly one of any number of values, with the user's probabilities (``values:``)."""

    values: tuple[float, ...]
    probabilities: tuple[float, ...]

    name: ClassVar[str] = "discrete"

    def __post_init__(self) -> None:
        self._set_values()
        _set_probabilities(self)

    def _problems(self) -> list[tuple[str, str]]:
        return _probability_problems(self.probabilities, self.values)


@dataclass(frozen=True)
class UniformValues(_ValueTable):
    """Each of any number of values equally likely: a discrete uniform (``values:``)."""

    values: tuple[float, ...]

    name: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        self._set_values()

    @property
    def probabilities(self) -> tuple[float, ...]:  # type: ignore[override]
        return (1.0 / len(self.values),) * len(self.values)

    def _cumulative(self, order: list[int]) -> tuple[float, ...]:
        k = len(order)
        return tuple((j + 1) / k for j in range(k))

    def _numbers(self) -> list[tuple[str, float]]:
        return [(f"values[{i}]", v) for i, v in enumerate(self.values)]


def _is_list(raw: object) -> TypeGuard[Sequence[object] | np.ndarray]:
    """True for a list, tuple or array of items (not text)."""
    return not isinstance(raw, str | bytes) and (isinstance(raw, Sequence) or _is_array(raw))


def _is_array(raw: object) -> bool:
    """True for a numpy array; numpy is not loaded for the question (an array would have)."""
    return loaded("numpy") and isinstance(raw, np.ndarray)


def _set_probabilities(model: Triangle | Discrete | DiscreteValues) -> None:
    """Store probabilities as a tuple of floats (frozen dataclass, so via object)."""
    raw = model.probabilities
    if not _is_list(raw):
        raise ModelError(
            f"{type(model).__name__}: probabilities must be a list of numbers, got {shown(raw)}"
        )
    values = tuple(_as_float(model, "probabilities", p) for p in raw)
    object.__setattr__(model, "probabilities", values)


def _set_estimate(model: Normal | LogNormal) -> None:
    """Store the optional source estimate as three floats."""
    if model.estimate is None:
        return
    raw = tuple(model.estimate)
    if len(raw) != 3:
        raise ModelError(
            f"{type(model).__name__}: estimate must be (low, mid, high), got {shown(raw)}"
        )
    low, mid, high = (_as_float(model, "estimate", v) for v in raw)
    object.__setattr__(model, "estimate", (low, mid, high))


def _given_numbers(model: Normal | LogNormal) -> list[tuple[str, float]]:
    """The numbers the user gave: the estimate a normal or lognormal was read from, if any.

    Its parameters come from them, so an estimate too wide (an sd that overflows)
    is a matter of ``scale``, not of a number that is not finite.
    """
    if model.estimate is None:
        return [(name, getattr(model, name)) for name in model._fields]
    return list(zip(("estimate low", "estimate mid", "estimate high"), model.estimate, strict=True))


def _estimate_order(model: Normal | LogNormal) -> list[tuple[str, str]]:
    """The estimate a normal or lognormal was read from must be ordered too."""
    if model.estimate is None:
        return []
    return _order_problems(*model.estimate)


def _percentiles(owner: object, raw: object) -> tuple[float, float, float]:
    """``percentiles`` as three floats [q, 50, 100 - q] with 0 < q < 50, or a ModelError."""
    if not _is_list(raw) or len(raw) != 3:
        raise ModelError(
            f"percentiles must be three numbers [q, 50, 100 - q], got {shown(raw)}",
            hint="e.g. percentiles: [10, 50, 90] for an estimate of P10, P50 and P90",
        )
    q, m, r = (_as_float(owner, "percentiles", v) for v in raw)
    if not (0.0 < q < 50.0 and m == 50.0 and q + r == 100.0):
        raise ModelError(
            f"percentiles must be [q, 50, 100 - q] with 0 < q < 50, got "
            f"[{_number(q)}, {_number(m)}, {_number(r)}]",
            hint="mid is the median (P50) and low and high lie symmetrically around it,"
            " e.g. [10, 50, 90] or [5, 50, 95]",
        )
    return (q, m, r)


def percentile_levels(raw: object) -> tuple[float, float, float]:
    """A ``percentiles:`` entry checked: three numbers [q, 50, 100 - q] with 0 < q < 50.

    Raises ModelError otherwise.

    >>> percentile_levels([10, 50, 90])
    (10.0, 50.0, 90.0)
    """
    return _percentiles(Distribution, raw)


def _set_percentiles(model: Normal | LogNormal | Metalog) -> None:
    object.__setattr__(model, "percentiles", _percentiles(model, model.percentiles))


def _z(percentiles: tuple[float, float, float]) -> float:
    """The standard normal's percentile at ``percentiles[2]``: 1.645 for [5, 50, 95]."""
    return Z95 if percentiles[0] == 5.0 else -ndtri(percentiles[0] / 100.0)


def _probability_numbers(probabilities: tuple[float, ...]) -> list[tuple[str, float]]:
    return [(f"probabilities[{i}]", p) for i, p in enumerate(probabilities)]


def _weights(probabilities: tuple[float, ...]) -> tuple[float, float, float] | None:
    if len(probabilities) != 3:
        return None
    return (probabilities[0], probabilities[1], probabilities[2])


def _weighted(model: Triangle | Discrete) -> float:
    """low·p_low + mid·p_mid + high·p_high (NaN if there are not three probabilities)."""
    w = _weights(model.probabilities)
    if w is None:
        return math.nan
    return model.low * w[0] + model.mid * w[1] + model.high * w[2]


_TWINS: dict[str, Callable[..., np.ndarray]] = {
    "fixed_from_u": fixed_from_u_array,
    "uniform_from_u": uniform_from_u_array,
    "triangle_from_u": triangle_from_u_array,
    "discrete_from_u": discrete_from_u_array,
    "normal_from_u": normal_from_u_array,
    "lognormal_from_u": lognormal_from_u_array,
    "metalog_from_u": metalog_from_u_array,
}

#: Model names in a model file → classes (``random`` is the guide's word for uniform).
#: With ``values:`` instead of an estimate, discrete and uniform are
#: :class:`DiscreteValues` and :class:`UniformValues`.
MODELS: dict[str, type[Distribution]] = {
    "fixed": Fixed,
    "uniform": Uniform,
    "random": Uniform,
    "triangle": Triangle,
    "discrete": Discrete,
    "pert": Pert,
    "normal": Normal,
    "lognormal": LogNormal,
    "metalog": Metalog,
    "risk_event": RiskEvent,
}

#: Keys that refine an estimate in a model file, and the models that take each.
ESTIMATE_OPTIONS: dict[str, tuple[str, ...]] = {
    "probabilities": ("triangle", "discrete"),
    "percentiles": ("normal", "lognormal", "metalog"),
    "probability": ("risk_event",),
    "consequence_model": ("risk_event",),
}
_OPTION_HINTS: dict[str, str] = {
    "probabilities": "use model: triangle or discrete to weight low, mid and high",
    "percentiles": "percentiles say which percentiles low and high are, for normal, lognormal"
    " and metalog",
    "probability": "'probability' is the chance of a risk event: use model: risk_event"
    " (to weight low, mid and high, use 'probabilities' with a triangle or discrete)",
    "consequence_model": "'consequence_model' shapes a risk event's consequence: use"
    " model: risk_event",
}


def option_error(model: str, option: str) -> ModelError | None:
    """A ModelError when probability model ``model`` does not take ``option``, else None.

    >>> print(option_error("pert", "percentiles").message)
    model 'pert' takes no percentiles
    >>> option_error("metalog", "percentiles") is None
    True
    """
    cls = MODELS.get(model)
    if cls is None or cls.name in ESTIMATE_OPTIONS[option]:
        return None
    hint = _OPTION_HINTS[option]
    if cls is RiskEvent and option == "probabilities":
        hint = "a risk event's chance of happening is 'probability: p'"
    return ModelError(f"model {shown(model)} takes no {option}", hint=hint)


# ---------------------------------------------------------------------------
# Factories: strict (a ModelError on invalid parameters), for models built in code.
# ---------------------------------------------------------------------------


_D = TypeVar("_D", bound=Distribution)


def _checked(model: _D) -> _D:
    found = model.problems()
    if found:
        raise ModelError(
            f"invalid {model.name} {model}: " + "; ".join(message for _, message in found)
        )
    return model


def fixed(mid: float) -> Fixed:
    """A known value, not uncertain.

    >>> fixed(0.95).weighted
    0.95
    """
    return _checked(Fixed(mid))


def uniform(low: float, mid: float, high: float) -> Uniform:
    """Uniform on [low, high]; ``mid`` is the expected figure's value.

    >>> u = uniform(10, 12, 20)
    >>> u.mid, u.weighted
    (12.0, 15.0)
    """
    return _checked(Uniform(low, mid, high))


#: The guide's Danish "tilfældig" model: the same as ``uniform``.
random = uniform


def triangle(
    low: float, mid: float, high: float, probabilities: Sequence[float] | None = None
) -> Triangle:
    """Triangular(low, mode=mid, high); probabilities weight the weighted figure.

    >>> t = triangle(1200, 1500, 2100)
    >>> t.probabilities, t.weighted, t.mean
    ((0.2, 0.6, 0.2), 1560.0, 1600.0)
    >>> triangle(5, 3, 9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.ModelError: invalid triangle ...put the three numbers in order
    """
    if probabilities is None:
        probabilities = DEFAULT_TRIANGLE_PROBABILITIES
    return _checked(Triangle(low, mid, high, tuple(probabilities)))


def discrete(low: float, mid: float, high: float, probabilities: Sequence[float]) -> Discrete:
    """Exactly one of low, mid, high, with the given probabilities.

    >>> d = discrete(0, 100, 400, [0.5, 0.3, 0.2])
    >>> d.weighted
    110.0
    """
    return _checked(Discrete(low, mid, high, tuple(probabilities)))


def pert(low: float, mid: float, high: float) -> Pert:
    """PERT with mode ``mid`` (lambda 4).

    >>> pert(1, 4, 13).weighted
    5.0
    """
    return _checked(Pert(low, mid, high))


def normal(mean: float, sd: float) -> Normal:
    """Normal(mean, sd); low/high read as P5/P95.

    >>> n = normal(100, 10)
    >>> round(n.low, 3), n.mid, round(n.high, 3)
    (83.551, 100.0, 116.449)
    """
    return _checked(Normal(mean, sd))


def lognormal(mu: float, sigma: float) -> LogNormal:
    """LogNormal with log X ~ Normal(mu, sigma); mid reads as the median exp(mu).

    >>> x = lognormal(0.0, 0.5)
    >>> x.mid, round(x.weighted, 6)
    (1.0, 1.133148)
    """
    return _checked(LogNormal(mu, sigma))


def metalog(
    low: float, mid: float, high: float, percentiles: Sequence[float] = METALOG_PERCENTILES
) -> Metalog:
    """The 3-term metalog through P10, P50 and P90 (or the given symmetric percentiles).

    >>> m = metalog(80, 100, 150)
    >>> [round(float(q), 9) for q in m.quantile([0.1, 0.5, 0.9])]
    [80.0, 100.0, 150.0]
    >>> metalog(80, 82, 150)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    assumption_graph.errors.ModelError: invalid metalog ...P50=82 is too close to P10...
    """
    return _checked(Metalog(low, mid, high, tuple(percentiles)))  # type: ignore[arg-type]


def risk_event(
    probability: float, low: float, mid: float, high: float, consequence_model: str = "triangle"
) -> RiskEvent:
    """A risk event: with ``probability`` it costs triangle(low, mid, high) (or uniform, pert).

    >>> r = risk_event(0.25, 100, 200, 600)
    >>> r.low, r.mid, r.high, r.weighted
    (0.0, 0.0, 600.0, 65.0)
    """
    return _checked(RiskEvent(probability, (low, mid, high), consequence_model))


def discrete_values(values: Sequence[float], probabilities: Sequence[float]) -> DiscreteValues:
    """One of any number of values, with the given probabilities.

    >>> d = discrete_values([0, 10, 20, 50], [0.4, 0.3, 0.2, 0.1])
    >>> d.low, d.mid, d.high, d.weighted
    (0.0, 10.0, 50.0, 12.0)
    """
    return _checked(DiscreteValues(tuple(values), tuple(probabilities)))


def uniform_values(values: Sequence[float]) -> UniformValues:
    """Each of any number of values equally likely.

    >>> u = uniform_values([1, 2, 3, 4, 5, 6])
    >>> u.low, u.mid, u.high, u.weighted
    (1.0, 3.0, 6.0, 3.5)
    """
    return _checked(UniformValues(tuple(values)))


def from_estimate(
    model: str,
    low: float,
    mid: float,
    high: float,
    probabilities: Sequence[float] | None = None,
    *,
    percentiles: Sequence[float] | None = None,
    probability: float | None = None,
    consequence_model: str | None = None,
) -> Distribution:
    """The distribution a model file means by ``estimate: [low, mid, high]`` and ``model``.

    Lenient: the result may have ``problems()``; ``check`` reports them. Raises
    ModelError for an unknown model name, an option the model does not take
    (:data:`ESTIMATE_OPTIONS`: e.g. probabilities on a pert), a discrete model
    without probabilities, a risk event without its probability, bad
    percentiles, or a lognormal estimate that is not positive. Normal and
    lognormal take ``mid`` as mean / median and spread low..high over P5..P95
    (or the given ``percentiles``); a metalog goes through all three.

    >>> from_estimate("pert", 1, 4, 13)
    Pert(low=1.0, mid=4.0, high=13.0)
    >>> from_estimate("normal", 80, 100, 120).sd == 20 / Z95
    True
    >>> from_estimate("risk_event", 10, 20, 40, probability=0.25).weighted
    5.5
    """
    cls = MODELS.get(model)
    if cls is None:
        known = ", ".join(sorted(MODELS))
        raise ModelError(f"unknown probability model {shown(model)}", hint=f"use one of {known}")
    options = {
        "probabilities": probabilities,
        "percentiles": percentiles,
        "probability": probability,
        "consequence_model": consequence_model,
    }
    for option, given in options.items():
        error = option_error(model, option) if given is not None else None
        if error is not None:
            raise error
    if cls is Discrete and probabilities is None:
        raise ModelError(
            "model 'discrete' needs probabilities for low, mid and high",
            hint="add probabilities: [p_low, p_mid, p_high]",
        )
    if cls is Fixed:
        return Fixed(mid)
    if cls is Normal or cls is LogNormal:
        return cls.from_estimate(low, mid, high, percentiles or DEFAULT_PERCENTILES)
    if cls is Metalog:
        return Metalog(low, mid, high, _percentiles(Metalog, percentiles or METALOG_PERCENTILES))
    if cls is RiskEvent:
        if probability is None:
            raise ModelError(
                "model 'risk_event' needs the probability that the event happens",
                hint="add probability: p (a number from 0 to 1)",
            )
        return RiskEvent(probability, (low, mid, high), consequence_model or "triangle")
    if cls is Triangle:
        if probabilities is None:
            probabilities = DEFAULT_TRIANGLE_PROBABILITIES
        return Triangle(low, mid, high, tuple(probabilities))
    if cls is Discrete:
        return Discrete(low, mid, high, tuple(probabilities))  # type: ignore[arg-type]
    return cls(low, mid, high)  # type: ignore[call-arg]
