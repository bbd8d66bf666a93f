"""Test settings: the real settings with what a test run needs on top (pytest uses this module)."""

import os
import secrets

# A fresh random key per run: nothing secret in the repo, and the real settings still demand one.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
# Playwright's sync API runs an event loop in the test thread; Django's live server is safe with it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from trialsite.settings import *  # noqa: E402,F403

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
# The manifest storage needs collectstatic first; the live server serves from the finders instead.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Fast hashing: tests create many users; production keeps Django's default PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_ROOT = None  # nothing is collected in tests
WHITENOISE_USE_FINDERS = True

# The test client and the live server speak plain http.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
