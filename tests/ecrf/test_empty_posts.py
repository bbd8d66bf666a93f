"""A POST with an empty body, or to a signed visit, is a refused form on the page: never an error page, never a save."""

from django.urls import reverse

from ecrf.models import AdverseEvent, ClinicalStatus, ConcomitantMedication, InfusionEvent, LabValue, Visit
from ecrf.services import signatures
from tests.factories import TEST_PASSWORD

CLINICAL_MODELS = (AdverseEvent, ClinicalStatus, ConcomitantMedication, InfusionEvent, LabValue, Visit)


def history_rows() -> int:
    return sum(model.history.count() for model in CLINICAL_MODELS)


def form_urls(subject, records):
    code, pk = subject.study.code, subject.pk
    return [
        reverse("ecrf:visit_form", args=[code, pk, "W0"]),
        reverse("ecrf:clinical_status", args=[code, pk, "W0"]),
        reverse("ecrf:lab_panel", args=[code, pk, "W0"]),
        reverse("ecrf:eligibility", args=[code, pk]),
        reverse("ecrf:adverse_event_edit", args=[code, pk, records["adverse-event"].pk]),
        reverse("ecrf:medication_edit", args=[code, pk, records["medication"].pk]),
        reverse("ecrf:infusion_edit", args=[code, pk, records["infusion"].pk]),
        reverse("ecrf:adverse_event", args=[code, pk]),
        reverse("ecrf:medication", args=[code, pk]),
        reverse("ecrf:infusion", args=[code, pk, "W0"]),
    ]


def test_an_empty_post_to_any_form_is_refused_on_the_page_and_saves_nothing(coordinator, allocated_subject, recorded):
    before = history_rows()
    for url in form_urls(allocated_subject, recorded):
        response = coordinator.post(url, {})
        assert response.status_code in (200, 409), url
    assert history_rows() == before


def test_a_post_to_a_signed_visit_is_refused_with_the_signature_named(
    coordinator, allocated_subject, recorded, investigator_a, check_password
):
    signatures.sign_visit(recorded["visit"], by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    before = history_rows()
    url = reverse("ecrf:lab_panel", args=[allocated_subject.study.code, allocated_subject.pk, "W0"])
    version = coordinator.get(url).context["form"]["version"].value()
    response = coordinator.post(
        url, {"drawn_at": "2021-01-02T08:00", "version": version, "value_TBIL": "99", "reason": "Late"}
    )
    assert response.status_code == 200
    assert "read-only until a data manager unlocks them" in response.content.decode()
    assert history_rows() == before
