"""Typed reading of mapping keys, with errors that point at the key.

A node's keys (:mod:`.model`) and the ``business_case:`` section (:mod:`.business`)
hold the same kinds of values: text, whole numbers, finite numbers, true or false.
:class:`KeyReader` checks each kind once, with one wording per kind; each reader
says, through ``fail``, how an error finds its file, line and node.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any, TypeGuard

from .errors import ModelError, shown

__all__ = ["KeyReader", "is_whole", "non_default", "non_defaults"]


def is_whole(raw: object) -> TypeGuard[int | float]:
    """True for an int, or a float without a fraction (``2025.0``); never for true/false.

    >>> is_whole(2025), is_whole(2025.0), is_whole(2025.5), is_whole(float("inf"))
    (True, True, False, False)
    """
    if isinstance(raw, bool):
        return False
    return isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer())


def _is_finite(raw: object) -> TypeGuard[int | float]:
    """True for an int or float that is neither inf nor nan (nor too big for a float)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return False
    try:
        return math.isfinite(raw)
    except OverflowError:  # an int beyond the float range
        return False


class KeyReader(ABC):
    """The typed checks the node and business-case readers share.

    ``key`` names the value in the message and is handed to ``fail``, which
    turns it into a file and line. ``raw`` is the value as read.
    """

    @abstractmethod
    def fail(self, message: str, key: str, hint: str | None = None) -> ModelError:
        """The error for a bad value at ``key``, knowing its file and line."""

    def text(self, key: str, raw: object, at: str | None = None) -> str | None:
        """Text (a number counts, as written); None when missing.

        ``at`` is where the error points when that is not ``key`` itself.
        """
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise self.fail(f"'{key}' must be text, got {shown(raw)}", at or key)
        return str(raw)

    def whole(self, key: str, raw: object) -> int | None:
        """A whole number (``2025.0`` counts); None when missing."""
        if raw is None:
            return None
        if not is_whole(raw):
            raise self.fail(f"'{key}' must be a whole number, got {shown(raw)}", key)
        return int(raw)

    def number(self, key: str, raw: object) -> float:
        """A finite number: not text, not true/false, not inf or nan."""
        if not _is_finite(raw):
            raise self.fail(f"'{key}' must be a finite number, got {shown(raw)}", key)
        return float(raw)

    def flag(self, key: str, raw: object) -> bool:
        """``true`` or ``false``, nothing else (no 0/1, no 'yes')."""
        if not isinstance(raw, bool):
            raise self.fail(f"'{key}' must be true or false, got {shown(raw)}", key)
        return raw


def non_default(record: Any, name: str) -> Any:
    """The dataclass field ``name``'s value, or None when it is at its default or absent.

    What a file writer leaves out: a key at its default need not be written.
    """
    for f in dataclasses.fields(record):
        if f.name == name:
            value = getattr(record, name)
            return None if value == f.default else value
    return None


def non_defaults(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The dataclass fields in ``names`` that differ from their defaults, tuples as lists."""
    keys: dict[str, Any] = {}
    for name in names:
        value = non_default(record, name)
        if value is not None:
            keys[name] = list(value) if isinstance(value, tuple) else value
    return keys
