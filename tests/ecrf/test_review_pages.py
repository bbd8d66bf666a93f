"""Monitors and data managers open every form at its own URL as a read-only review; they cannot change it."""

import pytest
from django.urls import reverse

from ecrf.models import AdverseEvent, ClinicalStatus, ConcomitantMedication, InfusionEvent, LabValue, Subject, Visit
from ecrf.roles import Role
from tests.factories import MembershipFactory

CLINICAL_MODELS = (AdverseEvent, ClinicalStatus, ConcomitantMedication, InfusionEvent, LabValue, Subject, Visit)


def history_rows() -> int:
    return sum(model.history.count() for model in CLINICAL_MODELS)


def review_urls(subject, records) -> dict[str, str]:
    code, pk = subject.study.code, subject.pk
    return {
        "visit": reverse("ecrf:visit_form", args=[code, pk, "W0"]),
        "clinical status": reverse("ecrf:clinical_status", args=[code, pk, "W0"]),
        "labs": reverse("ecrf:lab_panel", args=[code, pk, "W0"]),
        "infusion at its visit": reverse("ecrf:infusion", args=[code, pk, "W0"]),
        "infusion": reverse("ecrf:infusion_edit", args=[code, pk, records["infusion"].pk]),
        "adverse event": reverse("ecrf:adverse_event_edit", args=[code, pk, records["adverse-event"].pk]),
        "medication": reverse("ecrf:medication_edit", args=[code, pk, records["medication"].pk]),
        "eligibility": reverse("ecrf:eligibility", args=[code, pk]),
        "registration": reverse("ecrf:correct_registration", args=[code, pk]),
        "consent": reverse("ecrf:correct_consent", args=[code, pk]),
    }


@pytest.fixture(params=[Role.MONITOR, Role.DATA_MANAGER])
def reviewer(request, client, allocated_subject, monitor, data_manager):
    """A client signed in as the study's monitor, then its data manager (both study-wide)."""
    user = monitor if request.param == Role.MONITOR else data_manager
    MembershipFactory(user=user, study=allocated_subject.study, role=request.param, site=None)
    client.force_login(user)
    return client


def test_every_form_opens_read_only_for_monitors_and_data_managers(reviewer, allocated_subject, recorded):
    for name, url in review_urls(allocated_subject, recorded).items():
        response = reviewer.get(url)
        page = response.content.decode()
        assert response.status_code == 200, name
        assert 'data-testid="review-banner"' in page, name
        assert "Save" not in page.replace("saved now", ""), name


def test_a_review_shows_what_was_entered(reviewer, allocated_subject, recorded):
    urls = review_urls(allocated_subject, recorded)
    assert 'value="20.0"' in reviewer.get(urls["labs"]).content.decode()
    assert "Entecavir" in reviewer.get(urls["medication"]).content.decode()
    assert 'value="2021-01-02"' in reviewer.get(urls["visit"]).content.decode()


def test_a_reviewers_post_is_refused_and_changes_nothing(reviewer, allocated_subject, recorded):
    before = history_rows()
    for name, url in review_urls(allocated_subject, recorded).items():
        response = reviewer.post(url, {"actual_date": "2021-01-03", "reason": "Monitor's edit", "value_TBIL": "99"})
        assert response.status_code == 403, name
    assert history_rows() == before


def test_the_subject_page_links_reviewers_to_records_and_screening(reviewer, allocated_subject, recorded):
    page = reviewer.get(reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk]))
    html = page.content.decode()
    for name in ("adverse event", "medication", "eligibility", "registration", "consent"):
        assert review_urls(allocated_subject, recorded)[name] in html, name
    assert "Add adverse event" not in html


def test_a_coordinator_still_gets_the_form_to_save(coordinator, allocated_subject, recorded):
    response = coordinator.get(review_urls(allocated_subject, recorded)["labs"])
    assert 'data-testid="review-banner"' not in response.content.decode()
    assert "Save results" in response.content.decode()
