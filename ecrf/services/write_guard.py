"""What every clinical write passes through: the lock check before it, the monitoring follow-up after it.

``audit.save_record`` and ``audit.void`` are the two ways every clinical write reaches the database; they call
``before_write`` and ``after_write``. So entry, corrections, a query's correction, imports and scripts are all
refused on locked data alike, and every change clears the verification it invalidates, is linked to the open
queries on what it changed, and is run past the protocol's edit checks.
"""

from ecrf.services import edit_checks, queries, verification
from ecrf.services.lock_state import refuse_if_record_locked


def before_write(record) -> None:
    """Refuse the write when the record's subject, or its study, is locked."""
    refuse_if_record_locked(record)


def after_write(record, *, by, reason: str, changed: list[str]) -> None:
    """Follow a saved change of ``record`` (fields ``changed``; empty for a new record) through monitoring."""
    verification.clear_on_change(record, changed=changed, by=by, reason=reason or "new record")
    if changed:
        queries.note_correction(record, changed=changed, by=by, reason=reason)
    edit_checks.after_write(record)


def after_create(records: list, *, by) -> None:
    """``after_write`` of new records inserted together (``audit.create_records``)."""
    for record in records:
        verification.clear_on_change(record, changed=[], by=by, reason="new record")
    edit_checks.after_create(records)
