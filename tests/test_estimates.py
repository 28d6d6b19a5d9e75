"""The estimates sheet: written from a model, filled in, written back in place."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from assumption_graph import load, save
from assumption_graph.estimates_sheet import COLUMNS

from .commands import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.fixture
def case(tmp_path) -> Path:
    """A copy of the business case example, whose comments and layout the update keeps."""
    return Path(shutil.copy(EXAMPLES / "business_case.yaml", tmp_path / "case.yaml"))


def _sheet(capsys, model: Path, name: str) -> Path:
    sheet = model.parent / name
    code, _, err = run_cli(capsys, "estimates", model, "-o", sheet)
    assert code == 0, err
    return sheet


def _fill_xlsx(sheet: Path, values: dict[str, dict[str, object]]) -> None:
    """Write ``values`` (id -> column -> cell) into the workbook, as an estimator would."""
    book = load_workbook(sheet)
    rows = book.active
    header = [c.value for c in rows[1]]
    for row in rows.iter_rows(min_row=2):
        for column, value in values.get(row[0].value, {}).items():
            row[header.index(column)].value = value
    book.save(sheet)


def _fill_csv(sheet: Path, values: dict[str, dict[str, object]]) -> None:
    rows = list(csv.reader(sheet.open(encoding="utf-8")))
    for row in rows[1:]:
        for column, value in values.get(row[0], {}).items():
            row[rows[0].index(column)] = str(value)
    with sheet.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_the_sheet_has_a_row_per_uncertain_input(capsys, case):
    book = load_workbook(_sheet(capsys, case, "estimates.xlsx"))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    ids = [r[0] for r in rows[1:]]
    assert ids[:3] == ["cases_per_year", "minutes_per_case@without", "minutes_per_case@with"]
    assert "minutes_per_hour" not in ids  # a constant
    assert "supplier_delay" in ids and "licence_per_module" in ids
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert (first["low"], first["mid"], first["high"], first["model"]) == (
        38000,
        42000,
        48000,
        "triangle",
    )
    assert first["unit"] == "cases" and first["notes"] is None


def test_round_trip_changes_only_the_numbers(capsys, case):
    before = case.read_text(encoding="utf-8")
    sheet = _sheet(capsys, case, "estimates.xlsx")
    _fill_xlsx(
        sheet,
        {
            "cases_per_year": {"low": 37000, "high": 49500, "notes": "from the 2025 extract"},
            "minutes_per_case@with": {"low": 11, "mid": 15.5, "high": 25},
            "project_hours": {"mid": 3300},
        },
    )
    code, out, err = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 0, err
    assert out.splitlines() == [
        "cases_per_year: [38000, 42000, 48000] → [37000, 42000, 49500]",
        "minutes_per_case@with: [12, 16, 24] → [11, 15.5, 25]",
        "project_hours: [2800, 3200, 4000] → [2800, 3300, 4000]",
    ]
    after = case.read_text(encoding="utf-8")
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    changed = [k for k, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert len(changed) == 3
    for k in changed:  # the same line apart from its numbers
        assert NUMBER.sub("#", old_lines[k]) == NUMBER.sub("#", new_lines[k])
    assert "with: {estimate: [11, 15.5, 25], model: pert}" in after
    assert after.count("#") == before.count("#")  # every comment kept


def test_csv_dry_run_shows_changes_and_writes_nothing(capsys, case):
    before = case.read_bytes()
    sheet = _sheet(capsys, case, "estimates.csv")
    _fill_csv(sheet, {"hardware": {"low": 140, "mid": 190, "high": 260}})
    code, out, err = run_cli(capsys, "estimates", case, "--update", sheet, "--dry-run")
    assert code == 0, err
    assert out.strip() == "hardware: [150, 180, 240] → [140, 190, 260]"
    assert "nothing written" in err
    assert case.read_bytes() == before


def test_a_csv_file_with_semicolons_and_decimal_commas_is_read(capsys, case):
    """As Excel in a language with decimal commas (Danish) saves a sheet as CSV."""
    sheet = _sheet(capsys, case, "estimates.csv")
    rows = list(csv.reader(sheet.open(encoding="utf-8")))
    for row in rows:
        if row[0] == "hardware":
            row[4:7] = ["140,5", "1.190", "1.260,25"]
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    code, out, err = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 0, err
    assert out.strip() == "hardware: [150, 180, 240] → [140.5, 1190, 1260.25]"
    assert "estimate: [140.5, 1190, 1260.25]" in case.read_text(encoding="utf-8")


def test_an_unchanged_sheet_changes_nothing(capsys, case):
    before = case.read_bytes()
    sheet = _sheet(capsys, case, "estimates.xlsx")
    code, out, _ = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 0 and out.strip() == "no estimate changed"
    assert case.read_bytes() == before


def test_probabilities_are_written_back_or_added(capsys, tmp_path):
    model = Path(shutil.copy(EXAMPLES / "consultancy.yaml", tmp_path / "c.yaml"))
    sheet = _sheet(capsys, model, "e.csv")
    _fill_csv(sheet, {"hours": {"probabilities": "0.25, 0.5, 0.25"}})
    code, out, err = run_cli(capsys, "estimates", model, "--update", sheet)
    assert code == 0, err
    assert "probabilities [0.2, 0.6, 0.2] → [0.25, 0.5, 0.25]" in out
    assert "probabilities: [0.25, 0.5, 0.25]" in model.read_text()


def _line_changes(before: str, after: str) -> list[tuple[str, str]]:
    """The (old, new) lines that differ, the line count kept."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    assert len(old_lines) == len(new_lines)
    return [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]


def test_a_normal_given_by_mean_and_sd_gets_the_sd_of_its_new_estimate(capsys, case):
    """The example's licence price is ``mean: 120, sd: 15``: the sheet shows its P5..P95,
    and a new symmetric estimate comes back as the numbers of those keys."""
    before = case.read_text(encoding="utf-8")
    sheet = _sheet(capsys, case, "estimates.xlsx")
    _fill_xlsx(sheet, {"licence_per_module": {"low": 90, "mid": 120, "high": 150}})
    code, out, err = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 0, err
    sd = 30 / 1.6448536269514722
    assert out.strip() == (
        "licence_per_module: [95.32719559572791, 120, 144.67280440427209] → [90, 120, 150], "
        f"sd 15 → {sd!r}"
    )
    assert _line_changes(before, case.read_text(encoding="utf-8")) == [
        ("    sd: 15", f"    sd: {sd!r}")
    ]
    body = next(node for node in load(case) if node.id == "licence_per_module").body
    assert (body.low, body.mid, body.high) == pytest.approx((90, 120, 150), rel=1e-14)
    rows = load_workbook(_sheet(capsys, case, "again.xlsx")).active.iter_rows(values_only=True)
    again = next(r for r in rows if r[0] == "licence_per_module")
    assert again[4:7] == pytest.approx((90, 120, 150), rel=1e-14)


def test_an_estimate_the_mean_and_sd_cannot_say_is_refused(capsys, case):
    before = case.read_bytes()
    sheet = _sheet(capsys, case, "estimates.csv")
    _fill_csv(sheet, {"licence_per_module": {"low": 90, "mid": 120, "high": 160}})
    code, out, err = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 1 and out == ""
    assert "nothing written" in err and "row 7: licence_per_module:" in err
    assert "by mean, sd, which cannot say [90, 120, 160]" in err
    assert case.read_bytes() == before


BAD_ROWS = {
    "unknown id": ({"id": "hourz"}, "names no uncertain input", "hours"),
    "unordered": ({"low": 2000, "mid": 1500, "high": 2100}, "must be ordered", None),
    "text": ({"mid": "about 1500"}, "mid must be a finite number", None),
    "blank": ({"high": ""}, "high must be a finite number", None),
    "not finite": ({"low": "nan"}, "low must be a finite number", None),
    "other model": ({"model": "pert"}, "change a model in the model file", None),
    "bad probabilities": ({"probabilities": "0.5, 0.6, 0.2"}, "row 2: hours:", None),
}


@pytest.mark.parametrize("change", BAD_ROWS.values(), ids=list(BAD_ROWS))
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_bad_row_is_refused_by_its_row_and_nothing_is_written(capsys, tmp_path, change, suffix):
    cells, message, hint = change
    model = Path(shutil.copy(EXAMPLES / "consultancy.yaml", tmp_path / "c.yaml"))
    before = model.read_bytes()
    sheet = _sheet(capsys, model, f"e{suffix}")
    fill = _fill_csv if suffix == ".csv" else _fill_xlsx
    fill(sheet, {"hours": {"low": 1100, **cells}})  # with a good change beside it
    code, out, err = run_cli(capsys, "estimates", model, "--update", sheet)
    assert code == 1 and out == ""
    assert "nothing written" in err and "row 2" in err and message in err
    if hint:
        assert f"did you mean '{hint}'?" in err
    assert model.read_bytes() == before


def test_a_sheet_without_an_id_column_is_refused(capsys, case, tmp_path):
    sheet = tmp_path / "e.csv"
    sheet.write_text("name,low,mid,high\nhours,1,2,3\n")
    code, _, err = run_cli(capsys, "estimates", case, "--update", sheet)
    assert code == 1 and "'id'" in err


def test_estimates_needs_one_of_output_and_update(capsys, case):
    assert run_cli(capsys, "estimates", case)[0] == 2
    assert run_cli(capsys, "estimates", case, "-o", case.parent / "e.txt")[0] == 2


def test_a_json_model_stays_json(capsys, tmp_path):
    model = tmp_path / "c.json"
    save(load(EXAMPLES / "case_handling.yaml"), model)
    sheet = _sheet(capsys, model, "e.csv")
    weights = {"probabilities": "0.3, 0.5, 0.2"}
    _fill_csv(sheet, {"cases_per_year": {"low": 37000, **weights}, "project_hours": weights})
    code, _, err = run_cli(capsys, "estimates", model, "--update", sheet)
    assert code == 0, err
    nodes = json.loads(model.read_text())["nodes"]
    assert nodes["cases_per_year"]["estimate"] == [37000, 42000, 48000]
    assert nodes["cases_per_year"]["probabilities"] == nodes["project_hours"]["probabilities"]
    assert nodes["project_hours"]["probabilities"] == [0.3, 0.5, 0.2]


def test_probabilities_get_a_line_of_their_own_below_the_estimate(capsys, tmp_path):
    model = Path(shutil.copy(EXAMPLES / "case_handling.yaml", tmp_path / "c.yaml"))
    before = model.read_text().splitlines()
    sheet = _sheet(capsys, model, "e.xlsx")
    _fill_xlsx(sheet, {"cases_per_year": {"probabilities": "0.25, 0.5, 0.25"}})
    assert run_cli(capsys, "estimates", model, "--update", sheet)[0] == 0
    after = model.read_text().splitlines()
    at = before.index("    estimate: [38000, 42000, 48000]")
    assert after == [*before[: at + 1], "    probabilities: [0.25, 0.5, 0.25]", *before[at + 1 :]]
    assert load(model)["cases_per_year"].body.non_default("probabilities") == (0.25, 0.5, 0.25)


def test_probabilities_of_many_digits_come_back_unchanged(capsys, tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(
        "nodes:\n  hours:\n    estimate: [1, 2, 4]\n"
        "    probabilities: [0.123456789012, 0.5, 0.376543210988]\n"
    )
    before = model.read_bytes()
    for name in ("e.csv", "e.xlsx"):
        sheet = _sheet(capsys, model, name)
        code, out, _ = run_cli(capsys, "estimates", model, "--update", sheet)
        assert code == 0 and out.strip() == "no estimate changed"
    assert model.read_bytes() == before
