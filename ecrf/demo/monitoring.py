"""A little monitoring in the demo, so its query list, audit flags and verification progress are not empty: a
query answered and closed, one still open on a lab value, and one subject's critical forms verified."""

from ecrf.models import LabValue, Subject
from ecrf.services import queries, verification


def seed_monitoring(study, users) -> int:
    """Queries and verifications on the study's first subjects with labs; returns the queries raised."""
    monitor, manager, coordinator = users["monitor"], users["datamanager"], users["coordinator"]
    first = None
    for subject in Subject.objects.filter(study=study).order_by("subject_code")[:20]:  # the first with a bilirubin
        first = (
            LabValue.objects.active()
            .filter(draw__visit__subject=subject, analyte__code="TBIL", value__isnull=False)
            .select_related("draw__visit", "analyte")
            .order_by("draw__drawn_at")
            .first()
        )
        if first is not None:
            break
    if first is None:
        return 0
    queries.raise_query(
        record=first, field_name="value", text="The lab report of this draw reads a different bilirubin.", by=monitor
    )
    visit = first.draw.visit
    dated = queries.raise_query(
        record=visit, field_name="actual_date", text="The clinic note is dated a day later.", by=manager
    )
    queries.answer_query(
        query=dated, text="The note was written at discharge; the visit date is right.", by=coordinator
    )
    queries.close_query(query=dated, text="Accepted.", by=manager)
    _verify_critical(Subject.objects.get(pk=subject.pk), monitor)
    return 2


def _verify_critical(subject: Subject, monitor) -> None:
    verification.verify(record=subject, by=monitor)
    for answer in subject.eligibility_answers.active():
        verification.verify(record=answer, by=monitor)
    for infusion in subject.infusions.active():
        verification.verify(record=infusion, by=monitor)
