"""`make test` runs the suite twice; this proves each run used the database it was meant to."""

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_suite_runs_on_the_database_make_test_asked_for():
    expected = os.environ.get("EXPECT_DB_VENDOR")
    if expected is None:
        pytest.skip("EXPECT_DB_VENDOR not set: run through `make test` to check the backend")
    assert connection.vendor == expected


@pytest.mark.django_db
@pytest.mark.postgres
def test_postgresql_run_talks_to_a_postgresql_15_server():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int, inet_server_addr()::text")
        version, address = cursor.fetchone()
    assert 150000 <= version < 160000
    assert address.startswith("127.0.0.1")
