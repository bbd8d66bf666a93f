"""Corrections of what was recorded at registration and consent, with a reason, at any status (allocation
included): audited like any clinical change, and refused whole when they would contradict later records.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import Subject
from ecrf.selectors.history import record_version
from ecrf.selectors.protocols import protocol_in_force
from ecrf.selectors.subjects import first_dates_after_consent, screening_visit
from ecrf.services.audit import require_reason, save_record
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.schedule import sync_schedule
from ecrf.services.signatures import ensure_unlocked
from ecrf.services.subjects import rederive_eligibility

KEEP = object()  # a correction's default: the saved value stays


@transaction.atomic
def correct_registration(
    subject: Subject,
    *,
    by,
    reason: str,
    expected_version: int | None = None,
    sex=KEEP,
    age_years=KEEP,
    weight_kg=KEEP,
    screening_date=KEEP,
) -> Subject:
    """Correct the facts recorded at registration, with ``reason``; allowed at any status, allocation included.

    Saved eligibility answers tied to a corrected fact (age, sex) follow it, and eligibility is derived again.

    The screening date must stay under the protocol version the subject is registered under: one falling under
    another version means another registration, not a correction.
    """
    lock_subject(subject)
    check_version(record_version(subject), expected_version)
    reason = require_reason(reason, "correction")
    _ensure_screening_unlocked(subject)
    facts = _given(sex=sex, age_years=age_years, weight_kg=weight_kg, screening_date=screening_date)
    if "screening_date" in facts:
        _check_screening_date(subject, facts["screening_date"])
    return _save_correction(subject, facts, by=by, reason=reason)


@transaction.atomic
def correct_consent(
    subject: Subject, *, by, reason: str, expected_version: int | None = None, consent_date=KEEP, consent_version=KEEP
) -> Subject:
    """Correct the recorded consent (date, form version) with ``reason``; a moved date re-plans the schedule."""
    lock_subject(subject)
    check_version(record_version(subject), expected_version)
    reason = require_reason(reason, "correction")
    if subject.consent_date is None:
        raise ValidationError({"consent_date": "Consent is not recorded yet: record it, there is nothing to correct."})
    _ensure_screening_unlocked(subject)
    facts = _given(consent_date=consent_date, consent_version=consent_version)
    if "consent_date" in facts:
        _check_consent_date(subject, facts["consent_date"])
    if "consent_version" in facts and not (facts["consent_version"] or "").strip():
        raise ValidationError({"consent_version": "Give the version of the consent form the subject signed."})
    moved = "consent_date" in facts and facts["consent_date"] != subject.consent_date
    _save_correction(subject, facts, by=by, reason=reason)
    if moved:  # re-plans only the planned visits anchored on consent
        sync_schedule(subject, by=by)
    return subject


def _given(**values) -> dict:
    return {name: value for name, value in values.items() if value is not KEEP}


def _ensure_screening_unlocked(subject: Subject) -> None:
    """Registration and consent show on the screening visit's history: its signature covers them."""
    visit = screening_visit(subject)
    if visit is not None:
        ensure_unlocked(visit)


def _check_screening_date(subject: Subject, screening_date: date) -> None:
    check_clinical_date(subject.study, "screening_date", screening_date)
    protocol = protocol_in_force(subject.study, screening_date)
    if protocol is None:
        raise ValidationError(
            {"screening_date": f"No protocol of {subject.study.code} is in force on {screening_date}."}
        )
    if protocol.pk != subject.protocol_id:
        raise ValidationError(
            {
                "screening_date": f"On {screening_date} the subject would fall under protocol version "
                f"{protocol.version}, not {subject.protocol.version}: re-register instead."
            }
        )
    if subject.consent_date and screening_date > subject.consent_date:
        raise ValidationError({"screening_date": f"Screening cannot come after consent ({subject.consent_date})."})


def _check_consent_date(subject: Subject, consent_date: date) -> None:
    check_clinical_date(subject.study, "consent_date", consent_date)
    if consent_date < subject.screening_date:
        raise ValidationError({"consent_date": f"Consent cannot come before screening ({subject.screening_date})."})
    for what, when in first_dates_after_consent(subject):
        if consent_date > when:
            raise ValidationError({"consent_date": f"Consent cannot come after {what} ({when})."})


def _save_correction(subject: Subject, facts: dict, *, by, reason: str) -> Subject:
    changed = {name: value for name, value in facts.items() if getattr(subject, name) != value}
    if not changed:
        raise ValidationError("Nothing to correct: these are the values already saved.")
    for name, value in changed.items():
        setattr(subject, name, value)
    save_record(subject, by=by, reason=reason)
    _align_tied_answers(subject, by=by, reason=reason)
    return rederive_eligibility(subject, by=by)


def _align_tied_answers(subject: Subject, *, by, reason: str) -> None:
    """A saved answer tied to a corrected fact follows it: the answer is the fact, so it cannot stay contradicted.

    Refusing the correction instead would leave no way out: the answer cannot change first either, since the
    uncorrected fact forces it. The changed answer carries the correction's reason in its history.
    """
    facts = subject.facts()
    for record in subject.eligibility_answers.active().select_related("criterion"):
        forced = record.criterion.forced_answer(facts)
        if forced is not None and forced != record.answer:
            record.answer, record.assessed_by, record.assessed_at = forced, by, timezone.now()
            save_record(record, by=by, reason=f"Follows the corrected registration ({reason})")
