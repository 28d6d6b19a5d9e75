"""Guard the numbers: fingerprints of ``run --json`` on fixed models, compared bit for bit.

A refactor must not move a number. This script runs ``run --json --all`` on the
three examples and on the layered-100 and layered-1,000 benchmark graphs, with
the ``mc``, ``lhs`` and ``sobol`` methods, and keeps a SHA-256 fingerprint of
each output in ``numbers.json`` beside it::

    python -m benchmarks.numbers            # compare with the stored fingerprints
    python -m benchmarks.numbers --store    # store the current ones (after a wanted change)

The comparison names every output whose bytes changed and exits 1; with
``--keep DIR`` the outputs are also written there, to diff against an older
checkout's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from assumption_graph import cli
from assumption_graph.io import save

from .graphs import layered

HERE = Path(__file__).resolve().parent
STORED = HERE / "numbers.json"
EXAMPLES = HERE.parent / "examples"
METHODS = ("mc", "lhs", "sobol")
SAMPLES = 20_000
SEED = 3


def models(folder: Path) -> Iterator[tuple[str, Path]]:
    """(name, model file) of every model the fingerprints cover."""
    for path in sorted(EXAMPLES.glob("*.yaml")):
        yield path.stem, path
    for size in (100, 1000):
        path = folder / f"layered-{size}.yaml"
        save(layered(size), path)
        yield path.stem, path


def run_json(path: Path, method: str) -> bytes:
    """The bytes ``run --json -`` prints for one model and method."""
    out = io.StringIO()
    argv = [
        "run", str(path), "-n", str(SAMPLES), "--seed", str(SEED),
        "--method", method, "--all", "--json", "-",
    ]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(argv)
    if code != 0:
        raise SystemExit(f"run {path.name} --method {method} exited {code}")
    return out.getvalue().encode("utf-8")


def fingerprints(keep: Path | None) -> dict[str, str]:
    """Name → SHA-256 of every covered output."""
    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in models(Path(tmp)):
            for method in METHODS:
                data = run_json(path, method)
                key = f"{name}-{method}"
                found[key] = hashlib.sha256(data).hexdigest()
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{key}.json").write_bytes(data)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.numbers", description=__doc__)
    parser.add_argument("--store", action="store_true", help="store the current fingerprints")
    parser.add_argument("--keep", type=Path, help="also write the outputs to this folder")
    args = parser.parse_args(argv)
    found = fingerprints(args.keep)
    if args.store:
        STORED.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
        print(f"stored {len(found)} fingerprints in {STORED.name}")
        return 0
    stored = json.loads(STORED.read_text(encoding="utf-8"))
    changed = sorted(k for k in stored.keys() | found.keys() if stored.get(k) != found.get(k))
    for key in changed:
        print(f"changed: {key}")
    print(f"{len(found) - len(changed)} of {len(stored)} outputs identical")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
