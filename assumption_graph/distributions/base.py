"""The base class of the probability models and the parameter handling they share.

Every model is a small frozen dataclass that subclasses :class:`Distribution` and
declares, as class attributes, its name in a model file, whether it draws at
random (``draws``), the kernel opcode and scalar sampler that draw it, its numpy
twin, and the estimate options it takes. :mod:`.registry` collects the classes.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeGuard, TypeVar

from .._lazy import lazy_import, loaded
from ..errors import ModelError, shown
from ..functions import sheet_number
from ..keys import non_default, non_defaults
from .problems import _magnitude_problems, _number, _order_problems
from .registry import ESTIMATE_OPTIONS
from .special import ndtri

if TYPE_CHECKING:
    import numpy as np

    from .discrete import Discrete
    from .lognormal import LogNormal
    from .metalog import Metalog
    from .normal import Normal
    from .triangle import Triangle
    from .values import DiscreteValues
else:  # reading and checking models needs no numpy: it loads when a sampler runs
    np = lazy_import("numpy")

#: The standard normal's 95th percentile: low/high of normal and lognormal are P5/P95.
Z95 = 1.6448536269514722
#: The smallest uniform a quantile is fed, or its distance from 1: Monte Carlo draws
#: and Sobol points keep 2**-54 away from 0 and 1, a Latin hypercube 2**-53 / n; this
#: covers runs of up to 2**53 samples. Unbounded models reach their farthest there.
TAIL_U = 2.0**-106

#: The percentiles ``low`` and ``high`` are read at, by model (``percentiles:``).
DEFAULT_PERCENTILES = (5.0, 50.0, 95.0)
METALOG_PERCENTILES = (10.0, 50.0, 90.0)


def _as_float(owner: object, field: str, value: object) -> float:
    """``float(value)``, or a ModelError naming the model (class or instance) and field."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        cls = owner if isinstance(owner, type) else type(owner)
        raise ModelError(f"{cls.__name__}: {field} must be a number, got {shown(value)}") from None


@dataclasses.dataclass(frozen=True)
class Shown:
    """What the diagram and the Excel export show of a model, as data they format.

    ``points`` are the three numbers shown (a risk event's consequence estimate, as
    entered); ``name`` the model's name as shown; ``chance`` a risk event's
    probability; ``variant`` a consequence model other than the default;
    ``weights`` and ``percentiles`` the options given other than their defaults;
    ``values`` the list of a model over values (shown instead of the points).
    """

    points: tuple[float, float, float]
    name: str
    chance: float | None = None
    variant: str | None = None
    weights: tuple[float, ...] | None = None
    percentiles: tuple[float, ...] | None = None
    values: tuple[float, ...] | None = None


class Distribution:
    """What every probability model offers (subclasses are frozen dataclasses).

    ``name`` is the model's name in a model file. ``sampler`` names the scalar
    function of its module that draws it and ``sampler_args`` gives its
    parameters after the uniform ``u`` (or, for PERT, after ``stream, sample,
    table, offset, count``: ``draws_from_stream`` is then True). A model drawn
    from a table of numbers (``values:``, and PERT's envelope) has a
    ``sampler_table``: the lowering puts it in the program's flat table and the
    sampler reads ``table[offset:offset+count]``.
    """

    name: ClassVar[str]
    #: Other names a model file may give it (``random`` for uniform).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: What a model file gives it: ``estimate`` (or its own keys), or ``values``.
    reads: ClassVar[str] = "estimate"
    #: The estimate options (:data:`.registry.ESTIMATE_OPTIONS`) it takes.
    options: ClassVar[tuple[str, ...]] = ()
    #: Advice, by option, when a model file gives it an option it does not take.
    option_hints: ClassVar[dict[str, str]] = {}
    #: Whether it draws at random; a model that does not is a constant to the kernel.
    draws: ClassVar[bool] = True
    sampler: ClassVar[str]
    #: The numpy twin of ``sampler``: ``twin(u, *sampler_args)``.
    twin: ClassVar[Callable[..., np.ndarray]]
    #: The kernel's opcode for its draws (``compile.ir.Op``), its parameters ``sampler_args``.
    opcode: ClassVar[int]
    draws_from_stream: ClassVar[bool] = False
    #: True for the model a file means when it names none (triangle).
    default_model: ClassVar[bool] = False
    #: Keys a file may give instead of an estimate (a normal's mean and sd), in order.
    own_keys: ClassVar[tuple[str, ...]] = ()
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

    @property
    def quantile_table(self) -> tuple[float, ...]:
        """The numbers the kernel's inverse CDF reads after :attr:`sampler_table` (PERT's
        grid; empty for the other models)."""
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

    def advice(self) -> list[tuple[str, str]]:
        """Warnings on a valid model, as (code, message): what the user may have meant.

        None by default; a model whose reading of an estimate can lose what the
        user wrote (a normal's symmetry) says so here.
        """
        return []

    def magnitude(self) -> float:
        """The largest absolute number the model computes; inf where one overflows.

        Over what the sampler, its numpy twin and the quantile compute (at the
        farthest uniform, :data:`TAIL_U`), the readings, the weighted figure, the
        mean, and the variance a summary computes: each model lists them in
        ``_reach``. ``check`` refuses a model whose magnitude passes
        :data:`LARGEST` (code ``scale``).

        >>> from assumption_graph.distributions import triangle
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
        from ..streams import uniform_array

        return self.quantile(uniform_array(stream, samples, 0))

    @property
    def quantile_in_kernel(self) -> bool:
        """Whether the kernel's draw op can take this model's uniforms from a slot.

        True for a model drawn by its inverse CDF from one uniform (its ``*_from_u``
        sampler): Latin hypercube, Sobol and correlated inputs then give the kernel
        their uniforms, not their values. A model drawn from a stream by rejection
        says so itself where its kernel branch has an inverse CDF too (PERT's
        ``pert_from_u``); otherwise its :meth:`quantile` is made in Python.
        """
        return not self.draws_from_stream

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at ``u`` in (0, 1), elementwise (numpy).

        What Latin hypercube and Sobol sampling, correlated inputs and Sobol
        indices feed their uniform numbers through.
        """
        return self.twin(np.asarray(u, dtype=np.float64), *self.sampler_args)

    @classmethod
    def read_estimate(
        cls, low: float, mid: float, high: float, options: dict[str, Any]
    ) -> Distribution:
        """The model a file means by ``estimate: [low, mid, high]`` and the given ``options``.

        Lenient (the result may have ``problems()``); a ModelError for what cannot
        make a model at all. This default takes the three numbers as they are.
        """
        return cls(low, mid, high)  # type: ignore[call-arg]

    @classmethod
    def from_own_keys(
        cls, numbers: tuple[float, ...], percentiles: tuple[float, float, float] | None
    ) -> Distribution:
        """The model from its ``own_keys``' numbers, in order (and ``percentiles:``, if given)."""
        raise NotImplementedError(f"{cls.__name__} has no keys of its own")

    def non_default(self, option: str) -> Any:
        """The option's value, or None when it is at its default or the model has no such option."""
        return non_default(self, option)

    def file_keys(self) -> dict[str, Any]:
        """The keys that write this model to a model file, options at their defaults left out."""
        return self._defining_keys() | non_defaults(self, tuple(ESTIMATE_OPTIONS))

    def _defining_keys(self) -> dict[str, Any]:
        """The estimate, and the model's name unless it is the default model."""
        keys: dict[str, Any] = {"estimate": [self.low, self.mid, self.high]}
        if not self.default_model:
            keys["model"] = self.name
        return keys

    def shown(self) -> Shown:
        """What the diagram and the export show of this model (:class:`Shown`)."""
        return Shown(
            (self.low, self.mid, self.high),
            self.name,
            weights=self.non_default("probabilities"),
            percentiles=self.non_default("percentiles"),
        )

    @classmethod
    def kernel_functions(cls) -> tuple[Callable[..., Any], ...]:
        """The scalar functions its kernel branch calls, each one's dependencies first."""
        return ()

    def sheet_readings(self, cells: Mapping[str, str]) -> dict[str, str]:
        """Spreadsheet formulas of its readings (``low``, ``mid``, ``high``, ``weighted``),
        computed as this model computes them from the cells of its estimate as the Excel
        export shows it (``cells``: ``low``, ``mid``, ``high``, the probabilities ``p_low``,
        ``p_mid``, ``p_high`` where shown, a risk event's ``chance``).

        A reading left out has no such formula: the export writes its value. None by default.
        """
        return {}


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


def _sheet_ends(cells: Mapping[str, str]) -> dict[str, str]:
    """The readings of a model whose low, mid and high are its estimate as entered."""
    return {"low": cells["low"], "mid": cells["mid"], "high": cells["high"]}


def _sheet_weighted(model: Triangle | Discrete, cells: Mapping[str, str]) -> dict[str, str]:
    """:func:`_weighted` as a spreadsheet formula, with the ends' readings.

    The probabilities come from their cells where the export shows them, else as numbers.
    """
    readings = _sheet_ends(cells)
    w = _weights(model.probabilities)
    if w is not None:
        p = [cells.get(key, sheet_number(x)) for key, x in zip(_P_CELLS, w, strict=True)]
        readings["weighted"] = f"{cells['low']}*{p[0]}+{cells['mid']}*{p[1]}+{cells['high']}*{p[2]}"
    return readings


_P_CELLS = ("p_low", "p_mid", "p_high")
_D = TypeVar("_D", bound=Distribution)


def _checked(model: _D) -> _D:
    found = model.problems()
    if found:
        raise ModelError(
            f"invalid {model.name} {model}: " + "; ".join(message for _, message in found)
        )
    return model
