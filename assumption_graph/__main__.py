"""The command line's entry point: ``python -m assumption_graph`` and the console scripts.

It imports nothing heavy before it makes Ctrl-C (SIGINT) and SIGTERM end the
process quietly, with exit 130 or 143: the start-up imports take a while and
write nothing, so there is nothing to clean up. :func:`assumption_graph.cli.main`
then turns the signals into exceptions that unwind, so files and child
processes are cleaned up.
"""

from __future__ import annotations

import os
import signal
import sys

QUIET_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_now(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def quiet_start() -> None:
    """End the process with 128 + the signal's number on Ctrl-C or SIGTERM (unless ignored)."""
    for signum in QUIET_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # e.g. a background job's SIGINT
            signal.signal(signum, _exit_now)


def main() -> int:
    """Run the command line with quiet signals from the first line on."""
    quiet_start()
    from .cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
