"""Signing a visit's forms (investigators, with their password) and unlocking them (data managers, with a reason)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.credentials import PasswordCheck, PasswordChecker
from ecrf.models import Visit, VisitSignature, VisitStatus
from ecrf.roles import Role
from ecrf.selectors.labs import standing_signature
from ecrf.selectors.signing import content_versions, incompleteness, missing_forms
from ecrf.services.audit import require_reason, save_record, void
from ecrf.services.locking import lock_subject

LOCKED_OUT = (
    "Too many wrong passwords: your account is locked for now and the visit was not signed. "
    "Try again later or ask an administrator to lift the lock."
)
MEANING = "I confirm that I have reviewed the data of this visit and that they are accurate and complete."


def sign_visit(
    visit: Visit,
    *,
    by,
    password: str,
    check_password: PasswordChecker,
    meaning: str = MEANING,
    reviewed_version: int | None = None,
) -> VisitSignature:
    """Sign one visit after re-entering the password: the signature is the signer's act, not their session's.

    Refused, with nothing written, when a form the visit's definition asks for is not complete.
    """
    reviewed = None if reviewed_version is None else {visit.pk: reviewed_version}
    return sign_visits(
        [visit], by=by, password=password, check_password=check_password, meaning=meaning, reviewed=reviewed
    )[0]


def sign_visits(
    visits,
    *,
    by,
    password: str,
    check_password: PasswordChecker,
    meaning: str = MEANING,
    reviewed: dict[int, int | None] | None = None,
) -> list[VisitSignature]:
    """Sign several visits in one act: one password check, then one signature per visit, all or none.

    ``check_password`` (ecrf.credentials) counts a wrong password toward the sign-in lockout, and refuses a
    locked-out signer even with the right one. It runs once, before the transaction: a refusal rolls back
    the signatures, never the recorded failure. ``reviewed`` maps visit pk to the content version
    (ecrf.selectors.signing.content_versions) the signer was shown: a visit changed since is not signed (None,
    or a visit not in it, means no version was carried: a script's call).
    """
    visits = list(visits)
    if not visits:
        raise ValidationError("Choose at least one visit to sign.")
    checked = check_password(by, password)
    if checked is PasswordCheck.LOCKED_OUT:
        raise ValidationError({"password": LOCKED_OUT})
    if checked is not PasswordCheck.ACCEPTED:
        raise ValidationError({"password": "The password is not correct; nothing was signed."})
    return _record_signatures(visits, by=by, meaning=meaning, reviewed=reviewed)


@transaction.atomic
def _record_signatures(visits: list[Visit], *, by, meaning: str, reviewed) -> list[VisitSignature]:
    for visit in visits:
        lock_subject(visit.subject, visit)
    refusals = [refusal for visit in visits for refusal in _refusals(visit)]
    if reviewed is not None:
        current = content_versions(visits)
        refusals += [
            f"{visit.definition.code} changed after you opened this page: review it again before signing."
            for visit in visits
            if reviewed.get(visit.pk) not in (None, current[visit.pk])
        ]
    if refusals:
        raise ValidationError(refusals)
    now = timezone.now()
    return [
        save_record(VisitSignature(visit=visit, signed_by=by, signed_at=now, meaning=meaning), by=by)
        for visit in visits
    ]


def _refusals(visit: Visit) -> list[str]:
    """Why the visit cannot be signed now, read under the subject's lock; empty when it can."""
    code = visit.definition.code
    if visit.status != VisitStatus.DONE:
        return [f"Only a visit that took place can be signed; {code} has not."]
    if standing_signature(visit) is not None:
        return [f"{code} is already signed."]
    missing = missing_forms(visit.subject, [visit])[visit.pk]
    return [incompleteness(visit, missing)] if missing else []


@transaction.atomic
def record_signature(visit: Visit, *, signed_by, signed_at, meaning: str, by) -> VisitSignature:
    """A signature given in another system (an import): kept as the signer gave it there, with ``by`` (who loads
    it) in its history. The visit must be signable now, as for a signature given here.
    """
    lock_subject(visit.subject, visit)
    refusals = _refusals(visit)
    if refusals:
        raise ValidationError(refusals)
    if not signed_by.memberships.filter(study=visit.subject.study, role=Role.INVESTIGATOR).exists():
        raise ValidationError({"signed_by": f"{signed_by} is not an investigator of {visit.subject.study.code}."})
    signature = VisitSignature(visit=visit, signed_by=signed_by, signed_at=signed_at, meaning=meaning)
    return save_record(signature, by=by, reason=f"Signature by {signed_by} at {signed_at:%Y-%m-%d %H:%M} kept as given")


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
