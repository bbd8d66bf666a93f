"""The services that take values recorded elsewhere (an import) instead of setting them: each checks what it keeps."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from ecrf.models import Allocation, AllocationMethod, ProtocolDeviation, VisitSignature
from ecrf.roles import Role
from ecrf.services import audit, schedule, signatures, subjects, visits
from ecrf.services.randomisation import generate_list
from tests.factories import MembershipFactory

RECORDED = dict(allocation_date=date(2021, 1, 2), stratum="", reason="")


def test_a_randomised_allocation_keeps_its_code_from_outside_the_list(
    ready_to_randomise, randomised_protocol, coordinator_a
):
    subject = ready_to_randomise("R-001")
    arm = randomised_protocol.arms.first()
    allocation = subjects.allocate_as_recorded(
        subject, arm=arm, method=AllocationMethod.RANDOMISED, code="LEGACY-17", by=coordinator_a, **RECORDED
    )
    assert (allocation.randomisation_code, allocation.slot, allocation.allocation_date) == (
        "LEGACY-17",
        None,
        date(2021, 1, 2),
    )
    assert subject.visits.exists()


def test_a_code_of_the_list_takes_its_slot_and_must_have_its_arm(
    ready_to_randomise, randomised_protocol, data_manager, coordinator_a
):
    randomisation_list = generate_list(study=randomised_protocol.study, slots_per_stratum=4, by=data_manager)
    slot = randomisation_list.slots.select_related("arm").first()
    other_arm = randomised_protocol.arms.exclude(pk=slot.arm_id).first()
    subject = ready_to_randomise("R-002")
    with pytest.raises(ValidationError, match="another arm"):
        subjects.allocate_as_recorded(
            subject, arm=other_arm, method=AllocationMethod.RANDOMISED, code=slot.code, by=coordinator_a, **RECORDED
        )
    allocation = subjects.allocate_as_recorded(
        subject, arm=slot.arm, method=AllocationMethod.RANDOMISED, code=slot.code, by=coordinator_a, **RECORDED
    )
    assert allocation.slot == slot


def test_an_assigned_allocation_is_refused_in_a_randomised_study(
    ready_to_randomise, randomised_protocol, coordinator_a
):
    subject = ready_to_randomise("R-003")
    with pytest.raises(ValidationError, match="is randomised"):
        subjects.allocate_as_recorded(
            subject,
            arm=randomised_protocol.arms.first(),
            method=AllocationMethod.ASSIGNED,
            code="",
            by=coordinator_a,
            **{**RECORDED, "reason": "Chosen"},
        )
    assert not Allocation.objects.exists()


def test_planned_dates_are_kept_only_with_the_protocols_window(allocated_subject, coordinator_a):
    w4 = allocated_subject.visits.get(definition__code="W4")
    with pytest.raises(ValidationError, match="window around 2021-02-01 is 2021-01-29 to 2021-02-04"):
        schedule.keep_planned_dates(
            w4,
            planned_date=date(2021, 2, 1),
            window_start=date(2021, 1, 20),
            window_end=date(2021, 2, 4),
            by=coordinator_a,
        )
    schedule.keep_planned_dates(
        w4, planned_date=date(2021, 2, 1), window_start=date(2021, 1, 29), window_end=date(2021, 2, 4), by=coordinator_a
    )
    w4.refresh_from_db()
    assert w4.planned_date == date(2021, 2, 1)


def test_an_out_of_window_deviation_keeps_the_time_it_was_detected(allocated_subject, coordinator_a):
    w4 = allocated_subject.visits.get(definition__code="W4")
    detected = datetime(2021, 3, 1, 9, tzinfo=UTC)
    late = date(2021, 2, 20)
    visits.record_visit(w4, actual_date=late, window_reason="Late", deviation_detected_at=detected, by=coordinator_a)
    assert ProtocolDeviation.objects.get(visit=w4).detected_at == detected


def test_a_signature_from_elsewhere_needs_an_investigator_of_the_study(
    allocated_subject, coordinator_a, investigator_a
):
    visit = allocated_subject.visits.get(definition__code="SCR")
    visits.record_visit(visit, actual_date=date(2021, 1, 1), by=coordinator_a)
    signed_at = datetime(2021, 1, 3, 10, tzinfo=UTC)
    with pytest.raises(ValidationError, match="is not an investigator"):
        signatures.record_signature(
            visit, signed_by=coordinator_a, signed_at=signed_at, meaning="Reviewed", by=coordinator_a
        )
    MembershipFactory(
        user=investigator_a, study=allocated_subject.study, role=Role.INVESTIGATOR, site=allocated_subject.site
    )
    signature = signatures.record_signature(
        visit, signed_by=investigator_a, signed_at=signed_at, meaning="Reviewed", by=coordinator_a
    )
    assert (signature.signed_by, signature.signed_at) == (investigator_a, signed_at)
    assert VisitSignature.objects.count() == 1


def test_withdrawal_is_the_last_contact_with_the_subject(allocated_subject, coordinator_a):
    subjects.withdraw(allocated_subject, withdrawal_date=date(2021, 3, 1), reason="Moved away", by=coordinator_a)
    allocated_subject.refresh_from_db()
    assert allocated_subject.last_contact_date == date(2021, 3, 1)


def test_within_recorded_from_every_history_reason_names_the_source(new_subject, coordinator_a):
    with audit.recorded_from("imported from bundle X"):
        subject = new_subject("009")
    assert subject.history.get().history_change_reason == "Created (imported from bundle X)"
