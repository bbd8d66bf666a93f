"""The csv export read back with pandas: files, row counts, hashes, codebook and cell guard."""

import hashlib
import zipfile
from html.parser import HTMLParser

import pandas as pd

from ecrf.models import AdverseEvent, LabValue, Subject
from exports.models import ExportLog
from exports.selectors import FORMS, row_count

FORM_FILES = [f"{form.name}.csv" for form in FORMS]


def _read(path, name) -> pd.DataFrame:
    with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def test_the_zip_holds_one_csv_per_form_the_codebook_and_the_manifest(exported):
    names = set(zipfile.ZipFile(exported["path"]).namelist())
    assert names == {*FORM_FILES, "codebook.csv", "codebook.html", "manifest.json"}


def test_row_counts_in_the_manifest_match_the_files_and_the_database(exported):
    study = exported["study"]
    for form in FORMS:
        rows = len(_read(exported["path"], f"{form.name}.csv"))
        assert exported["manifest"]["files"][f"{form.name}.csv"]["rows"] == rows == row_count(form, study), form.name


def test_every_form_with_data_in_the_trial_has_rows(exported):
    files = exported["manifest"]["files"]
    assert files["subjects.csv"]["rows"] == Subject.objects.filter(study=exported["study"]).count() == 2
    assert files["lab_values.csv"]["rows"] == LabValue.objects.count() == 2
    for name in ("eligibility", "allocations", "visits", "clinical_status", "infusions", "release_results"):
        assert files[f"{name}.csv"]["rows"] > 0, name
    assert files["medications.csv"]["rows"] == files["outcomes.csv"]["rows"] == 1


def test_a_voided_record_is_left_out(exported):
    adverse_events = _read(exported["path"], "adverse_events.csv")
    assert AdverseEvent.objects.count() == 2
    assert len(adverse_events) == 1
    assert "Entered twice" not in adverse_events["term"].tolist()


def test_lab_values_have_one_row_per_analyte_with_its_unit(exported):
    lab_values = _read(exported["path"], "lab_values.csv")
    assert lab_values[["visit_code", "analyte_code", "unit", "value"]].values.tolist() == [
        ["W0", "TBIL", "umol/L", "25.5"],
        ["W0", "INR", "ratio", "1.25"],
    ]


def test_the_manifest_sha256_of_every_file_matches_its_bytes(exported):
    with zipfile.ZipFile(exported["path"]) as archive:
        for name, entry in exported["manifest"]["files"].items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"], name
    assert set(exported["manifest"]["files"]) == {*FORM_FILES, "codebook.csv", "codebook.html"}


def test_the_manifest_names_the_study_and_its_protocol_version(exported):
    manifest = exported["manifest"]
    assert (manifest["study"], manifest["protocol_version"], manifest["plan_version"]) == ("TRIAL", "1.0", None)
    assert manifest["exported_at"] == exported["log"].exported_at.isoformat()


def test_the_codebook_lists_every_column_of_every_csv(exported):
    codebook = _read(exported["path"], "codebook.csv")
    for name in FORM_FILES:
        columns = _read(exported["path"], name).columns
        listed = codebook.loc[codebook["form"] == name.removesuffix(".csv"), "variable"].tolist()
        assert listed == list(columns), name


def test_the_codebook_gives_coded_values_with_labels_and_the_protocol_codes(exported):
    codebook = _read(exported["path"], "codebook.csv").set_index(["form", "variable"])
    assert "mild=Mild" in codebook.loc[("clinical_status", "ascites"), "allowed_values"]
    assert "TBIL=Total bilirubin (umol/L)" in codebook.loc[("lab_values", "analyte_code"), "allowed_values"]
    assert codebook.loc[("lab_values", "visit_code"), "visit"] == "W0 | W4"
    assert codebook.loc[("visits", "weight_kg"), "unit"] == "kg"
    assert codebook.loc[("infusions", "is_placebo"), "allowed_values"] == "1=Yes | 0=No"


class _Rows(HTMLParser):
    """The body rows of an HTML table, as the text of their cells."""

    def __init__(self):
        super().__init__()
        self.rows, self.in_body = [], False

    def handle_starttag(self, tag, attrs):
        self.in_body |= tag == "tbody"
        if self.in_body and tag == "tr":
            self.rows.append([])

    def handle_data(self, data):
        if self.in_body and self.rows and data.strip():
            self.rows[-1].append(data)


def test_the_codebook_page_is_a_plain_table_with_its_cells_escaped(exported):
    with zipfile.ZipFile(exported["path"]) as archive:
        page = archive.read("codebook.html").decode()
    assert "viab=Viability &gt; 80 %" in page
    assert "Viability > 80" not in page
    parser = _Rows()
    parser.feed(page)
    assert len(parser.rows) == exported["manifest"]["files"]["codebook.html"]["rows"]
    assert "viab=Viability > 80 % | myco=Mycoplasma: negative" in [cell for row in parser.rows for cell in row]


def test_a_formula_like_free_text_is_neutralised(exported):
    adverse_events = _read(exported["path"], "adverse_events.csv")
    assert adverse_events["term"].tolist() == ['\'=HYPERLINK("http://evil.example","click")']


def test_the_export_is_logged_with_the_file_sha256_and_row_counts(exported, data_manager):
    log = ExportLog.objects.get()
    digest = hashlib.sha256(exported["path"].read_bytes()).hexdigest()
    assert (log.study, log.user, log.format, log.deidentified, log.cut) == (
        exported["study"],
        data_manager,
        "csv",
        False,
        None,
    )
    assert (log.file_name, log.sha256) == ("trial.zip", digest)
    assert log.row_counts == {name: entry["rows"] for name, entry in exported["manifest"]["files"].items()}
