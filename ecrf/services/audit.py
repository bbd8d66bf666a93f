"""Saving and voiding clinical records so that every change says who, when, what and why."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from ecrf.selectors.records import subject_of
from ecrf.services import write_guard

CREATED = "Created"
NUL_REFUSED = "This text contains a NUL character, which cannot be stored."

# Where the writes of the moment come from when not from a form (an import): added to every change reason.
_source: ContextVar[str] = ContextVar("audit_source", default="")


@contextmanager
def recorded_from(source: str):
    """Within the block every history row's reason ends with ``source`` (e.g. "imported from bundle ..."), so
    the audit trail tells records loaded from elsewhere from records entered here."""
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def _reason(reason: str) -> str:
    source = _source.get()
    return f"{reason} ({source})" if source else reason


def require_reason(reason: str, what: str = "change") -> str:
    reason = (reason or "").strip()
    if "\x00" in reason:
        raise ValidationError({"reason": NUL_REFUSED})
    if not reason:
        raise ValidationError({"reason": f"Give a reason for this {what}: saved clinical data changes only with one."})
    return reason


@transaction.atomic
def save_record(instance, *, by, reason: str = ""):
    """Validate and save a clinical record; after its first save every change needs a reason.

    The history row (django-simple-history) gets ``by`` as the user and ``reason`` as the change reason; the
    old and new values are the rows before and after.
    """
    is_change = instance.pk is not None
    if is_change:
        reason = require_reason(reason)
    _refuse_nul_characters(instance)
    write_guard.before_write(instance)
    instance.full_clean()
    changed = _changed_fields(instance) if is_change else []
    instance._change_reason = _reason(reason or CREATED)
    instance._history_user = by
    instance.save()
    write_guard.after_write(instance, by=by, reason=reason, changed=changed)
    return instance


@transaction.atomic
def create_records(instances: list, *, by) -> list:
    """Validate and insert new clinical records of one model that a service generates (a subject's visit
    calendar), in one statement with a history row each: ``save_record`` of each, in a few queries.

    The same checks run: NUL characters, the lock of each record's subject, the model's field validation and
    ``clean``, and the write guard afterwards. The table's constraints and foreign keys are left to the database,
    which enforces them on the insert and rolls the whole batch back when one fails; rows a service computes carry
    no entry a person could correct, so there is no field to show a message on.
    """
    if not instances:
        return []
    model = type(instances[0])
    foreign_keys = [field.name for field in model._meta.concrete_fields if field.many_to_one]  # the database's
    checked_subjects = set()
    for instance in instances:
        if type(instance) is not model or instance.pk is not None:
            raise ValueError("create_records takes new records of one model")
        _refuse_nul_characters(instance)
        subject = subject_of(instance)
        if subject is None or subject.pk not in checked_subjects:
            write_guard.before_write(instance)
            checked_subjects.add(getattr(subject, "pk", None))
        instance.full_clean(exclude=foreign_keys, validate_constraints=False)
    created = bulk_create_with_history(instances, model, default_user=by, default_change_reason=_reason(CREATED))
    write_guard.after_create(created, by=by)
    return created


def _changed_fields(instance) -> list[str]:
    """The fields whose value differs from the stored row's, by name."""
    fields = [f for f in instance._meta.concrete_fields if f.name not in ("created_at", "updated_at")]
    stored = type(instance)._base_manager.filter(pk=instance.pk).values(*(f.attname for f in fields)).first() or {}
    return [f.name for f in fields if f.attname in stored and stored[f.attname] != getattr(instance, f.attname)]


def _refuse_nul_characters(instance) -> None:
    """PostgreSQL cannot store NUL in text; forms refuse it, and so must every other way in (scripts, imports)."""
    refused = {
        field.name: NUL_REFUSED
        for field in instance._meta.concrete_fields
        if isinstance(getattr(instance, field.attname, None), str) and "\x00" in getattr(instance, field.attname)
    }
    if refused:
        raise ValidationError(refused)


@transaction.atomic
def void(instance, *, by, reason: str):
    """Void a record instead of deleting it: it stays, marked, with who voided it, when and why."""
    reason = require_reason(reason, "voiding")
    if instance.is_voided:
        raise ValidationError("This record is already voided.")
    write_guard.before_write(instance)
    instance.is_voided = True
    instance.void_reason = reason
    instance.voided_at = timezone.now()
    instance.voided_by = by
    instance._change_reason = _reason(f"Voided: {reason}")
    instance._history_user = by
    instance.save()
    write_guard.after_write(instance, by=by, reason=f"Voided: {reason}", changed=["is_voided"])
    return instance
