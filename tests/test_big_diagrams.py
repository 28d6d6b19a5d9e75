"""A diagram too big for Graphviz to lay out in seconds is not drawn without asking.

Graphviz's ``dot`` takes seconds for a few hundred nodes and minutes or hours
for a few thousand, more on some shapes than others: a long chain with one
input shared along it (what a model of many similar areas looks like) is the
slowest. ``draw`` (unless ``--level`` is given) and ``report`` draw the detailed
diagram up to :data:`~assumption_graph.render.DIAGRAM_NODES` nodes and
:data:`~assumption_graph.render.DIAGRAM_EDGES` edges, and the overview above
that, saying so; when the overview is too big as well, ``draw`` stops with a
message and ``report`` shows a note. Each command runs in a subprocess with a
timeout, so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from assumption_graph import Model, render
from assumption_graph.html_report import CHARTED_OUTPUTS

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120  # seconds: minutes of margin over what the commands take
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(
    not any((Path(p) / "dot").exists() for p in os.environ.get("PATH", "").split(os.pathsep)),
    reason="Graphviz 'dot' not installed",
)


def chain_model(groups: int) -> dict:
    """``6 * groups + 1`` nodes of the shape ``dot`` is slowest on: each area's figure
    adds to the previous one's, and one wage is used by all of them."""
    nodes: dict[str, dict] = {"wage": {"value": 400, "source": "payroll"}}
    for i in range(groups):
        nodes[f"u{i}a"] = {"estimate": [1, 2, 3], "source": "s", "label": f"Cases in area {i}"}
        nodes[f"u{i}b"] = {"estimate": [10, 12, 15], "source": "s"}
        nodes[f"u{i}c"] = {"estimate": [0.1, 0.2, 0.4], "model": "uniform", "source": "s"}
        nodes[f"c{i}"] = {"value": 0.5, "source": "s"}
        previous = f" + m{i - 1}" if i else ""
        nodes[f"m{i}"] = {"formula": f"u{i}a * u{i}b / 60 * c{i} * wage{previous}"}
        nodes[f"main{i}"] = {
            "kind": "main",
            "formula": f"m{i} * u{i}c",
            "side": ("cost", "gain")[i % 2],
            "purpose": "efficiency",
            "label": f"Yearly gain in area {i}",
        }
    return {"name": "Many areas", "nodes": nodes}


def flat_model(mains: int) -> dict:
    """``mains`` main assumptions and nothing else: the overview is as big as the detail."""
    nodes = {
        f"main{i}": {"kind": "main", "estimate": [1, 2, 3], "source": "s"} for i in range(mains)
    }
    return {"name": "Flat", "nodes": nodes}


def write(folder: Path, name: str, data: dict) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def cli(*argv: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "assumption_graph.cli", *map(str, argv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def drawn_nodes(svg: Path) -> int:
    root = ET.parse(svg).getroot()
    return sum(g.get("class") == "node" for g in root.iter(f"{SVG}g"))


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1,000 nodes: ``dot`` takes far longer than the timeout on its detail."""
    return write(tmp_path_factory.mktemp("big"), "areas", chain_model(170))


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("flat"), "flat", flat_model(render.DIAGRAM_NODES + 1))


# ---------------------------------------------------------------------------- draw


@needs_dot
def test_draw_of_a_big_model_draws_the_overview_and_says_so(big: Path, tmp_path: Path) -> None:
    out = tmp_path / "areas.svg"
    done = cli("draw", big, "-o", out)
    assert done.returncode == 0, done.stderr
    assert "1,021 nodes" in done.stderr and "overview" in done.stderr
    assert "--level detail" in done.stderr  # how to have every node anyway
    assert done.stderr.strip().splitlines()[-1] == f"wrote {out}"
    assert 170 <= drawn_nodes(out) <= render.DIAGRAM_NODES


def test_draw_refuses_when_even_the_overview_is_too_big(flat: Path, tmp_path: Path) -> None:
    out = tmp_path / "flat.svg"
    done = cli("draw", flat, "-o", out)
    assert done.returncode == 1
    message = done.stderr.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1, message
    assert f"{render.DIAGRAM_NODES + 1} nodes" in message and "--level overview" in message
    assert not out.exists() and not list(tmp_path.iterdir())


def test_draw_dot_source_of_a_big_model_with_the_level_given(big: Path, tmp_path: Path) -> None:
    """An explicit ``--level`` is drawn as asked (DOT source needs no layout)."""
    out = tmp_path / "areas.dot"
    done = cli("draw", big, "-o", out, "--level", "detail")
    assert done.returncode == 0, done.stderr
    assert "overview" not in done.stderr
    assert out.read_text(encoding="utf-8").count("u169a [") == 1


# ---------------------------------------------------------------------------- report


def _report(model: Path, out: Path) -> tuple[ET.Element, dict[str | None, ET.Element]]:
    """A quick report of ``model`` written to ``out``: its root and its elements by id."""
    done = cli("report", model, "-o", out, "-n", 200, "--no-sensitivity")
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    return root, {e.get("id"): e for e in root.iter() if e.get("id")}


@needs_dot
def test_report_of_a_big_model_shows_the_overview_with_a_note(big: Path, tmp_path: Path) -> None:
    root, ids = _report(big, tmp_path / "areas.html")
    assert ids["diagram-overview"].find(f"{SVG}svg") is not None
    assert "diagram-detail" not in ids
    note = "".join(ids["diagram-detail-missing"].itertext())
    assert "1,021 nodes" in note and "--level detail" in note
    charted = [e for e in root.iter("figure") if e.get("id", "").startswith("histogram-")]
    assert len(charted) == CHARTED_OUTPUTS  # charts take a while: not one per output
    assert f"{CHARTED_OUTPUTS} of 170 outputs" in "".join(ids["distributions-cut"].itertext())


def test_report_notes_a_diagram_too_big_to_draw(flat: Path, tmp_path: Path) -> None:
    _, ids = _report(flat, tmp_path / "flat.html")
    assert "diagram-overview" not in ids and "diagram-detail" not in ids
    note = "".join(ids["diagram-too-big"].itertext())
    assert f"{render.DIAGRAM_NODES + 1} nodes" in note and "--level overview" in note


# ---------------------------------------------------------------------------- the rule


def test_the_level_is_chosen_by_size_unless_given() -> None:
    small = Model("small")
    small.add("a", estimate=[1, 2, 3])
    small.add("b", kind="main", formula="a * 2")
    assert render.resolve_level(small, "auto") == ("detail", None)
    wide = Model("wide")
    for i in range(render.DIAGRAM_NODES):
        wide.add(f"x{i}", estimate=[1, 2, 3])
    wide.add("total", kind="main", formula=" + ".join(f"x{i}" for i in range(100)))
    level, note = render.resolve_level(wide, "auto")
    assert level == "overview" and note is not None and "--level detail" in note
    assert render.resolve_level(wide, "detail") == ("detail", None)
    assert render.diagram_size(wide, "overview") == (1, 0)
