"""A subject's lifecycle: registration, consent, eligibility, allocation, and how participation ends.

Every status change goes through ``_move``, which refuses transitions the lifecycle does not allow. Registration
facts and consent are corrected, with a reason, by ``correct_registration`` and ``correct_consent``.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.code_patterns import format_code, sequence_of
from ecrf.models import (
    Allocation,
    AllocationMethod,
    Arm,
    EligibilityAnswer,
    Site,
    Study,
    StudySite,
    Subject,
    SubjectStatus,
)
from ecrf.selectors.protocols import protocol_in_force
from ecrf.selectors.randomisation import randomisation_slot
from ecrf.selectors.subjects import (
    eligibility_of,
    eligibility_version,
    subject_code_in_use,
)
from ecrf.services.audit import require_reason, save_record
from ecrf.services.codes import check_code
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.schedule import sync_schedule

S = SubjectStatus
_ONGOING = {S.ALLOCATED, S.ON_TREATMENT, S.FOLLOW_UP}
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.SCREENED: {S.CONSENTED, S.SCREEN_FAILED},
    S.CONSENTED: {S.ELIGIBLE, S.SCREEN_FAILED, S.WITHDRAWN, S.DIED},
    # Back to consented when a corrected answer no longer qualifies: eligibility is derived, never kept stale.
    S.ELIGIBLE: {S.ALLOCATED, S.CONSENTED, S.SCREEN_FAILED, S.WITHDRAWN, S.DIED},
    S.ALLOCATED: {S.ON_TREATMENT, S.FOLLOW_UP, S.WITHDRAWN, S.LOST, S.DIED},
    S.ON_TREATMENT: {S.FOLLOW_UP, S.WITHDRAWN, S.LOST, S.DIED},
    S.FOLLOW_UP: {S.COMPLETED, S.WITHDRAWN, S.LOST, S.DIED},
    # Vital status can still be learnt for a subject lost to follow-up (registry, family).
    S.LOST: {S.DIED},
    S.SCREEN_FAILED: set(),
    S.WITHDRAWN: set(),
    S.COMPLETED: set(),
    S.DIED: set(),
}


def _move(subject: Subject, to: str, *, by, reason: str) -> Subject:
    if to not in ALLOWED_TRANSITIONS[subject.status]:
        raise ValidationError(
            {"status": f"A subject who is {S(subject.status).label.lower()} cannot become {S(to).label.lower()}."}
        )
    subject.status = to
    return save_record(subject, by=by, reason=reason)


@transaction.atomic
def register_subject(
    *, study: Study, site: Site, subject_code: str, screening_date: date, sex: str, age_years: int, by, weight_kg=None
) -> Subject:
    """Register a screened subject under the protocol version in force on the screening date.

    The code is stored without surrounding spaces; it must fit the protocol's pattern, if any, and be new to the
    study ignoring letter case (the database's unique constraint is the backstop).
    """
    subject_code = subject_code.strip()
    check_code(subject_code, field="subject_code")
    if not StudySite.objects.filter(study=study, site=site).exists():
        raise ValidationError({"site": f"Site {site.code} does not take part in {study.code}."})
    check_clinical_date(study, "screening_date", screening_date)
    protocol = protocol_in_force(study, screening_date)
    if protocol is None:
        raise ValidationError({"screening_date": f"No protocol of {study.code} is in force on {screening_date}."})
    _check_new_code(subject_code, study=study, site=site, pattern=protocol.subject_code_pattern)
    subject = Subject(
        study=study,
        site=site,
        protocol=protocol,
        subject_code=subject_code,
        screening_date=screening_date,
        sex=sex,
        age_years=age_years,
        weight_kg=weight_kg,
    )
    return save_record(subject, by=by)


def _check_new_code(code: str, *, study: Study, site: Site, pattern: str) -> None:
    if pattern and sequence_of(pattern, code, site=site.code) is None:
        example = format_code(pattern, site=site.code, number=1)
        raise ValidationError({"subject_code": f"Codes in {study.code} look like {example}."})
    taken = subject_code_in_use(study, code)
    if taken is not None:
        stored = f" (as {taken})" if taken != code else ""
        raise ValidationError({"subject_code": f"{code} is already used in {study.code}{stored}."})


@transaction.atomic
def record_consent(subject: Subject, *, consent_date: date, consent_version: str, by) -> Subject:
    lock_subject(subject)
    check_clinical_date(subject.study, "consent_date", consent_date)
    subject.consent_date = consent_date
    subject.consent_version = consent_version
    _move(subject, S.CONSENTED, by=by, reason=f"Consent recorded (version {consent_version})")
    if eligibility_of(subject).met:
        _move(subject, S.ELIGIBLE, by=by, reason="All eligibility criteria met")
    sync_schedule(subject, by=by)
    return subject


@transaction.atomic
def record_eligibility(
    subject: Subject,
    *,
    answers: dict[str, bool],
    by,
    assessed_at: datetime | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Subject:
    """Store one answer per criterion code; a changed answer needs ``reason``. Eligible once all qualify.

    An answer the subject's stored facts contradict (an age item against ``age_years``) is refused, and then
    nothing is saved.
    """
    lock_subject(subject)
    check_version(eligibility_version(subject), expected_version)
    check_clinical_date(subject.study, "assessed_at", assessed_at)
    if subject.status not in (S.CONSENTED, S.ELIGIBLE, S.SCREENED):
        raise ValidationError({"status": "Eligibility is assessed during screening only."})
    criteria = {c.code: c for c in subject.protocol.eligibility_criteria.all()}
    unknown = sorted(set(answers) - set(criteria))
    if unknown:
        raise ValidationError({"answers": f"Not criteria of this protocol: {', '.join(unknown)}."})
    facts = subject.facts()
    contradicted = {code: criteria[code].contradiction(answer, facts) for code, answer in answers.items()}
    if any(contradicted.values()):  # keyed by criterion code: the checklist shows each on its item
        raise ValidationError({code: message for code, message in contradicted.items() if message})
    existing = {a.criterion.code: a for a in subject.eligibility_answers.active().select_related("criterion")}
    when = assessed_at or timezone.now()
    for code, answer in answers.items():
        record = existing.get(code) or EligibilityAnswer(subject=subject, criterion=criteria[code])
        if record.pk is not None and record.answer == answer:
            continue
        record.answer, record.assessed_by, record.assessed_at = answer, by, when
        save_record(record, by=by, reason=reason)
    return rederive_eligibility(subject, by=by)


def rederive_eligibility(subject: Subject, *, by) -> Subject:
    """Move a subject in screening to eligible or back to consented as its answers now qualify or not."""
    result = eligibility_of(subject)
    if result.met and subject.status == S.CONSENTED:
        _move(subject, S.ELIGIBLE, by=by, reason="All eligibility criteria met")
    elif not result.met and subject.status == S.ELIGIBLE:
        _move(subject, S.CONSENTED, by=by, reason=f"No longer eligible: {result.explanation()}")
    return subject


@transaction.atomic
def mark_screen_failed(subject: Subject, *, reason: str, by) -> Subject:
    lock_subject(subject)
    subject.screen_failure_reason = require_reason(reason, "screen failure")
    return _move(subject, S.SCREEN_FAILED, by=by, reason=f"Screen failure: {subject.screen_failure_reason}")


@transaction.atomic
def assign_arm(subject: Subject, *, arm: Arm, allocation_date: date, reason: str, by) -> Allocation:
    """Non-random allocation, for protocols designed that way: the investigator's choice with its reason."""
    lock_subject(subject)
    if subject.protocol.is_randomised:
        raise ValidationError({"arm": f"{subject.study.code} is randomised: allocate through the randomisation list."})
    return _allocate(
        subject,
        arm=arm,
        allocation_date=allocation_date,
        method=AllocationMethod.ASSIGNED,
        reason=require_reason(reason, "assignment"),
        by=by,
    )


def allocate_from_slot(subject: Subject, *, slot, stratum: str, by) -> Allocation:
    """Randomised allocation: the slot's arm and code, today; called by ecrf.services.randomisation.randomise."""
    return _allocate(
        subject,
        arm=slot.arm,
        allocation_date=timezone.localdate(),
        method=AllocationMethod.RANDOMISED,
        reason="",
        by=by,
        stratum=stratum,
        slot=slot,
    )


@transaction.atomic
def allocate_as_recorded(
    subject: Subject, *, arm: Arm, method: str, allocation_date: date, reason: str, stratum: str, code: str, by
) -> Allocation:
    """An allocation made before it reaches this system (an import from another system or a backup), as recorded.

    The protocol's rules apply as to any allocation. A randomised one keeps its code; where the code is a slot of
    the study's active list, that slot is the allocation's, and its arm must be the recorded one.
    """
    lock_subject(subject)
    if method == AllocationMethod.ASSIGNED:
        if subject.protocol.is_randomised:
            raise ValidationError({"method": f"{subject.study.code} is randomised: its allocations are randomised."})
        reason = require_reason(reason, "assignment")
    elif method != AllocationMethod.RANDOMISED or not subject.protocol.is_randomised:
        how = "randomisation" if subject.protocol.is_randomised else "assignment"
        raise ValidationError({"method": f"{subject.study.code} allocates by {how}."})
    slot = randomisation_slot(subject.study, code) if method == AllocationMethod.RANDOMISED else None
    if slot is not None and (slot.arm_id != arm.pk or hasattr(slot, "allocation")):
        raise ValidationError({"randomisation_code": f"{code} is a slot of the list for another arm, or already used."})
    return _allocate(
        subject,
        arm=arm,
        allocation_date=allocation_date,
        method=method,
        reason=reason,
        by=by,
        stratum=stratum,
        slot=slot,
        code=code if method == AllocationMethod.RANDOMISED else "",
    )


def _allocate(subject, *, arm, allocation_date, method, reason, by, stratum="", slot=None, code="") -> Allocation:
    if arm.protocol_id != subject.protocol_id:
        raise ValidationError({"arm": "This arm belongs to another protocol version."})
    check_clinical_date(subject.study, "allocation_date", allocation_date)
    eligibility = eligibility_of(subject)
    if subject.consent_date is None or not eligibility.met:
        raise ValidationError({"status": f"Cannot allocate: {eligibility.explanation()}"})
    if allocation_date < subject.consent_date:
        raise ValidationError({"allocation_date": "Allocation cannot come before consent."})
    allocation = Allocation(
        subject=subject,
        arm=arm,
        method=method,
        allocation_date=allocation_date,
        allocated_at=timezone.now(),
        allocated_by=by,
        reason=reason,
        stratum=stratum,
        slot=slot,
        randomisation_code=slot.code if slot else code,
    )
    save_record(allocation, by=by)
    _move(subject, S.ALLOCATED, by=by, reason=f"Allocated to {arm.label}")
    sync_schedule(subject, by=by)
    return allocation


@transaction.atomic
def start_treatment(subject: Subject, *, by) -> Subject:
    lock_subject(subject)
    return _move(subject, S.ON_TREATMENT, by=by, reason="First infusion given")


@transaction.atomic
def enter_follow_up(subject: Subject, *, by) -> Subject:
    lock_subject(subject)
    return _move(subject, S.FOLLOW_UP, by=by, reason="Treatment phase over")


@transaction.atomic
def complete(subject: Subject, *, completion_date: date, by) -> Subject:
    lock_subject(subject)
    if completion_date is None:
        raise ValidationError({"completion_date": "Give the date follow-up was completed."})
    check_clinical_date(subject.study, "completion_date", completion_date)
    subject.completion_date = subject.last_contact_date = completion_date
    return _move(subject, S.COMPLETED, by=by, reason="Follow-up completed")


@transaction.atomic
def withdraw(subject: Subject, *, withdrawal_date: date, reason: str, by) -> Subject:
    lock_subject(subject)
    check_clinical_date(subject.study, "withdrawal_date", withdrawal_date)
    subject.withdrawal_date = withdrawal_date
    # Withdrawing is a contact with the subject: the last one known, unless a later one is already recorded.
    if withdrawal_date is not None:  # no date: full_clean refuses the withdrawal on its date field
        subject.last_contact_date = max(subject.last_contact_date or withdrawal_date, withdrawal_date)
    subject.withdrawal_reason = require_reason(reason, "withdrawal")
    return _move(subject, S.WITHDRAWN, by=by, reason=f"Withdrawn: {subject.withdrawal_reason}")


@transaction.atomic
def lose_to_follow_up(subject: Subject, *, last_contact_date: date, by) -> Subject:
    lock_subject(subject)
    check_clinical_date(subject.study, "last_contact_date", last_contact_date)
    subject.last_contact_date = last_contact_date
    return _move(subject, S.LOST, by=by, reason=f"Lost to follow-up; last contact {last_contact_date}")


@transaction.atomic
def record_death(subject: Subject, *, death_date: date, cause: str, by) -> Subject:
    lock_subject(subject)
    check_clinical_date(subject.study, "death_date", death_date)
    if subject.last_contact_date and death_date < subject.last_contact_date:
        raise ValidationError({"death_date": "Death cannot come before the last contact with the subject alive."})
    subject.death_date = death_date
    subject.death_cause = require_reason(cause, "death record (cause of death)")
    subject.last_contact_date = death_date
    return _move(subject, S.DIED, by=by, reason=f"Death recorded: {subject.death_cause}")
