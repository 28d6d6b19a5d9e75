"""The benchmark suite runs (a quick smoke run; speed itself is never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_runs_and_writes_json(tmp_path):
    target = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--sizes", "100", "--json", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(target.read_text())
    text = json.dumps(data)
    assert "layered-100" in text
    assert "ratio" in text
    commands = {row["command"]: row["this"] for row in data["commands"]}
    assert set(commands) == {"check example", "check case", "run case -n 1000"}
    assert all(0 < t["min"] <= t["median"] for t in commands.values())


def test_the_whole_benchmarks_summaries_table_times_both_ways():
    from benchmarks import whole

    timed = whole.summaries(2**17, repeat=1)
    assert timed["outputs"] > 20 and timed["ranked"] == 3
    assert all(timed[k] > 0 for k in timed if k.endswith("seconds"))
    table = whole.render_summaries(timed)
    assert "summaries" in table and "rankings" in table and "numpy/compiled" in table


def test_the_whole_benchmarks_irr_share_times_one_thread_and_the_runs():
    from benchmarks import whole

    shares = whole.irr_shares(2**14, 1, (1, None))
    assert [share["threads"] for share in shares] == [1, None]
    assert all(share["with_seconds"] > 0 and share["without_seconds"] > 0 for share in shares)
    lines = whole.render_irr(shares).strip().splitlines()
    assert len(lines) == 2 and "on 1 thread" in lines[0] and "the run's threads" in lines[1]
    assert all("the IRR" in line and "% of it" in line for line in lines)
