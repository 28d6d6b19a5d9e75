"""Writing a filled-in estimates sheet back into its model file, changing only the numbers.

Each row's ``low``, ``mid`` and ``high`` (and ``probabilities``, when given)
replace the numbers of its input's ``estimate:`` (and ``probabilities:``) in the
file's text, in place: every other character, comments, key order and layout
included, stays as it was. An input the file gives by its model's own keys (a
normal's ``mean`` and ``sd``) gets those keys' numbers of the model the estimate
means, when that model reads back as the row's estimate. ruamel.yaml's round-trip
reader says where each number is. A row is refused, and nothing written, when its
id names no uncertain input, a number is not a finite number, the estimate is out
of order (``low <= mid <= high``), its model differs from the file's, its own keys
cannot say it, or the changed model fails its checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from .distributions import Distribution
from .errors import EstimatesError, ModelError, ModelFileError, did_you_mean, shown
from .estimates_sheet import EstimateRow, SheetInput, sheet_inputs
from .io import UNREADABLE_CODES, read_model, read_model_text
from .validate import check

__all__ = ["Change", "EstimatesUpdate", "update_estimates"]

_TOKEN = re.compile(r"\"[^\"]*\"|'[^']*'|[^\s,\]}#]+")  # a scalar in the file, as written
_NUMBERS = ("low", "mid", "high")


@dataclass(frozen=True)
class Change:
    """What one row changes: its input's estimate (and probabilities), old and new."""

    id: str
    old: tuple[float, ...]
    new: tuple[float, ...]
    old_probabilities: tuple[float, ...] | None = None
    new_probabilities: tuple[float, ...] | None = None
    #: The model's own keys written instead of an estimate: (key, old, new) each.
    own_keys: tuple[tuple[str, float, float], ...] = ()

    def __str__(self) -> str:
        text = f"{self.id}: {_listed(self.old)} → {_listed(self.new)}"
        if self.new_probabilities is not None and self.new_probabilities != self.old_probabilities:
            before = "none" if self.old_probabilities is None else _listed(self.old_probabilities)
            text += f", probabilities {before} → {_listed(self.new_probabilities)}"
        for key, before_key, after_key in self.own_keys:
            text += f", {key} {_written(before_key)} → {_written(after_key)}"
        return text


@dataclass(frozen=True)
class EstimatesUpdate:
    """The changes a sheet makes and the model file's text with them."""

    changes: tuple[Change, ...]
    text: str


@dataclass(frozen=True)
class _Edit:
    """Replace ``text[start:end]`` of one line with ``new`` (``start == end``: insert)."""

    line: int
    start: int
    end: int
    new: str


def update_estimates(model_path: str | Path, rows: Sequence[EstimateRow]) -> EstimatesUpdate:
    """The model file's text with the sheet's rows written in; an EstimatesError naming
    every refused row (and nothing changed) when any row is bad."""
    from ruamel.yaml import YAML  # imported here: only writing estimates back needs it

    path = Path(model_path)
    model, diagnostics = read_model(path)
    unreadable = [d for d in diagnostics if d.code in UNREADABLE_CODES]
    if unreadable:
        raise ModelFileError(unreadable[0].message, file=str(path), line=unreadable[0].line)
    text = path.read_text(encoding="utf-8")
    try:
        document = YAML(typ="rt").load(text)
    except Exception as error:  # ruamel's errors (a duplicate key) have no common base
        raise EstimatesError(
            f"cannot read the model file to write into it: {error}",
            file=str(path),
            hint="fix what 'assumption-graph check' reports first",
        ) from None
    inputs = {item.id: item for item in sheet_inputs(model)}
    lines = text.splitlines(keepends=True)
    json_file = path.suffix.lower() == ".json"
    problems: list[str] = []
    changes: list[Change] = []
    edits: list[_Edit] = []
    seen: dict[str, int] = {}
    for row in rows:
        try:
            found = _row_change(row, inputs, seen, document, lines, json_file)
        except _Refused as refused:
            problems.append(f"row {row.row}: {refused}")
            continue
        if found is not None:
            changes.append(found[0])
            edits.extend(found[1])
    new_text = _edited(lines, edits)
    if not problems and changes:
        problems = _check_problems(new_text, path, changes, rows)
    if problems:
        raise EstimatesError(
            f"nothing written: {len(problems)} row(s) refused: " + "; ".join(problems),
            file=str(path),
            hint="correct those rows in the sheet and run --update again",
        )
    return EstimatesUpdate(tuple(changes), new_text)


class _Refused(Exception):
    """A row that cannot be written back, and why."""


def _row_change(
    row: EstimateRow,
    inputs: dict[str, SheetInput],
    seen: dict[str, int],
    document: Any,
    lines: list[str],
    json_file: bool,
) -> tuple[Change, list[_Edit]] | None:
    """What ``row`` changes and the text edits that make it; None for an unchanged row."""
    cells = row.cells
    input_id = "" if cells.get("id") is None else str(cells["id"]).strip()
    item = inputs.get(input_id)
    if item is None:
        hint = did_you_mean(input_id, inputs)
        raise _Refused(
            f"id {shown(input_id)} names no uncertain input of the model"
            + (f" ({hint})" if hint else "")
        )
    if input_id in seen:
        raise _Refused(f"{input_id} appears again (first in row {seen[input_id]})")
    seen[input_id] = row.row
    raw = [cells.get(name) for name in _NUMBERS]
    if all(value is None for value in raw):
        return None  # not filled in
    new = tuple(_number(input_id, name, value) for name, value in zip(_NUMBERS, raw, strict=True))
    if not new[0] <= new[1] <= new[2]:
        raise _Refused(
            f"{input_id}: the estimate must be ordered low <= mid <= high, got {_listed(new)}"
        )
    model = cells.get("model")
    body = item.body
    if model is not None and str(model).strip() not in (body.name, *type(body).aliases):
        raise _Refused(
            f"{input_id}: the model column says {shown(model)}, the file {body.name}; "
            "change a model in the model file"
        )
    weights = _weights(input_id, cells.get("probabilities"))
    if _same(new, (body.low, body.mid, body.high)) and weights in (None, _current_weights(body)):
        return None  # as the model has it (to the 15 digits a spreadsheet keeps)
    mapping = _mapping(document, item.path)
    estimate = mapping.get("estimate") if mapping is not None else None
    if estimate is None or not isinstance(estimate, list) or len(estimate) != 3:
        if weights not in (None, _current_weights(body)):
            raise _Refused(f"{input_id}: a {body.name} model takes no probabilities")
        return _own_keys_change(input_id, body, mapping, new, lines)
    edits = _replaced(estimate, list(new), lines)
    old = tuple(float(x) for x in estimate)
    present = mapping.get("probabilities")
    old_weights = tuple(float(x) for x in present) if isinstance(present, list) else None
    if weights is not None and weights != old_weights:
        if old_weights is not None and len(present) == len(weights):
            edits += _replaced(present, list(weights), lines)
        else:
            edits.append(_inserted(input_id, mapping, estimate, weights, lines, json_file))
    if not edits:
        return None
    return Change(input_id, old, new, old_weights, weights), edits


def _own_keys_change(
    input_id: str,
    body: Distribution,
    mapping: Any,
    new: tuple[float, ...],
    lines: list[str],
) -> tuple[Change, list[_Edit]] | None:
    """The estimate ``new`` written as the numbers of the model's own keys (a normal's
    ``mean`` and ``sd``): those of the model the estimate means with the input's options,
    refused when that model does not read back as ``new`` (a normal's low and high lie
    evenly around its mid); None when the keys keep their numbers."""
    keys = type(body).own_keys
    if mapping is None or not keys or any(not _is_number(mapping.get(k)) for k in keys):
        raise _Refused(
            f"{input_id}: the model file gives this input without 'estimate: [low, mid, high]'; "
            "edit it there"
        )
    options = {name: getattr(body, name) for name in type(body).options}
    low, mid, high = new
    try:
        meant = type(body).read_estimate(low, mid, high, options)
    except ModelError as error:
        raise _Refused(f"{input_id}: {error}") from None
    readings = (meant.low, meant.mid, meant.high)
    span = max(abs(x) for x in new) or 1.0
    if not all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * span)
        for a, b in zip(readings, new, strict=True)
    ):
        raise _Refused(
            f"{input_id}: the model file gives this {body.name} by {', '.join(keys)}, which "
            f"cannot say {_listed(new)} (that {body.name} reads {_listed(readings)}); "
            "give an estimate it can say, or write 'estimate:' in the model file"
        )
    numbers = meant.file_keys()
    written = tuple(
        (k, float(mapping[k]), float(numbers[k])) for k in keys if float(mapping[k]) != numbers[k]
    )
    if not written:
        return None
    edits = []
    for key, _, number in written:
        line, column = mapping.lc.value(key)
        token = _TOKEN.match(lines[line], column)
        edits.append(_Edit(line, column, token.end() if token else column, _written(number)))
    old = (body.low, body.mid, body.high)
    return Change(input_id, old, new, own_keys=written), edits


def _is_number(value: object) -> TypeGuard[int | float]:
    """A number as YAML or a spreadsheet cell gives it (not a boolean, a list or text)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(input_id: str, column: str, value: object) -> float:
    """A cell's finite number (a number cell, or text that reads as one)."""
    number: float | None = None
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise _Refused(f"{input_id}: {column} must be a finite number, got {shown(value)}")
    return number


def _weights(input_id: str, value: object) -> tuple[float, ...] | None:
    """The probabilities cell as numbers (``0.2, 0.6, 0.2``), None when blank."""
    if value is None:
        return None
    if _is_number(value):
        parts: list[object] = [value]
    else:
        parts = [p for p in re.split(r"[;,\s]+", str(value).strip()) if p]
    return tuple(_number(input_id, "probabilities", p) for p in parts)


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    """Equal numbers, to the 15 significant digits a spreadsheet keeps of a float."""
    return all(math.isclose(x, y, rel_tol=1e-14) for x, y in zip(a, b, strict=True))


def _current_weights(body: Distribution) -> tuple[float, ...] | None:
    """The model's probabilities as the sheet shows them, None at their defaults."""
    weights = body.non_default("probabilities")
    return None if weights is None else tuple(float(w) for w in weights)


def _mapping(document: Any, path: tuple[str, ...]) -> Any:
    """The mapping at ``nodes`` / ``path`` in the round-trip document, or None."""
    here: Any = document.get("nodes") if hasattr(document, "get") else None
    for key in path:
        here = here.get(key) if hasattr(here, "get") else None
    return here if hasattr(here, "get") else None


def _replaced(sequence: Any, numbers: list[float], lines: list[str]) -> list[_Edit]:
    """Edits that write ``numbers`` over a sequence's items where they differ."""
    edits = []
    for k, number in enumerate(numbers):
        if float(sequence[k]) == number:
            continue
        line, column = sequence.lc.item(k)
        token = _TOKEN.match(lines[line], column)
        end = token.end() if token else column
        edits.append(_Edit(line, column, end, _written(number)))
    return edits


def _inserted(
    input_id: str,
    mapping: Any,
    estimate: Any,
    weights: tuple[float, ...],
    lines: list[str],
    json_file: bool,
) -> _Edit:
    """The edit adding ``probabilities:`` right after the estimate, in the mapping's style."""
    line, column = estimate.lc.item(2)
    close = lines[line].find("]", column)
    while close < 0 and line + 1 < len(lines):  # a list written over several lines
        line += 1
        close = lines[line].find("]")
    if not estimate.fa.flow_style() or close < 0:
        raise _Refused(
            f"{input_id}: add 'probabilities:' to it in the model file first, then update"
        )
    key = '"probabilities"' if json_file else "probabilities"
    listed = "[" + ", ".join(_written(w) for w in weights) + "]"
    if mapping.fa.flow_style():  # in braces, as every JSON object is
        return _Edit(line, close + 1, close + 1, f", {key}: {listed}")
    indent = mapping.lc.key("estimate")[1]  # a line of its own, below the estimate's
    end = len(lines[line].rstrip("\r\n"))
    return _Edit(line, end, end, f"\n{' ' * indent}{key}: {listed}")


def _edited(lines: list[str], edits: list[_Edit]) -> str:
    """The text with every edit made, right to left within each line."""
    lines = list(lines)
    for edit in sorted(edits, key=lambda e: (e.line, e.start), reverse=True):
        text = lines[edit.line]
        lines[edit.line] = text[: edit.start] + edit.new + text[edit.end :]
    return "".join(lines)


def _check_problems(
    text: str, path: Path, changes: list[Change], rows: Sequence[EstimateRow]
) -> list[str]:
    """The changed inputs' errors when the new text is checked, each with its row."""
    model, diagnostics = read_model_text(
        text, file=str(path), format="json" if path.suffix.lower() == ".json" else "yaml"
    )
    changed = {c.id.partition("@")[0]: c.id for c in changes}
    row_of = {str(r.cells.get("id")).strip(): r.row for r in rows}
    return [
        f"row {row_of[changed[d.node]]}: {changed[d.node]}: {d.message}"
        for d in check(model, diagnostics).errors
        if d.node in changed
    ]


def _written(number: float) -> str:
    """A number as the file writes it: whole numbers without ``.0``."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _listed(numbers: Sequence[float]) -> str:
    return "[" + ", ".join(_written(float(x)) for x in numbers) + "]"
