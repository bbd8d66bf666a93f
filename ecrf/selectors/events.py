"""Reads of a subject's events: infusions, adverse events, medication, and the protocol's infusion plan."""

from ecrf.models import AdverseEvent, ConcomitantMedication, InfusionEvent, InfusionPlan, Subject


def infusion_plan(subject: Subject) -> InfusionPlan | None:
    return InfusionPlan.objects.filter(protocol=subject.protocol).first()


def dose_outside_plan(infusion: InfusionEvent | None, plan: InfusionPlan | None) -> bool:
    """Whether a given product infusion's cells/kg lies outside the protocol's range (a warning, not a success)."""
    dose = infusion.cells_per_kg if infusion else None
    return dose is not None and plan is not None and not plan.dose_in_range(dose)


def observation_hours(subject: Subject):
    plan = infusion_plan(subject)
    return plan.observation_hours if plan else None


def release_criteria(subject: Subject):
    return subject.protocol.release_criteria.order_by("order")


def infusion_at(subject: Subject, number: int) -> InfusionEvent | None:
    return InfusionEvent.objects.active().filter(subject=subject, number=number).first()


def infusions_of(subject: Subject):
    return InfusionEvent.objects.active().filter(subject=subject).order_by("number")


def adverse_events_of(subject: Subject):
    return AdverseEvent.objects.active().filter(subject=subject).select_related("infusion").order_by("onset_at")


def medications_of(subject: Subject):
    return ConcomitantMedication.objects.active().filter(subject=subject).order_by("start_date", "drug")


def adverse_event_of(subject: Subject, pk: int) -> AdverseEvent | None:
    return AdverseEvent.objects.active().filter(subject=subject, pk=pk).first()


def medication_of(subject: Subject, pk: int) -> ConcomitantMedication | None:
    return ConcomitantMedication.objects.active().filter(subject=subject, pk=pk).first()


def infusion_of(subject: Subject, pk: int) -> InfusionEvent | None:
    return InfusionEvent.objects.active().filter(subject=subject, pk=pk).select_related("visit", "subject").first()


def release_as_entered(infusion: InfusionEvent) -> dict[str, object]:
    """The infusion's saved release results as the correction form's initial values, by criterion code."""
    results = infusion.release_results.active().select_related("criterion")
    return {f"release_{r.criterion.code}": r.negative if r.criterion.kind == "negative" else r.value for r in results}
