"""Scenario files: named sets of changes to a model, read as safely as model files.

A scenario file holds ``scenarios:``, each a name with any of

- ``set``: pins, node id -> number, as ``--set`` on the command line;
- ``nodes``: nodes replaced, node id -> its keys in the model file's vocabulary;
- ``business_case``: business-case settings changed (``discount_rate: 0.035``);
- ``description``: a line of text.

The file is read by :mod:`~assumption_graph.io`'s reader (composed, never
constructed: no code runs; the same limits on size, values and nesting), and
every problem is a :class:`~assumption_graph.errors.ModelFileError` naming the
file, the line and, for a misspelt key or node id, the closest known one.
:func:`changed_model` applies a scenario's node and business-case changes to
a model; its pins stay pins, so a run can take them as overrides.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .business import business_case_from_keys
from .distributions import Distribution
from .errors import (
    AssumptionGraphError,
    ModelFileError,
    did_you_mean,
    shown,
)
from .io import (
    _Bad,
    _collect_lines,
    _dump_case,
    _kind,
    _Limits,
    _Map,
    _parse,
    _Problem,
    _read_text,
    _Reader,
)
from .model import Model, Node, node_from_keys

__all__ = [
    "BASE",
    "Scenario",
    "SCENARIO_KEYS",
    "read_scenarios",
    "scenarios_from_data",
    "changed_model",
]

SCENARIO_KEYS: tuple[str, ...] = ("description", "set", "nodes", "business_case")
BASE = "base"  # the base run's name in tables, which no scenario may take
_TOP_KEYS = ("scenarios",)
_EXAMPLE = "write e.g. 'scenarios: {cheaper_rate: {set: {rate: 0.85}}}'"
_NEEDS = "a scenario file needs 'scenarios:' with at least one named scenario"


@dataclass(frozen=True)
class Scenario:
    """One named scenario: its pins, its replaced nodes and its business-case settings.

    ``case_keys`` are the ``business_case:`` keys it changes, as written, and
    ``case_lines`` the file line of each (by dotted path: ``risks.0.name``), for
    the business case's own messages.
    """

    name: str
    pins: Mapping[str, float] = field(default_factory=dict)
    nodes: Mapping[str, Node] = field(default_factory=dict)
    case_keys: Mapping[str, Any] = field(default_factory=dict)
    case_lines: Mapping[str, int] = field(default_factory=dict)
    description: str = ""
    file: str | None = None
    line: int | None = None

    @property
    def changes_model(self) -> bool:
        """Whether the scenario needs its own compiled model (not only pins)."""
        return bool(self.nodes or self.case_keys)


def read_scenarios(path: str | os.PathLike[str], model: Model) -> tuple[list[Scenario], list[str]]:
    """The scenarios of a file, checked against ``model``, and the warnings about them.

    Raises :class:`ModelFileError` at the first problem (file, line, hint).
    """
    file = os.fspath(path)
    try:
        limits = _Limits.from_environment()
        text = _read_text(Path(file), limits.file_mb)
        format = "json" if Path(file).suffix.lower() == ".json" else "yaml"
        root, line = _parse(text.removeprefix("\ufeff"), format, limits)
    except _Problem as problem:
        raise _error(problem, file) from None
    return scenarios_from_data(root, model, file=file, line=line)


def scenarios_from_data(
    data: Any, model: Model, *, file: str = "<scenarios>", line: int | None = None
) -> tuple[list[Scenario], list[str]]:
    """The scenarios of ``data`` (a file's tree, or a plain ``{"scenarios": {...}}`` or
    ``{name: changes}`` mapping from Python), checked against ``model``; and the warnings."""
    reader = _ScenarioReader(file, model)
    try:
        return reader.read(data, line), reader.warnings
    except _Problem as problem:
        raise _error(problem, file) from None


def changed_model(model: Model, scenario: Scenario) -> Model:
    """A copy of ``model`` with the scenario's nodes replaced and business case changed.

    Its pins are not applied: a run takes them as overrides.
    """
    changed = Model(model.name, file=model.file)
    changed.description, changed.money_unit = model.description, model.money_unit
    changed.correlations = list(model.correlations)
    changed.business_case = model.business_case
    if scenario.case_keys and model.business_case is not None:
        keys = {**_dump_case(model.business_case), **scenario.case_keys}
        changed.business_case = business_case_from_keys(
            keys, file=scenario.file, line=scenario.line, lines=scenario.case_lines
        )
    for node in model:
        changed.add_node(scenario.nodes.get(node.id, node))
    return changed


def _error(problem: _Problem, file: str) -> ModelFileError:
    """The problem as the error the command line prints (an empty file's hint for this file)."""
    hint = _NEEDS if problem.code == "empty-file" else problem.hint
    return ModelFileError(problem.message, file=file, line=problem.line, hint=hint)


class _ScenarioReader:
    """Reads the scenario tree, checking every name against the model."""

    def __init__(self, file: str, model: Model) -> None:
        self.file, self.model = file, model
        self.tree = _Reader(Model(file=file), file, _Limits.from_environment())
        self.warnings: list[str] = []

    def read(self, root: Any, line: int | None) -> list[Scenario]:
        """Every scenario of the tree (``root`` at ``line``), in file order."""
        self.mapping(root, line, "the top level", _EXAMPLE)
        if isinstance(root, Mapping) and "scenarios" not in root:  # {name: changes} from Python
            root = {"scenarios": root}
        top = dict(self.keys(root, _TOP_KEYS))
        if "scenarios" not in top:
            raise _Problem("structure", "the file has no 'scenarios:'", line, _EXAMPLE)
        line, scenarios = top["scenarios"]
        self.mapping(scenarios, line, "'scenarios'", "name each scenario, then its changes")
        read = [self.scenario(name, at, body) for name, at, body in self.entries(scenarios)]
        if not read:
            raise _Problem("structure", "'scenarios' names no scenario", line, _EXAMPLE)
        return read

    def entries(self, value: Any) -> Iterator[tuple[Any, int | None, Any]]:
        """(key, line, value) of a file's mapping (each key plain and once) or a plain dict."""
        if not isinstance(value, _Map):
            for key, item in value.items():
                yield key, None, item
            return
        seen: dict[Any, int | None] = {}
        for pair in value.entries():
            yield self.tree.key(pair, seen), pair.line, pair.value

    def keys(self, value: Any, known: tuple[str, ...]) -> Iterator[tuple[str, tuple[Any, Any]]]:
        """Each (key, (line, value)) of a mapping, every key one of ``known``."""
        for key, line, item in self.entries(value):
            if key not in known:
                hint = did_you_mean(key, known, "known keys: " + ", ".join(known))
                raise _Problem("unknown-key", f"unknown key {shown(key)}", line, hint)
            yield key, (line, item)

    def mapping(self, value: Any, line: int | None, what: str, hint: str) -> None:
        """A :class:`_Problem` unless ``value`` is a mapping (a bad tag's own problem first)."""
        if isinstance(value, _Bad):
            raise value.problem
        if not isinstance(value, _Map | Mapping):
            raise _Problem(
                "structure", f"{what} must be a mapping, found {_kind(value)}", line, hint
            )

    def scenario(self, name: Any, line: int | None, body: Any) -> Scenario:
        """One scenario, its changes read and checked against the model."""
        if not isinstance(name, str) or not name:
            raise _Problem("structure", f"a scenario's name must be text, got {shown(name)}", line)
        if name == BASE:
            raise _Problem(
                "structure",
                f"a scenario cannot be named {BASE!r}: the tables call the base run so",
                line,
                "choose another name",
            )
        self.mapping(
            body, line, f"scenario {name!r}", "give it 'set:', 'nodes:' or 'business_case:'"
        )
        parts = dict(self.keys(body, SCENARIO_KEYS))
        pins = self.pins(parts.get("set"))
        nodes = self.nodes(parts.get("nodes"))
        case_keys, case_lines = self.case_keys(parts.get("business_case"))
        at, description = parts.get("description", (line, ""))
        description = self.tree.plain(description, at)
        if not isinstance(description, str):
            raise _Problem("bad-value", f"a description must be text, got {shown(description)}", at)
        if not (pins or nodes or case_keys):
            raise _Problem(
                "structure",
                f"scenario {name!r} changes nothing",
                line,
                "give it 'set:', 'nodes:' or 'business_case:'",
            )
        scenario = Scenario(name, pins, nodes, case_keys, case_lines, description, self.file, line)
        self.check_changes(scenario)
        return scenario

    def known(self, node_id: Any, line: int | None, what: str) -> str:
        """``node_id`` if the model has it; else a problem with the closest id."""
        if not isinstance(node_id, str) or node_id not in self.model:
            ids = [node.id for node in self.model]
            hint = did_you_mean(node_id, ids, "see 'assumption-graph check' for the ids")
            raise _Problem(
                "unknown-node", f"{what} names no node of the model: {shown(node_id)}", line, hint
            )
        return node_id

    def pins(self, part: tuple[int | None, Any] | None) -> dict[str, float]:
        """``set:``: node id -> a finite number (a warning when outside its estimate)."""
        if part is None:
            return {}
        line, value = part
        self.mapping(value, line, "'set'", "write e.g. 'set: {rate: 0.85}'")
        pins: dict[str, float] = {}
        for node_id, at, number in self.entries(value):
            self.known(node_id, at, "'set'")
            number = self.tree.plain(number, at)
            if (
                isinstance(number, bool)
                or not isinstance(number, int | float)
                or not math.isfinite(number)
            ):
                raise _Problem(
                    "bad-value", f"a pin must be a finite number, got {shown(number)}", at
                )
            pins[node_id] = float(number)
            self.warn_outside(node_id, float(number), at)
        return pins

    def warn_outside(self, node_id: str, value: float, line: int | None) -> None:
        """A warning when a pin lies outside its input's range (low .. high)."""
        body = self.model[node_id].body
        if not isinstance(body, Distribution) or body.low <= value <= body.high:
            return
        low, high = body.low, body.high
        where = f"{self.file}:{line}" if line is not None else self.file
        self.warnings.append(
            f"{where}: warning pin-outside-range: '{node_id}' is pinned to {value:g}, outside"
            f" its estimate's range {low:g} .. {high:g}"
        )

    def nodes(self, part: tuple[int | None, Any] | None) -> dict[str, Node]:
        """``nodes:``: each replaced node read by the model's own node reader."""
        if part is None:
            return {}
        line, value = part
        self.mapping(value, line, "'nodes'", "write e.g. 'nodes: {hours: {estimate: [1, 2, 4]}}'")
        nodes: dict[str, Node] = {}
        for node_id, at, keys in self.entries(value):
            self.known(node_id, at, "'nodes'")
            plain, key_lines = self.tree.node_keys(keys, at)
            try:
                nodes[node_id] = node_from_keys(
                    node_id, plain, file=self.file, line=at, key_lines=key_lines
                )
            except AssumptionGraphError as error:  # a ModelError, FormulaError, a model's own
                raise ModelFileError(
                    error.message,
                    file=self.file,
                    line=error.line or at,
                    node=node_id,
                    hint=error.hint,
                ) from None
        return nodes

    def case_keys(
        self, part: tuple[int | None, Any] | None
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """The business-case settings changed, and the line of each."""
        if part is None:
            return {}, {}
        line, value = part
        if self.model.business_case is None:
            raise _Problem(
                "structure",
                "'business_case' changes settings, but the model has no 'business_case:' section",
                line,
            )
        self.mapping(
            value, line, "'business_case'", "write e.g. 'business_case: {discount_rate: 0.035}'"
        )
        lines: dict[str, int] = {}
        _collect_lines(value, "", lines)
        return dict(self.tree.plain(value, line)), lines

    def check_changes(self, scenario: Scenario) -> None:
        """The changed model's business case reads (unknown keys, bad values stop here)."""
        if not scenario.case_keys:
            return
        try:
            changed_model(self.model, scenario)
        except AssumptionGraphError as error:
            raise _Problem(
                "business-case",
                f"scenario {scenario.name!r}: {error.message}",
                error.line or scenario.line,
                error.hint,
            ) from None
