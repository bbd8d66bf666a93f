"""Queries, source data verification and locks (issue 17): every state change and refusal, through the services."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ecrf.models import AdverseEvent, DataLock, DataQuery, QueryMessage, QueryState, SourceVerification, Subject
from ecrf.services import audit, events, labs, locks, queries, subjects, verification, visits
from ecrf.services.labs import NotDone


@pytest.fixture
def tbil(recorded):
    return recorded["visit"].lab_draws.get().values.get(analyte__code="TBIL")


def test_a_query_is_raised_answered_closed_and_reopened_with_each_step_in_its_thread(tbil, monitor, coordinator_a):
    query = queries.raise_query(record=tbil, field_name="value", text="Source says 22.", by=monitor)
    assert query.state == QueryState.OPEN
    assert query.where == "001 W0 · labs · Total bilirubin (TBIL)"
    queries.answer_query(query=query, text="Checked: 20 is right.", by=coordinator_a)
    queries.close_query(query=query, by=monitor)
    queries.reopen_query(query=query, text="The lab report reads 22.", by=monitor)
    query.refresh_from_db()
    assert query.state == QueryState.REOPENED
    assert query.closed_at is None
    kinds = list(query.messages.values_list("kind", "by__username"))
    assert kinds == [
        ("raised", monitor.username),
        ("answered", coordinator_a.username),
        ("closed", monitor.username),
        ("reopened", monitor.username),
    ]
    assert query.history.count() == 4


def test_a_closed_query_cannot_be_answered_and_an_open_one_cannot_be_reopened(tbil, monitor, coordinator_a):
    query = queries.raise_query(record=tbil, text="Check the panel.", by=monitor)
    with pytest.raises(ValidationError, match="still open"):
        queries.reopen_query(query=query, text="again", by=monitor)
    queries.close_query(query=query, by=monitor)
    with pytest.raises(ValidationError, match="closed"):
        queries.answer_query(query=query, text="late", by=coordinator_a)
    assert QueryMessage.objects.count() == 2


def test_a_query_needs_text_and_a_real_field(tbil, monitor):
    with pytest.raises(ValidationError, match="Write the query"):
        queries.raise_query(record=tbil, text="  ", by=monitor)
    with pytest.raises(ValidationError, match="no field"):
        queries.raise_query(record=tbil, field_name="nonsense", text="?", by=monitor)
    assert not DataQuery.objects.exists()


def test_queries_and_messages_are_never_deleted(tbil, monitor):
    query = queries.raise_query(record=tbil, text="Check.", by=monitor)
    with pytest.raises(PermissionError):
        query.delete()
    with pytest.raises(PermissionError):
        query.messages.get().delete()


def test_a_correction_answers_the_query_on_its_field_quoting_the_reason(tbil, monitor, coordinator_a):
    query = queries.raise_query(record=tbil, field_name="value", text="Source says 22.", by=monitor)
    labs.change_lab_value(tbil, value="22", by=coordinator_a, reason="Transcription error, lab report p. 2")
    query.refresh_from_db()
    assert query.state == QueryState.ANSWERED
    last = query.messages.last()
    assert last.kind == "corrected"
    assert last.by == coordinator_a
    assert "Transcription error, lab report p. 2" in last.text


def test_a_correction_of_another_field_leaves_a_field_query_open(recorded, monitor, coordinator_a):
    event = recorded["adverse-event"]
    query = queries.raise_query(record=event, field_name="term", text="Which fever?", by=monitor)
    events.change_adverse_event(
        event, by=coordinator_a, reason="Resolved", resolved_at=datetime(2021, 1, 3, tzinfo=UTC)
    )
    query.refresh_from_db()
    assert query.state == QueryState.OPEN


def test_verification_is_cleared_by_a_correction_and_says_why(tbil, monitor, coordinator_a):
    draw = tbil.draw
    panel_mark = verification.verify(record=draw, by=monitor)
    value_mark = verification.verify(record=tbil, field_name="value", by=monitor)
    labs.change_lab_value(tbil, value="22", by=coordinator_a, reason="Lab report re-read")
    panel_mark.refresh_from_db()
    value_mark.refresh_from_db()
    assert panel_mark.cleared_at is not None
    assert value_mark.cleared_at is not None
    assert "Changed after verification by" in panel_mark.cleared_reason
    assert "Lab report re-read" in panel_mark.cleared_reason
    assert panel_mark.history.count() == 2


def test_a_change_to_an_unverified_field_keeps_a_field_verification(recorded, monitor, coordinator_a):
    event = recorded["adverse-event"]
    mark = verification.verify(record=event, field_name="term", by=monitor)
    events.change_adverse_event(
        event, by=coordinator_a, reason="Resolved", resolved_at=datetime(2021, 1, 3, tzinfo=UTC)
    )
    mark.refresh_from_db()
    assert mark.cleared_at is None


def test_a_record_is_verified_once_until_it_changes(tbil, monitor):
    verification.verify(record=tbil, by=monitor)
    with pytest.raises(ValidationError, match="Already verified"):
        verification.verify(record=tbil, by=monitor)
    assert SourceVerification.objects.count() == 1


# --- locks ----------------------------------------------------------------------------------------------------


@pytest.fixture
def locked(recorded, data_manager):
    locks.lock_subject_data(subject=recorded["subject"], by=data_manager, override="Database lock for interim")
    return recorded


def test_a_locked_subject_refuses_every_write_path(locked, coordinator_a, monitor):
    subject, visit = locked["subject"], locked["visit"]
    tbil = visit.lab_draws.get().values.get(analyte__code="TBIL")
    before = (AdverseEvent.history.count(), tbil.history.count())
    attempts = [
        lambda: visits.record_visit(visit, actual_date=date(2021, 1, 3), by=coordinator_a, reason="Typo"),
        lambda: labs.change_lab_value(tbil, value="22", by=coordinator_a, reason="Typo"),
        lambda: labs.change_lab_value(tbil, not_done=NotDone("lost"), by=coordinator_a, reason="Typo"),
        lambda: events.record_adverse_event(
            subject=subject,
            by=coordinator_a,
            term="Rash",
            onset_at=datetime(2021, 1, 3, tzinfo=UTC),
            grade=1,
            relatedness="unlikely",
            outcome="recovered",
        ),
        lambda: events.change_adverse_event(locked["adverse-event"], by=coordinator_a, reason="x", grade=2),
        lambda: audit.void(locked["medication"], by=coordinator_a, reason="Entered twice"),
        lambda: subjects.withdraw(subject, withdrawal_date=date(2021, 2, 1), reason="Moved", by=coordinator_a),
        lambda: queries.raise_query(record=tbil, text="?", by=monitor),
        lambda: verification.verify(record=tbil, by=monitor),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="locked"):
            attempt()
    assert (AdverseEvent.history.count(), tbil.history.count()) == before
    assert not DataQuery.objects.exists()
    assert not SourceVerification.objects.exists()


def test_unlocking_needs_a_reason_and_lets_corrections_through(locked, data_manager, coordinator_a):
    lock = DataLock.objects.get()
    with pytest.raises(ValidationError, match="reason"):
        locks.unlock(lock=lock, by=data_manager, reason=" ")
    locks.unlock(lock=lock, by=data_manager, reason="Query from the statistician")
    tbil = locked["visit"].lab_draws.get().values.get(analyte__code="TBIL")
    labs.change_lab_value(tbil, value="22", by=coordinator_a, reason="Typo")
    reasons = [row.history_change_reason for row in DataLock.history.order_by("history_id")]
    assert reasons[0].startswith("Locked: Override (")
    assert reasons[0].endswith("): Database lock for interim")
    assert reasons[1] == "Unlocked: Query from the statistician"


def test_an_unclean_subject_is_locked_only_with_a_stated_override(recorded, data_manager, monitor):
    queries.raise_query(record=recorded["visit"], text="Date?", by=monitor)
    with pytest.raises(ValidationError) as refused:
        locks.lock_subject_data(subject=recorded["subject"], by=data_manager, reason="Clean")
    assert "1 open query" in str(refused.value.message_dict["override"])
    assert not DataLock.objects.exists()
    lock = locks.lock_subject_data(subject=recorded["subject"], by=data_manager, override="Interim cut")
    assert lock.unclean_when_locked
    assert "1 open query" in lock.reason


def test_a_study_lock_refuses_new_subjects(protocol, site_a, coordinator_a, data_manager):
    locks.lock_study(study=protocol.study, by=data_manager, reason="Final lock")
    with pytest.raises(ValidationError, match="study's data are locked"):
        subjects.register_subject(
            study=protocol.study,
            site=site_a,
            subject_code="009",
            screening_date=date(2021, 1, 1),
            sex="male",
            age_years=40,
            by=coordinator_a,
        )
    assert not Subject.objects.exists()


def test_a_second_lock_of_the_same_subject_is_refused(locked, data_manager):
    with pytest.raises(ValidationError, match="locked"):
        locks.lock_subject_data(subject=locked["subject"], by=data_manager, override="again")
    assert DataLock.objects.count() == 1


def test_the_database_refuses_two_standing_locks_of_one_subject(locked, data_manager):
    first = DataLock.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        DataLock.objects.create(
            study=first.study, subject=first.subject, locked_by=data_manager, locked_at=first.locked_at, reason="y"
        )


def test_a_value_added_to_a_verified_panel_clears_its_verification(recorded, monitor, coordinator_a):
    w4 = recorded["subject"].visits.get(definition__code="W4")
    draw = labs.record_lab_draw(
        visit=w4, drawn_at=datetime(2021, 1, 30, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
    )
    mark = verification.verify(record=draw, by=monitor)
    labs.update_lab_draw(
        draw, drawn_at=draw.drawn_at, values={"TBIL": "20", "INR": "1.1"}, by=coordinator_a, reason="INR came back"
    )
    mark.refresh_from_db()
    assert mark.cleared_at is not None
    assert "INR came back" in mark.cleared_reason


def test_a_locked_subjects_queries_are_neither_answered_nor_reopened(recorded, monitor, coordinator_a, data_manager):
    open_one = queries.raise_query(record=recorded["visit"], text="Date?", by=monitor)
    closed = queries.close_query(
        query=queries.raise_query(record=recorded["visit"], text="Time?", by=monitor), by=monitor
    )
    locks.lock_subject_data(subject=recorded["subject"], by=data_manager, override="Interim cut")
    with pytest.raises(ValidationError, match="locked"):
        queries.answer_query(query=open_one, text="Right.", by=coordinator_a)
    with pytest.raises(ValidationError, match="locked"):
        queries.reopen_query(query=closed, text="Again", by=monitor)
    assert QueryMessage.objects.count() == 3  # two raised, one closed
