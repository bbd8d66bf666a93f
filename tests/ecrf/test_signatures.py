"""Investigators sign a visit with their password; signed forms are read-only until a data manager unlocks them."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ecrf.models import LabValue, VisitSignature
from ecrf.roles import Role
from ecrf.services import labs, signatures, visits
from tests.conftest import give_first_infusion
from tests.factories import TEST_PASSWORD, MembershipFactory


def _done(subject, code, *, on, values, by):
    """The subject's visit ``code`` recorded on ``on`` (weight 61.5 kg) with its lab draw holding ``values``."""
    visit = subject.visits.get(definition__code=code)
    visits.record_visit(visit, actual_date=on, weight_kg=Decimal("61.5"), by=by)
    drawn_at = datetime(on.year, on.month, on.day, 8, tzinfo=UTC)
    labs.record_lab_draw(visit=visit, drawn_at=drawn_at, values=values, by=by)
    return visit


@pytest.fixture
def done_visit(allocated_subject, coordinator_a):
    """W0 with every form it asks for complete: the visit, both analytes of the panel, infusion 1."""
    give_first_infusion(allocated_subject, by=coordinator_a)
    return _done(allocated_subject, "W0", on=date(2021, 1, 2), values={"TBIL": "20", "INR": "1.10"}, by=coordinator_a)


@pytest.fixture
def partial_visit(allocated_subject, coordinator_a):
    """W0 done with bilirubin only (INR not entered) and no infusion recorded."""
    return _done(allocated_subject, "W0", on=date(2021, 1, 2), values={"TBIL": "20"}, by=coordinator_a)


@pytest.fixture
def done_w4(done_visit, coordinator_a):
    """W4 complete too (visit and both analytes), besides the complete W0."""
    return _done(done_visit.subject, "W4", on=date(2021, 1, 30), values={"TBIL": "18", "INR": "1.05"}, by=coordinator_a)


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
    value = LabValue.objects.get(analyte__code="TBIL")
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
    tbil = LabValue.objects.get(analyte__code="TBIL")
    labs.change_lab_value(tbil, value="21", by=coordinator_a, reason="Query 12")
    tbil.refresh_from_db()
    assert tbil.value == 21


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


# Issue 14: a visit is signed as accurate and complete only when every form it asks for is complete.


def test_a_visit_with_labs_partial_is_refused_naming_what_is_missing(partial_visit, investigator_a, check_password):
    with pytest.raises(ValidationError) as refused:
        signatures.sign_visit(partial_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    assert refused.value.messages == [
        "W0 cannot be signed as complete: labs partial (1 of 2 analytes), infusion not started."
    ]
    assert not VisitSignature.objects.exists()


def test_a_complete_visit_signs(done_visit, investigator_a, check_password):
    signatures.sign_visit(done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    assert VisitSignature.objects.get().visit == done_visit


def counting(check_password):
    """The checker, counting its calls in ``calls``."""

    def check(user, password):
        check.calls += 1
        return check_password(user, password)

    check.calls = 0
    return check


def test_two_complete_visits_sign_in_one_act_with_one_password_check(
    done_visit, done_w4, investigator_a, check_password
):
    check = counting(check_password)
    signed = signatures.sign_visits(
        [done_visit, done_w4], by=investigator_a, password=TEST_PASSWORD, check_password=check
    )
    assert check.calls == 1
    assert sorted(s.visit.definition.code for s in signed) == ["W0", "W4"]
    assert VisitSignature.objects.filter(signed_by=investigator_a).count() == 2


def test_a_wrong_password_for_two_visits_counts_one_failure(done_visit, done_w4, investigator_a, check_password):
    with pytest.raises(ValidationError, match="password is not correct"):
        signatures.sign_visits(
            [done_visit, done_w4], by=investigator_a, password="guess", check_password=check_password
        )
    assert AccessAttempt.objects.get(username=investigator_a.username).failures_since_start == 1
    assert not VisitSignature.objects.exists()


def test_one_incomplete_visit_among_them_signs_none_and_each_refusal_is_named(
    partial_visit, investigator_a, coordinator_a, check_password
):
    w4 = _done(partial_visit.subject, "W4", on=date(2021, 1, 30), values={"TBIL": "18"}, by=coordinator_a)
    with pytest.raises(ValidationError) as refused:
        signatures.sign_visits(
            [partial_visit, w4], by=investigator_a, password=TEST_PASSWORD, check_password=check_password
        )
    assert refused.value.messages == [
        "W0 cannot be signed as complete: labs partial (1 of 2 analytes), infusion not started.",
        "W4 cannot be signed as complete: labs partial (1 of 2 analytes).",
    ]
    assert not VisitSignature.objects.exists()


def test_an_already_signed_visit_among_them_signs_none(done_visit, done_w4, investigator_a, check_password):
    signatures.sign_visit(done_visit, by=investigator_a, password=TEST_PASSWORD, check_password=check_password)
    with pytest.raises(ValidationError, match="W0 is already signed"):
        signatures.sign_visits(
            [done_visit, done_w4], by=investigator_a, password=TEST_PASSWORD, check_password=check_password
        )
    assert list(VisitSignature.objects.values_list("visit__definition__code", flat=True)) == ["W0"]


def test_the_sign_page_shows_the_values_being_signed(
    client, team, done_visit, investigator_a, django_assert_max_num_queries
):
    client.force_login(investigator_a)
    url = reverse("ecrf:sign_visit", args=[team.code, done_visit.subject.pk, "W0"])
    with django_assert_max_num_queries(26):
        page = client.get(url).content.decode()
    assert "2021-01-02" in page
    assert "61.5 kg" in page
    assert "Total bilirubin" in page
    assert "20.0" in page
    assert "umol/L" in page
    assert "1.10" in page
    assert "lot UC-21-001" in page
    assert 'data-testid="missing"' not in page
    assert '<button class="btn btn-primary" type="submit">Sign</button>' in page


def test_the_sign_page_of_a_partial_visit_says_what_is_missing_and_offers_no_sign_button(
    client, team, partial_visit, investigator_a
):
    client.force_login(investigator_a)
    page = client.get(reverse("ecrf:sign_visit", args=[team.code, partial_visit.subject.pk, "W0"])).content.decode()
    assert "labs partial (1 of 2 analytes)" in page
    assert "infusion not started" in page
    assert "not entered" in page  # INR, in the lab table
    assert 'type="submit">Sign</button>' not in page
    response = client.post(
        reverse("ecrf:sign_visit", args=[team.code, partial_visit.subject.pk, "W0"]), {"password": TEST_PASSWORD}
    )
    assert "cannot be signed as complete" in response.content.decode()
    assert not VisitSignature.objects.exists()


def test_the_multi_sign_page_signs_two_visits_in_one_post(client, team, done_w4, investigator_a):
    subject = done_w4.subject
    client.force_login(investigator_a)
    detail = client.get(reverse("ecrf:subject_detail", args=[team.code, subject.pk])).content.decode()
    url = reverse("ecrf:sign_visits", args=[team.code, subject.pk])
    assert url in detail
    response = client.post(url, {"password": TEST_PASSWORD, "visits": ["W0", "W4"]})
    assert response.status_code == 302
    assert sorted(VisitSignature.objects.values_list("visit__definition__code", flat=True)) == ["W0", "W4"]
    detail = client.get(reverse("ecrf:subject_detail", args=[team.code, subject.pk])).content.decode()
    assert url not in detail


def test_the_multi_sign_page_shows_an_incomplete_visit_as_not_selectable(
    client, team, partial_visit, investigator_a, django_assert_max_num_queries
):
    client.force_login(investigator_a)
    url = reverse("ecrf:sign_visits", args=[team.code, partial_visit.subject.pk])
    with django_assert_max_num_queries(22):
        page = client.get(url).content.decode()
    assert 'value="W0" id="id_visit_W0" disabled' in page
    assert "labs partial (1 of 2 analytes), infusion not started" in page
    response = client.post(url, {"password": TEST_PASSWORD, "visits": ["W0"]})
    assert response.status_code == 200
    assert not VisitSignature.objects.exists()


def test_a_coordinator_cannot_open_the_multi_sign_page(client, team, done_visit, coordinator_a):
    client.force_login(coordinator_a)
    url = reverse("ecrf:sign_visits", args=[team.code, done_visit.subject.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"password": TEST_PASSWORD, "visits": ["W0"]}).status_code == 403
    assert not VisitSignature.objects.exists()


def shown_version(client, url, name="version") -> str:
    """The content version the sign page carries in its hidden field, as the browser would post it back."""
    page = client.get(url).content.decode()
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_a_visit_changed_after_the_signer_opened_the_page_is_not_signed(
    client, team, done_visit, investigator_a, coordinator_a
):
    subject = done_visit.subject
    client.force_login(investigator_a)
    sign_url = reverse("ecrf:sign_visit", args=[team.code, subject.pk, "W0"])
    reviewed = shown_version(client, sign_url)
    bilirubin = LabValue.objects.get(draw__visit=done_visit, analyte__code="TBIL")
    labs.change_lab_value(bilirubin, value="99", by=coordinator_a, reason="Lab re-issued the report")
    page = client.post(sign_url, {"password": TEST_PASSWORD, "version": reviewed}).content.decode()
    assert "W0 changed after you opened this page: review it again before signing." in page
    assert not VisitSignature.objects.exists()
    again = shown_version(client, sign_url)
    assert client.post(sign_url, {"password": TEST_PASSWORD, "version": again}).status_code == 302


def test_the_multi_sign_page_refuses_a_visit_changed_since_it_was_shown(
    client, team, done_w4, investigator_a, coordinator_a
):
    subject = done_w4.subject
    client.force_login(investigator_a)
    url = reverse("ecrf:sign_visits", args=[team.code, subject.pk])
    w0, w4 = shown_version(client, url, "version_W0"), shown_version(client, url, "version_W4")
    visits.record_visit(done_w4, actual_date=date(2021, 1, 31), by=coordinator_a, reason="Date typed wrong")
    data = {"password": TEST_PASSWORD, "visits": ["W0", "W4"], "version_W0": w0, "version_W4": w4}
    page = client.post(url, data).content.decode()
    assert "W4 changed after you opened this page" in page
    assert not VisitSignature.objects.exists()
