"""Per-subject plans drawn from a cohort's published targets: who is in which arm, their baseline, their fate.

Pure and deterministic for a seed: ``random.Random(seed)`` is the only source of chance.
"""

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from analysis.scores import child_pugh, encephalopathy_category, meld
from ecrf.demo.cohorts import ArmCohort, Events, Spread, TrialCohort
from ecrf.demo.values import hbeag_value

DAYS_PER = {"weeks": 7, "months": 365.25 / 12}

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
# A log-normal on the published mean +- SD has a tail no decompensated liver reaches (albumin of 54 g/L,
# cholinesterase of 11 000 U/L): such baselines are redrawn.
BASELINE_LIMITS = {"ALB": (15, 45), "PTA": (5, 105), "CHE": (600, 8500)}
SYMMETRIC = {"ALB", "TP"}  # proteins: no long right tail, so a normal matches the published mean +- SD
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
    follow_up: float | None = None  # from allocation to the data cut-off, in the cohort's unit (staggered entry)
    meld_change: float = 0.0  # MELD-like change once settled (negative: better); lab trajectories follow it
    settle_time: float = 1.0  # the time constant of that change

    def severity(self, units: float) -> float:
        """MELD-like change ``units`` after allocation: it settles, as recovery (or decline) does."""
        return self.meld_change * (1 - math.exp(-max(units, 0) / self.settle_time))


def draw(spread: Spread, rng: random.Random, *, symmetric: bool = False) -> float:
    """One value: log-normal (normal if ``symmetric``) matched to mean +- SD, or triangular on (low, high) with the
    given median."""
    if spread.sd is not None and symmetric:
        return rng.gauss(spread.centre, spread.sd)
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
    plans = _enrol(cohort, rng)
    # HBeAg last, from a generator of its own: the draws before it (and the survival they give) do not move.
    _assign_hbeag(cohort, plans, random.Random(rng.random()))
    return plans


def _enrol(cohort: TrialCohort, rng: random.Random) -> list[SubjectPlan]:
    """The subjects with their arm, baseline, fate and entry date."""
    plans = [plan for arm in cohort.arms for plan in _plan_arm(cohort, arm, rng)]
    plans += [_screen_failure("refused", rng) for _ in range(cohort.refused_consent)]
    plans += [_screen_failure("ineligible", rng) for _ in range(cohort.ineligible)]
    rng.shuffle(plans)
    first, last = (date.fromisoformat(d) for d in cohort.enrolment)
    if cohort.as_of is None:
        span = (last - first).days
        for i, plan in enumerate(plans):
            plan.allocation_date = first + timedelta(days=round(span * i / max(len(plans) - 1, 1)))
        return plans
    # Staggered entry: a subject followed F units to the data cut-off entered F units before it.
    as_of, days_per_unit = date.fromisoformat(cohort.as_of), DAYS_PER[cohort.time_unit]
    for plan in plans:
        if plan.follow_up is None:  # a screen failure: any day of the recruitment
            plan.follow_up = rng.uniform(0, (as_of - first).days / days_per_unit)
        entry = as_of - timedelta(days=math.floor(plan.follow_up * days_per_unit) + rng.randint(0, 14))
        plan.allocation_date = min(max(entry, first), last)
        if plan.fate == "completed":  # one who entered on the first day is followed no further than the cut-off
            plan.end_time = min(plan.end_time, (as_of - plan.allocation_date).days / days_per_unit)
    plans.sort(key=lambda plan: plan.allocation_date)
    return plans


def _assign_hbeag(cohort: TrialCohort, plans: list[SubjectPlan], rng: random.Random) -> None:
    """A baseline HBeAg (S/CO) per allocated subject: exactly the published positives among the analysed;
    the withdrawn and lost are positive at the same rate."""
    for arm in cohort.arms:
        if arm.hbeag_positive is None:
            continue
        allocated = [p for p in plans if p.arm_code == arm.arm_code]
        analysed = [i for i, p in enumerate(allocated) if p.fate in ("completed", "died")]
        positive = set(rng.sample(analysed, arm.hbeag_positive))
        rate = arm.hbeag_positive / len(analysed)
        for i, plan in enumerate(allocated):
            is_positive = i in positive if i in analysed else rng.random() < rate
            plan.labs["HBEAG"] = hbeag_value(is_positive, rng)


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
    follow_ups = _follow_ups(arm, fates, analysed, rng)
    targets = _baseline_targets(arm, len(analysed), rng)
    sexes = _sexes(arm, fates, analysed, rng)
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
            follow_up=follow_ups[i],
        )
        if fate == "completed" and plan.follow_up is not None:
            plan.end_time = plan.follow_up  # survivors are followed to the data cut-off
        target = targets[analysed.index(i)] if i in analysed else None
        _draw_baseline(plan, arm, target, rng)
        _draw_course(plan, cohort, arm, rng)
        plans.append(plan)
    _assign_hcc(arm, plans, rng, thinning=cohort.as_of is not None)
    for plan in rng.sample([p for p in plans if p.fate in ("completed", "died")], arm.infusion_fevers):
        plan.infusion_fever = True
    return plans


def _draw_course(plan: SubjectPlan, cohort: TrialCohort, arm: ArmCohort, rng: random.Random) -> None:
    """Survivors settle near the arm's change within ``settle_time``; the dying worsen until they die."""
    if plan.fate == "died":
        plan.meld_change, plan.settle_time = 6 + abs(rng.gauss(0, 2)), max(plan.end_time, 1)
        return
    plan.meld_change = arm.meld_change + rng.gauss(0, abs(arm.meld_change) / 2 + 0.5)
    plan.settle_time = cohort.settle_time


def _sexes(arm: ArmCohort, fates, analysed: list[int], rng: random.Random) -> list[str]:
    """Sex per subject; with ``male_analysed`` the analysed get exactly that many men."""
    if arm.male_analysed is None:
        sexes = ["male"] * arm.male + ["female"] * (arm.allocated - arm.male)
        rng.shuffle(sexes)
        return sexes
    inside = ["male"] * arm.male_analysed + ["female"] * (len(analysed) - arm.male_analysed)
    outside_n = len(fates) - len(analysed)
    outside = ["male"] * (arm.male - arm.male_analysed) + ["female"] * (outside_n - arm.male + arm.male_analysed)
    rng.shuffle(inside)
    rng.shuffle(outside)
    return [inside.pop() if i in analysed else outside.pop() for i in range(len(fates))]


def _follow_ups(arm: ArmCohort, fates, analysed: list[int], rng: random.Random) -> list[float | None]:
    """Time from allocation to the data cut-off per subject, so the analysed have the published follow-up.

    Uniform entry makes survivors' follow-up uniform up to the published maximum; its lower end is set so that the
    reverse Kaplan-Meier median (deaths censored) is the published median. The dead and those who left get a
    draw long enough for their exit (it only dates their entry).
    """
    if arm.follow_up is None:
        return [None] * len(fates)
    high, alive = arm.follow_up.high, [i for i in analysed if fates[i][0] == "completed"]
    deaths = [fates[i][1] for i in analysed if fates[i][0] == "died"]

    def spread(low: float) -> list[float]:
        return [low + (high - low) * (k + 0.5) / len(alive) for k in range(len(alive))]

    low, top = 0.0, high
    for _ in range(40):  # the median grows with the lower end: bisect
        middle = (low + top) / 2
        low, top = (middle, top) if reverse_km_median(spread(middle), deaths) < arm.follow_up.centre else (low, middle)
    pool = spread(low)
    rng.shuffle(pool)
    return [pool.pop() if i in alive else rng.uniform(max(low, time), high) for i, (_, time) in enumerate(fates)]


def reverse_km_median(follow_ups: list[float], deaths: list[float]) -> float:
    """Median follow-up by reverse Kaplan-Meier: reaching the cut-off alive is the event, a death is censored."""
    times = sorted([(t, 1) for t in follow_ups] + [(t, 0) for t in deaths])
    at_risk, survival = len(times), 1.0
    for time, reached in times:
        if reached:
            survival *= 1 - 1 / at_risk
            if survival <= 0.5:
                return time
        at_risk -= 1
    return math.inf


def event_times(windows: tuple[Events, ...], rng: random.Random, *, thinning: bool) -> list[float]:
    """The times of each window's events, sorted; with ``thinning``, denser early in the window (see ``Events``)."""
    if not thinning:
        return sorted(rng.uniform(e.start, e.end) for e in windows for _ in range(e.count))
    return sorted(rng.triangular(e.start, e.end, e.start) for e in windows for _ in range(e.count))


def _fates(cohort: TrialCohort, arm: ArmCohort, rng: random.Random) -> list[tuple[str, float]]:
    limit = cohort.follow_up
    deaths = event_times(arm.deaths, rng, thinning=cohort.as_of is not None)
    if deaths and arm.follow_up is not None:
        deaths[0] = arm.follow_up.low  # the published shortest follow-up is the earliest death
    fates = [("died", time) for time in deaths]
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
        spreads = {**DEFAULT_LABS, **arm.labs}
        labs = {code: draw(spread, rng, symmetric=code in SYMMETRIC) for code, spread in spreads.items()}
        if "INR" not in arm.labs:  # ACLF reports prothrombin activity; INR follows it loosely
            labs["INR"] = max(1.0, 1.2 + (45 - labs["PTA"]) * 0.045 + rng.gauss(0, 0.12))
        labs = {code: round(value, DECIMALS.get(code, 1)) for code, value in labs.items()}
        ascites = _ascites_for(target, rng)
        he_grade = rng.choices([0, 1, 2, 3], weights=[80, 10, 7, 3])[0]
        plausible = all(low <= labs[code] <= high for code, (low, high) in BASELINE_LIMITS.items() if code in labs)
        if plausible and (target is None or _meets(target, labs, ascites, he_grade)):
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


def _assign_hcc(arm: ArmCohort, plans: list[SubjectPlan], rng: random.Random, *, thinning: bool) -> None:
    """HCC among the analysed; a subject who also dies is diagnosed before death."""
    times = event_times(arm.hcc, rng, thinning=thinning)
    for time in times:
        candidates = [
            p for p in plans if p.hcc_time is None and p.fate in ("completed", "died") and p.end_time > time + 1
        ]
        rng.choice(candidates).hcc_time = time
