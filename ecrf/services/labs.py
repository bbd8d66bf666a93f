"""Lab results and clinical status at a visit."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import ClinicalStatus, LabDraw, LabValue, Visit
from ecrf.services.audit import save_record


@dataclass(frozen=True)
class NotDone:
    """An analyte not measured, and why: distinct from a value not yet entered."""

    reason: str


@transaction.atomic
def record_lab_draw(*, visit: Visit, drawn_at: datetime, values: dict[str, object], by) -> LabDraw:
    """Record the visit's panel: ``values`` maps analyte code to a number, ``NotDone(reason)`` or None (blank).

    Every problem is reported at once, keyed by analyte code; nothing is saved unless everything is valid.
    """
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
        try:
            save_record(_lab_value(draw, analytes[code], entry), by=by)
        except ValidationError as error:
            errors[code] = error.messages
    if errors:
        raise ValidationError(errors)
    return draw


def _lab_value(draw: LabDraw, analyte, entry) -> LabValue:
    if isinstance(entry, NotDone):
        return LabValue(draw=draw, analyte=analyte, not_done=True, not_done_reason=entry.reason.strip())
    return LabValue(draw=draw, analyte=analyte, value=_decimal(entry, analyte))


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
def change_lab_value(lab_value: LabValue, *, value=None, not_done: NotDone | None = None, by, reason: str) -> LabValue:
    """Correct one result; the reason is required and the history keeps the old value."""
    if not_done is not None:
        lab_value.value, lab_value.not_done, lab_value.not_done_reason = None, True, not_done.reason.strip()
    else:
        lab_value.value, lab_value.not_done, lab_value.not_done_reason = (
            _decimal(value, lab_value.analyte),
            False,
            "",
        )
    return save_record(lab_value, by=by, reason=reason)


@transaction.atomic
def record_clinical_status(*, visit: Visit, by, **findings) -> ClinicalStatus:
    """Record the visit's history and examination (ascites, encephalopathy grade, dialysis, symptoms)."""
    return save_record(ClinicalStatus(visit=visit, **findings), by=by)
