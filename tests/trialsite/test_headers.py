"""Security headers: CSP without inline script, Permissions-Policy, no caching of pages; sessions with an end."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ecrf.roles import Role
from tests.factories import MembershipFactory


@pytest.fixture
def subject_page(client, allocated_subject, coordinator_a, site_a):
    MembershipFactory(user=coordinator_a, study=allocated_subject.study, role=Role.COORDINATOR, site=site_a)
    client.force_login(coordinator_a)
    return reverse("ecrf:subject_detail", args=[allocated_subject.study.code, allocated_subject.pk])


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_pages_carry_a_content_security_policy_without_inline_script(client, subject_page):
    csp = directives(client.get(subject_page))
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_pages_refuse_camera_microphone_and_geolocation(client, db):
    policy = client.get(reverse("login"))["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


def test_a_subject_page_and_the_login_page_are_never_stored(client, subject_page):
    assert "no-store" in client.get(subject_page)["Cache-Control"]
    assert "no-store" in Client().get(reverse("login"))["Cache-Control"]


def test_static_files_keep_their_caching(client, db):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_an_active_session_ends_at_the_absolute_limit(client, subject_page, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 3600
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False) as traveller:
        for _ in range(3):  # every 20 minutes, inside the 30-minute idle limit
            assert client.get(subject_page).status_code == 200
            traveller.shift(timedelta(minutes=20))
        assert client.get(subject_page).status_code == 200  # 60 minutes: at the limit, not past it
        traveller.shift(timedelta(minutes=20))
        response = client.get(subject_page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_a_session_idle_past_the_limit_is_signed_out(client, subject_page):
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False) as traveller:
        assert client.get(subject_page).status_code == 200
        traveller.shift(timedelta(minutes=31))
        response = client.get(subject_page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_pages_opened_within_a_minute_do_not_write_the_session(client, subject_page):
    with time_machine.travel(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), tick=False) as traveller:
        client.get(subject_page)
        traveller.shift(timedelta(seconds=30))
        with CaptureQueriesContext(connection) as within:
            client.get(subject_page)
        traveller.shift(timedelta(seconds=40))
        with CaptureQueriesContext(connection) as after:
            client.get(subject_page)
    session_writes = [q["sql"] for q in within.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert session_writes == []
    assert any(q["sql"].startswith("UPDATE") and "django_session" in q["sql"] for q in after.captured_queries)
