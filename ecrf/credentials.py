"""Re-entered passwords (signatures) go through Django's authenticate, so django-axes counts and locks them.

A signature and a sign-in use one credential, so they share one failure counter and one lockout.
"""

import enum
from collections.abc import Callable

from django.contrib.auth import authenticate


class PasswordCheck(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    LOCKED_OUT = "locked out"


PasswordChecker = Callable[[object, str], PasswordCheck]


def request_password_checker(request) -> PasswordChecker:
    """Check a user's password as a sign-in attempt from ``request``'s address, without logging anyone in."""

    def check(user, password: str) -> PasswordCheck:
        authenticated = authenticate(request, username=user.get_username(), password=password or "")
        if authenticated is not None and authenticated.pk == user.pk:
            return PasswordCheck.ACCEPTED
        # Axes flags the request when the account or address is (or has just become) locked out.
        if getattr(request, "axes_locked_out", False):
            return PasswordCheck.LOCKED_OUT
        return PasswordCheck.WRONG

    return check
