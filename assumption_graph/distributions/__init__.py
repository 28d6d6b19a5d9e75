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
  ...) that the numba backend compiles with :func:`.registry.jit_scalars` and
  calls inside its kernel, one sample at a time;
- their vectorised numpy twins (``triangle_from_u_array``, ...), used by
  ``Distribution.sample_array`` and the reference interpreter.

The package holds one module per model (its samplers, numpy twins, class,
estimate reading, figures and check advice, registered with
:func:`.registry.register`) beside the shared machinery: :mod:`.base` (the base
class and parameter handling), :mod:`.special` (``ndtri``), :mod:`.problems`
(check advice several models share) and :mod:`.registry`. The samplers that draw
several uniforms from a stream (PERT's, a risk event's) are in
:mod:`.pert_stream` and :mod:`.risk_event_stream`: their counters are numpy
numbers, and the rest loads numpy only when something is sampled.

Every model except PERT (and a risk event with a PERT consequence) transforms
one counter-based uniform, ``streams.uniform(stream, sample, 0)``, by its
inverse CDF, so sample ``i`` is the same number whatever the chunking or thread
count. PERT draws Beta(alpha, beta) by rejection and consumes ``sub = 0, 1, 2,
...`` of the same stream: a PERT node under a step envelope of its density
(``pert_from_table``, about three uniforms a draw: its table is built once per
shape by ``pert_envelope``), a risk event's PERT consequence by Cheng's
algorithm BB (``pert_sample``). ``quantile(u)``, the inverse CDF itself, is what
Latin hypercube and Sobol sampling and correlated inputs use; PERT's is
``pert_from_u``, a compiled inverse of the regularized incomplete beta function
(``special.beta_inverse``).

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
trigen       P10, mode, P90                 as given                       mean, (min + mid + max)/3
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

from .base import (
    DEFAULT_PERCENTILES,
    METALOG_PERCENTILES,
    TAIL_U,
    Z95,
    Distribution,
    Shown,
    percentile_levels,
)
from .problems import LARGEST, PROBABILITY_TOLERANCE
from .special import ndtri, ndtri_array, pert_shapes

# The models, in registration order: a model another one uses comes first.
from .fixed import Fixed, fixed, fixed_from_u, fixed_from_u_array  # isort: skip
from .uniform import Uniform, random, uniform, uniform_from_u, uniform_from_u_array  # isort: skip
from .triangle import (  # isort: skip
    DEFAULT_TRIANGLE_PROBABILITIES,
    Triangle,
    triangle,
    triangle_from_u,
    triangle_from_u_array,
)
from .discrete import Discrete, discrete, discrete_from_u, discrete_from_u_array  # isort: skip
from .pert import PERT_BINS, Pert, pert, pert_envelope  # isort: skip
from .normal import Normal, normal, normal_central, normal_from_u, normal_from_u_array  # isort: skip
from .lognormal import (  # isort: skip
    LogNormal,
    lognormal,
    lognormal_from_u,
    lognormal_from_u_array,
)
from .metalog import (  # isort: skip
    METALOG_SHAPE_BOUND,
    Metalog,
    metalog,
    metalog_from_u,
    metalog_from_u_array,
)
from .risk_mixture import risk_event_from_u, risk_event_from_u_array  # isort: skip
from .risk_event import RISK_CONSEQUENCES, RiskEvent, risk_event  # isort: skip
from .values import (  # isort: skip
    DiscreteValues,
    UniformValues,
    discrete_values,
    table_from_u,
    table_from_u_array,
    uniform_values,
)
from .trigen import TRIGEN_TAIL, Trigen, trigen, trigen_bounds  # isort: skip
from .registry import (  # isort: skip
    ESTIMATE_OPTIONS,
    MODELS,
    REGISTRY,
    from_estimate,
    implied_model,
    option_error,
    register,
    values_model,
)

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
    "REGISTRY",
    "register",
    "values_model",
    "implied_model",
    "Shown",
    "Trigen",
    "trigen",
    "trigen_bounds",
    "TRIGEN_TAIL",
    "PERT_BINS",
    "pert_envelope",
    "normal_central",
]
