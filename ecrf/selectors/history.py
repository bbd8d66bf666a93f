"""The history of a visit's records, field by field: who changed what from what to what, when and why."""

from dataclasses import dataclass
from datetime import datetime

from ecrf.models import ClinicalStatus, EligibilityAnswer, InfusionEvent, Subject, Visit, VisitSignature
from ecrf.selectors.audit import ChainProblem, chain_problems
from ecrf.selectors.labs import draw_of, lab_chain_problems, lab_history

SKIPPED = {"created_at", "updated_at", "cells_per_kg"}
# The subject's own fields shown on its screening visit's history (the one with the consent form).
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
    rows = history.select_related("history_user", "criterion").order_by("id", "history_id")
    changes, previous = [], {}
    for row in rows:
        shown, before = ("yes" if row.answer else "no"), previous.get(row.id)
        if before != shown:
            who, why = str(row.history_user or "system"), row.history_change_reason or ""
            field = f"{row.criterion.code}: {row.criterion.text}"
            changes.append(FieldChange("Eligibility", field, before or "", shown, who, row.history_date, why))
        previous[row.id] = shown
    return changes


def _visit_histories(visit: Visit) -> list[tuple]:
    histories = [
        ("Visit", Visit.history.filter(id=visit.pk), ("status", "actual_date", "weight_kg", "missed_reason")),
        ("Clinical status", ClinicalStatus.history.filter(visit_id=visit.pk), None),
        ("Infusion", InfusionEvent.history.filter(visit_id=visit.pk), None),
        ("Signature", VisitSignature.history.filter(visit_id=visit.pk), ("is_voided", "void_reason")),
    ]
    if "consent" in visit.definition.forms:
        histories.append(("Registration", Subject.history.filter(id=visit.subject_id), REGISTRATION_FIELDS))
    return histories


def record_history(form: str, record) -> list[FieldChange]:
    """Every change to one record (an adverse event, a medication, an infusion), oldest first."""
    return _model_changes(form, type(record).history.filter(id=record.pk))


def record_chain_problems(record) -> list[ChainProblem]:
    """What fails to verify in one record's audit trail."""
    return chain_problems(type(record).history.filter(id=record.pk))


def _model_changes(form: str, history, fields: tuple[str, ...] | None = None) -> list[FieldChange]:
    records = list(history.select_related("history_user").order_by("id", "history_date", "history_id"))
    changes, previous = [], None
    for record in records:
        who, why = str(record.history_user or "system"), record.history_change_reason or ""
        if previous is None or previous.id != record.id:
            changes.append(FieldChange(form, "created", "", "", who, record.history_date, why))
        else:
            for change in record.diff_against(previous).changes:
                if change.field in SKIPPED or (fields and change.field not in fields):
                    continue
                label = record.instance_type._meta.get_field(change.field).verbose_name
                changes.append(
                    FieldChange(form, label, _shown(change.old), _shown(change.new), who, record.history_date, why)
                )
        previous = record
    return changes


def _shown(value) -> str:
    return "" if value is None else str(value)


def record_version(record) -> int:
    """Moves on with every save of the record (each writes a history row): stale forms compare it."""
    return 0 if record is None or record.pk is None else record.history.count()
