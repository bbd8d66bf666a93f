"""Data cuts: the records and analysis datasets frozen as files; nothing in a cut changes after a correction."""

import io
import json
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from analysis.frozen import CutDamaged, frozen_data, stored_report
from analysis.models import DataCut
from ecrf.models import AdverseEvent
from ecrf.services import events
from ecrf.services.audit import void
from exports.cuts import declare_cut, recomputed_report
from exports.models import ExportLog
from exports.services import export_study

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_root(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    return settings.EXPORT_ROOT


@pytest.fixture
def cut(trial_data, data_manager):
    return declare_cut(trial_data, label="Interim analysis 1", by=data_manager)


@pytest.fixture
def corrected(cut, trial_data, coordinator_a):
    """After the cut: a new adverse event, and the first one voided."""
    subject = trial_data.subjects.get(subject_code="001")
    first = AdverseEvent.objects.filter(subject=subject, is_voided=False).earliest("pk")
    void(first, by=coordinator_a, reason="Entered on the wrong subject")
    onset = datetime(2021, 3, 1, 9, tzinfo=UTC)
    events.record_adverse_event(
        subject=subject,
        term="Headache",
        onset_at=onset,
        grade=1,
        relatedness="unlikely",
        outcome="recovered",
        by=coordinator_a,
    )
    return cut


def _terms(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return list(pd.read_csv(archive.open("adverse_events.csv"), dtype=str, keep_default_na=False)["term"])


def test_a_cut_is_listed_with_who_when_and_every_files_sha256(cut, data_manager, export_root):
    assert (cut.number, cut.label, cut.declared_by) == (1, "Interim analysis 1", data_manager)
    files = cut.manifest["files"]
    assert {"bundle.zip", "report.json", "datasets/subjects.pkl", "datasets/subjects.csv"} <= set(files)
    assert "records/adverse_events.pkl" in files
    for name, entry in files.items():
        assert len(entry["sha256"]) == 64, name
        assert (export_root / cut.path / name).is_file(), name


def test_the_next_cut_has_the_next_number(cut, trial_data):
    assert declare_cut(trial_data, label="Final analysis").number == 2


def test_an_export_of_the_cut_is_unchanged_by_a_later_correction(corrected, trial_data, tmp_path):
    frozen, live = tmp_path / "cut.zip", tmp_path / "live.zip"
    export_study(trial_data, "csv", frozen, cut=corrected)
    export_study(trial_data, "csv", live)
    assert _terms(frozen) == ['\'=HYPERLINK("http://evil.example","click")']
    assert _terms(live) == ["Headache"]


def test_the_cut_export_says_which_cut_in_its_manifest_and_log(cut, trial_data, tmp_path):
    log = export_study(trial_data, "csv", tmp_path / "cut.zip", cut=cut)
    with zipfile.ZipFile(tmp_path / "cut.zip") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["cut"] == log.cut == 1
    assert manifest["files"]["subjects.csv"]["rows"] == cut.manifest["bundle"]["files"]["subjects.csv"]["rows"]


def test_the_cut_keeps_the_exact_types_of_its_records(cut, trial_data, tmp_path):
    """An export of the cut is the export of the data as they were: the same bytes, apart from the manifest."""
    frozen, live = tmp_path / "cut.zip", tmp_path / "live.zip"
    export_study(trial_data, "csv", frozen, cut=cut)
    export_study(trial_data, "csv", live)
    with zipfile.ZipFile(frozen) as a, zipfile.ZipFile(live) as b:
        for name in a.namelist():
            if name != "manifest.json":
                assert a.read(name) == b.read(name), name


def test_the_report_of_a_cut_is_byte_identical_when_recomputed(corrected):
    stored, _ = stored_report(corrected)
    assert recomputed_report(corrected) == stored
    assert recomputed_report(corrected) == stored


def test_the_cut_report_is_as_of_the_cut(cut):
    report = json.loads(stored_report(cut)[0])
    assert report["study"]["generated_at"] == cut.declared_at.isoformat(timespec="seconds")


def test_the_frozen_datasets_are_those_of_the_cut(corrected):
    assert len(frozen_data(corrected).adverse_events) == 1
    assert frozen_data(corrected).adverse_events["term"].tolist() == ['=HYPERLINK("http://evil.example","click")']


def test_a_changed_cut_file_is_refused(cut, export_root, trial_data, tmp_path):
    (export_root / cut.path / "records" / "subjects.pkl").write_bytes(b"not the cut")
    with pytest.raises(CutDamaged, match="subjects.pkl is missing or changed"):
        export_study(trial_data, "csv", tmp_path / "cut.zip", cut=cut)
    assert not ExportLog.objects.filter(cut=1).exists()


def test_a_cut_without_a_label_is_refused_and_leaves_nothing(trial_data, export_root):
    with pytest.raises(ValueError, match="needs a label"):
        declare_cut(trial_data, label="  ")
    assert not DataCut.objects.exists()
    assert not export_root.exists() or not any(export_root.rglob("*.zip"))


def test_the_commands_declare_and_export_a_cut(trial_data, data_manager, tmp_path):
    out = io.StringIO()
    call_command("declare_cut", study=trial_data.code, label="Interim", by=data_manager.username, stdout=out)
    assert "Declared cut 1 of TRIAL (Interim)" in out.getvalue()
    call_command("export_study", study="TRIAL", format="csv", output=str(tmp_path / "c.zip"), cut=1, stdout=out)
    assert ExportLog.objects.get().cut == 1
    with pytest.raises(CommandError, match="--cut: TRIAL has no data cut 7"):
        call_command("export_study", study="TRIAL", format="csv", output=str(tmp_path / "x.zip"), cut=7)


@pytest.mark.django_db(transaction=True)
def test_a_cut_declared_outside_any_transaction_sets_its_own_snapshot(trial_data):
    """As the command and the task worker declare it: on PostgreSQL, REPEATABLE READ must be, and is, the first
    statement of the cut's own transaction (inside a caller's transaction the caller's isolation holds)."""
    assert declare_cut(trial_data, label="Own transaction").number == 1
