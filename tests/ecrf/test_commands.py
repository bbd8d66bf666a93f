"""Management commands: the demo loader's guard and the container's wait for the database."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ecrf.models import AnalysisPlanVersion, ProtocolVersion
from ecrf.roles import Role
from ecrf.services import organisation

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


def test_seed_demo_completes_a_database_loaded_by_an_older_demo(db, settings):
    settings.DEMO_MODE = True
    site = organisation.ensure_site(code="BJ-5MC", name="Fifth Medical Center (demo)")
    study = organisation.ensure_study(code="ACLF", title="Old title", registry_number="NCT01218464", sites=[site])
    coordinator = organisation.create_user(username="coordinator", password="ucmsc-demo-2026")
    organisation.grant_membership(user=coordinator, study=study, role=Role.COORDINATOR, site=site)
    out = io.StringIO()
    call_command("seed_demo", subjects=False, stdout=out)
    assert "protocol ACLF 1.0" in out.getvalue()
    assert set(ProtocolVersion.objects.values_list("study__code", flat=True)) == {"ACLF", "DLC"}
    assert coordinator.memberships.count() == 2


def test_seed_demo_loads_the_analysis_plan_of_each_study(db, settings):
    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("seed_demo", subjects=False, stdout=out)
    assert "analysis plan DLC 1.0" in out.getvalue()
    loaded = AnalysisPlanVersion.objects.values_list("study__code", "version", "loaded_by__username")
    assert set(loaded) == {("ACLF", "1.0", "datamanager"), ("DLC", "1.0", "datamanager")}


def test_seed_demo_reports_an_analysis_plan_changed_without_a_new_version(db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo", subjects=False, stdout=io.StringIO())
    AnalysisPlanVersion.objects.filter(study__code="DLC").update(sha256="0" * 64)  # as if the file had been edited
    with pytest.raises(CommandError, match=r"plan 1.0 of DLC is already loaded with different content"):
        call_command("seed_demo", subjects=False, stdout=io.StringIO())


def test_seed_demo_reports_a_protocol_file_changed_without_a_new_version(db, settings):
    settings.DEMO_MODE = True
    call_command("seed_demo", subjects=False, stdout=io.StringIO())
    ProtocolVersion.objects.filter(study__code="ACLF").update(sha256="0" * 64)  # as if the file had been edited
    with pytest.raises(CommandError, match="already loaded with different content"):
        call_command("seed_demo", subjects=False, stdout=io.StringIO())


def test_seed_demo_on_a_database_from_an_older_checkout_says_how_to_start_afresh(db, settings):
    """The protocol files changed since the database was loaded (same version, other text): say what to do."""
    from ecrf.services.protocols import load_protocol

    settings.DEMO_MODE = True
    path = PROJECT_ROOT / "ecrf" / "protocols" / "dlc_nct01220492.toml"
    load_protocol(
        path.read_text().replace("[study]", "# as an older checkout had it\n[study]", 1), source_name=path.name
    )
    with pytest.raises(CommandError, match=r"make clean && make run"):
        call_command("seed_demo", "--no-subjects", stdout=io.StringIO())
