"""PERT's samplers that draw from a counter stream, and their numpy twins.

A PERT node draws by exact rejection under a step envelope of its density
(``pert_from_table``, about three uniforms a draw), a risk event's PERT
consequence by Cheng's algorithm BB (``pert_sample``): each consumes ``sub = 0,
1, 2, ...`` of ``streams.uniform(stream, sample, sub)``.

They live apart from :mod:`.pert` because their counters are numpy uint64 numbers
(numba types a plain integer as int64, and uint64 with int64 as float64), so this
module loads numpy, while reading and checking a model needs none.
"""

from __future__ import annotations

import math

import numpy as np

from ..streams import Counter, uniform_array
from ..streams import uniform as stream_uniform
from .special import pert_shapes

# PERT: Cheng's BB trials per Beta draw before giving up (NaN). Each trial is
# accepted with probability above 0.8 for PERT's shapes, so this never binds.
_MAX_TRIALS = 1000
_SUB0 = np.uint64(0)
_SUB1 = np.uint64(1)
_SUB2 = np.uint64(2)
_SUB3 = np.uint64(3)
_LOG4 = math.log(4.0)
_ONE_PLUS_LOG5 = 1.0 + math.log(5.0)


def pert_sample(stream: Counter, sample: Counter, low: float, mid: float, high: float) -> float:
    """PERT(low, mode=mid, high), lambda 4: ``low + (high - low)·Beta(alpha, beta)``.

    ``alpha = 1 + 4(mid - low)/(high - low)``, ``beta = 1 + 4(high - mid)/(high - low)``
    (so ``alpha + beta = 6``). The Beta draw is Cheng's (1978) algorithm BB, a
    rejection method that needs one logarithm and one exponential a trial and
    accepts more than 80 % of them for these shapes: trial ``t`` takes the
    uniforms ``sub = 2t`` and ``2t + 1`` of ``streams.uniform(stream, sample, sub)``.
    With the mode at an end (a shape of exactly 1) the inverse CDF is closed form
    and takes ``sub = 0``. The result is a deterministic function of (stream,
    sample). ``low == high`` gives ``low``; parameters out of order give NaN.
    Numba-compatible.
    """
    return _pert_from(stream, sample, _SUB0, low, mid, high)


def _pert_from(
    stream: Counter, sample: Counter, sub: np.uint64, low: float, mid: float, high: float
) -> float:
    """``pert_sample`` drawing its uniforms from ``sub`` on. Numba-compatible."""
    if not (low <= mid and mid <= high):
        return math.nan
    span = high - low
    if span == 0.0:
        return low
    alpha, beta = pert_shapes(low, mid, high)
    return min(max(low + span * _beta_cheng(stream, sample, sub, alpha, beta), low), high)


def _beta_cheng(
    stream: Counter, sample: Counter, sub: np.uint64, alpha: float, beta: float
) -> float:
    """Beta(alpha, beta) for alpha, beta >= 1 by Cheng's algorithm BB. Numba-compatible.

    A shape of exactly 1 uses the closed-form inverse CDF of Beta(1, b) or Beta(a, 1).
    """
    small = min(alpha, beta)
    big = max(alpha, beta)
    if small <= 1.0:
        u = stream_uniform(stream, sample, sub)
        return 1.0 - u ** (1.0 / beta) if alpha <= 1.0 else u ** (1.0 / alpha)
    total = small + big
    b = math.sqrt((total - 2.0) / (2.0 * small * big - total))
    c = small + 1.0 / b
    for _ in range(_MAX_TRIALS):
        u1 = stream_uniform(stream, sample, sub)
        u2 = stream_uniform(stream, sample, sub + _SUB1)
        sub = sub + _SUB2
        v = b * math.log(u1 / (1.0 - u1))
        w = small * math.exp(v)
        z = u1 * u1 * u2
        r = c * v - _LOG4
        s = small + r - w
        if s + _ONE_PLUS_LOG5 < 5.0 * z:
            t = math.log(z)
            if s <= t and r + total * math.log(total / (big + w)) < t:
                continue
        return w / (big + w) if small == alpha else big / (big + w)
    return math.nan


def _pert_trial(
    u_bin: float, u_x: float, u_y: float, table: np.ndarray, offset: int, bins: int
) -> tuple[float, float, int]:
    """One trial of ``pert_from_table`` from its three uniforms: (point, height, bin).

    The point ``x`` is in bin ``k`` chosen by the alias table in proportion to
    the bin's maximum; the height ``y`` is uniform under that maximum.
    """
    scaled = u_bin * bins
    j = min(int(scaled), bins - 1)
    k = j if scaled - j < table[offset + j] else int(table[offset + bins + j])
    x = (k + u_x) / bins
    return x, u_y * table[offset + 2 * bins + k], k


def pert_from_table(
    stream: Counter,
    sample: Counter,
    table: np.ndarray,
    offset: int,
    count: int,
    low: float,
    high: float,
    a: float,
    b: float,
) -> float:
    """PERT by exact rejection under a step envelope, from ``table[offset:offset+count]``.

    The Beta(a + 1, b + 1) density ``x**a · (1 - x)**b`` (unnormalised) is cut
    into ``count / 4`` equal bins; the table (:func:`pert_envelope`) holds an
    alias table choosing a bin in proportion to the density's maximum on it,
    then each bin's maximum and minimum. Trial ``t`` takes uniforms ``3t``
    (the bin), ``3t + 1`` (the point in it) and ``3t + 2`` (the height under
    the bin's maximum): below the bin's minimum it is accepted without computing
    the density, which is almost always, so a draw costs about three uniforms.
    Exact: the accepted points have the Beta density. Numba-compatible.
    """
    span = high - low
    if span == 0.0:
        return low
    if not span > 0.0 or count <= 0:
        return math.nan
    bins = count // 4
    sub = _SUB0
    for _ in range(_MAX_TRIALS):
        x, y, k = _pert_trial(
            stream_uniform(stream, sample, sub),
            stream_uniform(stream, sample, sub + _SUB1),
            stream_uniform(stream, sample, sub + _SUB2),
            table,
            offset,
            bins,
        )
        sub = sub + _SUB3
        if y <= table[offset + 3 * bins + k] or y <= math.exp(a * math.log(x) + b * math.log1p(-x)):
            return min(max(low + span * x, low), high)
    return math.nan


def pert_squeezed(
    u_bin: float,
    u_x: float,
    u_y: float,
    table: np.ndarray,
    offset: int,
    count: int,
    low: float,
    high: float,
) -> float:
    """``pert_from_table``'s draw when its first trial is accepted by the squeeze, else NaN.

    Given the first trial's uniforms, this is that draw bit for bit, without a
    loop or a density, so the kernel runs it in a tight pass over a block and
    calls ``pert_from_table`` only for the few samples left NaN. Numba-compatible.
    """
    span = high - low
    if not span > 0.0 or count <= 0:
        return math.nan
    bins = count // 4
    x, y, k = _pert_trial(u_bin, u_x, u_y, table, offset, bins)
    if y <= table[offset + 3 * bins + k]:
        return min(max(low + span * x, low), high)
    return math.nan


def pert_from_table_array(
    stream: int,
    samples: np.ndarray,
    table: np.ndarray,
    low: float,
    high: float,
    a: float,
    b: float,
) -> np.ndarray:
    """numpy twin of ``pert_from_table`` (the table starting at 0): same uniforms, same draws."""
    samples = np.asarray(samples, dtype=np.uint64)
    span = high - low
    if span == 0.0:
        return np.full(samples.shape, float(low))
    if not span > 0.0 or table.size == 0:
        return np.full(samples.shape, np.nan)
    bins = table.size // 4
    out = np.full(samples.shape, np.nan)
    pending = np.arange(samples.size)
    sub = np.uint64(0)
    for _ in range(_MAX_TRIALS):
        if pending.size == 0:
            break
        s_ = samples[pending]
        scaled = uniform_array(stream, s_, sub) * bins
        j = np.minimum(scaled.astype(np.int64), bins - 1)
        k = np.where(scaled - j < table[j], j, table[bins + j].astype(np.int64))
        x = (k + uniform_array(stream, s_, sub + _SUB1)) / bins
        y = uniform_array(stream, s_, sub + _SUB2) * table[2 * bins + k]
        sub = sub + _SUB3
        with np.errstate(divide="ignore"):
            accept = (y <= table[3 * bins + k]) | (y <= np.exp(a * np.log(x) + b * np.log1p(-x)))
        out[pending[accept]] = np.minimum(np.maximum(low + span * x[accept], low), high)
        pending = pending[~accept]
    return out


def pert_sample_array(
    stream: int, samples: np.ndarray, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``pert_sample``: one PERT draw per sample, same uniforms."""
    return _pert_from_array(stream, samples, 0, low, mid, high)


def _pert_from_array(
    stream: int, samples: np.ndarray, first_sub: int, low: float, mid: float, high: float
) -> np.ndarray:
    """numpy twin of ``_pert_from``: uniforms from ``sub = first_sub`` on."""
    samples = np.asarray(samples, dtype=np.uint64)
    if not (low <= mid and mid <= high):
        return np.full(samples.shape, np.nan)
    span = high - low
    if span == 0.0:
        return np.full(samples.shape, float(low))
    alpha, beta = pert_shapes(low, mid, high)
    x = _beta_cheng_array(stream, samples, first_sub, alpha, beta)
    return np.minimum(np.maximum(low + span * x, low), high)


def _beta_cheng_array(
    stream: int, samples: np.ndarray, first_sub: int, alpha: float, beta: float
) -> np.ndarray:
    """numpy twin of ``_beta_cheng``: rejection vectorised with a pending mask."""
    small, big = min(alpha, beta), max(alpha, beta)
    if small <= 1.0:
        u = uniform_array(stream, samples, first_sub)
        return 1.0 - u ** (1.0 / beta) if alpha <= 1.0 else u ** (1.0 / alpha)
    total = small + big
    b = math.sqrt((total - 2.0) / (2.0 * small * big - total))
    c = small + 1.0 / b
    out = np.full(samples.shape, np.nan)
    pending = np.arange(samples.size)
    sub = np.uint64(first_sub)
    for _ in range(_MAX_TRIALS):
        if pending.size == 0:
            break
        s_ = samples[pending]
        u1 = uniform_array(stream, s_, sub)
        u2 = uniform_array(stream, s_, sub + _SUB1)
        sub = sub + _SUB2
        v = b * np.log(u1 / (1.0 - u1))
        w = small * np.exp(v)
        z = u1 * u1 * u2
        r = c * v - _LOG4
        s = small + r - w
        t = np.log(z)
        accept = (s + _ONE_PLUS_LOG5 >= 5.0 * z) | (s > t)
        accept |= r + total * np.log(total / (big + w)) >= t
        draw = w / (big + w) if small == alpha else big / (big + w)
        out[pending[accept]] = draw[accept]
        pending = pending[~accept]
    return out
