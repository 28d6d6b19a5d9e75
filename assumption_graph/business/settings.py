"""The business case's settings: purpose, years, phases, risks and how amounts fall in years.

This is the define stage of the business-case layer: :func:`business_case_from_keys`
reads the file's ``business_case:`` section into a frozen :class:`BusinessCase`,
and :func:`year_weights` says how one main node's amount is spread over the
project's years. Type errors (a year that is not a whole number, a month that is
not ``YYYY-MM``) stop reading here; rules between values (phases in order, years
inside the horizon, risk ids that exist) are ``check``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import ModelError, did_you_mean, shown
from ..keys import KeyReader

__all__ = [
    "PURPOSES",
    "PHASES",
    "CATEGORIES",
    "RISK_TYPES",
    "GENERAL_RISK",
    "YEAR_RANGE",
    "MAX_HORIZON",
    "RATE_RANGE",
    "CASE_KEYS",
    "Month",
    "Phase",
    "Risk",
    "NonEconomicGain",
    "BusinessCase",
    "business_case_from_keys",
    "year_weights",
]

PURPOSES: tuple[str, ...] = ("efficiency", "quality", "compliance")
PHASES: tuple[str, ...] = (
    "idea",
    "analysis",
    "specification",
    "tender",
    "implementation",
    "realisation",
)
# Cost categories and the group each belongs to in the guide's tables.
CATEGORIES: dict[str, str] = {
    "staff": "operating",
    "it_services": "operating",
    "other_services": "operating",
    "other_operating": "operating",
    "staff_capitalised": "assets",
    "intangible": "assets",
    "tangible": "assets",
    "current": "assets",
}
RISK_TYPES: tuple[str, ...] = ("organisation", "technical", "suppliers", "stakeholders")
DEFAULT_DISCOUNT_RATE = 0.05
#: The years a business case may name: four digits, as its phases' months are written.
YEAR_RANGE = (1, 9999)
#: The most years a business case counts. Appraisals of long-lived infrastructure
#: run 60 to 150 years; with a rate in RATE_RANGE every discount and growth factor
#: (1 + r)**±t over this horizon stays within 1e±209, far inside float64.
MAX_HORIZON = 200
#: The lowest and highest yearly rate, as fractions (-90 % and 1000 % a year): beyond
#: them discounting means nothing, and a rate above 10 is a percentage written as a
#: fraction's number.
RATE_RANGE = (-0.9, 10.0)

CASE_KEYS: dict[str, str] = {
    "purpose": "the primary purpose: efficiency | quality | compliance",
    "secondary_purposes": "a list of further purposes",
    "start_year": "year 0 for discounting",
    "end_year": "the last year counted",
    "discount_rate": "yearly discount rate as a fraction (default 0.05)",
    "finance_rate": "MIRR: yearly rate the costs are financed at (default the discount rate)",
    "reinvestment_rate": "MIRR: yearly rate gains are reinvested at (default the discount rate)",
    "price_level": "the price and wage level (a year) the amounts are in",
    "high_risk": "true: risk adjustment by Monte Carlo, buffer = P70 - P50 of project cost",
    "current_phase": "the phase the business case is made in",
    "phases": "phase -> [YYYY-MM, YYYY-MM], first and last month",
    "risks": "the risk register: a list of {id, name, probability, consequence, type}",
    "non_economic_gains": "a list of {name, unit, before, after, purpose}",
}
_RISK_KEYS = ("id", "name", "probability", "consequence", "type")
_GAIN_KEYS = ("name", "unit", "before", "after", "purpose")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})\Z")


class Month(NamedTuple):
    """A calendar month; ``serial`` counts months from year 0 so months subtract."""

    year: int
    month: int

    @property
    def serial(self) -> int:
        return self.year * 12 + self.month - 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Phase:
    """A phase of the project, from its first to its last month (both included)."""

    name: str
    start: Month
    end: Month
    line: int | None = field(default=None, compare=False)

    @property
    def months(self) -> int:
        return self.end.serial - self.start.serial + 1

    def months_in(self, year: int) -> int:
        """How many of the phase's months fall in ``year``."""
        first = max(self.start.serial, year * 12)
        last = min(self.end.serial, year * 12 + 11)
        return max(0, last - first + 1)


@dataclass(frozen=True)
class Risk:
    """One entry of the risk register; probability and consequence are on a 1-4 scale."""

    id: int
    name: str
    probability: int | None
    consequence: int | None
    type: str
    line: int | None = field(default=None, compare=False)


GENERAL_RISK = Risk(0, "General uncertainty", None, None, "general")


@dataclass(frozen=True)
class NonEconomicGain:
    """A gain not counted in money: a level before and after, and what the lift costs.

    Its cost is the risk-adjusted cost of the main nodes that serve ``purpose``
    (every cost when no purpose is given).
    """

    name: str
    unit: str
    before: float
    after: float
    purpose: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def lift(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class BusinessCase:
    """The ``business_case:`` section of a model file. ``None`` where a key is missing."""

    purpose: str | None = None
    secondary_purposes: tuple[str, ...] = ()
    start_year: int | None = None
    end_year: int | None = None
    discount_rate: float = DEFAULT_DISCOUNT_RATE
    finance_rate: float | None = None
    reinvestment_rate: float | None = None
    price_level: int | None = None
    high_risk: bool = False
    current_phase: str | None = None
    phases: Mapping[str, Phase] = field(default_factory=dict)
    risks: tuple[Risk, ...] = ()
    non_economic_gains: tuple[NonEconomicGain, ...] = ()
    line: int | None = field(default=None, compare=False)
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)

    @property
    def years(self) -> range:
        """The years counted, start to end; empty until both are set and ordered."""
        if self.start_year is None or self.end_year is None:
            return range(0)
        return range(self.start_year, self.end_year + 1)

    @property
    def mirr_rates(self) -> tuple[float, float]:
        """The MIRR's finance and reinvestment rates: each the discount rate unless given."""
        return (
            self.discount_rate if self.finance_rate is None else self.finance_rate,
            self.discount_rate if self.reinvestment_rate is None else self.reinvestment_rate,
        )

    @property
    def register(self) -> tuple[Risk, ...]:
        """The risk register with risk 0, general uncertainty, first."""
        return (GENERAL_RISK, *self.risks)

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


def year_weights(
    year: int | None,
    years: Sequence[int],
    profile: Sequence[float] | None,
    phase: Phase | None,
) -> dict[int, float]:
    """How much of a main node's amount falls in each year.

    ``year``: all of it in that year. ``years``: the amount counts in each listed
    year, times that year's ``profile`` entry (default 1). Neither, but a
    ``phase``: spread over the phase's years in proportion to its months.

    >>> year_weights(None, [2027, 2028], [0.5, 1], None)
    {2027: 0.5, 2028: 1.0}
    >>> year_weights(None, [], None, Phase("tender", Month(2025, 10), Month(2026, 3)))
    {2025: 0.5, 2026: 0.5}
    """
    if year is not None:
        return {year: 1.0}
    if years:
        shares = profile if profile is not None else [1.0] * len(years)
        weights: dict[int, float] = {}
        for y, share in zip(years, shares, strict=False):
            weights[y] = weights.get(y, 0.0) + float(share)
        return weights
    if phase is not None and phase.months > 0:
        spans = range(phase.start.year, phase.end.year + 1)
        return {y: phase.months_in(y) / phase.months for y in spans}
    return {}


# ---------------------------------------------------------------------------- reading


def business_case_from_keys(
    keys: Mapping[str, Any],
    *,
    file: str | None = None,
    line: int | None = None,
    lines: Mapping[str, int] | None = None,
) -> BusinessCase:
    """Read the ``business_case:`` mapping; raises :class:`ModelError` on a bad value.

    ``lines`` maps dotted paths (``discount_rate``, ``risks.0``, ``phases.tender``)
    to their line in the file, for the messages.

    >>> tender = {"tender": ["2025-01", "2025-06"]}
    >>> case = business_case_from_keys({"start_year": 2025, "end_year": 2027, "phases": tender})
    >>> list(case.years), case.phases["tender"].months
    ([2025, 2026, 2027], 6)
    """
    return _CaseReader(keys, file, line, dict(lines or {})).case()


@dataclass
class _CaseReader(KeyReader):
    """Reads the ``business_case:`` mapping; errors point at a dotted path (``risks.0.id``)."""

    keys: Mapping[str, Any]
    file: str | None
    line: int | None
    lines: dict[str, int]

    def fail(self, message: str, key: str, hint: str | None = None) -> ModelError:
        line = self.lines.get(key, self.lines.get(key.split(".")[0], self.line))
        return ModelError(f"business_case: {message}", file=self.file, line=line, hint=hint)

    def case(self) -> BusinessCase:
        if not isinstance(self.keys, Mapping):
            raise self.fail(
                f"must be a mapping of settings, not {type(self.keys).__name__}",
                "",
                "write e.g. 'business_case: {purpose: efficiency, start_year: 2025, ...}'",
            )
        for key in self.keys:
            if key not in CASE_KEYS:
                raise self.fail(
                    f"unknown key {shown(key)}", str(key), _suggest(str(key), CASE_KEYS)
                )
        get = self.keys.get
        return BusinessCase(
            purpose=self.text("purpose", get("purpose")),
            secondary_purposes=self.texts("secondary_purposes"),
            start_year=self.whole("start_year", get("start_year")),
            end_year=self.whole("end_year", get("end_year")),
            discount_rate=self.number("discount_rate", get("discount_rate", DEFAULT_DISCOUNT_RATE)),
            finance_rate=self.optional_number("finance_rate"),
            reinvestment_rate=self.optional_number("reinvestment_rate"),
            price_level=self.whole("price_level", get("price_level")),
            high_risk=self.flag("high_risk", get("high_risk", False)),
            current_phase=self.text("current_phase", get("current_phase")),
            phases=self.phases(),
            risks=self.risks(),
            non_economic_gains=self.gains(),
            line=self.line,
            key_lines={k: v for k, v in self.lines.items() if "." not in k},
        )

    # values (text, whole, number and flag come from KeyReader) ---------------

    def optional_number(self, key: str) -> float | None:
        """A finite number, or None when the key is missing."""
        raw = self.keys.get(key)
        return None if raw is None else self.number(key, raw)

    def texts(self, key: str) -> tuple[str, ...]:
        raw = self.keys.get(key)
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.fail(f"'{key}' must be a list of names, got {shown(raw)}", key)
        return tuple(items)

    def month(self, path: str, raw: Any) -> Month:
        match = _MONTH.match(raw) if isinstance(raw, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise self.fail(
                f"'{path}' must be a month written YYYY-MM, got {shown(raw)}",
                path,
                "e.g. [2025-04, 2025-09] for April to September 2025",
            )
        return Month(int(match.group(1)), int(match.group(2)))

    def entries(self, key: str) -> list[Any]:
        raw = self.keys.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise self.fail(f"'{key}' must be a list, got {shown(raw)}", key)
        return raw

    def mapping(self, path: str, raw: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(
                f"'{path}' must be a mapping with keys {', '.join(allowed)}, got {shown(raw)}", path
            )
        for key in raw:
            if key not in allowed:
                raise self.fail(
                    f"'{path}' has an unknown key {shown(key)}", path, _suggest(str(key), allowed)
                )
        return raw

    # sections ----------------------------------------------------------------

    def phases(self) -> dict[str, Phase]:
        raw = self.keys.get("phases")
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            raise self.fail("'phases' must map phase names to [first month, last month]", "phases")
        phases: dict[str, Phase] = {}
        for name, span in raw.items():
            path = f"phases.{name}"
            if name not in PHASES:
                raise self.fail(f"unknown phase {shown(name)}", path, _suggest(str(name), PHASES))
            if not isinstance(span, list) or len(span) != 2:
                raise self.fail(
                    f"phase '{name}' must be [first month, last month], got {shown(span)}",
                    path,
                    "e.g. tender: [2026-01, 2026-05]",
                )
            start, end = (self.month(path, m) for m in span)
            phases[name] = Phase(name, start, end, self.lines.get(path))
        return phases

    def risks(self) -> tuple[Risk, ...]:
        risks = []
        for k, raw in enumerate(self.entries("risks")):
            path = f"risks.{k}"
            keys = self.mapping(path, raw, _RISK_KEYS)
            risk_id = self.whole(f"{path}.id", keys.get("id"))
            if risk_id is None or keys.get("name") is None:
                raise self.fail("a risk needs an 'id' and a 'name'", path)
            risks.append(
                Risk(
                    id=risk_id,
                    name=self.text("name", keys["name"], path) or "",
                    probability=self.whole(f"{path}.probability", keys.get("probability")),
                    consequence=self.whole(f"{path}.consequence", keys.get("consequence")),
                    type=self.text("type", keys.get("type"), path) or "",
                    line=self.lines.get(path),
                )
            )
        return tuple(risks)

    def gains(self) -> tuple[NonEconomicGain, ...]:
        gains = []
        for k, raw in enumerate(self.entries("non_economic_gains")):
            path = f"non_economic_gains.{k}"
            keys = self.mapping(path, raw, _GAIN_KEYS)
            missing = [key for key in ("name", "before", "after") if key not in keys]
            if missing:
                raise self.fail(f"a non-economic gain needs {', '.join(missing)}", path)
            gains.append(
                NonEconomicGain(
                    name=self.text("name", keys["name"], path) or "",
                    unit=self.text("unit", keys.get("unit"), path) or "",
                    before=self.number(f"{path}.before", keys["before"]),
                    after=self.number(f"{path}.after", keys["after"]),
                    purpose=self.text("purpose", keys.get("purpose"), path),
                    line=self.lines.get(path),
                )
            )
        return tuple(gains)


def _suggest(word: str, choices: Sequence[str] | Mapping[str, Any]) -> str:
    return did_you_mean(word, choices, "known: " + ", ".join(choices))
