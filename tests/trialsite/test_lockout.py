"""Repeated wrong passwords lock the username (from anywhere) and, at a higher limit, the address (django-axes)."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

LIMIT = 5


def sign_in(client, username, password, address="127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def nurse(db):
    return UserFactory(username="nurse")


def test_after_the_limit_of_wrong_passwords_the_right_one_is_refused_with_the_lockout_page(client, nurse):
    for _ in range(LIMIT):
        sign_in(client, "nurse", "wrong-guess")
    response = sign_in(client, "nurse", TEST_PASSWORD)
    assert response.status_code == 429
    assert "Sign-in locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_from_different_addresses_still_lock_the_username(client, nurse):
    for n in range(LIMIT):
        sign_in(client, "nurse", "wrong-guess", address=f"10.0.0.{n + 1}")
    assert sign_in(client, "nurse", TEST_PASSWORD, address="10.0.9.9").status_code == 429


def test_failures_and_the_lockout_are_kept_in_the_database(client, nurse):
    for _ in range(LIMIT):
        sign_in(client, "nurse", "wrong-guess")
    assert AccessAttempt.objects.get(username="nurse").failures_since_start == LIMIT
    assert AccessFailureLog.objects.filter(username="nurse").count() == LIMIT
    assert AccessFailureLog.objects.filter(username="nurse", locked_out=True).exists()


def test_an_administrator_reset_lets_the_user_sign_in_again(client, nurse):
    for _ in range(LIMIT):
        sign_in(client, "nurse", "wrong-guess")
    call_command("axes_reset_username", "nurse")
    response = sign_in(client, "nurse", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_another_user_at_the_same_address_signs_in_until_the_address_limit(client, nurse, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 8
    colleague = UserFactory(username="colleague")
    for _ in range(LIMIT):
        sign_in(client, "nurse", "wrong-guess")
    assert sign_in(client, "colleague", TEST_PASSWORD).status_code == 302
    for n in range(3):
        sign_in(Client(), f"someone{n}", "wrong-guess")
    assert sign_in(Client(), colleague.username, TEST_PASSWORD).status_code == 429
    assert sign_in(Client(), colleague.username, TEST_PASSWORD, address="10.0.0.7").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(client, nurse, settings):
    settings.BEHIND_TLS_PROXY = True
    for _ in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": "nurse", "password": "wrong-guess"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.10",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.10"}


def change_password(client, old):
    new = "a-new-long-password-9731"
    return client.post(reverse("password_change"), {"old_password": old, "new_password1": new, "new_password2": new})


def test_wrong_old_passwords_on_the_password_change_page_lock_the_account(client, nurse):
    client.force_login(nurse)
    for _ in range(LIMIT - 1):
        assert "entered incorrectly" in change_password(client, "wrong-guess").content.decode()
    assert change_password(client, "wrong-guess").status_code == 429
    refused = change_password(client, TEST_PASSWORD)
    assert refused.status_code == 429
    assert "Sign-in locked" in refused.content.decode()
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD)
    assert sign_in(Client(), "nurse", TEST_PASSWORD).status_code == 429


def test_the_right_old_password_changes_it(client, nurse):
    client.force_login(nurse)
    assert change_password(client, TEST_PASSWORD).status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password("a-new-long-password-9731")


def test_the_admin_password_form_leads_to_the_one_that_counts_failures(client, nurse):
    nurse.is_staff = True
    nurse.save()
    client.force_login(nurse)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response.url == reverse("password_change")
