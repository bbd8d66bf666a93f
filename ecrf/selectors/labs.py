"""Reads of a visit's records: the visit, its lab draw with values and their history, its clinical status."""

from dataclasses import dataclass
from datetime import datetime

from analysis import scores
from ecrf.models import ClinicalStatus, LabDraw, LabValue, Subject, Visit, VisitSignature
from ecrf.selectors.audit import ChainProblem, author, chain_problems
from ecrf.selectors.display import as_text


def visit_of(subject: Subject, visit_code: str) -> Visit | None:
    return subject.visits.active().select_related("definition__lab_panel").filter(definition__code=visit_code).first()


def draw_of(visit: Visit) -> LabDraw | None:
    return LabDraw.objects.active().filter(visit=visit).select_related("panel").first()


def saved_values(draw: LabDraw | None) -> dict[str, LabValue]:
    if draw is None:
        return {}
    return {v.analyte.code: v for v in draw.values.active().select_related("analyte")}


def draw_version(draw: LabDraw | None) -> int:
    """A number that changes whenever the draw or any of its values is saved: stale forms are detected by it."""
    if draw is None:
        return 0
    # Every save writes a history row, so the number of history rows moves on with every save.
    return LabValue.history.filter(draw_id=draw.pk).count() + draw.history.count()


@dataclass(frozen=True)
class Change:
    analyte: str
    old: str
    new: str
    who: str
    when: datetime
    why: str


def lab_history(draw: LabDraw) -> list[Change]:
    """Every change of every value of the draw, oldest first: who, when, old and new value, and why."""
    records = (
        LabValue.history.filter(draw_id=draw.pk)
        .select_related("history_user", "analyte")
        .order_by("id", "history_date", "history_id")
    )
    changes, previous = [], {}
    for record in records:
        shown = "not done: " + record.not_done_reason if record.not_done else _number(record.value, record.analyte)
        before, (who, why) = previous.get(record.id), author(record)
        if before is None or before != shown:
            changes.append(
                Change(
                    analyte=record.analyte.label,
                    old=before or "",
                    new=f"{shown} (confirmed unusual by {who})" if record.confirmed_unusual else shown,
                    who=who,
                    when=record.history_date,
                    why=why,
                )
            )
        previous[record.id] = shown
    return sorted(changes + _draw_time_changes(draw), key=lambda c: c.when)


def _draw_time_changes(draw: LabDraw) -> list[Change]:
    """Changes of the draw's time after its first save: the time every value of the panel was taken at."""
    changes, before = [], None
    for record in draw.history.select_related("history_user").order_by("history_id"):
        if before is not None and record.drawn_at != before:
            old, new = as_text(before), as_text(record.drawn_at)
            who, why = author(record)
            changes.append(Change("Drawn at", old, new, who, record.history_date, why))
        before = record.drawn_at
    return changes


def lab_chain_problems(draw: LabDraw) -> list[ChainProblem]:
    """What fails to verify in the audit trail of the draw and its values (two queries)."""
    return chain_problems(LabValue.history.filter(draw_id=draw.pk)) + chain_problems(draw.history.all())


def _number(value, analyte) -> str:
    return "" if value is None else f"{value:.{analyte.decimals}f}"


def clinical_status_of(visit: Visit):
    return ClinicalStatus.objects.active().filter(visit=visit).first()


def standing_signature(visit: Visit) -> VisitSignature | None:
    """The visit's signature in force (not voided by an unlock), or None."""
    return VisitSignature.objects.active().filter(visit=visit).select_related("signed_by").first()


@dataclass(frozen=True)
class MeldPoint:
    visit_code: str
    drawn_on: datetime
    meld: int | None
    missing: str


def meld_over_time(subject: Subject) -> list[MeldPoint]:
    """MELD at each of the subject's lab draws, from the draw's own values and its visit's dialysis answer.

    A draw lacking bilirubin, creatinine or INR has no MELD (and says what is missing): never a guess.
    """
    values = LabValue.objects.active().filter(
        draw__visit__subject=subject, draw__is_voided=False, value__isnull=False, analyte__code__in=MELD_INPUTS
    )
    labs: dict[int, dict[str, float]] = {}
    for draw_id, code, value in values.values_list("draw_id", "analyte__code", "value"):
        labs.setdefault(draw_id, {})[code] = float(value)
    dialysis = dict(
        ClinicalStatus.objects.active().filter(visit__subject=subject).values_list("visit_id", "dialysis_past_week")
    )
    draws = (
        LabDraw.objects.active().filter(visit__subject=subject).select_related("visit__definition").order_by("drawn_at")
    )
    return [_meld_point(draw, labs.get(draw.pk, {}), dialysis.get(draw.visit_id, False)) for draw in draws]


MELD_INPUTS = ("TBIL", "CREA", "INR")


def _meld_point(draw, labs, dialysis) -> MeldPoint:
    missing = ", ".join(code for code in MELD_INPUTS if code not in labs)
    score = None
    if not missing:
        score = scores.meld(
            bilirubin_umol_l=labs["TBIL"], creatinine_umol_l=labs["CREA"], inr=labs["INR"], dialysis=dialysis
        )
    return MeldPoint(visit_code=draw.visit.definition.code, drawn_on=draw.drawn_at, meld=score, missing=missing)
