"""De-identified exports: no original code, date or free text; every interval kept; the same subject the same way."""

import json
import re
import zipfile
from datetime import date, datetime

import pandas as pd
import pytest

from exports.codebook import COLUMNS
from exports.deidentify import treatment
from exports.models import SubjectPseudonym
from exports.selectors import FORMS
from exports.services import codebook_table, export_study

PSEUDONYM = re.compile(r"^P[0-9A-F]{10}$")


def _tables(path) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(path) as archive:
        return {
            form.name: pd.read_csv(archive.open(f"{form.name}.csv"), dtype=str, keep_default_na=False) for form in FORMS
        }


def _kinds(study) -> dict[tuple[str, str], str]:
    at = {name: COLUMNS.index(name) for name in ("form", "variable", "type", "allowed_values")}
    kinds = {}
    for row in codebook_table(study).rows:
        variable = row[at["variable"]]
        kinds[(row[at["form"]], variable)] = treatment(variable, row[at["type"]], row[at["allowed_values"]])
    return kinds


@pytest.fixture
def elderly(trial_data, new_subject):
    return new_subject("003", age_years=95)


@pytest.fixture
def both(trial_data, elderly, tmp_path, data_manager):
    """The same data exported plainly and de-identified."""
    plain, masked = tmp_path / "plain.zip", tmp_path / "masked.zip"
    export_study(trial_data, "csv", plain, by=data_manager)
    log = export_study(trial_data, "csv", masked, by=data_manager, deidentify=True)
    return {"plain": _tables(plain), "masked": _tables(masked), "path": masked, "log": log, "study": trial_data}


def _parse(value: str):
    return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)


def test_subject_codes_are_replaced_by_pseudonyms_everywhere(both):
    for name, table in both["masked"].items():
        assert table["subject_code"].map(PSEUDONYM.match).all(), name
        assert not set(table["subject_code"]) & set(both["plain"]["subjects"]["subject_code"]), name


def test_every_date_moves_by_its_subjects_offset_so_intervals_are_kept(both):
    shifts = {p.pseudonym: p.shift_days for p in SubjectPseudonym.objects.all()}
    kinds, moved = _kinds(both["study"]), 0
    for name, masked in both["masked"].items():
        plain = both["plain"][name]
        for column in masked.columns:
            if kinds[(name, column)] != "shift":
                continue
            for original, shifted, pseudonym in zip(plain[column], masked[column], masked["subject_code"], strict=True):
                if original:
                    assert (_parse(shifted) - _parse(original)).days == shifts[pseudonym], (name, column)
                    moved += 1
    assert moved > 20  # screening, consent, visits, draws, infusion, AE onset, HCC...


def test_no_original_date_is_left(both):
    kinds = _kinds(both["study"])
    for name, masked in both["masked"].items():
        for column in masked.columns:
            if kinds[(name, column)] == "shift":
                originals = set(both["plain"][name][column]) - {""}
                assert not originals & set(masked[column]), (name, column)


def test_free_text_is_dropped_and_codes_are_kept(both):
    with zipfile.ZipFile(both["path"]) as archive:
        everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"HYPERLINK" not in everything  # the AE term
    assert b"Entecavir" not in everything
    assert b"0.5 mg daily" not in everything
    assert "term" not in both["masked"]["adverse_events"].columns
    assert {"analyte_code", "unit", "visit_code"} <= set(both["masked"]["lab_values"].columns)


def test_ages_above_89_are_top_coded(both):
    assert sorted(both["masked"]["subjects"]["age_years"]) == ["50", "50", "90"]


def test_a_subject_keeps_its_pseudonym_and_offset_in_every_export(both, tmp_path):
    again = tmp_path / "again.zip"
    export_study(both["study"], "csv", again, deidentify=True)
    assert _tables(again)["visits"].equals(both["masked"]["visits"])


def test_the_codebook_and_manifest_say_what_was_done(both):
    with zipfile.ZipFile(both["path"]) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        book = pd.read_csv(archive.open("codebook.csv"), dtype=str, keep_default_na=False)
    assert manifest["deidentified"] is True
    assert "per-subject offset" in manifest["deidentification"]
    assert both["log"].deidentified
    screening = book[(book["form"] == "subjects") & (book["variable"] == "screening_date")]
    assert "intervals are kept" in screening["description"].item()
    assert "term" not in set(book[book["form"] == "adverse_events"]["variable"])


def _zipped_csv(path, name) -> pd.DataFrame:
    with zipfile.ZipFile(path) as archive:
        return pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)


def test_the_adam_export_moves_dates_but_keeps_every_time_to_event(both, tmp_path):
    plain, masked = tmp_path / "adam.zip", tmp_path / "adam-masked.zip"
    export_study(both["study"], "adam", plain)
    export_study(both["study"], "adam", masked, deidentify=True)
    before, after = _zipped_csv(plain, "adtte.csv"), _zipped_csv(masked, "adtte.csv")
    assert list(after["AVAL"]) == list(before["AVAL"])
    assert list(after["CNSR"]) == list(before["CNSR"])
    assert not set(after["ADT"]) & set(before["ADT"])
    adsl = _zipped_csv(masked, "adsl.csv")
    assert adsl["SUBJID"].map(PSEUDONYM.match).all()
    assert not set(adsl["USUBJID"]) & set(_zipped_csv(plain, "adsl.csv")["USUBJID"])


def test_the_wide_export_holds_pseudonyms_and_the_same_times(both, tmp_path):
    plain, masked = tmp_path / "wide.zip", tmp_path / "wide-masked.zip"
    export_study(both["study"], "wide", plain)
    export_study(both["study"], "wide", masked, deidentify=True)
    before, after = _zipped_csv(plain, "wide.csv"), _zipped_csv(masked, "wide.csv")
    assert after["subject"].map(PSEUDONYM.match).all()
    times = [column for column in before.columns if column.endswith(("_days", "_months", "_event"))]
    assert times
    assert after[times].equals(before[times])


def test_the_odm_export_is_de_identified_too(both, tmp_path):
    path = tmp_path / "masked.xml"
    export_study(both["study"], "odm", path, deidentify=True)
    text = path.read_text()
    keys = set(re.findall(r'SubjectKey="([^"]+)"', text))
    assert len(keys) == 3
    assert all(PSEUDONYM.match(key) for key in keys)
    assert "HYPERLINK" not in text


@pytest.mark.parametrize("fmt", ["xlsx", "spss", "stata", "sas"])
def test_every_form_based_format_is_de_identified(both, tmp_path, fmt):
    path = tmp_path / f"masked.{fmt}"
    export_study(both["study"], fmt, path, deidentify=True)
    with zipfile.ZipFile(path) as archive:  # an xlsx workbook is a zip too
        everything = b"".join(archive.read(name) for name in archive.namelist())
    pseudonym = SubjectPseudonym.objects.get(subject__subject_code="001").pseudonym
    assert pseudonym.encode() in everything
    assert b"HYPERLINK" not in everything
    assert b"Entecavir" not in everything
