"""The adam export read back with pandas and pyreadstat: ADSL and ADTTE as CSV and XPT, labels, manifest, and
the time-to-event rows against the database. The censoring rules on hand-made frames are in test_adam_rules.py.
"""

import hashlib
import zipfile
from datetime import date

import pandas as pd
import pyreadstat
import pytest

from analysis.datasets import study_data
from analysis.live import analysis_plan
from ecrf.models import EndpointEvent, InfusionEvent, Subject
from ecrf.services import subjects
from exports import adam, adtte
from exports.services import export_study

DATES = ["RANDDT", "TRTSDT", "DTHDT", "STARTDT", "ADT"]


def export(study, folder, name="trial.zip"):
    """Export ``study`` as adam into ``folder``; the zip's files extracted beside it, and its manifest."""
    path = folder / name
    export_study(study, "adam", path)
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder / name.removesuffix(".zip"))
        return folder / name.removesuffix(".zip"), pd.read_json(archive.open("manifest.json"), typ="series")


def read_csv(folder, name) -> pd.DataFrame:
    frame = pd.read_csv(folder / f"{name}.csv", encoding="utf-8-sig", dtype={"SUBJID": str}, keep_default_na=False)
    frame = frame.replace("", None)
    for column in set(DATES) & set(frame.columns):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def nulls_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


def read_xpt(folder, name):
    return pyreadstat.read_xport(folder / f"{name}.xpt")


@pytest.fixture
def files(trial_data, tmp_path):
    """The trial's adam export (subject 001 allocated and infused, HCC on 2021-02-01; 002 only screened)."""
    return export(trial_data, tmp_path)[0]


def test_adsl_has_one_row_per_allocated_subject(files):
    assert read_csv(files, "adsl")["SUBJID"].tolist() == ["001"]  # 002 was only screened


def test_usubjid_is_study_site_subject(files):
    assert read_csv(files, "adsl")["USUBJID"].tolist() == ["TRIAL-SITE-A-001"]


def test_randdt_and_trtsdt_are_the_allocation_and_first_infusion_days(files):
    row = read_csv(files, "adsl").iloc[0]
    infusion = InfusionEvent.objects.get(subject__subject_code="001")
    allocation = Subject.objects.get(subject_code="001").allocation
    assert (row["RANDDT"], row["TRTSDT"]) == (allocation.allocation_date, infusion.started_at.date())


def test_an_infused_subject_is_in_every_population(files):
    row = read_csv(files, "adsl").iloc[0]
    assert (row["ITTFL"], row["FASFL"], row["SAFFL"], row["TRT01A"]) == ("Y", "Y", "Y", "Active")


@pytest.mark.parametrize("name", ["adsl", "adtte"])
def test_the_xpt_and_the_csv_hold_the_same_rows(files, name):
    from_csv = read_csv(files, name)
    from_xpt, meta = read_xpt(files, name)
    numbers = [column for column, kind in meta.readstat_variable_types.items() if kind == "double"]
    numbers = [column for column in numbers if meta.original_variable_types[column] != "DATE"]
    from_csv[numbers] = from_csv[numbers].astype(float)
    assert len(from_xpt) == len(from_csv) > 0
    pd.testing.assert_frame_equal(nulls_as_none(from_xpt.replace("", None)), nulls_as_none(from_csv))


LABELS = [("adsl", "Subject-Level Analysis Dataset"), ("adtte", "Time-to-Event Analysis Dataset")]


@pytest.mark.parametrize(("name", "label"), LABELS)
def test_the_xpt_carries_the_dataset_label_and_the_codebooks_variable_labels(files, name, label):
    _, meta = read_xpt(files, name)
    book = read_csv(files, "codebook")
    labels = book[book["dataset"] == name.upper()].set_index("variable")["label"].to_dict()
    assert (meta.table_name, meta.file_label) == (name.upper(), label)
    assert meta.column_names_to_labels == labels


def test_every_name_fits_xpt_version_5_and_every_label_40_characters(files):
    book = read_csv(files, "codebook")
    assert book["variable"].str.len().max() <= 8
    assert book["label"].notna().all()
    assert book["label"].str.len().max() <= 40


def test_dates_are_sas_dates_in_the_xpt(files):
    _, meta = read_xpt(files, "adtte")
    assert (meta.original_variable_types["STARTDT"], meta.original_variable_types["ADT"]) == ("DATE", "DATE")


def test_the_manifest_lists_every_file_with_its_rows_and_sha256(trial_data, tmp_path):
    folder, manifest = export(trial_data, tmp_path)
    names = {"adsl.csv", "adsl.xpt", "adtte.csv", "adtte.xpt", "codebook.csv", "codebook.html"}
    assert set(manifest["files"]) == names
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    rows = {"adsl": 1, "adtte": 1}  # one subject, OS only: the test protocol does not follow HCC
    assert {name: manifest["files"][f"{name}.{ext}"]["rows"] for name in rows for ext in ("csv", "xpt")} == rows
    assert manifest["files"]["codebook.csv"]["rows"] == len(read_csv(folder, "codebook"))


def test_the_same_data_give_the_same_xpt_bytes(trial_data, tmp_path):
    first, second = export(trial_data, tmp_path, "one.zip")[1], export(trial_data, tmp_path, "two.zip")[1]
    assert first["files"]["adsl.xpt"] == second["files"]["adsl.xpt"]
    assert first["files"]["adtte.xpt"] == second["files"]["adtte.xpt"]


def test_aval_is_adt_minus_startdt_in_days_without_plus_one(files):
    rows = read_csv(files, "adtte")
    assert rows["AVAL"].tolist() == [
        (end - start).days for start, end in zip(rows["STARTDT"], rows["ADT"], strict=True)
    ]
    assert rows["AVALU"].unique().tolist() == ["DAYS"]


def test_hcc_is_left_out_when_the_protocol_does_not_follow_it(files):
    assert read_csv(files, "adtte")["PARAMCD"].tolist() == ["OS"]


def test_a_subject_alive_is_censored_at_the_latest_date_known_alive(files):
    row = read_csv(files, "adtte").iloc[0]
    hcc = EndpointEvent.objects.get(subject__subject_code="001", kind="hcc")
    assert Subject.objects.get(subject_code="001").death_date is None
    assert (row["CNSR"], row["ADT"], row["CNSDTDSC"]) == (1, hcc.event_date, "HCC DIAGNOSIS")  # later than visits


def test_a_recorded_death_is_the_os_event_at_its_date(trial_data, tmp_path, coordinator_a):
    subject = Subject.objects.get(subject_code="001")
    subjects.record_death(subject, death_date=date(2021, 3, 1), cause="Liver failure", by=coordinator_a)
    folder, _ = export(trial_data, tmp_path)
    row, adsl = read_csv(folder, "adtte").iloc[0], read_csv(folder, "adsl").iloc[0]
    died = Subject.objects.get(pk=subject.pk).death_date
    assert (row["CNSR"], row["ADT"], row["EVNTDESC"], row["SRCVAR"]) == (0, died, "DEATH", "death_date")
    assert (adsl["DTHFL"], adsl["DTHDT"]) == ("Y", died)


def test_an_hcc_in_the_database_is_the_hcc_event_at_its_diagnosis_date(trial_data):
    data, plan = study_data(trial_data), analysis_plan(trial_data)
    subject_level = adam.adsl(data, plan, study="TRIAL", treated_arms={"A"})
    rows = adtte.adtte(data, subject_level, endpoints={"hcc"}).frame.set_index("PARAMCD")
    hcc = EndpointEvent.objects.get(subject__subject_code="001", kind="hcc")
    assert (rows.loc["HCC", "CNSR"], rows.loc["HCC", "ADT"], rows.loc["HCC", "SRCDOM"]) == (
        0,
        hcc.event_date,
        "outcomes",
    )


def test_a_study_without_an_allocated_subject_exports_empty_datasets(protocol, new_subject, tmp_path):
    new_subject("002")
    folder, manifest = export(protocol.study, tmp_path)
    assert (manifest["files"]["adsl.xpt"]["rows"], manifest["files"]["adtte.xpt"]["rows"]) == (0, 0)
    assert read_xpt(folder, "adtte")[0].empty
