"""Reads for signing: what a visit's signature would cover (its values) and which of its forms are not complete.

The completeness is the calendar's per-form state (``worklist.form_state``), read in a fixed number of queries
for all of a subject's visits at once.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch

from ecrf.models import (
    ClinicalStatus,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
    VisitSignature,
    VisitStatus,
)
from ecrf.selectors.labs import clinical_status_of, draw_of
from ecrf.selectors.worklist import TRACKED_FORMS, form_records, form_state

FORM_NAMES = {
    "visit": "visit",
    "clinical_status": "clinical status",
    "labs": "labs",
    "infusion": "infusion",
    "consent": "consent",
    "eligibility": "eligibility checklist",
}


def missing_forms(subject: Subject, visits) -> dict[int, list[str]]:
    """Visit pk -> the forms its definition asks for that are not complete, in words ("labs partial (1 of 2
    analytes)", "clinical status not started"); an empty list for a complete visit.

    Forms with no per-visit record (vitals on the visit form, adverse events, medication, endpoints) have no
    state to check. The infusion form counts only for an arm that receives infusions.
    """
    records = form_records(subject)
    gets_infusions = hasattr(subject, "allocation") and subject.allocation.arm.gets_infusions
    missing = {}
    for visit in visits:
        missing[visit.pk] = [
            _described(form, state, visit, records)
            for form in visit.definition.forms
            if form in TRACKED_FORMS and (form != "infusion" or gets_infusions)
            for state in [form_state(form, visit, subject, records)]
            if state != "complete"
        ]
    return missing


def _described(form: str, state: str, visit: Visit, records: dict) -> str:
    if state == "incomplete" and form == "labs":
        entered, expected = records["labs"][visit.pk]
        return f"labs partial ({entered} of {expected} analytes)"
    return f"{FORM_NAMES[form]} {'partial' if state == 'incomplete' else 'not started'}"


def incompleteness(visit: Visit, missing: list[str]) -> str:
    """The refusal for a visit with forms missing, naming them."""
    return f"{visit.definition.code} cannot be signed as complete: {', '.join(missing)}."


@dataclass(frozen=True)
class LabLine:
    label: str
    shown: str
    unit: str


@dataclass(frozen=True)
class VisitReview:
    """What a signature of the visit covers: its values as entered, and what is still missing."""

    visit: Visit
    clinical_status: object | None
    drawn_at: object | None
    labs: list[LabLine]
    infusions: list[InfusionEvent]
    missing: list[str] = field(default_factory=list)


def visit_review(subject: Subject, visit: Visit) -> VisitReview:
    """The visit's date and weight, clinical status, lab values with units and infusion, in about ten queries."""
    draw = draw_of(visit)
    values = {}
    analytes = []
    if draw is not None:
        values = {v.analyte_id: v for v in draw.values.active()}
        analytes = list(draw.panel.analytes.order_by("order"))
    labs = [LabLine(a.label, _shown(values.get(a.pk), a), a.unit) for a in analytes]
    infusions = list(InfusionEvent.objects.active().filter(visit=visit).order_by("number"))
    return VisitReview(
        visit=visit,
        clinical_status=clinical_status_of(visit),
        drawn_at=draw.drawn_at if draw else None,
        labs=labs,
        infusions=infusions,
        missing=missing_forms(subject, [visit])[visit.pk],
    )


def _shown(value, analyte) -> str:
    if value is None:
        return "not entered"
    if value.not_done:
        return f"not done: {value.not_done_reason}"
    return f"{value.value:.{analyte.decimals}f}"


def unsigned_done_visits(subject: Subject) -> list[Visit]:
    """The subject's visits that took place and have no standing signature, in schedule order, each with
    ``missing`` (the forms not complete, in words) and ``content_version`` (what the signer reviews)."""
    standing = VisitSignature.objects.active()
    visits = [
        visit
        for visit in subject.visits.active()
        .filter(status=VisitStatus.DONE)
        .select_related("definition")
        .prefetch_related(Prefetch("signatures", queryset=standing, to_attr="standing_signatures"))
        .order_by("definition__order")
        if not visit.standing_signatures
    ]
    missing, versions = missing_forms(subject, visits), content_versions(visits)
    for visit in visits:
        visit.missing, visit.content_version = missing[visit.pk], versions[visit.pk]
    return visits


# Where each history that a visit's signature covers points at the visit.
_COVERED = (
    (Visit.history, "id"),
    (ClinicalStatus.history, "visit_id"),
    (LabDraw.history, "visit_id"),
    (LabValue.history, "draw__visit_id"),
    (InfusionEvent.history, "visit_id"),
    (ReleaseResult.history, "infusion__visit_id"),
)


def content_versions(visits) -> dict[int, int]:
    """Visit pk -> a number that moves on with every save of anything the visit's signature covers (one query per
    kind of record): a signer who reviewed one version does not sign another.
    """
    pks = [visit.pk for visit in visits]
    versions = dict.fromkeys(pks, 0)
    for history, path in _COVERED:
        rows = history.filter(**{f"{path}__in": pks}).values(path).annotate(saves=Count("history_id"))
        for row in rows:
            versions[row[path]] += row["saves"]
    return versions
