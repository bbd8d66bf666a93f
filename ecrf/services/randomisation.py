"""Randomisation lists (generated or imported), their commitment, and allocation from them.

A list has one sequence of slots per stratum; a stratum is one level of every stratification factor of the
protocol (e.g. ``meld:gt15|site:BJ-5MC``). Allocation takes the next free slot of the subject's stratum while
holding a row lock on that stratum's first slot: requests in one stratum queue instead of racing, requests in
other strata go on in parallel. Replacing a list locks every slot of the old one, so it waits for (and then
refuses, as used) any allocation under way.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from analysis import scores
from ecrf.commitment import commitment_of
from ecrf.list_generator import new_secret
from ecrf.models import (
    Allocation,
    RandomisationList,
    RandomisationListAccess,
    RandomisationSlot,
    Study,
    Subject,
)
from ecrf.models.changes import marked_once
from ecrf.selectors.protocols import latest_protocol
from ecrf.selectors.randomisation import baseline_inputs, regenerate, site_codes, stratum_words
from ecrf.services.audit import require_reason, save_record
from ecrf.services.locking import lock_subject
from ecrf.services.subjects import allocate_from_slot

MAX_SLOTS_PER_STRATUM = 10000
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 16, 32  # 128 to 256 bits; secret_hex holds 64 hex digits


def stratum_of(subject: Subject) -> str:
    """The subject's stratum from stored data; a missing input is an error naming it, never a guess."""
    parts = []
    for factor in subject.protocol.stratification_factors.order_by("order"):
        if factor.source == "site":
            parts.append(f"{factor.code}:{subject.site.code}")
            continue
        value = _baseline_score(subject, factor)
        low, high = factor.levels
        parts.append(f"{factor.code}:{(high if value > factor.cutpoint else low)['code']}")
    return "|".join(parts) or "all"


def _baseline_score(subject: Subject, factor) -> int:
    labs, dialysis = baseline_inputs(subject, factor.visit_code)
    needed = {"meld": ("TBIL", "CREA", "INR"), "meld_na": ("TBIL", "CREA", "INR", "NA")}.get(factor.score, ())
    missing = [code for code in needed if labs.get(code) is None]
    if dialysis is None:
        missing.append("dialysis in the past week (clinical status)")
    if missing:
        raise ValidationError(
            {
                "stratum": f"Baseline {factor.score.upper()} cannot be computed: the {factor.visit_code} visit has "
                f"no {', '.join(missing)}."
            }
        )
    inputs = {"bilirubin_umol_l": labs["TBIL"], "creatinine_umol_l": labs["CREA"], "inr": labs["INR"]}
    if factor.score == "meld_na":
        return scores.meld_na(**inputs, sodium_mmol_l=labs["NA"], dialysis=dialysis)
    return scores.meld(**inputs, dialysis=dialysis)


@transaction.atomic
def generate_list(*, study: Study, slots_per_stratum: int, by, secret: bytes | None = None) -> RandomisationList:
    """Generate and store a list from a fresh 256-bit secret from the OS, or from ``secret`` (a statistician's
    re-run of a stored list's secret gives the identical list and commitment)."""
    protocol = randomised_protocol(study)
    if not 1 <= slots_per_stratum <= MAX_SLOTS_PER_STRATUM:
        raise ValidationError({"slots_per_stratum": f"Give between 1 and {MAX_SLOTS_PER_STRATUM} slots per stratum."})
    secret = new_secret() if secret is None else secret
    if not MIN_SECRET_BYTES <= len(secret) <= MAX_SECRET_BYTES:
        raise ValidationError("A randomisation secret has 128 to 256 bits (32 to 64 hex digits).")
    generated = regenerate(study, protocol.version, secret, slots_per_stratum, site_codes(study))
    return _store(
        study,
        protocol,
        generated.rows,
        by=by,
        source="generated",
        secret_hex=secret.hex(),
        slots_per_stratum=slots_per_stratum,
    )


def randomised_protocol(study: Study):
    protocol = latest_protocol(study)
    if protocol is None or not protocol.is_randomised:
        raise ValidationError(f"{study.code} does not randomise: its protocol assigns arms without a list.")
    return protocol


def _store(study, protocol, rows, *, by, source, source_name="", **generation) -> RandomisationList:
    """Replace the active list (only while unused) with these rows; ``by`` None means the command line."""
    current = RandomisationList.objects.select_for_update().filter(study=study, is_active=True).first()
    if current is not None:
        # Every stratum's lock (its slots), so no allocation is under way from the list being replaced.
        list(RandomisationSlot.objects.select_for_update().filter(list=current).values_list("pk", flat=True))
        if Allocation.objects.filter(slot__list=current).exists():
            raise ValidationError("The current list has allocations: it can no longer be replaced or edited.")
        current.is_active = False
        current._change_reason = "Replaced by a new list before any allocation"
        current.save()
    commitment = commitment_of(study, protocol.version, [(r[0], r[1], r[2].code, r[3]) for r in rows])
    randomisation_list = RandomisationList.objects.create(
        study=study,
        protocol=protocol,
        source=source,
        source_name=source_name,
        **generation,
        commitment_sha256=commitment,
        created_by=by,
    )
    RandomisationSlot.objects.bulk_create(
        RandomisationSlot(list=randomisation_list, stratum=s, sequence=n, arm=arm, code=code, block=b, block_size=size)
        for s, n, arm, code, b, size in rows
    )
    if by is not None:
        RandomisationListAccess.objects.create(list=randomisation_list, user=by, action="create")
    return randomisation_list


def store_imported(*, study: Study, protocol, rows, source_name: str, by) -> RandomisationList:
    """Store validated imported rows (stratum, sequence, arm, code); see ecrf.services.randomisation_import."""
    return _store(
        study,
        protocol,
        [(s, n, arm, code, None, None) for s, n, arm, code in rows],
        by=by,
        source="imported",
        source_name=source_name,
    )


def record_access(randomisation_list: RandomisationList, *, user, action: str) -> None:
    RandomisationListAccess.objects.create(list=randomisation_list, user=user, action=action)


@transaction.atomic
@marked_once
def randomise(subject: Subject, *, by) -> Allocation:
    """Allocate the subject to the next free slot of their stratum, under a row lock on the stratum (its first
    slot): the subject is locked and their stratum computed first, so the stratum is held only to pick the slot
    and save the allocation with its schedule."""
    lock_subject(subject)  # before the stratum's lock: the one order every path takes (subject, then stratum)
    subject = Subject.objects.select_related("study", "site", "protocol").get(pk=subject.pk)
    if Allocation.objects.filter(subject=subject).exists():
        raise ValidationError({"status": f"{subject.subject_code} is already allocated."})
    stratum = stratum_of(subject)
    active = RandomisationList.objects.filter(study=subject.study, is_active=True)
    randomisation_list = active.first()
    if randomisation_list is None:
        raise ValidationError({"stratum": f"{subject.study.code} has no randomisation list: ask the data manager."})
    in_stratum = RandomisationSlot.objects.filter(list=randomisation_list, stratum=stratum)
    held = in_stratum.select_for_update().filter(sequence=1).values_list("pk", flat=True).first()
    if held is not None and not active.filter(pk=randomisation_list.pk).exists():
        # Replaced while this request waited for the stratum: the new list is read afresh by a new attempt.
        raise ValidationError({"stratum": "The randomisation list was replaced meanwhile: randomise again."})
    slot = in_stratum.filter(allocation__isnull=True).select_related("arm").order_by("sequence").first()
    if slot is None:
        raise ValidationError(
            {
                "stratum": f"Stratum {stratum_words(subject.protocol, stratum)} has no free slot left: "
                "randomisation stopped. Alert the data manager."
            }
        )
    return allocate_from_slot(subject, slot=slot, stratum=stratum, by=by)


@transaction.atomic
def correct_allocation(allocation: Allocation, *, arm, reason: str, by) -> Allocation:
    """A data manager's documented correction of an allocation; the original stays in the history."""
    lock_subject(allocation.subject, allocation)
    reason = require_reason(reason, "correction")
    if arm.protocol_id != allocation.arm.protocol_id:
        raise ValidationError({"arm": "This arm belongs to another protocol version."})
    allocation.arm = arm
    return save_record(allocation, by=by, reason=f"Correction by data manager: {reason}")
