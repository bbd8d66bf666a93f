"""The one rule bounding every clinical date and time to the study's plausible range.

A date is plausible from the earliest protocol version's effective date, less a screening allowance, to today
in the site's time zone (a time: to now). Every service writing a clinical date calls ``check_clinical_date``,
so 0001-01-01 or 9999-12-31 never reaches the schedule, the analysis or a time zone conversion.
"""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ecrf.models import ProtocolVersion, Study
from ecrf.selectors.protocols import first_effective_date

SCREENING_ALLOWANCE_DAYS = 365
# Background drugs (e.g. years of entecavir for hepatitis B) are recorded from when the subject started them,
# long before the study: their start dates get a past of a working life, not a screening allowance.
MEDICATION_HISTORY_DAYS = round(50 * 365.25)


def clinical_range(study_or_protocol: Study | ProtocolVersion, *, past_days: int = SCREENING_ALLOWANCE_DAYS):
    """(earliest, latest) plausible date of the study's clinical data: latest is today in the site's time zone."""
    study = study_or_protocol.study if isinstance(study_or_protocol, ProtocolVersion) else study_or_protocol
    first = first_effective_date(study)
    today = timezone.localdate()
    return (first or today) - timedelta(days=past_days), today


def check_clinical_date(
    study_or_protocol: Study | ProtocolVersion, field: str, value, *, past_days: int = SCREENING_ALLOWANCE_DAYS
) -> None:
    """Refuse a date or datetime outside the study's plausible range, keyed by ``field``; None passes."""
    value = _parsed(value)
    if value is None:
        return
    earliest, today = clinical_range(study_or_protocol, past_days=past_days)
    if isinstance(value, datetime):
        refused = not _start_of(earliest, value) <= value <= _now_like(value)
        rule = f"time must be between {earliest} and now ({timezone.localtime():%Y-%m-%d %H:%M})"
    else:
        refused = not earliest <= value <= today
        rule = f"date must be between {earliest} and today ({today})"
    if refused:
        raise ValidationError({field: f"The {rule}."})


def check_clinical_dates(study_or_protocol: Study | ProtocolVersion, values: dict, **past_days_of: int) -> None:
    """``check_clinical_date`` for each field of ``values``, every refusal reported at once; ``past_days_of``
    gives a field its own past allowance (a medication's start date).
    """
    errors = {}
    for field, value in values.items():
        past_days = past_days_of.get(field, SCREENING_ALLOWANCE_DAYS)
        try:
            check_clinical_date(study_or_protocol, field, value, past_days=past_days)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


def _parsed(value):
    """A date or datetime given as ISO text, as the model's full_clean would read it; text it cannot read is left
    for full_clean to refuse.
    """
    if not isinstance(value, str):
        return value
    try:
        return parse_datetime(value) if "T" in value or " " in value.strip() else parse_date(value)
    except ValueError:
        return None


def _start_of(day: date, like: datetime) -> datetime:
    """Midnight of ``day`` in the site's time zone, naive or aware as ``like`` is (comparisons need the same)."""
    midnight = datetime.combine(day, time.min)
    return midnight if timezone.is_naive(like) else timezone.make_aware(midnight)


def _now_like(like: datetime) -> datetime:
    now = timezone.now()
    return timezone.make_naive(now) if timezone.is_naive(like) else now
