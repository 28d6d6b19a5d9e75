"""Running the command line in-process from tests."""

from __future__ import annotations

import pytest

from assumption_graph.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """The exit code, standard output and standard error of one command."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
