"""A quiet start for the command line's process: signals end it, BLAS threads sleep, the GC waits.

Ctrl-C or SIGTERM before the command runs ends the process. The start-up imports
take a while and write nothing, so there is nothing to clean up: the process ends
at once with exit 128 + the signal's number (130 or 143).
:func:`assumption_graph.cli.main` then turns the signals into exceptions that
unwind, so files and child processes are cleaned up.

numpy's OpenBLAS starts its threads when numpy is imported, and an idle one spins
for about a tenth of a second before it sleeps, after the start and after every
call: on a machine with few cores that takes a core from the start-up and from the
kernel's threads. The process asks them to sleep at once instead (unless the
environment says otherwise); how many threads there are, and so every number, stays
as it was.

A command allocates tens of thousands of objects as it starts (``check`` about
20,000, ``run`` 60,000: modules, classes, the model) and frees few of them;
Python's garbage collector, run every 700 allocations by default, walked them all
again and again, about 20 ms of a ``run``. It runs every 100,000 instead (as mypy
has it run every 200,000): none in a command's start, still regularly in a long one.

Imports only the standard library, so the entry points can call it before any
heavy import.
"""

from __future__ import annotations

import gc
import os
import signal

QUIET_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# how long an idle OpenBLAS thread spins: 2**4 cycles, its least (2**28 by default)
BLAS_SPIN = ("OPENBLAS_THREAD_TIMEOUT", "4")
GC_EVERY = 100_000  # allocations between two collections of the youngest objects


def _exit_now(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def quiet_start() -> None:
    """End the process with 128 + the signal's number on Ctrl-C or SIGTERM (unless ignored),
    have idle BLAS threads sleep rather than spin (unless the environment sets it) and
    collect garbage every :data:`GC_EVERY` allocations."""
    os.environ.setdefault(*BLAS_SPIN)  # read when numpy loads OpenBLAS, so before that
    gc.set_threshold(GC_EVERY)
    for signum in QUIET_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # e.g. a background job's SIGINT
            signal.signal(signum, _exit_now)
