"""Tests for the business-case rules of ``check``: each rule passes a clean case and
fails a case broken in one place, with the right code, severity, node and line.

The models are written as plain data and read through the file reader
(``loads(yaml.safe_dump(...))``), so the diagnostics carry real lines.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from assumption_graph.errors import Diagnostic
from assumption_graph.io import loads, read_model
from assumption_graph.validate import CODES, CheckedModel, check

from . import business_models

ROOT = Path(__file__).resolve().parent.parent

CASE: dict[str, Any] = {
    "name": "Check",
    "business_case": {
        "purpose": "efficiency",
        "secondary_purposes": ["quality"],
        "start_year": 2025,
        "end_year": 2028,
        "discount_rate": 0.05,
        "current_phase": "analysis",
        "phases": {
            "analysis": ["2025-01", "2025-06"],
            "implementation": ["2025-07", "2026-06"],
        },
        "risks": [
            {
                "id": 1,
                "name": "Capacity",
                "probability": 2,
                "consequence": 3,
                "type": "organisation",
            },
            {"id": 2, "name": "Supplier", "probability": 3, "consequence": 2, "type": "suppliers"},
        ],
        "non_economic_gains": [
            {
                "name": "Satisfaction",
                "unit": "points",
                "before": 3,
                "after": 4,
                "purpose": "quality",
            }
        ],
    },
    "nodes": {
        "hours": {"estimate": [80, 100, 150], "unit": "h", "risk": [1], "source": "s"},
        "rate": {"value": 0.9, "unit": "tkr/h", "source": "s"},
        "minutes": {
            "situation": {"without": {"estimate": [20, 30, 40]}, "with": {"value": 10}},
            "risk": [2, 0],
            "source": "s",
        },
        "build": {
            "kind": "main",
            "side": "cost",
            "category": "intangible",
            "phase": "implementation",
            "formula": "hours * rate",
            "purpose": "efficiency",
        },
        "study": {
            "kind": "main",
            "side": "cost",
            "category": "other_services",
            "phase": "analysis",
            "year": 2025,
            "estimate": [10, 20, 30],
            "risk": [1],
            "source": "s",
        },
        "work": {
            "kind": "main",
            "side": "operating",
            "category": "staff",
            "years": [2026, 2027, 2028],
            "profile": [0.5, 1, 1],
            "formula": "minutes * 2",
            "purpose": "quality",
        },
        "saving": {"kind": "main", "side": "gain", "year": 2027, "value": 50, "source": "s"},
    },
}

Change = Callable[[dict[str, Any]], None]


def checked(change: Change | None = None) -> CheckedModel:
    """``check`` of the clean case, after ``change`` edits a copy of its data."""
    data = copy.deepcopy(CASE)
    if change is not None:
        change(data)
    return check(loads(yaml.safe_dump(data, sort_keys=False), file="case.yaml"))


def case(**keys: Any) -> Change:
    """Set (or, with ``None``, remove) keys of ``business_case:``."""

    def change(data: dict[str, Any]) -> None:
        for key, value in keys.items():
            if value is None:
                data["business_case"].pop(key, None)
            else:
                data["business_case"][key] = value

    return change


def node(node_id: str, **keys: Any) -> Change:
    """Set (or, with ``None``, remove) keys of one node."""

    def change(data: dict[str, Any]) -> None:
        for key, value in keys.items():
            if value is None:
                data["nodes"][node_id].pop(key, None)
            else:
                data["nodes"][node_id][key] = value

    return change


def risk(index: int, **keys: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        entry = data["business_case"]["risks"][index]
        entry.update(keys)
        for key in [k for k, v in keys.items() if v is None]:
            del entry[key]

    return change


def gain(**keys: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["business_case"]["non_economic_gains"][0].update(keys)

    return change


def phases(**spans: list[str]) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["business_case"]["phases"] = spans

    return change


def both(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for one in changes:
            one(data)

    return change


def test_clean_case_has_no_diagnostics() -> None:
    assert checked().diagnostics == ()


# Each rule: (code, severity, a change that breaks it, the node named or None, and
# text the message must hold), then a change near it that must still pass.
FAILING: list[tuple[str, str, Change, str | None, str]] = [
    ("no-purpose", "warning", case(purpose=None), None, "add 'purpose:'"),
    ("unknown-purpose", "error", case(purpose="efficency"), None, "did you mean 'efficiency'"),
    ("unknown-purpose", "error", case(secondary_purposes=["speed"]), None, "'speed'"),
    ("unknown-purpose", "error", gain(purpose="fun"), None, "non-economic gain 'Satisfaction'"),
    ("secondary-purpose", "error", case(secondary_purposes=["efficiency"]), None, "primary"),
    ("secondary-purpose", "error", case(secondary_purposes=["quality"] * 2), None, "twice"),
    ("off-purpose", "warning", node("build", purpose="compliance"), "build", "'compliance'"),
    ("off-purpose", "warning", gain(purpose="compliance"), None, "'Satisfaction'"),
    ("case-years", "error", case(end_year=None), None, "no 'end_year'"),
    ("case-years", "error", case(start_year=None), None, "no 'start_year'"),
    ("case-years", "error", case(start_year=2029), None, "ends (2028) before it starts"),
    ("discount-rate", "error", case(discount_rate=-1), None, "as a fraction"),
    ("discount-rate", "error", case(discount_rate=1e300), None, "above 10 (1000 % a year)"),
    ("case-years", "error", case(end_year=2999), None, "counts 975 years"),
    ("case-years", "error", case(end_year=1_002_025), None, "not a calendar year"),
    ("case-years", "error", case(start_year=0), None, "between 1 and 9999"),
    ("discount-percent", "warning", case(discount_rate=5), None, "write 0.05"),
    ("discount-rate", "error", case(finance_rate=-1.5), None, "finance_rate -1.5"),
    ("discount-rate", "error", case(reinvestment_rate=-1), None, "reinvestment_rate -1 is"),
    ("discount-percent", "warning", case(finance_rate=4), None, "finance_rate 4 means 400 %"),
    ("discount-percent", "warning", case(reinvestment_rate=6), None, "write 0.06"),
    ("no-side", "error", node("saving", side=None), "saving", "'side: cost'"),
    ("unknown-category", "error", node("build", category="it"), "build", "'it'"),
    ("unknown-category", "error", node("work", category="stuff"), "work", "'staff'"),
    ("no-category", "warning", node("build", category=None), "build", "add one of staff"),
    ("no-period", "error", node("saving", year=None), "saving", "'year', 'years' or 'phase'"),
    ("period-conflict", "error", node("saving", years=[2027, 2028]), "saving", "both"),
    ("period-conflict", "error", node("work", years=[2026, 2026, 2027]), "work", "2026"),
    ("profile", "error", node("work", profile=[1, 1]), "work", "2 profile share(s) for 3"),
    ("profile", "error", node("saving", profile=[1]), "saving", "no 'years'"),
    ("year-range", "error", node("saving", year=2030), "saving", "2030"),
    ("year-range", "error", node("work", years=[2027, 2028, 2029]), "work", "2029"),
    (
        "year-range",
        "error",
        phases(analysis=["2024-07", "2025-06"], implementation=["2025-07", "2026-06"]),
        None,
        "phase 'analysis' (2024-07 to 2025-06) is not inside the business case's years",
    ),
    ("phase-years", "error", node("study", year=2026), "study", "phase 'analysis'"),
    ("phase-years", "error", node("build", years=[2026, 2027]), "build", "2027"),
    ("unknown-phase", "error", node("build", phase="build"), "build", "unknown phase 'build'"),
    ("unknown-phase", "error", case(current_phase="analysys"), None, "'analysis'"),
    ("undefined-phase", "error", node("build", phase="tender"), "build", "tender: [YYYY-MM"),
    ("phase-dates", "error", phases(analysis=["2025-06", "2025-01"]), None, "ends (2025-01)"),
    (
        "phase-order",
        "error",
        phases(implementation=["2025-01", "2025-06"], analysis=["2025-07", "2026-06"]),
        None,
        "'implementation' starts (2025-01) before phase 'analysis'",
    ),
    (
        "phase-overlap",
        "error",
        phases(analysis=["2025-01", "2025-07"], implementation=["2025-07", "2026-06"]),
        None,
        "before phase 'analysis' ends (2025-07)",
    ),
    ("risk-id", "error", risk(1, id=0), None, "reserved for general uncertainty"),
    ("risk-id", "error", risk(1, id=1), None, "used twice"),
    ("risk-scale", "error", risk(0, probability=5), None, "probability must be a whole number"),
    ("risk-scale", "error", risk(0, consequence=None), None, "consequence"),
    ("risk-type", "error", risk(0, type="organization"), None, "did you mean 'organisation'"),
    ("node-risk", "error", node("hours", risk=[1, 2, 0]), "hours", "at most one"),
    ("node-risk", "error", node("hours", risk=[1, 1]), "hours", "different"),
    ("node-risk", "error", node("hours", risk=[3]), "hours", "not in the risk register"),
    ("risk-target", "error", node("build", risk=[1]), "build", "has a formula"),
    ("risk-constant", "warning", node("rate", risk=[1]), "rate", "no uncertainty"),
    ("main-only-key", "warning", node("hours", category="staff"), "hours", "'category'"),
    ("main-only-key", "warning", node("rate", side="cost", year=2025), "rate", "'side', 'year'"),
    ("no-lift", "warning", gain(after=3), None, "same level before and after"),
    (
        "situation-side",
        "warning",
        node("build", formula="hours * rate * minutes / 10"),
        "build",
        "only its value with the project counts",
    ),
]

PASSING: list[tuple[str, Change]] = [
    (
        "secondary purposes may be empty",
        both(case(secondary_purposes=None), gain(purpose=None), node("work", purpose=None)),
    ),
    ("a node may serve a secondary purpose", node("build", purpose=["efficiency", "quality"])),
    (
        "a one-year case",
        both(
            case(end_year=2025),
            node("saving", year=2025),
            node("work", years=[2025], profile=None),
            phases(analysis=["2025-01", "2025-06"]),
            node("build", phase="analysis"),
        ),
    ),
    ("a negative rate above -1", case(discount_rate=-0.5)),
    ("a rate of exactly 25 %", case(discount_rate=0.25)),
    ("the default rate", case(discount_rate=None)),
    ("an operating cost needs no category", node("work", category=None)),
    ("a gain may have a category", node("saving", category="staff")),
    ("years without a profile", node("work", profile=None)),
    ("a year inside its phase", node("build", year=2026)),
    ("years touching the phase", node("build", years=[2025, 2026])),
    ("a phase alone spans years", node("study", year=None)),
    ("current phase need not be defined", case(current_phase="idea")),
    (
        "no phases at all",
        both(phases(), node("build", phase=None, year=2026), node("study", phase=None)),
    ),
    (
        "phases back to back",
        phases(analysis=["2025-01", "2025-06"], implementation=["2025-07", "2025-07"]),
    ),
    (
        "an empty register",
        both(
            case(risks=None),
            node("hours", risk=[0]),
            node("minutes", risk=None),
            node("study", risk=None),
        ),
    ),
    ("risk 0 alone", node("hours", risk=[0])),
    ("a main node without formula may carry a risk", node("saving", risk=[2, 1])),
    ("a lift down is still a lift", gain(after=2)),
]


def test_every_failing_change_is_one_rule() -> None:
    assert {code for code, *_ in FAILING} == set(business_codes())


@pytest.mark.parametrize(
    ("code", "severity", "change", "node_id", "text"),
    FAILING,
    ids=[f"{code}-{i}" for i, (code, *_) in enumerate(FAILING)],
)
def test_rule_fails(
    code: str, severity: str, change: Change, node_id: str | None, text: str
) -> None:
    found = [d for d in checked(change).diagnostics if d.code == code]
    assert len(found) == 1, checked(change).diagnostics
    diagnostic = found[0]
    assert diagnostic.severity == severity
    assert diagnostic.node == node_id
    assert text in diagnostic.message, diagnostic.message
    assert diagnostic.file == "case.yaml" and diagnostic.line is not None
    if node_id is not None:
        assert f"'{node_id}'" in diagnostic.message


@pytest.mark.parametrize(("why", "change"), PASSING, ids=[why for why, _ in PASSING])
def test_rule_passes(why: str, change: Change) -> None:
    assert checked(change).diagnostics == ()


def test_a_broken_rule_points_at_the_line_of_its_key() -> None:
    clean = yaml.safe_dump(CASE, sort_keys=False)
    for code, written, broken in [
        ("discount-percent", "discount_rate: 0.05", "discount_rate: 5"),
        ("year-range", "year: 2027", "year: 2031"),
        ("phase-dates", "analysis:\n", "analysis: [2025-06, 2025-01]\n"),
    ]:
        text = clean.replace(written, broken, 1)
        if code == "phase-dates":  # drop the two list items that followed 'analysis:'
            text = re.sub(r"(analysis: \[2025-06, 2025-01\]\n)(\s+- .*\n){2}", r"\1", text)
        line = only(check(loads(text)), code).line
        assert line is not None
        assert text.splitlines()[line - 1].strip() == broken.strip()


def test_a_mirr_rate_in_percent_points_at_its_own_line() -> None:
    text = yaml.safe_dump(CASE, sort_keys=False).replace(
        "discount_rate: 0.05", "discount_rate: 0.05\n  finance_rate: 3", 1
    )
    line = only(check(loads(text)), "discount-percent").line
    assert line is not None
    assert text.splitlines()[line - 1].strip() == "finance_rate: 3"


def only(result: CheckedModel, code: str) -> Diagnostic:
    assert [d.code for d in result.diagnostics] == [code], result.diagnostics
    return result.diagnostics[0]


# ---------------------------------------------------------------------------- no business case


def test_without_a_business_case_its_keys_get_one_warning_per_node() -> None:
    text = (
        "nodes:\n"
        "  hours: {estimate: [1, 2, 3], risk: [1], category: staff, source: s}\n"
        "  running:\n"
        "    situation: {without: {value: 3}, with: {value: 2}}\n"
        "    source: s\n"
        "  cost: {kind: main, formula: hours * 2, side: cost, year: 2026, phase: tender}\n"
        "  other: {kind: main, formula: running, side: operating}\n"
    )
    found = check(loads(text)).diagnostics
    assert [(d.code, d.severity, d.node, d.line) for d in found] == [
        ("ignored-case-keys", "warning", "hours", 2),
        ("ignored-case-keys", "warning", "cost", 6),
    ]
    assert "'category', 'risk'" in found[0].message
    assert "business-case keys are ignored without a 'business_case:' section" in found[0].message
    assert "'phase', 'year'" in found[1].message


def test_without_a_business_case_no_business_rule_runs() -> None:
    text = "nodes:\n  a: {value: 1, source: s, unused: true}\n  m: {kind: main, formula: a * 2}\n"
    assert check(loads(text)).diagnostics == ()  # a main node without side, year or purpose


# ---------------------------------------------------------------------------- models in the repo


def test_the_example_business_case_is_clean() -> None:
    model, problems = read_model(ROOT / "examples" / "business_case.yaml")
    assert check(model, problems).diagnostics == ()


@pytest.mark.parametrize("name", ["SPREAD", "WEIGHTED", "BEST_WORST", "CRN", "RISKS", "LINEAR"])
def test_the_figure_test_models_have_no_errors(name: str) -> None:
    result = check(loads(getattr(business_models, name)))
    assert result.ok, result.errors
    assert {d.code for d in result.warnings} <= {"no-purpose", "no-category"}


# ---------------------------------------------------------------------------- the code table


def business_codes() -> list[str]:
    """The codes of the business-case rules, as registered."""
    return [code.code for code in CODES.values() if code.business_case]


def test_the_registry_lists_every_code_with_its_severity() -> None:
    for code, severity, *_ in FAILING:
        assert CODES[code].severity == severity
    assert CODES["ignored-case-keys"].severity == "warning"
