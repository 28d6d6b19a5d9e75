"""One exception hierarchy for everything the engine reports to a user.

Every error carries enough context (file, line, node) for a one-line message
that tells the user where the problem is and what to do about it.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from ._lazy import lazy_import

if TYPE_CHECKING:
    import difflib
else:  # only a misspelling's hint needs it: a clean model's check starts without
    difflib = lazy_import("difflib")

__all__ = [
    "AssumptionGraphError",
    "ModelFileError",
    "FormulaError",
    "ModelError",
    "CheckFailed",
    "RunError",
    "EstimatesError",
    "OutputError",
    "RenderError",
    "Diagnostic",
    "did_you_mean",
    "shown",
    "quoted",
    "cut_words",
]

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 6
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlong = 40


def shown(value: object) -> str:
    """A value as a message quotes it: its ``repr``, cut to a readable length.

    Every message that repeats a value from a file or a call goes through here,
    so a huge list or text never makes a huge line.

    >>> shown([1, 2.5, "a"]), shown(list(range(300_000)))
    ("[1, 2.5, 'a']", '[0, 1, 2, 3, 4, 5, ...] (300,000 values)')
    >>> shown("x" * 1000)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxxxxxxxxxxxxxxxxxxxxxxxx' (1,000 characters)"
    """
    text = _SHORT.repr(value)
    if isinstance(value, list | tuple | dict | set) and len(value) > _SHORT.maxlist:
        text += f" ({len(value):,} values)"
    elif isinstance(value, str) and len(value) > _SHORT.maxstring:
        text += f" ({len(value):,} characters)"
    return text


_LONG_WORD = re.compile(r"\S{301,}")  # no path, number or name of a sane file is as long


def cut_words(text: str) -> str:
    """``text`` with each run of over 300 characters without a space cut in the middle.

    A message quotes ids, names, units and values from the file, not always through
    :func:`shown`; this keeps every message a readable line whatever they hold.

    >>> cut_words("unit " + "u" * 1000 + " is odd")  # doctest: +ELLIPSIS
    'unit uuu...uuu (1,000 characters) is odd'
    """
    return _LONG_WORD.sub(
        lambda word: f"{word[0][:100]}...{word[0][-100:]} ({len(word[0]):,} characters)", text
    )


def quoted(name: object) -> str:
    """A node id or name as a message quotes it: in quotes, a long one cut by :func:`shown`.

    >>> quoted("hours"), quoted("h" * 100)
    ("'hours'", "'hhhhhhhhhhhhhhhhhhhhhhhhhhh...hhhhhhhhhhhhhhhhhhhhhhhhhhhh' (100 characters)")
    """
    text = str(name)
    return f"'{text}'" if len(text) <= _SHORT.maxstring else shown(text)


def did_you_mean(word: object, choices: Iterable[str], otherwise: str = "") -> str:
    """A hint for a misspelling: ``did you mean 'x'?`` for the closest choice, else ``otherwise``.

    >>> did_you_mean("valeu", ["value", "formula"]), did_you_mean("zzz", ["value"], "none")
    ("did you mean 'value'?", 'none')
    """
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else otherwise


class AssumptionGraphError(Exception):
    """Root of every error the engine raises on purpose.

    ``file``, ``line`` and ``node`` locate the problem when known; ``hint`` says
    what to do. ``str(error)`` is the full one-line message.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        node: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = cut_words(message)
        self.file = file
        self.line = line
        self.node = node
        self.hint = cut_words(hint) if hint else hint
        super().__init__(self.format())

    def format(self) -> str:
        """The message prefixed by ``file:line:`` and the node, hint appended."""
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line is not None else f"{self.file}: "
        node = f"node {quoted(self.node)}: " if self.node is not None else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{node}{self.message}{hint}"


class ModelFileError(AssumptionGraphError):
    """The model file cannot be read or is not a model (syntax, structure, keys)."""


class FormulaError(AssumptionGraphError):
    """A formula does not parse or uses something outside the formula language."""

    def __init__(self, message: str, *, column: int | None = None, **context: object) -> None:
        self.column = column
        if column is not None:
            message = f"{message} (column {column})"
        super().__init__(message, **context)  # type: ignore[arg-type]


class ModelError(AssumptionGraphError):
    """A model built in code is inconsistent (bad node definition, duplicate id)."""


class CheckFailed(AssumptionGraphError):
    """``check`` found errors, so the model cannot be compiled or run.

    ``diagnostics`` holds every finding; the message shows the first errors.
    """

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        shown = "; ".join(str(d) for d in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(
            f"the model has {len(errors)} error(s): {shown}{more}",
            hint="run 'assumption-graph check' for the full list",
        )


class RunError(AssumptionGraphError):
    """A run was asked for with bad settings (sample count, seed, override)."""


class EstimatesError(AssumptionGraphError):
    """A filled-in estimates sheet cannot go back into the model: a row names no
    input, its estimate is out of order, or a number is not a number."""


class OutputError(AssumptionGraphError):
    """An output file cannot be written, or writing it would destroy a file.

    Its folder is missing or read-only, it is a folder, it is the model itself
    (or another input), or the write failed (a full disk).
    """


class RenderError(AssumptionGraphError):
    """The diagram or chart cannot be made: unknown format or no Graphviz ``dot``."""


@dataclass(frozen=True)
class Diagnostic:
    """One finding of ``check``: where, how bad, a stable code and a message.

    ``str(diagnostic)`` is the ``path:line: severity code: message`` line the
    command line prints.
    """

    severity: Literal["error", "warning"]
    code: str
    message: str
    node: str | None = None
    file: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", cut_words(self.message))

    def __str__(self) -> str:
        where = self.file or "<model>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        named = self.node is None or quoted(self.node) in self.message
        node = "" if named else f"{quoted(self.node)}: "
        return f"{where}: {self.severity} {self.code}: {node}{self.message}"

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``check --format json``."""
        return asdict(self)

    @classmethod
    def from_error(cls, error: AssumptionGraphError, code: str) -> Diagnostic:
        """An error raised while loading, reported as a diagnostic instead."""
        hint = f" (hint: {error.hint})" if error.hint else ""
        return cls(
            "error", code, error.message + hint, node=error.node, file=error.file, line=error.line
        )
