"""Where a monitored record is shown: the URL of the form page that holds it."""

from django.urls import reverse

# Records shown on their own page, by model label: the page's URL name (its arguments: study, subject, record).
OWN_PAGE = {
    "ecrf.infusionevent": "ecrf:infusion_edit",
    "ecrf.adverseevent": "ecrf:adverse_event_edit",
    "ecrf.concomitantmedication": "ecrf:medication_edit",
}
# Records shown on their visit's page: the page's URL name (its arguments: study, subject, visit code).
VISIT_PAGE = {
    "ecrf.visit": "ecrf:visit_form",
    "ecrf.clinicalstatus": "ecrf:clinical_status",
    "ecrf.labdraw": "ecrf:lab_panel",
}


def form_url(study_code: str, record) -> str:
    """The page of the form ``record`` is entered on (the subject's page when it has no form of its own)."""
    if record is None:
        return ""
    label = record._meta.label_lower
    if label == "ecrf.labvalue":
        record, label = record.draw, "ecrf.labdraw"
    elif label == "ecrf.releaseresult":
        record, label = record.infusion, "ecrf.infusionevent"
    if label == "ecrf.subject":
        return reverse("ecrf:subject_detail", args=[study_code, record.pk])
    if label in VISIT_PAGE:
        visit = record if label == "ecrf.visit" else record.visit
        return reverse(VISIT_PAGE[label], args=[study_code, visit.subject_id, visit.definition.code])
    if label in OWN_PAGE:
        return reverse(OWN_PAGE[label], args=[study_code, record.subject_id, record.pk])
    if label == "ecrf.eligibilityanswer":
        return reverse("ecrf:eligibility", args=[study_code, record.subject_id])
    return reverse("ecrf:subject_detail", args=[study_code, record.subject_id])
