"""Quiet signals for the start-up: Ctrl-C or SIGTERM before the command runs ends the process.

The start-up imports take a while and write nothing, so there is nothing to clean
up: the process ends at once with exit 128 + the signal's number (130 or 143).
:func:`assumption_graph.cli.main` then turns the signals into exceptions that
unwind, so files and child processes are cleaned up. Imports only the standard
library, so the entry points can call it before any heavy import.
"""

from __future__ import annotations

import os
import signal

QUIET_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_now(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def quiet_start() -> None:
    """End the process with 128 + the signal's number on Ctrl-C or SIGTERM (unless ignored)."""
    for signum in QUIET_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # e.g. a background job's SIGINT
            signal.signal(signum, _exit_now)
