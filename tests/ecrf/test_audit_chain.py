"""Tamper evidence: every history row is hash-chained per record, and verify_audit finds what SQL changed."""

import importlib
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from simple_history.utils import bulk_create_with_history

from ecrf.audit_hash import GENESIS, canonical, chain_hash
from ecrf.models import ConcomitantMedication, LabValue, Membership, Subject
from ecrf.selectors.audit import history_models
from ecrf.services import events, labs, subjects
from tests.conftest import give_first_infusion

DRAWN = datetime(2021, 1, 2, 8, tzinfo=UTC)


def verify(*args) -> str:
    """verify_audit's output when it passes; raises CommandError (non-zero exit) naming the problem when not."""
    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def on_history(model, statement: str, *params) -> None:
    """Raw SQL on the model's history table (``{table}`` in the statement), as someone with database access."""
    sql(statement.replace("{table}", connection.ops.quote_name(model.history.model._meta.db_table)), *params)


@pytest.fixture
def trial(allocated_subject, new_subject, coordinator_a, investigator_a):
    """Two subjects with labs, medication and an infusion, each record changed a few times through the services."""
    second = new_subject("002", consented=True)
    subjects.withdraw(second, withdrawal_date=date(2021, 2, 1), reason="Moved away", by=coordinator_a)
    visit = allocated_subject.visits.get(definition__code="W0")
    draw = labs.record_lab_draw(visit=visit, drawn_at=DRAWN, values={"TBIL": "42.0", "INR": "1.2"}, by=coordinator_a)
    bilirubin = draw.values.get(analyte__code="TBIL")
    labs.change_lab_value(bilirubin, value="24.0", by=investigator_a, reason="Transcription error")
    labs.change_lab_value(bilirubin, value="24.5", by=investigator_a, reason="Lab re-issued the report")
    medication = events.record_medication(
        subject=allocated_subject, by=coordinator_a, drug="Entecavir", dose="0.5 mg daily", start_date=date(2021, 1, 2)
    )
    events.change_medication(medication, stop_date=date(2021, 3, 1), by=coordinator_a, reason="Stopped")
    give_first_infusion(allocated_subject, by=coordinator_a)
    return {"subject": allocated_subject, "visit": visit, "bilirubin": bilirubin, "medication": medication}


def test_verify_audit_passes_on_data_written_through_the_services(trial):
    out = verify()
    assert "verifies. OK." in out
    assert "LabValue: 4 history rows checked, 0 problems" in out
    assert "Membership: " in out


def test_every_history_row_carries_its_chained_hash(trial):
    created, first, second = trial["bilirubin"].history.order_by("history_id")
    assert created.previous_hash == GENESIS
    assert (first.previous_hash, second.previous_hash) == (created.row_hash, first.row_hash)
    assert len({created.row_hash, first.row_hash, second.row_hash}) == 3


def test_a_reason_and_user_rewritten_by_sql_fail_verification_naming_the_row(trial, coordinator_a):
    row = trial["bilirubin"].history.order_by("history_id")[1]
    on_history(
        LabValue,
        "UPDATE {table} SET history_change_reason = %s, history_user_id = %s WHERE history_id = %s",
        "Typo",
        coordinator_a.pk,
        row.history_id,
    )
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"LabValue {trial['bilirubin'].pk}, history row {row.history_id}: content changed" in str(failure.value)


def test_a_rewritten_row_shows_a_warning_on_the_history_pages(trial, coordinator):
    row = trial["bilirubin"].history.order_by("history_id")[1]
    on_history(LabValue, "UPDATE {table} SET history_change_reason = %s WHERE history_id = %s", "Typo", row.history_id)
    args = [trial["subject"].study.code, trial["subject"].pk, "W0"]
    for name in ("ecrf:lab_history", "ecrf:visit_history"):
        page = coordinator.get(reverse(name, args=args)).content.decode()
        assert "This audit trail does not verify" in page
        assert f"history row {row.history_id}: content changed" in page


def test_history_pages_of_an_intact_trail_show_no_warning(trial, coordinator):
    medication = trial["medication"]
    page = coordinator.get(
        reverse(
            "ecrf:record_history",
            args=[medication.subject.study.code, medication.subject.pk, "medication", medication.pk],
        )
    ).content.decode()
    assert "Stopped" in page
    assert "does not verify" not in page


def test_a_record_history_page_warns_when_its_chain_is_broken(trial, coordinator):
    medication = trial["medication"]
    on_history(ConcomitantMedication, "DELETE FROM {table} WHERE id = %s AND history_type = '+'", medication.pk)
    page = coordinator.get(
        reverse(
            "ecrf:record_history",
            args=[medication.subject.study.code, medication.subject.pk, "medication", medication.pk],
        )
    ).content.decode()
    assert "This audit trail does not verify" in page
    assert "row missing before" in page


def test_deleting_a_records_created_row_fails_verification_naming_the_record(trial):
    subject = trial["subject"]
    on_history(Subject, "DELETE FROM {table} WHERE id = %s AND history_type = '+'", subject.pk)
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"Subject {subject.pk}, history row" in str(failure.value)
    assert "row missing before" in str(failure.value)


def test_deleting_a_middle_row_breaks_the_chain(trial):
    middle = trial["bilirubin"].history.order_by("history_id")[1]
    on_history(LabValue, "DELETE FROM {table} WHERE history_id = %s", middle.history_id)
    with pytest.raises(CommandError, match=f"LabValue {trial['bilirubin'].pk}, history row .*: chain broken"):
        verify()


def test_deleting_the_latest_row_is_found_against_the_live_record(trial):
    latest = trial["bilirubin"].history.order_by("history_id").last()
    on_history(LabValue, "DELETE FROM {table} WHERE history_id = %s", latest.history_id)
    with pytest.raises(CommandError) as failure:
        verify()
    assert f"LabValue {trial['bilirubin'].pk}" in str(failure.value)
    assert "live record differs from its last audited version" in str(failure.value)


def test_a_live_value_changed_by_sql_is_found(trial):
    sql("UPDATE ecrf_labvalue SET value = %s WHERE id = %s", "99.0", trial["bilirubin"].pk)
    with pytest.raises(CommandError, match="live record differs from its last audited version"):
        verify()


def test_a_bulk_update_of_clinical_records_is_refused_and_writes_nothing(trial):
    bilirubin = trial["bilirubin"]
    with pytest.raises(PermissionError, match="bulk update writes no history"):
        LabValue.objects.filter(pk=bilirubin.pk).update(value=Decimal("1"))
    bilirubin.refresh_from_db()
    assert bilirubin.value == Decimal("24.5")
    assert bilirubin.history.count() == 3


def test_study_scopes_the_check(trial, study, coordinator_a):
    """A broken row of study DLC (coordinator A's membership there) fails DLC's check, not the trial's."""
    membership = Membership.objects.get(user=coordinator_a, study=study)
    on_history(Membership, "UPDATE {table} SET role = 'monitor' WHERE id = %s", membership.pk)
    assert "Audit trail of TRIAL verifies. OK." in verify("--study", "TRIAL")
    with pytest.raises(CommandError, match=f"Membership {membership.pk}"):
        verify("--study", "DLC")
    with pytest.raises(CommandError):
        verify()


def test_study_check_counts_only_the_studys_rows(trial, new_subject):
    out = verify("--study", "DLC")
    assert "Subject: 0 history rows checked" in out
    assert "Subject: 0 history rows checked" not in verify("--study", "TRIAL")


def test_an_unknown_study_is_refused(db):
    with pytest.raises(CommandError, match="No study NOPE"):
        verify("--study", "NOPE")


def test_history_written_in_bulk_is_chained_too(allocated_subject, coordinator_a):
    visit = allocated_subject.visits.get(definition__code="W0")
    draw = labs.record_lab_draw(visit=visit, drawn_at=DRAWN, values={"TBIL": "42.0"}, by=coordinator_a)
    inr = draw.panel.analytes.get(code="INR")
    (value,) = bulk_create_with_history(
        [LabValue(draw=draw, analyte=inr, value=Decimal("1.10"))], LabValue, default_user=coordinator_a
    )
    assert LabValue.history.get(id=value.pk).previous_hash == GENESIS
    assert "verifies. OK." in verify()


def test_a_value_with_more_places_than_its_column_is_hashed_as_stored(allocated_subject, coordinator_a):
    visit = allocated_subject.visits.get(definition__code="W0")
    draw = labs.record_lab_draw(visit=visit, drawn_at=DRAWN, values={"TBIL": "42.0"}, by=coordinator_a)
    inr = draw.panel.analytes.get(code="INR")
    value = LabValue.objects.create(draw=draw, analyte=inr, value=Decimal("1.123456"))
    assert LabValue.history.get(id=value.pk).value == Decimal("1.1235")
    assert "verifies. OK." in verify()


def test_the_migration_chains_history_written_before_it(trial):
    for model in history_models():
        on_history(model, "UPDATE {table} SET row_hash = '', previous_hash = ''")
    with pytest.raises(CommandError):
        verify()
    migration = importlib.import_module("ecrf.migrations.0008_audit_hash_chain")
    migration.chain_existing_rows(apps, None)
    assert "verifies. OK." in verify()


def test_every_history_model_knows_its_way_to_its_study(db):
    for model in history_models():
        model._base_manager.filter(**{model.study_code_path: "X"}).exists()


# The canonical serialisation: pure, no database.

CONTENT = {
    "id": 7,
    "value": Decimal("42.0000"),
    "drawn_on": date(2021, 1, 2),
    "history_date": datetime(2021, 1, 2, 9, 30, 0, 123456, tzinfo=UTC),
    "history_type": "~",
    "history_user_id": 3,
    "history_change_reason": "Transcription error",
    "not_done": False,
    "not_done_reason": "",
    "stop_date": None,
}


def test_the_same_content_always_gives_the_same_hash():
    reordered = dict(reversed(list(CONTENT.items())))
    assert chain_hash(CONTENT, GENESIS) == chain_hash(reordered, GENESIS) == chain_hash(dict(CONTENT), GENESIS)


def test_equal_values_serialise_the_same_whatever_their_form():
    in_paris = CONTENT["history_date"].astimezone(ZoneInfo("Europe/Paris"))
    assert canonical({**CONTENT, "value": Decimal("42")}) == canonical(CONTENT)
    assert canonical({**CONTENT, "history_date": in_paris}) == canonical(CONTENT)


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("id", 8),
        ("value", Decimal("42.0001")),
        ("drawn_on", date(2021, 1, 3)),
        ("history_date", datetime(2021, 1, 2, 9, 30, 0, 123457, tzinfo=UTC)),
        ("history_type", "+"),
        ("history_user_id", 4),
        ("history_user_id", None),
        ("history_change_reason", "Transcription error."),
        ("not_done", True),
        ("not_done_reason", None),
        ("stop_date", date(2021, 1, 2)),
        ("value", "42"),
    ],
)
def test_each_field_changes_the_hash(name, other):
    assert chain_hash({**CONTENT, name: other}, GENESIS) != chain_hash(CONTENT, GENESIS)


def test_the_previous_hash_changes_the_hash():
    assert chain_hash(CONTENT, GENESIS) != chain_hash(CONTENT, "1" * 64)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        canonical({"history_date": datetime(2021, 1, 2, 9, 30)})


def test_a_naive_datetime_from_a_script_is_hashed_as_stored_and_verifies(allocated_subject, coordinator_a):
    """Django stores a naive datetime in the default time zone (with a warning); the hash must follow it."""
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        give_first_infusion(allocated_subject, by=coordinator_a, started_at=datetime(2021, 1, 2, 9, 30))
    assert "verifies. OK." in verify()
