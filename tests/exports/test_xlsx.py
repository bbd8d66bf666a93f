"""The xlsx export read back with pandas (openpyxl): sheets, cells against the csv export, manifest and guard."""

import io
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from exports import xlsx
from exports.csv_bundle import Table
from exports.selectors import FORMS
from exports.services import codebook_table, export_study, form_tables
from tests.exports.conftest import FORMULA
from tests.exports.readback import csv_form, differences

SHEETS = [form.name for form in FORMS]


@pytest.fixture
def workbook(exported, tmp_path, data_manager):
    """The xlsx export of the trial beside its csv export."""
    path = tmp_path / "trial.xlsx"
    log = export_study(exported["study"], "xlsx", path, by=data_manager)
    return {"path": path, "log": log, "csv": exported}


def _sheet(path, name) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, engine="openpyxl")


def test_the_workbook_has_a_sheet_per_form_and_the_codebook(workbook):
    assert openpyxl.load_workbook(workbook["path"]).sheetnames == [*SHEETS, "codebook"]


def test_every_sheet_holds_the_cells_of_the_csv_export(workbook):
    for name in SHEETS:
        csv = csv_form(workbook["csv"]["path"], f"{name}.csv")
        read = _sheet(workbook["path"], name).astype(object)
        assert differences(csv, read) == [], name


def test_dates_and_datetimes_are_excel_dates(workbook):
    sheets = openpyxl.load_workbook(workbook["path"])
    onset = sheets["adverse_events"]["E2"]
    header, *rows = sheets["visits"].iter_rows()
    columns = [cell.value for cell in header]
    w0 = next(row for row in rows if row[columns.index("visit_code")].value == "W0")
    actual = w0[columns.index("actual_date")]
    assert (onset.value, onset.is_date) == (datetime(2021, 1, 2, 13), True)
    assert (actual.value, actual.is_date, actual.number_format) == (datetime(2021, 1, 2), True, "yyyy-mm-dd")


def test_numbers_are_numbers_and_booleans_one_or_zero(workbook):
    labs = _sheet(workbook["path"], "lab_values")
    status = _sheet(workbook["path"], "clinical_status")
    assert labs["value"].tolist() == [25.5, 1.25]
    assert status["dialysis_past_week"].tolist() == [0]


def test_a_formula_like_term_is_a_text_cell_never_a_formula(workbook):
    cell = openpyxl.load_workbook(workbook["path"])["adverse_events"]["D2"]
    assert (cell.value, cell.data_type) == (FORMULA, "s")


def test_the_header_row_is_bold_and_frozen(workbook):
    for sheet in openpyxl.load_workbook(workbook["path"]):
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title


def test_the_codebook_sheet_equals_the_csv_codebook(workbook):
    csv = csv_form(workbook["csv"]["path"], "codebook.csv")
    read = pd.read_excel(workbook["path"], sheet_name="codebook", dtype=str, keep_default_na=False)
    assert read.values.tolist() == csv.values.tolist()


def test_manifest_row_counts_match_the_sheets(workbook):
    counts = workbook["log"].row_counts
    assert set(counts) == {*SHEETS, "codebook"}
    for name in SHEETS:
        assert (
            counts[name]
            == len(_sheet(workbook["path"], name))
            == workbook["csv"]["manifest"]["files"][f"{name}.csv"]["rows"]
        )


def test_each_sheets_sha256_is_that_of_the_same_form_in_the_csv_export(exported):
    study = exported["study"]
    manifest = xlsx.write_workbook(io.BytesIO(), tables=form_tables(study), codebook=codebook_table(study), header={})
    for name in [*SHEETS, "codebook"]:
        assert manifest["files"][name]["sha256"] == exported["manifest"]["files"][f"{name}.csv"]["sha256"], name


def test_a_form_longer_than_a_sheet_continues_on_numbered_sheets(monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)
    target = io.BytesIO()
    rows = [(number,) for number in range(5)]
    manifest = xlsx.write_workbook(
        target, tables=[Table("labs", ["n"], rows)], codebook=Table("codebook", ["variable"], [["n"]]), header={}
    )
    sheets = pd.read_excel(target, sheet_name=None, engine="openpyxl")
    assert manifest["files"]["labs"] == {**manifest["files"]["labs"], "rows": 5, "sheets": ["labs", "labs_2", "labs_3"]}
    assert [n for name in ("labs", "labs_2", "labs_3") for n in sheets[name]["n"]] == [0, 1, 2, 3, 4]
