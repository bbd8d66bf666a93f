"""A visit's own form and its clinical status: recorded, refused with reasons, corrected with a reason."""

import pytest
from django.urls import reverse

from ecrf.models import ClinicalStatus, VisitStatus


def url_of(subject, name, visit_code="W0"):
    return reverse(name, args=[subject.study.code, subject.pk, visit_code])


def submit(client, url, data):
    """Post the form as a browser would: with the version the page was served with."""
    version = client.get(url).context["form"]["version"].value()
    return client.post(url, {**data, "version": version})


def visit(subject, code="W0"):
    return subject.visits.get(definition__code=code)


def test_recording_a_visit_marks_it_done_with_its_date_and_weight(coordinator, allocated_subject):
    response = submit(
        coordinator, url_of(allocated_subject, "ecrf:visit_form"), {"actual_date": "2021-01-02", "weight_kg": "61.5"}
    )
    assert response.status_code == 302
    w0 = visit(allocated_subject)
    assert (w0.status, str(w0.actual_date), w0.weight_kg) == (VisitStatus.DONE, "2021-01-02", 61.5)


def test_a_visit_before_consent_is_refused_on_the_date_field(coordinator, allocated_subject):
    page = submit(
        coordinator, url_of(allocated_subject, "ecrf:visit_form"), {"actual_date": "2020-12-01"}
    ).content.decode()
    assert "A visit cannot take place before consent." in page
    assert visit(allocated_subject).status == VisitStatus.PLANNED


def test_a_missed_visit_needs_its_reason(coordinator, allocated_subject):
    url = url_of(allocated_subject, "ecrf:visit_form", "W4")
    assert "Say why the visit did not take place." in submit(coordinator, url, {"missed": "on"}).content.decode()
    submit(coordinator, url, {"missed": "on", "missed_reason": "Admitted elsewhere"})
    w4 = visit(allocated_subject, "W4")
    assert (w4.status, w4.missed_reason) == (VisitStatus.MISSED, "Admitted elsewhere")


def test_correcting_a_recorded_visit_needs_a_reason(coordinator, allocated_subject):
    url = url_of(allocated_subject, "ecrf:visit_form", "W4")  # window 2021-01-27 to 2021-02-02
    submit(coordinator, url, {"actual_date": "2021-01-30"})
    assert "Give a reason" in submit(coordinator, url, {"actual_date": "2021-01-31"}).content.decode()
    submit(coordinator, url, {"actual_date": "2021-01-31", "reason": "Wrong day typed"})
    w4 = visit(allocated_subject, "W4")
    assert str(w4.actual_date) == "2021-01-31"
    assert w4.history.first().history_change_reason == "Wrong day typed"


def test_a_form_the_protocol_does_not_ask_for_at_this_visit_is_404(coordinator, allocated_subject):
    assert coordinator.get(url_of(allocated_subject, "ecrf:clinical_status", "SCR")).status_code == 404


CLINICAL = {
    "assessed_on": "2021-01-02",
    "ascites": "mild",
    "encephalopathy_grade": "1",
    "temperature_c": "37.6",
    "fever": "on",
}


@pytest.fixture
def with_status_form(allocated_subject):
    """W0 of the test protocol asks for the clinical status in these tests."""
    definition = visit(allocated_subject).definition
    definition.forms = [*definition.forms, "clinical_status"]
    definition.save()
    return allocated_subject


def test_the_clinical_status_is_recorded(coordinator, with_status_form):
    assert submit(coordinator, url_of(with_status_form, "ecrf:clinical_status"), CLINICAL).status_code == 302
    status = ClinicalStatus.objects.get()
    assert (status.ascites, status.encephalopathy_grade, status.fever, status.dialysis_past_week) == (
        "mild",
        1,
        True,
        False,
    )


def test_an_impossible_temperature_is_refused(coordinator, with_status_form):
    page = submit(coordinator, url_of(with_status_form, "ecrf:clinical_status"), {**CLINICAL, "temperature_c": "48"})
    assert "Body temperature must be between 30 and 45" in page.content.decode()
    assert not ClinicalStatus.objects.exists()


def test_changing_the_clinical_status_needs_a_reason(coordinator, with_status_form):
    url = url_of(with_status_form, "ecrf:clinical_status")
    submit(coordinator, url, CLINICAL)
    assert "Give a reason" in submit(coordinator, url, {**CLINICAL, "ascites": "none"}).content.decode()
    submit(coordinator, url, {**CLINICAL, "ascites": "none", "reason": "Ultrasound showed none"})
    assert ClinicalStatus.objects.get().ascites == "none"


def test_the_visit_history_shows_each_field_change_with_who_and_why(coordinator, with_status_form, coordinator_a):
    subject = with_status_form
    submit(coordinator, url_of(subject, "ecrf:visit_form"), {"actual_date": "2021-01-02"})
    corrected = {"actual_date": "2021-01-03", "reason": "Wrong day typed", "window_reason": "Came a day late"}
    submit(coordinator, url_of(subject, "ecrf:visit_form"), corrected)
    submit(coordinator, url_of(subject, "ecrf:clinical_status"), CLINICAL)
    submit(
        coordinator, url_of(subject, "ecrf:clinical_status"), {**CLINICAL, "ascites": "none", "reason": "Ultrasound"}
    )
    page = coordinator.get(url_of(subject, "ecrf:visit_history")).content.decode()
    assert "<td>actual date</td><td>2021-01-02</td><td>2021-01-03</td><td>Wrong day typed</td>" in page
    assert "<td>ascites</td><td>Mild</td><td>None</td><td>Ultrasound</td>" in page
    assert coordinator_a.username in page


def test_the_visit_history_shows_the_values_a_form_was_created_with(coordinator, with_status_form):
    submit(coordinator, url_of(with_status_form, "ecrf:clinical_status"), CLINICAL)
    page = coordinator.get(url_of(with_status_form, "ecrf:visit_history")).content.decode()
    assert "<td>Clinical status</td><td>ascites</td><td></td><td>Mild</td><td>Created</td>" in page
    assert f"<td>assessed on</td><td></td><td>{CLINICAL['assessed_on']}</td>" in page
    assert "<td>created</td>" not in page


def test_a_stale_clinical_status_form_shows_the_saved_and_the_typed_values(coordinator, with_status_form):
    url = url_of(with_status_form, "ecrf:clinical_status")
    submit(coordinator, url, CLINICAL)
    stale = coordinator.get(url).context["form"]["version"].value()
    submit(coordinator, url, {**CLINICAL, "ascites": "none", "reason": "Ultrasound"})
    response = coordinator.post(url, {**CLINICAL, "ascites": "moderate_severe", "reason": "Tense", "version": stale})
    assert response.status_code == 409
    assert "<td>Ascites</td><td>None</td><td>Moderate to severe</td>" in response.content.decode()


def test_a_stale_visit_form_is_refused_and_nothing_is_overwritten(coordinator, allocated_subject):
    url = url_of(allocated_subject, "ecrf:visit_form")
    stale = coordinator.get(url).context["form"]["version"].value()
    submit(coordinator, url, {"actual_date": "2021-01-02"})
    page = coordinator.post(url, {"actual_date": "2021-01-05", "reason": "late", "version": stale}).content.decode()
    assert "Someone saved this form after you opened it" in page
    assert "<td>Visit date</td><td>2021-01-02</td><td>2021-01-05</td>" in page
    assert str(visit(allocated_subject).actual_date) == "2021-01-02"


def test_a_new_clinical_status_form_has_no_radio_ticked(coordinator, with_status_form):
    page = coordinator.get(url_of(with_status_form, "ecrf:clinical_status")).content.decode()
    assert 'name="ascites" value="mild"' in page
    assert 'name="ascites" value=""' not in page
    assert "checked" not in page


def test_an_unanswered_ascites_is_still_required(coordinator, with_status_form):
    page = submit(coordinator, url_of(with_status_form, "ecrf:clinical_status"), {**CLINICAL, "ascites": ""})
    assert "This field is required." in page.content.decode()
