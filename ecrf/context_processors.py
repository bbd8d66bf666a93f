"""Template context every page needs: the user's studies for the navigation, and demo mode."""

from django.conf import settings

from ecrf.access import memberships_of
from ecrf.navigation import study_navigation


def navigation(request):
    return {
        "nav_studies": study_navigation(memberships_of(request)) if request.user.is_authenticated else [],
        "demo_mode": settings.DEMO_MODE,
    }
