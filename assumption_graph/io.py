"""Model files in and out: YAML (or JSON) text -> :class:`Model`, and back.

Reading never executes anything from the file: YAML is only composed (by libyaml
when it is installed, else by PyYAML's composer), and this module turns the
composed node tree into plain data itself, so that it can keep the line of every
node id and key, reject duplicate keys (PyYAML silently keeps the last one) and
refuse any non-standard tag.
Reading is bounded: the file's size, its values (aliases and merge keys at the
size of what they repeat), a list's length, the nodes and the nesting are
checked against :data:`LIMITS` and :data:`MAX_DEPTH` while the file is read.
Each node's keys then go to :func:`~assumption_graph.model.node_from_keys`, the
one reader of the node vocabulary.

:func:`read_model` is lenient: it returns every node it could read plus a
:class:`Diagnostic` for each problem, so ``check`` can report them all at once.
:func:`load` is strict and raises :class:`ModelFileError` instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from .business import BusinessCase, NonEconomicGain, Risk, business_case_from_keys
from .errors import (
    AssumptionGraphError,
    Diagnostic,
    FormulaError,
    ModelFileError,
    OutputError,
    did_you_mean,
    shown,
)
from .expr import Formula
from .keys import non_defaults
from .model import Body, Correlation, Model, Node, Situation, Value, node_from_keys

__all__ = [
    "UNREADABLE_CODES",
    "LIMITS",
    "MAX_DEPTH",
    "read_model",
    "read_model_text",
    "read_json",
    "load",
    "loads",
    "dump",
    "save",
    "check_outputs",
    "write_atomic",
    "write_files",
]

# Codes that mean "this is not a model file at all"; the CLI exits 2 on them.
UNREADABLE_CODES: frozenset[str] = frozenset(
    {"unreadable", "empty-file", "syntax", "structure", "limit"}
)

TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "money_unit",
    "business_case",
    "correlations",
    "library",
    "sip_library",
    "nodes",
)
LIBRARY_KEYS: tuple[str, ...] = ("name", "description", "nodes")  # what a library file holds
DEFAULT_MONEY_UNIT = "tkr"
FORMATS: tuple[str, ...] = ("yaml", "json")

_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_YAML + t for t in ("int", "float", "bool", "null"))


# --------------------------------------------------------------------------
# Limits: what one file may hold, so that no file exhausts memory or time.

LIMITS: dict[str, int] = {  # the environment variable that raises each, and its default
    "ASSUMPTION_GRAPH_MAX_FILE_MB": 16,  # megabytes (10**6 bytes) of file
    "ASSUMPTION_GRAPH_MAX_VALUES": 1_000_000,  # values, aliases and merge keys at full size
    "ASSUMPTION_GRAPH_MAX_LIST": 100_000,  # values in one list
    "ASSUMPTION_GRAPH_MAX_NODES": 100_000,  # entries under 'nodes:'
}
MAX_DEPTH = 64  # levels of nesting; fixed, as the readers' stack bounds it (a model needs ~8)


@dataclass(frozen=True)
class _Limits:
    """The limits in force: :data:`LIMITS`, each overridden by its environment variable."""

    file_mb: int
    values: int
    list: int
    nodes: int

    @classmethod
    def from_environment(cls) -> _Limits:
        return cls(*(_setting(name, default) for name, default in LIMITS.items()))


def _setting(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise _Problem(
            "limit",
            f"the environment variable {name} must be a whole number above 0, got {text!r}",
            None,
            f"set it to e.g. {default} (the default), or unset it",
        )
    return int(text)


def _over(name: str, limit: int, what: str, line: int | None) -> _Problem:
    """The refusal of a file over a limit: names the limit and how to raise it.

    ``what`` says what was found, with ``{}`` where the limit goes.
    """
    return _Problem(
        "limit",
        f"{what.format(f'{limit:,}')} (limit: {name})",
        line,
        f"if the file is right, raise the limit, e.g. {name}={10 * limit}",
    )


def _too_many_values(limits: _Limits, line: int | None) -> _Problem:
    what = "the file holds more than {} values, counting what each alias or merge key repeats"
    return _over("ASSUMPTION_GRAPH_MAX_VALUES", limits.values, what, line)


def _too_long(limits: _Limits, line: int | None) -> _Problem:
    return _over("ASSUMPTION_GRAPH_MAX_LIST", limits.list, "a list holds more than {} values", line)


def _too_deep(line: int | None) -> _Problem:
    return _Problem(
        "limit",
        f"the file is nested deeper than {MAX_DEPTH} levels (aliases included)",
        line,
        "a model needs a few levels: check the brackets and indentation (this limit is fixed)",
    )


class _Composer(Composer):
    """PyYAML's composer, measuring the document as it grows, to refuse a bomb early.

    It counts every value as the readers will see it, each alias (and so each
    merge key's source) at the full size of what it repeats, without expanding
    it; the length of every list; and the depth of nesting, aliases included.
    A limit is refused at the line where it is passed, before more is built.
    """

    def __init__(self, limits: _Limits) -> None:
        super().__init__()
        self.limits = limits
        self.total = 0  # values so far, aliases at full size
        self.depth = 0  # collections open around the next value
        self.reached = 0  # the deepest level reached in the node being read
        self.anchored: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(index, int) and index >= self.limits.list:
            raise _too_long(self.limits, _line(parent))
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            # a node still being read has no size yet: an alias inside itself, refused later
            self.grow(*self.anchored.get(id(node), (1, 1)), line)
            return node
        before, outer, self.reached = self.total, self.reached, 0
        self.grow(1, 1, line)
        self.depth += 1
        node = super().compose_node(parent, index)
        self.depth -= 1
        if event.anchor is not None:
            self.anchored[id(node)] = (self.total - before, self.reached - self.depth)
        self.reached = max(outer, self.reached)
        return node

    def grow(self, values: int, levels: int, line: int) -> None:
        """Count a value (or an alias's ``values``) reaching ``levels`` below the open ones."""
        self.total += values
        self.reached = max(self.reached, self.depth + levels)
        if self.total > self.limits.values:
            raise _too_many_values(self.limits, line)
        if self.reached > MAX_DEPTH:
            raise _too_deep(line)


class _Resolver(Resolver):
    """PyYAML's (YAML 1.1) tags, and numbers with an exponent read as YAML 1.2 reads them.

    YAML 1.1 wants a dot and a signed exponent (``1.0e+6``); ``1e6``, ``5e-2`` or
    ``1.5E6`` would otherwise be text, where JSON and Python see numbers.
    """


_Resolver.add_implicit_resolver(
    _YAML + "float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


class _SafeLoader(Reader, Scanner, Parser, _Composer, _Resolver):
    """PyYAML's own parser: its messages are the ones a user sees for a syntax error."""

    def __init__(self, text: str, limits: _Limits) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self, limits)
        _Resolver.__init__(self)


_FastLoader: type | None = None
_CComposer: type | None = None
if yaml.__with_libyaml__:  # libyaml's parser: the same events, several times faster
    from yaml.cyaml import CParser

    class _CLoader(_Composer, CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, text: str, limits: _Limits) -> None:
            CParser.__init__(self, text)
            _Composer.__init__(self, limits)
            _Resolver.__init__(self)

    class _CTreeLoader(CParser, _Resolver):  # type: ignore[misc]
        """libyaml composing the node tree too, in C (the same nodes and marks); the
        limits are measured afterwards by :func:`_measured`."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Resolver.__init__(self)

    _FastLoader, _CComposer = _CLoader, _CTreeLoader


# --------------------------------------------------------------------------
# Located tree: the document as mappings of (key, line, value) pairs.


class _Problem(Exception):
    """Something in the file that stops one part of it from being read."""

    def __init__(self, code: str, message: str, line: int | None, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.hint = code, message, line, hint

    def diagnostic(self, file: str, node: str | None = None) -> Diagnostic:
        return _diagnostic(self.code, self.message, file, self.line, node, self.hint)


class _Bad:
    """A value that could not be read (a bad tag); raises its problem when used."""

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem


class _Pair(NamedTuple):
    key: Any
    line: int | None
    value: Any
    text: str | None  # the key as written (``yes`` for a key read as True)


@dataclass(eq=False)
class _Map:
    """A mapping with its keys in file order, duplicates kept, lines attached."""

    pairs: list[_Pair] = field(default_factory=list)
    line: int | None = None
    merged: list[_Pair] = field(default_factory=list)  # from '<<' merge keys

    def entries(self) -> Iterator[_Pair]:
        """Explicit pairs, then merged ones that no explicit key overrides."""
        yield from self.pairs
        seen = {p.key for p in self.pairs if _hashable(p.key)}
        for pair in self.merged:
            if pair.key not in seen:
                seen.add(pair.key)
                yield pair


class _List(list[Any]):
    """A list with the line of each item."""

    def __init__(self, items: Iterable[Any] = (), lines: Iterable[int] = ()) -> None:
        super().__init__(items)
        self.lines = list(lines)


def _hashable(key: object) -> bool:
    return not isinstance(key, _Map | list)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


class _YamlTree:
    """Turns a composed YAML node tree into a located tree, constructing only plain scalars."""

    def __init__(self) -> None:
        self.done: dict[int, Any] = {}  # id(node) -> value: aliases share, never re-expand
        self.scalars = SafeConstructor()

    def convert(self, node: yaml.Node) -> Any:
        if id(node) in self.done:
            return self.done[id(node)]
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        expected = _YAML + ("seq" if isinstance(node, yaml.SequenceNode) else "map")
        if node.tag != expected:
            return self.bad_tag(node)
        if isinstance(node, yaml.SequenceNode):
            items = _List(lines=(_line(item) for item in node.value))
            self.done[id(node)] = items
            items.extend(self.convert(item) for item in node.value)
            return items
        return self.mapping(node)

    def mapping(self, node: yaml.MappingNode) -> _Map:
        result = _Map(line=_line(node))
        self.done[id(node)] = result
        for key, value in node.value:
            if key.tag == _YAML + "merge":
                result.merged.extend(self.merge(value))
                continue
            text = key.value if isinstance(key, yaml.ScalarNode) else None
            result.pairs.append(_Pair(self.convert(key), _line(key), self.convert(value), text))
        return result

    def merge(self, node: yaml.Node) -> list[_Pair]:
        """The pairs a ``<<: *anchor`` (or ``<<: [*a, *b]``) brings in, lines kept."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        pairs: list[_Pair] = []
        for source in sources:
            merged = self.convert(source)
            if not isinstance(merged, _Map):
                problem = _Problem(
                    "alias",
                    "'<<' (merge key) must refer to a mapping or a list of mappings",
                    _line(source),
                    "write the keys out, or merge an anchored mapping",
                )
                return [_Pair("<<", _line(source), _Bad(problem), "<<")]
            pairs.extend(merged.pairs + merged.merged)
        return pairs

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in (_YAML + "str", _YAML + "timestamp"):
            return node.value  # dates stay text: they are labels and sources here
        if node.tag not in _SCALAR_TAGS:
            return self.bad_tag(node)
        try:
            return self.scalars.construct_object(node)
        except (ValueError, KeyError, yaml.YAMLError):
            problem = _Problem(
                "tag", f"cannot read {shown(node.value)} as {_short_tag(node.tag)}", _line(node)
            )
            return _Bad(problem)

    def bad_tag(self, node: yaml.Node) -> _Bad:
        return _Bad(
            _Problem(
                "tag",
                f"unsupported YAML tag {_short_tag(node.tag)!r}",
                _line(node),
                "model files hold plain text, numbers, lists and mappings only; remove the tag",
            )
        )


# --------------------------------------------------------------------------
# Parsing: text -> located tree (or a problem that stops the whole file).


def _parse(text: str, format: str, limits: _Limits) -> tuple[Any, int]:
    """The document's root value and its line; raises _Problem when unreadable."""
    if not text.strip():
        raise _Problem(
            "empty-file",
            "the file is empty",
            None,
            "a model file needs 'nodes:' with at least one node",
        )
    if format == "json":
        return _parse_json(text, limits)
    return _parse_yaml(text, limits)


def _parse_yaml(text: str, limits: _Limits) -> tuple[Any, int]:
    root = _compose(text, limits)
    if root is None or (root.tag == _YAML + "null" and root.value == ""):
        raise _Problem(
            "empty-file",
            "the file has no content, only comments",
            None,
            "a model file needs 'nodes:' with at least one node",
        )
    return _YamlTree().convert(root), _line(root)


def _compose(text: str, limits: _Limits) -> yaml.Node | None:
    """The YAML node tree, within the limits; libyaml's parser and composer when it is
    there (a tree with an alias is composed again by :class:`_Composer` over libyaml's
    parser, which knows each alias's line).

    Text libyaml refuses goes through PyYAML's parser again, whose messages
    the user sees; so does text with a tab or a character YAML forbids, which
    libyaml accepts in places where PyYAML does not.
    """
    if (
        _FastLoader is not None
        and _CComposer is not None
        and "\t" not in text
        and not Reader.NON_PRINTABLE.search(text)
    ):
        try:
            _count_events(text, limits)
            root = _single_node(_CComposer(text))
            if root is None or _measured(root, limits):
                return root
            return _single_node(_FastLoader(text, limits))  # aliases: measured as composed
        except yaml.YAMLError:
            pass
    try:
        return _single_node(_SafeLoader(text, limits))
    except yaml.MarkedYAMLError as error:
        raise _yaml_syntax_problem(error) from None
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        raise _Problem(
            "syntax",
            f"character U+{error.character:04X} is not allowed in YAML",
            line,
            "remove it or write it inside quotes as an escape",
        ) from None
    except yaml.YAMLError as error:
        raise _Problem("syntax", f"YAML syntax error: {error}", None) from None


def _count_events(text: str, limits: _Limits) -> None:
    """Refuse at once a file with more than twice as many parser events as values allowed.

    libyaml counts them in C, many times faster than the composer builds nodes.
    A value is one event, a list or mapping two (start and end), and a stream and
    a document two each, so such a file surely holds more values than the limit.
    """
    if CParser(text).raw_parse() - 4 > 2 * limits.values:
        raise _too_many_values(limits, None)


def _measured(root: yaml.Node, limits: _Limits) -> bool:
    """Measure a composed tree as :class:`_Composer` measures it while composing: the
    same limits refused in the same order, at the same lines. ``False`` when the tree
    holds an alias (a node met twice), whose own line only the composer knows.

    The recursion ends at :data:`MAX_DEPTH` levels, refused there as the composer does.
    """
    seen: set[int] = set()
    total = 0

    def visit(node: yaml.Node, depth: int) -> bool:
        nonlocal total
        if id(node) in seen:
            return False
        seen.add(id(node))
        total += 1
        if total > limits.values:
            raise _too_many_values(limits, _line(node))
        if depth + 1 > MAX_DEPTH:
            raise _too_deep(_line(node))
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                if index >= limits.list:
                    raise _too_long(limits, _line(node))
                if not visit(item, depth + 1):
                    return False
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if not (visit(key, depth + 1) and visit(value, depth + 1)):
                    return False
        return True

    return visit(root, 0)


def _single_node(loader: Any) -> yaml.Node | None:
    try:
        return loader.get_single_node()  # type: ignore[no-any-return]
    finally:
        loader.dispose()


def _yaml_syntax_problem(error: yaml.MarkedYAMLError) -> _Problem:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or error.context or "cannot parse"
    column = f" (column {mark.column + 1})" if mark is not None else ""
    if "\t" in problem or "'\\t'" in problem:
        hint = "indent with spaces, not tabs"
    elif "mapping values are not allowed" in problem:
        hint = "a value containing ': ' must be quoted, e.g. label: \"Phase: analysis\""
    elif "another document" in problem:
        hint = "a model file holds one document: remove the extra '---'"
    else:
        hint = "check the indentation and quoting on this line and the one before"
    line = mark.line + 1 if mark is not None else None
    return _Problem("syntax", f"YAML syntax error: {problem}{column}", line, hint)


def _parse_json(text: str, limits: _Limits) -> tuple[Any, int]:
    try:  # JSON is YAML (once tabs, which JSON allows only between tokens, are spaces)
        composed = _compose(text.replace("\t", " "), limits)  # its limits, and its lines
    except _Problem as problem:
        if problem.code == "limit":
            raise
        composed = None  # e.g. a character YAML forbids: the data stands, lines stay unknown
    try:
        data = json.loads(text, object_pairs_hook=_json_map)
    except json.JSONDecodeError as error:
        raise _Problem(
            "syntax",
            f"JSON syntax error: {error.msg} (column {error.colno})",
            error.lineno,
            "check the commas, brackets and quotes",
        ) from None
    except RecursionError:
        raise _too_deep(None) from None
    if composed is None:
        _measure_json(data, limits)
    else:
        data = _add_lines(data, composed)
    stripped = len(text) - len(text.lstrip())
    return data, text[:stripped].count("\n") + 1


def _measure_json(data: Any, limits: _Limits) -> None:
    """The composer's limits, for JSON data YAML could not compose (its lines unknown)."""
    stack, values = [(data, 1)], 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > limits.values:
            raise _too_many_values(limits, None)
        if depth > MAX_DEPTH:
            raise _too_deep(None)
        if isinstance(value, _Map):
            value = [part for pair in value.pairs for part in (pair.key, pair.value)]
        elif isinstance(value, list) and len(value) > limits.list:
            raise _too_long(limits, None)
        if isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _json_map(pairs: list[tuple[str, Any]]) -> _Map:
    return _Map([_Pair(key, None, value, key) for key, value in pairs])


def _add_lines(value: Any, node: yaml.Node) -> Any:
    """The value with the lines of the YAML composition of the same JSON text."""
    if isinstance(value, _Map) and isinstance(node, yaml.MappingNode):
        if len(node.value) == len(value.pairs):
            value.line = _line(node)
            for i, (pair, (key, sub)) in enumerate(zip(value.pairs, node.value, strict=True)):
                value.pairs[i] = pair._replace(line=_line(key), value=_add_lines(pair.value, sub))
    elif isinstance(value, list) and isinstance(node, yaml.SequenceNode):
        if len(node.value) == len(value):
            items = zip(value, node.value, strict=True)
            return _List((_add_lines(item, sub) for item, sub in items), map(_line, node.value))
    return value


# --------------------------------------------------------------------------
# Reading: located tree -> Model + diagnostics.


@dataclass
class _Reader:
    """Reads the located tree into ``model``, collecting one diagnostic per problem."""

    model: Model
    file: str
    limits: _Limits
    diagnostics: list[Diagnostic] = field(default_factory=list)
    shared: bool = False  # reading a library file: only LIBRARY_KEYS at the top
    library: tuple[str, int | None] | None = None  # the file's ``library:`` and its line

    def report(self, problem: _Problem, node: str | None = None) -> None:
        self.diagnostics.append(problem.diagnostic(self.file, node))

    def read(self, root: Any, root_line: int) -> None:
        _unwrap_whole(root)
        if not isinstance(root, _Map):
            raise _Problem(
                "structure",
                f"the top level must be a mapping with 'nodes:', found {_kind(root)}",
                root_line,
                "start the file with 'name: ...' and 'nodes:'",
            )
        nodes = self.read_top(root)
        if nodes is None:
            raise _Problem(
                "structure",
                "the file has no 'nodes:'",
                None,
                "add 'nodes:' with one entry per assumption, keyed by its id",
            )
        self.read_nodes(*nodes)

    def read_top(self, root: _Map) -> tuple[Any, int | None] | None:
        """Reads the settings; returns the ``nodes`` value and line if present."""
        seen: dict[Any, int | None] = {}
        nodes = None
        for pair in root.entries():
            try:
                key = self.key(pair, seen)
                if key == "nodes":
                    nodes = (pair.value, pair.line)
                else:
                    self.setting(key, pair)
            except _Problem as problem:
                self.report(problem)
        return nodes

    def key(self, pair: _Pair, seen: dict[Any, int | None]) -> Any:
        """The pair's key, checked to be plain and not seen before in this mapping."""
        if isinstance(pair.key, _Bad):
            raise pair.key.problem
        if not _hashable(pair.key):
            raise _Problem(
                "structure",
                f"a key must be plain text, not {_kind(pair.key)}",
                pair.line,
                "remove the '?' complex key",
            )
        if pair.key in seen:
            first = seen[pair.key]
            where = f" (first on line {first})" if first is not None else ""
            raise _Problem(
                "duplicate-key",
                f"duplicate key '{pair.key}'{where}",
                pair.line,
                "a key may appear once: remove or rename one of them",
            )
        seen[pair.key] = pair.line
        return pair.key

    def setting(self, key: Any, pair: _Pair) -> None:
        if self.shared and key not in LIBRARY_KEYS:
            raise _Problem(
                "unknown-key",
                f"a library file holds only {', '.join(LIBRARY_KEYS)}; found {shown(key)}",
                pair.line,
                "move business-case settings, correlations and libraries into the model files",
            )
        if key == "business_case":
            self.business_case(pair)
            return
        if key == "correlations":
            self.correlations(pair)
            return
        if key not in TOP_KEYS:
            raise _Problem(
                "unknown-key",
                f"unknown top-level key {shown(pair.text or key)}",
                pair.line,
                _suggest(str(key), TOP_KEYS),
            )
        value = self.plain(pair.value, pair.line)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            raise _Problem("bad-value", f"'{key}' must be text, got {shown(value)}", pair.line)
        if key == "library":
            self.library = (str(value), pair.line)
        setattr(self.model, key, str(value))

    def business_case(self, pair: _Pair) -> None:
        lines: dict[str, int] = {}
        _collect_lines(pair.value, "", lines)
        self.model.unread_case = True  # until it is read
        try:
            self.model.business_case = business_case_from_keys(
                self.plain(pair.value, pair.line), file=self.file, line=pair.line, lines=lines
            )
        except AssumptionGraphError as error:
            self.diagnostics.append(Diagnostic.from_error(error, "business-case"))
        else:
            self.model.unread_case = False

    def correlations(self, pair: _Pair) -> None:
        """``correlations: [[a, b, rho], ...]``: each entry read, or reported, at its own line."""
        items = pair.value
        if not isinstance(items, list):
            if self.plain(items, pair.line) is None:
                return
            raise _Problem(
                "structure",
                f"'correlations' must be a list of [node_a, node_b, rho], got {_kind(items)}",
                pair.line,
                "write e.g. 'correlations: [[hours_a, hours_b, 0.6]]'",
            )
        lines = items.lines if isinstance(items, _List) else [pair.line] * len(items)
        for k, (item, line) in enumerate(zip(items, lines, strict=True), start=1):
            try:
                self.correlation(k, self.plain(item, line), line)
            except _Problem as problem:
                self.report(problem)

    def correlation(self, k: int, item: Any, line: int | None) -> None:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(x, str) for x in item[:2])
            and isinstance(item[2], int | float)
            and not isinstance(item[2], bool)
        ):
            raise _Problem(
                "bad-value",
                f"correlation {k} must be [node_a, node_b, rho] with two node ids and a "
                f"number, got {shown(item)}",
                line,
                "write e.g. '[hours_a, hours_b, 0.6]'",
            )
        self.model.correlations.append(Correlation(item[0], item[1], float(item[2]), line))

    def read_nodes(self, nodes: Any, line: int | None) -> None:
        _unwrap_whole(nodes)
        if not isinstance(nodes, _Map) or not (nodes.pairs or nodes.merged):
            found = "nothing" if isinstance(nodes, _Map) or nodes is None else _kind(nodes)
            hint = (
                "write each node as 'hours:' with its keys indented below, not as '- hours:'"
                if isinstance(nodes, list)
                else "add at least one node, e.g. 'hours: {estimate: [1, 2, 3]}'"
            )
            raise _Problem(
                "structure", f"'nodes' must map node ids to their keys, found {found}", line, hint
            )
        entries = list(nodes.entries())
        if len(entries) > self.limits.nodes:
            name, what = "ASSUMPTION_GRAPH_MAX_NODES", "'nodes' holds more than {} nodes"
            raise _over(name, self.limits.nodes, what, line)
        seen: dict[Any, int | None] = {}
        for pair in entries:
            self.read_node(pair, seen)

    def read_node(self, pair: _Pair, seen: dict[Any, int | None]) -> None:
        node_id = pair.key
        if not isinstance(node_id, str):
            self.bad_node_id(pair)
            return
        if node_id in seen:
            first = seen[node_id]
            where = f" (first on line {first})" if first is not None else ""
            self.report(
                _Problem(
                    "duplicate-node",
                    f"duplicate node id '{node_id}'{where}",
                    pair.line,
                    "give each node its own id",
                ),
                node_id,
            )
            return
        seen[node_id] = pair.line
        try:
            keys, key_lines = self.node_keys(pair.value, pair.line)
            node = node_from_keys(
                node_id, keys, file=self.file, line=pair.line, key_lines=key_lines
            )
        except _Problem as problem:
            self.broken(node_id, problem.diagnostic(self.file, node_id))
        except FormulaError as error:
            self.broken(node_id, Diagnostic.from_error(error, "formula-syntax"))
        except AssumptionGraphError as error:  # ModelError, or one raised by a distribution
            self.broken(node_id, Diagnostic.from_error(error, "node-definition"))
        else:
            self.model.add_node(node)

    def broken(self, node_id: str, diagnostic: Diagnostic) -> None:
        self.model.broken.add(node_id)
        self.diagnostics.append(diagnostic)

    def bad_node_id(self, pair: _Pair) -> None:
        text = pair.text if pair.text is not None else str(pair.key)
        if isinstance(pair.key, bool):
            why = "a yes/no value (YAML reads unquoted yes, no, on, off, true, false so)"
        else:
            why = _kind(pair.key)
        problem = _Problem(
            "node-id",
            f"node id {text!r} is read as {why}, not as text",
            pair.line,
            f"quote it ('{text}':) or rename it, e.g. 'n_{text}'",
        )
        self.broken(text, problem.diagnostic(self.file, text))

    def node_keys(self, value: Any, line: int | None) -> tuple[Any, dict[str, int]]:
        """A node's keys as plain data, with the line of each key."""
        if value is None:
            raise _Problem(
                "node-definition",
                "the node has no keys",
                line,
                "give it e.g. 'estimate: [low, mid, high]', 'value: 1' or "
                "'formula: a * b', indented below its id",
            )
        if not isinstance(value, _Map):
            return self.plain(value, line), {}
        return self.mapping(value, set())

    def mapping(self, value: _Map, active: set[int]) -> tuple[dict[Any, Any], dict[str, int]]:
        seen: dict[Any, int | None] = {}
        result: dict[Any, Any] = {}
        for pair in value.entries():
            key = self.key(pair, seen)
            result[key] = self.plain(pair.value, pair.line, active)
        lines = {str(k): line for k, line in seen.items() if line is not None}
        return result, lines

    def plain(self, value: Any, line: int | None = None, active: set[int] | None = None) -> Any:
        """Plain Python data, refusing bad tags and recursive aliases.

        ``line`` is where the value is (its key's line), for the error messages.
        The composer's limits bound what the aliases expand to.
        """
        if isinstance(value, _Bad):
            raise value.problem
        if not isinstance(value, _Map | list):
            return value
        active = set() if active is None else active
        if id(value) in active:
            raise _Problem(
                "alias",
                "an alias refers to the value that contains it",
                line,
                "an anchor cannot be used inside itself",
            )
        active.add(id(value))
        try:
            if isinstance(value, list):
                return [self.plain(item, line, active) for item in value]
            return self.mapping(value, active)[0]
        finally:
            active.discard(id(value))


def _collect_lines(value: Any, path: str, lines: dict[str, int]) -> None:
    """The line of every key and list item under ``value``, by dotted path (``risks.0.id``)."""
    if isinstance(value, _Map):
        if path and value.line is not None:
            lines.setdefault(path, value.line)
        for pair in value.entries():
            key = f"{path}.{pair.key}" if path else str(pair.key)
            if pair.line is not None:
                lines[key] = pair.line
            _collect_lines(pair.value, key, lines)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            _collect_lines(item, f"{path}.{k}", lines)


def _unwrap_whole(value: Any) -> None:
    """A bad tag on the whole document or on ``nodes`` leaves nothing to read."""
    if isinstance(value, _Bad):
        problem = value.problem
        raise _Problem("structure", problem.message, problem.line, problem.hint)


def _kind(value: object) -> str:
    """How a YAML value reads, for messages: 'a list', 'a number (12)', ..."""
    if isinstance(value, _Map):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a yes/no value ({value})"
    if isinstance(value, int | float):
        return f"a number ({shown(value)})"
    return f"the text {shown(value)}"


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    return did_you_mean(word, choices, "known keys: " + ", ".join(choices))


def _diagnostic(
    code: str, message: str, file: str, line: int | None, node: str | None, hint: str | None
) -> Diagnostic:
    text = f"{message} (hint: {hint})" if hint else message
    return Diagnostic("error", code, text, node=node, file=file, line=line)


# --------------------------------------------------------------------------
# Public reading API.


def read_model(path: str | os.PathLike[str]) -> tuple[Model, list[Diagnostic]]:
    """Read a model file leniently: every node that could be read, and a diagnostic per problem.

    The format follows the extension (``.json`` is JSON, anything else YAML).
    Nodes that failed are listed in ``model.broken`` so that the validator does
    not report them again as unknown names. A file that cannot be read at all
    gives an empty model and one diagnostic whose code is in
    :data:`UNREADABLE_CODES`.
    """
    file = os.fspath(path)
    try:
        text = _read_text(Path(file), _Limits.from_environment().file_mb)
    except _Problem as problem:
        return Model(_default_name(file), file=file), [problem.diagnostic(file)]
    format = "json" if Path(file).suffix.lower() == ".json" else "yaml"
    return read_model_text(text, file=file, format=format)


def _read_text(path: Path, megabytes: int) -> str:
    """The file's text; at most the limit is read, so a device like /dev/zero ends too."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(megabytes * 10**6 + 1)
    except FileNotFoundError:
        raise _Problem("unreadable", "file not found", None, "check the path") from None
    except IsADirectoryError:
        raise _Problem("unreadable", "this is a folder, not a model file", None) from None
    except OSError as error:
        raise _Problem(
            "unreadable",
            f"cannot read the file: {error.strerror or error}",
            None,
            "check the file's permissions",
        ) from None
    if len(raw) > megabytes * 10**6:
        what = "the file is larger than {} MB"
        raise _over("ASSUMPTION_GRAPH_MAX_FILE_MB", megabytes, what, None)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise _Problem(
            "unreadable",
            f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
            line,
            "save the file with UTF-8 encoding",
        ) from None


def read_json(path: str | os.PathLike[str]) -> Any:
    """The data of a JSON file beside the model (a previous run's result), read within the
    model file's limits: a :class:`ModelFileError` naming the file when it is over one
    (a device like /dev/zero included) or nested past the reader's stack.

    A file that is not JSON raises :class:`json.JSONDecodeError`.
    """
    file = os.fspath(path)
    try:
        text = _read_text(Path(file), _Limits.from_environment().file_mb)
        try:
            return json.loads(text)
        except RecursionError:
            raise _too_deep(None) from None
    except _Problem as problem:
        raise ModelFileError(
            problem.message, file=file, line=problem.line, hint=problem.hint
        ) from None


def read_model_text(
    text: str, *, file: str = "<string>", format: str = "yaml"
) -> tuple[Model, list[Diagnostic]]:
    """Like :func:`read_model`, from text already in memory (tests, notebooks).

    >>> model, problems = read_model_text("nodes:\\n  a: {value: 1}\\n  b: {valeu: 2}\\n")
    >>> [node.id for node in model], sorted(model.broken)
    (['a'], ['b'])
    >>> print(problems[0])
    <string>:3: error node-definition: 'b': unknown key 'valeu' (hint: did you mean 'value'?)
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    model = Model(_default_name(file), file=file)
    try:
        limits = _Limits.from_environment()
    except _Problem as problem:
        return model, [problem.diagnostic(file)]
    reader = _Reader(model, file, limits)
    try:
        reader.read(*_parse(text, format, limits))
    except _Problem as problem:
        reader.report(problem)
    if reader.library is not None:
        _add_library(model, reader, *reader.library)
    return model, reader.diagnostics


def _add_library(model: Model, reader: _Reader, name: str, line: int | None) -> None:
    """Read the shared assumption library ``name`` (beside the model file) into ``model``.

    Every library node joins the model, keeping its own file and line for messages;
    those no formula of the model reaches are marked unused, so a case takes only
    what it needs. An id defined in both files is an error naming both places.
    """
    file = reader.file
    base = Path.cwd() if file.startswith("<") else Path(file).parent
    path = base / name
    library = Model(_default_name(name), file=os.fspath(path))
    shared = _Reader(library, os.fspath(path), reader.limits, shared=True)
    try:
        text = _read_text(path, reader.limits.file_mb)
        shared.read(
            *_parse(text, "json" if path.suffix.lower() == ".json" else "yaml", reader.limits)
        )
    except _Problem as problem:
        if problem.code in UNREADABLE_CODES and problem.line is None:
            message = f"library {shown(name)}: {problem.message}"
            reader.report(_Problem(problem.code, message, line, problem.hint))
            return
        shared.report(problem)
    reader.diagnostics += shared.diagnostics
    reached = _reached(model, library)
    for node in library:
        if node.id in model or node.id in model.broken:
            reader.report(_clash(node, model, library), node.id)
            continue
        unused = node.unused or node.id not in reached
        model.add_node(dataclasses.replace(node, file=library.file, unused=unused))
    model.broken |= library.broken - set(model.nodes)


def _reached(model: Model, library: Model) -> set[str]:
    """Ids of the library nodes that the model's formulas use, directly or through others."""
    todo = [name for node in model for name in node.inputs if name in library]
    reached: set[str] = set()
    while todo:
        node_id = todo.pop()
        if node_id not in reached:
            reached.add(node_id)
            todo += [name for name in library[node_id].inputs if name in library]
    return reached


def _clash(node: Node, model: Model, library: Model) -> _Problem:
    own = model.nodes.get(node.id)
    line = own.line if own is not None else None
    return _Problem(
        "library-clash",
        f"node id '{node.id}' is defined in {model.file}:{line or '?'} and in the library "
        f"{library.file}:{node.line or '?'}",
        line,
        "rename one of them, or delete the model's copy to use the library's",
    )


def _default_name(file: str) -> str:
    return "" if file.startswith("<") else Path(file).stem


def load(path: str | os.PathLike[str]) -> Model:
    """Read a model file strictly: raise :class:`ModelFileError` on any error.

    The exception's ``diagnostics`` holds every problem found; its message is
    the first one's, with a count of the rest.
    """
    return _strict(*read_model(path))


def loads(text: str, *, file: str = "<string>", format: str = "yaml") -> Model:
    """Like :func:`load`, from text.

    >>> model = loads("name: Demo\\nnodes:\\n  hours: {estimate: [1, 2, 4], unit: h}\\n")
    >>> model.name, model["hours"].kind, model["hours"].line
    ('Demo', 'uncertain', 3)
    """
    return _strict(*read_model_text(text, file=file, format=format))


def _strict(model: Model, diagnostics: list[Diagnostic]) -> Model:
    errors = [d for d in diagnostics if d.severity == "error"]
    if not errors:
        return model
    first = errors[0]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    error = ModelFileError(first.message + more, file=first.file, line=first.line, node=first.node)
    error.diagnostics = diagnostics  # type: ignore[attr-defined]
    raise error


# --------------------------------------------------------------------------
# Writing.


def dump(model: Model) -> dict[str, Any]:
    """The model as plain data in the file's vocabulary; re-loads to an equal model.

    Only keys that differ from their defaults are written.

    >>> dump(loads("nodes:\\n  rate: {value: 0.95, unit: tkr/h}\\n"))
    {'nodes': {'rate': {'unit': 'tkr/h', 'value': 0.95}}}
    """
    data: dict[str, Any] = {}
    if model.name:
        data["name"] = model.name
    if model.description:
        data["description"] = model.description
    if model.money_unit != DEFAULT_MONEY_UNIT:
        data["money_unit"] = model.money_unit
    if model.business_case is not None:
        data["business_case"] = _dump_case(model.business_case)
    if model.correlations:
        data["correlations"] = [[c.a, c.b, c.rho] for c in model.correlations]
    if model.library is not None:
        data["library"] = model.library
    if model.sip_library is not None:
        data["sip_library"] = model.sip_library
    data["nodes"] = {node.id: _dump_node(node) for node in model if node.file is None}
    return data


def _dump_case(case: BusinessCase) -> dict[str, Any]:
    """The ``business_case:`` section; ``{}`` for a section with every key at its default."""
    keys = non_defaults(case, _CASE_SCALARS)
    if case.phases:
        keys["phases"] = {name: [str(p.start), str(p.end)] for name, p in case.phases.items()}
    if case.risks:
        keys["risks"] = [_dump_entry(risk) for risk in case.risks]
    if case.non_economic_gains:
        keys["non_economic_gains"] = [_dump_entry(gain) for gain in case.non_economic_gains]
    return keys


_CASE_SCALARS = (
    "purpose",
    "secondary_purposes",
    "start_year",
    "end_year",
    "discount_rate",
    "finance_rate",
    "reinvestment_rate",
    "price_level",
    "high_risk",
    "current_phase",
)


def _dump_entry(entry: Risk | NonEconomicGain) -> dict[str, Any]:
    """A risk or a non-economic gain: its fields but the line, leaving out those the
    reader takes as missing (``None``, empty text); the required name is always kept."""
    fields = dataclasses.asdict(entry)
    del fields["line"]
    return {k: v for k, v in fields.items() if k == "name" or v not in (None, "")}


def _dump_node(node: Node) -> dict[str, Any]:
    keys = non_defaults(node, ("label", "unit", "source"))
    keys.update(_dump_body(node.body))
    keys.update(non_defaults(node, _NODE_KEYS_AFTER_BODY))
    if node.purpose:
        keys["purpose"] = node.purpose[0] if len(node.purpose) == 1 else list(node.purpose)
    if node.unused:
        keys["unused"] = True
    if _inferred_kind(node.id, keys) != node.kind:
        keys = {"kind": node.kind, **keys}
    return keys


_NODE_KEYS_AFTER_BODY = (
    "favourable",
    "side",
    "category",
    "phase",
    "year",
    "years",
    "profile",
    "risk",
)


def _dump_body(body: Body) -> dict[str, Any]:
    if isinstance(body, Value):
        return {"value": body.value}
    if isinstance(body, Situation):
        return {"situation": {name: _dump_body(entry) for name, entry in body.entries()}}
    if isinstance(body, Formula):
        return {"formula": body.text}
    return body.file_keys()


def _inferred_kind(node_id: str, keys: dict[str, Any]) -> str | None:
    """The kind the reader infers for these keys, so ``kind`` is written only when needed."""
    try:
        return node_from_keys(node_id, keys).kind
    except AssumptionGraphError:
        return None


def save(model: Model, path: str | os.PathLike[str]) -> None:
    """Write the model as YAML (``.yaml``/``.yml``) or JSON (``.json``), atomically.

    The text is written to a temporary file in the same folder and moved into
    place, so a failure never leaves a partial or truncated model file.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ModelFileError(
            f"cannot save as {suffix or 'a file without extension'!r}",
            file=str(target),
            hint="use a .yaml, .yml or .json file name",
        )
    data = dump(model)
    if suffix == ".json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    write_atomic(target, text)


Output = str | os.PathLike[str]

# Files under these are devices and the /dev/stdout family: written into, never replaced.
_DEVICE_ROOTS = (Path("/dev"), Path("/proc"))


def check_outputs(paths: Iterable[Output], inputs: Mapping[Output, str] | None = None) -> None:
    """Refuse, before any work, outputs that cannot be written or whose writing loses a file.

    Each path must name a new or existing regular file in an existing, writable
    folder (for a symbolic link: the file it points to), or a character device
    or FIFO, which is written through (``/dev/null``, ``/dev/stdout``). Refused,
    with an :class:`OutputError` naming the path as given: a folder, a
    read-only file, a socket or block device, a path under a missing folder or
    under a file, the same file as one of ``inputs`` (by identity, so also
    through a link; ``inputs`` maps each input's path to what it is, e.g.
    ``"the model file"``), or one file given for two outputs.
    """
    taken: dict[object, str] = {}
    for path in paths:
        name = os.fspath(path)
        identity = _checked_output(name, inputs or {})
        if identity is not None and identity in taken:
            raise OutputError(
                f"cannot write {name}: the same file is also given for another output"
                f" ({taken[identity]})",
                hint="give each output its own file",
            )
        if identity is not None:
            taken[identity] = name


def _checked_output(name: str, inputs: Mapping[Output, str]) -> object:
    """What identifies the file ``name`` writes (``None`` for a device), or an OutputError."""
    try:
        status = _status(name)
    except NotADirectoryError:
        raise OutputError(
            f"cannot write {name}: {os.path.dirname(name)} is not a folder",
            hint="choose a path in an existing folder",
        ) from None
    except OSError as error:
        raise OutputError(f"cannot write {name}: {error.strerror or error}") from None
    if status is not None:
        _check_existing(name, status, inputs)
        if _written_through(name, status):
            return None
        identity: object = (status.st_dev, status.st_ino)
    else:
        identity = os.path.realpath(name)
    folder = _target(name).parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise OutputError(
            f"cannot write {name}: folder {folder} {what}",
            hint="create the folder first or choose another path",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {name}: folder {folder} is not writable",
            hint="choose a folder you may write to",
        )
    return identity


def _check_existing(name: str, status: os.stat_result, inputs: Mapping[Output, str]) -> None:
    """Refuse an existing output that is a folder, an input, unwritable or not a file."""
    mode = status.st_mode
    if stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {name}: it is a folder", hint="give a file name")
    for source, what in inputs.items():
        try:
            same = os.path.samestat(status, os.stat(source))
        except OSError:
            same = False
        if same:
            raise OutputError(
                f"cannot write {name}: it is {what} {os.fspath(source)}, which it would replace",
                hint="choose another name for the output",
            )
    if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise OutputError(
            f"cannot write {name}: it is neither a file, a character device nor a FIFO",
            hint="choose a file name",
        )
    if not os.access(name, os.W_OK):
        raise OutputError(f"cannot write {name}: it is read-only", hint="choose another name")


def _written_through(name: str, status: os.stat_result | None) -> bool:
    """A device, a FIFO or a file reached through ``/dev`` or ``/proc`` (``/dev/stdout``)."""
    if status is None:
        return False
    if not stat.S_ISREG(status.st_mode):
        return True
    folder = Path(os.path.realpath(os.path.dirname(os.path.abspath(name))))
    return Path(*folder.parts[:2]) in _DEVICE_ROOTS


def _target(name: str) -> Path:
    """The file a write replaces: the one a symbolic link points to, not the link."""
    return Path(os.path.realpath(name) if os.path.islink(name) else name)


def write_atomic(path: Output, data: str | bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, then a rename.

    Text is written as UTF-8, line ends as given. An existing file keeps its
    permissions; a new one gets the umask's. A symbolic link keeps pointing to
    its file, which is replaced; a device or FIFO is written through. Every
    file the package writes (models, diagrams, results) goes through here or
    :func:`write_files`; a failure is an :class:`OutputError` naming ``path``.
    """
    write_files({os.fspath(path): data})


def write_files(files: Mapping[str, str | bytes]) -> None:
    """Write several files all or none: every one staged beside its target, then renamed.

    A failure before the renames (a full disk, a folder gone) leaves every target
    as it was and no temporary file behind; devices and FIFOs are written
    through after the staging, before the renames. Paths are checked as by
    :func:`check_outputs`.
    """
    check_outputs(files)
    through = {name for name in files if _written_through(name, _status(name))}
    targets = {name: _target(name) for name in files if name not in through}
    staged: dict[str, Path] = {}  # output -> its temporary file, not yet renamed
    name = ""
    try:
        for name, target in targets.items():
            staged[name] = _staged(target, _encoded(files[name]))
        for name in through:
            _write_into(name, _encoded(files[name]))
        for name, temp in list(staged.items()):
            os.replace(temp, targets[name])
            del staged[name]
    except OSError as error:
        raise OutputError(f"cannot write {name}: {error.strerror or error}") from None
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)


def _encoded(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _status(name: str) -> os.stat_result | None:
    """The file's status through links; ``None`` when there is no such file yet."""
    try:
        return os.stat(name)
    except FileNotFoundError:
        return None


def _staged(target: Path, raw: bytes) -> Path:
    """``raw`` in a new temporary file beside ``target``, synced, with ``target``'s mode."""
    temp = target.with_name(f".{target.name}.{os.urandom(4).hex()}.tmp")
    try:  # from the file's creation on: an interruption at any moment removes it
        # os.open with 0o666 lets the umask decide the mode, like a normal new file.
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as stream:
            stream.write(raw)
            stream.flush()
            os.fsync(stream.fileno())
        if target.exists():
            os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _write_into(name: str, raw: bytes) -> None:
    """Write through a device or FIFO (appending, for ``/dev/stdout`` redirected to a file)."""
    with os.fdopen(os.open(name, os.O_WRONLY | os.O_APPEND), "wb") as stream:
        stream.write(raw)
