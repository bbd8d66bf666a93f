"""Signing a visit's forms (investigators, with their password) and unlocking them (data managers, with a reason)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.credentials import PasswordCheck, PasswordChecker
from ecrf.models import Visit, VisitSignature, VisitStatus
from ecrf.selectors.labs import standing_signature
from ecrf.services.audit import require_reason, save_record, void
from ecrf.services.locking import lock_subject

LOCKED_OUT = (
    "Too many wrong passwords: your account is locked for now and the visit was not signed. "
    "Try again later or ask an administrator to lift the lock."
)
MEANING = "I confirm that I have reviewed the data of this visit and that they are accurate and complete."


def sign_visit(
    visit: Visit, *, by, password: str, check_password: PasswordChecker, meaning: str = MEANING
) -> VisitSignature:
    """Sign after re-entering the password: the signature is the signer's act, not their session's.

    ``check_password`` (ecrf.credentials) counts a wrong password toward the sign-in lockout, and refuses a
    locked-out signer even with the right one. It runs before the transaction: a refusal rolls back
    the signature, never the recorded failure.
    """
    checked = check_password(by, password)
    if checked is PasswordCheck.LOCKED_OUT:
        raise ValidationError({"password": LOCKED_OUT})
    if checked is not PasswordCheck.ACCEPTED:
        raise ValidationError({"password": "The password is not correct; the visit was not signed."})
    return _record_signature(visit, by=by, meaning=meaning)


@transaction.atomic
def _record_signature(visit: Visit, *, by, meaning: str) -> VisitSignature:
    lock_subject(visit.subject, visit)
    if visit.status != VisitStatus.DONE:
        raise ValidationError("Only a visit that took place can be signed.")
    if standing_signature(visit) is not None:
        raise ValidationError("This visit is already signed.")
    signature = VisitSignature(visit=visit, signed_by=by, signed_at=timezone.now(), meaning=meaning)
    return save_record(signature, by=by)


@transaction.atomic
def unlock_visit(visit: Visit, *, by, reason: str) -> VisitSignature:
    """Void the standing signature so the forms can be corrected; the voided signature stays on record."""
    lock_subject(visit.subject, visit)
    signature = standing_signature(visit)
    if signature is None:
        raise ValidationError("This visit is not signed.")
    return void(signature, by=by, reason=f"Unlocked for correction: {require_reason(reason, 'unlock')}")


def ensure_unlocked(visit: Visit) -> None:
    """Refuse any change to a signed visit's forms: every service writing visit data calls this first."""
    signature = standing_signature(visit)
    if signature is not None:
        raise ValidationError(
            f"{visit.definition.code} was signed by {signature.signed_by} on {signature.signed_at:%Y-%m-%d}: its "
            "forms are read-only until a data manager unlocks them."
        )
