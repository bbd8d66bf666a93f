"""Recording what happened at a visit: done on a date (with weight), or missed with a reason; its clinical status."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import ClinicalStatus, Visit, VisitStatus
from ecrf.selectors.history import record_version
from ecrf.services.audit import require_reason, save_record
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.signatures import ensure_unlocked


@transaction.atomic
def record_visit(
    visit: Visit, *, actual_date: date, weight_kg=None, by, reason: str = "", expected_version: int | None = None
) -> Visit:
    """Mark the visit done on ``actual_date``; changing a visit already recorded needs ``reason``."""
    lock_subject(visit.subject, visit)
    check_version(record_version(visit), expected_version)
    ensure_unlocked(visit)
    subject = visit.subject
    check_clinical_date(subject.study, "actual_date", actual_date)
    if subject.consent_date and actual_date < subject.consent_date:
        raise ValidationError({"actual_date": "A visit cannot take place before consent."})
    if subject.death_date and actual_date > subject.death_date:
        raise ValidationError({"actual_date": "A visit cannot take place after the subject's death."})
    # The visit row exists from the schedule: recording it the first time is entry, not a change.
    reason = "Visit recorded" if visit.status == VisitStatus.PLANNED else require_reason(reason)
    visit.status, visit.actual_date, visit.weight_kg, visit.missed_reason = VisitStatus.DONE, actual_date, weight_kg, ""
    return save_record(visit, by=by, reason=reason)


@transaction.atomic
def mark_missed(visit: Visit, *, reason: str, by, expected_version: int | None = None) -> Visit:
    lock_subject(visit.subject, visit)
    check_version(record_version(visit), expected_version)
    ensure_unlocked(visit)
    visit.status, visit.actual_date, visit.weight_kg = VisitStatus.MISSED, None, None
    visit.missed_reason = require_reason(reason, "missed visit")
    return save_record(visit, by=by, reason=f"Missed: {visit.missed_reason}")


@transaction.atomic
def save_clinical_status(
    visit: Visit, *, by, reason: str = "", expected_version: int | None = None, **findings
) -> ClinicalStatus:
    """Create the visit's clinical status, or change it (which needs ``reason``)."""
    lock_subject(visit.subject, visit)
    ensure_unlocked(visit)
    status = ClinicalStatus.objects.active().filter(visit=visit).first()
    check_version(record_version(status), expected_version)
    check_clinical_date(visit.subject.study, "assessed_on", findings.get("assessed_on"))
    status = status or ClinicalStatus(visit=visit)
    for field, value in findings.items():
        setattr(status, field, value)
    return save_record(status, by=by, reason=reason)
