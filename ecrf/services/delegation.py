"""The delegation log: a data manager delegates roles of their study, changes them and ends them, never deleting.

Every write keeps a history row with who made it and why. A delegation ends on a date (today or before) with a
reason; an ended one is never changed again, and a new delegation is added instead. A data manager does not
end or change their own delegation: another data manager does, so a study is never left without one by mistake.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import Membership, Site, Study
from ecrf.services.audit import require_reason, save_record


def _check_day(field: str, day: date | None) -> None:
    if day is None:
        raise ValidationError({field: "Give the date."})
    if day > timezone.localdate():
        raise ValidationError({field: "The delegation log records what is in force: not a date in the future."})


@transaction.atomic
def delegate(*, study: Study, user, role: str, site: Site | None, starts_on: date, by, reason: str) -> Membership:
    """Delegate ``role`` in ``study`` (at ``site``, or study-wide for monitors and data managers) to ``user``."""
    reason = require_reason(reason, "delegation")
    _check_day("starts_on", starts_on)
    membership = Membership(user=user, study=study, site=site, role=role, starts_on=starts_on)
    return save_record(membership, by=by, reason=f"Delegated: {reason}")


def _lock_open(membership: Membership, by) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        raise ValidationError("This delegation has ended: add a new one instead.")
    if membership.user_id == by.pk:
        raise ValidationError("Another data manager changes or ends your own delegation.")
    return membership


@transaction.atomic
def change_delegation(membership: Membership, *, role: str, site: Site | None, by, reason: str) -> Membership:
    """Change the role or site of a delegation in force; the history keeps what it was."""
    reason = require_reason(reason)
    membership = _lock_open(membership, by)
    membership.role, membership.site = role, site
    return save_record(membership, by=by, reason=f"Changed: {reason}")


@transaction.atomic
def end_delegation(membership: Membership, *, ends_on: date, by, reason: str) -> Membership:
    """End a delegation on ``ends_on`` (today or before, not before it started): from then the user's role is gone."""
    reason = require_reason(reason, "end of delegation")
    membership = _lock_open(membership, by)
    _check_day("ends_on", ends_on)
    membership.ends_on, membership.end_reason, membership.is_active = ends_on, reason, False
    return save_record(membership, by=by, reason=f"Ended on {ends_on}: {reason}")
