"""Reading a SIPmath 3.0 library: its SIPs as trials, and as a run's inputs.

A library's ``sips`` each name where their uniforms come from (``ref``: an
``rng`` of ``U01``, or a layer of a ``copula``) and how the uniforms become
values (``function``): ``Metalog_1_0`` (a virtual SIP: the bounded metalog's
quantile of the uniforms) or ``SIP_Array`` (stored trials, read at
``PM_Index``). The generators are ``HDR_2_0`` and ``Index`` (``PM_Index``
itself); a ``GaussianCopula`` takes the normal scores of its generators' uniforms,
mixes them by the lower Cholesky factor of its correlation matrix (a global
variable) and maps each layer back by the normal CDF. Trial ``i`` of a run
(counted from 0) is ``PM_Index`` ``i + 1``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..distributions import ndtri_array
from ..distributions.special import normal_cdf_array
from ..errors import ModelFileError, shown
from ..sampling import InputPlan, InputSampler
from .hdr import HDR_MAX_SEED, hdr_uniforms
from .metalog import Metalog

__all__ = ["SipLibrary", "LibraryInputs", "read_library", "library_from_data"]


@dataclass(frozen=True)
class SipLibrary:
    """A SIPmath 3.0 library as read: its generators, copulas and SIPs by name."""

    file: str
    rngs: Mapping[str, Mapping[str, Any]]
    copulas: Mapping[str, Mapping[str, Any]]
    sips: Mapping[str, Mapping[str, Any]]
    matrices: Mapping[str, Mapping[str, Any]]

    def trials(self, names: Sequence[str], start: int, count: int) -> np.ndarray:
        """Trials ``start .. start + count - 1`` of the named SIPs (rows x count)."""
        rows = []
        for name in names:
            try:
                rows.append(self._values(name, start, count))
            except (KeyError, TypeError, ValueError) as error:  # a number that is none, ...
                raise self._fail(
                    f"SIP {shown(name)} is malformed: {type(error).__name__}: {error}",
                    "give Metalog_1_0 its aCoefficients and SIP_Array its values as numbers",
                ) from None
        return np.stack(rows) if rows else np.empty((0, count))

    def _fail(self, message: str, hint: str | None = None) -> ModelFileError:
        return ModelFileError(f"SIP library: {message}", file=self.file, hint=hint)

    def _values(self, name: str, start: int, count: int) -> np.ndarray:
        sip = self.sips[name]
        function, arguments = sip.get("function"), sip.get("arguments") or {}
        if function == "SIP_Array":
            stored = np.array(
                [np.nan if v is None else v for v in arguments.get("value") or []], dtype=np.float64
            )
            if stored.ndim != 1 or stored.size < start + count:
                raise self._fail(
                    f"SIP {shown(name)} stores {stored.size} trials; the run needs {start + count}",
                    "run as many samples as the library stores, or fewer",
                )
            return stored[start : start + count]
        if function != "Metalog_1_0":
            raise self._fail(
                f"SIP {shown(name)} has function {shown(function)}",
                "this reader knows Metalog_1_0 and SIP_Array",
            )
        metalog = Metalog(
            tuple(float(a) for a in arguments["aCoefficients"]),
            _bound(arguments.get("lowerBound")),
            _bound(arguments.get("upperBound")),
        )
        return metalog.quantile(self.uniforms(sip.get("ref") or {}, start, count))

    def uniforms(self, ref: Mapping[str, Any], start: int, count: int) -> np.ndarray:
        """The uniforms a SIP's ``ref`` points to: a generator's, or a copula layer's."""
        if ref.get("source") == "rng":
            return self._generated(str(ref.get("name")), start, count)
        if ref.get("source") == "copula":
            return self._copula_layer(str(ref.get("name")), ref.get("copulaLayer"), start, count)
        raise self._fail(
            f"a SIP has ref {shown(dict(ref))}", "give ref a source of 'rng' or 'copula'"
        )

    def _generated(self, rng: str, start: int, count: int) -> np.ndarray:
        """A generator's numbers for ``PM_Index = start + 1 .. start + count``."""
        spec = self.rngs.get(rng)
        if spec is None:
            raise self._fail(f"no generator {shown(rng)} in U01.rng")
        arguments = spec.get("arguments") or {}
        if spec.get("function") == "Index":
            return np.arange(start + 1, start + count + 1, dtype=np.float64)
        if spec.get("function") != "HDR_2_0":
            raise self._fail(
                f"generator {shown(rng)} has function {shown(spec.get('function'))}",
                "this reader knows HDR_2_0 and Index",
            )
        seeds = [_seed(arguments.get(key, 0)) for key in ("varId", "entity", "seed3", "seed4")]
        if not all(_is_seed(s) for s in seeds):
            raise self._fail(
                f"generator {shown(rng)} needs seeds that are whole numbers 0 .. "
                f"{HDR_MAX_SEED:,}, got {shown(seeds)}",
                "give varId, entity, seed3 and seed4 as numbers (a seed left as a parameter "
                "for the user to enter is not supported)",
            )
        var_id, entity, seed3, seed4 = seeds
        return hdr_uniforms(count, var_id, entity, seed3, seed4, start=start)

    def _copula_layer(self, copula: str, layer: object, start: int, count: int) -> np.ndarray:
        """One layer of a Gaussian copula: ``Φ(row of L·z)``, ``z`` its generators' scores."""
        spec = self.copulas.get(copula)
        if spec is None or spec.get("function") != "GaussianCopula":
            raise self._fail(f"no GaussianCopula {shown(copula)} in U01.copula")
        layers = list(spec.get("copulaLayer") or [])
        if layer not in layers:
            raise self._fail(f"copula {shown(copula)} has no layer {shown(layer)}")
        arguments = spec.get("arguments") or {}
        rngs = list(arguments.get("rng") or [])
        try:
            factor = np.linalg.cholesky(self._matrix(arguments.get("correlationMatrix") or {}))
        except np.linalg.LinAlgError:
            raise self._fail(
                f"copula {shown(copula)}: its correlation matrix is not positive definite",
                "a Gaussian copula needs correlations strictly between -1 and 1 that fit together",
            ) from None
        if factor.shape[0] != len(rngs) or len(layers) != len(rngs):
            raise self._fail(
                f"copula {shown(copula)}: its matrix, rng and copulaLayer differ in size"
            )
        row = layers.index(layer)
        scores = [ndtri_array(self._generated(r, start, count)) for r in rngs[: row + 1]]
        mixed = sum(weight * score for weight, score in zip(factor[row], scores, strict=False))
        return normal_cdf_array(np.asarray(mixed))

    def _matrix(self, reference: Mapping[str, Any]) -> np.ndarray:
        """The correlation matrix a copula names, from ``globalVariables``."""
        value = self.matrices.get(str(reference.get("value")))
        if value is None:
            raise self._fail(
                f"no correlation matrix {shown(reference.get('value'))} in globalVariables"
            )
        entries = value.get("matrix") or []
        order = list(value.get("rows") or dict.fromkeys(e["row"] for e in entries))
        where = {name: k for k, name in enumerate(order)}
        matrix = np.eye(len(order))
        for entry in entries:
            i, j = where[entry["row"]], where[entry["col"]]
            matrix[i, j] = matrix[j, i] = float(entry["value"])
        return matrix


def _seed(raw: object) -> Any:
    """A seed as an int when the library writes a whole number as a float (``1.0``, as
    ProbabilityManagement.org's PySIPmath app does); anything else as it is."""
    return int(raw) if isinstance(raw, float) and raw.is_integer() else raw


def _is_seed(raw: object) -> bool:
    """A whole number 0 .. 99,999,999: the standard's 8-digit seeds (and int64 stays exact)."""
    return isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= HDR_MAX_SEED


def _bound(raw: object) -> float | None:
    """A metalog bound as given, or None when the library leaves it out (or blank)."""
    return None if raw is None or raw == "" else float(raw)  # type: ignore[arg-type]


def read_library(path: str | os.PathLike[str]) -> SipLibrary:
    """Read a SIPmath 3.0 library (JSON); a ModelFileError when it is not one."""
    file = os.fspath(path)
    try:
        with open(file, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as error:
        raise ModelFileError(f"cannot read the SIP library: {error}", file=file) from None
    return library_from_data(data, file)


def library_from_data(data: object, file: str = "<library>") -> SipLibrary:
    """The library a SIPmath 3.0 document holds (parsed JSON); ``file`` names it in errors."""
    if not isinstance(data, dict) or not isinstance(data.get("sips"), list):
        raise ModelFileError(
            "not a SIPmath library: it has no 'sips' list",
            file=file,
            hint="give a SIPmath 3.0 library in JSON, as 'export --sipmath' writes",
        )
    try:
        u01 = data.get("U01") or {}
        return SipLibrary(
            file,
            {r["name"]: r for r in u01.get("rng") or []},
            {c["name"]: c for c in u01.get("copula") or []},
            # a SIP for another environment (Frontline's PsiNormal, ...) repeats a name
            {s["name"]: s for s in data["sips"] if "environment" not in s},
            {
                g["name"]: g["value"]
                for g in data.get("globalVariables") or []
                if isinstance(g.get("value"), dict)
            },
        )
    except (AttributeError, KeyError, TypeError) as error:
        raise ModelFileError(
            f"not a SIPmath library: an entry of it lacks {error}",
            file=file,
            hint="each rng, copula, SIP and global variable is an object with a 'name'",
        ) from None


class LibraryInputs:
    """A run's input sampler with some inputs' values taken from a SIP library.

    The library's inputs join the ``given`` matrix as values after those of the
    run's own sampler (``sampler``), so the kernel loads them as it loads a
    Latin hypercube input whose inverse CDF only Python has.
    """

    def __init__(self, sampler: InputSampler, library: SipLibrary, ids: Sequence[str]) -> None:
        self.sampler, self.library, self.ids = sampler, library, tuple(ids)
        base = sampler.plan
        self.plan = InputPlan(base.uniforms, base.values + self.ids, base.correlated, base.factor)
        self.correlations = sampler.correlations

    @property
    def loaded(self) -> tuple[str, ...]:
        """The inputs of the ``given`` matrix's rows (see :attr:`InputPlan.given`)."""
        return self.plan.given

    def values(self, start: int, count: int) -> np.ndarray:
        """The ``given`` matrix for samples ``start .. start+count-1`` (rows x count)."""
        own = self.sampler.values(start, count) if self.sampler.loaded else np.empty((0, count))
        return np.vstack([own, self.library.trials(self.ids, start, count)])
