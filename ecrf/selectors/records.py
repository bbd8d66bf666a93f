"""Which subject a clinical record belongs to, and how a record or field is named to people."""

from django.core.exceptions import ValidationError

from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
)


def subject_path(model) -> list[str] | None:
    """The attribute hops from a record of ``model`` to its subject (``["draw", "visit", "subject"]``), [] for a
    Subject itself, None for records that are no subject's (protocol, organisation)."""
    if model is Subject:
        return []
    hops = getattr(model, "study_code_path", "").split("__")[:-2]
    return hops if hops and hops[-1] == "subject" else None


def subject_of(record) -> Subject | None:
    """The record's subject, or None."""
    hops = subject_path(type(record))
    if hops is None:
        return None
    for hop in hops:
        record = getattr(record, hop)
    return record


def pointer(record, field_name: str = "") -> dict:
    """The fields by which a query or verification mark points at ``record`` (and its field), checked: a field
    the record's model does not have is refused."""
    if field_name and field_name not in {f.name for f in type(record)._meta.concrete_fields}:
        raise ValidationError({"field_name": f"{type(record)._meta.verbose_name} has no field {field_name!r}."})
    subject = subject_of(record)
    return {
        "study_id": subject.study_id,
        "subject": subject,
        "record_model": record._meta.label_lower,
        "record_id": record.pk,
        "field_name": field_name,
        "where": describe(record, field_name)[:200],
    }


def form_record_of(record):
    """The record a form shows as a whole: a lab value's panel, a release result's infusion, else itself."""
    if isinstance(record, LabValue):
        return record.draw
    if isinstance(record, ReleaseResult):
        return record.infusion
    return record


def describe(record, field_name: str = "") -> str:
    """How people name the record (and field): "DLC-BJ-5MC-026 W12 · labs · Total bilirubin (TBIL)"."""
    subject = subject_of(record)
    code = subject.subject_code if subject is not None else ""
    what = _what(record)
    label = f"{code} {what}".strip()
    if not field_name or isinstance(record, LabValue):
        return label
    return f"{label} · {type(record)._meta.get_field(field_name).verbose_name}"


def _what(record) -> str:
    if isinstance(record, LabValue):
        return f"{record.draw.visit.definition.code} · labs · {record.analyte.label} ({record.analyte.code})"
    if isinstance(record, LabDraw):
        return f"{record.visit.definition.code} · lab panel"
    if isinstance(record, Visit):
        return f"{record.definition.code} · visit"
    if isinstance(record, ClinicalStatus):
        return f"{record.visit.definition.code} · clinical status"
    if isinstance(record, Subject):
        return "· registration and consent"
    if isinstance(record, InfusionEvent):
        return f"· infusion {record.number}"
    if isinstance(record, ReleaseResult):
        return f"· infusion {record.infusion.number} release {record.criterion.code}"
    if isinstance(record, AdverseEvent):
        return f"· adverse event {record.term}"
    if isinstance(record, ConcomitantMedication):
        return f"· medication {record.drug}"
    if isinstance(record, EligibilityAnswer):
        return f"· eligibility {record.criterion.code}"
    return f"· {record}"
