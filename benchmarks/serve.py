"""``python -m benchmarks.serve``: how soon the live page shows a saved change, in a browser.

``assumption-graph serve`` runs as a user starts it (a new process, the kernel
loaded from its cache) and headless Chromium (Debian's, driven by Selenium and
Debian's chromedriver) shows its page. Each round edits one estimate of the
model file and saves it; the page records, in the browser's next animation
frame after each update is swapped in, the wall-clock time, which is compared
with the time just before the save (one machine, one clock):

- **deterministic**: save → the diagram and the deterministic figures shown,
  for the example business case and a 1,000-node layered graph;
- **Monte Carlo 10^5**: save → the first Monte Carlo figures of 10^5 samples
  shown, for a 100-node layered graph, and how much later that is than the
  deterministic figures.

A round starts once the previous save's update has finished (charts
included), so no older run is being cancelled. Absolute times on the machine
it runs on (the median and the best of ``--repeat`` rounds); on a shared
machine the best is the fairer figure.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assumption_graph.io import save

from .graphs import layered

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "business_case.yaml"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
MC_STEP = 100_000
FINISHED = 300.0  # seconds an update may take to finish, charts included
# Records each update as it is shown: the stage and samples live.js sets on <body>,
# stamped with the wall-clock time of the next frame painted after the change.
RECORDER = """
window.__marks = [];
new MutationObserver(function () {
  var stage = document.body.dataset.stage, samples = Number(document.body.dataset.samples);
  requestAnimationFrame(function () {
    window.__marks.push({stage: stage, samples: samples, t: Date.now() / 1000});
  });
}).observe(document.body, {attributes: true, attributeFilter: ["data-stage", "data-samples"]});
"""


@dataclass(frozen=True)
class Graph:
    """A benchmark graph: its name, the model text, and the -n its server runs."""

    name: str
    text: str
    samples: int


def graphs(folder: Path) -> list[Graph]:
    found = [Graph("example", CASE.read_text(encoding="utf-8"), 1_000_000)]
    for size, samples in ((1000, 100_000), (100, 1_000_000)):
        path = folder / f"layered-{size}.yaml"
        save(layered(size), path)
        found.append(Graph(f"layered-{size}", path.read_text(encoding="utf-8"), samples))
    return found


_HIGH = re.compile(  # the high end of a three-point estimate, in flow or block style
    r"estimate:(?:\s*\[[^,\]]+,[^,\]]+,\s*|\s*\n\s*- [^\n]+\n\s*- [^\n]+\n\s*- )([-+0-9.eE]+)"
)


def edited(text: str, round_: int) -> str:
    """The model text with its first three-point estimate's high end moved a little."""
    match = _HIGH.search(text)
    if match is None:
        raise ValueError("the benchmark model has no three-point estimate to edit")
    high = float(match[1]) * (1 + 0.01 * (round_ + 1))
    return text[: match.start(1)] + repr(high) + text[match.end(1) :]


@contextmanager
def serving(path: Path, samples: int) -> Iterator[str]:
    """``serve`` in a new process, as a user starts it; the address it prints."""
    command = [sys.executable, "-m", "assumption_graph", "serve", str(path), "--no-browser"]
    command += ["--port", "0", "-n", str(samples)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        yield lines.get(timeout=120).rsplit(" at ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium under Selenium, Debian's binaries only."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory() as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


def wait(driver: Any, condition: str, seconds: float = FINISHED) -> None:
    """Until the script ``condition`` is true in the page."""
    end = time.monotonic() + seconds
    while not driver.execute_script(f"return {condition};"):
        if time.monotonic() > end:
            raise TimeoutError(f"the page never showed {condition}")
        time.sleep(0.05)


def rounds(driver: Any, url: str, path: Path, graph: Graph, repeat: int) -> list[dict]:
    """Save an edit ``repeat`` times; each round's marks relative to its save."""
    driver.get(url)
    wait(driver, "document.body.dataset.stage === 'charts'")  # the first update has finished
    found = []
    for k in range(repeat):
        driver.execute_script(RECORDER)
        saved = time.time()
        path.write_text(edited(graph.text, k), encoding="utf-8")
        wait(driver, "window.__marks.some(m => m.stage === 'charts')")
        marks = driver.execute_script("return window.__marks;")
        found.append(
            {
                "deterministic": _first(marks, saved, lambda m: m["stage"] == "deterministic"),
                "mc": _first(marks, saved, lambda m: m["samples"] >= MC_STEP),
            }
        )
    return found


def _first(marks: list[dict], saved: float, wanted: Any) -> float | None:
    times = [m["t"] - saved for m in marks if wanted(m)]
    return min(times) if times else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="saves per graph (default 3)")
    args = parser.parse_args(argv)
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        print("needs /usr/bin/chromium and /usr/bin/chromedriver (make setup)", file=sys.stderr)
        return 1
    print("save -> shown in headless Chromium, seconds: median (best) of", args.repeat, "saves")
    with tempfile.TemporaryDirectory() as folder, chromium() as driver:
        for graph in graphs(Path(folder)):
            path = Path(folder) / f"live-{graph.name}.yaml"
            path.write_text(graph.text, encoding="utf-8")
            with serving(path, graph.samples) as url:
                found = rounds(driver, url, path, graph, args.repeat)
            line = f"{graph.name:>13}: deterministic figures and diagram"
            line += f" {_stat(found, 'deterministic')}"
            if graph.name == "layered-100":
                more = [
                    {"more": r["mc"] - r["deterministic"]}
                    for r in found
                    if r["mc"] is not None and r["deterministic"] is not None
                ]
                line += f"; first Monte Carlo figures (10^5) {_stat(found, 'mc')}"
                line += f", {_stat(more, 'more')} after the deterministic ones"
            print(line, flush=True)
    return 0


def _stat(found: list[dict], key: str) -> str:
    values = [r[key] for r in found if r[key] is not None]
    if not values:
        return "not seen"
    return f"{statistics.median(values):.3f} s ({min(values):.3f} s)"


if __name__ == "__main__":
    sys.exit(main())
