"""Infusions (with product release QC), adverse events, HCC diagnoses and medication."""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import (
    AdverseEvent,
    ConcomitantMedication,
    EndpointEvent,
    FormSubmission,
    InfusionEvent,
    ReleaseResult,
    Subject,
    SubjectStatus,
    Visit,
)
from ecrf.selectors.history import infusion_version, record_version
from ecrf.services import subjects as lifecycle
from ecrf.services.audit import save_record
from ecrf.services.dates import MEDICATION_HISTORY_DAYS, check_clinical_date, check_clinical_dates
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.schedule import sync_schedule
from ecrf.services.signatures import ensure_unlocked


@transaction.atomic
def record_infusion(
    *,
    subject: Subject,
    visit: Visit | None,
    number: int,
    started_at: datetime,
    body_weight_kg,
    release: dict[str, object] | None = None,
    release_deviation: str = "",
    dose_deviation: str = "",
    by,
    **details,
) -> InfusionEvent:
    """Record an infusion; ``release`` maps criterion code to a measured number or, for "negative" criteria,
    True when negative. A product failing or missing a release criterion is refused unless a protocol deviation
    is recorded in ``release_deviation``; a product dose (cells/kg) outside the protocol's tolerance around the
    target is refused unless a dose deviation is recorded in ``dose_deviation``.
    """
    lock_subject(subject, visit)
    check_clinical_date(subject.study, "started_at", started_at)
    if InfusionEvent.objects.active().filter(subject=subject, number=number).exists():
        raise ValidationError({"number": f"Infusion {number} of {subject.subject_code} is already recorded."})
    allocation = getattr(subject, "allocation", None)
    if allocation is None or not allocation.arm.gets_infusions:
        raise ValidationError({"number": "This subject's arm receives no infusions."})
    if visit is not None:
        ensure_unlocked(visit)
    _check_infusion_date(subject, allocation, started_at.date())
    plan = getattr(subject.protocol, "infusion_plan", None)
    if plan is None or not 1 <= number <= plan.count:
        raise ValidationError({"number": f"The protocol plans infusions 1 to {plan.count if plan else 0}."})
    infusion = InfusionEvent(
        subject=subject,
        visit=visit,
        number=number,
        started_at=started_at,
        body_weight_kg=body_weight_kg,
        is_placebo=allocation.arm.infusions == "placebo",
        release_deviation=release_deviation.strip(),
        dose_deviation=dose_deviation.strip(),
        **details,
    )
    save_record(infusion, by=by)
    _record_product(infusion, plan, release or {}, by=by)
    if subject.status == SubjectStatus.ALLOCATED:
        lifecycle.start_treatment(subject, by=by)
    if number == 1:
        sync_schedule(subject, by=by)
    return infusion


def _check_infusion_date(subject: Subject, allocation, day) -> None:
    if day < allocation.allocation_date:
        raise ValidationError({"started_at": "An infusion cannot come before the subject's allocation."})
    if subject.death_date and day > subject.death_date:
        raise ValidationError({"started_at": "An infusion cannot come after the subject's death."})


def _record_product(infusion: InfusionEvent, plan, release: dict[str, object], *, by) -> None:
    """Check the saved product's dose and record its release, refusing both problems at once; the caller's
    transaction rolls the infusion and its results back. The dose is checked on the saved, cleaned numbers.
    """
    problems = _dose_problems(infusion, plan)
    if not infusion.is_placebo:
        try:
            _record_release(infusion, release, by=by)
        except ValidationError as error:
            problems.update(error.message_dict)
    if problems:
        raise ValidationError(problems)


def _dose_problems(infusion: InfusionEvent, plan) -> dict[str, str]:
    """A product dose outside the protocol's range, without a dose deviation, as an error on the cells given."""
    dose = infusion.cells_per_kg
    if plan is None or infusion.is_placebo or dose is None or infusion.dose_deviation or plan.dose_in_range(dose):
        return {}
    return {
        "total_cells": f"{dose / 1e6:.2f} × 10⁶ cells/kg is outside the protocol's {plan.dose_range_label}: "
        "record a dose deviation to give it."
    }


def check_release_codes(release: dict[str, object], criteria) -> None:
    """Refuse release results for criteria the protocol does not have."""
    unknown = sorted(set(release) - {c.code for c in criteria})
    if unknown:
        raise ValidationError({"release": f"Not release criteria of this protocol: {', '.join(unknown)}."})


def release_reading(criterion, measured) -> tuple[float | None, bool | None]:
    """(value, negative) as stored for a measured result: a number, or for a "negative" criterion True/False."""
    value = None if criterion.kind == "negative" or measured is None else float(measured)
    negative = measured if criterion.kind == "negative" else None
    return value, negative


def _record_release(infusion: InfusionEvent, release: dict[str, object], *, by) -> None:
    criteria = list(infusion.subject.protocol.release_criteria.order_by("order"))
    check_release_codes(release, criteria)
    failing = []
    for criterion in criteria:
        measured = release.get(criterion.code)
        value, negative = release_reading(criterion, measured)
        passed = criterion.passes(value=value, negative=negative)
        if not passed:
            failing.append(str(criterion) if measured is not None else f"{criterion.label}: no result")
        save_record(
            ReleaseResult(infusion=infusion, criterion=criterion, value=value, negative=negative, passed=passed), by=by
        )
    if failing and not infusion.release_deviation:
        raise release_failure(failing)


def release_failure(failing: list[str]) -> ValidationError:
    """A product failing release given without a protocol deviation: what is refused, and why."""
    return ValidationError(
        {
            "release_deviation": "The product fails release ("
            + "; ".join(failing)
            + "): record a protocol deviation to give it."
        }
    )


def claim_submission(token, *, by) -> None:
    """Record a form's one-time token; a second use raises IntegrityError and the caller's transaction rolls back."""
    if token is not None:
        FormSubmission.objects.create(token=token, user=by)


@transaction.atomic
def record_adverse_event(*, subject: Subject, by, submission=None, **facts) -> AdverseEvent:
    lock_subject(subject)
    _check_dates(subject, facts)
    claim_submission(submission, by=by)
    return save_record(AdverseEvent(subject=subject, **facts), by=by)


@transaction.atomic
def record_hcc(*, subject: Subject, diagnosis_date: date, method: str, details: str = "", by) -> EndpointEvent:
    lock_subject(subject)
    check_clinical_date(subject.study, "diagnosis_date", diagnosis_date)
    if EndpointEvent.objects.active().filter(subject=subject, kind="hcc").exists():
        raise ValidationError({"diagnosis_date": f"An HCC diagnosis of {subject.subject_code} is already recorded."})
    if subject.consent_date is None or diagnosis_date < subject.consent_date:
        raise ValidationError({"diagnosis_date": "An HCC diagnosis is recorded from consent on."})
    if subject.death_date and diagnosis_date > subject.death_date:
        raise ValidationError({"diagnosis_date": "An HCC diagnosis cannot come after death."})
    event = EndpointEvent(subject=subject, kind="hcc", event_date=diagnosis_date, method=method, details=details)
    return save_record(event, by=by)


@transaction.atomic
def record_medication(*, subject: Subject, by, submission=None, **facts) -> ConcomitantMedication:
    lock_subject(subject)
    _check_dates(subject, facts)
    claim_submission(submission, by=by)
    return save_record(ConcomitantMedication(subject=subject, **facts), by=by)


def _lock_current(record, expected_version: int | None) -> None:
    """Lock the record's subject, re-read the record, and refuse a form opened at another version of it."""
    lock_subject(record.subject, record)
    check_version(record_version(record), expected_version)


# The clinical dates a record's facts may carry; a medication's start date may predate the study.
DATE_FIELDS = ("onset_at", "resolved_at", "sae_reported_on", "start_date", "stop_date")


def _check_dates(subject: Subject, facts: dict) -> None:
    dates = {field: facts[field] for field in DATE_FIELDS if field in facts}
    check_clinical_dates(subject.study, dates, start_date=MEDICATION_HISTORY_DAYS)


def _change(record, facts: dict, *, by, reason: str):
    for field, value in facts.items():
        setattr(record, field, value)
    return save_record(record, by=by, reason=reason)


@transaction.atomic
def change_adverse_event(
    event: AdverseEvent, *, by, reason: str, expected_version: int | None = None, **facts
) -> AdverseEvent:
    """Correct or complete an adverse event (e.g. its resolution); the reason and old values go to its history."""
    _lock_current(event, expected_version)
    _check_dates(event.subject, facts)
    return _change(event, facts, by=by, reason=reason)


@transaction.atomic
def change_medication(
    medication: ConcomitantMedication, *, by, reason: str, expected_version: int | None = None, **facts
) -> ConcomitantMedication:
    """Correct a medication or record its stop date; the reason and old values go to its history."""
    _lock_current(medication, expected_version)
    _check_dates(medication.subject, facts)
    return _change(medication, facts, by=by, reason=reason)


CORRECTABLE_INFUSION_FIELDS = {
    "started_at",
    "body_weight_kg",
    "volume_ml",
    "observation_hours",
    "reaction",
    "product_lot",
    "passage",
    "total_cells",
    "dose_deviation",
}


@transaction.atomic
def change_infusion(
    infusion: InfusionEvent, *, by, reason: str, expected_version: int | None = None, **details
) -> InfusionEvent:
    """Correct an infusion's time, weight, product or observation (its release results, the product's QC record,
    are corrected by ``ecrf.services.release``). Refused at a signed visit; the dose per kg follows the corrected
    cells and weight, and a product dose outside the protocol's range is refused unless the infusion has a dose
    deviation.
    """
    unknown = set(details) - CORRECTABLE_INFUSION_FIELDS
    if unknown:
        raise ValueError(f"Not correctable on an infusion: {', '.join(sorted(unknown))}")
    lock_subject(infusion.subject, infusion)
    check_version(infusion_version(infusion), expected_version)
    if infusion.visit is not None:
        ensure_unlocked(infusion.visit)
    if "started_at" in details:
        check_clinical_date(infusion.subject.study, "started_at", details["started_at"])
        _check_infusion_date(infusion.subject, infusion.subject.allocation, details["started_at"].date())
    if "dose_deviation" in details:
        details["dose_deviation"] = details["dose_deviation"].strip()
    _change(infusion, details, by=by, reason=reason)
    problems = _dose_problems(infusion, getattr(infusion.subject.protocol, "infusion_plan", None))
    if problems:
        raise ValidationError(problems)
    return infusion
