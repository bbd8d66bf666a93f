"""`make bench` at a few subjects: every script under bench/ runs and bench/run.py writes its results table.

The figures of so small a run mean nothing; the run proves the scripts still work against the code as it is.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bench_database():
    """A database of its own on the test cluster (the bench migrates and seeds it), dropped afterwards."""
    name = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = connection.settings_dict
    yield f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_every_bench_script_runs_and_the_results_are_written(bench_database, tmp_path):
    out = tmp_path / "RESULTS.md"
    environment = {
        **os.environ,
        "DATABASE_URL": bench_database,
        "DJANGO_SETTINGS_MODULE": "trialsite.settings",
        "DEMO_MODE": "true",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    command = [sys.executable, "bench/run.py", "--sizes", "20", "40", "--quick", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = out.read_text()
    assert results.startswith("# Bench results")
    for goal in (
        "site worklist",
        "subject page",
        "lab panel",
        "analysis:",
        "analysis, the read",
        "analysis, the whole report",
        "dashboard:",
        "CSV export",
        "randomisation",
    ):
        assert results.count(goal) >= 2, goal  # a line per size
    assert "flat peak memory" in results
