"""The monitoring panel of a form page: its open queries, verification and lock, with the actions the role has."""

from django.urls import reverse

from ecrf.forms_monitoring import RaiseQueryForm
from ecrf.roles import Capability
from ecrf.selectors import monitoring
from ecrf.selectors.locks import standing_lock

SKIPPED_FIELDS = {"id", "created_at", "updated_at", "is_voided", "void_reason", "voided_at", "voided_by", "subject"}


def targets(record, parts=()) -> list[tuple[str, str]]:
    """What a query may be raised on: the whole form, each of its fields, each of its parts' values."""
    choices = [(_key(record, ""), "The whole form")]
    for field in record._meta.concrete_fields:
        if field.editable and field.name not in SKIPPED_FIELDS and not field.is_relation:
            choices.append((_key(record, field.name), str(field.verbose_name).capitalize()))
    for part in parts:
        analyte = getattr(part, "analyte", None)
        choices.append((_key(part, "value"), f"{analyte.label} ({analyte.code}) value" if analyte else str(part)))
    return choices


def _key(record, field_name: str) -> str:
    return f"{record._meta.label_lower}:{record.pk}:{field_name}"


def monitoring_panel(access, subject, record, parts=(), *, review: bool, verified_as=None, form=None) -> dict:
    """Context for ``ecrf/_monitoring_panel.html``; nothing when the form has no saved record yet.

    ``verified_as``: the records that verifying this form marks (default the form's own record; an eligibility
    checklist marks each answer). ``form``: its fields with an open query say so under the field.
    """
    if record is None or record.pk is None:
        return {"monitoring": None}
    parts = list(parts)
    verified_as = [record] if verified_as is None else list(verified_as)
    found = monitoring.queries_on([record, *parts])
    open_queries = [q for q in found if q.is_open]
    if form is not None:
        _mark_queried_fields(form, [q for q in open_queries if q.record_model == record._meta.label_lower])
    marks = _marks(monitoring.verifications_on([record, *parts, *verified_as]), verified_as)
    may_verify = review and access.can(Capability.VERIFY_SOURCE) and bool(verified_as)
    choices = targets(record, parts)
    queried_parts = {q.record_id for q in open_queries if q.record_model != record._meta.label_lower}
    return {
        "monitoring": {
            "queries": found,
            "open_queries": open_queries,
            "queried_analytes": {p.analyte.code for p in parts if p.pk in queried_parts and hasattr(p, "analyte")},
            **marks,
            "lock": standing_lock(study_id=subject.study_id, subject_id=subject.pk),
            "raise_form": RaiseQueryForm(targets=choices) if may_verify else None,
            "field_targets": [(key, label) for key, label in choices if not key.endswith(":")],
            "raise_url": reverse("ecrf:raise_query", args=[access.study.code, subject.pk]),
            "verify_url": reverse("ecrf:verify_record", args=[access.study.code, subject.pk]),
            "may_verify": may_verify,
        }
    }


def _marks(marks, verified_as) -> dict:
    """The form's verification state from its marks: verified (every record of ``verified_as`` standing), the
    last cleared whole-form mark, the records still to verify, and the standing single-field marks."""
    whole = {_key(r, "") for r in verified_as}
    standing = {_key_of(m) for m in marks if not m.cleared_at and not m.field_name}
    first = next((m for m in marks if not m.cleared_at and not m.field_name and _key_of(m) in whole), None)
    return {
        "verification": first if whole <= standing else None,
        "cleared": next((m for m in marks if m.cleared_at and not m.field_name and _key_of(m) in whole), None),
        "verify_keys": sorted(whole - standing),
        "field_marks": [m for m in marks if m.field_name and not m.cleared_at],
    }


def _key_of(mark) -> str:
    return f"{mark.record_model}:{mark.record_id}:{mark.field_name}"


def _mark_queried_fields(form, open_queries) -> None:
    for query in open_queries:
        field = form.fields.get(query.field_name)
        if field is not None:
            note = f"Open query {query.pk}: {query.text}"
            field.help_text = f"{note} {field.help_text}".strip()
