"""Corrections of what was recorded at registration and consent, with a reason, at any status (allocation
included): audited like any clinical change, and refused whole when they would contradict later records.
"""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecrf.models import Subject
from ecrf.selectors.history import record_version
from ecrf.selectors.protocols import protocol_in_force
from ecrf.selectors.subjects import first_dates_after_consent, screening_visit, tied_answers
from ecrf.services.audit import require_reason, save_record
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.schedule import sync_schedule
from ecrf.services.signatures import ensure_unlocked
from ecrf.services.subjects import rederive_eligibility

KEEP = object()  # a correction's default: the saved value stays


@transaction.atomic
def correct_registration(
    subject: Subject,
    *,
    by,
    reason: str,
    expected_version: int | None = None,
    sex=KEEP,
    age_years=KEEP,
    weight_kg=KEEP,
    screening_date=KEEP,
    eligibility_answers: dict[str, bool] | None = None,
) -> Subject:
    """Correct the facts recorded at registration, with ``reason``; allowed at any status, allocation included.

    A saved eligibility answer tied to a corrected fact (age, sex) that the new fact contradicts, or that the old
    fact alone decided (the pregnancy item of a man now recorded as a woman), is refused on the fact unless
    ``eligibility_answers`` (criterion code -> answer) gives its new answer: the answers cannot be changed first,
    since the uncorrected fact decides them. Given answers are saved with the same reason and eligibility is
    derived again.

    The screening date must stay under the protocol version the subject is registered under: one falling under
    another version means another registration, not a correction.
    """
    lock_subject(subject)
    check_version(record_version(subject), expected_version)
    reason = require_reason(reason, "correction")
    _ensure_screening_unlocked(subject)
    facts = _given(sex=sex, age_years=age_years, weight_kg=weight_kg, screening_date=screening_date)
    if "screening_date" in facts:
        _check_screening_date(subject, facts["screening_date"])
    answers = _answers_to_revise(subject, facts, eligibility_answers or {})
    return _save_correction(subject, facts, by=by, reason=reason, answers=answers)


@transaction.atomic
def correct_consent(
    subject: Subject, *, by, reason: str, expected_version: int | None = None, consent_date=KEEP, consent_version=KEEP
) -> Subject:
    """Correct the recorded consent (date, form version) with ``reason``; a moved date re-plans the schedule."""
    lock_subject(subject)
    check_version(record_version(subject), expected_version)
    reason = require_reason(reason, "correction")
    if subject.consent_date is None:
        raise ValidationError({"consent_date": "Consent is not recorded yet: record it, there is nothing to correct."})
    _ensure_screening_unlocked(subject)
    facts = _given(consent_date=consent_date, consent_version=consent_version)
    if "consent_date" in facts:
        _check_consent_date(subject, facts["consent_date"])
    if "consent_version" in facts and not (facts["consent_version"] or "").strip():
        raise ValidationError({"consent_version": "Give the version of the consent form the subject signed."})
    moved = "consent_date" in facts and facts["consent_date"] != subject.consent_date
    _save_correction(subject, facts, by=by, reason=reason)
    if moved:  # re-plans only the planned visits anchored on consent
        sync_schedule(subject, by=by)
    return subject


def _given(**values) -> dict:
    return {name: value for name, value in values.items() if value is not KEEP}


def _ensure_screening_unlocked(subject: Subject) -> None:
    """Registration and consent show on the screening visit's history: its signature covers them."""
    visit = screening_visit(subject)
    if visit is not None:
        ensure_unlocked(visit)


def _check_screening_date(subject: Subject, screening_date: date) -> None:
    check_clinical_date(subject.study, "screening_date", screening_date)
    protocol = protocol_in_force(subject.study, screening_date)
    if protocol is None:
        raise ValidationError(
            {"screening_date": f"No protocol of {subject.study.code} is in force on {screening_date}."}
        )
    if protocol.pk != subject.protocol_id:
        raise ValidationError(
            {
                "screening_date": f"On {screening_date} the subject would fall under protocol version "
                f"{protocol.version}, not {subject.protocol.version}: re-register instead."
            }
        )
    if subject.consent_date and screening_date > subject.consent_date:
        raise ValidationError({"screening_date": f"Screening cannot come after consent ({subject.consent_date})."})


def _check_consent_date(subject: Subject, consent_date: date) -> None:
    check_clinical_date(subject.study, "consent_date", consent_date)
    if consent_date < subject.screening_date:
        raise ValidationError({"consent_date": f"Consent cannot come before screening ({subject.screening_date})."})
    for what, when in first_dates_after_consent(subject):
        if consent_date > when:
            raise ValidationError({"consent_date": f"Consent cannot come after {what} ({when})."})


def _save_correction(subject: Subject, facts: dict, *, by, reason: str, answers=()) -> Subject:
    changed = {name: value for name, value in facts.items() if getattr(subject, name) != value}
    if not changed:
        raise ValidationError("Nothing to correct: these are the values already saved.")
    for name, value in changed.items():
        setattr(subject, name, value)
    save_record(subject, by=by, reason=reason)
    for record, answer in answers:
        record.answer, record.assessed_by, record.assessed_at = answer, by, timezone.now()
        save_record(record, by=by, reason=f"With the registration correction: {reason}")
    return rederive_eligibility(subject, by=by)


def _answers_to_revise(subject: Subject, facts: dict, given: dict[str, bool]) -> list:
    """The saved answers the corrected facts call into question, each with its given new answer; refused, before
    anything is saved, when one lacks a new answer, when a new answer contradicts the corrected facts, or when an
    answer is given for an item this correction does not call into question.
    """
    old = subject.facts()
    new = old | {name: value for name, value in facts.items() if name in old}
    saved = {a.criterion.code: a for a in tied_answers(subject)}
    affected = {code: a for code, a in saved.items() if _called_into_question(a, old, new)}
    extra = sorted(set(given) - set(affected))
    if extra:
        raise ValidationError({code: NOT_AFFECTED.format(code=code) for code in extra})
    missing = [a for code, a in affected.items() if code not in given]
    if missing:
        raise ValidationError(_missing_answers(missing, new))
    contradicted = {code: affected[code].criterion.contradiction(answer, new) for code, answer in given.items()}
    if any(contradicted.values()):
        raise ValidationError({code: message for code, message in contradicted.items() if message})
    # An answer given the same as saved is saved too: it now stands on an assessment, not on the old fact.
    return [(affected[code], answer) for code, answer in given.items()]


NOT_AFFECTED = "{code}: this correction does not call its saved answer into question; change it on the checklist."


def _called_into_question(record, old: dict, new: dict) -> bool:
    """The new fact contradicts the saved answer, or leaves open an answer that the old fact alone decided."""
    criterion = record.criterion
    if old[criterion.fact] == new[criterion.fact]:
        return False
    forced = criterion.forced_answer(new)
    if forced is None:
        return criterion.forced_answer(old) is not None
    return forced != record.answer


def _missing_answers(records, new: dict) -> dict[str, str]:
    """One message per corrected fact, naming each item whose new answer it needs and why."""
    by_fact: dict[str, list] = {}
    for record in records:
        by_fact.setdefault(record.criterion.fact, []).append(record)
    messages = {}
    for fact, items in by_fact.items():
        reasons = " ".join(
            f"{r.criterion.code} ({r.criterion.tie_label()}) is answered {'yes' if r.answer else 'no'}; with this "
            f"correction {r.criterion.fact_note(new)}"
            for r in items
        )
        codes = " and ".join(r.criterion.code for r in items)
        messages[fact] = f"{reasons} Give the new answer to {codes} below, in this correction."
    return messages
