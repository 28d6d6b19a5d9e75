"""The command line's entry point: ``python -m assumption_graph`` and the console scripts.

It makes Ctrl-C (SIGINT) and SIGTERM end the process quietly (:mod:`.quiet`)
before it imports the command line, which imports the heavy libraries.
"""

from __future__ import annotations

import sys

from .quiet import quiet_start


def main() -> int:
    """Run the command line with quiet signals from the first line on."""
    quiet_start()
    from .cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
