"""How a stored or typed value reads to people on history and conflict pages: ISO dates, local times, yes/no."""

from datetime import date, datetime

from django.utils import timezone


def as_text(value) -> str:
    """A plain value as people read it: "" for nothing, yes/no, ``YYYY-MM-DD HH:MM`` in the site's time zone for an
    aware time (a naive one as it is), ISO dates, anything else as its text.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
