"""Entering a visit's lab panel: units and ranges, refusals, confirmation of unusual values, edits with a reason,
the history of every value, and stale or repeated submissions that overwrite nothing.
"""

import pytest
from django.urls import reverse

from ecrf.models import LabDraw, LabValue
from ecrf.roles import Role
from tests.factories import MembershipFactory

DRAWN = "2021-01-02T08:30"


@pytest.fixture
def url(allocated_subject):
    return reverse("ecrf:lab_panel", args=[allocated_subject.study.code, allocated_subject.pk, "W0"])


def post(client, url, **fields):
    return client.post(url, {"drawn_at": DRAWN, "version": 0, **fields})


def values():
    return {v.analyte.code: v for v in LabValue.objects.select_related("analyte")}


def test_the_form_shows_each_analyte_with_unit_and_reference_range(coordinator, url):
    page = coordinator.get(url).content.decode()
    assert "Total bilirubin" in page
    assert "umol/L" in page
    assert "3.4–20.5 umol/L" in page


def test_results_are_saved_and_the_page_redirects(coordinator, url, allocated_subject):
    response = post(coordinator, url, value_TBIL="25.4", value_INR="1.3")
    assert response.status_code == 302
    assert {code: float(v.value) for code, v in values().items()} == {"TBIL": 25.4, "INR": 1.3}


def test_an_out_of_range_value_is_flagged_when_the_panel_is_reopened(coordinator, url):
    post(coordinator, url, value_TBIL="25.4")
    assert 'data-testid="flag-TBIL"' in coordinator.get(url).content.decode()


def test_an_impossible_value_is_refused_and_nothing_is_saved(coordinator, url):
    page = post(coordinator, url, value_TBIL="25", value_INR="40").content.decode()
    assert "40 ratio is impossible: INR lies between 0.5 and 15 ratio." in page
    assert 'value="25"' in page  # what was typed is kept
    assert not LabDraw.objects.exists()


def test_an_unusual_value_needs_confirmation(coordinator, url):
    page = post(coordinator, url, value_TBIL="900").content.decode()
    assert "Some values are unusual" in page
    assert not LabDraw.objects.exists()
    assert post(coordinator, url, value_TBIL="900", confirm_unusual="on").status_code == 302
    assert values()["TBIL"].value == 900


def test_not_done_needs_a_reason_and_is_kept_apart_from_blank(coordinator, url):
    assert "Say why Total bilirubin was not done." in post(coordinator, url, nd_TBIL="on").content.decode()
    post(coordinator, url, nd_TBIL="on", ndr_TBIL="Sample haemolysed")
    saved = values()
    assert (saved["TBIL"].not_done, saved["TBIL"].not_done_reason) == (True, "Sample haemolysed")
    assert "INR" not in saved  # left blank: no row, not "not done"


def test_a_confirmed_unusual_value_is_stored_and_shown_on_the_lab_and_visit_history(
    coordinator, url, allocated_subject, coordinator_a
):
    post(coordinator, url, value_TBIL="900", value_INR="1.3", confirm_unusual="on")
    assert (values()["TBIL"].confirmed_unusual, values()["INR"].confirmed_unusual) == (True, False)
    for name in ("ecrf:lab_history", "ecrf:visit_history"):
        page = coordinator.get(reverse(name, args=[allocated_subject.study.code, allocated_subject.pk, "W0"]))
        assert f"900.0 (confirmed unusual by {coordinator_a})" in page.content.decode()


def test_changing_a_saved_value_needs_a_reason_and_appears_in_the_history(coordinator, url, allocated_subject):
    post(coordinator, url, value_TBIL="25.4")
    version = coordinator.get(url).context["form"]["version"].value()
    refused = coordinator.post(url, {"drawn_at": DRAWN, "version": version, "value_TBIL": "52.4"})
    assert "Give a reason for changing saved results." in refused.content.decode()
    assert float(values()["TBIL"].value) == 25.4
    coordinator.post(url, {"drawn_at": DRAWN, "version": version, "value_TBIL": "52.4", "reason": "Digits swapped"})
    assert float(values()["TBIL"].value) == 52.4
    history_url = reverse("ecrf:lab_history", args=[allocated_subject.study.code, allocated_subject.pk, "W0"])
    history = coordinator.get(history_url).content.decode()
    assert "25.4" in history
    assert "52.4" in history
    assert "Digits swapped" in history


def test_a_stale_form_is_refused_and_nothing_is_overwritten(coordinator, url):
    post(coordinator, url, value_TBIL="25.4")
    stale = coordinator.get(url).context["form"]["version"].value()
    coordinator.post(url, {"drawn_at": DRAWN, "version": stale, "value_TBIL": "30.0", "reason": "First correction"})
    second = coordinator.post(url, {"drawn_at": DRAWN, "version": stale, "value_TBIL": "99.0", "reason": "Other"})
    assert second.status_code == 409
    assert "Someone saved this panel after you opened it" in second.content.decode()
    assert values()["TBIL"].value == 30
    assert "<td>Total bilirubin</td><td>30.0</td><td>99.0</td>" in second.content.decode()


def test_submitting_the_first_entry_twice_saves_it_once(coordinator, url):
    post(coordinator, url, value_TBIL="25.4")
    again = post(coordinator, url, value_TBIL="25.4")
    assert again.status_code == 409
    assert LabDraw.objects.count() == 1
    assert LabValue.objects.count() == 1


def test_a_coordinator_of_another_site_gets_404(client, url, allocated_subject, coordinator_b, site_b):
    allocated_subject.study.study_sites.create(site=site_b)
    MembershipFactory(user=coordinator_b, study=allocated_subject.study, role=Role.COORDINATOR, site=site_b)
    client.force_login(coordinator_b)
    assert client.get(url).status_code == 404


def test_filling_in_a_value_not_entered_before_needs_no_reason(coordinator, url):
    post(coordinator, url, value_TBIL="25.4")
    version = coordinator.get(url).context["form"]["version"].value()
    response = coordinator.post(url, {"drawn_at": DRAWN, "version": version, "value_TBIL": "25.4", "value_INR": "1.2"})
    assert response.status_code == 302
    assert float(values()["INR"].value) == 1.2


def test_saved_values_are_shown_with_the_analytes_decimals(coordinator, url):
    post(coordinator, url, value_TBIL="25.4", value_INR="1.3")
    page = coordinator.get(url).content.decode()
    assert 'value="25.4"' in page
    assert 'value="1.30"' in page


def test_the_calendar_shows_each_forms_state(coordinator, url, allocated_subject):
    post(coordinator, url, value_TBIL="25.4")  # one of two analytes: partial
    page = coordinator.get(reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk]))
    text = page.content.decode()
    assert 'data-testid="form-W0-labs" title="incomplete"' in text
    assert 'data-testid="form-W0-visit" title="not_started"' in text
    assert 'data-testid="form-SCR-consent" title="complete"' in text


def test_a_whole_panel_not_done_saves_every_analyte_not_done_with_the_reason(coordinator, url):
    assert post(coordinator, url, panel_not_done="on", panel_not_done_reason="Sample haemolysed").status_code == 302
    saved = values()
    assert set(saved) == {"TBIL", "INR"}  # the fixture panel
    assert all(v.not_done and v.value is None for v in saved.values())
    assert {v.not_done_reason for v in saved.values()} == {"Panel not done: Sample haemolysed"}


def test_a_whole_panel_not_done_needs_a_reason_and_no_values(coordinator, url):
    page = post(coordinator, url, panel_not_done="on", value_TBIL="20").content.decode()
    assert "Say why the panel was not done." in page
    assert "The panel is marked not done: clear this value or untick it." in page
    assert not LabDraw.objects.exists()


def test_a_panel_not_done_shows_as_complete_not_as_missing(coordinator, url, allocated_subject):
    post(coordinator, url, panel_not_done="on", panel_not_done_reason="Patient refused the draw")
    page = coordinator.get(reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk]))
    assert 'data-testid="form-W0-labs" title="complete"' in page.content.decode()
