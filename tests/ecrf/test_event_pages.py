"""Infusion, adverse event and medication forms on the subject's pages."""

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from ecrf.models import AdverseEvent, ConcomitantMedication, InfusionEvent, ReleaseResult
from ecrf.services import events


def infusion_url(subject, visit_code="W0"):
    return reverse("ecrf:infusion", args=[subject.study.code, subject.pk, visit_code])


INFUSION = {
    "started_at": "2021-01-02T09:30",
    "body_weight_kg": "60.0",
    "product_lot": "UC-21-001",
    "passage": "4",
    "total_cells": "3e7",
    "observation_hours": "6",
}


def test_an_infusion_is_recorded_with_its_dose_per_kg(coordinator, allocated_subject):
    response = coordinator.post(
        infusion_url(allocated_subject), {**INFUSION, "release_viab": "91", "release_myco": "on"}
    )
    assert response.status_code == 302
    infusion = InfusionEvent.objects.get()
    assert (infusion.total_cells, infusion.cells_per_kg) == (30_000_000, 500_000)
    page = coordinator.get(infusion_url(allocated_subject)).content.decode()
    assert "3.0 × 10⁷ cells at 60.0 kg = <strong>5.0 × 10⁵ cells/kg</strong>" in page


def test_a_product_failing_release_is_blocked_without_a_deviation(coordinator, allocated_subject):
    page = coordinator.post(infusion_url(allocated_subject), {**INFUSION, "release_viab": "70", "release_myco": "on"})
    assert "fails release (Viability &gt; 80 %)" in page.content.decode()
    assert not InfusionEvent.objects.exists()
    assert not ReleaseResult.objects.exists()
    coordinator.post(
        infusion_url(allocated_subject),
        {**INFUSION, "release_viab": "70", "release_myco": "on", "release_deviation": "PD-07 approved by the PI"},
    )
    assert InfusionEvent.objects.get().release_deviation == "PD-07 approved by the PI"


def test_a_dose_outside_the_protocols_range_is_refused_on_the_cells_field(coordinator, allocated_subject):
    three_times = {**INFUSION, "release_viab": "91", "release_myco": "on", "body_weight_kg": "58", "total_cells": "9e7"}
    form = coordinator.post(infusion_url(allocated_subject), three_times).context["form"]
    assert form.errors["total_cells"] == [
        "1.55 × 10⁶ cells/kg is outside the protocol's 0.40–0.60 × 10⁶ cells/kg (0.5 × 10⁶ ± 20 %): "
        "record a dose deviation to give it."
    ]
    assert not InfusionEvent.objects.exists()
    response = coordinator.post(infusion_url(allocated_subject), {**three_times, "dose_deviation": "PD-11: PI"})
    assert response.status_code == 302
    assert InfusionEvent.objects.get().dose_deviation == "PD-11: PI"
    page = coordinator.get(infusion_url(allocated_subject)).content.decode()
    assert 'class="alert alert-warning" role="status" data-testid="infusion-given"' in page
    assert "Dose deviation: PD-11: PI" in page


def test_a_dose_within_the_range_is_shown_as_given(coordinator, allocated_subject):
    coordinator.post(infusion_url(allocated_subject), {**INFUSION, "release_viab": "91", "release_myco": "on"})
    page = coordinator.get(infusion_url(allocated_subject)).content.decode()
    assert 'class="alert alert-success" role="status" data-testid="infusion-given"' in page
    assert "outside the protocol" not in page


def test_no_infusion_form_at_a_visit_without_one(coordinator, allocated_subject):
    assert coordinator.get(infusion_url(allocated_subject, "W4")).status_code == 404


AE = {
    "submission": "0b8e7a52-6c1f-4f6a-9f55-1f0a4c3d2e10",
    "term": "Fever",
    "onset_at": "2021-01-02T13:00",
    "resolved_at": "2021-01-02T20:00",
    "grade": "1",
    "relatedness": "probable",
    "outcome": "recovered",
    "action_taken": "none",
}


def test_an_adverse_event_is_recorded_and_listed(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    assert coordinator.post(url, AE).status_code == 302
    subject_page = coordinator.get(
        reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk])
    )
    assert "Fever" in subject_page.content.decode()


def test_an_adverse_event_resolving_before_onset_is_refused_on_the_page(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    page = coordinator.post(url, {**AE, "resolved_at": "2021-01-01T10:00"}).content.decode()
    assert "Resolution cannot come before onset." in page
    assert not AdverseEvent.objects.exists()


def test_a_serious_event_needs_its_criterion_and_report_date(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    page = coordinator.post(url, {**AE, "serious": "on", "grade": "3"}).content.decode()
    assert "A serious adverse event needs its seriousness criterion and report date." in page
    assert not AdverseEvent.objects.exists()


def test_medication_stopping_before_it_starts_is_refused(coordinator, allocated_subject):
    url = reverse("ecrf:medication", args=[allocated_subject.study.code, allocated_subject.pk])
    med = {
        "submission": str(uuid.uuid4()),
        "drug": "Entecavir",
        "dose": "0.5 mg daily",
        "start_date": "2021-01-02",
        "stop_date": "2020-12-01",
    }
    assert "Stop date cannot come before start date." in coordinator.post(url, med).content.decode()
    assert coordinator.post(url, {**med, "stop_date": ""}).status_code == 302
    assert ConcomitantMedication.objects.get().drug == "Entecavir"


def test_the_subject_page_query_count_does_not_grow_with_records(
    coordinator, allocated_subject, coordinator_a, django_assert_max_num_queries
):
    url = reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk])
    events.record_adverse_event(
        subject=allocated_subject,
        by=coordinator_a,
        term="Nausea",
        onset_at=datetime(2021, 1, 3, 10, tzinfo=UTC),
        grade=1,
        relatedness="unlikely",
        outcome="recovered",
    )
    with django_assert_max_num_queries(38) as baseline:  # 8 of them monitoring
        coordinator.get(url)
    for n in range(5):
        events.record_adverse_event(
            subject=allocated_subject,
            by=coordinator_a,
            term=f"Rash {n}",
            onset_at=datetime(2021, 1, 4, 10, tzinfo=UTC),
            grade=1,
            relatedness="possible",
            outcome="recovering",
        )
        events.record_medication(
            subject=allocated_subject, by=coordinator_a, drug=f"Drug {n}", dose="1 mg", start_date="2021-01-02"
        )
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        coordinator.get(url)


def test_the_same_adverse_event_form_submitted_twice_saves_once(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    first, second = coordinator.post(url, AE), coordinator.post(url, AE, follow=True)
    assert first.status_code == 302
    assert "nothing was saved twice" in second.content.decode()
    assert AdverseEvent.objects.count() == 1


def test_a_fresh_form_has_its_own_token(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    first = coordinator.get(url).context["form"]["submission"].value()
    assert first != coordinator.get(url).context["form"]["submission"].value()


@pytest.fixture
def fever(coordinator, allocated_subject):
    coordinator.post(reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk]), AE)
    event = AdverseEvent.objects.get()
    return event, reverse(
        "ecrf:adverse_event_edit", args=[allocated_subject.study.code, allocated_subject.pk, event.pk]
    )


def edit(client, edit_url, **changes):
    form = client.get(edit_url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    data["onset_at"], data["resolved_at"] = AE["onset_at"], AE["resolved_at"]
    return client.post(edit_url, {**data, **changes})


def test_correcting_an_adverse_event_needs_a_reason_and_keeps_the_old_value(coordinator, fever):
    event, edit_url = fever
    assert "Give a reason" in edit(coordinator, edit_url, grade="2").content.decode()
    assert AdverseEvent.objects.get().grade == 1
    assert edit(coordinator, edit_url, grade="2", reason="Needed paracetamol: grade 2").status_code == 302
    latest, before = AdverseEvent.objects.get().history.all()[:2]
    assert (before.grade, latest.grade, latest.history_change_reason) == (1, 2, "Needed paracetamol: grade 2")


def test_a_stale_adverse_event_form_is_refused(coordinator, fever):
    event, edit_url = fever
    stale = coordinator.get(edit_url).context["form"]["version"].value()
    edit(coordinator, edit_url, grade="2", reason="First")
    page = coordinator.post(edit_url, {**AE, "grade": "3", "reason": "Second", "version": stale}).content.decode()
    assert "Someone saved this adverse event after you opened it" in page
    assert AdverseEvent.objects.get().grade == 2
    assert "<td>CTCAE grade</td><td>Grade 2</td><td>Grade 3</td>" in page


def test_the_subject_page_title_names_subject_and_study_and_sections_appear_once(coordinator, allocated_subject):
    url = reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk])
    page = coordinator.get(url).content.decode()
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.startswith("001 · TRIAL")
    assert "<section" not in title
    assert page.count('id="ae-heading"') == 1


def ae_form(client, subject) -> str:
    return client.get(reverse("ecrf:adverse_event", args=[subject.study.code, subject.pk])).content.decode()


def test_the_adverse_event_form_labels_the_sae_report_date_in_words(coordinator, allocated_subject):
    page = ae_form(coordinator, allocated_subject)
    assert re.search(r">\s*SAE reported on\s*</label>", page)
    assert "Sae reported on" not in page
    assert "Only for a serious event." in page  # shown without script
    assert "js/sae-details" in page
    assert "<script>" not in page


def test_a_new_adverse_event_form_has_no_radio_ticked_and_no_blank_radio(coordinator, allocated_subject):
    page = ae_form(coordinator, allocated_subject)
    assert 'name="seriousness" value="hospitalisation"' in page
    assert "checked" not in page
    assert 'name="seriousness" value=""' not in page


def test_sae_details_on_an_event_that_is_not_serious_are_refused(coordinator, allocated_subject):
    url = reverse("ecrf:adverse_event", args=[allocated_subject.study.code, allocated_subject.pk])
    page = coordinator.post(url, {**AE, "seriousness": "hospitalisation"}).content.decode()
    assert "Only a serious event has SAE details" in page
    assert not AdverseEvent.objects.exists()


def test_a_control_arm_saline_infusion_is_named_so(coordinator, allocated_subject):
    # The fixture's arm A gives product; turned to placebo here to stand for a saline control arm.
    allocated_subject.allocation.arm.__class__.objects.filter(pk=allocated_subject.allocation.arm_id).update(
        infusions="placebo"
    )
    subject_page = coordinator.get(
        reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk])
    ).content.decode()
    assert "Saline infusion 1 (control)</a>" in subject_page
    infusion_page = coordinator.get(infusion_url(allocated_subject)).content.decode()
    assert '<h1 class="h3">Saline infusion 1 (control) ·' in infusion_page
    assert "Protocol: saline, the volume of the product, no cells" in infusion_page
    assert "cells/kg (±" not in infusion_page


def test_a_product_infusion_keeps_its_plain_name(coordinator, allocated_subject):
    page = coordinator.get(infusion_url(allocated_subject)).content.decode()
    assert '<h1 class="h3">Infusion 1 ·' in page
