"""Reads about subjects: eligibility derived from their answers, their screening visit and dated events, and the
codes in use.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Min, Value
from django.db.models.functions import Lower, Trim
from django.utils import timezone

from ecrf.code_patterns import format_code, sequence_of
from ecrf.models import EligibilityAnswer, EligibilityCriterion, Site, Study, Subject, Visit
from ecrf.models.protocol import CRITERION_GROUPS
from ecrf.selectors.protocols import protocol_in_force


@dataclass(frozen=True)
class ChecklistItem:
    criterion: EligibilityCriterion
    answer: bool | None  # None: not answered yet

    @property
    def qualifies(self) -> bool | None:
        return None if self.answer is None else self.answer == self.criterion.qualifying_answer


@dataclass(frozen=True)
class Eligibility:
    """Eligibility derived from the answers: complete when every criterion has one, met when all qualify."""

    missing: list[EligibilityCriterion] = field(default_factory=list)
    failing: list[EligibilityCriterion] = field(default_factory=list)
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def groups(self) -> list[tuple[str, list[ChecklistItem]]]:
        """The checklist under "Inclusion criteria" and "Exclusion criteria", groups without items left out."""
        grouped = [(label, [i for i in self.items if i.criterion.kind == kind]) for kind, label in CRITERION_GROUPS]
        return [(label, items) for label, items in grouped if items]

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
        items=[ChecklistItem(c, answers.get(c.pk)) for c in criteria],
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


def tied_answers(subject: Subject):
    """The subject's saved answers to eligibility items tied to a stored fact (age, sex), in checklist order."""
    return eligibility_answers(subject).exclude(criterion__fact_rule="").order_by("criterion__order")


def eligibility_criteria(subject: Subject):
    return subject.protocol.eligibility_criteria.order_by("order")


def eligibility_version(subject: Subject) -> int:
    """Moves on with every saved answer of the subject's checklist: a stale checklist form is detected by it."""
    return EligibilityAnswer.history.filter(subject_id=subject.pk).count()


def screening_visit(subject: Subject, visits=None) -> Visit | None:
    """The visit whose forms include consent: its history shows the subject's registration and consent.
    ``visits``: the subject's active visits in schedule order, when the caller has read them already."""
    if visits is None:
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


def subject_code_in_use(study: Study, code: str) -> str | None:
    """The code as stored when ``code`` is taken in the study, letter case and surrounding spaces ignored.

    Compared by the database's own lower() and trim(), the functions of the unique constraint it answers for.
    """
    return (
        Subject.objects.filter(study=study)
        .annotate(normalised=Lower(Trim("subject_code")))
        .filter(normalised=Lower(Trim(Value(code))))
        .values_list("subject_code", flat=True)
        .first()
    )


def next_subject_code(study: Study, site: Site) -> str | None:
    """The code after the highest one at ``site`` fitting today's protocol's pattern; None without a pattern."""
    protocol = protocol_in_force(study, timezone.localdate())
    pattern = protocol.subject_code_pattern if protocol else ""
    if not pattern:
        return None
    codes = Subject.objects.filter(study=study).values_list("subject_code", flat=True)
    numbers = [sequence_of(pattern, code, site=site.code) for code in codes]
    return format_code(pattern, site=site.code, number=max(filter(None, numbers), default=0) + 1)
