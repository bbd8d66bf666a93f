"""The spss, stata and sas exports read back with pyreadstat: cells against the csv export, labels, names, manifest."""

import hashlib
import io
import json
import time
import zipfile
from datetime import date, datetime

import pandas as pd
import pyreadstat
import pytest

from exports import stat_files
from exports.csv_bundle import Table
from exports.selectors import FORMS
from exports.services import codebook_table, export_study, form_tables
from tests.exports.conftest import FORMULA
from tests.exports.readback import csv_form, differences

READERS = {
    "spss": ("sav", pyreadstat.read_sav),
    "stata": ("dta", pyreadstat.read_dta),
    "sas": ("xpt", pyreadstat.read_xport),
}
FORM_NAMES = [form.name for form in FORMS]


@pytest.fixture(params=list(READERS))
def bundle(request, exported, tmp_path, data_manager):
    """One statistics package's export of the trial beside its csv export."""
    kind = request.param
    path = tmp_path / f"trial-{kind}.zip"
    log = export_study(exported["study"], kind, path, by=data_manager)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return {"kind": kind, "path": path, "log": log, "manifest": manifest, "csv": exported, "tmp": tmp_path}


def _read(bundle, form: str):
    """The form's file as pyreadstat reads it, its columns renamed back through name_map.csv."""
    extension, reader = READERS[bundle["kind"]]
    target = bundle["tmp"] / f"{form}.{extension}"
    with zipfile.ZipFile(bundle["path"]) as archive:
        target.write_bytes(archive.read(f"{form}.{extension}"))
    frame, meta = reader(target)
    names = _zip_csv(bundle, "name_map.csv")
    names = names[(names["form"] == form) & (names["column"] != "")]
    return frame.rename(columns=dict(zip(names["export_name"], names["column"], strict=True))), meta


def _zip_csv(bundle, name) -> pd.DataFrame:
    return csv_form(bundle["path"], name)


def _decoded(bundle, form: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Integer codes of text values back to the text the csv export holds (value_labels.csv)."""
    listed = _zip_csv(bundle, "value_labels.csv")
    decoded = frame.astype(object)
    for variable, codes in listed[listed["form"] == form].groupby("variable"):
        if bundle["kind"] != "spss" and not codes["csv_code"].str.fullmatch(r"-?\d+").all():
            back = {float(code): text for code, text in zip(codes["code"], codes["csv_code"], strict=True)}
            decoded[variable] = [back.get(value, value) for value in frame[variable]]
    return decoded


def test_the_zip_holds_one_file_per_form_the_codebook_the_maps_and_the_manifest(bundle):
    extension = READERS[bundle["kind"]][0]
    names = set(zipfile.ZipFile(bundle["path"]).namelist())
    maps = {"codebook.csv", "value_labels.csv", "name_map.csv", "manifest.json"}
    assert names == {*(f"{name}.{extension}" for name in FORM_NAMES), *maps}


def test_every_form_holds_the_cells_of_the_csv_export(bundle):
    for name in FORM_NAMES:
        frame, _ = _read(bundle, name)
        csv = csv_form(bundle["csv"]["path"], f"{name}.csv")
        assert differences(csv, _decoded(bundle, name, frame)) == [], name


def test_dates_stay_dates_and_datetimes_datetimes(bundle):
    visits, _ = _read(bundle, "visits")
    events, _ = _read(bundle, "adverse_events")
    actual = visits.loc[visits["visit_code"].astype(str) != "", "actual_date"].dropna().tolist()
    assert [pd.Timestamp(value) for value in actual] == [pd.Timestamp(date(2021, 1, 2))]
    assert events["onset_at"].tolist() == [pd.Timestamp(datetime(2021, 1, 2, 13))]


def test_a_formula_like_term_is_kept_as_the_text_entered(bundle):
    events, _ = _read(bundle, "adverse_events")
    assert events["term"].tolist() == [FORMULA]


def test_variables_carry_the_codebooks_labels(bundle):
    _, meta = _read(bundle, "lab_values")
    limit = stat_files.KINDS[bundle["kind"]].label_limit
    codebook = _zip_csv(bundle, "codebook.csv")
    expected = codebook.loc[codebook["form"] == "lab_values", "label"].str.slice(0, limit).tolist()
    assert meta.column_labels == expected
    assert "Analyte (protocol code)" in expected


@pytest.mark.parametrize("bundle", ["spss", "stata"], indirect=True)  # XPT v5 has none: value_labels.csv
def test_categorical_columns_carry_value_labels(bundle):
    _, meta = _read(bundle, "clinical_status")
    ascites = meta.variable_value_labels["ascites"]
    assert ascites[{"spss": "mild", "stata": 2}[bundle["kind"]]] == "Mild"
    assert meta.variable_value_labels["dialysis_past_week"] == {0: "No", 1: "Yes"}


def test_value_labels_csv_numbers_text_codes_one_to_n_in_the_codebooks_order(bundle):
    listed, codebook = _zip_csv(bundle, "value_labels.csv"), _zip_csv(bundle, "codebook.csv")
    ascites = listed[(listed["form"] == "clinical_status") & (listed["variable"] == "ascites")]
    described = codebook[(codebook["form"] == "clinical_status") & (codebook["variable"] == "ascites")]
    order = [pair.split("=")[0] for pair in described["allowed_values"].item().split(" | ")]
    assert ascites["csv_code"].tolist() == order
    numbered = [str(number) for number in range(1, len(order) + 1)]
    assert ascites["code"].tolist() == (order if bundle["kind"] == "spss" else numbered)


def test_manifest_row_counts_and_hashes_match_the_files(bundle):
    extension = READERS[bundle["kind"]][0]
    with zipfile.ZipFile(bundle["path"]) as archive:
        for name, entry in bundle["manifest"]["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"], name
    for name in FORM_NAMES:
        frame, _ = _read(bundle, name)
        assert bundle["manifest"]["files"][f"{name}.{extension}"]["rows"] == len(frame), name
        assert len(frame) == bundle["csv"]["manifest"]["files"][f"{name}.csv"]["rows"], name
    assert bundle["log"].row_counts == {name: entry["rows"] for name, entry in bundle["manifest"]["files"].items()}


@pytest.mark.parametrize("bundle", ["sas"], indirect=True)
def test_xpt_names_are_at_most_eight_characters_and_the_name_map_resolves_them(bundle):
    names = _zip_csv(bundle, "name_map.csv")
    for form in FORMS:
        reader = READERS["sas"][1]
        target = bundle["tmp"] / f"{form.name}.xpt"
        target.write_bytes(zipfile.ZipFile(bundle["path"]).read(target.name))
        frame, meta = reader(target)
        mine = names[names["form"] == form.name]
        assert all(len(name) <= 8 for name in [*frame.columns, meta.table_name]), form.name
        assert mine.loc[mine["column"] == "", "export_name"].tolist() == [meta.table_name]
        resolved = dict(zip(mine["export_name"], mine["column"], strict=True))
        assert [resolved[name] for name in frame.columns] == form.column_names


def test_short_names_are_unique_and_deterministic():
    columns = ["not_done", "not_done_reason", "not_done_reason_2", "value"]
    chosen = stat_files.short_names(columns, 8, upper=True)
    assert chosen == {
        "not_done": "NOT_DONE",
        "not_done_reason": "NOT_DON1",
        "not_done_reason_2": "NOT_DON2",
        "value": "VALUE",
    }


def test_a_code_the_codebook_does_not_list_follows_the_listed_ones_labelled_by_itself():
    codebook = Table(
        "codebook",
        ["variable", "label", "type", "allowed_values", "form"],
        [["arm", "Arm", "text", "A=Active | P=Placebo", "t"]],
    )
    target = io.BytesIO()
    stat_files.write_stat_bundle(
        target, kind="stata", tables=[Table("t", ["arm"], [("P",), ("X",), ("A",)])], codebook=codebook, header={}
    )
    with zipfile.ZipFile(target) as archive, archive.open("value_labels.csv") as handle:
        listed = pd.read_csv(handle, dtype=str)
    assert listed[["code", "label", "csv_code"]].values.tolist() == [
        ["1", "Active", "A"],
        ["2", "Placebo", "P"],
        ["3", "X", "X"],
    ]


def test_the_same_data_exported_at_the_same_time_make_the_same_bytes(exported):
    study, header = exported["study"], {"exported_at": "2026-01-02T03:04:05+00:00"}
    outputs = []
    for attempt in range(2):
        if attempt:
            time.sleep(1.1)  # readstat stamps the current second into each file's header
        for kind in stat_files.KINDS:
            target = io.BytesIO()
            stat_files.write_stat_bundle(
                target, kind=kind, tables=form_tables(study), codebook=codebook_table(study), header=header
            )
            outputs.append(target.getvalue())
    assert outputs[:3] == outputs[3:]
