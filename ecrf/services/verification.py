"""Source data verification: a monitor marks a record, or one of its fields, as matching the source.

Any later change of the record (through ``audit.save_record`` or ``audit.void``) clears the marks it
invalidates, and the cleared mark says when, by whose change and why; a form's whole-record mark is cleared by a
change of any of its parts (a lab panel's by a change of one of its values).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import SourceVerification
from ecrf.selectors.records import describe, form_record_of, pointer
from ecrf.services.lock_state import refuse_if_record_locked


@transaction.atomic
def verify(*, record, by, field_name: str = "") -> SourceVerification:
    """Mark ``record`` (or its field ``field_name``) verified against the source by ``by``."""
    if getattr(record, "is_voided", False):
        raise ValidationError("This record is voided: there is nothing to verify.")
    points_at = pointer(record, field_name)
    refuse_if_record_locked(record)
    standing = standing_verification(record, field_name)
    if standing is not None:
        raise ValidationError(f"Already verified by {standing.verified_by} on {standing.verified_at:%Y-%m-%d %H:%M}.")
    mark = SourceVerification(
        **points_at,
        verified_by=by,
        verified_at=timezone.now(),
    )
    mark.full_clean()
    mark._history_user = by
    mark._change_reason = "Verified against source"
    mark.save()
    return mark


@transaction.atomic
def verify_all(targets, *, by) -> list[SourceVerification]:
    """Verify each (record, field name) of ``targets`` (a form made of several records), all or none."""
    return [verify(record=record, field_name=field_name, by=by) for record, field_name in targets]


def standing_verification(record, field_name: str = "") -> SourceVerification | None:
    return (
        SourceVerification.objects.filter(
            record_model=record._meta.label_lower, record_id=record.pk, field_name=field_name, cleared_at__isnull=True
        )
        .select_related("verified_by")
        .first()
    )


def clear_on_change(record, *, changed: list[str], by, reason: str) -> None:
    """Clear the standing marks the change of ``changed`` in ``record`` invalidates, saying so; an empty
    ``changed`` is a new record, which clears the whole-form mark of the form it is part of (a lab value added)."""
    form = form_record_of(record)
    stale = []
    if changed:
        marks = SourceVerification.objects.select_for_update().filter(
            record_model=record._meta.label_lower, record_id=record.pk, cleared_at__isnull=True
        )
        stale = [mark for mark in marks if not mark.field_name or mark.field_name in changed]
    if form is not record:
        stale += SourceVerification.objects.select_for_update().filter(
            record_model=form._meta.label_lower, record_id=form.pk, cleared_at__isnull=True, field_name=""
        )
    what = ", ".join(type(record)._meta.get_field(name).verbose_name for name in changed) or "added"
    now = timezone.now()
    for mark in stale:
        mark.cleared_at = now
        mark.cleared_reason = f"Changed after verification by {by} ({describe(record)}: {what}): {reason}"[:500]
        mark._history_user = by
        mark._change_reason = "Verification cleared by a change"
        mark.save()
