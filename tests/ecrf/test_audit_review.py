"""The study-wide audit trail: every change with who, when, old, new and why; filters, flags and CSV."""

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from ecrf.roles import Role
from ecrf.services import labs, signatures, verification
from tests.factories import TEST_PASSWORD, MembershipFactory, StudySiteFactory


@pytest.fixture
def reviewers(recorded, monitor, data_manager, coordinator_a, coordinator_b, site_b):
    study = recorded["subject"].study
    MembershipFactory(user=monitor, study=study, role=Role.MONITOR, site=None)
    MembershipFactory(user=data_manager, study=study, role=Role.DATA_MANAGER, site=None)
    MembershipFactory(user=coordinator_a, study=study, role=Role.COORDINATOR, site=recorded["subject"].site)
    StudySiteFactory(study=study, site=site_b)
    MembershipFactory(user=coordinator_b, study=study, role=Role.COORDINATOR, site=site_b)
    return recorded


def trail(client, signed_in, **filters):
    client.force_login(signed_in)
    study = filters.pop("study")
    return client.get(reverse("ecrf:audit_trail", args=[study.code]), filters)


def tbil_of(recorded):
    return recorded["visit"].lab_draws.get().values.get(analyte__code="TBIL")


def test_a_correction_shows_who_old_new_and_why(client, reviewers, monitor, coordinator_a):
    labs.change_lab_value(tbil_of(reviewers), value="22", by=coordinator_a, reason="Lab report re-read")
    page = trail(client, monitor, study=reviewers["subject"].study, form="ecrf.labvalue").content.decode()
    assert "Lab report re-read" in page
    assert "<del>20</del> → 22" in page
    assert "W0 · Labs · TBIL" in page


def test_a_change_after_verification_is_flagged_and_filtered(client, reviewers, monitor, coordinator_a):
    tbil = tbil_of(reviewers)
    verification.verify(record=tbil, by=monitor)
    labs.change_lab_value(tbil, value="22", by=coordinator_a, reason="Typo")
    response = trail(client, monitor, study=reviewers["subject"].study, after_signature_or_verification="on")
    page = response.content.decode()
    assert "1 change" in page
    assert "after verification" in page


def test_a_change_after_signature_is_flagged(
    client, reviewers, monitor, coordinator_a, investigator_a, data_manager, check_password
):
    subject, visit = reviewers["subject"], reviewers["visit"]
    MembershipFactory(user=investigator_a, study=subject.study, role=Role.INVESTIGATOR, site=subject.site)
    signatures.sign_visit(visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    signatures.unlock_visit(visit, by=data_manager, reason="Query on TBIL")
    labs.change_lab_value(tbil_of(reviewers), value="22", by=coordinator_a, reason="Typo")
    page = trail(client, monitor, study=subject.study, after_signature_or_verification="on").content.decode()
    assert "after signature" in page


def test_changes_long_after_the_visit_and_outside_working_hours_are_found(client, reviewers, monitor, coordinator_a):
    with time_machine.travel(datetime(2021, 6, 5, 23, 30, tzinfo=UTC)):  # a Saturday night, months after W0
        labs.change_lab_value(tbil_of(reviewers), value="22", by=coordinator_a, reason="Late entry")
    study = reviewers["subject"].study
    late = trail(client, monitor, study=study, days_after_visit=100, date_to="2021-12-31").content.decode()
    assert "Late entry" in late
    assert "1 change" in late
    night = trail(client, monitor, study=study, outside_working_hours="on", date_to="2021-12-31").content.decode()
    assert "Late entry" in night


def test_the_filters_narrow_by_user_subject_and_date(client, reviewers, monitor, coordinator_a):
    study = reviewers["subject"].study
    assert "No change matches." in trail(client, monitor, study=study, user="nobody").content.decode()
    assert "No change matches." in trail(client, monitor, study=study, subject="999").content.decode()
    assert "No change matches." in trail(client, monitor, study=study, date_to="2000-01-01").content.decode()
    assert "No change matches." not in trail(client, monitor, study=study, user=coordinator_a.username).content.decode()


def test_a_bad_filter_gets_a_message_not_an_error(client, reviewers, monitor):
    response = trail(client, monitor, study=reviewers["subject"].study, date_from="2022-01-01", date_to="2021-01-01")
    assert response.status_code == 400
    assert "before its start" in response.content.decode()


def test_the_csv_lists_every_changed_field(client, reviewers, data_manager, coordinator_a):
    labs.change_lab_value(tbil_of(reviewers), value="22", by=coordinator_a, reason="=cmd|' /C calc'!A0")
    response = trail(client, data_manager, study=reviewers["subject"].study, format="csv", form="ecrf.labvalue")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    changed = [r for r in rows if r["action"] == "Changed"]
    assert changed
    assert changed[0]["why"].startswith("'=")  # no formula reaches a spreadsheet
    assert {r["who"] for r in rows} == {coordinator_a.username}


def test_coordinators_cannot_open_the_audit_trail(client, reviewers, coordinator_a):
    assert trail(client, coordinator_a, study=reviewers["subject"].study).status_code == 403


def test_the_audit_trail_reads_a_bounded_number_of_queries(client, reviewers, monitor, django_assert_max_num_queries):
    client.force_login(monitor)
    url = reverse("ecrf:audit_trail", args=[reviewers["subject"].study.code])
    with django_assert_max_num_queries(60):
        assert client.get(url).status_code == 200


def test_a_lab_value_changed_after_its_panel_was_verified_is_flagged(client, reviewers, monitor, coordinator_a):
    verification.verify(record=reviewers["visit"].lab_draws.get(), by=monitor)
    labs.change_lab_value(tbil_of(reviewers), value="22", by=coordinator_a, reason="Typo")
    page = trail(client, monitor, study=reviewers["subject"].study, after_signature_or_verification="on")
    assert "after verification" in page.content.decode()
    assert "1 change" in page.content.decode()
