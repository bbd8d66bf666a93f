"""One writer at a time per subject, and no write over a save the writer has not seen.

Every service that writes a subject's data calls ``lock_subject`` first, inside its transaction: the subject's
row lock queues a simultaneous write (a double submit, a second session) until the first commits, and the
records the service checks are read again under the lock, so what it validates is what it overwrites. A form
carries the version of the record it was opened at; ``check_version`` compares it under the same lock, which
makes the stale check part of the write instead of a read before it.
"""

from django.core.exceptions import ValidationError

from ecrf.models import Subject
from ecrf.services.lock_state import refuse_if_locked

STALE = "Someone saved this form after you opened it. Nothing of yours was saved: reload to see their changes."


class StaleWrite(ValidationError):
    """The record changed after the form was opened: the write is refused whole."""

    def __init__(self, message: str = STALE):
        super().__init__(message, code="stale")


def lock_subject(subject: Subject, *records) -> None:
    """Hold ``subject``'s row lock until the transaction ends, then re-read it and each saved record given."""
    Subject.objects.select_for_update().filter(pk=subject.pk).values_list("pk", flat=True).get()
    refuse_if_locked(study_id=subject.study_id, subject_id=subject.pk)  # before any other check: said first
    for record in (subject, *records):
        if record is not None and record.pk is not None:
            record.refresh_from_db()


def check_version(current: int, expected: int | None) -> None:
    """Refuse the write when the form was opened at another version than the record's current one.

    ``expected`` None means the caller carries no version (a script, an import): the lock alone applies.
    """
    if expected is not None and expected != current:
        raise StaleWrite()
