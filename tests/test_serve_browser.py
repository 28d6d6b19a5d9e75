"""The live page end to end: ``assumption-graph serve`` in a subprocess, headless Chromium.

One server and one browser for the whole module (Debian's chromium driven by
Selenium through Debian's chromedriver; nothing is downloaded). The tests run in
order on one model file in a temporary folder: the page shows the figures of
``run --json``; a save shows the new figures; a broken save shows its error with
its line while the old figures stay, marked stale; a what-if control gives the
figures of ``run --set``; a foreign Host header or a missing token is refused;
Ctrl-C stops the server cleanly.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from assumption_graph.cli import main
from assumption_graph.report import format_cell

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "case_handling.yaml"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
N, SEED = 20_000, 3
WAIT = 60  # seconds a page may take to show an update on a busy machine
COLUMNS = ("expected", "weighted", "best", "worst", "mean")  # the figures table's first ones
ESTIMATE, EDITED = "estimate: [38000, 42000, 48000]", "estimate: [40000, 45000, 52000]"
FORMULA = "formula: cases_per_year * (minutes_per_case_today - minutes_per_case_new)"

webdriver = pytest.importorskip("selenium.webdriver")
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        "needs Debian's chromium and chromium-driver (make setup installs them)",
        allow_module_level=True,
    )


ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def run_json(model: Path, *options: object) -> dict[str, list[str]]:
    """``run --json``'s figures of each main node, formatted as the page shows them."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(
            ["run", str(model), "-n", str(N), "--seed", str(SEED), "--json", "-"]
            + [str(o) for o in options]
        )
    assert code == 0, err.getvalue()
    nodes = json.loads(out.getvalue())["nodes"]
    return {node: [format_cell(f[c]) for c in COLUMNS] for node, f in nodes.items()}


class Server:
    """``serve`` in a subprocess: its address (from the line it prints) and its output."""

    def __init__(self, model: Path) -> None:
        argv = ["serve", model, "--no-browser", "--port", "0", "-n", N, "--seed", SEED]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "assumption_graph", *map(str, argv)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(
            target=lambda: lines.put(self.process.stdout.readline()), daemon=True
        ).start()
        try:
            line = lines.get(timeout=120)
        except queue.Empty:
            self.stop()
            pytest.fail("serve printed no address within two minutes")
        prefix = f"serving {model} at "
        assert line.startswith(prefix), line + (self.process.stderr.read() if not line else "")
        self.url = line.removeprefix(prefix).strip()
        self.address = urlsplit(self.url)

    def request(
        self, path: str, host: str | None = None, form: str | None = None, json_answer=False
    ) -> tuple[int, str]:
        """GET ``path`` (POST ``form``) with the given Host header (this server's by default)."""
        connection = http.client.HTTPConnection(
            self.address.hostname, self.address.port, timeout=30
        )
        headers = {"Host": host} if host else {}
        if json_answer:
            headers["Accept"] = "application/json"
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request("GET" if form is None else "POST", path, form, headers)
        response = connection.getresponse()
        body = response.read(200_000).decode("utf-8", "replace")
        connection.close()
        return response.status, body

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "model.yaml"
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.fixture(scope="module")
def server(model: Path) -> Iterator[Server]:
    running = Server(model)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def page_figures(browser) -> dict[str, list[str]]:
    """The figures table as the page shows it: each node's new values (old ones left out)."""
    rows = browser.execute_script(
        """
        const rows = document.querySelectorAll('#figures-table tbody tr');
        return Array.from(rows, tr => Array.from(tr.cells, td => td.firstChild ?
            td.firstChild.textContent.trim() : ''));
        """
    )
    return {row[0].split(" (")[0]: row[1 : 1 + len(COLUMNS)] for row in rows}


def status(browser) -> str:
    return text_of(browser, "live-status")


def text_of(browser, element_id: str) -> str:
    """An element's text, read at once (the page may swap the element any moment)."""
    script = "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';"
    return browser.execute_script(script, element_id)


def wait_for(browser, condition, what: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT, poll_frequency=0.1).until(
        lambda d: condition(), message=f"{what}; the page says: {status(browser)!r}"
    )


def settled(browser) -> bool:
    return status(browser).startswith(f"{N:,} samples")


def test_the_page_shows_the_figures_of_run_json(server, browser, model):
    browser.get(server.url)
    wait_for(browser, lambda: settled(browser), f"the page shows {N:,} samples")
    assert page_figures(browser) == run_json(model)
    assert browser.find_elements("css selector", "#diagram-overview svg")


def test_a_save_shows_the_new_figure(server, browser, model):
    text = model.read_text(encoding="utf-8")
    assert ESTIMATE in text
    model.write_text(text.replace(ESTIMATE, EDITED), encoding="utf-8")
    expected = run_json(model)
    wait_for(
        browser,
        lambda: settled(browser) and page_figures(browser) == expected,
        "the edited file's figures",
    )
    changed = browser.find_elements("css selector", "#figures-table td.changed del")
    assert changed, "changed figures are marked with their old value"


def test_a_broken_save_shows_its_error_with_its_line_and_keeps_the_figures(server, browser, model):
    good = model.read_text(encoding="utf-8")
    before = page_figures(browser)
    line = good.splitlines().index(next(x for x in good.splitlines() if FORMULA in x)) + 1
    model.write_text(good.replace(FORMULA, FORMULA.replace("cases_per_year", "cases_per_yeer")))
    try:
        where = f"{model}:{line}: error unknown-name"
        wait_for(
            browser,
            lambda: where in text_of(browser, "warnings"),
            "the error with its line",
        )
        assert "stale" in browser.find_element("tag name", "body").get_attribute("class")
        assert browser.find_element("id", "live-stale").is_displayed()
        assert page_figures(browser) == before, "the last good figures stay"
    finally:
        model.write_text(good, encoding="utf-8")
    wait_for(
        browser,
        lambda: (
            settled(browser)
            and "stale" not in browser.find_element("tag name", "body").get_attribute("class")
        ),
        "the mended file's figures",
    )


def test_a_what_if_control_gives_the_figures_of_run_set(server, browser, model):
    from selenium.webdriver.common.keys import Keys

    slider = browser.find_element("id", "pin-cases_per_year")
    assert slider.get_attribute("type") == "range"
    value = float(slider.get_attribute("value")) + 3 * float(slider.get_attribute("step"))
    slider.send_keys(Keys.ARROW_RIGHT * 3)  # each step posts a pin; the last one stays
    expected = run_json(model, "--set", f"cases_per_year={value}")
    wait_for(
        browser,
        lambda: settled(browser) and page_figures(browser) == expected,
        f"the figures with cases_per_year={value}",
    )
    assert f"cases_per_year={value!r}" in text_of(browser, "pins")


def test_a_wrong_host_or_no_token_is_refused(server):
    path_with_token = f"/?{server.address.query}"
    assert server.request(path_with_token)[0] == 200
    status_code, body = server.request(path_with_token, host="evil.example:80")
    assert status_code == 403 and "Host" in body
    for path in ("/", "/events", "/?token=wrong"):
        status_code, body = server.request(path)
        assert status_code == 403 and "token" in body, path


def test_a_wrong_what_if_value_is_refused_with_a_message(server):
    query = f"/pin?{server.address.query}"
    code, body = server.request(query, form="id=cases_per_yeer&value=3", json_answer=True)
    assert code == 400 and "names no node" in json.loads(body)["message"]
    code, body = server.request(query, form="id=cases_per_year&value=many", json_answer=True)
    assert code == 400 and "finite number" in json.loads(body)["message"]
    code, _ = server.request(query, form="id=cases_per_year&value=1e999")  # a form, no script
    assert code == 303
    page = server.request(f"/?{server.address.query}")[1]
    assert "finite number" in page[page.index('id="live-message"') :][:300]
    assert server.request("/pin?token=wrong", form="id=cases_per_year&value=1")[0] == 403


def test_the_page_reads_without_script(server):
    status_code, page = server.request(f"/?{server.address.query}")
    assert status_code == 200
    for element in ("figures-table", "diagram-overview", "warnings", "whatif", "live-status"):
        assert f'id="{element}"' in page, element


def test_ctrl_c_stops_the_server_cleanly(server):
    assert server.stop() == 0
    assert "stopped serving" in server.process.stderr.read()
