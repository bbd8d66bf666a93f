"""Management commands: the demo loader and the container's wait for the database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from ecrf.models import Membership, Site, Study
from ecrf.roles import Role

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_seed_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_seed_demo_creates_one_account_per_role_that_can_log_in(db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo")
    roles = dict(Membership.objects.filter(study__code="DLC").values_list("user__username", "role"))
    assert roles == {
        "coordinator": Role.COORDINATOR,
        "investigator": Role.INVESTIGATOR,
        "monitor": Role.MONITOR,
        "datamanager": Role.DATA_MANAGER,
    }
    assert authenticate(username="coordinator", password="ucmsc-demo-2026") is not None
    assert get_user_model().objects.get(username="admin").is_superuser


def test_seed_demo_twice_changes_nothing(db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo")
    before = (get_user_model().objects.count(), Membership.objects.count(), Study.objects.count(), Site.objects.count())
    call_command("seed_demo")
    after = (get_user_model().objects.count(), Membership.objects.count(), Study.objects.count(), Site.objects.count())
    assert before == after == (5, 8, 2, 1)


@pytest.mark.django_db
def test_wait_for_db_returns_when_the_database_answers(capsys):
    call_command("wait_for_db", timeout=5)
    assert "Database is up." in capsys.readouterr().out


def test_wait_for_db_fails_clearly_when_the_database_never_answers():
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "trialsite.settings",
        "SECRET_KEY": "k" * 50,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",  # port 9 (discard): nothing listens
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "wait_for_db", "--timeout", "1"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Database not reachable after 1 s" in result.stderr
