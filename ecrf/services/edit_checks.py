"""Automatic edit checks: the rules a protocol file declares (``[[monitoring.edit_checks]]``), run on every save.

``write_guard.after_write`` hands each saved record here. Each rule of the vocabulary below knows which records
it reads and which record (and field) its query goes on; when the data trip it, a system query is raised, and
when they no longer do, that query closes itself (``queries.sync_edit_check``). A service that saves a form in
several rows (a lab panel) runs inside ``batched`` so the rules see the whole form, not its first row.
"""

from contextvars import ContextVar
from functools import wraps

from django.db import transaction
from django.db.models import Count

from ecrf.models import (
    OPEN_STATES,
    AdverseEvent,
    DataQuery,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    LabValue,
    Subject,
    Visit,
    VisitStatus,
)
from ecrf.protocol_schema import SCORE_INPUTS
from ecrf.selectors.records import subject_of
from ecrf.services.queries import sync_edit_check

_pending: ContextVar[dict | None] = ContextVar("edit_checks_pending", default=None)


def batched(service):
    """Run ``service`` with its saves' edit checks deferred to its end (still inside its transaction)."""

    @wraps(service)
    def run(*args, **kwargs):
        if _pending.get() is not None:
            return service(*args, **kwargs)
        token = _pending.set({})
        try:
            result = service(*args, **kwargs)
            for record in _pending.get().values():
                _run(record)
            return result
        finally:
            _pending.reset(token)

    return run


def after_write(record) -> None:
    subject = subject_of(record)
    if subject is None or not _checks_of(subject):
        return
    pending = _pending.get()
    targets = _targets(record)
    if pending is None and isinstance(record, Subject):
        _run_answers(targets, subject)  # read just now, with the subject as saved
        return
    for target in targets:
        if pending is None:
            _run(target)
        else:
            pending[(target._meta.label_lower, target.pk)] = target


def _run_answers(answers: list, subject) -> None:
    """``_run`` of a subject's answers as just read: their standing queries read in one query per rule, and only
    an answer whose query would open or close reaches ``sync_edit_check``."""
    if not answers:
        return
    for check in _checks_of(subject):
        rule = RULES[check["rule"]]
        if rule.model is not EligibilityAnswer:
            continue
        standing = set(
            DataQuery.objects.select_for_update()
            .filter(
                record_model=EligibilityAnswer._meta.label_lower,
                record_id__in=[answer.pk for answer in answers],
                field_name=rule.field,
                rule_code=check["code"],
                state__in=OPEN_STATES,
            )
            .values_list("record_id", flat=True)
        )
        for answer in answers:
            trips = not answer.is_voided and rule.trips(answer, check)
            if trips != (answer.pk in standing):
                message = check["message"]
                sync_edit_check(answer, rule_code=check["code"], field_name=rule.field, trips=trips, message=message)


def after_create(records: list) -> None:
    """New records inserted together (``audit.create_records``): each rule is tried on the record as inserted,
    with no re-read, and only a rule it trips reaches the database (a new record has no standing query to close).
    Inside ``batched``, or for the other records a rule reads through them, as after any write."""
    pending = _pending.get()
    for record in records:
        subject = subject_of(record)
        if subject is None or not _checks_of(subject):
            continue
        for target in _targets(record):
            if pending is not None:
                pending[(target._meta.label_lower, target.pk)] = target
            elif target is record:
                _try_new(record, subject)
            else:
                _run(target)


def _try_new(record, subject) -> None:
    for check in _checks_of(subject):
        rule = RULES[check["rule"]]
        if isinstance(record, rule.model) and rule.trips(record, check):
            message = check["message"]
            sync_edit_check(record, rule_code=check["code"], field_name=rule.field, trips=True, message=message)


@transaction.atomic
def run_for_study(study) -> dict[str, int]:
    """Run every edit check of ``study``'s protocols over all its records (after an amendment adds checks, or an
    import): queries are raised and closed as a save would. Returns the standing system queries per check code."""
    for rule in {type(rule): rule for rule in RULES.values()}.values():
        path = rule.model.study_code_path.removesuffix("__code")
        for record in rule.model.objects.filter(**{path: study}).iterator(chunk_size=500):
            _run(record)
    return dict(
        DataQuery.objects.filter(study=study, state__in=OPEN_STATES)
        .exclude(rule_code="")
        .values_list("rule_code")
        .annotate(n=Count("pk"))
        .order_by("rule_code")
    )


def _targets(record) -> list:
    """The records whose rules a save of ``record`` may change."""
    if isinstance(record, LabValue):
        return [record, record.draw]
    if isinstance(record, Subject):
        answers = list(record.eligibility_answers.select_related("criterion"))
        for answer in answers:
            answer.subject = record  # the subject as just saved: its facts read once, not per answer
        return answers
    return [record]


def _checks_of(subject) -> list[dict]:
    """The edit checks of the subject's protocol version."""
    return subject.protocol.monitoring.get("edit_checks", [])


def _run(record) -> None:
    subject = subject_of(record)
    if subject is None:
        return
    for check in _checks_of(subject):
        rule = RULES[check["rule"]]
        if isinstance(record, rule.model):
            record.refresh_from_db()
            sync_edit_check(
                record,
                rule_code=check["code"],
                field_name=rule.field,
                trips=not record.is_voided and rule.trips(record, check),
                message=check["message"],
            )


class Rule:
    model: type
    field: str = ""

    def trips(self, record, check: dict) -> bool:
        raise NotImplementedError


class VisitOutOfWindow(Rule):
    model, field = Visit, "actual_date"

    def trips(self, visit, check):
        done = visit.status == VisitStatus.DONE and visit.actual_date is not None
        return done and not visit.window_start <= visit.actual_date <= visit.window_end


class LabConfirmedUnusual(Rule):
    model, field = LabValue, "value"

    def trips(self, value, check):
        return value.confirmed_unusual


class ScoreInputMissing(Rule):
    """An analyte the score needs, in the scheduled panel, with no row at the draw (neither value nor not-done)."""

    model = LabDraw

    def trips(self, draw, check):
        needed = SCORE_INPUTS[check["score"]] & set(draw.panel.analytes.values_list("code", flat=True))
        present = set(draw.values.active().values_list("analyte__code", flat=True))
        return bool(needed - present)


class DoseOutsideTolerance(Rule):
    model, field = InfusionEvent, "cells_per_kg"

    def trips(self, infusion, check):
        plan = getattr(infusion.subject.protocol, "infusion_plan", None)
        dose = infusion.cells_per_kg
        return plan is not None and not infusion.is_placebo and dose is not None and not plan.dose_in_range(dose)


class AeGradeWithoutSaeAssessment(Rule):
    model, field = AdverseEvent, "serious"

    def trips(self, event, check):
        return event.grade >= check["min_grade"] and not event.serious


class EligibilityAgainstFact(Rule):
    model, field = EligibilityAnswer, "answer"

    def trips(self, answer, check):
        return bool(answer.criterion.contradiction(answer.answer, answer.subject.facts()))


RULES = {
    "visit_out_of_window": VisitOutOfWindow(),
    "lab_confirmed_unusual": LabConfirmedUnusual(),
    "score_input_missing": ScoreInputMissing(),
    "dose_outside_tolerance": DoseOutsideTolerance(),
    "ae_grade_without_sae_assessment": AeGradeWithoutSaeAssessment(),
    "eligibility_against_fact": EligibilityAgainstFact(),
}
