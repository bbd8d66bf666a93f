"""import_study: a csv bundle loaded through the services, all or nothing, and the round trip export-import-export."""

import csv
import hashlib
import io
import json
import random
import zipfile
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.demo.builder import TrialBuilder
from ecrf.demo.cohorts import COHORTS
from ecrf.demo.plans import plan_trial
from ecrf.models import EligibilityAnswer, LabValue, Site, Study, Subject, Visit
from ecrf.roles import Role
from ecrf.selectors.protocols import latest_protocol
from ecrf.services import labs, signatures, visits
from ecrf.services.import_rows import ImportRefused
from exports.imports import import_bundle
from exports.selectors import FORMS
from exports.services import export_study
from tests.ecrf import hostile_values as hv
from tests.factories import TEST_PASSWORD, MembershipFactory


def site_of(user):
    return user.memberships.get().site


FILE_TIME_KEYS = ("exported_at",)


def _entries(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without_export_time(entries: dict[str, bytes]) -> dict[str, bytes]:
    manifest = json.loads(entries["manifest.json"])
    manifest.pop("exported_at")
    return {**entries, "manifest.json": json.dumps(manifest, sort_keys=True).encode()}


@pytest.fixture
def source_bundle(request, protocol, tmp_path, data_manager, investigator_a, coordinator_a, check_password):
    """The trial of tests/exports/conftest.py (every form) with a signed visit, an out-of-window visit and its
    deviation and a lab not done, exported as csv; then rolled back, leaving its study empty."""
    MembershipFactory(user=data_manager, study=protocol.study, role=Role.DATA_MANAGER, site=None)
    MembershipFactory(user=investigator_a, study=protocol.study, role=Role.INVESTIGATOR, site=site_of(coordinator_a))
    before = transaction.savepoint()
    study = request.getfixturevalue("trial_data")
    subject = study.subjects.get(subject_code="001")
    w0, w4 = (subject.visits.get(definition__code=code) for code in ("W0", "W4"))
    signatures.sign_visit(w0, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    late = "Subject travelled; seen a week late"
    visits.record_visit(w4, actual_date=date(2021, 2, 8), weight_kg=61, window_reason=late, by=coordinator_a)
    results = {"TBIL": "30", "INR": labs.NotDone("Haemolysed")}
    labs.record_lab_draw(visit=w4, drawn_at=datetime(2021, 2, 8, 8, tzinfo=UTC), values=results, by=coordinator_a)
    screening = study.subjects.get(subject_code="002")
    path = tmp_path / "source.zip"
    export_study(study, "csv", path, by=data_manager)
    transaction.savepoint_rollback(before)
    assert not Subject.objects.filter(pk=screening.pk).exists()
    return {"path": path, "study": study}


def test_the_round_trip_gives_identical_files_apart_from_the_export_time(source_bundle, data_manager, tmp_path):
    study = source_bundle["study"]
    import_bundle(study, source_bundle["path"], by=data_manager)
    again = tmp_path / "again.zip"
    export_study(study, "csv", again, by=data_manager)
    first, second = _entries(source_bundle["path"]), _entries(again)
    assert json.loads(first["manifest.json"])["exported_at"] != json.loads(second["manifest.json"])["exported_at"]
    assert _without_export_time(first) == _without_export_time(second)


def test_imported_rows_carry_the_importer_and_the_bundle_in_their_history(source_bundle, data_manager):
    import_bundle(source_bundle["study"], source_bundle["path"], by=data_manager)
    created = LabValue.history.filter(history_type="+")
    assert created.exists()
    assert {row.history_user for row in created} == {data_manager}
    assert all("imported from csv bundle SHA-256" in row.history_change_reason for row in created)


def test_the_signature_and_the_deviation_keep_their_recorded_times(source_bundle, data_manager, investigator_a):
    import_bundle(source_bundle["study"], source_bundle["path"], by=data_manager)
    w0 = Visit.objects.get(subject__subject_code="001", definition__code="W0")
    signature = w0.signatures.get()
    assert signature.signed_by == investigator_a
    assert signature.signed_at < w0.history.earliest("history_date").history_date


def _rewritten(path, tmp_path, edit) -> str:
    """The bundle at ``path`` with ``edit(name, text) -> text`` applied to its CSV files and the manifest's
    hashes brought up to date: a bundle whose integrity holds but whose content is wrong."""
    entries = _entries(path)
    manifest = json.loads(entries["manifest.json"])
    out = tmp_path / "edited.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            if name.endswith(".csv") and name != "codebook.csv":
                data = edit(name, data.decode()).encode()
                manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
            if name != "manifest.json":
                archive.writestr(name, data)
        archive.writestr("manifest.json", json.dumps(manifest))
    return out


def _problems(study, path, by) -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        import_bundle(study, path, by=by)
    return [str(problem) for problem in refused.value.problems]


def test_a_bad_bundle_is_refused_with_its_rows_named_and_nothing_is_left(source_bundle, data_manager, tmp_path):
    def edit(name, text):
        if name == "lab_values.csv":
            return text.replace(",TBIL,umol/L,25.5,", ",TBIL,umol/L,abc,")
        if name == "visits.csv":
            return text.replace("2021-02-08", "2031-02-08")
        return text

    study = source_bundle["study"]
    problems = _problems(study, _rewritten(source_bundle["path"], tmp_path, edit), data_manager)
    assert any(p.startswith("lab_values.csv, row 2, column value:") and "abc" in p for p in problems), problems
    assert not Subject.objects.filter(study=study).exists()
    assert not EligibilityAnswer.objects.exists()


def test_a_row_the_services_refuse_names_its_file_row_and_column(source_bundle, data_manager, tmp_path):
    def edit(name, text):
        return text.replace("2021-02-08,", "2031-02-08,", 1) if name == "visits.csv" else text

    study = source_bundle["study"]
    problems = _problems(study, _rewritten(source_bundle["path"], tmp_path, edit), data_manager)
    assert [p for p in problems if p.startswith("visits.csv, row ") and "column actual_date: The date must be" in p]
    assert not Subject.objects.filter(study=study).exists()
    assert not Visit.objects.exists()


def test_a_value_the_services_would_record_otherwise_is_named(source_bundle, data_manager, tmp_path):
    def edit(name, text):  # a stated dose that is not the cells over the weight: the services derive it
        return text.replace(",500000,", ",600000,") if name == "infusions.csv" else text

    study = source_bundle["study"]
    problems = _problems(study, _rewritten(source_bundle["path"], tmp_path, edit), data_manager)
    assert problems == ["infusions.csv, row 2, column cells_per_kg: The records give '500000' here, the file '600000'."]
    assert not Subject.objects.filter(study=study).exists()


def test_an_altered_file_is_refused_by_its_hash(source_bundle, data_manager, tmp_path):
    entries = _entries(source_bundle["path"])
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(altered, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data.replace(b"Entecavir", b"Tenofovir") if name == "medications.csv" else data)
    problems = _problems(source_bundle["study"], altered, data_manager)
    assert problems == ["medications.csv: Its SHA-256 is not the manifest's: the file was altered or replaced."]


def test_a_de_identified_export_is_refused(trial_data, data_manager, tmp_path):
    path = tmp_path / "pseudonymised.zip"
    export_study(trial_data, "csv", path, by=data_manager, deidentify=True)
    problems = _problems(trial_data, path, data_manager)
    assert any("de-identified export cannot be imported" in p for p in problems)


def test_a_study_that_has_subjects_is_refused(exported, data_manager):
    problems = _problems(exported["study"], exported["path"], data_manager)
    assert problems == [f"subjects.csv: {exported['study'].code} already has subjects: import into an empty study."]


def test_a_file_that_is_no_bundle_is_refused(study, data_manager, tmp_path):
    path = tmp_path / "notes.zip"
    path.write_bytes(b"not a zip")
    assert _problems(study, path, data_manager) == [f"{path}: Not a csv export of this system (no readable manifest)."]


def test_the_command_loads_a_bundle_and_says_what(source_bundle, data_manager):
    out = io.StringIO()
    study = source_bundle["study"]
    call_command(
        "import_study", "--study", study.code, "--input", str(source_bundle["path"]), "--by", "datamanager", stdout=out
    )
    assert f"Imported into {study.code}: 2 subjects" in out.getvalue()


def test_the_command_refuses_who_is_not_the_studys_data_manager(source_bundle, coordinator_a):
    study = source_bundle["study"]
    with pytest.raises(CommandError, match="is not a data manager"):
        call_command("import_study", "--study", study.code, "--input", str(source_bundle["path"]), "--by", "coord_a")
    assert not study.subjects.exists()


def _demo_sample(plans) -> list:
    """Few subjects that between them show every fate and arm, HCC and none, infusion fever and none: each kind
    of record the demo makes, replayed (the full demo was round-tripped once by hand; see issue 16's note)."""
    chosen, shown = [], set()
    for plan in plans:
        traits = {("fate", plan.fate), ("arm", plan.arm_code), ("hcc", plan.hcc_time is not None)}
        traits.add(("fever", plan.infusion_fever))
        if traits - shown:
            chosen.append(plan)
            shown |= traits
    return chosen


@pytest.fixture
def demo_bundles(db, settings, tmp_path):
    """Both demo trials with a sample of their synthetic subjects (every fate, arm, HCC and fever), each
    exported as csv; then rolled back, leaving the demo's sites, protocols, lists and accounts only."""
    settings.DEMO_MODE = True
    call_command("seed_demo", subjects=False, stdout=io.StringIO())
    users = {user.username: user for user in get_user_model().objects.all()}
    before, bundles = transaction.savepoint(), {}
    for code, cohort in COHORTS.items():
        study = Study.objects.get(code=code)
        plans = _demo_sample(plan_trial(cohort, random.Random(f"{code}-1")))
        builder = TrialBuilder(
            latest_protocol(study), list(Site.objects.order_by("code")), time_unit=cohort.time_unit, users=users, seed=1
        )
        builder.build(plans)
        bundles[code] = tmp_path / f"{code}.zip"
        export_study(study, "csv", bundles[code], by=users["datamanager"])
    transaction.savepoint_rollback(before)
    return bundles, users["datamanager"]


def test_the_demo_trials_round_trip_through_the_services(demo_bundles, tmp_path):
    bundles, data_manager = demo_bundles
    for code, path in bundles.items():
        study = Study.objects.get(code=code)
        import_bundle(study, path, by=data_manager)
        again = tmp_path / f"{code}-again.zip"
        export_study(study, "csv", again, by=data_manager)
        assert _without_export_time(_entries(path)) == _without_export_time(_entries(again)), code


JUNK = [*hv.TEXT_JUNK, *hv.NUMBER_JUNK, *hv.DATE_JUNK, *hv.EXTREME_DATES, "nan", "inf", "1", "0", "'=1+1"]


def _with_cell(text: str, line: int, column: int, value: str) -> str:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if line < len(rows):
        rows[line][column % len(rows[line])] = value
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


def test_a_hostile_cell_anywhere_is_refused_by_name_and_leaves_nothing(source_bundle, data_manager, tmp_path):
    study, files = source_bundle["study"], [f"{form.name}.csv" for form in FORMS]

    @settings(max_examples=25, deadline=None, derandomize=True, database=None)
    @given(name=st.sampled_from(files), line=st.integers(1, 3), column=st.integers(0, 20), value=st.sampled_from(JUNK))
    def hostile(name, line, column, value):
        def edit(file, text):
            return _with_cell(text, line, column, str(value)) if file == name else text

        before, problems, left = transaction.savepoint(), None, False
        try:
            import_bundle(study, _rewritten(source_bundle["path"], tmp_path, edit), by=data_manager)
        except ImportRefused as refused:  # anything else is a crash, and fails the test
            problems, left = refused.problems, Subject.objects.filter(study=study).exists()
        finally:
            transaction.savepoint_rollback(before)
        assert problems is None or all(problem.file and problem.message for problem in problems)
        assert not left

    hostile()


def test_a_row_at_a_visit_the_file_does_not_have_is_named(source_bundle, data_manager, tmp_path):
    def edit(name, text):  # the W4 lab results moved to a visit the subject's visits.csv does not list
        return text.replace("001,SITE-A,W4,", "001,SITE-A,W99,") if name == "lab_values.csv" else text

    problems = _problems(source_bundle["study"], _rewritten(source_bundle["path"], tmp_path, edit), data_manager)
    assert any("column visit_code: W99 is not among the subject's visits in visits.csv." in p for p in problems)


def test_an_unknown_status_is_named_as_such(source_bundle, data_manager, tmp_path):
    def edit(name, text):
        return text.replace(",screened,", ",cured,") if name == "subjects.csv" else text

    problems = _problems(source_bundle["study"], _rewritten(source_bundle["path"], tmp_path, edit), data_manager)
    assert problems == ["subjects.csv, row 3, column status: 'cured' is not a subject status."]
