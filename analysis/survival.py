"""Survival analysis of a time-to-event frame: Kaplan-Meier, log-rank, Cox proportional hazards, landmarks.

Pure functions of DataFrames (one row per subject, a duration column and an event column: 1 the event, anything
else censored), returning JSON-ready values. The estimators are lifelines' (Davidson-Pilon, JOSS 2019):
``KaplanMeierFitter`` with the exponential Greenwood ("log(-log)") 95% interval, ``logrank_test``, and
``CoxPHFitter``, whose partial likelihood handles tied times by Efron's method; the proportional-hazards check is
the scaled Schoenfeld residual test against rank-transformed time (Grambsch & Therneau 1994,
``proportional_hazard_test``). Tests cross-check them against statsmodels ``PHReg(ties="efron")`` and
``survdiff`` and against hand-computed examples.

A comparison that cannot be estimated (no events, an arm without events, no variation) is returned with
``reason`` set and the numbers None: never an exception, never a meaningless hazard ratio.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning, StatisticalWarning
from lifelines.statistics import logrank_test, proportional_hazard_test
from lifelines.utils import median_survival_times

from analysis.plain import number

PRECISION = {"precision": 1e-10}  # Newton-Raphson stops when the step is this small
ARM = "__in_group__"  # the Cox model's 0/1 arm column: 1 for the group, 0 for the reference


@dataclass(frozen=True)
class ArmComparison:
    """``group`` against ``reference`` in one window: the hazard ratio is the group's hazard over the reference's."""

    group: str
    reference: str
    window: tuple[float, float | None]
    n_group: int
    n_reference: int
    events_group: int
    events_reference: int
    hazard_ratio: float | None = None
    ci_lower: float | None = None
    ci_upper: float | None = None
    p_wald: float | None = None
    p_logrank: float | None = None
    ph_test_p: float | None = None
    reason: str | None = None  # why the hazard ratio is not estimable

    @property
    def estimable(self) -> bool:
        return self.hazard_ratio is not None

    def as_dict(self) -> dict:
        return {**asdict(self), "window": list(self.window), "estimable": self.estimable}


def known_times(frame: pd.DataFrame, *, duration: str, event: str) -> pd.DataFrame:
    """The rows whose time and event are recorded: a subject without them cannot be placed on the time axis."""
    return frame.dropna(subset=[duration, event])


def window_frame(frame: pd.DataFrame, *, duration: str, event: str, window=(0, None)) -> pd.DataFrame:
    """The subjects still at risk at ``start``, time measured from ``start``, censored at ``end``.

    At start 0 everyone is at risk; a later start keeps those whose time is beyond it. The event column becomes
    0/1: an event after ``end``, and any competing event, is censored; an event exactly at ``end`` counts.
    """
    start, end = window
    data = known_times(frame, duration=duration, event=event)
    data = (data[data[duration] > start] if start > 0 else data).copy()
    observed = data[event] == 1
    if end is not None:
        beyond = data[duration] > end
        observed &= ~beyond
        data[duration] = data[duration].where(~beyond, end)
    data[duration] = data[duration].astype(float) - start
    data[event] = observed.astype(int)
    return data


def _two_arms(frame, *, group_col, group, reference) -> pd.DataFrame:
    data = frame[frame[group_col].isin([group, reference])].copy()
    data[ARM] = (data[group_col] == group).astype(int)
    return data


def compare_arms(
    frame: pd.DataFrame, *, duration: str, event: str, group_col: str, group: str, reference: str, window=(0, None)
) -> ArmComparison:
    """Unadjusted Cox hazard ratio of ``group`` over ``reference`` and the log-rank p, within ``window``."""
    data = window_frame(frame, duration=duration, event=event, window=window)
    counts = {
        **_counts(data[data[group_col] == group], event, "group"),
        **_counts(data[data[group_col] == reference], event, "reference"),
    }
    result = cox(data, duration=duration, event=event, group_col=group_col, group=group, reference=reference)
    return ArmComparison(
        group=group,
        reference=reference,
        window=(window[0], window[1]),
        **counts,
        hazard_ratio=result["hazard_ratio"],
        ci_lower=result["ci_lower"],
        ci_upper=result["ci_upper"],
        p_wald=result["p_wald"],
        p_logrank=logrank(data, duration=duration, event=event, group_col=group_col, groups=[group, reference])[
            "p_value"
        ],
        ph_test_p=result["ph_test_p"],
        reason=result["reason"],
    )


def _counts(arm: pd.DataFrame, event: str, role: str) -> dict:
    return {f"n_{role}": len(arm), f"events_{role}": int((arm[event] == 1).sum())}


def cox(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    group: str,
    reference: str,
    covariates: Sequence[str] = (),
    strata: Sequence[str] = (),
) -> dict:
    """Cox model of the arm (``group`` over ``reference``), adjusted for ``covariates`` when given, and
    stratified by ``strata`` (a baseline hazard of its own per stratum, no hazard ratio for it) when given.

    Subjects missing a covariate or stratum are left out and counted in ``n_excluded``; boolean covariates enter
    as 0/1, text covariates as indicators against their first level. Returns the arm's hazard ratio, 95% CI,
    Wald p, its Schoenfeld test p, and each covariate's hazard ratio.
    """
    data = _two_arms(frame, group_col=group_col, group=group, reference=reference)
    data[event] = (data[event] == 1).astype(int)
    model_frame, excluded = _design(data, duration=duration, event=event, covariates=covariates, strata=strata)
    result = {
        "group": group,
        "reference": reference,
        "covariates": list(covariates),
        "strata": list(strata),
        "n_excluded": excluded,
        "n": len(model_frame),
        "events": int(model_frame[event].sum()),
    }
    reason = _not_estimable(model_frame, event=event, group=group, reference=reference)
    fitted = None if reason else _fit(model_frame, duration=duration, event=event, strata=strata)
    if fitted is None:
        return {**result, **_EMPTY, "reason": reason or "the Cox model did not converge"}
    summary = fitted.summary
    terms = [
        {"term": term, **_term(summary, term)} for term in summary.index if term != ARM
    ]  # the adjustment covariates
    return {**result, **_term(summary, ARM), "ph_test_p": _ph_test(fitted, model_frame), "terms": terms, "reason": None}


_EMPTY = {"hazard_ratio": None, "ci_lower": None, "ci_upper": None, "p_wald": None, "ph_test_p": None, "terms": []}


def _design(data, *, duration, event, covariates, strata=()) -> tuple[pd.DataFrame, int]:
    columns = [duration, event, ARM, *covariates, *strata]
    complete = data[columns].dropna()
    design = complete[[duration, event, ARM]].astype(float)
    for name in strata:
        design[name] = complete[name].astype(str)  # a label per stratum: lifelines groups on it
    for name in covariates:
        values = complete[name]
        if values.map(lambda v: isinstance(v, str)).any():
            dummies = pd.get_dummies(values.astype(str), prefix=name, drop_first=True, dtype=float)
            design = design.join(dummies)
        else:
            design[name] = values.astype(float)
    return design, len(data) - len(complete)


def _not_estimable(design: pd.DataFrame, *, event: str, group: str, reference: str) -> str | None:
    if design.empty:
        return "no subjects"
    events = design[event] == 1
    if not events.any():
        return "no events"
    for arm, label in ((1, group), (0, reference)):
        if not (design[ARM] == arm).any():
            return f"no subjects in {label}"
        if not events[design[ARM] == arm].any():
            return f"no events in {label}: the hazard ratio is 0 or infinite"
    constant = [name for name in design.columns[2:] if design[name].nunique() < 2]
    if constant:
        return f"no variation in {', '.join(constant)}"
    return None


def _fit(design: pd.DataFrame, *, duration: str, event: str, strata=()) -> CoxPHFitter | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            # lifelines' default stopping rule (1e-7) can leave the hazard ratio 3e-4 short of the maximum. Batch
            # mode is the same Efron likelihood computed per block of tied times: times in days tie often, and at
            # 10,000 subjects it fits in three quarters of the time (bench/RESULTS.md), equal to 1e-12.
            return CoxPHFitter().fit(
                design,
                duration_col=duration,
                event_col=event,
                strata=list(strata) or None,
                fit_options=PRECISION,
                batch_mode=True,
            )
        except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError):
            return None


def _term(summary: pd.DataFrame, term: str) -> dict:
    row = summary.loc[term]
    return {
        "hazard_ratio": number(row["exp(coef)"]),
        "ci_lower": number(row["exp(coef) lower 95%"]),
        "ci_upper": number(row["exp(coef) upper 95%"]),
        "p_wald": number(row["p"]),
    }


def _ph_test(fitted: CoxPHFitter, design: pd.DataFrame) -> float | None:
    """The arm's scaled Schoenfeld residual test p (rank time); None when it cannot be computed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (RuntimeWarning, StatisticalWarning))
        try:
            test = proportional_hazard_test(fitted, design, time_transform="rank")
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            return None
    return number(test.summary.loc[ARM, "p"]) if ARM in test.summary.index else None


def logrank(frame: pd.DataFrame, *, duration: str, event: str, group_col: str, groups: Sequence[str]) -> dict:
    """Two-group log-rank test (Mantel-Cox); p None when there is no event or an empty group."""
    frame = known_times(frame, duration=duration, event=event)
    first, second = (frame[frame[group_col] == group] for group in groups)
    observed = [(part[event] == 1).astype(int) for part in (first, second)]
    result = {"test": "log-rank", "statistic": None, "p_value": None}
    if first.empty or second.empty or not (observed[0].any() or observed[1].any()):
        return result
    test = logrank_test(first[duration], second[duration], observed[0], observed[1])
    return {**result, "statistic": number(test.test_statistic), "p_value": number(test.p_value)}


def kaplan_meier(
    frame: pd.DataFrame, *, duration: str, event: str, group_col: str, groups: Sequence[str], at_times=()
) -> list[dict]:
    """Per group: n, events, median survival (or "not reached") with its 95% CI, survival and the number at
    risk at ``at_times``, and the step curve with its 95% band for plotting."""
    frame = known_times(frame, duration=duration, event=event)
    return [_km_group(frame[frame[group_col] == group], duration, event, group, at_times) for group in groups]


def _km_group(part: pd.DataFrame, duration: str, event: str, group: str, at_times) -> dict:
    result = {"group": group, "n": len(part), "events": int((part[event] == 1).sum())}
    if part.empty:
        return {
            **result,
            "median": None,
            "median_reached": False,
            "median_ci": [None, None],
            "at_times": [_nobody(time) for time in at_times],  # nobody at risk, no estimate: the table shows 0
            "curve": {"time": [], "survival": [], "ci_lower": [], "ci_upper": []},
        }
    fitted = KaplanMeierFitter().fit(part[duration].astype(float), (part[event] == 1).astype(int))
    # Where survival is 0 the log(-log) interval is undefined: lifelines' [0, 0] would read as certainty.
    band = fitted.confidence_interval_survival_function_
    band = band.where(fitted.survival_function_.iloc[:, 0].gt(0), axis=0)
    median_ci = median_survival_times(fitted.confidence_interval_).iloc[0]
    return {
        **result,
        "median": number(fitted.median_survival_time_),
        "median_reached": math.isfinite(fitted.median_survival_time_),
        "median_ci": [number(median_ci.iloc[0]), number(median_ci.iloc[1])],
        "at_times": [_at_time(fitted, band, part[duration], t) for t in at_times],
        "curve": {
            "time": [float(t) for t in fitted.survival_function_.index],
            "survival": [float(s) for s in fitted.survival_function_.iloc[:, 0]],
            "ci_lower": [number(v) for v in band.iloc[:, 0]],
            "ci_upper": [number(v) for v in band.iloc[:, 1]],
        },
    }


def _nobody(time: float) -> dict:
    return {"time": time, "survival": None, "ci_lower": None, "ci_upper": None, "at_risk": 0}


def _at_time(fitted: KaplanMeierFitter, band: pd.DataFrame, durations: pd.Series, time: float) -> dict:
    """Survival at ``time`` (the step function's value), its band, and the number still at risk (time >= t)."""
    position = band.index.searchsorted(time, side="right") - 1
    lower, upper = band.iloc[max(position, 0)]
    return {
        "time": time,
        "survival": number(fitted.survival_function_at_times(time).iloc[0]),
        "ci_lower": number(lower),
        "ci_upper": number(upper),
        "at_risk": int((durations >= time).sum()),
    }
