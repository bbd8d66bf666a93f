"""Playwright on Debian's chromium (never a downloaded browser), against Django's live server."""

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def demo_data(transactional_db, settings):
    from django.core.management import call_command

    settings.DEMO_MODE = True
    call_command("seed_demo", subjects=False)
