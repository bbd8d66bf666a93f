"""Where a monitored record is shown: the URL of the form page that holds it."""

from django.urls import reverse

from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
)


def form_url(study_code: str, record) -> str:
    """The page of the form ``record`` is entered on (the subject's page when it has no form of its own)."""
    if record is None:
        return ""
    if isinstance(record, LabValue):
        record = record.draw
    if isinstance(record, ReleaseResult):
        record = record.infusion
    if isinstance(record, Subject):
        return reverse("ecrf:subject_detail", args=[study_code, record.pk])
    if isinstance(record, Visit):
        return reverse("ecrf:visit_form", args=[study_code, record.subject_id, record.definition.code])
    if isinstance(record, ClinicalStatus | LabDraw):
        name = "ecrf:lab_panel" if isinstance(record, LabDraw) else "ecrf:clinical_status"
        return reverse(name, args=[study_code, record.visit.subject_id, record.visit.definition.code])
    by_kind = {
        InfusionEvent: "ecrf:infusion_edit",
        AdverseEvent: "ecrf:adverse_event_edit",
        ConcomitantMedication: "ecrf:medication_edit",
    }
    for model, name in by_kind.items():
        if isinstance(record, model):
            return reverse(name, args=[study_code, record.subject_id, record.pk])
    if isinstance(record, EligibilityAnswer):
        return reverse("ecrf:eligibility", args=[study_code, record.subject_id])
    return reverse("ecrf:subject_detail", args=[study_code, record.subject_id])
