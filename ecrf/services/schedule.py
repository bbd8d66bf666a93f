"""A subject's visit calendar, generated from the protocol's schedule and the subject's anchor events."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import Subject, Visit, VisitDefinition, VisitStatus
from ecrf.services.audit import create_records, save_record
from ecrf.services.locking import lock_subject

# The field each anchor's date is entered in, so a refusal shows on it.
ANCHOR_FIELDS = {"consent": "consent_date", "allocation": "allocation_date", "first_infusion": "started_at"}


def anchor_dates(subject: Subject) -> dict[str, date]:
    """The dates a visit may be anchored on, as far as they are known.

    Until the first infusion is given (and for an arm without infusions) its anchor is the allocation date:
    the protocol expects treatment to start on allocation, and the calendar is re-planned when it does.
    """
    anchors = {}
    if subject.consent_date:
        anchors["consent"] = subject.consent_date
    allocation = getattr(subject, "allocation", None)
    if allocation is not None:
        anchors["allocation"] = allocation.allocation_date
        first = subject.infusions.active().order_by("number").first()
        anchors["first_infusion"] = first.started_at.date() if first else allocation.allocation_date
    return anchors


def planned_window(definition: VisitDefinition, anchor: date) -> tuple[date, date, date]:
    """(planned date, window start, window end) of a visit whose anchor event fell on ``anchor``."""
    planned = anchor + timedelta(days=definition.offset_days)
    return (
        planned,
        planned - timedelta(days=definition.window_before_days),
        planned + timedelta(days=definition.window_after_days),
    )


@transaction.atomic
def sync_schedule(subject: Subject, *, by) -> list[Visit]:
    """Create the visits whose anchor is now known and re-plan planned ones whose anchor moved.

    Visits already done or missed keep their dates: the record of what happened is never rewritten.
    """
    anchors = anchor_dates(subject)
    existing = {v.definition_id: v for v in subject.visits.active()}
    definitions = VisitDefinition.objects.filter(protocol=subject.protocol).order_by("order")
    new = []
    for definition in definitions:
        if definition.anchor not in anchors:
            continue
        try:
            planned, start, end = planned_window(definition, anchors[definition.anchor])
        except OverflowError:  # the services bound every date, so only a date set around them gets here
            field = ANCHOR_FIELDS[definition.anchor]
            raise ValidationError({field: f"Visit {definition.code} would fall outside the calendar."}) from None
        visit = existing.get(definition.pk)
        if visit is None:
            window = {"planned_date": planned, "window_start": start, "window_end": end}
            new.append(Visit(subject=subject, definition=definition, **window))
            continue
        if visit.status != VisitStatus.PLANNED or visit.planned_date == planned:
            continue
        visit.planned_date, visit.window_start, visit.window_end = planned, start, end
        reason = f"Re-planned: {definition.anchor} date is now {anchors[definition.anchor]}"
        existing[definition.pk] = save_record(visit, by=by, reason=reason)
    existing.update({visit.definition_id: visit for visit in create_records(new, by=by)})
    return sorted(existing.values(), key=lambda v: (v.planned_date, v.definition.order))


@transaction.atomic
def keep_planned_dates(visit: Visit, *, planned_date: date, window_start: date, window_end: date, by) -> Visit:
    """Give the visit the planned date and window it was scheduled with elsewhere (an import from another
    system or a backup), where the calendar was planned before this system saw the visit's anchor event.

    The window must be the protocol's around that date; the date is kept as the record of what was planned.
    """
    lock_subject(visit.subject, visit)
    if visit.status != VisitStatus.PLANNED:
        raise ValidationError({"planned_date": "A visit keeps the dates it was recorded with once done or missed."})
    expected = (
        planned_date - timedelta(days=visit.definition.window_before_days),
        planned_date + timedelta(days=visit.definition.window_after_days),
    )
    if (window_start, window_end) != expected:
        window = f"{expected[0]} to {expected[1]}"
        raise ValidationError({"window_start": f"{visit.definition.code}'s window around {planned_date} is {window}."})
    visit.planned_date, visit.window_start, visit.window_end = planned_date, window_start, window_end
    return save_record(visit, by=by, reason=f"Planned as scheduled at the source: {planned_date}")
