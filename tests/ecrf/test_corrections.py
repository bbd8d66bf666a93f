"""Correcting saved medication and infusions with a reason, and the history page of each record."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ecrf.models import ConcomitantMedication, InfusionEvent, ReleaseResult
from ecrf.roles import Role
from ecrf.services import events, labs, release, signatures, visits
from tests.conftest import give_first_infusion
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory


@pytest.fixture
def medication(allocated_subject, coordinator_a):
    return events.record_medication(
        subject=allocated_subject, by=coordinator_a, drug="Entecavir", dose="0.5 mg daily", start_date=date(2021, 1, 2)
    )


@pytest.fixture
def infusion(allocated_subject, coordinator_a):
    return give_first_infusion(allocated_subject, by=coordinator_a)


def url(name, record):
    return reverse(f"ecrf:{name}", args=[record.subject.study.code, record.subject.pk, record.pk])


def history_url(kind, record):
    return reverse("ecrf:record_history", args=[record.subject.study.code, record.subject.pk, kind, record.pk])


def form_data(client, edit_url, **changes):
    """What the browser would send back: the form as shown, with ``changes`` typed over it."""
    form = client.get(edit_url).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for name in ("started_at",):
        if name in data:
            data[name] = data[name].strftime("%Y-%m-%dT%H:%M")
    return {**{k: ("on" if v is True else v) for k, v in data.items() if v is not False}, **changes}


def test_a_medication_stop_date_is_recorded_with_a_reason(coordinator, medication):
    edit_url = url("medication_edit", medication)
    page = coordinator.post(edit_url, form_data(coordinator, edit_url, stop_date="2021-03-01")).content.decode()
    assert "Give a reason for this change" in page
    assert ConcomitantMedication.objects.get().stop_date is None
    response = coordinator.post(
        edit_url, form_data(coordinator, edit_url, stop_date="2021-03-01", reason="Stopped at W8 visit")
    )
    assert response.status_code == 302
    assert ConcomitantMedication.objects.get().stop_date == date(2021, 3, 1)
    assert ConcomitantMedication.objects.count() == 1


def test_a_stale_medication_form_is_refused(coordinator, medication):
    edit_url = url("medication_edit", medication)
    stale = form_data(coordinator, edit_url, dose="1 mg daily", reason="Dose doubled")
    coordinator.post(edit_url, form_data(coordinator, edit_url, indication="HBV", reason="Indication added"))
    response = coordinator.post(edit_url, stale)
    assert response.status_code == 409
    assert "Someone saved this medication after you opened it" in response.content.decode()
    assert ConcomitantMedication.objects.get().dose == "0.5 mg daily"


def test_a_stale_medication_form_keeps_what_was_typed_and_shows_the_saved_values(
    coordinator, medication, coordinator_a
):
    edit_url = url("medication_edit", medication)
    stale = form_data(coordinator, edit_url, dose="1 mg daily", reason="Dose doubled")
    coordinator.post(edit_url, form_data(coordinator, edit_url, dose="0.25 mg daily", reason="Halved"))
    response = coordinator.post(edit_url, stale)
    assert response.status_code == 409
    assert response.context["form"]["dose"].value() == "1 mg daily"
    page = response.content.decode()
    assert f"Saved by {coordinator_a} at" in page
    assert "<td>Dose</td><td>0.25 mg daily</td><td>1 mg daily</td>" in page


def test_an_infusion_correction_recomputes_the_dose_and_keeps_the_release_results(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    response = coordinator.post(edit_url, form_data(coordinator, edit_url, body_weight_kg="75.0", reason="Weighed"))
    assert response.status_code == 302
    corrected = InfusionEvent.objects.get()
    assert (corrected.body_weight_kg, corrected.cells_per_kg) == (75, 400_000)
    assert corrected.release_results.count() == 2


def test_the_infusion_history_shows_cells_and_dose_in_scientific_notation_with_their_units(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    coordinator.post(edit_url, form_data(coordinator, edit_url, body_weight_kg="75.0", reason="Weighed"))
    page = coordinator.get(history_url("infusion", infusion)).content.decode()
    assert "<td>total cells</td><td></td><td>3.0 × 10⁷ cells</td>" in page
    assert "<td>cells per kg</td><td>5.0 × 10⁵ cells/kg</td><td>4.0 × 10⁵ cells/kg</td><td>Weighed</td>" in page
    assert "30000000" not in page


def test_the_visit_history_shows_the_infusion_cells_with_their_unit(coordinator, infusion):
    page = coordinator.get(reverse("ecrf:visit_history", args=[infusion.subject.study.code, infusion.subject.pk, "W0"]))
    assert "<td>total cells</td><td></td><td>3.0 × 10⁷ cells</td>" in page.content.decode()


def test_a_stale_infusion_form_shows_both_cell_counts_with_their_unit(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    stale = form_data(coordinator, edit_url, total_cells="3.3e7", reason="Bag label re-read")
    coordinator.post(edit_url, form_data(coordinator, edit_url, total_cells="2.9e7", reason="QC count"))
    page = coordinator.post(edit_url, stale).content.decode()
    assert "<td>Total cells</td><td>2.9 × 10⁷ cells</td><td>3.3 × 10⁷ cells</td>" in page


def test_an_infusion_corrected_out_of_the_dose_range_needs_a_dose_deviation(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    typo = form_data(coordinator, edit_url, body_weight_kg="20.0", reason="Weighed")
    form = coordinator.post(edit_url, typo).context["form"]
    assert "1.50 × 10⁶ cells/kg is outside the protocol's" in form.errors["total_cells"][0]
    assert InfusionEvent.objects.get().body_weight_kg == 60
    assert coordinator.post(edit_url, {**typo, "dose_deviation": "PD-12: given as weighed"}).status_code == 302
    corrected = InfusionEvent.objects.get()
    assert (corrected.cells_per_kg, corrected.dose_deviation) == (1_500_000, "PD-12: given as weighed")


def viability():
    return ReleaseResult.objects.get(criterion__code="viab")


def test_a_corrected_release_result_is_saved_with_its_reason_and_shown_in_the_history(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    assert coordinator.get(edit_url).context["form"]["release_viab"].value() == 91
    changed = form_data(coordinator, edit_url, release_viab="85", reason="QC certificate re-read")
    assert coordinator.post(edit_url, changed).status_code == 302
    assert (viability().value, viability().passed) == (85, True)
    page = coordinator.get(history_url("infusion", infusion)).content.decode()
    assert "<td>release: Viability</td><td>91 % (pass)</td><td>85 % (pass)</td><td>QC certificate re-read</td>" in page
    assert InfusionEvent.history.count() == 1  # the infusion itself was not saved again


def test_a_release_correction_that_fails_the_product_without_a_deviation_changes_nothing(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    failing = form_data(coordinator, edit_url, release_viab="50", body_weight_kg="75.0", reason="Re-read")
    response = coordinator.post(edit_url, failing)
    assert "The product fails release" in response.content.decode()
    assert (viability().value, viability().passed, InfusionEvent.objects.get().body_weight_kg) == (91, True, 60)
    assert ReleaseResult.history.count() == 2


def test_a_release_correction_recomputes_pass(allocated_subject, coordinator_a):
    given = events.record_infusion(
        subject=allocated_subject,
        visit=allocated_subject.visits.get(definition__code="W0"),
        number=1,
        started_at=datetime(2021, 1, 2, 9, 30, tzinfo=UTC),
        body_weight_kg=60,
        release={"viab": 50, "myco": True},
        release_deviation="PD-3: given on sponsor approval",
        by=coordinator_a,
        product_lot="UC-21-001",
        passage=4,
        total_cells=30_000_000,
    )
    assert viability().passed is False
    release.change_release_results(given, release={"viab": 91}, by=coordinator_a, reason="Typo in the QC value")
    assert (viability().value, viability().passed) == (91, True)


def test_an_infusion_at_a_signed_visit_cannot_be_corrected(
    coordinator, infusion, investigator_a, allocated_subject, check_password
):
    MembershipFactory(
        user=investigator_a, study=allocated_subject.study, role=Role.INVESTIGATOR, site=infusion.subject.site
    )
    visits.record_visit(infusion.visit, actual_date=date(2021, 1, 2), by=investigator_a)
    drawn_at = datetime(2021, 1, 2, 8, tzinfo=UTC)
    labs.record_lab_draw(
        visit=infusion.visit, drawn_at=drawn_at, values={"TBIL": "20", "INR": "1.1"}, by=investigator_a
    )
    signatures.sign_visit(
        infusion.visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password, meaning="I approve"
    )
    edit_url = url("infusion_edit", infusion)
    page = coordinator.post(edit_url, form_data(coordinator, edit_url, body_weight_kg="75.0", reason="Weighed"))
    assert "forms are read-only until a data manager unlocks them" in page.content.decode()
    assert InfusionEvent.objects.get().body_weight_kg == 60
    with pytest.raises(ValidationError, match="read-only"):
        release.change_release_results(infusion, release={"viab": 85}, by=investigator_a, reason="Re-read")
    assert viability().value == 91


def test_the_history_page_shows_each_change_with_who_and_why(coordinator, medication):
    edit_url = url("medication_edit", medication)
    coordinator.post(edit_url, form_data(coordinator, edit_url, dose="1 mg daily", reason="Dose doubled by hepatology"))
    page = coordinator.get(history_url("medication", medication)).content.decode()
    assert "0.5 mg daily" in page
    assert "1 mg daily" in page
    assert "Dose doubled by hepatology" in page
    assert "coord_a" in page


def test_records_of_another_site_are_not_found(client, medication, allocated_subject, site_b):
    stranger = UserFactory(username="coord_b2")
    MembershipFactory(user=stranger, study=allocated_subject.study, role=Role.COORDINATOR, site=site_b)
    client.force_login(stranger)
    assert client.get(url("medication_edit", medication)).status_code == 404
    assert client.get(history_url("medication", medication)).status_code == 404


def test_an_unknown_kind_of_record_is_not_found(coordinator, medication):
    assert coordinator.get(history_url("signature", medication)).status_code == 404
