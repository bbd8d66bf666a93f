"""Reads about subjects: eligibility derived from their answers, their screening visit and dated events."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Min
from django.utils import timezone

from ecrf.models import EligibilityAnswer, EligibilityCriterion, Subject, Visit


@dataclass(frozen=True)
class Eligibility:
    """Eligibility derived from the answers: complete when every criterion has one, met when all qualify."""

    missing: list[EligibilityCriterion] = field(default_factory=list)
    failing: list[EligibilityCriterion] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def met(self) -> bool:
        return self.complete and not self.failing

    def explanation(self) -> str:
        if self.failing:
            return "not eligible: " + "; ".join(f"{c.code} {c.text}" for c in self.failing)
        if self.missing:
            return "eligibility incomplete: no answer for " + ", ".join(c.code for c in self.missing)
        return "eligible"


def eligibility_of(subject: Subject) -> Eligibility:
    criteria = list(subject.protocol.eligibility_criteria.order_by("order"))
    answers = {a.criterion_id: a.answer for a in subject.eligibility_answers.active()}
    return Eligibility(
        missing=[c for c in criteria if c.pk not in answers],
        failing=[c for c in criteria if c.pk in answers and answers[c.pk] != c.qualifying_answer],
    )


def subject_at_site(study, sites, pk: int) -> Subject | None:
    """The subject if it belongs to the study at one of ``sites``; None otherwise (the view answers 404)."""
    return (
        Subject.objects.select_related("study", "site", "protocol", "allocation__arm")
        .filter(study=study, site__in=sites, pk=pk)
        .first()
    )


def eligibility_answers(subject: Subject):
    return subject.eligibility_answers.active().select_related("criterion")


def eligibility_criteria(subject: Subject):
    return subject.protocol.eligibility_criteria.order_by("order")


def eligibility_version(subject: Subject) -> int:
    """Moves on with every saved answer of the subject's checklist: a stale checklist form is detected by it."""
    return EligibilityAnswer.history.filter(subject_id=subject.pk).count()


def screening_visit(subject: Subject) -> Visit | None:
    """The visit whose forms include consent: its history shows the subject's registration and consent."""
    visits = subject.visits.active().select_related("definition").order_by("definition__order")
    return next((visit for visit in visits if "consent" in visit.definition.forms), None)


def first_dates_after_consent(subject: Subject) -> list[tuple[str, date]]:
    """(what, date) of the first visit done, the allocation and the first infusion, as far as they are recorded."""
    dates = []
    first_visit = subject.visits.active().aggregate(first=Min("actual_date"))["first"]
    if first_visit is not None:
        dates.append(("the first visit", first_visit))
    allocation = getattr(subject, "allocation", None)
    if allocation is not None:
        dates.append(("allocation", allocation.allocation_date))
    first_infusion = subject.infusions.active().aggregate(first=Min("started_at"))["first"]
    if first_infusion is not None:
        dates.append(("the first infusion", timezone.localtime(first_infusion).date()))
    return dates
