"""Which subject a clinical record belongs to, and how a record or field is named to people."""

from ecrf.models import LabDraw, LabValue, ReleaseResult, Subject


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


def form_record_of(record):
    """The record a form shows as a whole: a lab value's panel, a release result's infusion, else itself."""
    if isinstance(record, LabValue):
        return record.draw
    if isinstance(record, ReleaseResult):
        return record.infusion
    return record


def describe(record, field_name: str = "") -> str:
    """How people name the record (and field): "DLC-BJ-5MC-026 W12 · TBIL value"."""
    what = str(record)
    if isinstance(record, LabValue):
        what = f"{record.draw.visit} lab {record.analyte.code}"
    elif isinstance(record, LabDraw):
        what = f"{record.visit} lab panel"
    if not field_name:
        return what
    field = type(record)._meta.get_field(field_name)
    return f"{what} · {field.verbose_name}"
