"""The assumption diagram as data: frozen node records and the ``Model`` builder.

A model is built the same way from a file and from code: each node is given by
the file's vocabulary (``estimate``, ``model``, ``formula``, ``value``, ...),
and :func:`node_from_keys` is the one place that reads that vocabulary.
"""

from __future__ import annotations

import heapq
import keyword
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._lazy import lazy_import
from .business import CATEGORIES, PHASES, PURPOSES, BusinessCase
from .distributions import (
    ESTIMATE_OPTIONS,
    MODELS,
    RISK_CONSEQUENCES,
    Distribution,
    from_estimate,
    implied_model,
    option_error,
    percentile_levels,
    values_model,
)
from .errors import ModelError, did_you_mean, shown
from .expr import Formula, parse_formula
from .keys import KeyReader, is_whole

if TYPE_CHECKING:
    import networkx as nx
else:  # loaded when a graph algorithm is needed
    nx = lazy_import("networkx")

if TYPE_CHECKING:  # later pipeline stages, imported lazily by the convenience methods
    import graphviz

    from .run import Simulator
    from .validate import CheckedModel

__all__ = [
    "KINDS",
    "PURPOSES",
    "NODE_KEYS",
    "Value",
    "Situation",
    "Node",
    "Correlation",
    "Model",
    "node_from_keys",
    "is_identifier",
]

Kind = Literal["main", "uncertain", "intermediate", "constant"]
KINDS: tuple[str, ...] = ("main", "uncertain", "intermediate", "constant")
SIDES: tuple[str, ...] = ("cost", "gain", "operating")
SITUATIONS: tuple[str, ...] = ("without", "with")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Value:
    """A known number: the body of a constant (or of a main node without estimate)."""

    value: float


Input = Distribution | Value


@dataclass(frozen=True)
class Situation:
    """A value that differs without and with the project: two inputs, drawn independently."""

    without: Input
    with_: Input

    def entries(self) -> tuple[tuple[str, Input], ...]:
        """``(("without", body), ("with", body))``: the two situations' bodies."""
        return (("without", self.without), ("with", self.with_))


Body = Formula | Distribution | Value | Situation


def draws(body: Body) -> bool:
    """True when ``body`` draws from a probability model (a non-fixed distribution)."""
    if isinstance(body, Situation):
        return draws(body.without) or draws(body.with_)
    return isinstance(body, Distribution) and body.draws


def input_kind(body: Body) -> Kind:
    """The kind of a node with its own number: ``uncertain`` when it draws, else ``constant``."""
    return "uncertain" if draws(body) else "constant"


@dataclass(frozen=True)
class Correlation:
    """A requested rank (Spearman) correlation ``rho`` between two uncertain inputs.

    ``line`` is the line of its entry in the file's ``correlations:`` list.
    """

    a: str
    b: str
    rho: float
    line: int | None = None

    @property
    def pair(self) -> tuple[str, str, float]:
        return (self.a, self.b, self.rho)


@dataclass(frozen=True, slots=True)  # slots: less memory, and faster reads for check and lower
class Node:
    """One assumption of the diagram.

    ``body`` says how the node gets its number: a :class:`Value`, a probability
    model (its three-point estimate) or a :class:`Formula` over other nodes.
    ``kind`` is the diagram's type of assumption; ``check`` verifies that kind
    and body agree. ``line`` and ``key_lines`` locate the node in its file;
    ``file`` is that file when it is not the model's own (a shared library's node).
    """

    id: str
    kind: Kind
    body: Body
    label: str = ""
    unit: str | None = None
    source: str | None = None
    favourable: Literal["low", "high"] | None = None
    side: Literal["cost", "gain", "operating"] | None = None
    purpose: tuple[str, ...] = ()
    unused: bool = False
    category: str | None = None
    phase: str | None = None
    year: int | None = None
    years: tuple[int, ...] = ()
    profile: tuple[float, ...] | None = None
    risk: tuple[int, ...] = ()
    line: int | None = field(default=None, compare=False)
    key_lines: Mapping[str, int] = field(default_factory=dict, compare=False, hash=False)
    file: str | None = field(default=None, compare=False)

    @property
    def display_label(self) -> str:
        """The label, or the id where no label is given."""
        return self.label or self.id

    @property
    def inputs(self) -> frozenset[str]:
        """Ids this node's formula uses (empty for inputs and constants)."""
        return self.body.names if isinstance(self.body, Formula) else frozenset()

    @property
    def is_uncertain(self) -> bool:
        """True when the node draws from a probability model in a simulation."""
        return draws(self.body)

    def line_of(self, key: str) -> int | None:
        """The line of one of the node's keys, falling back to the node's own line."""
        return self.key_lines.get(key, self.line)


# The file's vocabulary for one node: key -> what it holds.
NODE_KEYS: dict[str, str] = {
    "kind": "main | uncertain | intermediate | constant",
    "label": "free text shown on the diagram",
    "unit": "unit of the node's amount, e.g. h, tkr, tkr/h",
    "source": "where the number comes from (kilde)",
    "value": "a known number (a constant)",
    "formula": "an expression over other node ids",
    "estimate": "three-point estimate [low, mid, high] or {low:, mid:, high:}",
    "values": "[v1, ..., vk]: the possible values of a discrete or uniform model",
    "model": "probability model: " + ", ".join(sorted(MODELS)),
    "probabilities": "[p_low, p_mid, p_high] for triangle or discrete, or one per value",
    "percentiles": "[q, 50, 100 - q]: the percentiles an estimate gives (normal, lognormal,"
    " metalog)",
    "probability": "the chance that a risk event happens, 0 to 1",
    "consequence_model": "a risk event's consequence: " + ", ".join(RISK_CONSEQUENCES),
    "mean": "mean of a normal model",
    "sd": "standard deviation of a normal model",
    "mu": "mean of log X for a lognormal model",
    "sigma": "standard deviation of log X for a lognormal model",
    "favourable": "low | high: which end of the estimate is the good one",
    "side": "cost | gain | operating: what a main node is in the business case",
    "purpose": "efficiency | quality | compliance (or a list): the purposes a main node serves",
    "unused": "true: the node may be left unused without a warning",
    "category": "cost category: " + ", ".join(CATEGORIES),
    "phase": "the project phase of a main node: " + ", ".join(PHASES),
    "year": "the one year a main node's amount falls in",
    "years": "the years a main node's amount counts in, each",
    "profile": "with 'years': the share of the amount in each year (default 1 each)",
    "risk": "[primary] or [primary, secondary]: the risks an estimate is tied to",
    "situation": "{without: {...}, with: {...}}: values that differ without and with the project",
}
_INPUT_KEYS = (
    "value",
    "estimate",
    "values",
    "model",
    "probabilities",
    "percentiles",
    "probability",
    "consequence_model",
    "mean",
    "sd",
    "mu",
    "sigma",
)


def is_identifier(text: object) -> bool:
    """True for a valid node id: ``[A-Za-z_][A-Za-z0-9_]*`` and no Python keyword."""
    return isinstance(text, str) and bool(_IDENTIFIER.match(text)) and not keyword.iskeyword(text)


def node_from_keys(
    node_id: str,
    keys: Mapping[str, Any],
    *,
    file: str | None = None,
    line: int | None = None,
    key_lines: Mapping[str, int] | None = None,
) -> Node:
    """Build a node from the file's vocabulary; the one reader of node keys.

    Raises :class:`ModelError` (naming the node, file and line) for anything
    that cannot become a node: a bad id, an unknown key, a missing or doubled
    definition, a number that is not a number, a formula that does not parse.

    >>> node_from_keys("hours", {"estimate": [1200, 1500, 2100]}).kind
    'uncertain'
    >>> sorted(node_from_keys("cost", {"kind": "main", "formula": "hours * rate"}).inputs)
    ['hours', 'rate']
    """
    key_lines = dict(key_lines or {})
    reader = _NodeReader(node_id, keys, file, line, key_lines)
    return reader.node()


@dataclass
class _NodeReader(KeyReader):
    """Reads one node's keys, raising errors that point at the offending key."""

    node_id: str
    keys: Mapping[str, Any]
    file: str | None
    line: int | None
    key_lines: dict[str, int]

    def fail(self, message: str, key: str | None = None, hint: str | None = None) -> ModelError:
        line = self.key_lines.get(key, self.line) if key else self.line
        return ModelError(message, file=self.file, line=line, node=self.node_id, hint=hint)

    def node(self) -> Node:
        if not is_identifier(self.node_id):
            raise self.fail(
                f"node id {self.node_id!r} is not an identifier",
                hint="use letters, digits and _, not starting with a digit;"
                " put free text in 'label'",
            )
        if not isinstance(self.keys, Mapping):
            raise self.fail(
                f"a node must be a mapping of keys, not {type(self.keys).__name__}",
                hint="write e.g. 'hours: {estimate: [1, 2, 3]}'",
            )
        self.reject_unknown_keys()
        body = self.body()
        kind = self.kind(body)
        # Only the optional keys given are read (in this order, so the first bad key is
        # named); the others keep the node's defaults.
        optional = {
            key: read(self, key) for key, read in _OPTIONAL_READERS.items() if key in self.keys
        }
        return Node(self.node_id, kind, body, **optional, line=self.line, key_lines=self.key_lines)

    def reject_unknown_keys(self) -> None:
        for key in self.keys:
            if key in NODE_KEYS:
                continue
            key_text = str(key)
            if "formula" in self.keys and re.search(r"[()*/+\-,]", key_text):
                hint = "this looks like the tail of a formula cut at a comma: quote the formula"
            else:
                hint = did_you_mean(key_text, NODE_KEYS, "known keys: " + ", ".join(NODE_KEYS))
            raise self.fail(f"unknown key {shown(key_text)}", key_text, hint)

    def body(self) -> Body:
        given = [
            k for k in ("value", "formula", "estimate", "values", "situation") if k in self.keys
        ]
        params = [k for k in ("mean", "sd", "mu", "sigma") if k in self.keys]
        if params:
            given.append("/".join(params))
        if len(given) > 1:
            raise self.fail(
                f"the node has both {given[0]!r} and {given[1]!r}",
                given[1],
                "a node is a value, a formula or an estimate: keep one",
            )
        if not given:
            raise self.fail(
                "the node has no 'value', 'formula' or 'estimate'",
                hint="give one, e.g. 'estimate: [low, mid, high]' or 'formula: a * b'",
            )
        if "value" in self.keys:
            if isinstance(self.keys["value"], list | tuple):
                raise self.fail(
                    f"'value' must be a number, got {shown(self.keys['value'])}",
                    "value",
                    "for a list of possible values write 'values: [...]' with model: discrete"
                    " or uniform",
                )
            return Value(self.number("value", self.keys["value"]))
        if "formula" in self.keys:
            return self.formula()
        if "situation" in self.keys:
            return self.situation()
        return self.distribution()

    def situation(self) -> Situation:
        raw = self.keys["situation"]
        if not isinstance(raw, Mapping) or sorted(map(str, raw)) != sorted(SITUATIONS):
            raise self.fail(
                "'situation' must have exactly the keys 'without' and 'with'",
                "situation",
                "e.g. situation: {without: {estimate: [25, 30, 40]}, with: {value: 12}}",
            )
        bodies = []
        for name in SITUATIONS:
            entry = raw[name]
            if not isinstance(entry, Mapping) or any(k not in _INPUT_KEYS for k in entry):
                raise self.fail(
                    f"situation '{name}' must be a value or an estimate, got {shown(entry)}",
                    "situation",
                    "use the keys " + ", ".join(_INPUT_KEYS),
                )
            sub = _NodeReader(self.node_id, entry, self.file, self.line, self.key_lines)
            body = sub.body()
            assert isinstance(body, Distribution | Value)  # entries hold no formula or situation
            bodies.append(body)
        return Situation(*bodies)

    def formula(self) -> Formula:
        text = self.keys["formula"]
        if isinstance(text, bool) or not isinstance(text, str | int | float):
            raise self.fail("'formula' must be text", "formula")
        return parse_formula(
            str(text),
            node=self.node_id,
            file=self.file,
            line=self.key_lines.get("formula", self.line),
        )

    def model_name(self) -> str:
        """The ``model`` key, or the model the other keys imply (triangle by default)."""
        model_name = self.keys.get("model")
        if model_name is None:
            return implied_model(self.keys)
        if not isinstance(model_name, str) or model_name not in MODELS:
            hint = did_you_mean(model_name, MODELS, "known models: " + ", ".join(MODELS))
            raise self.fail(f"unknown probability model {shown(model_name)}", "model", hint)
        return model_name

    def distribution(self) -> Distribution:
        model_name = self.model_name()
        if "values" in self.keys:
            return self.value_list(model_name)
        for option in ESTIMATE_OPTIONS:
            error = option_error(model_name, option) if option in self.keys else None
            if error is not None:
                raise self.fail(error.message, option, error.hint)
        cls = MODELS[model_name]
        percentiles = self.percentiles()
        if cls.own_keys and "estimate" not in self.keys:
            return cls.from_own_keys(tuple(self.param(key) for key in cls.own_keys), percentiles)
        if "estimate" not in self.keys:
            raise self.fail(
                f"model {shown(model_name)} needs an 'estimate: [low, mid, high]'", "model"
            )
        low, mid, high = self.estimate()
        probability = self.param("probability") if "probability" in self.keys else None
        consequence = self.choice("consequence_model", RISK_CONSEQUENCES)
        try:
            return from_estimate(
                model_name,
                low,
                mid,
                high,
                self.probabilities(),
                percentiles=percentiles,
                probability=probability,
                consequence_model=consequence,
            )
        except ModelError as error:
            raise self.fail(error.message, "model", error.hint) from None

    def value_list(self, model_name: str) -> Distribution:
        """``values: [v1, ..., vk]`` with model discrete (and probabilities) or uniform."""
        cls = values_model(model_name)
        if cls is None:
            raise self.fail(
                f"'values' go with model: discrete or uniform, not {shown(model_name)}",
                "values",
                f"give a {model_name} model an 'estimate: [low, mid, high]'",
            )
        for option in ("percentiles", "probability", "consequence_model"):
            if option in self.keys:
                raise self.fail(
                    f"model {shown(model_name)} with 'values' takes no {option}", option
                )
        values = self.numbers("values") or ()
        if not values:
            raise self.fail("'values' must list at least one number", "values")
        probabilities = self.probabilities()
        if cls.takes_probabilities and probabilities is None:
            raise self.fail(
                f"model {shown(cls.name)} with 'values' needs 'probabilities', one per value",
                "values",
                "add probabilities: [p1, ..., pk], or use model: uniform for equal chances",
            )
        if not cls.takes_probabilities and probabilities is not None:
            raise self.fail(
                f"with model: {cls.name} every value is equally likely: it takes no probabilities",
                "probabilities",
                "use model: discrete to give each value its own probability",
            )
        return cls.from_values(values, probabilities)

    def percentiles(self) -> tuple[float, float, float] | None:
        if "percentiles" not in self.keys:
            return None
        raw = self.numbers("percentiles")
        try:
            return percentile_levels(raw)
        except ModelError as error:
            raise self.fail(error.message, "percentiles", error.hint) from None

    def estimate(self) -> tuple[float, float, float]:
        raw = self.keys["estimate"]
        if isinstance(raw, Mapping):
            missing = [k for k in ("low", "mid", "high") if k not in raw]
            extra = [str(k) for k in raw if k not in ("low", "mid", "high")]
            if missing or extra:
                raise self.fail(
                    "an estimate mapping has exactly the keys low, mid, high"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; unknown {', '.join(extra)}" if extra else ""),
                    "estimate",
                )
            raw = [raw["low"], raw["mid"], raw["high"]]
        if isinstance(raw, str) or not isinstance(raw, list | tuple) or len(raw) != 3:
            raise self.fail(
                f"'estimate' must be three numbers [low, mid, high], got {shown(raw)}", "estimate"
            )
        low, mid, high = (self.number("estimate", v) for v in raw)
        return low, mid, high

    def probabilities(self) -> tuple[float, ...] | None:
        raw = self.keys.get("probabilities")
        if raw is None:
            return None
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            what = "one per value" if "values" in self.keys else "[p_low, p_mid, p_high]"
            raise self.fail(
                f"'probabilities' must be a list ({what}), got {shown(raw)}", "probabilities"
            )
        return tuple(self.number("probabilities", v) for v in raw)

    def param(self, key: str) -> float:
        if key not in self.keys:
            raise self.fail(f"this model needs '{key}'", key)
        return self.number(key, self.keys[key])

    def choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        raw = self.keys.get(key)
        if raw is None:
            return None
        if raw not in allowed:
            raise self.fail(f"'{key}' must be one of {', '.join(allowed)}, got {shown(raw)}", key)
        return str(raw)

    def whole_list(self, key: str) -> tuple[int, ...]:
        """One whole number or a list of them (``years``, ``risk``)."""
        raw = self.keys.get(key)
        if raw is None:
            return ()
        items = raw if isinstance(raw, list | tuple) else [raw]
        if not all(is_whole(item) for item in items):
            raise self.fail(f"'{key}' must hold whole numbers, got {shown(raw)}", key)
        return tuple(int(item) for item in items)

    def numbers(self, key: str) -> tuple[float, ...] | None:
        raw = self.keys.get(key)
        if raw is None:
            return None
        if isinstance(raw, str) or not isinstance(raw, list | tuple):
            raise self.fail(f"'{key}' must be a list of numbers, got {shown(raw)}", key)
        return tuple(self.number(key, item) for item in raw)

    def purposes(self) -> tuple[str, ...]:
        raw = self.keys.get("purpose")
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple) or any(p not in PURPOSES for p in items):
            raise self.fail(
                f"'purpose' must be one or a list of {', '.join(PURPOSES)}, got {shown(raw)}",
                "purpose",
            )
        return tuple(items)

    def kind(self, body: Body) -> Kind:
        raw = self.keys.get("kind")
        if raw is not None:
            if raw not in KINDS:
                hint = did_you_mean(raw, KINDS) or None
                raise self.fail(
                    f"'kind' must be one of {', '.join(KINDS)}, got {shown(raw)}", "kind", hint
                )
            return raw  # type: ignore[no-any-return]
        if isinstance(body, Formula):
            return "intermediate"
        return input_kind(body)


# How each optional key of a node is read.
_OPTIONAL_READERS: dict[str, Callable[[_NodeReader, str], Any]] = {
    "label": lambda r, key: r.text(key, r.keys[key]) or "",
    "unit": lambda r, key: r.text(key, r.keys[key]),
    "source": lambda r, key: r.text(key, r.keys[key]),
    "favourable": lambda r, key: r.choice(key, ("low", "high")),
    "side": lambda r, key: r.choice(key, SIDES),
    "purpose": lambda r, key: r.purposes(),
    "unused": lambda r, key: r.flag(key, r.keys[key]),
    "category": lambda r, key: r.text(key, r.keys[key]),
    "phase": lambda r, key: r.text(key, r.keys[key]),
    "year": lambda r, key: r.whole(key, r.keys[key]),
    "years": _NodeReader.whole_list,
    "profile": _NodeReader.numbers,
    "risk": _NodeReader.whole_list,
}


class Model:
    """An assumption diagram: named nodes whose formulas make a directed graph.

    Build it from a file (:func:`assumption_graph.load`) or in code with
    :meth:`add`, which takes the same keys as the file:

    >>> m = Model("Case handling")
    >>> m.add("hours", estimate=[1200, 1500, 2100], unit="h")
    >>> m.add("rate", value=0.95, unit="tkr/h")
    >>> m.add("consultancy", kind="main", formula="hours * rate", unit="tkr")
    >>> sorted(m.graph.predecessors("consultancy"))
    ['hours', 'rate']
    """

    def __init__(self, name: str = "", *, file: str | None = None) -> None:
        self.name = name
        self.file = file
        self.description = ""
        self.money_unit = "tkr"
        self.broken: set[str] = set()  # ids defined in the file that could not be read
        self.business_case: BusinessCase | None = None  # the file's ``business_case:``
        self.unread_case = False  # the file has a ``business_case:`` that could not be read
        self.correlations: list[Correlation] = []  # the file's ``correlations:``
        self.library: str | None = None  # the file's ``library:``, whose nodes it holds too
        self.sip_library: str | None = None  # the file's ``sip_library:``: SIPs its runs take
        self._nodes: dict[str, Node] = {}

    def __repr__(self) -> str:
        return f"Model({self.name!r}, {len(self._nodes)} nodes)"

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __getitem__(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise KeyError(f"no node {node_id!r} in model {self.name!r}") from None

    @property
    def nodes(self) -> Mapping[str, Node]:
        """The nodes by id, in the order they were added."""
        return self._nodes

    def add(self, node_id: str, **keys: Any) -> None:
        """Add a node described with the file's keys (``estimate``, ``formula``, ...)."""
        self.add_node(node_from_keys(node_id, keys, file=self.file))

    def add_node(self, node: Node) -> None:
        """Add a ready-made node; a second node with the same id is an error."""
        if node.id in self._nodes:
            first = self._nodes[node.id].line
            where = f" (first defined on line {first})" if first else ""
            raise ModelError(
                f"duplicate node id{where}",
                file=self.file,
                line=node.line,
                node=node.id,
                hint="give each node its own id",
            )
        self._nodes[node.id] = node

    def correlate(self, a: str, b: str, rho: float) -> None:
        """Ask for rank correlation ``rho`` (in [-1, 1]) between inputs ``a`` and ``b``.

        The file's ``correlations: [[a, b, rho], ...]``; ``check`` validates it.
        """
        if isinstance(rho, bool) or not isinstance(rho, int | float):
            raise ModelError(f"a correlation must be a number, got {shown(rho)}", file=self.file)
        self.correlations.append(Correlation(str(a), str(b), float(rho)))

    @property
    def graph(self) -> nx.DiGraph:
        """The dependency graph: an edge ``a -> b`` where b's formula uses a.

        Names that are not nodes are left out; ``check`` reports them. A networkx
        graph for the user's own analyses; the package itself walks :meth:`users`
        and :meth:`order` (importing networkx takes longer than a check).
        """
        graph = nx.DiGraph()
        graph.add_nodes_from(self._nodes)
        graph.add_edges_from(
            (name, node.id)
            for node in self._nodes.values()
            for name in sorted(node.inputs)
            if name in self._nodes
        )
        return graph

    def users(self) -> dict[str, list[str]]:
        """Each node's users: the nodes whose formulas use it (names that are no node left
        out). The dependency graph's successors, as plain lists.

        >>> m = Model("x"); m.add("a", estimate=[1, 2, 3]); m.add("b", kind="main", formula="a")
        >>> m.users()
        {'a': ['b'], 'b': []}
        """
        users: dict[str, list[str]] = {node_id: [] for node_id in self._nodes}
        for node in self._nodes.values():
            for name in node.inputs:
                if name in users:
                    users[name].append(node.id)
        return users

    def order(self, users: Mapping[str, list[str]] | None = None) -> tuple[str, ...]:
        """A topological order with ties broken by id; ``()`` when the graph has a cycle.

        Kahn's algorithm with a heap of the nodes whose inputs are all placed: the
        same order as networkx's ``lexicographical_topological_sort``, over
        :meth:`users` (given, where the caller has them already).

        >>> m = Model("x"); m.add("total", kind="main", formula="b + a")
        >>> m.add("b", estimate=[1, 2, 3]); m.add("a", estimate=[1, 2, 3])
        >>> m.order()
        ('a', 'b', 'total')
        """
        users = self.users() if users is None else users
        waiting = dict.fromkeys(users, 0)  # inputs not yet placed
        for used_by in users.values():
            for user in used_by:
                waiting[user] += 1
        ready = [node_id for node_id, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            node_id = heapq.heappop(ready)
            order.append(node_id)
            for user in users[node_id]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    heapq.heappush(ready, user)
        return tuple(order) if len(order) == len(waiting) else ()

    def situation_dependents(self) -> frozenset[str]:
        """The nodes that differ without and with the project: situation nodes and all below."""
        found = {n.id for n in self if isinstance(n.body, Situation)}
        if not found:  # the common case
            return frozenset()
        users = self.users()
        pending = list(found)
        while pending:
            for user in users[pending.pop()]:
                if user not in found:
                    found.add(user)
                    pending.append(user)
        return frozenset(found)

    @property
    def main_nodes(self) -> list[str]:
        """Ids of the main assumptions, in file order."""
        return [n.id for n in self._nodes.values() if n.kind == "main"]

    # Convenience entry points into later stages (imported lazily so that the
    # define stage never depends on them at import time).

    def check(self) -> CheckedModel:
        """Validate the diagram; see :func:`assumption_graph.validate.check`."""
        from .validate import check

        return check(self)

    def compile(self) -> Simulator:
        """Check, then compile to a simulator; raises ``CheckFailed`` on errors."""
        from .run import Simulator

        return Simulator(self)

    def diagram(self, **options: Any) -> graphviz.Digraph:
        """The assumption diagram as a ``graphviz.Digraph``."""
        from .render import diagram

        return diagram(self, **options)

    def _repr_svg_(self) -> str:
        """Jupyter shows a model as its diagram."""
        return self.diagram()._repr_image_svg_xml()
