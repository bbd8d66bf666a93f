"""Lockout after repeated failed passwords (django-axes, its database handler): per user, and per address higher."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_lockout_parameters
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render

# Pages that show the lockout on their own form (the signature's password field) instead of the lockout page.
LOCKOUT_SHOWN_IN_PLACE = {"ecrf:sign_visit"}


class UserAndAddressHandler(AxesDatabaseHandler):
    """Lock a username at AXES_FAILURE_LIMIT failures and an address at LOCKOUT_ADDRESS_FAILURE_LIMIT.

    Axes compares one failure count with one limit; a ward's staff share an address (NAT), so the address
    needs a higher limit than a username. Each parameter's failures are returned in units of the
    username limit: a parameter reaches AXES_FAILURE_LIMIT exactly when it reaches its own limit.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        user_limit = settings.AXES_FAILURE_LIMIT
        own_limits = {"username": user_limit, "ip_address": settings.LOCKOUT_ADDRESS_FAILURE_LIMIT}
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            own_limit = own_limits.get(parameter, user_limit) if isinstance(parameter, str) else user_limit
            worst = max(worst, failures * user_limit // own_limit)
        return worst


def client_address(request) -> str | None:
    """The client's address: behind the TLS proxy the one it appended to X-Forwarded-For, else REMOTE_ADDR.

    Without this every request behind the proxy has the proxy's address and one address lockout locks all.
    """
    if settings.BEHIND_TLS_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")


def lockout_response(request, original_response, credentials):
    """The sign-in lockout page (429), or the page itself where its form already says the account is locked."""
    match = request.resolver_match
    if original_response is not None and match is not None and match.view_name in LOCKOUT_SHOWN_IN_PLACE:
        return original_response
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
