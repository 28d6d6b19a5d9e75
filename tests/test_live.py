"""The live page's update pipeline (assumption_graph.live), without a server or a browser.

A small model file is saved, edited and broken in a temporary folder; the
updates it yields must come in order (deterministic figures and diagram, then
the Monte Carlo steps, then the charts), carry the same figures as a run of
the same samples and seed, keep the last good figures (stale) when the file
breaks, mark what changed, stop when cancelled, and pin inputs like ``--set``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assumption_graph import load
from assumption_graph.errors import RunError
from assumption_graph.live import PENDING, LiveModel, sample_steps
from assumption_graph.report import format_cell

N, SEED = 20_000, 5
MODEL = """\
name: live demo
nodes:
  hours:
    estimate: [10, 20, 40]
    source: guess
  rate:
    value: {rate}
    source: price list
  cost:
    kind: main
    formula: hours * rate
    source: rule
"""
LIBRARY_MODEL = """\
name: with a library
library: shared.yaml
nodes:
  cost:
    kind: main
    formula: hours * 2
    source: rule
"""
SHARED = "nodes:\n  hours:\n    estimate: [1, 2, 3]\n    source: guess\n"


def write(path: Path, rate: float = 2.0) -> Path:
    path.write_text(MODEL.format(rate=rate), encoding="utf-8")
    return path


def cost_row(live: LiveModel) -> str:
    """The figures section as sent, from the cost row on."""
    html = live.elements["figures"]
    return html[html.index("<td>cost") :]


def expected_cells(path: Path, n: int, **overrides: float) -> list[str]:
    """expected, weighted, best, worst, mean, P50 of ``cost`` in a plain run."""
    summary = load(path).compile().run(n, SEED, overrides=overrides)["cost"]
    values = (summary.expected, summary.weighted, summary.best, summary.worst, summary.mean)
    return [format_cell(v) for v in (*values, summary.percentiles[50.0])]


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return write(tmp_path / "model.yaml")


def test_steps_grow_tenfold_and_end_at_the_runs_samples():
    assert sample_steps(10_000_000) == (10_000, 100_000, 1_000_000, 10_000_000)
    assert sample_steps(10_000) == (10_000,)
    assert sample_steps(123_456, first=1_000) == (1_000, 10_000, 100_000, 123_456)


def test_updates_come_deterministic_first_then_refined_then_charts(model_file):
    live = LiveModel(model_file, N, SEED)
    updates = list(live.updates())
    assert [u.stage for u in updates] == ["deterministic", "monte-carlo", "monte-carlo", "charts"]
    first = updates[0]
    assert {"summary", "diagram", "warnings", "figures", "whatif"} <= set(first.sections)
    assert "<svg" in first.sections["diagram"]
    assert PENDING in first.sections["figures"], "Monte Carlo cells wait for their step"
    assert [u.samples for u in updates[1:3]] == [10_000, N]
    assert "± SE" in updates[1].sections["figures"]
    assert {"distributions", "sensitivity"} <= set(updates[-1].sections)
    for cell in expected_cells(model_file, N):
        assert f"<td>{cell}</td>" in cost_row(live), cell
    assert not live.stale


def test_the_first_step_equals_a_run_of_that_many_samples(model_file):
    live = LiveModel(model_file, N, SEED)
    for update in live.updates():
        if update.samples == 10_000:
            break
    for cell in expected_cells(model_file, 10_000):
        assert f"<td>{cell}</td>" in cost_row(live), cell


def test_a_broken_save_shows_its_error_with_its_line_and_keeps_the_figures_stale(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    good = live.elements["figures"]
    model_file.write_text(
        MODEL.format(rate=2).replace("hours * rate", "hours * rat"), encoding="utf-8"
    )
    live.new_save()
    (update,) = live.updates()
    assert update.stage == "broken" and update.stale and live.stale
    assert set(update.sections) == {"warnings"}
    line = MODEL.splitlines().index("    formula: hours * rate") + 1
    assert f"{model_file}:{line}: error unknown-name" in update.sections["warnings"]
    assert "stale" in update.status
    assert live.elements["figures"] == good, "the last good figures stay"
    write(model_file)
    live.new_save()
    list(live.updates())
    assert not live.stale


def test_an_unreadable_file_says_where(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    model_file.write_text("name: x\nnodes:\n  a: [1, 2\n", encoding="utf-8")
    (update,) = live.updates()
    assert update.stage == "broken" and f"{model_file}:" in update.sections["warnings"]
    assert not update.stale, "nothing shown yet, so nothing is stale"


def test_changed_figures_are_marked_with_the_old_value(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    before = expected_cells(model_file, 10_000)
    write(model_file, rate=3.0)
    live.new_save()
    list(live.updates())
    row = cost_row(live)
    after = expected_cells(model_file, 10_000)
    assert before[0] != after[0]
    marked = f'<td class="changed">{after[0]} <del title="before the last save">{before[0]}</del>'
    assert marked in row


def test_an_unchanged_save_marks_nothing(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    live.new_save()
    list(live.updates())
    assert 'class="changed"' not in live.elements["figures"]


def test_a_newer_save_cancels_between_steps(model_file):
    live = LiveModel(model_file, 1_000_000, SEED)
    seen = []
    for update in live.updates(lambda: bool(seen)):
        seen.append(update.stage)
    assert seen == ["deterministic"]


def test_a_cancelled_run_stops_within_its_chunks(model_file):
    live = LiveModel(model_file, 1_000_000, SEED)
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3  # before the step begins, then after its chunks

    stages = [u.stage for u in live.updates(cancelled)]
    assert stages == ["deterministic", "monte-carlo"]


def test_pins_are_checked_like_set_and_change_the_figures(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    with pytest.raises(RunError, match="not been read yet"):
        live.pin("hours", "12")
    list(live.updates())
    with pytest.raises(RunError, match="names no node"):
        live.pin("hourz", "12")
    for text in ("twelve", "nan", "inf", ""):
        with pytest.raises(RunError, match="finite number"):
            live.pin("hours", text)
    assert live.pin("hours", "12.5") == 12.5
    live.new_save()
    list(live.updates())
    for cell in expected_cells(model_file, 10_000, hours=12.5):
        assert f"{cell}" in cost_row(live), cell
    assert "hours=12.5" in live.elements["whatif"]
    live.unpin("hours")
    assert live.pins == {}


def test_each_uncertain_input_has_a_control(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    (control,) = live.controls()
    assert (control.id, control.low, control.high, control.mid) == ("hours", 10, 40, 20)
    assert 'type="range"' in live.elements["whatif"] and 'id="pin-hours"' in live.elements["whatif"]


def test_the_library_file_is_watched_too(tmp_path):
    (tmp_path / "shared.yaml").write_text(SHARED, encoding="utf-8")
    path = tmp_path / "model.yaml"
    path.write_text(LIBRARY_MODEL, encoding="utf-8")
    live = LiveModel(path, 10_000, SEED)
    list(live.updates())
    assert live.files == {path.resolve(), (tmp_path / "shared.yaml").resolve()}


def test_the_page_renders_every_section_without_script(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    page = live.page({"token": "t0k", "message": ""})
    assert page.startswith("<!DOCTYPE html>")
    for element in ("summary", "diagram", "figures", "distributions", "sensitivity", "whatif"):
        assert f'id="{element}"' in page, element
    assert '<meta name="live-token" content="t0k"/>' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "").replace(
        'xmlns:xlink="http://www.w3.org', ""
    ), "the page fetches nothing from elsewhere"


def test_the_server_answers_only_to_its_own_host_and_token(model_file):
    from assumption_graph.serve import LiveServer, is_loopback

    server = LiveServer(LiveModel(model_file, 10_000, SEED), port=0, token="secret")
    try:
        assert server.url == f"http://127.0.0.1:{server.port}/?token=secret"
        for host in ("127.0.0.1:80", f"localhost:{server.port}", "[::1]:5", "LOCALHOST"):
            assert server.allowed_host(host), host
        for host in ("evil.example:80", "127.0.0.1.evil.example", "", "10.0.0.1"):
            assert not server.allowed_host(host), host
        assert server.authorised("secret")
        assert not server.authorised("secreT") and not server.authorised(None)
    finally:
        server.socket.close()
    assert is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")


def test_an_unchanged_save_sends_only_what_changed(model_file):
    live = LiveModel(model_file, 10_000, SEED)
    list(live.updates())
    live.new_save()
    first = next(live.updates())
    assert first.stage == "deterministic" and "figures" in first.sections
    assert not {"diagram", "whatif", "warnings"} & set(first.sections), "the page has them"
    assert {"diagram", "whatif", "warnings"} <= set(live.elements)


def test_the_server_answers_while_a_long_refinement_runs_and_a_pin_cancels_it(model_file):
    """The page and a what-if request are answered while the 10^7-sample step runs; the
    pin's new run cancels that step between its chunks (it never shows)."""
    import asyncio
    import queue
    import threading

    import httpx

    from assumption_graph.serve import LiveServer

    n = 10_000_000
    server = LiveServer(LiveModel(model_file, n, SEED), port=0, token="t0k")
    published: queue.Queue = queue.Queue()
    server.runner.publish = published.put
    worker = threading.Thread(target=server.runner.loop, daemon=True)
    worker.start()
    seen = []

    def until(wanted) -> None:
        while not seen or not wanted(seen[-1]):
            seen.append(published.get(timeout=120))

    try:
        server.runner.request()
        until(lambda u: u.samples == n // 10)  # the last step, of 10^7 samples, has begun

        async def ask() -> tuple[httpx.Response, httpx.Response]:
            transport = httpx.ASGITransport(app=server.app)  # no lifespan: no file watcher
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                page = await c.get("/?token=t0k")
                answer = await c.post(
                    "/pin?token=t0k",
                    data={"id": "hours", "value": "12"},
                    headers={"Accept": "application/json"},
                )
                return page, answer

        page, answer = asyncio.run(ask())
        assert page.status_code == 200 and 'id="figures"' in page.text
        assert answer.status_code == 200 and answer.json() == {"message": ""}
        assert published.empty() or published.queue[0].samples < n, "answered while it ran"
        until(lambda u: u.stage == "deterministic" and "hours=12" in u.sections["whatif"])
        assert [u.samples for u in seen if u.stage == "monte-carlo"] == [10**4, 10**5, 10**6]
        assert [u.stage for u in seen].count("charts") == 0, "the older run stopped"
    finally:
        server.runner.stop()
        worker.join(timeout=60)
        server.socket.close()
    assert not worker.is_alive()
