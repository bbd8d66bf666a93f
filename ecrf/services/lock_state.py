"""Whether a subject's data may be written: no standing lock on the subject or on its study."""

from django.core.exceptions import ValidationError

from ecrf.selectors.locks import standing_lock
from ecrf.selectors.records import subject_of


def refuse_if_locked(*, study_id: int, subject_id: int | None) -> None:
    lock = standing_lock(study_id=study_id, subject_id=subject_id)
    if lock is not None:
        what = f"{lock.subject.subject_code}'s data are" if lock.subject_id else "The study's data are"
        raise ValidationError(
            f"{what} locked (by {lock.locked_by} on {lock.locked_at:%Y-%m-%d}): nothing can be changed until a data "
            "manager unlocks them with a reason."
        )


def refuse_if_record_locked(record) -> None:
    """Refuse a write of ``record`` when its subject, or its study, is locked."""
    subject = subject_of(record)
    if subject is not None:
        refuse_if_locked(study_id=subject.study_id, subject_id=subject.pk)
