"""Management commands: the demo loader's guard and the container's wait for the database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_seed_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


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
