"""Investigators sign a visit with their password; signed forms are read-only until a data manager unlocks them."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ecrf.models import LabValue, VisitSignature
from ecrf.roles import Role
from ecrf.services import labs, signatures, visits
from tests.factories import TEST_PASSWORD, MembershipFactory


@pytest.fixture
def done_visit(allocated_subject, coordinator_a):
    w0 = allocated_subject.visits.get(definition__code="W0")
    visits.record_visit(w0, actual_date=date(2021, 1, 2), by=coordinator_a)
    labs.record_lab_draw(
        visit=w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "20"}, by=coordinator_a
    )
    return w0


def test_a_wrong_password_signs_nothing(done_visit, investigator_a, check_password):
    with pytest.raises(ValidationError, match="password is not correct"):
        signatures.sign_visit(done_visit, by=investigator_a, password="guess", check_password=check_password)
    assert not VisitSignature.objects.exists()


def test_signing_records_who_when_and_the_meaning(done_visit, investigator_a, check_password):
    signature = signatures.sign_visit(
        done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password
    )
    assert (signature.signed_by, signature.meaning) == (investigator_a, signatures.MEANING)


def test_a_visit_that_did_not_take_place_cannot_be_signed(allocated_subject, investigator_a, check_password):
    with pytest.raises(ValidationError, match="Only a visit that took place"):
        signatures.sign_visit(
            allocated_subject.visits.get(definition__code="W4"),
            by=investigator_a,
            password=TEST_PASSWORD,
            check_password=check_password,
        )


def test_signed_forms_refuse_every_change(done_visit, investigator_a, coordinator_a, check_password):
    signatures.sign_visit(done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    value = LabValue.objects.get()
    with pytest.raises(ValidationError, match="read-only"):
        labs.change_lab_value(value, value="21", by=coordinator_a, reason="typo")
    with pytest.raises(ValidationError, match="read-only"):
        visits.record_visit(done_visit, actual_date=date(2021, 1, 3), by=coordinator_a, reason="typo")
    value.refresh_from_db()
    assert value.value == 20


def test_unlocking_voids_the_signature_keeps_it_on_record_and_allows_correction(
    done_visit, investigator_a, coordinator_a, data_manager, check_password
):
    signatures.sign_visit(done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    with pytest.raises(ValidationError, match="reason"):
        signatures.unlock_visit(done_visit, by=data_manager, reason="")
    signatures.unlock_visit(done_visit, by=data_manager, reason="Query 12: bilirubin transcribed wrongly")
    voided = VisitSignature.objects.get()
    assert voided.is_voided
    assert voided.void_reason == "Unlocked for correction: Query 12: bilirubin transcribed wrongly"
    labs.change_lab_value(LabValue.objects.get(), value="21", by=coordinator_a, reason="Query 12")
    assert LabValue.objects.get().value == 21


@pytest.fixture
def team(allocated_subject, site_a, coordinator_a, investigator_a, data_manager):
    study = allocated_subject.study
    MembershipFactory(user=coordinator_a, study=study, role=Role.COORDINATOR, site=site_a)
    MembershipFactory(user=investigator_a, study=study, role=Role.INVESTIGATOR, site=site_a)
    MembershipFactory(user=data_manager, study=study, role=Role.DATA_MANAGER, site=None)
    return study


def test_the_investigator_signs_from_the_page_and_the_lab_form_turns_read_only(
    client, team, done_visit, investigator_a, coordinator_a
):
    subject = done_visit.subject
    client.force_login(investigator_a)
    sign_url = reverse("ecrf:sign_visit", args=[team.code, subject.pk, "W0"])
    assert "password is not correct" in client.post(sign_url, {"password": "nope"}).content.decode()
    assert client.post(sign_url, {"password": TEST_PASSWORD}).status_code == 302
    client.force_login(coordinator_a)
    lab_page = client.get(reverse("ecrf:lab_panel", args=[team.code, subject.pk, "W0"])).content.decode()
    assert 'data-testid="signed-banner"' in lab_page
    assert "Save results" not in lab_page


def test_a_coordinator_cannot_sign_and_an_investigator_cannot_unlock(
    client, team, done_visit, coordinator_a, investigator_a
):
    subject = done_visit.subject
    client.force_login(coordinator_a)
    assert client.get(reverse("ecrf:sign_visit", args=[team.code, subject.pk, "W0"])).status_code == 403
    client.force_login(investigator_a)
    assert client.get(reverse("ecrf:unlock_visit", args=[team.code, subject.pk, "W0"])).status_code == 403


def test_after_repeated_wrong_signature_passwords_the_right_one_signs_nothing(
    done_visit, investigator_a, check_password
):
    for _ in range(5):
        with pytest.raises(ValidationError, match="password is not correct|locked"):
            signatures.sign_visit(done_visit, by=investigator_a, password="guess", check_password=check_password)
    with pytest.raises(ValidationError, match="locked"):
        signatures.sign_visit(done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    assert not VisitSignature.objects.exists()


def test_a_signer_locked_out_on_the_page_is_told_on_the_password_field_and_cannot_sign_in(
    client, team, done_visit, investigator_a
):
    client.force_login(investigator_a)
    sign_url = reverse("ecrf:sign_visit", args=[team.code, done_visit.subject.pk, "W0"])
    for _ in range(5):
        client.post(sign_url, {"password": "nope"})
    response = client.post(sign_url, {"password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "your account is locked" in str(response.context["form"].errors["password"])
    assert not VisitSignature.objects.exists()
    login = Client().post(reverse("login"), {"username": investigator_a.username, "password": TEST_PASSWORD})
    assert login.status_code == 429


def test_signing_keeps_the_session_as_it_was(client, team, done_visit, investigator_a):
    client.force_login(investigator_a)
    session_key = client.session.session_key
    sign_url = reverse("ecrf:sign_visit", args=[team.code, done_visit.subject.pk, "W0"])
    assert client.post(sign_url, {"password": TEST_PASSWORD}).status_code == 302
    assert client.session.session_key == session_key
    assert VisitSignature.objects.get().signed_by == investigator_a
