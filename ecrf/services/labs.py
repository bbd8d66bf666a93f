"""Lab results and clinical status at a visit."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import ClinicalStatus, LabDraw, LabValue, Visit
from ecrf.selectors.labs import draw_of, draw_version
from ecrf.services import edit_checks
from ecrf.services.audit import save_record
from ecrf.services.dates import check_clinical_date
from ecrf.services.locking import check_version, lock_subject
from ecrf.services.signatures import ensure_unlocked


@dataclass(frozen=True)
class NotDone:
    """An analyte not measured, and why: distinct from a value not yet entered."""

    reason: str


@transaction.atomic
@edit_checks.batched
def record_lab_draw(
    *,
    visit: Visit,
    drawn_at: datetime,
    values: dict[str, object],
    by,
    expected_version: int | None = None,
    confirmed_unusual: Collection[str] = (),
) -> LabDraw:
    """Record the visit's panel: ``values`` maps analyte code to a number, ``NotDone(reason)`` or None (not entered).
    ``confirmed_unusual`` names the analytes whose unusual values the user checked: each such value is stored as
    confirmed, so its history says who confirmed it.

    Every problem is reported at once, keyed by analyte code; nothing is saved unless everything is valid.
    """
    lock_subject(visit.subject, visit)
    existing = draw_of(visit)
    check_version(draw_version(existing), expected_version)
    if existing is not None:
        raise ValidationError({"panel": "This visit's panel is already saved: correct it with a reason instead."})
    ensure_unlocked(visit)
    check_clinical_date(visit.subject.study, "drawn_at", drawn_at)
    panel = visit.definition.lab_panel
    if panel is None:
        raise ValidationError({"panel": f"Visit {visit.definition.code} has no lab panel in the protocol."})
    analytes = {a.code: a for a in panel.analytes.all()}
    unknown = sorted(set(values) - set(analytes))
    if unknown:
        raise ValidationError({"values": f"Not in the {panel.label} panel: {', '.join(unknown)}."})
    draw = save_record(LabDraw(visit=visit, panel=panel, drawn_at=drawn_at), by=by)
    errors = {}
    for code, entry in values.items():
        if entry is None or entry == "":
            continue  # not entered yet: no row (unlike "not done", which is a row with its reason)
        try:
            save_record(_lab_value(draw, analytes[code], entry, code in confirmed_unusual), by=by)
        except ValidationError as error:
            errors[code] = error.messages
    if errors:
        raise ValidationError(errors)
    return draw


def _lab_value(draw: LabDraw, analyte, entry, confirmed: bool = False) -> LabValue:
    if isinstance(entry, NotDone):
        return LabValue(draw=draw, analyte=analyte, not_done=True, not_done_reason=entry.reason.strip())
    value = _decimal(entry, analyte)
    return LabValue(draw=draw, analyte=analyte, value=value, confirmed_unusual=_unusual(analyte, value, confirmed))


def _unusual(analyte, value: Decimal | None, confirmed: bool) -> bool:
    """Stored as confirmed only when the value is unusual: a usual value has nothing to confirm."""
    return confirmed and value is not None and analyte.is_implausible(float(value))


def _decimal(entry, analyte) -> Decimal | None:
    if entry is None or entry == "":
        return None
    try:
        value = Decimal(str(entry))
    except InvalidOperation:
        raise ValidationError(f"{analyte.label}: {entry!r} is not a number.") from None
    if not value.is_finite():
        raise ValidationError(f"{analyte.label}: {entry!r} is not a number.")
    return value


@transaction.atomic
def change_lab_value(
    lab_value: LabValue,
    *,
    value=None,
    not_done: NotDone | None = None,
    by,
    reason: str,
    confirmed_unusual: bool = False,
) -> LabValue:
    """Correct one result; the reason is required and the history keeps the old value (and who confirmed the new
    one, if unusual)."""
    lock_subject(lab_value.draw.visit.subject, lab_value)
    ensure_unlocked(lab_value.draw.visit)
    if not_done is not None:
        lab_value.value, lab_value.not_done, lab_value.not_done_reason = None, True, not_done.reason.strip()
    else:
        lab_value.value, lab_value.not_done, lab_value.not_done_reason = (
            _decimal(value, lab_value.analyte),
            False,
            "",
        )
    lab_value.confirmed_unusual = _unusual(lab_value.analyte, lab_value.value, confirmed_unusual)
    return save_record(lab_value, by=by, reason=reason)


@transaction.atomic
def record_clinical_status(*, visit: Visit, by, **findings) -> ClinicalStatus:
    """Record the visit's history and examination (ascites, encephalopathy grade, dialysis, symptoms)."""
    lock_subject(visit.subject, visit)
    ensure_unlocked(visit)
    check_clinical_date(visit.subject.study, "assessed_on", findings.get("assessed_on"))
    return save_record(ClinicalStatus(visit=visit, **findings), by=by)


@transaction.atomic
@edit_checks.batched
def update_lab_draw(
    draw: LabDraw,
    *,
    drawn_at: datetime,
    values: dict[str, object],
    by,
    reason: str,
    expected_version: int | None = None,
    confirmed_unusual: Collection[str] = (),
) -> LabDraw:
    """Apply the changes in ``values`` (and the draw time) to a saved draw: one reason covers them, each changed
    value gets its own history row; unchanged values are left alone. Errors are keyed by analyte code.
    """
    lock_subject(draw.visit.subject, draw)
    check_version(draw_version(draw), expected_version)
    ensure_unlocked(draw.visit)
    check_clinical_date(draw.visit.subject.study, "drawn_at", drawn_at)
    existing = {v.analyte.code: v for v in draw.values.active().select_related("analyte")}
    analytes = {a.code: a for a in draw.panel.analytes.all()}
    errors = {}
    if drawn_at != draw.drawn_at:
        draw.drawn_at = drawn_at
        save_record(draw, by=by, reason=reason)
    for code, entry in values.items():
        try:
            confirmed = code in confirmed_unusual
            _apply(draw, analytes[code], existing.get(code), entry, confirmed, by=by, reason=reason)
        except ValidationError as error:
            errors[code] = error.messages
    if errors:
        raise ValidationError(errors)
    return draw


def _apply(draw, analyte, current: LabValue | None, entry, confirmed: bool, *, by, reason) -> None:
    """One analyte of a saved draw: a first entry is saved, a different entry changes the row, the same is left."""
    wanted = _lab_value(draw, analyte, entry, confirmed)
    if current is None:
        if wanted.value is not None or wanted.not_done:
            save_record(wanted, by=by, reason=reason)
        return
    fields = ("value", "not_done", "not_done_reason")
    if [getattr(current, f) for f in fields] != [getattr(wanted, f) for f in fields]:
        not_done = entry if isinstance(entry, NotDone) else None
        change_lab_value(
            current, value=wanted.value, not_done=not_done, by=by, reason=reason, confirmed_unusual=confirmed
        )
