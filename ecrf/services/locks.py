"""Locking a subject's data, or a whole study's, once clean, and lifting the lock with a reason.

While a lock stands no write passes (``write_guard.refuse_if_locked``); both steps stay in the history.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import DataLock, Study, Subject
from ecrf.selectors.cleanliness import cleanliness_of_subject, unclean_subjects
from ecrf.services.audit import require_reason
from ecrf.services.lock_state import refuse_if_locked

UNCLEAN = "{what} is not clean ({problems}): state why it is locked anyway in the override."


@transaction.atomic
def lock_subject_data(*, subject: Subject, by, reason: str = "", override: str = "") -> DataLock:
    """Lock ``subject``'s data. Unclean data (``cleanliness_of_subject``) are locked only with a stated override."""
    Subject.objects.select_for_update().filter(pk=subject.pk).values_list("pk", flat=True).get()
    refuse_if_locked(study_id=subject.study_id, subject_id=subject.pk)
    problems = cleanliness_of_subject(subject).problems
    why = _why(reason, override, problems, subject.subject_code)
    return _lock(study=subject.study, subject=subject, by=by, reason=why, unclean=bool(problems))


@transaction.atomic
def lock_study(*, study: Study, by, reason: str = "", override: str = "") -> DataLock:
    """Lock every subject's data in ``study``; with unclean subjects, only with a stated override.

    Every subject's row lock is taken first, as each write takes its subject's (``locking.lock_subject``): a write
    under way finishes before the lock, and one that starts after it sees the lock and is refused.
    """
    Study.objects.select_for_update().filter(pk=study.pk).values_list("pk", flat=True).get()
    list(Subject.objects.select_for_update().filter(study=study).values_list("pk", flat=True))
    refuse_if_locked(study_id=study.pk, subject_id=None)
    unclean = unclean_subjects(study)
    problems = [f"{len(unclean)} unclean subject{'s' if len(unclean) != 1 else ''}"] if unclean else []
    why = _why(reason, override, problems, f"Study {study.code}")
    return _lock(study=study, subject=None, by=by, reason=why, unclean=bool(unclean))


def _why(reason: str, override: str, problems: list[str], what: str) -> str:
    if problems:
        if not (override or "").strip():
            raise ValidationError({"override": UNCLEAN.format(what=what, problems="; ".join(problems))})
        return require_reason(f"Override ({'; '.join(problems)}): {override.strip()}", "lock")
    return require_reason(reason, "lock")


def _lock(*, study, subject, by, reason: str, unclean: bool) -> DataLock:
    lock = DataLock(
        study=study, subject=subject, locked_by=by, locked_at=timezone.now(), reason=reason, unclean_when_locked=unclean
    )
    lock.full_clean()
    lock._history_user = by
    lock._change_reason = f"Locked: {reason}"
    lock.save()
    return lock


@transaction.atomic
def unlock(*, lock: DataLock, by, reason: str) -> DataLock:
    """Lift ``lock``; the data can be changed again, and the history says who unlocked it and why."""
    lock = DataLock.objects.select_for_update().get(pk=lock.pk)
    if not lock.is_standing:
        raise ValidationError("This lock was already lifted.")
    lock.unlock_reason = require_reason(reason, "unlock")
    lock.unlocked_by = by
    lock.unlocked_at = timezone.now()
    lock.full_clean()
    lock._history_user = by
    lock._change_reason = f"Unlocked: {lock.unlock_reason}"
    lock.save()
    return lock
