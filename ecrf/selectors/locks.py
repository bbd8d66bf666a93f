"""Which lock freezes a subject's data: its own, or its study's."""

from django.db.models import F, Q

from ecrf.models import DataLock


def standing_lock(*, study_id: int, subject_id: int | None) -> DataLock | None:
    """The lock that freezes the subject's data (its own, or its study's), if one stands."""
    covering = Q(subject__isnull=True) if subject_id is None else Q(subject_id=subject_id) | Q(subject__isnull=True)
    return (
        DataLock.objects.filter(covering, study_id=study_id, unlocked_at__isnull=True)
        .select_related("subject", "locked_by")
        .order_by(F("subject_id").asc(nulls_first=True))  # the study's lock first, on every database
        .first()
    )


def own_lock(subject) -> DataLock | None:
    """The subject's own standing lock (not its study's), if any."""
    return DataLock.objects.filter(subject=subject, unlocked_at__isnull=True).select_related("locked_by").first()
