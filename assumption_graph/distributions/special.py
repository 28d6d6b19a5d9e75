"""Special functions the samplers share: the inverse standard normal CDF, ``ndtri``,
the standard normal CDF, ``normal_cdf`` (the Gaussian copula's way back to uniforms),
and the Beta shapes of a PERT (for PERT nodes and PERT consequences of risk events).

``ndtri`` and ``normal_cdf`` are plain numba-compatible Python that the kernel
compiles; ``ndtri_array`` and ``normal_cdf_array`` are their numpy twins and give
the same bits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._lazy import lazy_import

if TYPE_CHECKING:
    import numpy as np
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")


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


_SQRT_HALF = 0.7071067811865476  # 1 / sqrt(2)
#: Where ``normal_cdf`` keeps its values: off 0 and 1, where inverse CDFs are infinite.
CDF_LOW = 2.0**-54
CDF_HIGH = 1.0 - 2.0**-53  # the largest float below 1


def normal_cdf(z: float) -> float:
    """The standard normal CDF, ``erfc(-z/sqrt 2) / 2``, kept in [2**-54, 1 - 2**-53].

    The C library's ``erfc`` (what numba and Python's ``math`` call), accurate in
    both tails. Numba-compatible.
    """
    return min(max(0.5 * math.erfc(-z * _SQRT_HALF), CDF_LOW), CDF_HIGH)


@functools.cache
def _erfc_ufunc() -> np.ufunc:
    """``math.erfc`` over arrays (made once numpy is wanted)."""
    return np.frompyfunc(math.erfc, 1, 1)


def normal_cdf_array(z: np.ndarray) -> np.ndarray:
    """numpy twin of ``normal_cdf``, elementwise (the same C library ``erfc``, so the same bits).

    numpy has no ``erfc`` and scipy's is another implementation, so this applies
    ``math.erfc`` to each element: slow, for the reference and the few inputs
    whose inverse CDF is not in the kernel.
    """
    z = np.asarray(z, dtype=np.float64)
    cdf = 0.5 * np.asarray(_erfc_ufunc()(-z * _SQRT_HALF), dtype=np.float64)
    return np.minimum(np.maximum(cdf, CDF_LOW), CDF_HIGH)


def pert_shapes(low: float, mid: float, high: float) -> tuple[float, float]:
    """(alpha, beta) of PERT(low, mid, high)'s Beta, lambda 4, for low < high. Numba-compatible."""
    span = high - low
    return 1.0 + 4.0 * (mid - low) / span, 1.0 + 4.0 * (high - mid) / span


# The regularized incomplete beta function I_x(a, b) and its inverse, for shapes a, b >= 1
# (PERT's Beta and its inverse CDF). Plain numba-compatible Python, so the kernel compiles
# them, with numpy twins that take the same steps and give the same bits.

# Lanczos (g = 7, nine terms; Godfrey's coefficients): ln Γ to about 5e-15 on [1, 6].
_LANCZOS_G = 7.0
_L0 = 0.99999999999980993
_L1 = 676.5203681218851
_L2 = -1259.1392167224028
_L3 = 771.32342877765313
_L4 = -176.61502916214059
_L5 = 12.507343278686905
_L6 = -0.13857109526572012
_L7 = 9.9843695780195716e-6
_L8 = 1.5056327351493116e-7
_HALF_LOG_TWO_PI = 0.9189385332046728  # ln(2π) / 2

_BETA_PAIRS = 13  # pairs of continued-fraction terms: I_x to about 5e-15 for shapes in [1, 5]
_BETA_STEPS = 60  # Newton steps (a bisection where one leaves the bracket) at most
# A step this small, relative to x, is the last: Halley's error after a step is about
# the cube of the step (relative to x; times about 2 for PERT's shapes), so about 2e-15
_BETA_TOLERANCE = 1e-5


def log_gamma(z: float) -> float:
    """ln Γ(z) for z >= 1 by Lanczos' approximation, to about 5e-15. Numba-compatible.

    Python's ``math.lgamma`` and the C library's (what numba calls) are different
    code, so the kernel and its numpy twin share this one.
    """
    z = z - 1.0
    s = _L0 + _L1 / (z + 1.0) + _L2 / (z + 2.0) + _L3 / (z + 3.0) + _L4 / (z + 4.0)
    s = s + _L5 / (z + 5.0) + _L6 / (z + 6.0) + _L7 / (z + 7.0) + _L8 / (z + 8.0)
    t = z + _LANCZOS_G + 0.5
    return _HALF_LOG_TWO_PI + (z + 0.5) * math.log(t) - t + math.log(s)


def log_beta(a: float, b: float) -> float:
    """ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b), for a, b >= 1. Numba-compatible."""
    return log_gamma(a) + log_gamma(b) - log_gamma(a + b)


def _beta_fraction(x: Any, a: float, b: float) -> Any:  # a float or an array
    """The continued fraction of I_x(a, b) (Numerical Recipes' ``betacf``) to its
    ``_BETA_PAIRS``-th pair of terms, for x below the mean, (a + 1)/(a + b + 2), where it
    converges fast. Works on floats and numpy arrays alike, with the same steps.

    Evaluated forwards (Wallis' recurrences for its numerator and denominator), so
    that each term's division waits for no other: evaluated from the last term back,
    every step divides by the one before.
    """
    num_before, num = 1.0, 1.0
    den_before, den = 0.0, 1.0
    for m in range(_BETA_PAIRS + 1):
        d = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))
        num_before, num = num, num + d * num_before
        den_before, den = den, den + d * den_before
        d = (m + 1) * (b - m - 1) * x / ((a + 2 * m + 1) * (a + 2 * m + 2))
        num_before, num = num, num + d * num_before
        den_before, den = den, den + d * den_before
    return num / den


def _beta_cdf_and_scale(x: float, a: float, b: float, lb: float) -> tuple[float, float]:
    """(I_x(a, b), x^a·(1 - x)^b / B(a, b)) with ``lb`` = ln B(a, b); the second over
    x·(1 - x) is the density. Numba-compatible."""
    g = math.exp(a * math.log(x) + b * math.log1p(-x) - lb)
    if x < (a + 1.0) / (a + b + 2.0):
        return g / (a * _beta_fraction(x, a, b)), g
    return 1.0 - g / (b * _beta_fraction(1.0 - x, b, a)), g


def beta_cdf(x: float, a: float, b: float) -> float:
    """I_x(a, b), the Beta(a, b) CDF at x, for a, b >= 1: 0 at and below 0, 1 at and
    above 1. Numba-compatible."""
    if not (0.0 < x and x < 1.0):
        return x if x != x else (0.0 if x <= 0.0 else 1.0)
    return _beta_cdf_and_scale(x, a, b, log_beta(a, b))[0]


def _beta_start(t: float, a: float, b: float, lb: float) -> float:
    """Where Newton's method starts for I_x(a, b) = t <= 1/2.

    The larger of Abramowitz and Stegun's 26.5.22 (a normal approximation) and
    the root of x^a/(a·B(a, b)) = t (which lies below the root for b >= 1 and
    is close to it in the lower tail).
    """
    tail = math.exp((math.log(t) + math.log(a) + lb) / a)
    y = -ndtri(t)
    lam = (y * y - 3.0) / 6.0
    s = 1.0 / (2.0 * a - 1.0)
    r = 1.0 / (2.0 * b - 1.0)
    h = 2.0 / (s + r)
    w = y * math.sqrt(h + lam) / h - (r - s) * (lam + 5.0 / 6.0 - 2.0 / (3.0 * h))
    central = a / (a + b * math.exp(2.0 * w))
    x = central if central > tail else tail  # a NaN central (h + lam < 0) gives the tail
    return x if x < 1.0 else 0.5


def _beta_lower(t: float, a: float, b: float, lb: float, x: float) -> float:
    """The x in (0, 1) with I_x(a, b) = t, for 0 < t <= 1/2, ``lb`` = ln B(a, b), from
    ``x`` in (0, 1). Numba-compatible.

    Halley's method (:func:`_beta_step`), kept inside a bracket that each step
    narrows (a step out of it bisects instead); it stops after a step below
    ``_BETA_TOLERANCE``·x, taking that step. From :func:`_beta_start`, two steps for
    most samples of PERT's shapes; from PERT's grid (``pert_start``), one.
    """
    low, high = 0.0, 1.0
    for _ in range(_BETA_STEPS):
        cdf, g = _beta_cdf_and_scale(x, a, b, lb)
        step = _beta_step(cdf - t, g, x, a, b)
        if abs(step) <= _BETA_TOLERANCE * x:
            return x - step
        if cdf < t:
            low = x
        else:
            high = x
        x = x - step
        if not (low < x and x < high):
            x = 0.5 * (low + high)
    return x


def _beta_step(miss: Any, g: Any, x: Any, a: float, b: float) -> Any:  # floats or arrays
    """Halley's step towards I_x(a, b) = t from ``miss`` = I_x(a, b) - t and ``g`` (see
    :func:`_beta_cdf_and_scale`): Newton's, miss / density, shortened by the density's
    slope over itself, (a - 1)/x - (b - 1)/(1 - x). Newton's where that would change it
    by half or more (far from the root). The same steps for floats and arrays."""
    newton = miss * x * (1.0 - x) / g
    bend = 0.5 * newton * ((a - 1.0) / x - (b - 1.0) / (1.0 - x))
    return newton / (1.0 - bend * (abs(bend) < 0.5))


def beta_inverse(u: float, a: float, b: float, lb: float, guess: float) -> float:
    """The x with I_x(a, b) = u: the Beta(a, b) inverse CDF, for a, b >= 1, with ``lb`` =
    ln B(a, b) (:func:`log_beta`), which a caller with many samples of one shape takes
    once, starting from ``guess`` where it is in (0, 1), else from :func:`_beta_start`.
    Numba-compatible.

    Above 1/2 it solves I_y(b, a) = 1 - u (exact there; B(b, a) is B(a, b) to the
    bit) and returns 1 - y, so each tail is found relative to its own end. For
    shapes in [1, 5] and u from 2**-54 to 1 - 2**-53, within 2e-13 of x or 1 - x
    (whichever is nearer) plus 2**-53 of scipy's ``betaincinv`` (tested). 0 at 0, 1
    at 1, NaN outside [0, 1].
    """
    if not (0.0 < u and u < 1.0):
        return u if u == 0.0 or u == 1.0 else math.nan
    if u > 0.5:
        y = 1.0 - guess
        start = y if 0.0 < y and y < 1.0 else _beta_start(1.0 - u, b, a, lb)
        return 1.0 - _beta_lower(1.0 - u, b, a, lb, start)
    start = guess if 0.0 < guess and guess < 1.0 else _beta_start(u, a, b, lb)
    return _beta_lower(u, a, b, lb, start)


def beta_inverse_array(
    u: np.ndarray, a: float, b: float, guess: np.ndarray | None = None
) -> np.ndarray:
    """numpy twin of ``beta_inverse``, elementwise: the same steps for each element (no
    ``guess``: each from :func:`_beta_start`)."""
    u = np.asarray(u, dtype=np.float64)
    guess = np.full(u.shape, -1.0) if guess is None else np.asarray(guess, dtype=np.float64)
    out = np.where((u == 0.0) | (u == 1.0), u, np.nan)
    inside = (0.0 < u) & (u < 1.0)
    lower, upper = inside & ~(u > 0.5), inside & (u > 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[lower] = _beta_lower_array(u[lower], a, b, guess[lower])
        out[upper] = 1.0 - _beta_lower_array(1.0 - u[upper], b, a, 1.0 - guess[upper])
    return out


def _beta_lower_array(t: np.ndarray, a: float, b: float, guess: np.ndarray) -> np.ndarray:
    """numpy twin of ``_beta_lower`` from ``beta_inverse``'s start: each element steps
    until its own step is small."""
    lb = log_beta(a, b)
    x = np.where((0.0 < guess) & (guess < 1.0), guess, _beta_start_array(t, a, b, lb))
    low, high = np.zeros_like(t), np.ones_like(t)
    out = np.empty_like(t)
    pending = np.arange(t.size)
    for _ in range(_BETA_STEPS):
        if pending.size == 0:
            break
        xp, tp = x[pending], t[pending]
        cdf, g = _beta_cdf_and_scale_array(xp, a, b, lb)
        step = _beta_step(cdf - tp, g, xp, a, b)
        done = np.abs(step) <= _BETA_TOLERANCE * xp
        out[pending[done]] = (xp - step)[done]
        below = cdf < tp
        low[pending] = np.where(below, xp, low[pending])
        high[pending] = np.where(below, high[pending], xp)
        moved = xp - step
        inside = (low[pending] < moved) & (moved < high[pending])
        x[pending] = np.where(inside, moved, 0.5 * (low[pending] + high[pending]))
        pending = pending[~done]
    out[pending] = x[pending]
    return out


def _beta_cdf_and_scale_array(
    x: np.ndarray, a: float, b: float, lb: float
) -> tuple[np.ndarray, np.ndarray]:
    """numpy twin of ``_beta_cdf_and_scale``."""
    g = np.exp(a * np.log(x) + b * np.log1p(-x) - lb)
    left = x < (a + 1.0) / (a + b + 2.0)
    cdf = np.empty_like(x)
    cdf[left] = g[left] / (a * _beta_fraction(x[left], a, b))
    cdf[~left] = 1.0 - g[~left] / (b * _beta_fraction(1.0 - x[~left], b, a))
    return cdf, g


def _beta_start_array(t: np.ndarray, a: float, b: float, lb: float) -> np.ndarray:
    """numpy twin of ``_beta_start``."""
    tail = np.exp((np.log(t) + math.log(a) + lb) / a)
    y = -ndtri_array(t)
    lam = (y * y - 3.0) / 6.0
    s = 1.0 / (2.0 * a - 1.0)
    r = 1.0 / (2.0 * b - 1.0)
    h = 2.0 / (s + r)
    w = y * np.sqrt(h + lam) / h - (r - s) * (lam + 5.0 / 6.0 - 2.0 / (3.0 * h))
    central = a / (a + b * np.exp(2.0 * w))
    x = np.where(central > tail, central, tail)
    return np.where(x < 1.0, x, 0.5)
