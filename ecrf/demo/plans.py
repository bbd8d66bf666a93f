"""Per-subject plans drawn from a cohort's published targets: who is in which arm, their baseline, their fate.

Pure and deterministic for a seed: ``random.Random(seed)`` is the only source of chance.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from analysis.scores import child_pugh, encephalopathy_category, meld
from ecrf.demo.cohorts import ArmCohort, Spread, TrialCohort

# Baselines the papers do not give, for the analytes the panels still measure (CRF units).
DEFAULT_LABS = {
    "CREA": Spread(75, sd=22),
    "NA": Spread(136, sd=4),
    "INR": Spread(1.35, sd=0.25),
    "AST": Spread(90, sd=70),
    "HB": Spread(118, sd=18),
    "TC": Spread(2.6, sd=0.8),
    "UA": Spread(260, sd=90),
    "LDH": Spread(230, sd=70),
    "ALP": Spread(150, sd=60),
    "AFP": Spread(60, sd=90),
}
# Decimals the CRF keeps (as in the protocol files): baselines are rounded before their scores are checked.
DECIMALS = {"INR": 2, "CREA": 0, "NA": 0, "ALT": 0, "AST": 0, "CHE": 0, "PTA": 0, "PLT": 0, "HB": 0, "UA": 0}


@dataclass
class SubjectPlan:
    arm_code: str | None
    sex: str
    age: int
    weight_kg: float
    allocation_date: date | None
    labs: dict[str, float] = field(default_factory=dict)
    ascites: str = "none"
    he_grade: int = 0
    fate: str = "completed"  # or died / withdrawn / lost / refused / ineligible
    end_time: float | None = None  # in the cohort's unit, from allocation
    hcc_time: float | None = None
    infusion_fever: bool = False
    drift: float = 0.0  # MELD-like change per time unit; lab trajectories follow it


def draw(spread: Spread, rng: random.Random) -> float:
    """One value: log-normal matched to mean +- SD, or triangular on (low, high) with the given median."""
    if spread.sd is not None:
        sigma2 = math.log(1 + (spread.sd / spread.centre) ** 2)
        return rng.lognormvariate(math.log(spread.centre) - sigma2 / 2, math.sqrt(sigma2))
    low, high, median = spread.low, spread.high, spread.centre
    # The mode that puts the triangular distribution's median where the paper reports it.
    if median >= (low + high) / 2:
        mode = low + 2 * (median - low) ** 2 / (high - low)
    else:
        mode = high - 2 * (high - median) ** 2 / (high - low)
    return rng.triangular(low, high, min(high, max(low, mode)))


def plan_trial(cohort: TrialCohort, rng: random.Random) -> list[SubjectPlan]:
    """Every screened subject of the trial, in screening order."""
    plans = [plan for arm in cohort.arms for plan in _plan_arm(cohort, arm, rng)]
    plans += [_screen_failure("refused", rng) for _ in range(cohort.refused_consent)]
    plans += [_screen_failure("ineligible", rng) for _ in range(cohort.ineligible)]
    rng.shuffle(plans)
    first, last = (date.fromisoformat(d) for d in cohort.enrolment)
    span = (last - first).days
    for i, plan in enumerate(plans):
        plan.allocation_date = first + timedelta(days=round(span * i / max(len(plans) - 1, 1)))
    return plans


def _screen_failure(fate: str, rng: random.Random) -> SubjectPlan:
    return SubjectPlan(
        arm_code=None,
        sex=rng.choice(["male", "female"]),
        age=rng.randint(25, 62),
        weight_kg=round(rng.gauss(64, 9), 1),
        allocation_date=None,
        fate=fate,
    )


def _plan_arm(cohort: TrialCohort, arm: ArmCohort, rng: random.Random) -> list[SubjectPlan]:
    fates = _fates(cohort, arm, rng)
    analysed = [i for i, (fate, _) in enumerate(fates) if fate in ("completed", "died")]
    targets = _baseline_targets(arm, len(analysed), rng)
    sexes = ["male"] * arm.male + ["female"] * (arm.allocated - arm.male)
    rng.shuffle(sexes)
    plans = []
    for i, (fate, end_time) in enumerate(fates):
        sex = sexes[i]
        plan = SubjectPlan(
            arm_code=arm.arm_code,
            sex=sex,
            age=round(draw(arm.age, rng)),
            weight_kg=round(rng.gauss(68 if sex == "male" else 56, 8), 1),
            allocation_date=None,
            fate=fate,
            end_time=end_time,
        )
        target = targets[analysed.index(i)] if i in analysed else None
        _draw_baseline(plan, arm, target, rng)
        plan.drift = arm.meld_change_per_unit + rng.gauss(0, abs(arm.meld_change_per_unit) / 2 + 0.01)
        if fate == "died":
            plan.drift = abs(plan.drift) + 0.3 * (12 / max(end_time, 1))
        plans.append(plan)
    _assign_hcc(arm, plans, rng)
    for plan in rng.sample([p for p in plans if p.fate in ("completed", "died")], arm.infusion_fevers):
        plan.infusion_fever = True
    return plans


def _fates(cohort: TrialCohort, arm: ArmCohort, rng: random.Random) -> list[tuple[str, float]]:
    limit = cohort.follow_up
    fates = [("died", rng.uniform(events.start, events.end)) for events in arm.deaths for _ in range(events.count)]
    fates += [("withdrawn", rng.uniform(0.5, limit / 2)) for _ in range(arm.withdrawn)]
    fates += [("lost", rng.uniform(limit / 6, limit * 0.8)) for _ in range(arm.lost)]
    fates += [("completed", float(limit))] * (arm.allocated - len(fates))
    rng.shuffle(fates)
    return fates


def _baseline_targets(arm: ArmCohort, n: int, rng: random.Random) -> list[tuple | None]:
    """(MELD > 15, Child-Pugh grade, ascites) for each analysed subject, matching the published counts."""
    if arm.meld_above_15 is None:
        return [None] * n
    meld_flags = [True] * arm.meld_above_15 + [False] * (n - arm.meld_above_15)
    grades = ["A"] * arm.child_pugh[0] + ["B"] * arm.child_pugh[1] + ["C"] * arm.child_pugh[2]
    ascites = [True] * arm.ascites + [False] * (n - arm.ascites)
    for items in (meld_flags, grades, ascites):
        rng.shuffle(items)
    # Pair the sickest with the sickest so the combinations stay clinically plausible.
    grades.sort(key=lambda g: "ABC".index(g))
    meld_flags.sort()
    ascites.sort()
    return list(zip(meld_flags, grades, ascites, strict=True))


def _draw_baseline(plan: SubjectPlan, arm: ArmCohort, target, rng: random.Random) -> None:
    for _ in range(4000):
        labs = {code: draw(spread, rng) for code, spread in {**DEFAULT_LABS, **arm.labs}.items()}
        if "INR" not in arm.labs:  # ACLF reports prothrombin activity; INR follows it loosely
            labs["INR"] = max(1.0, 1.2 + (45 - labs["PTA"]) * 0.045 + rng.gauss(0, 0.12))
        labs = {code: round(value, DECIMALS.get(code, 1)) for code, value in labs.items()}
        ascites = _ascites_for(target, rng)
        he_grade = rng.choices([0, 1, 2, 3], weights=[80, 10, 7, 3])[0]
        if target is None or _meets(target, labs, ascites, he_grade):
            break
    plan.labs, plan.ascites, plan.he_grade = labs, ascites, he_grade


def _ascites_for(target, rng: random.Random) -> str:
    if target is None:
        return rng.choice(["none", "mild", "moderate_severe"])
    return rng.choice(["mild", "moderate_severe"]) if target[2] else "none"


def _meets(target, labs, ascites, he_grade) -> bool:
    above_15, grade, _ = target
    score = meld(bilirubin_umol_l=labs["TBIL"], creatinine_umol_l=labs["CREA"], inr=labs["INR"])
    cp = child_pugh(
        bilirubin_umol_l=labs["TBIL"],
        albumin_g_l=labs["ALB"],
        inr=labs["INR"],
        ascites=ascites,
        encephalopathy=encephalopathy_category(he_grade),
    )
    return (score > 15) == above_15 and cp.grade == grade


def _assign_hcc(arm: ArmCohort, plans: list[SubjectPlan], rng: random.Random) -> None:
    """HCC among the analysed; a subject who also dies is diagnosed before death."""
    times = sorted(rng.uniform(e.start, e.end) for e in arm.hcc for _ in range(e.count))
    for time in times:
        candidates = [
            p
            for p in plans
            if p.hcc_time is None and (p.fate == "completed" or (p.fate == "died" and p.end_time > time + 1))
        ]
        rng.choice(candidates).hcc_time = time
