"""The typed key checks shared by the node reader and the business-case reader.

Each check is written once (``assumption_graph.keys``), so a node key and a
``business_case:`` key of the same kind accept the same values and reject the
rest with the same words; only where the error points differs.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assumption_graph.business import business_case_from_keys
from assumption_graph.errors import ModelError, shown
from assumption_graph.io import read_model_text
from assumption_graph.model import node_from_keys

# (kind, a node key, a business_case key of the same kind)
PAIRS = {
    "text": ("label", "purpose"),
    "whole": ("year", "start_year"),
    "number": ("value", "discount_rate"),
    "flag": ("unused", "high_risk"),
}
WORDING = {
    "text": "must be text",
    "whole": "must be a whole number",
    "number": "must be a finite number",
    "flag": "must be true or false",
}
BAD = [
    ("text", [1]),
    ("text", {"a": 1}),
    ("text", True),
    ("whole", 2025.5),
    ("whole", "soon"),
    ("whole", True),
    ("whole", math.inf),
    ("whole", math.nan),
    ("number", "abc"),
    ("number", None),
    ("number", False),
    ("number", math.inf),
    ("number", -math.inf),
    ("number", math.nan),
    ("number", 10**400),
    ("flag", 1),
    ("flag", "yes"),
    ("flag", None),
]


def read_node(key: str, raw: Any) -> Any:
    """The node's field for ``key``; ``value`` is the node's body."""
    keys = {key: raw} if key == "value" else {"value": 1, key: raw}
    node = node_from_keys("a", keys)
    return node.body.value if key == "value" else getattr(node, key)  # type: ignore[union-attr]


def read_case(key: str, raw: Any) -> Any:
    return getattr(business_case_from_keys({key: raw}), key)


def message(read: Any, key: str, raw: Any) -> str:
    with pytest.raises(ModelError) as caught:
        read(key, raw)
    return caught.value.message


@pytest.mark.parametrize(("kind", "raw"), BAD, ids=[f"{k}-{r!r:.12}" for k, r in BAD])
def test_both_readers_reject_a_bad_value_with_the_same_words(kind: str, raw: Any) -> None:
    node_key, case_key = PAIRS[kind]
    expected = f"{WORDING[kind]}, got {shown(raw)}"
    assert message(read_node, node_key, raw) == f"'{node_key}' {expected}"
    assert message(read_case, case_key, raw) == f"business_case: '{case_key}' {expected}"


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("text", "Consultant hours", "Consultant hours"),
        ("text", 12, "12"),  # a number is text as written
        ("text", None, None),
        ("whole", 2025, 2025),
        ("whole", 2025.0, 2025),
        ("whole", None, None),
        ("number", 3, 3.0),
        ("number", -0.25, -0.25),
        ("flag", True, True),
        ("flag", False, False),
    ],
)
def test_both_readers_accept_the_same_values(kind: str, raw: Any, expected: Any) -> None:
    node_key, case_key = PAIRS[kind]
    node_value, case_value = read_node(node_key, raw), read_case(case_key, raw)
    if kind == "text" and raw is None:
        node_value = node_value or None  # a node's missing label reads as ""
    assert node_value == case_value == expected
    assert type(case_value) is type(expected)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**1023, max_value=2**1100),
    st.floats(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@given(kind=st.sampled_from(["text", "whole", "flag"]), raw=SCALARS)
def test_any_value_gets_the_same_verdict_from_both_readers(kind: str, raw: Any) -> None:
    node_key, case_key = PAIRS[kind]
    verdicts = []
    for read, key in ((read_node, node_key), (read_case, case_key)):
        try:
            value = read(key, raw)
        except ModelError as error:
            verdicts.append(("error", error.message.split(f"'{key}' ", 1)[1]))
        else:
            verdicts.append(("ok", value if value != "" else None))
    assert verdicts[0] == verdicts[1]


def as_finite_float(raw: Any) -> float | None:
    """The float a number check should accept ``raw`` as, or None to reject it."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


@given(raw=SCALARS.filter(lambda raw: not isinstance(raw, list)))
def test_any_number_gets_the_same_verdict_from_both_readers(raw: Any) -> None:
    """``value`` and ``discount_rate`` (a list value has its own hint on a node)."""
    expected = as_finite_float(raw)
    if expected is not None:
        assert read_node("value", raw) == read_case("discount_rate", raw) == expected
    else:
        assert message(read_node, "value", raw).startswith("'value' must be a finite number")
        assert message(read_case, "discount_rate", raw).startswith(
            "business_case: 'discount_rate' must be a finite number"
        )


def test_a_list_of_whole_numbers_names_the_whole_list() -> None:
    assert node_from_keys("a", {"value": 1, "years": [2025, 2026.0]}).years == (2025, 2026)
    assert node_from_keys("a", {"value": 1, "risk": 2}).risk == (2,)
    for raw in ([2025, 2026.5], [2025, None], "2025", 1.5, [math.nan]):
        assert message(read_node, "years", raw) == f"'years' must hold whole numbers, got {raw!r}"


@pytest.mark.parametrize(
    ("text", "code", "line", "node", "expected"),
    [
        (
            "nodes:\n  a:\n    value: 1\n    year: .inf\n",
            "node-definition",
            4,
            "a",
            "'year' must be a whole number, got inf",
        ),
        (
            "nodes:\n  a:\n    unit: h\n    value: 1" + "0" * 400 + "\n",
            "node-definition",
            4,
            "a",
            "'value' must be a finite number, got " + shown(10**400),  # cut short
        ),
        (
            "nodes:\n  a: {value: 1}\nbusiness_case:\n  end_year: 2027\n  start_year: .nan\n",
            "business-case",
            5,
            None,
            "business_case: 'start_year' must be a whole number, got nan",
        ),
    ],
)
def test_values_that_once_crashed_are_errors_at_their_line(
    text: str, code: str, line: int, node: str | None, expected: str
) -> None:
    """inf, nan and ints beyond a float used to end in OverflowError/ValueError."""
    _, diagnostics = read_model_text(text, file="m.yaml")
    assert [(d.code, d.line, d.node, d.message) for d in diagnostics] == [
        (code, line, node, expected)
    ]
