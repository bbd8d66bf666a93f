"""Turn subject plans into clinical rows of a loaded protocol, in bulk, each with its history row.

The demo writes tens of thousands of rows, so it bypasses the per-row services but not the database: every
check and unique constraint still applies, and every row gets a history entry saying it is demo data.
"""

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from simple_history.utils import bulk_create_with_history

from ecrf.code_patterns import format_code
from ecrf.demo.plans import DAYS_PER, SubjectPlan
from ecrf.demo.values import passing_value, trajectory
from ecrf.models import (
    AdverseEvent,
    Allocation,
    AllocationMethod,
    ClinicalStatus,
    ConcomitantMedication,
    EligibilityAnswer,
    EndpointEvent,
    InfusionEvent,
    LabDraw,
    LabValue,
    ProtocolVersion,
    ReleaseResult,
    Site,
    Subject,
    SubjectStatus,
    Visit,
    VisitStatus,
)

DEATH_CAUSES = ["Liver failure", "Variceal bleeding", "Hepatorenal syndrome", "Sepsis"]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class TrialBuilder:
    """Writes one trial's subjects; ``rows`` collects unsaved objects per model, saved in dependency order."""

    def __init__(
        self,
        protocol: ProtocolVersion,
        sites: list[Site],
        *,
        time_unit: str,
        users: dict,
        seed: int,
        site_weights: list[float] | None = None,
    ):
        self.protocol = protocol
        self.sites = sites
        self.site_weights = site_weights  # None: the demo's 80/20 split between its two sites
        self.days_per_unit = DAYS_PER[time_unit]
        self.users = users
        self.rng = random.Random(f"{protocol.study.code}-{seed}")
        self.reason = f"Demo data (seed {seed})"
        self.arms = {arm.code: arm for arm in protocol.arms.all()}
        self.criteria = list(protocol.eligibility_criteria.order_by("order"))
        self.definitions = list(protocol.visit_definitions.select_related("lab_panel").order_by("order"))
        self.panels = {p.pk: list(p.analytes.order_by("order")) for p in protocol.lab_panels.all()}
        self.release = list(protocol.release_criteria.order_by("order"))
        self.plan = getattr(protocol, "infusion_plan", None)
        self.background = list(protocol.background_medications.order_by("order"))
        self.lot_counter = 0
        self.codes = set()
        self.subjects_at = defaultdict(int)
        # The protocol's own code pattern, numbered per site as registration proposes it.
        self.code_pattern = protocol.subject_code_pattern or f"{protocol.study.code}-{{site}}-{{nnn}}"

    def _save(self, model, objects: list) -> list:
        return bulk_create_with_history(
            objects, model, batch_size=500, default_user=self.users["coordinator"], default_change_reason=self.reason
        )

    def build(self, plans: list[SubjectPlan]) -> list[Subject]:
        subjects = self._save(Subject, [self._subject(plan) for plan in plans])
        self._save(EligibilityAnswer, [a for s, p in zip(subjects, plans, strict=True) for a in self._answers(s, p)])
        allocated = [(s, p) for s, p in zip(subjects, plans, strict=True) if p.arm_code]
        allocations = self._save(Allocation, [self._allocation(s, p) for s, p in allocated])
        for subject, allocation in zip((s for s, _ in allocated), allocations, strict=True):
            subject.allocation = allocation
        visits = self._save(Visit, [v for s, p in allocated for v in self._visits(s, p)])
        by_subject = defaultdict(list)
        for visit in visits:
            by_subject[visit.subject_id].append(visit)
        self._measurements(allocated, by_subject)
        self._events(allocated, by_subject)
        return subjects

    # Subjects and screening ------------------------------------------------------------------------------
    def _subject(self, plan: SubjectPlan) -> Subject:
        if self.site_weights is not None:
            site = self.rng.choices(self.sites, self.site_weights)[0]
        else:
            site = self.sites[0] if len(self.sites) == 1 or self.rng.random() < 0.8 else self.sites[1]
        self.subjects_at[site.code] += 1
        screened = (plan.allocation_date or self._screening_day()) - timedelta(days=self.rng.randint(1, 6))
        subject = Subject(
            study=self.protocol.study,
            site=site,
            protocol=self.protocol,
            subject_code=format_code(self.code_pattern, site=site.code, number=self.subjects_at[site.code]),
            screening_date=screened,
            sex=plan.sex,
            age_years=plan.age,
            weight_kg=Decimal(str(plan.weight_kg)),
        )
        if plan.fate == "refused":
            subject.status, subject.screen_failure_reason = SubjectStatus.SCREEN_FAILED, "Refused to sign consent"
            return subject
        subject.consent_date, subject.consent_version = screened, f"ICF v{self.protocol.version}"
        if plan.fate == "ineligible":
            subject.status = SubjectStatus.SCREEN_FAILED
            subject.screen_failure_reason = f"Not eligible: {self._excluding_criterion().text}"
            return subject
        self._set_outcome(subject, plan)
        return subject

    def _screening_day(self) -> date:
        first = self.protocol.effective_date + timedelta(days=60)
        return first + timedelta(days=self.rng.randint(0, 500))

    def _excluding_criterion(self):
        exclusions = [c for c in self.criteria if c.kind == "exclusion"]
        return next((c for c in exclusions if "diabetes" in c.text.lower()), exclusions[0])

    def _set_outcome(self, subject: Subject, plan: SubjectPlan) -> None:
        end = self.day_at(plan, plan.end_time)
        if plan.fate == "died":
            subject.status, subject.death_date = SubjectStatus.DIED, end
            cause = "HCC progression" if plan.hcc_time is not None else self.rng.choice(DEATH_CAUSES)
            subject.death_cause, subject.last_contact_date = cause, end
        elif plan.fate == "withdrawn":
            subject.status, subject.withdrawal_date = SubjectStatus.WITHDRAWN, end
            subject.withdrawal_reason, subject.last_contact_date = "Subject withdrew consent", end
        elif plan.fate == "lost":
            subject.status, subject.last_contact_date = SubjectStatus.LOST, end
        else:
            subject.status, subject.completion_date, subject.last_contact_date = SubjectStatus.COMPLETED, end, end

    def day_at(self, plan: SubjectPlan, units: float) -> date:
        return plan.allocation_date + timedelta(days=math.floor(units * self.days_per_unit + 0.5))

    def _answers(self, subject: Subject, plan: SubjectPlan) -> list[EligibilityAnswer]:
        if subject.consent_date is None:
            return []
        excluding = self._excluding_criterion() if plan.fate == "ineligible" else None
        when = at(subject.consent_date, 10)
        return [
            EligibilityAnswer(
                subject=subject,
                criterion=c,
                answer=(not c.qualifying_answer) if c == excluding else c.qualifying_answer,
                assessed_by=self.users["investigator"],
                assessed_at=when,
            )
            for c in self.criteria
        ]

    def _allocation(self, subject: Subject, plan: SubjectPlan) -> Allocation:
        randomised = self.protocol.is_randomised
        return Allocation(
            subject=subject,
            arm=self.arms[plan.arm_code],
            method=AllocationMethod.RANDOMISED if randomised else AllocationMethod.ASSIGNED,
            allocation_date=plan.allocation_date,
            allocated_at=at(plan.allocation_date, 11),
            allocated_by=self.users["investigator"],
            reason="" if randomised else "Parallel-controlled design: arm assigned at enrolment",
            # The historical cohort was randomised on the trial's own list, before this system: its codes are kept.
            randomisation_code=self._legacy_code() if randomised else "",
            stratum="",
        )

    def _legacy_code(self) -> str:
        while True:
            code = f"{self.protocol.study.code}-P" + "".join(
                self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(5)
            )
            if code not in self.codes:
                self.codes.add(code)
                return code

    # Visits ---------------------------------------------------------------------------------------------
    def _visits(self, subject: Subject, plan: SubjectPlan) -> list[Visit]:
        anchors = {
            "consent": subject.consent_date,
            "allocation": plan.allocation_date,
            "first_infusion": plan.allocation_date,
        }
        end = subject.last_contact_date
        visits = []
        for definition in self.definitions:
            planned = anchors[definition.anchor] + timedelta(days=definition.offset_days)
            if planned > end and definition.anchor != "consent":
                break
            start = planned - timedelta(days=definition.window_before_days)
            finish = planned + timedelta(days=definition.window_after_days)
            actual = planned + timedelta(
                days=self.rng.randint(-definition.window_before_days, definition.window_after_days)
            )
            actual = min(max(actual, anchors["consent"]), end)
            visits.append(
                Visit(
                    subject=subject,
                    definition=definition,
                    planned_date=planned,
                    window_start=start,
                    window_end=finish,
                    actual_date=actual,
                    status=VisitStatus.DONE,
                    weight_kg=subject.weight_kg,
                )
            )
        return visits

    # Labs and clinical status -----------------------------------------------------------------------------
    def _measurements(self, allocated, by_subject) -> None:
        draws, statuses, pending_values = [], [], []
        for subject, plan in allocated:
            for visit in by_subject[subject.pk]:
                units = (visit.actual_date - plan.allocation_date).days / self.days_per_unit
                definition = visit.definition
                if "clinical_status" in definition.forms:
                    statuses.append(self._status(visit, plan, units))
                if definition.lab_panel_id:
                    draw = LabDraw(visit=visit, panel=definition.lab_panel, drawn_at=at(visit.actual_date, 7, 30))
                    draws.append(draw)
                    pending_values.append((draw, plan, units))
        self._save(ClinicalStatus, statuses)
        self._save(LabDraw, draws)
        values = [v for draw, plan, units in pending_values for v in self._values(draw, plan, units)]
        self._save(LabValue, values)

    def _status(self, visit: Visit, plan: SubjectPlan, units: float) -> ClinicalStatus:
        worse = plan.severity(units) > 2
        better = plan.severity(units) < -2
        ascites = plan.ascites
        if better and ascites == "moderate_severe":
            ascites = "mild"
        he = min(4, plan.he_grade + 1) if worse else (0 if better else plan.he_grade)
        return ClinicalStatus(
            visit=visit,
            assessed_on=visit.actual_date,
            ascites=ascites,
            encephalopathy_grade=he,
            dialysis_past_week=False,
            temperature_c=Decimal(str(round(self.rng.gauss(36.6, 0.3), 1))),
            peripheral_oedema=ascites != "none" and self.rng.random() < 0.4,
            nausea=self.rng.random() < 0.05,
        )

    def _values(self, draw: LabDraw, plan: SubjectPlan, units: float) -> list[LabValue]:
        values = []
        for analyte in self.panels[draw.panel_id]:
            if analyte.code == "AFP" and units > 0 and self.rng.random() < 0.3:
                values.append(
                    LabValue(draw=draw, analyte=analyte, not_done=True, not_done_reason="Not measured at this visit")
                )
                continue
            baseline = plan.labs.get(analyte.code)
            raw = baseline if units <= 0 else trajectory(analyte.code, baseline, plan.severity(units), self.rng)
            if raw is None:
                continue
            bounded = min(max(raw, analyte.hard_low), analyte.hard_high)
            values.append(LabValue(draw=draw, analyte=analyte, value=round(Decimal(str(bounded)), analyte.decimals)))
        return values

    # Infusions, adverse events, endpoints, medication --------------------------------------------------------
    def _events(self, allocated, by_subject) -> None:
        infusions = []
        for subject, plan in allocated:
            arm = self.arms[plan.arm_code]
            if not arm.gets_infusions:
                continue
            for visit in by_subject[subject.pk]:
                if visit.definition.infusion_number:
                    infusions.append(self._infusion(subject, visit, plan, placebo=arm.infusions == "placebo"))
        infusions = self._save(InfusionEvent, infusions)
        self._save(ReleaseResult, [r for i in infusions if not i.is_placebo for r in self._release(i)])
        fevers = self._fevers(infusions, {s.pk: p for s, p in allocated})
        infused_at = defaultdict(list)
        for infusion in infusions:
            infused_at[infusion.subject_id].append(infusion.started_at)
        fatal = [ae for s, p in allocated if (ae := self._fatal_sae(s, p, infused_at[s.pk]))]
        self._save(AdverseEvent, fevers + fatal)
        self._save(EndpointEvent, [self._hcc(s, p) for s, p in allocated if p.hcc_time is not None])
        self._save(ConcomitantMedication, [m for s, p in allocated for m in self._medication(s, p)])

    def _infusion(self, subject, visit, plan, *, placebo: bool) -> InfusionEvent:
        weight = Decimal(str(plan.weight_kg))
        infusion = InfusionEvent(
            subject=subject,
            visit=visit,
            number=visit.definition.infusion_number,
            started_at=at(visit.actual_date, 9, 30),
            is_placebo=placebo,
            body_weight_kg=weight,
            volume_ml=Decimal("100.0"),
            observation_hours=Decimal(str(self.plan.observation_hours)),
        )
        if not placebo:
            self.lot_counter += 1
            infusion.product_lot = f"UCMSC-{visit.actual_date:%y}-{self.lot_counter:04d}"
            infusion.passage = self.plan.passage
            infusion.total_cells = round(self.plan.target_cells_per_kg * float(weight) * self.rng.uniform(0.92, 1.08))
            infusion.cells_per_kg = infusion.total_cells / float(weight)
        return infusion

    def _release(self, infusion: InfusionEvent) -> list[ReleaseResult]:
        results = []
        for criterion in self.release:
            if criterion.kind == "negative":
                results.append(ReleaseResult(infusion=infusion, criterion=criterion, negative=True, passed=True))
                continue
            value = passing_value(criterion.comparator, criterion.threshold, self.rng)
            results.append(ReleaseResult(infusion=infusion, criterion=criterion, value=value, passed=True))
        return results

    def _fevers(self, infusions, plans) -> list[AdverseEvent]:
        by_subject = defaultdict(list)
        for infusion in infusions:
            if not infusion.is_placebo:
                by_subject[infusion.subject_id].append(infusion)
        events = []
        for subject_id, given in by_subject.items():
            if not plans[subject_id].infusion_fever:
                continue
            infusion = self.rng.choice(given)
            onset = infusion.started_at + timedelta(hours=self.rng.uniform(2, 6))
            infusion.reaction = "Self-limiting fever 37-38 °C"
            events.append(
                AdverseEvent(
                    subject_id=subject_id,
                    infusion=infusion,
                    term="Fever",
                    onset_at=onset,
                    resolved_at=onset + timedelta(hours=self.rng.uniform(3, 10)),
                    grade=1,
                    relatedness="probable",
                    outcome="recovered",
                    action_taken="none",
                )
            )
        for event in events:  # few, and each reaction change is audited like any other
            event.infusion._change_reason, event.infusion._history_user = self.reason, self.users["coordinator"]
            event.infusion.save(update_fields=["reaction", "updated_at"])
        return events

    def _fatal_sae(self, subject: Subject, plan: SubjectPlan, infused_at: list[datetime]) -> AdverseEvent | None:
        collected = self.protocol.endpoint_collections.filter(code="adverse_events").first()
        if plan.fate != "died" or collected is None:
            return None
        if (subject.death_date - plan.allocation_date).days > collected.collect_days:
            return None
        onset = self._fatal_onset(subject.death_date, plan.allocation_date, infused_at)
        return AdverseEvent(
            subject=subject,
            term=subject.death_cause,
            onset_at=onset,
            resolved_at=at(subject.death_date, 12),
            grade=5,
            serious=True,
            seriousness="death",
            sae_reported_on=subject.death_date + timedelta(days=1),
            sae_description=f"Death from {subject.death_cause.lower()}.",
            relatedness="not_related",
            outcome="fatal",
        )

    def _fatal_onset(self, death: date, allocated: date, infused_at: list[datetime]) -> datetime:
        """2-10 days before death, after allocation, and never in the two days after an infusion (or saline):
        the disease kills these subjects, and an onset just after an infusion would read as a reaction to it."""
        days = [d for d in range(2, 11) if death - timedelta(days=d) > allocated] or [0]
        onsets = [at(death - timedelta(days=d), 8) for d in days]
        clear = [o for o in onsets if not any(timedelta(0) <= o - i <= timedelta(hours=48) for i in infused_at)]
        return self.rng.choice(clear or [at(death, 6)])

    def _hcc(self, subject: Subject, plan: SubjectPlan) -> EndpointEvent:
        method = self.rng.choices(["imaging", "imaging_afp", "histology"], weights=[6, 3, 1])[0]
        return EndpointEvent(subject=subject, kind="hcc", event_date=self.day_at(plan, plan.hcc_time), method=method)

    def _medication(self, subject: Subject, plan: SubjectPlan) -> list[ConcomitantMedication]:
        meds = []
        for background in self.background:
            for_ascites = "ascites" in background.indication.lower()
            if for_ascites and plan.ascites == "none":
                continue
            if "guideline" in background.dose.lower() and self.rng.random() < 0.7:
                continue
            meds.append(
                ConcomitantMedication(
                    subject=subject,
                    drug=background.drug,
                    dose=background.dose,
                    indication=background.indication,
                    is_background=True,
                    start_date=plan.allocation_date,
                    stop_date=subject.last_contact_date,
                )
            )
        return meds
