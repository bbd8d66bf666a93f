"""Corrections of a product's release results (its QC record), alone or with the rest of its infusion."""

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import InfusionEvent, ReleaseResult
from ecrf.selectors.history import infusion_version
from ecrf.services.audit import save_record
from ecrf.services.events import change_infusion, check_release_codes, release_failure, release_reading
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.signatures import ensure_unlocked


@transaction.atomic
def change_release_results(
    infusion: InfusionEvent,
    *,
    release: dict[str, object],
    by,
    reason: str,
    expected_version: int | None = None,
    release_deviation: str | None = None,
) -> InfusionEvent:
    """Correct release results: ``release`` maps criterion code to the measured number (True when negative for
    "negative" criteria; None for no result). Each changed result is saved with the reason and its pass
    recomputed; a product that now fails release is refused unless its infusion has a release deviation, which
    ``release_deviation`` (None: keep the saved one) records or amends with the same reason.
    """
    lock_subject(infusion.subject, infusion)
    check_version(infusion_version(infusion), expected_version)
    if infusion.visit is not None:
        ensure_unlocked(infusion.visit)
    if infusion.is_placebo and release:
        raise ValidationError({"release": "A placebo infusion has no release results."})
    results = {r.criterion.code: r for r in infusion.release_results.active().select_related("criterion")}
    criteria = {c.code: c for c in infusion.subject.protocol.release_criteria.all()}
    check_release_codes(release, criteria.values())
    for code, measured in release.items():
        _correct_result(infusion, criteria[code], results.get(code), measured, by=by, reason=reason)
    if release_deviation is not None:
        _amend_deviation(infusion, release_deviation.strip(), by=by, reason=reason)
    failing = [str(r.criterion) for r in infusion.release_results.active().select_related("criterion") if not r.passed]
    if failing and not infusion.release_deviation:
        raise release_failure(failing)
    return infusion


def _amend_deviation(infusion: InfusionEvent, deviation: str, *, by, reason: str) -> None:
    """Save the infusion with its new release deviation, when it differs from the saved one."""
    if infusion.is_placebo and deviation:
        raise ValidationError({"release_deviation": "A placebo infusion has no release to deviate from."})
    if deviation != infusion.release_deviation:
        infusion.release_deviation = deviation
        save_record(infusion, by=by, reason=reason)


def _correct_result(infusion, criterion, result: ReleaseResult | None, measured, *, by, reason) -> None:
    """Save the criterion's result when it differs from the saved one (or none was saved)."""
    value, negative = release_reading(criterion, measured)
    if result is None:
        result = ReleaseResult(infusion=infusion, criterion=criterion)
    elif (result.value, result.negative) == (value, negative):
        return
    result.value, result.negative = value, negative
    result.passed = criterion.passes(value=value, negative=negative)
    save_record(result, by=by, reason=reason)


@transaction.atomic
def correct_infusion(
    infusion: InfusionEvent,
    *,
    by,
    reason: str,
    expected_version: int | None = None,
    release: dict[str, object] | None = None,
    **details,
) -> InfusionEvent:
    """The infusion correction page's save: release results, release deviation and details under one lock,
    version and reason; the infusion itself is saved only when its deviation or one of its details changes.
    """
    change_release_results(
        infusion,
        release=release or {},
        by=by,
        reason=reason,
        expected_version=expected_version,
        release_deviation=details.pop("release_deviation", None),
    )
    if any(getattr(infusion, field) != value for field, value in details.items()):
        change_infusion(infusion, by=by, reason=reason, **details)
    return infusion
