"""The deployment files: compose validated against the compose specification, no CDN anywhere."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def test_docker_compose_file_follows_the_compose_specification():
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_jsonschema_rejects_a_broken_compose_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  web:\n    image: x\n    ports: not-a-list\n    restart: sometimes\n")
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0


def test_compose_runs_postgres_with_a_named_volume_and_the_app_waits_for_its_health():
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert "pgdata:/var/lib/postgresql/data" in compose
    assert "condition: service_healthy" in compose
    assert "pg_isready" in compose


def test_compose_runs_a_task_worker_that_shares_the_export_volume_with_the_web_service():
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    worker = compose.split("\n  worker:\n", 1)[1].split("\nvolumes:", 1)[0]
    assert '"manage.py", "db_worker"' in worker
    assert compose.count("exports:/app/var/exports") == 2  # web (downloads) and worker (writes)
    assert "migrate" not in worker  # the web service migrates; two migrating containers would race


def test_make_run_serves_with_a_task_worker_beside_it():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "db_worker --no-reload &" in run
    assert "runserver" in run


def test_container_waits_for_the_database_and_migrates_before_serving():
    entrypoint = (PROJECT_ROOT / "docker" / "entrypoint.sh").read_text()
    steps = [line for line in entrypoint.splitlines() if line.startswith(("python", "exec"))]
    assert steps[0].startswith("python manage.py wait_for_db")
    assert steps[1] == "python manage.py migrate --noinput"
    assert steps[2] == 'exec "$@"'


@pytest.mark.parametrize("folder", ["templates", "static/css", "ecrf", "trialsite"])
def test_no_page_loads_anything_from_the_internet(folder):
    external = re.compile(r"""(src|href)=["']?(https?:)?//""", re.IGNORECASE)
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in {".html", ".css", ".py"} and external.search(path.read_text())
    ]
    assert offenders == []


def test_bootstrap_is_vendored_with_its_source_maps():
    vendor = PROJECT_ROOT / "static" / "vendor" / "bootstrap-5.3.9"
    for name in (
        "css/bootstrap.min.css",
        "css/bootstrap.min.css.map",
        "js/bootstrap.bundle.min.js",
        "js/bootstrap.bundle.min.js.map",
    ):
        assert (vendor / name).stat().st_size > 0


def test_collectstatic_with_the_production_storage_succeeds(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": "k" * 50, "STATIC_ROOT": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=PROJECT_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "trialsite.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("vendor/bootstrap-5.3.9/css/bootstrap.min.*.css"))


@pytest.mark.django_db(transaction=True)
def test_container_healthcheck_probe_passes_against_a_running_app(live_server):
    probe = {"PATH": os.environ["PATH"], "ALLOWED_HOSTS": "localhost", "HEALTHCHECK_URL": f"{live_server.url}/healthz"}
    result = subprocess.run(
        [sys.executable, "docker/healthcheck.py"], cwd=PROJECT_ROOT, env=probe, capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
