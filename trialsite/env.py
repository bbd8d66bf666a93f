"""Read settings from the environment: small, typed helpers (healthchecks.io style)."""

import os
import secrets
import warnings
from collections.abc import Mapping
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] = os.environ) -> bool:
    """Return the boolean in environment variable ``name``; anything unrecognised is an error."""
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    """A whole number from the environment; anything else refuses to start with the variable named."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None


def env_list(name: str, default: str = "", environ: Mapping[str, str] = os.environ) -> list[str]:
    """Return the comma-separated list in ``name``, blanks dropped."""
    return [item.strip() for item in environ.get(name, default).split(",") if item.strip()]


def secret_key(debug: bool, environ: Mapping[str, str] = os.environ) -> str:
    """Return SECRET_KEY, or the contents of the file SECRET_KEY_FILE names.

    Outside DEBUG a missing key stops the start-up: a guessable key would let anyone forge sessions.
    """
    key = environ.get("SECRET_KEY", "").strip()
    key_file = environ.get("SECRET_KEY_FILE", "").strip()
    if not key and key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE={key_file!r} cannot be read: {exc.strerror}.") from exc
    if key:
        return key
    if not debug:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY or SECRET_KEY_FILE in the environment "
            "(DEBUG is off, so no throw-away key is made up)."
        )
    warnings.warn("SECRET_KEY not set: using a throw-away key, sessions end at every restart.", stacklevel=2)
    return secrets.token_urlsafe(50)


def database(base_dir: Path, environ: Mapping[str, str] = os.environ) -> dict:
    """Return the default database: DATABASE_URL if set, else the embedded SQLite file under var/."""
    url = environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": base_dir / "var" / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be used: {exc}") from exc
    return config
