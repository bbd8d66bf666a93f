"""The history of a visit's records, field by field: who changed what from what to what, when and why."""

from dataclasses import dataclass
from datetime import datetime

from ecrf.models import (
    ClinicalStatus,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    LabValue,
    ReleaseResult,
    Subject,
    Visit,
    VisitSignature,
)
from ecrf.selectors.audit import ChainProblem, author, chain_problems
from ecrf.selectors.display import field_as_text
from ecrf.selectors.labs import draw_of, lab_chain_problems, lab_history

SKIPPED = {"created_at", "updated_at"}
# Not values anyone entered: the record's identity, its parent, and voiding (shown by its own change).
NOT_ENTERED = {"id", "subject", "visit", "is_voided", "void_reason", "voided_at", "voided_by"}
# The subject's own fields shown on its screening visit's history (the one with the consent form).
SIGNATURE_FIELDS = ("signed_by", "signed_at", "meaning", "is_voided", "void_reason")
REGISTRATION_FIELDS = ("sex", "age_years", "weight_kg", "screening_date", "consent_date", "consent_version")


@dataclass(frozen=True)
class FieldChange:
    form: str
    field: str
    old: str
    new: str
    who: str
    when: datetime
    why: str


def visit_history(visit: Visit) -> list[FieldChange]:
    """Every change to the visit, its clinical status, lab values, infusion and signature, oldest first."""
    changes = [
        change for form, rows, fields in _visit_histories(visit) for change in _model_changes(form, rows, fields)
    ]
    for infusion in InfusionEvent.objects.filter(visit_id=visit.pk):
        changes += release_changes(infusion)
    draw = draw_of(visit)
    if draw is not None:
        changes += [
            FieldChange(form="Labs", field=c.analyte, old=c.old, new=c.new, who=c.who, when=c.when, why=c.why)
            for c in lab_history(draw)
        ]
    if "eligibility" in visit.definition.forms:
        changes += _eligibility_changes(_eligibility_history(visit))
    return sorted(changes, key=lambda change: change.when)


def visit_chain_problems(visit: Visit) -> list[ChainProblem]:
    """What fails to verify in the audit trail the visit's history page shows (one query per model)."""
    problems = [problem for _, rows, _ in _visit_histories(visit) for problem in chain_problems(rows)]
    if "eligibility" in visit.definition.forms:
        problems += chain_problems(_eligibility_history(visit))
    draw = draw_of(visit)
    return problems + (lab_chain_problems(draw) if draw is not None else [])


def _eligibility_history(visit: Visit):
    """The subject's checklist answers, shown on the history of the visit whose form the checklist is."""
    return EligibilityAnswer.history.filter(subject_id=visit.subject_id)


def _eligibility_changes(history) -> list[FieldChange]:
    """Each answer as given and as changed, named by its criterion (the answer is the content, not a field)."""
    return _value_changes(
        "Eligibility",
        history.select_related("history_user", "criterion").order_by("id", "history_id"),
        field_of=lambda row: f"{row.criterion.code}: {row.criterion.text}",
        shown_of=lambda row: "yes" if row.answer else "no",
    )


def _value_changes(form: str, rows, *, field_of, shown_of) -> list[FieldChange]:
    """For records whose content is one value (an answer, a release result): each value as first given and as
    changed, one row per change, ``rows`` ordered by record then by save.
    """
    changes, previous = [], {}
    for row in rows:
        shown, before = shown_of(row), previous.get(row.id)
        if before != shown:
            who, why = author(row)
            changes.append(FieldChange(form, field_of(row), before or "", shown, who, row.history_date, why))
        previous[row.id] = shown
    return changes


def _visit_histories(visit: Visit) -> list[tuple]:
    histories = [
        ("Visit", Visit.history.filter(id=visit.pk), ("status", "actual_date", "weight_kg", "missed_reason")),
        ("Clinical status", ClinicalStatus.history.filter(visit_id=visit.pk), None),
        ("Infusion", InfusionEvent.history.filter(visit_id=visit.pk), None),
        ("Signature", VisitSignature.history.filter(visit_id=visit.pk), SIGNATURE_FIELDS),
    ]
    if "consent" in visit.definition.forms:
        histories.append(("Registration", Subject.history.filter(id=visit.subject_id), REGISTRATION_FIELDS))
    return histories


def record_history(form: str, record) -> list[FieldChange]:
    """Every change to one record (an adverse event, a medication, an infusion with its release results), oldest
    first."""
    changes = _model_changes(form, type(record).history.filter(id=record.pk))
    if isinstance(record, InfusionEvent):
        changes = sorted(changes + release_changes(record), key=lambda change: change.when)
    return changes


def release_changes(infusion: InfusionEvent) -> list[FieldChange]:
    """Each release result of the infusion's product as recorded and as corrected, named by its criterion."""
    rows = ReleaseResult.history.filter(infusion_id=infusion.pk).select_related("history_user", "criterion")
    return _value_changes(
        "Release",
        rows.order_by("id", "history_date", "history_id"),
        field_of=lambda row: f"release: {row.criterion.label}",
        shown_of=_release_shown,
    )


def _release_shown(row) -> str:
    measured = row.negative if row.criterion.kind == "negative" else row.value
    return f"{_release_value(row.criterion, measured)} ({'pass' if row.passed else 'FAIL'})"


def _release_value(criterion, measured) -> str:
    if measured is None:
        return "no result"
    if criterion.kind == "negative":
        return "negative" if measured else "not negative"
    return f"{measured:g} {criterion.unit}".strip()


def record_chain_problems(record) -> list[ChainProblem]:
    """What fails to verify in one record's audit trail."""
    return chain_problems(type(record).history.filter(id=record.pk))


def _model_changes(form: str, history, fields: tuple[str, ...] | None = None) -> list[FieldChange]:
    records = list(history.select_related("history_user").order_by("id", "history_date", "history_id"))
    changes, previous = [], None
    for record in records:
        if previous is None or previous.id != record.id:
            changes += _created(form, record, fields)
        else:
            who, why = author(record)
            for name, before, after in field_differences(record, previous):
                if name in SKIPPED or (fields and name not in fields):
                    continue
                field = record.instance_type._meta.get_field(name)
                old, new = value_shown(field, before), value_shown(field, after)
                changes.append(FieldChange(form, field.verbose_name, old, new, who, record.history_date, why))
        previous = record
    return changes


def field_differences(record, previous) -> list[tuple[str, object, object]]:
    """(field, old, new) of each field that differs: simple_history's diff, plus the values the record derives
    (not editable, so left out of that diff) such as an infusion's dose in cells/kg when its weight is corrected.
    """
    differences = [(change.field, change.old, change.new) for change in record.diff_against(previous).changes]
    for field in record.instance_type._meta.concrete_fields:
        if field.editable or field.name in SKIPPED or field.name in NOT_ENTERED:
            continue
        before, after = getattr(previous, field.attname), getattr(record, field.attname)
        if before != after:
            differences.append((field.name, before, after))
    return differences


def _created(form: str, record, fields: tuple[str, ...] | None) -> list[FieldChange]:
    """The values the record was created with, one row per field filled in (a bare "created" row if none)."""
    who, why = author(record)
    rows = []
    for field in record.instance_type._meta.concrete_fields:
        if field.name in SKIPPED or field.name in NOT_ENTERED or (fields and field.name not in fields):
            continue
        shown = value_shown(field, getattr(record, field.attname))
        if shown != "":
            rows.append(FieldChange(form, field.verbose_name, "", shown, who, record.history_date, why))
    return rows or [FieldChange(form, "created", "", "", who, record.history_date, why)]


def value_shown(field, value) -> str:
    """A stored value as the user knows it: the choice's label, the related record's name, or field_as_text."""
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        related = field.related_model._base_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    return field_as_text(field.name, value)


def record_version(record) -> int:
    """Moves on with every save of the record (each writes a history row): stale forms compare it."""
    return 0 if record is None or record.pk is None else record.history.count()


def infusion_version(infusion: InfusionEvent) -> int:
    """Moves on with every save of the infusion or of its product's release results (one correction page)."""
    return record_version(infusion) + ReleaseResult.history.filter(infusion_id=infusion.pk).count()


def last_saved(record) -> tuple[str, datetime | None]:
    """Who saved the record last and when, counting an infusion's release results and a draw's values."""
    if record is None or record.pk is None:
        return "", None
    histories = [record.history.all()]
    if isinstance(record, InfusionEvent):
        histories.append(ReleaseResult.history.filter(infusion_id=record.pk))
    if isinstance(record, LabDraw):
        histories.append(LabValue.history.filter(draw_id=record.pk))
    return _latest_save(histories)


def checklist_last_saved(subject: Subject) -> tuple[str, datetime | None]:
    """Who saved an answer of the subject's eligibility checklist last and when ("", None before any)."""
    return _latest_save([EligibilityAnswer.history.filter(subject_id=subject.pk)])


def _latest_save(histories) -> tuple[str, datetime | None]:
    rows = [h.select_related("history_user").order_by("-history_date").first() for h in histories]
    latest = max((row for row in rows if row is not None), key=lambda row: row.history_date, default=None)
    return ("", None) if latest is None else (author(latest)[0], latest.history_date)
