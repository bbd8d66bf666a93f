"""Every clinical change keeps who, when, the old and new values and why; records are voided, never deleted."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from ecrf.models import ConcomitantMedication, LabValue, Subject
from ecrf.services import events, labs
from ecrf.services.audit import void

DRAWN = datetime(2021, 1, 2, 8, tzinfo=UTC)


@pytest.fixture
def bilirubin(allocated_subject, coordinator_a):
    visit = allocated_subject.visits.get(definition__code="W0")
    draw = labs.record_lab_draw(visit=visit, drawn_at=DRAWN, values={"TBIL": "42.0"}, by=coordinator_a)
    return draw.values.get(analyte__code="TBIL")


def test_creating_a_record_writes_a_history_row_with_its_author(bilirubin, coordinator_a):
    (created,) = bilirubin.history.all()
    assert (created.history_type, created.history_user, created.history_change_reason) == (
        "+",
        coordinator_a,
        "Created",
    )


def test_a_change_without_a_reason_is_refused_and_nothing_changes(bilirubin, coordinator_a):
    with pytest.raises(ValidationError) as error:
        labs.change_lab_value(bilirubin, value="24.0", by=coordinator_a, reason="  ")
    assert "reason" in error.value.message_dict
    bilirubin.refresh_from_db()
    assert bilirubin.value == 42
    assert bilirubin.history.count() == 1


def test_a_change_keeps_old_and_new_values_who_and_why(bilirubin, investigator_a):
    labs.change_lab_value(bilirubin, value="24.0", by=investigator_a, reason="Transcription error: 24 on the report")
    new, old = bilirubin.history.all()[:2]
    delta = new.diff_against(old)
    assert [(c.field, c.old, c.new) for c in delta.changes if c.field == "value"] == [("value", 42, 24)]
    assert new.history_user == investigator_a
    assert new.history_change_reason == "Transcription error: 24 on the report"
    assert new.history_date >= old.history_date


def test_voiding_keeps_the_row_marks_it_and_says_why(bilirubin, coordinator_a):
    void(bilirubin, by=coordinator_a, reason="Entered on the wrong visit")
    bilirubin.refresh_from_db()
    assert (bilirubin.is_voided, bilirubin.void_reason, bilirubin.voided_by) == (
        True,
        "Entered on the wrong visit",
        coordinator_a,
    )
    assert bilirubin.history.first().history_change_reason == "Voided: Entered on the wrong visit"
    assert not LabValue.objects.active().filter(pk=bilirubin.pk).exists()


def test_voiding_needs_a_reason(bilirubin, coordinator_a):
    with pytest.raises(ValidationError, match="reason"):
        void(bilirubin, by=coordinator_a, reason="")
    bilirubin.refresh_from_db()
    assert not bilirubin.is_voided


def test_clinical_records_cannot_be_deleted(bilirubin, allocated_subject):
    with pytest.raises(PermissionError, match="void it"):
        bilirubin.delete()
    with pytest.raises(PermissionError):
        allocated_subject.delete()
    assert Subject.objects.filter(pk=allocated_subject.pk).exists()


def test_the_subjects_status_history_tells_the_story(allocated_subject):
    reasons = [h.history_change_reason for h in allocated_subject.history.order_by("history_date")]
    assert reasons == [
        "Created",
        "Consent recorded (version 1.0)",
        "All eligibility criteria met",
        "Allocated to Active",
    ]


def test_a_voided_record_cannot_be_voided_again(bilirubin, coordinator_a):
    void(bilirubin, by=coordinator_a, reason="Entered on the wrong visit")
    with pytest.raises(ValidationError, match="already voided"):
        void(bilirubin, by=coordinator_a, reason="Again")
    bilirubin.refresh_from_db()
    assert bilirubin.void_reason == "Entered on the wrong visit"
    assert bilirubin.history.count() == 2


def test_voiding_keeps_the_recorded_value(bilirubin, coordinator_a):
    void(bilirubin, by=coordinator_a, reason="Duplicate entry")
    assert LabValue.objects.get(pk=bilirubin.pk).value == 42


def test_clinical_records_cannot_be_deleted_in_bulk_either(bilirubin):
    with pytest.raises(PermissionError):
        LabValue.objects.filter(pk=bilirubin.pk).delete()
    assert LabValue.objects.filter(pk=bilirubin.pk).exists()


def test_text_with_a_nul_character_is_refused_by_the_service_on_its_field(allocated_subject, coordinator_a):
    """Forms refuse NUL already; scripts and imports reach the services directly, and PostgreSQL cannot store it."""
    with pytest.raises(ValidationError) as refused:
        events.record_medication(subject=allocated_subject, by=coordinator_a, drug="Ente\x00cavir", dose="0.5 mg")
    assert "NUL character" in refused.value.message_dict["drug"][0]
    assert not ConcomitantMedication.objects.exists()


def test_a_change_reason_with_a_nul_character_is_refused(bilirubin, coordinator_a):
    with pytest.raises(ValidationError) as refused:
        labs.change_lab_value(bilirubin, value="40.0", by=coordinator_a, reason="typo\x00")
    assert "NUL character" in refused.value.message_dict["reason"][0]
    assert LabValue.objects.get(pk=bilirubin.pk).value == 42


def test_a_long_reason_is_kept_whole_in_the_history(allocated_subject, coordinator_a):
    # simple_history's default reason column is varchar(100): PostgreSQL refused longer reasons with a 500.
    from datetime import date as day

    from ecrf.services import subjects as subject_services

    cause = "Hepatorenal syndrome after variceal bleeding, " * 9
    subject_services.record_death(allocated_subject, death_date=day(2021, 2, 1), cause=cause, by=coordinator_a)
    assert allocated_subject.history.latest().history_change_reason == f"Death recorded: {cause.strip()}"
