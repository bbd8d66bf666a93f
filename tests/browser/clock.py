"""The moment a journey's entries are dated from."""

from datetime import UTC, datetime, timedelta


def journey_clock() -> datetime:
    """Now, or the last minute of yesterday in the first four hours of a day (UTC, the deployment's zone): a
    journey's times go back up to three hours and must fall on the day of its dates."""
    now = datetime.now(UTC)
    if now.hour < 4:
        return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(minutes=1)
    return now
