"""The options management commands share: ``--study CODE`` and ``--by USERNAME``, each refused by name."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ecrf.models import Study


def study_option(code: str) -> Study:
    """The study ``--study`` names, or a CommandError saying there is none."""
    study = Study.objects.filter(code=code).first()
    if study is None:
        raise CommandError(f"--study: there is no study {code}")
    return study


def user_option(username: str | None):
    """The user ``--by`` names (None when it was not given), or a CommandError saying there is none."""
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"--by: there is no user {username}")
    return user
