"""A release correction that makes the product fail records the release deviation in the same correction (issue 14)."""

import pytest
from django.core.exceptions import ValidationError

from ecrf.models import InfusionEvent, ReleaseResult
from ecrf.services import release
from tests.conftest import give_first_infusion
from tests.ecrf.test_corrections import form_data, history_url, url

DEVIATION = "PD-3: viability 50 % on the certificate, given on sponsor approval"


@pytest.fixture
def infusion(allocated_subject, coordinator_a):
    return give_first_infusion(allocated_subject, by=coordinator_a)


def saved_state():
    """What a refused correction must leave as it was: results, deviation and both histories."""
    infusion = InfusionEvent.objects.get()
    results = sorted(ReleaseResult.objects.values_list("criterion__code", "value", "negative", "passed"))
    return results, infusion.release_deviation, infusion.history.count(), ReleaseResult.history.count()


def test_a_failing_correction_with_a_blank_deviation_is_refused_and_changes_nothing(infusion, coordinator_a):
    before = saved_state()
    with pytest.raises(ValidationError) as refused:
        release.correct_infusion(
            infusion, by=coordinator_a, reason="Re-read", release={"viab": 50}, release_deviation="   "
        )
    assert list(refused.value.message_dict) == ["release_deviation"]
    assert "fails release (Viability > 80 %)" in refused.value.message_dict["release_deviation"][0]
    assert saved_state() == before


def test_a_failing_correction_with_a_deviation_saves_both_with_the_reason(infusion, coordinator_a):
    release.correct_infusion(
        infusion, by=coordinator_a, reason="QC certificate re-read", release={"viab": 50}, release_deviation=DEVIATION
    )
    saved = InfusionEvent.objects.get()
    assert saved.release_deviation == DEVIATION
    assert ReleaseResult.objects.get(criterion__code="viab").passed is False
    latest = saved.history.first()
    assert (latest.history_user, latest.history_change_reason) == (coordinator_a, "QC certificate re-read")
    assert saved.history.count() == 2  # the infusion was saved once, for its deviation


def test_the_page_shows_the_refusal_on_the_deviation_field(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    before = saved_state()
    response = coordinator.post(edit_url, form_data(coordinator, edit_url, release_viab="50", reason="Re-read"))
    errors = response.context["form"].errors
    assert "fails release (Viability &gt; 80 %)" in str(errors["release_deviation"])
    assert "__all__" not in errors
    assert saved_state() == before


def test_the_page_records_the_deviation_and_the_history_shows_it(coordinator, infusion):
    edit_url = url("infusion_edit", infusion)
    changed = form_data(
        coordinator, edit_url, release_viab="50", release_deviation=DEVIATION, reason="QC certificate re-read"
    )
    assert coordinator.post(edit_url, changed).status_code == 302
    assert InfusionEvent.objects.get().release_deviation == DEVIATION
    page = coordinator.get(history_url("infusion", infusion)).content.decode()
    assert DEVIATION in page
    assert "QC certificate re-read" in page


def test_the_correction_form_shows_the_saved_deviation_to_amend(coordinator, infusion, coordinator_a):
    release.correct_infusion(infusion, by=coordinator_a, reason="Re-read", release={"viab": 50}, release_deviation="PD")
    edit_url = url("infusion_edit", infusion)
    assert coordinator.get(edit_url).context["form"]["release_deviation"].value() == "PD"
    amended = form_data(coordinator, edit_url, release_deviation=DEVIATION, reason="Deviation number added")
    assert coordinator.post(edit_url, amended).status_code == 302
    saved = InfusionEvent.objects.get()
    assert (saved.release_deviation, saved.history.first().history_change_reason) == (
        DEVIATION,
        "Deviation number added",
    )


def test_the_deviation_of_a_failing_product_cannot_be_cleared(infusion, coordinator_a):
    release.correct_infusion(infusion, by=coordinator_a, reason="Re-read", release={"viab": 50}, release_deviation="PD")
    before = saved_state()
    with pytest.raises(ValidationError, match="fails release"):
        release.correct_infusion(infusion, by=coordinator_a, reason="Tidy", release_deviation="")
    assert saved_state() == before


def test_the_deviation_is_cleared_when_the_corrected_product_passes_again(infusion, coordinator_a):
    release.correct_infusion(infusion, by=coordinator_a, reason="Re-read", release={"viab": 50}, release_deviation="PD")
    release.correct_infusion(infusion, by=coordinator_a, reason="Typo: 90", release={"viab": 90}, release_deviation="")
    assert InfusionEvent.objects.get().release_deviation == ""
