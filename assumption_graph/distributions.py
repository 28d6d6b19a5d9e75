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
  ``pert_sample``, ...) that the numba backend compiles with ``jit_scalars`` and
  calls inside its kernel, one sample at a time;
- their vectorised numpy twins (``triangle_from_u_array``, ...), used by
  ``Distribution.sample_array`` and the reference interpreter.

Every model except PERT transforms one counter-based uniform,
``streams.uniform(stream, sample, 0)``, by its inverse CDF, so sample ``i`` is
the same number whatever the chunking or thread count. PERT draws Beta(alpha,
beta) by rejection and consumes ``sub = 0, 1, 2, ...`` of the same stream (see
``pert_sample``).

How each model reads ``low``/``mid``/``high``:

========== ============================== ============================== =======================
model      parameters                     low / mid / high               weighted
========== ============================== ============================== =======================
fixed      mid                            mid / mid / mid                mid
uniform    low, mid, high                 as given (draws ignore mid)    (low + high) / 2
triangle   low, mid (mode), high, probs   as given                       low·p1 + mid·p2 + high·p3
discrete   low, mid, high, probs          as given                       low·p1 + mid·p2 + high·p3
pert       low, mid (mode), high          as given                       (low + 4·mid + high) / 6
normal     mean, sd                       P5 / mean / P95                mean
lognormal  mu, sigma (of log X)           P5 / median / P95              exp(mu + sigma²/2)
========== ============================== ============================== =======================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np

from assumption_graph.errors import ModelError
from assumption_graph.streams import SCALARS as _STREAM_SCALARS
from assumption_graph.streams import Counter, jit_linked, uniform_array
from assumption_graph.streams import uniform as stream_uniform

__all__ = [
    "Z95",
    "PROBABILITY_TOLERANCE",
    "DEFAULT_TRIANGLE_PROBABILITIES",
    "Distribution",
    "Fixed",
    "Uniform",
    "Triangle",
    "Discrete",
    "Pert",
    "Normal",
    "LogNormal",
    "MODELS",
    "fixed",
    "uniform",
    "random",
    "triangle",
    "discrete",
    "pert",
    "normal",
    "lognormal",
    "from_estimate",
    # scalar, numba-compatible samplers
    "ndtri",
    "fixed_from_u",
    "uniform_from_u",
    "triangle_from_u",
    "discrete_from_u",
    "normal_from_u",
    "lognormal_from_u",
    "pert_sample",
    "SCALARS",
    "jit_scalars",
    # numpy twins
    "ndtri_array",
    "fixed_from_u_array",
    "uniform_from_u_array",
    "triangle_from_u_array",
    "discrete_from_u_array",
    "normal_from_u_array",
    "lognormal_from_u_array",
    "pert_sample_array",
]

#: The standard normal's 95th percentile: low/high of normal and lognormal are P5/P95.
Z95 = 1.6448536269514722
#: The guide's default weights of a triangle's low, mid and high.
DEFAULT_TRIANGLE_PROBABILITIES = (0.2, 0.6, 0.2)
#: Probabilities must sum to 1 within this.
PROBABILITY_TOLERANCE = 1e-6

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

# PERT: Marsaglia-Tsang trials per gamma draw before giving up (NaN). Each trial
# is accepted with probability > 0.95 for shape >= 1, so this never binds.
_MAX_TRIALS = 1000
_SUB0 = np.uint64(0)
_SUB1 = np.uint64(1)
_SUB2 = np.uint64(2)
_THIRD = 1.0 / 3.0


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
        r = _CONST1 - q * q
        num = ((((((_A7 * r + _A6) * r + _A5) * r + _A4) * r + _A3) * r + _A2) * r + _A1) * r + _A0
        den = ((((((_B7 * r + _B6) * r + _B5) * r + _B4) * r + _B3) * r + _B2) * r + _B1) * r + 1.0
        return q * num / den
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


def lognormal_from_u(u: float, mu: float, sigma: float) -> float:
    """LogNormal with log X ~ Normal(mu, sigma): ``exp(mu + sigma·ndtri(u))``. Numba-compatible."""
    return math.exp(mu + sigma * ndtri(u))


def _gamma_mt(
    stream: Counter, sample: Counter, shape: float, sub: np.uint64
) -> tuple[float, np.uint64]:
    """Gamma(shape, 1) for shape >= 1 by Marsaglia and Tsang (2000).

    Trial ``t`` uses uniforms ``sub + 2t`` (through ``ndtri``, the normal) and
    ``sub + 2t + 1`` (the acceptance test), whether or not the trial gets that far.
    Returns the draw and the next unused ``sub``. Numba-compatible.
    """
    d = shape - _THIRD
    c = 1.0 / math.sqrt(9.0 * d)
    for _ in range(_MAX_TRIALS):
        x = ndtri(stream_uniform(stream, sample, sub))
        u = stream_uniform(stream, sample, sub + _SUB1)
        sub = sub + _SUB2
        v = 1.0 + c * x
        if v > 0.0:
            v = v * v * v
            x2 = x * x
            if u < 1.0 - 0.0331 * x2 * x2:
                return d * v, sub
            if math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
                return d * v, sub
    return math.nan, sub


def pert_sample(stream: Counter, sample: Counter, low: float, mid: float, high: float) -> float:
    """PERT(low, mode=mid, high), lambda 4: ``low + (high - low)·Beta(alpha, beta)``.

    ``alpha = 1 + 4(mid - low)/(high - low)``, ``beta = 1 + 4(high - mid)/(high - low)``;
    the Beta draw is ``X/(X + Y)`` with ``X ~ Gamma(alpha)``, ``Y ~ Gamma(beta)``
    by Marsaglia-Tsang (alpha, beta >= 1, so no shape boost). Uniform numbers
    come from ``streams.uniform(stream, sample, sub)``: X's trials take
    ``sub = 0, 1`` (normal, acceptance), ``2, 3``, ... until one is accepted, then
    Y's trials continue with the next ``sub``. The result is a deterministic
    function of (stream, sample). ``low == high`` gives ``low``; parameters out of
    order give NaN. Numba-compatible.
    """
    if not (low <= mid and mid <= high):
        return math.nan
    span = high - low
    if span == 0.0:
        return low
    alpha = 1.0 + 4.0 * (mid - low) / span
    beta = 1.0 + 4.0 * (high - mid) / span
    x, sub = _gamma_mt(stream, sample, alpha, _SUB0)
    y, sub = _gamma_mt(stream, sample, beta, sub)
    return min(max(low + span * (x / (x + y)), low), high)


#: Every scalar function the kernel may call, dependencies first (for ``jit_linked``).
SCALARS: tuple[Callable, ...] = _STREAM_SCALARS + (
    ndtri,
    fixed_from_u,
    uniform_from_u,
    triangle_from_u,
    discrete_from_u,
    normal_from_u,
    lognormal_from_u,
    _gamma_mt,
    pert_sample,
)


def jit_scalars(jit: Callable) -> dict[str, Callable]:
    """Compile every scalar sampler (and the stream functions) with ``jit``.

    ``jit`` is e.g. ``numba.njit``; calls between the functions (``pert_sample``
    → ``uniform`` → ``mix64``, ``normal_from_u`` → ``ndtri``) are linked to the
    compiled versions. Returns ``{name: compiled function}``, including ``uniform``
    and ``mix64`` from ``streams``. Compilation itself is lazy (numba compiles
    on the first call for each argument types).
    """
    return jit_linked(SCALARS, jit)


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


def _gamma_mt_array(
    stream: int, samples: np.ndarray, shape: float, sub: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """numpy twin of ``_gamma_mt``: rejection vectorised with a pending mask.

    ``sub`` (uint64, one per sample) is updated in place and returned.
    """
    d = shape - _THIRD
    c = 1.0 / math.sqrt(9.0 * d)
    out = np.full(samples.shape, np.nan)
    pending = np.arange(samples.size)
    for _ in range(_MAX_TRIALS):
        if pending.size == 0:
            break
        s = samples[pending]
        k = sub[pending]
        x = ndtri_array(uniform_array(stream, s, k))
        u = uniform_array(stream, s, k + _SUB1)
        sub[pending] = k + _SUB2
        v = 1.0 + c * x
        positive = v > 0.0
        v = v * v * v
        x2 = x * x
        with np.errstate(invalid="ignore", divide="ignore"):
            accept = positive & (
                (u < 1.0 - 0.0331 * x2 * x2) | (np.log(u) < 0.5 * x2 + d * (1.0 - v + np.log(v)))
            )
        out[pending[accept]] = d * v[accept]
        pending = pending[~accept]
    return out, sub


def pert_sample_array(
    stream: int, samples: np.ndarray, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``pert_sample``: one PERT draw per sample, same uniforms."""
    samples = np.asarray(samples, dtype=np.uint64)
    if not (low <= mid and mid <= high):
        return np.full(samples.shape, np.nan)
    span = high - low
    if span == 0.0:
        return np.full(samples.shape, float(low))
    alpha = 1.0 + 4.0 * (mid - low) / span
    beta = 1.0 + 4.0 * (high - mid) / span
    sub = np.zeros(samples.shape, dtype=np.uint64)
    x, sub = _gamma_mt_array(stream, samples, alpha, sub)
    y, sub = _gamma_mt_array(stream, samples, beta, sub)
    return np.minimum(np.maximum(low + span * (x / (x + y)), low), high)


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
        raise ModelError(f"{cls.__name__}: {field} must be a number, got {value!r}") from None


class Distribution:
    """What every probability model offers (subclasses are frozen dataclasses).

    ``name`` is the model's name in a model file. ``sampler`` names the scalar
    function in this module that draws it and ``sampler_args`` gives its
    parameters after the uniform ``u`` (or, for PERT, after ``stream, sample``:
    ``draws_from_stream`` is then True).
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

    def __post_init__(self) -> None:
        for name in self._fields:
            object.__setattr__(self, name, _as_float(self, name, getattr(self, name)))

    def _numbers(self) -> list[tuple[str, float]]:
        """Every numeric parameter with its name, for the finiteness check."""
        return [(name, getattr(self, name)) for name in self._fields]

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with the parameters, as (code, message); empty when valid."""
        bad = [(name, x) for name, x in self._numbers() if not math.isfinite(x)]
        if bad:
            listed = ", ".join(f"{name}={x!r}" for name, x in bad)
            return [
                (
                    "nonfinite",
                    f"parameters must be finite numbers, got {listed}; "
                    "give a finite number for each",
                )
            ]
        return self._problems()

    def _problems(self) -> list[tuple[str, str]]:
        return []

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index from counter stream ``stream`` (numpy reference).

        Bit-compatible with the scalar sampler called as the kernel does.
        """
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


def _probability_problems(probabilities: tuple[float, ...]) -> list[tuple[str, str]]:
    if len(probabilities) != 3:
        return [
            (
                "probabilities-count",
                f"expected 3 probabilities (for low, mid and high), got {len(probabilities)}; "
                "give exactly one probability for each of low, mid and high",
            )
        ]
    found = []
    for label, p in zip(("low", "mid", "high"), probabilities, strict=True):
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
    sampler: ClassVar[str] = "pert_sample"
    draws_from_stream: ClassVar[bool] = True
    _fields: ClassVar[tuple[str, ...]] = ("low", "mid", "high")

    @property
    def weighted(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    @property
    def mean(self) -> float:
        return (self.low + 4.0 * self.mid + self.high) / 6.0

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.low, self.mid, self.high)

    def _problems(self) -> list[tuple[str, str]]:
        return _order_problems(self.low, self.mid, self.high)

    def sample_array(self, stream: int, samples: np.ndarray) -> np.ndarray:
        """Draw one value per sample index (rejection sampling on the counter stream)."""
        return pert_sample_array(stream, samples, self.low, self.mid, self.high)

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
        alpha = 1.0 + 4.0 * (self.mid - self.low) / span
        beta = 1.0 + 4.0 * (self.high - self.mid) / span
        x = self.low + span * betaincinv(alpha, beta, u)
        return np.minimum(np.maximum(x, self.low), self.high)


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mean, sd). Reads low/high as P5/P95 (mean ∓ 1.645·sd), mid as the mean."""

    mean: float
    sd: float
    #: The (low, mid, high) it was read from, if any (``check`` warns on skew).
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)

    name: ClassVar[str] = "normal"
    sampler: ClassVar[str] = "normal_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("mean", "sd")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_estimate(self)

    @classmethod
    def from_estimate(cls, low: float, mid: float, high: float) -> Normal:
        """The normal with mean ``mid`` whose P5..P95 spans ``high - low``.

        ``sd = (high - low) / (2·1.645)``. The estimate is kept in ``estimate``.
        """
        low, mid, high = (_as_float(cls, "estimate", v) for v in (low, mid, high))
        return cls(mid, (high - low) / (2.0 * Z95), (low, mid, high))

    @property
    def low(self) -> float:
        return self.mean - Z95 * self.sd

    @property
    def mid(self) -> float:
        return self.mean

    @property
    def high(self) -> float:
        return self.mean + Z95 * self.sd

    @property
    def weighted(self) -> float:
        return self.mean

    @property
    def sampler_args(self) -> tuple[float, ...]:
        return (self.mean, self.sd)

    def _problems(self) -> list[tuple[str, str]]:
        return _scale_problems("sd", "standard deviation", self.sd)


@dataclass(frozen=True)
class LogNormal(Distribution):
    """LogNormal: log X ~ Normal(mu, sigma).

    Reads low/high as P5/P95 (exp(mu ∓ 1.645·sigma)) and mid as the median exp(mu);
    the weighted figure is the mean exp(mu + sigma²/2).
    """

    mu: float
    sigma: float
    #: The (low, mid, high) it was read from, if any.
    estimate: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)

    name: ClassVar[str] = "lognormal"
    sampler: ClassVar[str] = "lognormal_from_u"
    _fields: ClassVar[tuple[str, ...]] = ("mu", "sigma")

    def __post_init__(self) -> None:
        super().__post_init__()
        _set_estimate(self)

    @classmethod
    def from_estimate(cls, low: float, mid: float, high: float) -> LogNormal:
        """The lognormal with median ``mid`` whose P5..P95 ratio is ``high / low``.

        ``mu = ln(mid)``, ``sigma = ln(high / low) / (2·1.645)``; the estimate is
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
        return cls(math.log(mid), math.log(high / low) / (2.0 * Z95), (low, mid, high))

    @property
    def low(self) -> float:
        return math.exp(self.mu - Z95 * self.sigma)

    @property
    def mid(self) -> float:
        return math.exp(self.mu)

    @property
    def high(self) -> float:
        return math.exp(self.mu + Z95 * self.sigma)

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
        return _scale_problems("sigma", "log-scale spread", self.sigma)


def _set_probabilities(model: Triangle | Discrete) -> None:
    """Store probabilities as a tuple of floats (frozen dataclass, so via object)."""
    raw = model.probabilities
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        raise ModelError(
            f"{type(model).__name__}: probabilities must be a list of three numbers, got {raw!r}"
        )
    values = tuple(_as_float(model, "probabilities", p) for p in raw)
    object.__setattr__(model, "probabilities", values)


def _set_estimate(model: Normal | LogNormal) -> None:
    """Store the optional source estimate as three floats."""
    if model.estimate is None:
        return
    raw = tuple(model.estimate)
    if len(raw) != 3:
        raise ModelError(f"{type(model).__name__}: estimate must be (low, mid, high), got {raw!r}")
    low, mid, high = (_as_float(model, "estimate", v) for v in raw)
    object.__setattr__(model, "estimate", (low, mid, high))


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
}

#: Model names in a model file → classes (``random`` is the guide's word for uniform).
MODELS: dict[str, type[Distribution]] = {
    "fixed": Fixed,
    "uniform": Uniform,
    "random": Uniform,
    "triangle": Triangle,
    "discrete": Discrete,
    "pert": Pert,
    "normal": Normal,
    "lognormal": LogNormal,
}

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


def from_estimate(
    model: str,
    low: float,
    mid: float,
    high: float,
    probabilities: Sequence[float] | None = None,
) -> Distribution:
    """The distribution a model file means by ``estimate: [low, mid, high]`` and ``model``.

    Lenient: the result may have ``problems()``; ``check`` reports them. Raises
    ModelError for an unknown model name, probabilities on a model that takes
    none, a discrete model without probabilities, or a lognormal estimate that is
    not positive. Normal and lognormal take ``mid`` as mean / median and spread
    low..high over P5..P95.

    >>> from_estimate("pert", 1, 4, 13)
    Pert(low=1.0, mid=4.0, high=13.0)
    >>> from_estimate("normal", 80, 100, 120).sd == 20 / Z95
    True
    """
    cls = MODELS.get(model)
    if cls is None:
        known = ", ".join(sorted(MODELS))
        raise ModelError(f"unknown probability model {model!r}", hint=f"use one of {known}")
    takes_probabilities = cls in (Triangle, Discrete)
    if probabilities is not None and not takes_probabilities:
        raise ModelError(
            f"model {model!r} takes no probabilities",
            hint="use model: triangle or discrete to weight low, mid and high",
        )
    if cls is Discrete and probabilities is None:
        raise ModelError(
            "model 'discrete' needs probabilities for low, mid and high",
            hint="add probabilities: [p_low, p_mid, p_high]",
        )
    if cls is Fixed:
        return Fixed(mid)
    if cls is Normal:
        return Normal.from_estimate(low, mid, high)
    if cls is LogNormal:
        return LogNormal.from_estimate(low, mid, high)
    if cls is Triangle:
        if probabilities is None:
            probabilities = DEFAULT_TRIANGLE_PROBABILITIES
        return Triangle(low, mid, high, tuple(probabilities))
    if cls is Discrete:
        return Discrete(low, mid, high, tuple(probabilities))  # type: ignore[arg-type]
    return cls(low, mid, high)  # type: ignore[call-arg]
