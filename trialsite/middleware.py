"""Small middleware of the site's own: browser features refused, pages never cached, sessions with an end."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils.cache import add_never_cache_headers

SESSION_STARTED_KEY = "trialsite_session_started_at"
SESSION_RENEWED_KEY = "trialsite_session_renewed_at"


class PermissionsPolicyMiddleware:
    """Send ``Permissions-Policy`` from settings.PERMISSIONS_POLICY ({feature: [allowed origins]})."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})" for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.header)
        return response


class NoStoreMiddleware:
    """No page of the app is kept by the browser or a proxy: clinical data must not outlive the session.

    Static files never get here (whitenoise answers them earlier) and keep their long caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


class AbsoluteSessionLifetimeMiddleware:
    """Sign out a session SESSION_ABSOLUTE_SECONDS after sign-in, however active (the idle limit is separate)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.setdefault(SESSION_STARTED_KEY, time.time())
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(request, "Your session reached its time limit: please sign in again.")
        return self.get_response(request)


class IdleSessionRenewalMiddleware:
    """Renew a signed-in session's idle limit (SESSION_COOKIE_AGE from its last save) when its last renewal is
    SESSION_RENEW_SECONDS old: a session is written once a minute at most, not on every page it opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            if now - request.session.get(SESSION_RENEWED_KEY, 0) >= settings.SESSION_RENEW_SECONDS:
                request.session[SESSION_RENEWED_KEY] = now  # modifies the session: saved with a new expiry
        return self.get_response(request)
