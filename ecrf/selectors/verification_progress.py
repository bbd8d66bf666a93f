"""Source data verification progress: which records the protocol's plan requires verified, and which are."""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from ecrf.models import (
    AdverseEvent,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    InfusionEvent,
    LabDraw,
    SourceVerification,
    Subject,
    Visit,
    VisitStatus,
)

SAMPLED_MODELS = (Visit, ClinicalStatus, LabDraw, AdverseEvent, ConcomitantMedication)


def is_sampled(subject: Subject, percent: int) -> bool:
    """Whether the subject is in the sample whose every form is verified: a fixed draw from its code."""
    digest = hashlib.sha256(f"{subject.study_id}:{subject.subject_code}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < percent


@dataclass
class SdvProgress:
    required: set = field(default_factory=set)
    verified: set = field(default_factory=set)

    @property
    def done(self) -> int:
        return len(self.required & self.verified)

    @property
    def missing(self) -> int:
        return len(self.required - self.verified)

    @property
    def percent(self) -> float | None:
        return 100 * len(self.required & self.verified) / len(self.required) if self.required else None


def sdv_progress(subjects, plan: dict) -> dict[int, SdvProgress]:
    """Per subject: the records the protocol's verification plan requires verified, and those that are."""
    subjects = list(subjects)
    ids = [s.pk for s in subjects]
    critical = set(plan.get("sdv_critical_forms", []))
    sampled = {s.pk for s in subjects if is_sampled(s, plan.get("sdv_sampling_percent", 100))}
    progress = {pk: SdvProgress() for pk in ids}
    for subject in subjects:
        if {"consent", "death"} & critical or subject.pk in sampled:
            progress[subject.pk].required.add(("ecrf.subject", subject.pk))
    _require(progress, EligibilityAnswer.objects.active().filter(subject_id__in=ids), "eligibility" in critical)
    _require(progress, InfusionEvent.objects.active().filter(subject_id__in=ids), "infusion" in critical)
    serious = AdverseEvent.objects.active().filter(subject_id__in=ids, serious=True)
    _require(progress, serious, "serious_adverse_event" in critical)
    for model in SAMPLED_MODELS:
        rows = model.objects.active().filter(**{_subject_lookup(model): list(sampled)})
        if model is Visit:
            rows = rows.filter(status=VisitStatus.DONE)
        _require(progress, rows, True, lookup=_subject_lookup(model).removesuffix("__in"))
    standing = SourceVerification.objects.filter(subject_id__in=ids, cleared_at__isnull=True, field_name="")
    for subject_id, model, pk in standing.values_list("subject_id", "record_model", "record_id"):
        progress[subject_id].verified.add((model, pk))
    return progress


def _subject_lookup(model) -> str:
    return "visit__subject_id__in" if model in (ClinicalStatus, LabDraw) else "subject_id__in"


def _require(progress, rows, wanted: bool, lookup: str = "subject_id") -> None:
    if not wanted:
        return
    label = rows.model._meta.label_lower
    for subject_id, pk in rows.values_list(lookup, "pk"):
        progress[subject_id].required.add((label, pk))


@dataclass(frozen=True)
class SiteVerification:
    site: str
    subjects: int
    required: int
    verified: int

    @property
    def percent(self) -> float | None:
        return 100 * self.verified / self.required if self.required else None


def verification_by_site(study, sites) -> tuple[list[SiteVerification], list[tuple[Subject, SdvProgress, bool]]]:
    """Source verification progress per site, and per subject (least verified first), at ``sites``."""
    subjects = list(
        Subject.objects.active()
        .filter(study=study, site__in=sites)
        .select_related("site", "protocol")
        .order_by("site__code", "subject_code")
    )
    progress, sampled = {}, {}
    for protocol, group in by_protocol(subjects).items():
        progress |= sdv_progress(group, protocol.monitoring)
        percent = protocol.monitoring.get("sdv_sampling_percent", 100)
        sampled |= {s.pk: is_sampled(s, percent) for s in group}
    per_site = defaultdict(lambda: [0, 0, 0])
    for subject in subjects:
        counts = per_site[subject.site.code]
        counts[0] += 1
        counts[1] += len(progress[subject.pk].required)
        counts[2] += progress[subject.pk].done
    sites_rows = [SiteVerification(code, *counts) for code, counts in sorted(per_site.items())]
    subject_rows = sorted(
        ((s, progress[s.pk], sampled[s.pk]) for s in subjects), key=lambda row: (-row[1].missing, row[0].subject_code)
    )
    return sites_rows, subject_rows


def by_protocol(subjects) -> dict:
    groups = defaultdict(list)
    for subject in subjects:
        groups[subject.protocol].append(subject)
    return groups
