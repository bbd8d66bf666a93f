"""Account events: a sign-out message for the user, and a log line for every failed sign-in and lockout."""

import logging

from axes.signals import user_locked_out
from django.contrib import messages
from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.dispatch import receiver

security_log = logging.getLogger("ecrf.security")


@receiver(user_logged_out)
def say_signed_out(sender, request, user, **kwargs):
    if request is not None:
        messages.info(request, "You have signed out.")


@receiver(user_login_failed)
def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    address = request.META.get("REMOTE_ADDR", "?") if request is not None else "?"
    security_log.warning("Failed sign-in for %r from %s", credentials.get("username", ""), address)


@receiver(user_locked_out)
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """Every lockout reaches the security log, where operations watch for attacks."""
    security_log.warning("Sign-in locked out for %r from %s after repeated wrong passwords", username, ip_address)
