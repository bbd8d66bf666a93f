"""Reads for randomisation: baseline inputs of a subject, strata, list summaries, regeneration from a list's
secret, and the integrity check."""

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q

from ecrf.commitment import commitment_of
from ecrf.list_generator import list_rows
from ecrf.models import (
    Allocation,
    ClinicalStatus,
    LabValue,
    ProtocolVersion,
    RandomisationList,
    RandomisationSlot,
    Study,
    Subject,
)


def baseline_inputs(subject: Subject, visit_code: str) -> tuple[dict[str, float], bool | None]:
    """Lab values (by analyte code) and dialysis of the subject's draw and clinical status at ``visit_code``."""
    values = LabValue.objects.active().filter(
        draw__visit__subject=subject,
        draw__visit__definition__code=visit_code,
        draw__is_voided=False,
        value__isnull=False,
    )
    labs = {code: float(value) for code, value in values.values_list("analyte__code", "value")}
    status = (
        ClinicalStatus.objects.active()
        .filter(visit__subject=subject, visit__definition__code=visit_code)
        .values_list("dialysis_past_week", flat=True)
        .first()
    )
    return labs, status


def strata_of(protocol, site_codes: list[str]) -> list[str]:
    """Every stratum key of the protocol: one level of each factor, factors in protocol order."""
    levels = []
    for factor in protocol.stratification_factors.order_by("order"):
        codes = sorted(site_codes) if factor.source == "site" else [level["code"] for level in factor.levels]
        levels.append([f"{factor.code}:{code}" for code in codes])
    return ["|".join(combo) for combo in itertools.product(*levels)] if levels else ["all"]


def stratum_namer(protocol):
    """A function turning a stratum key into words from the protocol's factor labels, e.g.
    ``meld:le15|site:BJ-5MC`` -> "baseline MELD ≤ 15, site BJ-5MC". Keys stay keys in the database and CSV."""
    factors = {factor.code: factor for factor in protocol.stratification_factors.all()}

    def words(key: str) -> str:
        if key in ("", "all"):
            return "all subjects" if key else ""
        return ", ".join(_part_words(factors, part) for part in key.split("|"))

    return words


def stratum_words(protocol, key: str) -> str:
    return stratum_namer(protocol)(key)


def _part_words(factors: dict, part: str) -> str:
    code, _, level = part.partition(":")
    factor = factors.get(code)
    if factor is None:
        return part
    if factor.source == "site":
        return f"{_lower_first(factor.label)} {level}"
    label = next((lv["label"] for lv in factor.levels if lv["code"] == level), f"{factor.label} {level}")
    return _lower_first(label.replace("<=", "≤").replace(">=", "≥"))


def _lower_first(text: str) -> str:
    """ "Baseline MELD" -> "baseline MELD", but an acronym ("MELD ...") is left as written."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def site_codes(study: Study) -> list[str]:
    """The study's site codes in order: the site levels of its strata."""
    return list(study.sites.order_by("code").values_list("code", flat=True))


@dataclass
class Regenerated:
    rows: list[tuple]  # (stratum, sequence, arm, code, block, block size)
    commitment_sha256: str


def regenerate(
    study: Study, protocol_version: str, secret: bytes, slots_per_stratum: int, site_codes: list[str]
) -> Regenerated:
    """The list that ``secret`` gives for this protocol version and these sites: the statistician's re-run.

    Writes nothing. Generating a list stores exactly these rows, so the commitment is the stored one."""
    protocol = ProtocolVersion.objects.get(study=study, version=protocol_version)
    rows = list_rows(
        study_code=study.code,
        arms=list(protocol.arms.order_by("order")),
        strata=strata_of(protocol, site_codes),
        secret=secret,
        slots_per_stratum=slots_per_stratum,
    )
    commitment = commitment_of(study, protocol_version, [(r[0], r[1], r[2].code, r[3]) for r in rows])
    return Regenerated(rows, commitment)


def generated_for_sites(randomisation_list: RandomisationList) -> list[str]:
    """The site codes a list was generated for, read from its strata (sites may have joined since)."""
    factor = randomisation_list.protocol.stratification_factors.filter(source="site").first()
    if factor is None:
        return []
    prefix = f"{factor.code}:"
    strata = RandomisationSlot.objects.filter(list=randomisation_list).values_list("stratum", flat=True).distinct()
    return sorted(
        {part.removeprefix(prefix) for stratum in strata for part in stratum.split("|") if part.startswith(prefix)}
    )


def active_list(study: Study) -> RandomisationList | None:
    return RandomisationList.objects.filter(study=study, is_active=True).select_related("created_by").first()


def randomisation_slot(study: Study, code: str) -> RandomisationSlot | None:
    """The slot of the study's active list with randomisation code ``code``, with its arm and allocation, or None."""
    slots = RandomisationSlot.objects.filter(list__study=study, list__is_active=True, code=code)
    return slots.select_related("arm", "allocation").first()


def strata_summary(randomisation_list: RandomisationList) -> list[dict]:
    """Per stratum: slots, used and free, for the data manager's list page (never shown to site staff)."""
    rows = (
        RandomisationSlot.objects.filter(list=randomisation_list)
        .values("stratum")
        .annotate(slots=Count("id"), used=Count("allocation"))
        .order_by("stratum")
    )
    words = stratum_namer(randomisation_list.protocol)
    return [{**row, "free": row["slots"] - row["used"], "words": words(row["stratum"])} for row in rows]


def named_slots(randomisation_list: RandomisationList) -> list[RandomisationSlot]:
    """The list's slots for display, each with ``stratum_words``."""
    words = stratum_namer(randomisation_list.protocol)
    slots = list(list_slots(randomisation_list))
    for slot in slots:
        slot.stratum_words = words(slot.stratum)
    return slots


def list_slots(randomisation_list: RandomisationList):
    return (
        RandomisationSlot.objects.filter(list=randomisation_list)
        .select_related("arm", "allocation__subject")
        .order_by("stratum", "sequence")
    )


def exhausted_strata(study: Study) -> list[str]:
    """Strata (keys) of the active list with no free slot left."""
    return [row["stratum"] for row in exhausted_strata_rows(study)]


def exhausted_strata_rows(study: Study) -> list[dict]:
    """Summary rows (with ``words``) of the active list's strata with no free slot left."""
    randomisation_list = active_list(study)
    if randomisation_list is None:
        return []
    return [row for row in strata_summary(randomisation_list) if row["free"] <= 0]


@dataclass
class Verification:
    commitment_matches: bool = True
    problems: list[str] = field(default_factory=list)
    allocations_checked: int = 0
    regenerated: bool | None = None  # None: the list has no secret (imported, or a legacy seed)

    @property
    def ok(self) -> bool:
        return self.commitment_matches and not self.problems


def verify_list(randomisation_list: RandomisationList) -> Verification:
    """Recompute the commitment and check that allocations took the next free slot of their stratum in order."""
    result = Verification()
    rows = RandomisationSlot.objects.filter(list=randomisation_list).values_list(
        "stratum", "sequence", "arm__code", "code"
    )
    recomputed = commitment_of(randomisation_list.study, randomisation_list.protocol.version, list(rows))
    if recomputed != randomisation_list.commitment_sha256:
        result.commitment_matches = False
        result.problems.append(
            f"The list's content does not match its commitment (stored {randomisation_list.commitment_sha256[:12]}…, "
            f"recomputed {recomputed[:12]}…): slots were changed after the list was created."
        )
    _check_regeneration(randomisation_list, result)
    allocations = (
        Allocation.objects.filter(slot__list=randomisation_list)
        .select_related("slot__arm", "arm", "subject")
        .order_by("allocated_at", "pk")
    )
    taken = defaultdict(list)
    for allocation in allocations:
        result.allocations_checked += 1
        slot = allocation.slot
        taken[slot.stratum].append(slot.sequence)
        subject = allocation.subject.subject_code
        if allocation.arm_id != slot.arm_id:
            result.problems.append(f"{subject}: allocated to {allocation.arm} but slot {slot} is {slot.arm}.")
        if allocation.randomisation_code != slot.code:
            result.problems.append(f"{subject}: code {allocation.randomisation_code} is not slot {slot}'s code.")
        if allocation.stratum != slot.stratum:
            result.problems.append(f"{subject}: stratum {allocation.stratum} but took a slot of {slot.stratum}.")
    for stratum, sequences in sorted(taken.items()):
        if sequences != list(range(1, len(sequences) + 1)):
            result.problems.append(f"Stratum {stratum}: slots taken in the order {sequences}, not 1, 2, 3, …")
    return result


def _check_regeneration(randomisation_list: RandomisationList, result: Verification) -> None:
    """A generated list's secret must give back its commitment: the list is the one the secret produced."""
    if not randomisation_list.secret_hex:
        return
    again = regenerate(
        randomisation_list.study,
        randomisation_list.protocol.version,
        bytes.fromhex(randomisation_list.secret_hex),
        randomisation_list.slots_per_stratum,
        generated_for_sites(randomisation_list),
    )
    result.regenerated = again.commitment_sha256 == randomisation_list.commitment_sha256
    if not result.regenerated:
        result.problems.append(
            f"Regenerating from the list's secret gives commitment {again.commitment_sha256[:12]}…, not the stored "
            f"{randomisation_list.commitment_sha256[:12]}…: this is not the list the secret produced."
        )


def legacy_allocations(study: Study) -> int:
    """Randomised allocations recorded without a slot of this system's lists (e.g. migrated from paper)."""
    return Allocation.objects.filter(Q(slot__isnull=True), subject__study=study, method="randomised").count()
