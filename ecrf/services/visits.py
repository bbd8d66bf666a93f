"""Recording what happened at a visit: done on a date (with weight), or missed with a reason; its clinical status."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import ClinicalStatus, DeviationKind, InfusionEvent, LabDraw, ProtocolDeviation, Visit, VisitStatus
from ecrf.selectors import deviations
from ecrf.selectors.history import record_version
from ecrf.services.audit import require_reason, save_record, void
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.signatures import ensure_unlocked


@transaction.atomic
def record_visit(
    visit: Visit,
    *,
    actual_date: date,
    weight_kg=None,
    by,
    reason: str = "",
    window_reason: str = "",
    deviation_detected_at: datetime | None = None,
    expected_version: int | None = None,
) -> Visit:
    """Mark the visit done on ``actual_date``; changing a visit already recorded needs ``reason``.

    A date outside the visit's window needs ``window_reason`` (or an out-of-window deviation already standing
    for the visit) and records it as a protocol deviation, detected now (or at ``deviation_detected_at``, for a
    deviation recorded elsewhere first: an import); a correction back into the window voids that deviation.
    """
    lock_subject(visit.subject, visit)
    check_version(record_version(visit), expected_version)
    ensure_unlocked(visit)
    subject = visit.subject
    check_clinical_date(subject.study, "actual_date", actual_date)
    if subject.consent_date and actual_date < subject.consent_date:
        raise ValidationError({"actual_date": "A visit cannot take place before consent."})
    if subject.death_date and actual_date > subject.death_date:
        raise ValidationError({"actual_date": "A visit cannot take place after the subject's death."})
    standing = deviations.window_deviation_of(visit)
    window_reason = _window_reason(visit, actual_date, window_reason, standing)
    # The visit row exists from the schedule: recording it the first time is entry, not a change.
    reason = "Visit recorded" if visit.status == VisitStatus.PLANNED else require_reason(reason)
    visit.status, visit.actual_date, visit.weight_kg, visit.missed_reason = VisitStatus.DONE, actual_date, weight_kg, ""
    save_record(visit, by=by, reason=reason)
    if window_reason:
        record_window_deviation(
            visit,
            description=window_reason,
            standing=standing,
            by=by,
            reason=reason,
            detected_at=deviation_detected_at,
        )
    elif standing is not None:
        void(standing, by=by, reason="Visit date corrected into its window")
    return visit


def _window_reason(visit: Visit, actual_date: date, given: str, standing: ProtocolDeviation | None) -> str:
    """The reason a date outside the window is accepted ("" for a date inside it), or a refusal on the date."""
    if visit.window_start <= actual_date <= visit.window_end:
        return ""
    given = (given or "").strip()
    if "\x00" in given:
        raise ValidationError({"window_reason": "This text contains a NUL character, which cannot be stored."})
    given = given or (standing.description if standing is not None else "")
    if not given:
        raise ValidationError(
            {
                "actual_date": f"{actual_date} is outside {visit.definition.code}'s window {visit.window_start} "
                f"to {visit.window_end}: give the reason to record it out of window."
            }
        )
    return given


def record_window_deviation(
    visit: Visit,
    *,
    description: str,
    standing: ProtocolDeviation | None,
    by,
    reason: str,
    detected_at: datetime | None = None,
) -> ProtocolDeviation:
    """Create the visit's out-of-window deviation, or bring the standing one's reason up to date."""
    if standing is None:
        standing = ProtocolDeviation(
            subject=visit.subject,
            visit=visit,
            kind=DeviationKind.VISIT_OUT_OF_WINDOW,
            detected_at=detected_at or timezone.now(),
            recorded_by=by,
        )
    elif standing.description == description:
        return standing
    standing.description = description
    return save_record(standing, by=by, reason=reason if standing.pk else "Visit dated outside its window")


@transaction.atomic
def mark_missed(
    visit: Visit, *, reason: str, by, change_reason: str = "", expected_version: int | None = None
) -> Visit:
    """Record that the visit did not take place (``reason``). Once recorded (done or missed) the visit changes only
    with ``change_reason``; a done visit's date and weight are erased, and never while data taken at it stand.
    """
    lock_subject(visit.subject, visit)
    check_version(record_version(visit), expected_version)
    ensure_unlocked(visit)
    missed_reason = require_reason(reason, "missed visit")
    audit_reason = f"Missed: {missed_reason}"
    if visit.status == VisitStatus.DONE:
        held = data_held_at(visit)
        if held:
            raise ValidationError(
                {"missed": f"This visit took place: {', '.join(held)} recorded at it. Void those first."}
            )
        audit_reason = f"{require_reason(change_reason)} (was done on {visit.actual_date}); {audit_reason}"
    elif visit.status != VisitStatus.PLANNED:  # a missed visit's reason changed is a change too
        audit_reason = f"{require_reason(change_reason)}; {audit_reason}"
    visit.status, visit.actual_date, visit.weight_kg = VisitStatus.MISSED, None, None
    visit.missed_reason = missed_reason
    save_record(visit, by=by, reason=audit_reason)
    standing = deviations.window_deviation_of(visit)
    if standing is not None:
        void(standing, by=by, reason="Visit marked missed: it has no date out of window")
    return visit


def data_held_at(visit: Visit) -> list[str]:
    """The forms with data standing at the visit: a visit holding them took place."""
    held = {
        "lab results": LabDraw.objects.active().filter(visit=visit).exists(),
        "an infusion": InfusionEvent.objects.active().filter(visit=visit).exists(),
        "a clinical status": ClinicalStatus.objects.active().filter(visit=visit).exists(),
    }
    return [name for name, present in held.items() if present]


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
