"""A risk event's sampler that draws from a counter stream, and its numpy twin.

A PERT consequence is drawn by rejection (:mod:`.pert_stream`), so the risk event
takes its uniforms from a stream; the counters need numpy (see :mod:`.pert_stream`).
"""

from __future__ import annotations

import numpy as np

from ..streams import Counter, uniform_array
from ..streams import uniform as stream_uniform
from .pert_stream import _SUB0, _SUB1, _pert_from, _pert_from_array
from .risk_mixture import _PERT_SHAPE, risk_event_from_u, risk_event_from_u_array


def risk_event_sample(
    stream: Counter, sample: Counter, p: float, shape: float, low: float, mid: float, high: float
) -> float:
    """One draw of a risk event (``shape`` 0 triangle, 1 uniform, 2 PERT consequence).

    Triangle and uniform: ``risk_event_from_u`` of ``uniform(stream, sample, 0)``.
    PERT: 0 when that uniform is ``<= 1 - p``, else a PERT draw from
    ``sub = 1, 2, ...``. Numba-compatible.
    """
    u = stream_uniform(stream, sample, _SUB0)
    if shape != _PERT_SHAPE:
        return risk_event_from_u(u, p, shape, low, mid, high)
    if u <= 1.0 - p:
        return 0.0
    return _pert_from(stream, sample, _SUB1, low, mid, high)


def risk_event_sample_array(
    stream: int,
    samples: np.ndarray,
    p: float,
    shape: float,
    low: float,
    mid: float,
    high: float,
) -> np.ndarray:
    """numpy twin of ``risk_event_sample``: one draw per sample, same uniforms."""
    samples = np.asarray(samples, dtype=np.uint64)
    u = uniform_array(stream, samples, 0)
    if shape != _PERT_SHAPE:
        return risk_event_from_u_array(u, p, shape, low, mid, high)
    out = np.zeros(samples.shape)
    happens = ~(u <= 1.0 - p)
    out[happens] = _pert_from_array(stream, samples[happens], 1, low, mid, high)
    return out
