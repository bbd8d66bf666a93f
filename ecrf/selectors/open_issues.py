"""What has been entered on visit forms, and what a coordinator still owes on each subject: forms missing or
partial at held visits, serious adverse events still open. Read for a whole site in a fixed number of queries,
whatever the number of subjects and visits; the subject page's calendar reads the same records for one subject.
"""

from dataclasses import dataclass

from django.db.models import Count, Q

from ecrf.models import AdverseEvent, ClinicalStatus, InfusionEvent, LabDraw, VisitStatus

FORM_NAMES = {"clinical_status": "clinical status", "labs": "labs", "infusion": "infusion"}
PROBLEMS = {"not_started": "missing", "incomplete": "partial"}


def entered_records(subject_ids: list[int]) -> dict:
    """Per visit: lab values entered and expected, clinical statuses and infusions recorded."""
    draws = (
        LabDraw.objects.active()
        .filter(visit__subject_id__in=subject_ids)
        .annotate(
            entered=Count("values", filter=Q(values__is_voided=False), distinct=True),
            expected=Count("panel__analytes", distinct=True),
        )
        .values_list("visit_id", "entered", "expected")
    )
    in_subjects = Q(visit__subject_id__in=subject_ids)
    return {
        "labs": {visit_id: (entered, expected) for visit_id, entered, expected in draws},
        "clinical_status": set(ClinicalStatus.objects.active().filter(in_subjects).values_list("visit_id", flat=True)),
        "infusion": set(InfusionEvent.objects.active().filter(in_subjects).values_list("visit_id", flat=True)),
    }


def visit_form_state(form: str, visit, records: dict) -> str:
    """ "not_started", "incomplete" or "complete" for the labs, clinical status or infusion form of a visit."""
    if form == "labs":
        entered, expected = records["labs"].get(visit.pk, (0, 0))
        return "not_started" if not entered else ("complete" if entered >= expected else "incomplete")
    return "complete" if visit.pk in records[form] else "not_started"


@dataclass(frozen=True)
class OpenIssue:
    """A form missing or partial at a held visit, or (``visit_id`` None) an unresolved serious adverse event."""

    text: str  # "W12: labs partial", "SAE Pneumonia not resolved"
    visit_id: int | None = None

    @property
    def is_sae(self) -> bool:
        return self.visit_id is None


def open_issues(subjects) -> dict[int, list[OpenIssue]]:
    """Subject pk -> what is open, forms in schedule order then SAEs; ``subjects`` carry ``calendar`` visits."""
    subject_ids = [subject.pk for subject in subjects]
    records = entered_records(subject_ids)
    issues = {pk: [] for pk in subject_ids}
    for subject in subjects:
        gets_infusions = hasattr(subject, "allocation") and subject.allocation.arm.gets_infusions
        for visit in subject.calendar:
            if visit.status != VisitStatus.DONE:
                continue
            for form in visit.definition.forms:
                if form not in FORM_NAMES or (form == "infusion" and not gets_infusions):
                    continue
                problem = PROBLEMS.get(visit_form_state(form, visit, records))
                if problem:
                    text = f"{visit.definition.code}: {FORM_NAMES[form]} {problem}"
                    issues[subject.pk].append(OpenIssue(text, visit.pk))
    open_saes = (
        AdverseEvent.objects.active()
        .filter(subject_id__in=subject_ids, serious=True, resolved_at__isnull=True)
        .order_by("onset_at")
        .values_list("subject_id", "term")
    )
    for subject_id, term in open_saes:
        issues[subject_id].append(OpenIssue(f"SAE {term} not resolved"))
    return issues
