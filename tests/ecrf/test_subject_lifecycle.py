"""A subject's lifecycle: the allowed path, refused transitions leaving the row as it was, derived eligibility."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ecrf.models import Allocation, Subject, SubjectStatus
from ecrf.selectors.subjects import eligibility_of
from ecrf.services import subjects
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import changed
from tests.ecrf.unaudited import update_bypassing_audit

S = SubjectStatus


def allocate(subject, protocol, user, arm="A"):
    return subjects.assign_arm(
        subject, arm=protocol.arms.get(code=arm), allocation_date=date(2021, 1, 3), reason="Parallel design", by=user
    )


def test_the_whole_path_from_screening_to_completion(protocol, new_subject, coordinator_a):
    subject = new_subject()
    assert subject.status == S.SCREENED
    subjects.record_consent(subject, consent_date=date(2021, 1, 2), consent_version="1.0", by=coordinator_a)
    assert subject.status == S.CONSENTED
    subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=coordinator_a)
    assert subject.status == S.ELIGIBLE
    allocate(subject, protocol, coordinator_a)
    assert subject.status == S.ALLOCATED
    subjects.start_treatment(subject, by=coordinator_a)
    subjects.enter_follow_up(subject, by=coordinator_a)
    subjects.complete(subject, completion_date=date(2021, 4, 1), by=coordinator_a)
    subject.refresh_from_db()
    assert (subject.status, subject.last_contact_date) == (S.COMPLETED, date(2021, 4, 1))


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ("completed", lambda s, u: subjects.withdraw(s, withdrawal_date=date(2021, 5, 1), reason="r", by=u)),
        ("screened", lambda s, u: subjects.start_treatment(s, by=u)),
        (
            "screen_failed",
            lambda s, u: subjects.record_consent(s, consent_date=date(2021, 1, 2), consent_version="1", by=u),
        ),
        ("died", lambda s, u: subjects.lose_to_follow_up(s, last_contact_date=date(2021, 3, 1), by=u)),
    ],
)
def test_a_transition_the_lifecycle_does_not_allow_is_refused_and_nothing_changes(
    setup, action, protocol, new_subject, coordinator_a
):
    subject = _subject_in(setup, protocol, new_subject, coordinator_a)
    before = Subject.objects.filter(pk=subject.pk).values().get()
    with pytest.raises(ValidationError) as error:
        action(subject, coordinator_a)
    assert "cannot become" in str(error.value)
    assert Subject.objects.filter(pk=subject.pk).values().get() == before


def _subject_in(status, protocol, new_subject, user):
    if status == "screened":
        return new_subject()
    if status == "screen_failed":
        return subjects.mark_screen_failed(new_subject(), reason="Refused consent", by=user)
    subject = new_subject(consented=True)
    allocate(subject, protocol, user)
    if status == "died":
        return subjects.record_death(subject, death_date=date(2021, 2, 1), cause="Liver failure", by=user)
    subjects.start_treatment(subject, by=user)
    subjects.enter_follow_up(subject, by=user)
    return subjects.complete(subject, completion_date=date(2021, 4, 1), by=user)


def test_withdrawal_needs_a_reason(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    with pytest.raises(ValidationError, match="reason"):
        subjects.withdraw(subject, withdrawal_date=date(2021, 2, 1), reason=" ", by=coordinator_a)
    subject.refresh_from_db()
    assert subject.status == S.ELIGIBLE


def test_a_screen_failure_needs_a_reason(new_subject, coordinator_a):
    with pytest.raises(ValidationError, match="reason"):
        subjects.mark_screen_failed(new_subject(), reason="", by=coordinator_a)


def test_the_database_refuses_a_death_before_consent(protocol, new_subject):
    subject = new_subject(consented=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        update_bypassing_audit(Subject.objects.filter(pk=subject.pk), status=S.DIED, death_date=date(2020, 12, 1))


def test_a_death_before_consent_is_refused_with_a_message(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    with pytest.raises(ValidationError, match="Death cannot come before consent"):
        subjects.record_death(subject, death_date=date(2020, 12, 1), cause="Sepsis", by=coordinator_a)


def test_the_database_refuses_lost_to_follow_up_without_last_contact(protocol, new_subject):
    subject = new_subject(consented=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        update_bypassing_audit(Subject.objects.filter(pk=subject.pk), status=S.LOST)


def test_eligibility_is_incomplete_until_every_criterion_is_answered(protocol, new_subject, coordinator_a):
    subject = new_subject()
    subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    subjects.record_eligibility(subject, answers={"I1": True}, by=coordinator_a)
    eligibility = eligibility_of(subject)
    assert not eligibility.complete
    assert [c.code for c in eligibility.missing] == ["E1"]
    assert subject.status == S.CONSENTED


def test_allocation_is_refused_while_eligibility_is_incomplete(protocol, new_subject, coordinator_a):
    subject = new_subject()
    subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    with pytest.raises(ValidationError, match="no answer for I1, E1"):
        allocate(subject, protocol, coordinator_a)
    assert not Allocation.objects.exists()


def test_allocation_is_refused_for_a_subject_meeting_an_exclusion_criterion(protocol, new_subject, coordinator_a):
    subject = new_subject()
    subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
    subjects.record_eligibility(subject, answers={"I1": True, "E1": True}, by=coordinator_a)
    with pytest.raises(ValidationError, match="not eligible: E1 Diabetes"):
        allocate(subject, protocol, coordinator_a)
    assert not Allocation.objects.exists()


def test_allocation_needs_consent(protocol, new_subject, coordinator_a):
    subject = new_subject()
    subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=coordinator_a)
    with pytest.raises(ValidationError):
        allocate(subject, protocol, coordinator_a)
    assert not Allocation.objects.exists()


def test_changing_an_eligibility_answer_needs_a_reason(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    with pytest.raises(ValidationError, match="reason"):
        subjects.record_eligibility(subject, answers={"E1": True}, by=coordinator_a)
    subjects.record_eligibility(subject, answers={"E1": True}, by=coordinator_a, reason="Diabetes found in records")
    assert not eligibility_of(subject).met


def test_assigning_an_arm_needs_a_reason(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    with pytest.raises(ValidationError, match="reason"):
        subjects.assign_arm(
            subject, arm=protocol.arms.get(code="A"), allocation_date=date(2021, 1, 3), reason="", by=coordinator_a
        )


def test_a_randomised_protocol_refuses_assignment_by_hand(site_a, coordinator_a):
    randomised = load_protocol(changed('design = "non_random"', 'design = "randomised"'), source_name="r.toml").protocol
    randomised.study.study_sites.create(site=site_a)
    subject = subjects.register_subject(
        study=randomised.study,
        site=site_a,
        subject_code="R1",
        screening_date=date(2021, 1, 1),
        sex="female",
        age_years=40,
        by=coordinator_a,
    )
    with pytest.raises(ValidationError, match="randomised"):
        subjects.assign_arm(
            subject, arm=randomised.arms.get(code="A"), allocation_date=date(2021, 1, 3), reason="x", by=coordinator_a
        )


def test_one_allocation_per_subject_is_enforced_by_the_database(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    allocation = allocate(subject, protocol, coordinator_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Allocation.objects.create(
            subject=subject,
            arm=allocation.arm,
            method="assigned",
            allocation_date=date(2021, 1, 4),
            allocated_at=allocation.allocated_at,
            allocated_by=coordinator_a,
            reason="again",
        )


def test_registration_at_a_site_outside_the_study_is_refused(protocol, site_b, coordinator_a):
    # site_b takes part in the cast's study, not in this protocol's study.
    with pytest.raises(ValidationError, match="does not take part"):
        subjects.register_subject(
            study=protocol.study,
            site=site_b,
            subject_code="X",
            screening_date=date(2021, 1, 1),
            sex="male",
            age_years=30,
            by=coordinator_a,
        )
    assert not Subject.objects.exists()


def test_a_subject_code_that_reads_as_a_formula_is_refused_on_its_field(protocol, new_subject):
    with pytest.raises(ValidationError) as error:
        new_subject('=HYPERLINK("x")')
    assert error.value.message_dict == {
        "subject_code": ["A code may not start with '=': spreadsheets would run it as a formula."]
    }
    assert not Subject.objects.exists()


def test_a_subject_code_is_unique_in_its_study(protocol, new_subject):
    new_subject("007")
    with pytest.raises(ValidationError, match="007 is already used in TRIAL"):
        new_subject("007")
    assert Subject.objects.count() == 1


def test_registration_before_any_protocol_is_in_force_is_refused(protocol, new_subject):
    with pytest.raises(ValidationError, match="No protocol"):
        new_subject(screening_date=date(2019, 1, 1))


def test_withdrawal_needs_its_date(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    with pytest.raises(ValidationError, match="A withdrawal needs its date and reason"):
        subjects.withdraw(subject, withdrawal_date=None, reason="Moved abroad", by=coordinator_a)
    assert Subject.objects.get(pk=subject.pk).status == S.ELIGIBLE


def test_lost_to_follow_up_needs_the_last_contact_date(protocol, allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="Lost to follow-up needs the date of last contact"):
        subjects.lose_to_follow_up(allocated_subject, last_contact_date=None, by=coordinator_a)
    assert Subject.objects.get(pk=allocated_subject.pk).status == S.ALLOCATED


def test_a_death_needs_its_cause(protocol, allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="reason"):
        subjects.record_death(allocated_subject, death_date=date(2021, 2, 1), cause=" ", by=coordinator_a)
    stored = Subject.objects.get(pk=allocated_subject.pk)
    assert (stored.status, stored.death_date) == (S.ALLOCATED, None)


def test_a_subject_lost_to_follow_up_can_later_be_recorded_dead(protocol, allocated_subject, coordinator_a):
    subjects.lose_to_follow_up(allocated_subject, last_contact_date=date(2021, 3, 1), by=coordinator_a)
    subjects.record_death(allocated_subject, death_date=date(2021, 6, 1), cause="Variceal bleed", by=coordinator_a)
    stored = Subject.objects.get(pk=allocated_subject.pk)
    assert (stored.status, stored.death_date, stored.last_contact_date) == (S.DIED, date(2021, 6, 1), date(2021, 6, 1))


def test_a_death_before_the_last_contact_alive_is_refused(protocol, allocated_subject, coordinator_a):
    subjects.lose_to_follow_up(allocated_subject, last_contact_date=date(2021, 3, 1), by=coordinator_a)
    with pytest.raises(ValidationError, match="before the last contact"):
        subjects.record_death(allocated_subject, death_date=date(2021, 2, 1), cause="Sepsis", by=coordinator_a)
    assert Subject.objects.get(pk=allocated_subject.pk).status == S.LOST


def test_a_screened_subject_cannot_be_allocated(protocol, new_subject, coordinator_a):
    subject = new_subject()
    with pytest.raises(ValidationError, match="no answer for I1, E1"):
        allocate(subject, protocol, coordinator_a)
    assert Subject.objects.get(pk=subject.pk).status == S.SCREENED
    assert not Allocation.objects.exists()


def test_an_answer_changed_to_a_failing_one_no_longer_shows_the_subject_as_eligible(
    protocol, new_subject, coordinator_a
):
    subject = new_subject(consented=True)
    subjects.record_eligibility(subject, answers={"E1": True}, by=coordinator_a, reason="Diabetes in the records")
    assert Subject.objects.get(pk=subject.pk).status != S.ELIGIBLE
