"""A subject's visit calendar, generated from the protocol's schedule and the subject's anchor events."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import Subject, Visit, VisitDefinition, VisitStatus
from ecrf.services.audit import save_record

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
            visit = Visit(subject=subject, definition=definition)
        elif visit.status != VisitStatus.PLANNED or visit.planned_date == planned:
            continue
        visit.planned_date, visit.window_start, visit.window_end = planned, start, end
        reason = "" if visit.pk is None else f"Re-planned: {definition.anchor} date is now {anchors[definition.anchor]}"
        existing[definition.pk] = save_record(visit, by=by, reason=reason)
    return sorted(existing.values(), key=lambda v: (v.planned_date, v.definition.order))
