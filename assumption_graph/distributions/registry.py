"""The registry of probability models: the one list of them, and what is derived from it.

Each model module registers its class with :func:`register`, right above the
class. Everything that used to be a hand-kept list comes from here: the model
names a file may give (:data:`MODELS`), the options each takes
(:data:`ESTIMATE_OPTIONS`), reading an estimate (:func:`from_estimate`), the
kernel's opcodes and the scalar functions it compiles (:func:`kernel_scalars`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..errors import ModelError, shown

if TYPE_CHECKING:
    from .base import Distribution
    from .values import _ValueTable

__all__ = [
    "REGISTRY",
    "MODELS",
    "ESTIMATE_OPTIONS",
    "register",
    "values_model",
    "implied_model",
    "option_error",
    "from_estimate",
    "kernel_scalars",
    "jit_scalars",
]

#: Every registered model class, in registration order.
REGISTRY: list[type[Distribution]] = []
#: Model names in a model file → classes (``random`` is the guide's word for uniform).
#: With ``values:`` instead of an estimate, discrete and uniform are the classes
#: :func:`values_model` gives.
MODELS: dict[str, type[Distribution]] = {}

#: What each key that refines an estimate is for, said when a model does not take it.
_OPTION_HINTS: dict[str, str] = {
    "probabilities": "use model: triangle or discrete to weight low, mid and high",
    "percentiles": "percentiles say which percentiles low and high are, for normal, lognormal"
    " and metalog",
    "probability": "'probability' is the chance of a risk event: use model: risk_event"
    " (to weight low, mid and high, use 'probabilities' with a triangle or discrete)",
    "consequence_model": "'consequence_model' shapes a risk event's consequence: use"
    " model: risk_event",
}
#: Keys that refine an estimate in a model file, and the models that take each.
ESTIMATE_OPTIONS: dict[str, tuple[str, ...]] = {option: () for option in _OPTION_HINTS}

_M = TypeVar("_M", bound="type[Distribution]")


def register(cls: _M) -> _M:
    """Add a model class to the registry (a decorator): its name, aliases and options.

    A class that reads ``values:`` (``reads == "values"``) is registered for the
    kernel and the tests but is not a model name of its own (see :func:`values_model`).
    """
    REGISTRY.append(cls)
    if cls.reads == "estimate":
        for name in (cls.name, *cls.aliases):
            MODELS[name] = cls
        for option in cls.options:
            ESTIMATE_OPTIONS[option] += (cls.name,)
    return cls


def values_model(name: str) -> type[_ValueTable] | None:
    """The class model ``name`` is with ``values: [...]``, or None when it takes no values."""
    cls = MODELS.get(name)
    found = (c for c in _value_models() if cls is not None and c.name == cls.name)
    return next(found, None)


def implied_model(keys: Collection[str]) -> str:
    """The model a file's node means when it names none, from the keys it gives.

    A model's own keys (a normal's ``mean``), else ``values`` (discrete with
    probabilities, uniform without), else the default model (triangle).
    """
    for cls in REGISTRY:
        if cls.own_keys and cls.own_keys[0] in keys:
            return cls.name
    if "values" in keys:
        weighted = "probabilities" in keys
        return next(c.name for c in _value_models() if c.takes_probabilities == weighted)
    return next(cls.name for cls in REGISTRY if cls.default_model)


def _value_models() -> list[type[_ValueTable]]:
    """The registered models over a list of values (``values:``)."""
    return cast("list[type[_ValueTable]]", [c for c in REGISTRY if c.reads == "values"])


def option_error(model: str, option: str) -> ModelError | None:
    """A ModelError when probability model ``model`` does not take ``option``, else None.

    >>> print(option_error("pert", "percentiles").message)
    model 'pert' takes no percentiles
    >>> option_error("metalog", "percentiles") is None
    True
    """
    cls = MODELS.get(model)
    if cls is None or option in cls.options:
        return None
    hint = cls.option_hints.get(option, _OPTION_HINTS[option])
    return ModelError(f"model {shown(model)} takes no {option}", hint=hint)


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
    percentiles, or a lognormal estimate that is not positive. Each class reads
    the estimate in its own ``read_estimate``.

    >>> from_estimate("pert", 1, 4, 13)
    Pert(low=1.0, mid=4.0, high=13.0)
    >>> from_estimate("normal", 80, 100, 120).sd == 20 / 1.6448536269514722
    True
    >>> from_estimate("risk_event", 10, 20, 40, probability=0.25).weighted
    5.5
    """
    cls = MODELS.get(model)
    if cls is None:
        known = ", ".join(sorted(MODELS))
        raise ModelError(f"unknown probability model {shown(model)}", hint=f"use one of {known}")
    options: dict[str, Any] = {
        "probabilities": probabilities,
        "percentiles": percentiles,
        "probability": probability,
        "consequence_model": consequence_model,
    }
    for option, given in options.items():
        error = option_error(model, option) if given is not None else None
        if error is not None:
            raise error
    return cls.read_estimate(low, mid, high, {k: v for k, v in options.items() if v is not None})


def kernel_scalars() -> tuple[Callable[..., Any], ...]:
    """Every scalar function the kernel may call, dependencies first (for ``jit_linked``).

    The stream functions, then each registered model's ``kernel_functions()`` in
    registration order, each function once.
    """
    from ..streams import SCALARS

    found: dict[int, Callable[..., Any]] = {id(f): f for f in SCALARS}
    for cls in REGISTRY:
        for function in cls.kernel_functions():
            found.setdefault(id(function), function)
    return tuple(found.values())


def jit_scalars(jit: Callable[..., Any]) -> dict[str, Callable[..., Any]]:
    """Compile every scalar sampler (and the stream functions) with ``jit``.

    ``jit`` is e.g. ``numba.njit``; calls between the functions (``pert_sample``
    → ``uniform`` → ``mix64``, ``normal_from_u`` → ``ndtri``) are linked to the
    compiled versions. Returns ``{name: compiled function}``, including ``uniform``
    and ``mix64`` from ``streams``. Compilation itself is lazy (numba compiles
    on the first call for each argument types).
    """
    from ..streams import jit_linked

    return jit_linked(kernel_scalars(), jit)
