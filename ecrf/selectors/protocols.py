"""Reads of protocol versions: which one is in force, and a version's definitions in order."""

from datetime import date

from django.db.models import Min

from ecrf.models import InfusionPlan, ProtocolVersion, Study


def protocol_in_force(study: Study, on: date) -> ProtocolVersion | None:
    """The latest version whose effective date is on or before ``on``; None before the first takes effect."""
    return (
        ProtocolVersion.objects.filter(study=study, effective_date__lte=on)
        .order_by("-effective_date", "-loaded_at")
        .first()
    )


def latest_protocol(study: Study) -> ProtocolVersion | None:
    return ProtocolVersion.objects.filter(study=study).order_by("-effective_date", "-loaded_at").first()


def arms_and_endpoints(protocol: ProtocolVersion) -> tuple[list[dict], set[str]]:
    """The arms (code, label, is_control; in the file's order) and endpoint codes a protocol version defines."""
    arms = list(protocol.arms.order_by("order").values("code", "label", "is_control"))
    return arms, set(protocol.endpoint_collections.values_list("code", flat=True))


def treated_arm_codes(protocol: ProtocolVersion) -> set[str]:
    """Codes of the arms a protocol version gives infusions to (study product or placebo)."""
    return set(protocol.arms.exclude(infusions="none").values_list("code", flat=True))


def protocol_overview(study: Study) -> dict | None:
    """The current protocol with its arms, schedule and endpoints, and every version loaded, for display."""
    versions = list(ProtocolVersion.objects.filter(study=study).order_by("-effective_date", "-loaded_at"))
    if not versions:
        return None
    current = versions[0]
    return {
        "protocol": current,
        "versions": versions,
        "arms": list(current.arms.order_by("order")),
        "visits": list(current.visit_definitions.select_related("lab_panel").order_by("order")),
        "endpoints": list(current.endpoint_collections.order_by("order")),
        "infusion_plan": InfusionPlan.objects.filter(protocol=current).first(),
    }


def first_effective_date(study: Study) -> date | None:
    """The effective date of the study's earliest protocol version; None when no version is loaded."""
    return ProtocolVersion.objects.filter(study=study).aggregate(first=Min("effective_date"))["first"]
