"""Screening in the browser's pages: register, eligibility checklist, consent, screen failure."""

import pytest
from django.urls import reverse

from ecrf.models import EligibilityAnswer, Subject, SubjectStatus
from ecrf.roles import Role
from ecrf.services import subjects
from tests.factories import MembershipFactory


@pytest.fixture
def site_staff(protocol, site_a, coordinator_a, monitor):
    MembershipFactory(user=coordinator_a, study=protocol.study, role=Role.COORDINATOR, site=site_a)
    MembershipFactory(user=monitor, study=protocol.study, role=Role.MONITOR, site=None)
    return protocol.study


@pytest.fixture
def coordinator(client, coordinator_a, site_staff):
    client.force_login(coordinator_a)
    return client


REGISTRATION = {"subject_code": "TR-001", "screening_date": "2021-01-04", "sex": "female", "age_years": "44"}


def register_url(study):
    return reverse("ecrf:register_subject", args=[study.code, "SITE-A"])


def test_a_coordinator_registers_a_subject_and_lands_on_its_page(coordinator, site_staff):
    response = coordinator.post(register_url(site_staff), REGISTRATION)
    subject = Subject.objects.get(subject_code="TR-001")
    assert response.url == reverse("ecrf:subject_detail", args=[site_staff.code, subject.pk])
    assert subject.status == SubjectStatus.SCREENED


def test_registering_the_same_code_twice_creates_one_subject(coordinator, site_staff):
    coordinator.post(register_url(site_staff), REGISTRATION)
    again = coordinator.post(register_url(site_staff), REGISTRATION)
    assert again.status_code == 200
    assert again.context["form"].errors["subject_code"] == ["TR-001 is already used in TRIAL."]
    assert Subject.objects.count() == 1


def test_a_bad_age_is_shown_on_its_field_and_what_was_typed_is_kept(coordinator, site_staff):
    page = coordinator.post(register_url(site_staff), {**REGISTRATION, "age_years": "140"}).content.decode()
    assert "Ensure this value is less than or equal to 120." in page
    assert 'value="TR-001"' in page
    assert not Subject.objects.exists()


def test_a_subject_code_that_reads_as_a_formula_is_refused_on_the_page(coordinator, site_staff):
    page = coordinator.post(register_url(site_staff), {**REGISTRATION, "subject_code": '=HYPERLINK("x")'})
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors["subject_code"] == ["A code may not start with '=': spreadsheets would run it as a formula."]
    assert not Subject.objects.exists()


def test_a_monitor_cannot_register_subjects(client, monitor, site_staff):
    client.force_login(monitor)
    assert client.get(register_url(site_staff)).status_code == 403


def test_a_partial_checklist_is_saved_and_a_complete_one_makes_the_subject_eligible(
    coordinator, site_staff, new_subject
):
    subject = new_subject()
    subject_consent = reverse("ecrf:consent", args=[site_staff.code, subject.pk])
    coordinator.post(subject_consent, {"consent_date": "2021-01-01", "consent_version": "1.0"})
    url = reverse("ecrf:eligibility", args=[site_staff.code, subject.pk])
    coordinator.post(url, {"I1": "yes", "version": opened_version(coordinator, url)})
    assert EligibilityAnswer.objects.filter(subject=subject).count() == 1
    coordinator.post(url, {"I1": "yes", "E1": "no", "version": opened_version(coordinator, url)})
    subject.refresh_from_db()
    assert subject.status == SubjectStatus.ELIGIBLE


def test_changing_a_saved_answer_asks_for_a_reason(coordinator, site_staff, new_subject):
    subject = new_subject(consented=True)
    url = reverse("ecrf:eligibility", args=[site_staff.code, subject.pk])
    version = opened_version(coordinator, url)
    page = coordinator.post(url, {"I1": "yes", "E1": "yes", "version": version}).content.decode()
    assert "Give a reason for this change" in page
    assert EligibilityAnswer.objects.get(subject=subject, criterion__code="E1").answer is False
    coordinator.post(url, {"I1": "yes", "E1": "yes", "reason": "Diabetes in the GP letter", "version": version})
    assert EligibilityAnswer.objects.get(subject=subject, criterion__code="E1").answer is True


def test_a_checklist_opened_before_someone_elses_save_is_refused(coordinator, site_staff, new_subject):
    subject = new_subject(consented=True)
    url = reverse("ecrf:eligibility", args=[site_staff.code, subject.pk])
    stale = opened_version(coordinator, url)
    coordinator.post(url, {"I1": "yes", "E1": "yes", "reason": "Diabetes in the GP letter", "version": stale})
    refused = coordinator.post(url, {"I1": "no", "E1": "no", "reason": "Other reading", "version": stale})
    assert refused.status_code == 409
    assert "Someone saved this checklist after you opened it" in refused.content.decode()
    assert EligibilityAnswer.objects.get(subject=subject, criterion__code="E1").answer is True


def test_a_stale_checklist_keeps_the_typed_answers_and_shows_the_saved_ones_beside_them(
    coordinator, site_staff, new_subject, coordinator_a
):
    subject = new_subject(consented=True)
    url = reverse("ecrf:eligibility", args=[site_staff.code, subject.pk])
    stale = opened_version(coordinator, url)
    subjects.record_eligibility(subject, answers={"E1": True}, by=coordinator_a, reason="Diabetes in the GP letter")
    refused = coordinator.post(url, {"I1": "no", "E1": "no", "reason": "Other reading", "version": stale})
    assert refused.status_code == 409
    form = refused.context["form"]
    assert (form["I1"].value(), form["E1"].value(), form["reason"].value()) == ("no", "no", "Other reading")
    page = refused.content.decode()
    assert f"Saved by {coordinator_a} at" in page
    assert "<td>I1: Adult</td><td>Yes</td><td>No</td>" in page
    assert "<td>E1: Diabetes</td><td>Yes</td><td>No</td>" in page
    answers = EligibilityAnswer.objects.filter(subject=subject).order_by("criterion__code")
    assert [(a.criterion.code, a.answer) for a in answers] == [("E1", True), ("I1", True)]


def opened_version(client, url) -> int:
    """The version a form carries when a person opens it."""
    return client.get(url).context["form"]["version"].value()


def test_consent_before_screening_is_refused_with_the_reason(coordinator, site_staff, new_subject):
    subject = new_subject()
    url = reverse("ecrf:consent", args=[site_staff.code, subject.pk])
    page = coordinator.post(url, {"consent_date": "2020-12-01", "consent_version": "1.0"}).content.decode()
    assert "Consent cannot come before screening." in page
    subject.refresh_from_db()
    assert subject.consent_date is None


def test_a_screen_failure_needs_its_reason(coordinator, site_staff, new_subject):
    subject = new_subject()
    url = reverse("ecrf:screen_failure", args=[site_staff.code, subject.pk])
    assert "This field is required" in coordinator.post(url, {"reason": ""}).content.decode()
    coordinator.post(url, {"reason": "Refused to take part"})
    subject.refresh_from_db()
    assert (subject.status, subject.screen_failure_reason) == (SubjectStatus.SCREEN_FAILED, "Refused to take part")


def test_the_checklist_groups_criteria_and_shows_each_qualifying_answer(coordinator, site_staff, new_subject):
    subject = new_subject()
    page = coordinator.get(reverse("ecrf:eligibility", args=[site_staff.code, subject.pk])).content.decode()
    inclusion, exclusion = page.index("Inclusion criteria"), page.index("Exclusion criteria")
    assert inclusion < page.index("I1: Adult") < exclusion < page.index("E1: Diabetes")
    assert "Qualifying answer: Yes" in page
    assert "Qualifying answer: No" in page
    assert "checked" not in page


def test_the_subject_page_shows_the_checklist_grouped_with_answers(coordinator, site_staff, new_subject):
    subject = new_subject(consented=True)
    page = coordinator.get(reverse("ecrf:subject_detail", args=[site_staff.code, subject.pk])).content.decode()
    checklist = page[page.index('data-testid="checklist"') :]
    assert checklist.index("Inclusion criteria") < checklist.index("Adult") < checklist.index("Exclusion criteria")
    assert 'Diabetes · answer No <span class="text-body-secondary">(qualifying: No)</span>' in checklist


def test_dates_on_the_subject_page_are_iso(coordinator, site_staff, new_subject):
    subject = new_subject(consented=True)
    page = coordinator.get(reverse("ecrf:subject_detail", args=[site_staff.code, subject.pk])).content.decode()
    assert "2021-01-01 · protocol 1.0" in page
    assert "Jan. 1, 2021" not in page
    assert "1 January 2021" not in page
