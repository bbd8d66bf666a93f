"""manage.py export_study: the pinned command line of issue 16."""

import zipfile

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line

from exports.models import ExportLog


def test_the_command_writes_the_csv_bundle_and_logs_it(trial_data, tmp_path):
    path = tmp_path / "out.zip"
    call_command("export_study", study="TRIAL", format="csv", output=str(path))
    assert "manifest.json" in zipfile.ZipFile(path).namelist()
    log = ExportLog.objects.get()
    assert (log.study, log.user, log.file_name) == (trial_data, None, "out.zip")


def test_an_unknown_format_is_refused_by_name_and_writes_nothing(trial_data, tmp_path):
    path = tmp_path / "out.pdf"
    with pytest.raises(CommandError, match="--format: unknown format: pdf"):
        call_command("export_study", study="TRIAL", format="pdf", output=str(path))
    assert not path.exists()
    assert not ExportLog.objects.exists()


def test_an_unknown_study_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="no study NOPE"):
        call_command("export_study", study="NOPE", format="csv", output=str(tmp_path / "x.zip"))
    assert not ExportLog.objects.exists()


def test_an_unknown_study_exits_non_zero_on_the_command_line(db, tmp_path, capsys):
    argv = ["manage.py", "export_study", "--study", "NOPE", "--format", "csv", "--output", str(tmp_path / "x.zip")]
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(argv)
    assert exited.value.code != 0
    assert "no study NOPE" in capsys.readouterr().err


def test_the_wide_format_writes_one_row_per_allocated_subject_with_its_codebook(trial_data, tmp_path):
    import pandas as pd

    path = tmp_path / "wide.zip"
    call_command("export_study", study="TRIAL", format="wide", output=str(path))
    archive = zipfile.ZipFile(path)
    with archive.open("wide.csv") as handle:
        rows = pd.read_csv(handle, encoding="utf-8-sig", dtype={"subject": str})
    with archive.open("codebook.csv") as handle:
        book = pd.read_csv(handle, encoding="utf-8-sig")
    assert rows["subject"].tolist() == ["001"]  # 002 was only screened
    assert {"os_time", "os_event", "tbil_w0"} <= set(rows.columns)
    assert book["variable"].tolist() == rows.columns.tolist()
    assert ExportLog.objects.get().format == "wide"


def test_the_odm_format_writes_one_xml_document_and_logs_it(trial_data, tmp_path):
    from lxml import etree

    path = tmp_path / "trial.xml"
    call_command("export_study", study="TRIAL", format="odm", output=str(path))
    assert etree.parse(str(path)).getroot().get("ODMVersion") == "1.3.2"
    assert ExportLog.objects.get().format == "odm"
