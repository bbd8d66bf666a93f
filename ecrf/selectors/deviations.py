"""Reads of protocol deviations: a visit's out-of-window deviation, and a study's list for the data manager."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from ecrf.models import DeviationKind, InfusionEvent, ProtocolDeviation, Subject, Visit

RELEASE_LABEL = "Product failing release given (recorded on the infusion)"


def window_deviation_of(visit: Visit) -> ProtocolDeviation | None:
    """The visit's standing out-of-window deviation, if any."""
    return ProtocolDeviation.objects.active().filter(visit=visit, kind=DeviationKind.VISIT_OUT_OF_WINDOW).first()


@dataclass(frozen=True)
class DeviationRow:
    subject: Subject
    visit: Visit | None
    kind: str
    occurred_on: date | None
    description: str
    recorded_by: object
    recorded_at: datetime


def study_deviations(study, sites) -> list[DeviationRow]:
    """The standing deviations of the study's subjects at ``sites``, by subject and date (three queries).

    Infusions given with a product failing release carry their deviation as a text of their own
    (``InfusionEvent.release_deviation``); they are listed too, read-only, with whoever recorded the infusion.
    """
    in_scope = {"subject__study": study, "subject__site__in": sites, "subject__is_voided": False}
    recorded = (
        ProtocolDeviation.objects.active()
        .filter(**in_scope)
        .select_related("subject__site", "visit__definition", "recorded_by")
    )
    rows = [
        DeviationRow(
            subject=d.subject,
            visit=d.visit,
            kind=d.get_kind_display(),
            occurred_on=d.visit.actual_date if d.visit else None,
            description=d.description,
            recorded_by=d.recorded_by,
            recorded_at=d.detected_at,
        )
        for d in recorded
    ]
    return sorted(rows + _release_deviations(in_scope), key=_order)


def _release_deviations(in_scope: dict) -> list[DeviationRow]:
    infusions = list(
        InfusionEvent.objects.active()
        .filter(**in_scope)
        .exclude(release_deviation="")
        .select_related("subject__site", "visit__definition")
    )
    created = InfusionEvent.history.filter(id__in=[i.pk for i in infusions], history_type="+").select_related(
        "history_user"
    )
    creators = {row.id: row.history_user for row in created} if infusions else {}
    return [
        DeviationRow(
            subject=i.subject,
            visit=i.visit,
            kind=RELEASE_LABEL,
            occurred_on=timezone.localdate(i.started_at),
            description=i.release_deviation,
            recorded_by=creators.get(i.pk),
            recorded_at=i.created_at,
        )
        for i in infusions
    ]


def _order(row: DeviationRow):
    return (row.subject.subject_code, row.occurred_on or date.min, row.recorded_at)
