"""Settings come from the environment: secret key, database URL, booleans."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from trialsite import env

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **environ):
    """Run manage.py with the real settings in a clean environment plus ``environ``."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "trialsite.settings", **environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_app_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_app_starts_with_secret_key_from_environment():
    result = run_manage("check", SECRET_KEY="a-test-key-that-is-long-enough-for-django-0123456789")
    assert result.returncode == 0, result.stderr


def test_secret_key_is_read_from_the_file_secret_key_file_names(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-the-file\n")
    assert env.secret_key(debug=False, environ={"SECRET_KEY_FILE": str(key_file)}) == "from-the-file"


def test_unreadable_secret_key_file_is_a_clear_error(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.secret_key(debug=False, environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_database_url_is_honoured():
    config = env.database(PROJECT_ROOT, environ={"DATABASE_URL": "postgres://ecrf:pw@db.example:5433/trials"})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == ("db.example", 5433, "trials", "ecrf")


def test_database_url_reaches_the_running_settings():
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    result = run_manage(
        "shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50, DATABASE_URL="postgres://u:p@127.0.0.1:1/from_the_url"
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "from_the_url"], result.stderr


def test_without_database_url_the_default_is_embedded_sqlite():
    config = env.database(PROJECT_ROOT, environ={})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == PROJECT_ROOT / "var" / "db.sqlite3"


def test_unknown_database_scheme_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL cannot be used"):
        env.database(PROJECT_ROOT, environ={"DATABASE_URL": "oracle-ish://x"})


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("True", True), ("off", False), ("", False)])
def test_env_bool_reads_the_usual_words(raw, expected):
    assert env.env_bool("DEBUG", environ={"DEBUG": raw}) is expected


def test_env_bool_refuses_a_word_it_does_not_know():
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env.env_bool("DEBUG", environ={"DEBUG": "maybe"})


def test_debug_is_off_unless_asked_and_time_zone_support_is_on(settings):
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.DEBUG, s.USE_TZ)",
        SECRET_KEY="k" * 50,
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_allowed_hosts_come_from_the_environment():
    code = "from django.conf import settings as s; print(','.join(s.ALLOWED_HOSTS))"
    result = run_manage(
        "shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50, ALLOWED_HOSTS="ecrf.example.org, 10.0.0.5"
    )
    assert result.stdout.strip() == "ecrf.example.org,10.0.0.5", result.stderr


def test_cookies_are_secure_unless_turned_off():
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    default = run_manage("shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50)
    plain_http = run_manage("shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50, SECURE_COOKIES="false")
    assert default.stdout.split() == ["True", "True"], default.stderr
    assert plain_http.stdout.split() == ["False", "False"], plain_http.stderr


def test_a_non_numeric_session_timeout_is_refused_by_name():
    with pytest.raises(ImproperlyConfigured, match="SESSION_IDLE_SECONDS"):
        env.env_int("SESSION_IDLE_SECONDS", 1800, environ={"SESSION_IDLE_SECONDS": "half an hour"})


PRODUCTION_LIKE = {
    "SECRET_KEY": "a-long-random-production-key-" + "x7Kq9Lm2Np4Rs6Tv8Wy0Zb3Cd5Fg7Hj",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "ecrf.hospital.example",
    "HSTS_SECONDS": "31536000",
    "HSTS_PRELOAD": "true",
    "SSL_REDIRECT": "true",
    "SECURE_COOKIES": "true",
}


def test_deploy_check_is_clean_with_production_like_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_LIKE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hsts_and_the_ssl_redirect_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_SSL_REDIRECT)"
    )
    chosen = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        **{**PRODUCTION_LIKE, "HSTS_INCLUDE_SUBDOMAINS": "false", "HSTS_PRELOAD": "no"},
    )
    plain = run_manage("shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50)
    assert chosen.stdout.split() == ["31536000", "False", "False", "True"], chosen.stderr
    assert plain.stdout.split() == ["0", "True", "False", "False"], plain.stderr


def test_session_limit_and_lockout_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_ABSOLUTE_SECONDS, s.AXES_FAILURE_LIMIT, s.LOCKOUT_ADDRESS_FAILURE_LIMIT, "
        "int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    default = run_manage("shell", "--no-imports", "-c", code, SECRET_KEY="k" * 50)
    chosen = run_manage(
        "shell",
        "--no-imports",
        "-c",
        code,
        SECRET_KEY="k" * 50,
        SESSION_ABSOLUTE_SECONDS="3600",
        LOGIN_FAILURE_LIMIT="3",
        LOGIN_ADDRESS_FAILURE_LIMIT="20",
        LOGIN_COOLOFF_MINUTES="60",
    )
    assert default.stdout.split() == ["43200", "5", "50", "1800"], default.stderr
    assert chosen.stdout.split() == ["3600", "3", "20", "3600"], chosen.stderr
