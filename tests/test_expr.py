"""Tests for the formula language: parsing, rejection messages, names, rename and to_source."""

from __future__ import annotations

import ast
import copy
import dataclasses
import math
import pickle
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assumption_graph import expr as expr_module
from assumption_graph import functions as functions_module
from assumption_graph.errors import AssumptionGraphError, FormulaError
from assumption_graph.expr import (
    FUNCTIONS,
    Binary,
    Call,
    Compare,
    Formula,
    IfElse,
    Name,
    Num,
    Unary,
    names,
    parse_formula,
    rename,
    to_source,
)

a, b, c, d, x = Name("a"), Name("b"), Name("c"), Name("d"), Name("x")

# ------------------------------------------------------------------------------ accepted

ACCEPTED = [
    ("1", Num(1.0)),
    ("2.5", Num(2.5)),
    ("1e3", Num(1000.0)),
    ("1_000", Num(1000.0)),
    ("a", a),
    ("hours_2", Name("hours_2")),
    ("_x", Name("_x")),
    ("-a", Unary("-", a)),
    ("+a", Unary("+", a)),
    ("-2", Unary("-", Num(2.0))),
    ("- -a", Unary("-", Unary("-", a))),
    ("a + b", Binary("+", a, b)),
    ("a - b", Binary("-", a, b)),
    ("a * b", Binary("*", a, b)),
    ("a / b", Binary("/", a, b)),
    ("a ** b", Binary("**", a, b)),
    ("a - b - c", Binary("-", Binary("-", a, b), c)),
    ("a ** b ** c", Binary("**", a, Binary("**", b, c))),
    ("-a ** b", Unary("-", Binary("**", a, b))),
    ("a ** -b", Binary("**", a, Unary("-", b))),
    ("a + b * c", Binary("+", a, Binary("*", b, c))),
    ("(a + b) * c", Binary("*", Binary("+", a, b), c)),
    ("a < b", Compare("<", a, b)),
    ("a <= b", Compare("<=", a, b)),
    ("a > b", Compare(">", a, b)),
    ("a >= b", Compare(">=", a, b)),
    ("a == b", Compare("==", a, b)),
    ("a != b", Compare("!=", a, b)),
    ("a < b < c", Binary("*", Compare("<", a, b), Compare("<", b, c))),
    (
        "a < b <= c > d",
        Binary("*", Binary("*", Compare("<", a, b), Compare("<=", b, c)), Compare(">", c, d)),
    ),
    ("(a < b) < c", Compare("<", Compare("<", a, b), c)),
    ("a if b > 0 else c", IfElse(Compare(">", b, Num(0.0)), a, c)),
    ("a if b else c if d else x", IfElse(b, a, IfElse(d, c, x))),
    ("min(a, b)", Call("min", (a, b))),
    ("max(a, b, c, 1)", Call("max", (a, b, c, Num(1.0)))),
    ("clip(x, 0, 1)", Call("clip", (x, Num(0.0), Num(1.0)))),
    ("log(exp(a))", Call("log", (Call("exp", (a,)),))),
    (
        "round(a) + floor(b) + ceil(c)",
        Binary("+", Binary("+", Call("round", (a,)), Call("floor", (b,))), Call("ceil", (c,))),
    ),
    ("  a + b  ", Binary("+", a, b)),
    ("\n\ta * b\n", Binary("*", a, b)),
    ("(a +\n b)", Binary("+", a, b)),
    ("min(a,\n    b)", Call("min", (a, b))),
    ("max", Name("max")),  # a node may be called like a function; a bare name is a node id
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_constructs_parse_to_the_right_tree(text: str, expected: object) -> None:
    formula = parse_formula(text)
    assert formula.expr == expected
    assert formula.text == text


@pytest.mark.parametrize("func", sorted(FUNCTIONS))
def test_every_function_parses_with_its_minimum_arity(func: str) -> None:
    low, _ = FUNCTIONS[func]
    args = ", ".join(f"a{i}" for i in range(low))
    assert parse_formula(f"{func}({args})").expr == Call(
        func, tuple(Name(f"a{i}") for i in range(low))
    )


def test_functions_table_matches_the_design() -> None:
    single = {"abs", "sqrt", "exp", "log", "floor", "ceil", "round", "sin", "cos", "tan"}
    assert FUNCTIONS == {
        **{f: (1, 1) for f in single},
        "min": (2, None),
        "max": (2, None),
        "clip": (3, 3),
    }


def test_numbers_are_stored_as_floats() -> None:
    value = parse_formula("3").expr
    assert isinstance(value, Num) and type(value.value) is float
    assert type(Num(3).value) is float


def test_formula_records_text_expr_and_names() -> None:
    formula = parse_formula("hours * rate + hours")
    assert formula == Formula(
        "hours * rate + hours",
        Binary("+", Binary("*", Name("hours"), Name("rate")), Name("hours")),
        frozenset({"hours", "rate"}),
    )


def test_trees_are_frozen_and_hashable() -> None:
    tree = parse_formula("min(a, b) + 1").expr
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.op = "-"  # type: ignore[union-attr, misc]
    assert hash(tree) == hash(parse_formula("min(a,b)+1").expr)


def test_trees_are_slotted_and_survive_copy_and_pickle() -> None:
    formula = parse_formula("min(a, -b) * 2 if c < 1 else max(a, b, 3)")
    assert not hasattr(formula.expr, "__dict__") and not hasattr(formula, "__dict__")
    for clone in (copy.deepcopy(formula), pickle.loads(pickle.dumps(formula))):
        assert clone == formula and hash(clone.expr) == hash(formula.expr)


def test_call_args_become_a_tuple() -> None:
    assert Call("min", [a, b]).args == (a, b)  # type: ignore[arg-type]


@pytest.mark.parametrize(("cls", "op"), [(Unary, "*"), (Binary, "//"), (Compare, "<>")])
def test_unknown_operators_cannot_be_built(cls: type, op: str) -> None:
    with pytest.raises(ValueError, match="operator"):
        cls(op, *([a] if cls is Unary else [a, b]))


# ------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2", set()),
        ("a", {"a"}),
        ("a * a", {"a"}),
        ("min(a, b) + c ** -d", {"a", "b", "c", "d"}),
        ("a if b < c else d", {"a", "b", "c", "d"}),
        ("clip(x, 0, 1)", {"x"}),  # function names are not node ids
    ],
)
def test_names_are_the_node_ids_used(text: str, expected: set[str]) -> None:
    formula = parse_formula(text)
    assert names(formula.expr) == frozenset(expected)
    assert formula.names == frozenset(expected)


def test_names_handles_very_long_chains() -> None:
    formula = parse_formula(" < ".join(f"n{i}" for i in range(2000)))
    assert formula.names == frozenset(f"n{i}" for i in range(2000))


# ------------------------------------------------------------------------------ rejected

# (text, column, text the message must contain)
REJECTED = [
    ("os.system(1)", 1, "attribute access '.system'"),
    ("a.b", 1, "attribute access '.b'"),
    ("a + b.c", 5, "attribute access '.c'"),
    ("a[1]", 1, "subscript 'a[1]'"),
    ("a[1:2]", 1, "subscript 'a[1:2]'"),
    ("'text'", 1, "string 'text'"),
    ("a + b'x'", 5, "string b'x'"),
    ("lambda: 1", 1, "lambda 'lambda: 1'"),
    ("[y for y in a]", 1, "comprehension '[y for y in a]'"),
    ("{y for y in a}", 1, "comprehension '{y for y in a}'"),
    ("{y: 1 for y in a}", 1, "comprehension '{y: 1 for y in a}'"),
    ("max(y for y in a)", 4, "generator expression '(y for y in a)'"),
    ("a and b", 1, "boolean operator 'and' in 'a and b'"),
    ("1 + (a or b)", 6, "boolean operator 'or' in 'a or b'"),
    ("not a", 1, "boolean operator 'not' in 'not a'"),
    ("a // b", 1, "operator '//' in 'a // b'"),
    ("a % b", 1, "operator '%' in 'a % b'"),
    ("a ^ b", 1, "bitwise operator '^' in 'a ^ b'"),
    ("a & b", 1, "bitwise operator '&' in 'a & b'"),
    ("a | b", 1, "bitwise operator '|' in 'a | b'"),
    ("a << b", 1, "bitwise operator '<<' in 'a << b'"),
    ("a >> b", 1, "bitwise operator '>>' in 'a >> b'"),
    ("~a", 1, "bitwise operator '~' in '~a'"),
    ("a @ b", 1, "operator '@' in 'a @ b'"),
    ("a in b", 1, "operator 'in' in 'a in b'"),
    ("a not in b", 1, "operator 'not in' in 'a not in b'"),
    ("a is b", 1, "operator 'is' in 'a is b'"),
    ("a is not b", 1, "operator 'is not' in 'a is not b'"),
    ("__import__('os')", 1, "unknown function '__import__'; allowed: abs, ceil"),
    ("eval('1')", 1, "unknown function 'eval'; allowed:"),
    ("2 * foo(x)", 5, "unknown function 'foo'; allowed: abs, ceil, clip"),
    ("(lambda: 1)()", 2, "calling 'lambda: 1'"),
    ("a[0](1)", 1, "calling 'a[0]'"),
    ("abs(a, b)", 1, "'abs(a, b)' passes 2 arguments; abs takes 1: abs(x)"),
    ("sqrt()", 1, "'sqrt()' passes 0 arguments; sqrt takes 1"),
    ("clip(a, 1)", 1, "'clip(a, 1)' passes 2 arguments; clip takes 3: clip(x, lo, hi)"),
    ("a + min(a)", 5, "'min(a)' passes 1 argument; min takes at least 2"),
    ("max(a)", 1, "max takes at least 2"),
    ("min(a, b=1)", 8, "keyword argument 'b=1'"),
    ("min(**k)", 5, "keyword argument '**k'"),
    ("min(*a)", 5, "starred argument '*a'"),
    ("(y := 1)", 2, "assignment expression 'y := 1'"),
    ("f'{a}'", 1, "f-string 'f'{a}''"),
    ("(a, b)", 1, "tuple '(a, b)'"),
    ("a, b", 1, "tuple 'a, b'"),
    ("[a]", 1, "list '[a]'"),
    ("{a: 1}", 1, "dict '{a: 1}'"),
    ("{a}", 1, "set '{a}'"),
    ("None", 1, "'None' is not allowed"),
    ("True", 1, "'True' is not allowed"),
    ("a * False", 5, "'False' is not allowed"),
    ("__x + 1", 1, "name '__x'"),
    ("a + __builtins__", 5, "name '__builtins__'"),
    ("é + 1", 1, "name 'é'"),
    ("\ufb01 + 1", 1, "name '\ufb01'"),  # the 'fi' ligature, which Python folds to 'fi'
    ("1j", 1, "complex number '1j'"),
    ("...", 1, "'...' is not allowed"),
    ("1e400", 1, "number '1e400' is too large"),
    ("(yield a)", 2, "'yield a'"),
    ("await a", 1, "'await a'"),
]


@pytest.mark.parametrize(("text", "column", "fragment"), REJECTED)
def test_rejected_constructs_name_node_text_and_column(
    text: str, column: int, fragment: str
) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text, node="cost", file="model.yaml", line=7)
    error = info.value
    message = str(error)
    assert fragment in message
    assert error.column == column
    assert f"(column {column})" in message
    assert (error.node, error.file, error.line) == ("cost", "model.yaml", 7)
    assert message.startswith("model.yaml:7: node 'cost': ")


@pytest.mark.parametrize("text", [t for t, _, _ in REJECTED])
def test_rejections_without_context_still_quote_the_formula(text: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    error = info.value
    assert error.node is None and error.file is None and error.line is None
    assert isinstance(error, AssumptionGraphError)
    assert "node '" not in str(error)
    assert error.column is not None and error.column >= 1


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("a.b", "formulas use node ids, numbers, + - * / **, comparisons"),
        ("a[1]", "'a if c else b' and the functions abs, ceil, clip"),
        ("foo(x)", "allowed: abs, ceil, clip, cos, exp, floor, log, max, min, round, sin,"),
    ],
)
def test_messages_say_what_is_allowed(text: str, allowed: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert allowed in str(info.value)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("a and b", "min("),
        ("a or b", "max("),
        ("not a", "a == 0"),
        ("a // b", "floor(a / b)"),
        ("a % b", "floor(a / b)"),
        ("a ^ b", "**"),
        ("min(a, b=1)", "by position"),
    ],
)
def test_rejections_suggest_the_allowed_form(text: str, suggestion: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert info.value.hint is not None and suggestion in info.value.hint
    assert suggestion in str(info.value)


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("  a.b", 3),  # leading whitespace counts
        ("\n  a + b.c", 7),  # columns are within the offending line
        ("(a +\n  b.c)", 3),
        ("min('\u00e9', b=1)", 10),  # characters, not UTF-8 bytes
    ],
)
def test_columns_count_characters_in_the_original_text(text: str, column: int) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert info.value.column == column


def test_error_on_a_later_line_of_a_multiline_formula_says_which_line() -> None:
    with pytest.raises(FormulaError, match="on line 2 of the formula"):
        parse_formula("(a +\n  b.c)")


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_formula_is_rejected(text: str) -> None:
    with pytest.raises(FormulaError, match="formula is empty") as info:
        parse_formula(text, node="cost")
    assert info.value.column == 1
    assert info.value.node == "cost"


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("a b", 3),
        ("  a b", 5),
        ("a < (b", 5),
        ("a +* b", 4),
        ("min(a,, b)", 7),
        ("a\0", 2),
    ],
)
def test_syntax_errors_carry_a_column(text: str, column: int) -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(text, node="cost", line=3)
    error = info.value
    assert str(error).startswith("node 'cost': syntax error in formula '")
    assert error.column == column
    assert error.line == 3


def test_syntax_error_message_quotes_formula_and_python_reason() -> None:
    with pytest.raises(FormulaError, match=r"syntax error in formula 'a < \(b': '\(' was never"):
        parse_formula("a < (b")


def test_multiline_formula_without_parentheses_gets_a_hint() -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula("a +\n b")
    assert info.value.hint is not None and "parentheses" in info.value.hint


@pytest.mark.parametrize("text", ["-" * 20000 + "a", "a ** " * 5000 + "a"])
def test_formula_too_deep_for_python_is_a_formula_error(text: str) -> None:
    with pytest.raises(FormulaError, match="nesting deeper than 200 levels") as info:
        parse_formula(text, node="cost")
    assert info.value.node == "cost"
    assert info.value.hint is not None and "intermediate nodes" in info.value.hint


def test_nesting_limit_is_deterministic_and_reported_where_it_is_hit() -> None:
    longest = parse_formula(" + ".join(f"n{i}" for i in range(200))).expr
    assert parse_formula(to_source(longest)).expr == longest
    assert rename(longest, {"n0": "m"}) != longest
    with pytest.raises(FormulaError, match="nesting deeper than 200 levels") as info:
        parse_formula("-" * 200 + "a")
    assert info.value.column == 201
    # a chain of one precedence is not nesting: its terms are all one level deep
    assert len(parse_formula(" + ".join(f"n{i}" for i in range(201))).names) == 201
    with pytest.raises(FormulaError, match="nesting deeper than 200 levels"):
        parse_formula("b + (a + " * 199 + "a" + ")" * 199)


def test_long_formulas_are_shortened_in_messages() -> None:
    with pytest.raises(FormulaError) as info:
        parse_formula(" + ".join(["a"] * 150) + " + b.c")
    assert len(str(info.value)) < 400
    assert "attribute access '.c'" in str(info.value)


def test_rejected_text_is_never_executed(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w')",
        f"exec(\"open('{target}', 'w')\")",
        f"(lambda: open('{target}', 'w'))()",
    ]
    for attack in attacks:
        with pytest.raises(FormulaError):
            parse_formula(attack)
    assert not target.exists()


def imports_and_calls(module) -> tuple[set[str], set[str]]:
    """The modules a module's source imports (anywhere in it) and the names it calls."""
    source = Path(module.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(
                node.module
                if node.module.startswith("assumption_graph")
                else node.module.split(".")[0]
            )
    called = {
        n.func.id
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    return imported, called


def test_module_imports_only_stdlib_errors_and_the_table_of_operations() -> None:
    imported, called = imports_and_calls(expr_module)
    project = {m for m in imported if m.startswith("assumption_graph")}
    assert project == {"assumption_graph.errors", "assumption_graph.functions"}
    assert imported - project <= set(sys.stdlib_module_names)
    assert not called & {"eval", "exec", "compile", "__import__"}


def test_the_table_of_operations_imports_only_stdlib_and_numpy_lazily() -> None:
    imported, called = imports_and_calls(functions_module)
    project = {m for m in imported if m.startswith("assumption_graph")}
    # numpy (and finance, which imports it) only when a numpy version runs
    assert project <= {"assumption_graph._lazy", "assumption_graph.finance"}
    assert imported - project <= set(sys.stdlib_module_names) | {"numpy"}
    assert not called & {"eval", "exec", "compile", "__import__"}


# ------------------------------------------------------------------------------ rename


def test_rename_maps_ids_and_leaves_others() -> None:
    tree = parse_formula("min(a, b) * a if c > 0 else -d ** 2").expr
    renamed = rename(tree, {"a": "hours", "d": "rate", "min": "nope"})
    assert renamed == parse_formula("min(hours, b) * hours if c > 0 else -rate ** 2").expr
    assert names(renamed) == {"hours", "b", "c", "rate"}
    assert rename(tree, {}) == tree


# ------------------------------------------------------------------------------ to_source


@pytest.mark.parametrize(
    ("tree", "source"),
    [
        (Binary("-", a, Binary("-", b, c)), "a - (b - c)"),
        (Binary("-", Binary("-", a, b), c), "a - b - c"),
        (Binary("/", a, Binary("*", b, c)), "a / (b * c)"),
        (Binary("*", Binary("+", a, b), c), "(a + b) * c"),
        (Binary("**", Binary("**", a, b), c), "(a ** b) ** c"),
        (Binary("**", a, Binary("**", b, c)), "a ** b ** c"),
        (Binary("**", Unary("-", a), b), "(-a) ** b"),
        (Binary("**", a, Unary("-", b)), "a ** -b"),
        (Unary("-", Binary("**", a, b)), "-a ** b"),
        (Unary("-", Binary("+", a, b)), "-(a + b)"),
        (Unary("-", Unary("-", a)), "-(-a)"),
        (Compare("<", Compare("<", a, b), c), "(a < b) < c"),
        (Binary("*", Compare("<", a, b), Compare("<", b, c)), "(a < b) * (b < c)"),
        (Compare("==", Binary("+", a, b), c), "a + b == c"),
        (IfElse(b, a, IfElse(d, c, x)), "a if b else c if d else x"),
        (IfElse(d, IfElse(b, a, c), x), "(a if b else c) if d else x"),
        (IfElse(IfElse(b, a, c), d, x), "d if (a if b else c) else x"),
        (Binary("+", IfElse(b, a, c), d), "(a if b else c) + d"),
        (Call("max", (IfElse(b, a, c), Compare(">", a, b))), "max(a if b else c, a > b)"),
        (Num(2.0), "2"),
        (Num(0.1), "0.1"),
        (Num(1e300), "1e+300"),
        (Num(1.5e-7), "1.5e-07"),
        (Num(-2.0), "(-2)"),
    ],
)
def test_to_source_text(tree: object, source: str) -> None:
    assert to_source(tree) == source  # type: ignore[arg-type]


def test_negative_num_reparses_as_unary_minus() -> None:
    assert parse_formula(to_source(Binary("**", Num(-2.0), a))).expr == Binary(
        "**", Unary("-", Num(2.0)), a
    )


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_to_source_refuses_non_finite_numbers(value: float) -> None:
    with pytest.raises(ValueError):
        to_source(Num(value))


@pytest.mark.parametrize("text", [t for t, _ in ACCEPTED])
def test_to_source_round_trips_accepted_formulas(text: str) -> None:
    tree = parse_formula(text).expr
    assert parse_formula(to_source(tree)).expr == tree


# ------------------------------------------------------------------------------ property

NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(float),
    st.floats(min_value=0.0, allow_nan=False, allow_infinity=False).map(abs),
).map(Num)
LEAVES = st.one_of(st.sampled_from(["a", "b", "c", "hours", "x_1"]).map(Name), NUMBERS)


def _call(children: st.SearchStrategy) -> st.SearchStrategy:
    def with_args(func: str) -> st.SearchStrategy:
        low, high = FUNCTIONS[func]
        args = st.lists(children, min_size=low, max_size=high if high is not None else low + 2)
        return args.map(lambda items: Call(func, tuple(items)))

    return st.sampled_from(sorted(FUNCTIONS)).flatmap(with_args)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "+"]), children),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "**"]), children, children),
        st.builds(Compare, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children, children),
        st.builds(IfElse, children, children, children),
        _call(children),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=16)


@settings(max_examples=300, deadline=None)
@given(EXPRESSIONS)
def test_to_source_round_trips_random_trees(tree: object) -> None:
    text = to_source(tree)  # type: ignore[arg-type]
    assert parse_formula(text).expr == tree
    assert parse_formula(text).names == names(tree)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS)
def test_rename_then_names(tree: object) -> None:
    mapping = {"a": "alpha", "b": "c"}
    renamed = rename(tree, mapping)  # type: ignore[arg-type]
    expected = {mapping.get(n, n) for n in names(tree)}  # type: ignore[arg-type]
    assert names(renamed) == expected
