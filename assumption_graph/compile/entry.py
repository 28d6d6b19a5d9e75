"""The kernel's calling convention: its entry's arguments, its sizes, the object it is kept as.

Both sides of the kernel share it: :mod:`.numba_backend`, which compiles the entry
point with these arguments, and :mod:`.kernel`, which loads the object code and
calls it. Neither needs the other for it.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import NamedTuple

__all__ = ["ENTRY", "Size", "Piece", "HELPER_NAMES", "KernelObject"]

# The entry point's arguments, in order: a pointer to each array (its element
# type) and the run's seed key; every integer it needs is in ``sizes``. It is
# called in numba's convention for compiled functions: two pointers come first,
# where it may write its (here: no) result and an exception's details, and it
# returns a status, 0 (or -2, "returned None") when all went well.
ENTRY: tuple[tuple[str, str], ...] = (
    ("code", "int64"),
    ("params", "float64"),
    ("keys", "uint64"),
    ("out_slots", "int64"),
    ("given", "float64"),
    ("table", "float64"),
    ("out", "float64"),
    ("buf", "float64"),
    ("flows", "float64"),
    ("sizes", "int64"),
    ("pieces", "int64"),  # for each op, the address of the piece that runs it, or 0
    ("seed_key", "uint64 value"),
)


class Size(IntEnum):
    """Where each integer the kernel needs is in its ``sizes`` array."""

    N_OPS = 0
    N_SLOTS = 1
    N_OUTPUTS = 2
    GIVEN_ROWS = 3
    GIVEN_COLUMNS = 4
    TABLE_SIZE = 5
    OUT_COLUMNS = 6
    N_FLOWS = 7  # the size of the IRRs' scratch, ``flows``
    START = 8
    COUNT = 9
    BLOCK = 10
    FIRST_BLOCK = 11
    END_BLOCK = 12


class Piece(IntEnum):
    """The kernel's rarely used ops, compiled and cached apart from it, each on first use.

    The kernel calls a piece through its address, which its ``pieces`` array holds
    at each op the piece runs (0 at the ops the kernel runs itself), with the op's
    index, the block's first sample and size, and the kernel's own arguments. A
    model without them never waits for their compile: together they made the
    kernel's first compile about two thirds longer.
    """

    FROM_U = 0  # a draw from given uniforms: Latin hypercube, Sobol, correlated inputs
    COPULA = 1  # the Gaussian copula's SCORE and COPULA
    IRR = 2  # IRR and IRR_COUNT over a block's yearly flows
    DRAW = 3  # a draw from its stream of a model other than triangle and uniform
    LHS = 4  # a Latin hypercube's uniform
    SOBOL = 5  # a Sobol point


# numba's runtime helpers the entry point's exception path and array references
# name, defined here so that a process without numba can link the object: the
# GIL helpers as numba's own (``numba/_helperlib.c``); the destructor call is
# never reached, since every array comes from a pointer and has no owner.
_HELPERS = r"""
declare i32 @PyGILState_Ensure()
declare void @PyGILState_Release(i32)
declare void @abort()
define void @numba_gil_ensure(i32* %state) {
  %s = call i32 @PyGILState_Ensure()
  store i32 %s, i32* %state
  ret void
}
define void @numba_gil_release(i32* %state) {
  %s = load i32, i32* %state
  call void @PyGILState_Release(i32 %s)
  ret void
}
define void @NRT_MemInfo_call_dtor(i8* %meminfo) {
  call void @abort()
  unreachable
}
"""
HELPER_NAMES = frozenset(re.findall(r"^define \S+ @(\w+)", _HELPERS, flags=re.MULTILINE))


class KernelObject(NamedTuple):
    """The compiled kernel: object code, its entry's symbol, the symbols it needs,
    ``_HELPERS`` as object code (empty: compiled from their text when the kernel is
    linked), and the sha256 of the shared library made of both (empty: none)."""

    code: bytes
    symbol: str
    externals: tuple[str, ...]
    helpers: bytes = b""
    shared: str = ""
