"""Two web processes and one task worker against one PostgreSQL serve one study consistently: a subject
registered through one web process is on the worklist served by the other, and the dashboard both serve is the
one the worker recomputed after that write (the processes share nothing but the database)."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from analysis.models import StudyReport
from ecrf.models.changes import current_version
from ecrf.roles import Role
from tests.analysis.test_dashboard import build_trial
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment() -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "trialsite.settings_test",  # this suite's settings (static files without a manifest)
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "false",
        "DEMO_MODE": "false",
        "DEBUG": "false",
    }


@pytest.fixture
def processes():
    """Start web process A and B (gunicorn, one worker each) and a task worker; stop them after the test."""
    started, ports = [], [_free_port(), _free_port()]
    environment = _environment()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    for port in ports:
        command = [gunicorn, "trialsite.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"]
        started.append(subprocess.Popen(command, cwd=ROOT, env=environment, stderr=subprocess.DEVNULL))
    worker = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay"]
    started.append(subprocess.Popen(worker, cwd=ROOT, env=environment, stderr=subprocess.DEVNULL))
    try:
        for port in ports:
            _wait_for(lambda port=port: _answers(port), f"web process on port {port}")
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"waited {WAIT_SECONDS} s for {what}")


class Browser:
    """One signed-in person's cookies, sent to whichever web process is asked."""

    def __init__(self, user):
        client = Client()
        client.force_login(user)  # the session is a row of the shared database: every process reads it
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.session = client.cookies[settings.SESSION_COOKIE_NAME].value

    def get(self, url: str) -> str:
        request = urllib.request.Request(url, headers={"Cookie": self._cookies()})  # noqa: S310 -- loopback http
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()

    def post(self, url: str, fields: dict) -> str:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.get(url))[1]
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        headers = {"Cookie": self._cookies(), "Referer": url}
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 -- loopback http
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode()

    def _cookies(self) -> str:
        csrf = next((c.value for c in self.jar if c.name == settings.CSRF_COOKIE_NAME), "")
        return f"{settings.SESSION_COOKIE_NAME}={self.session}; {settings.CSRF_COOKIE_NAME}={csrf}"


def test_two_web_processes_and_a_worker_serve_one_study_consistently(
    protocol, new_subject, coordinator_a, investigator_a, site_a, processes
):
    study = protocol.study
    MembershipFactory(user=coordinator_a, study=study, role=Role.COORDINATOR, site=site_a)
    MembershipFactory(user=investigator_a, study=study, role=Role.INVESTIGATOR, site=site_a)
    build_trial(protocol, new_subject, coordinator_a, count=4)  # committed: the other processes see it
    web_a, web_b = processes
    coordinator, investigator = Browser(coordinator_a), Browser(investigator_a)

    coordinator.post(
        f"{web_a}/studies/{study.code}/sites/{site_a.code}/register/",
        {"subject_code": "TWO-PROC-1", "screening_date": "2021-01-05", "sex": "female", "age_years": "50"},
    )
    assert "TWO-PROC-1" in coordinator.get(f"{web_b}/studies/{study.code}/sites/{site_a.code}/")

    survival = f"/studies/{study.code}/dashboard/survival/"

    def recomputed() -> bool:
        stored = StudyReport.objects.filter(study=study).first()
        return stored is not None and stored.data_version == current_version(study.pk)[0]

    _wait_for(recomputed, "the worker to recompute the analysis after the registration")
    for web in (web_a, web_b):
        page = investigator.get(web + survival)
        assert 'id="table-survival"' in page
        assert 'data-testid="analysis-updating"' not in page
        assert "Served from the cache (current: no change since)" in page
