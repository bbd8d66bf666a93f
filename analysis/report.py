"""A study's whole analysis as one JSON-ready dict: the figures a statistician reports, as the plan asks for them.

Pure: a function of the study's frames (analysis/datasets.py), its analysis plan (analysis/plan.py) and the two
arms compared. Sections: CONSORT flow, Table 1, overall survival (Kaplan-Meier, log-rank, Cox unadjusted and
adjusted, landmark windows), HCC with death competing (Aalen-Johansen, cause-specific Cox, landmarks) when the
protocol follows HCC, labs and MELD per visit, adverse events. Every hazard ratio is ``arms.group`` over
``arms.reference``, and says so. The dashboards and ``manage.py analysis_report`` read this dict.
"""

import pandas as pd

from analysis.competing import cumulative_incidence
from analysis.endpoints import DAYS_PER_MONTH
from analysis.flow import consort
from analysis.longitudinal import by_visit
from analysis.plan import Arms, Plan
from analysis.safety import ae_summary
from analysis.survival import compare_arms, cox, kaplan_meier, logrank
from analysis.tables import Variable, table_one

GROUP = "arm_label"
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}
CAUSE_SPECIFIC = "cause-specific Cox (death without HCC censored)"


def build_report(data, plan: Plan, arms: Arms, *, study: dict, endpoints=()) -> dict:
    """``data`` has the frames of analysis.datasets.StudyData; ``study`` is shown as given (code, title, version);
    ``endpoints`` are the protocol's endpoint codes beyond death ("hcc" adds the competing-risks section)."""
    groups = [arms.group, arms.reference]
    population = data.subjects[data.subjects[plan.population].astype(bool)]
    in_population = data.time_to_event["subject_id"].isin(population["subject_id"])
    times = _in_unit(data.time_to_event[in_population], plan.time_unit)
    report = {
        "study": study,
        "plan": {
            "version": plan.version or "default plan",
            "population": plan.population,
            "time_unit": plan.time_unit,
            "group": arms.group,
            "reference": arms.reference,
            "hazard_ratio": f"{arms.group} over {arms.reference} (reference)",
        },
        "flow": consort(data.subjects, group_col=GROUP, groups=groups, population=plan.population),
        "table_one": table_one(population, group_col=GROUP, groups=groups, variables=_variables(plan)),
        "overall_survival": _overall_survival(times, plan, arms),
        "longitudinal": _longitudinal(data, population, plan, groups),
        "adverse_events": ae_summary(data.adverse_events, population, group_col=GROUP, groups=groups),
    }
    if "hcc" in endpoints:
        report["hcc"] = _hcc(times, plan, arms)
    return report


def _in_unit(time_to_event: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Overall survival and HCC times in the plan's unit, as ``os_time`` and ``hcc_time``."""
    return time_to_event.assign(
        os_time=time_to_event["os_days"] / DAYS_PER_UNIT[unit], hcc_time=time_to_event["hcc_days"] / DAYS_PER_UNIT[unit]
    )


def _variables(plan: Plan) -> list[Variable]:
    return [
        Variable(**{**row.model_dump(), "summary": row.summary or plan.continuous_summary}) for row in plan.table_one
    ]


def windows(landmarks) -> list[tuple[float, float | None]]:
    """Landmarks [13] give the windows (0, 13) and (13, None); no landmarks, no windows."""
    if not landmarks:
        return []
    edges = [0, *sorted(landmarks)]
    return [*zip(edges, edges[1:], strict=False), (edges[-1], None)]


def _overall_survival(times: pd.DataFrame, plan: Plan, arms: Arms) -> dict:
    survival = {"duration": "os_time", "event": "os_event", "group_col": GROUP}
    two_arms = {"group": arms.group, "reference": arms.reference}
    section = {
        "kaplan_meier": kaplan_meier(
            times, **survival, groups=[arms.group, arms.reference], at_times=plan.report_times
        ),
        "logrank": logrank(times, **survival, groups=[arms.group, arms.reference]),
        "cox_unadjusted": cox(times, **survival, **two_arms),
        "landmarks": [
            compare_arms(times, **survival, **two_arms, window=window).as_dict()
            for window in windows(plan.survival_landmarks)
        ],
    }
    if plan.adjust_for:
        section["cox_adjusted"] = cox(times, **survival, **two_arms, covariates=plan.adjust_for)
    return section


def _hcc(times: pd.DataFrame, plan: Plan, arms: Arms) -> dict:
    hcc = {"duration": "hcc_time", "event": "hcc_event", "group_col": GROUP}
    two_arms = {"group": arms.group, "reference": arms.reference}
    return {
        "cumulative_incidence": cumulative_incidence(
            times, **hcc, groups=[arms.group, arms.reference], at_times=plan.report_times
        ),
        "cause_specific_cox": {"method": CAUSE_SPECIFIC, **compare_arms(times, **hcc, **two_arms).as_dict()},
        "landmarks": [
            {"method": CAUSE_SPECIFIC, **compare_arms(times, **hcc, **two_arms, window=window).as_dict()}
            for window in windows(plan.hcc_landmarks)
        ],
    }


def _longitudinal(data, population: pd.DataFrame, plan: Plan, groups: list[str]) -> list[dict]:
    """Each analyte of the plan per visit; "MELD" comes from the scores per draw, the rest from the labs."""
    meld = data.scores.assign(analyte="MELD", value=data.scores["meld"])
    long = pd.concat([data.labs, meld[[*data.labs.columns.intersection(meld.columns)]]], ignore_index=True)
    long = long[long["subject_id"].isin(population["subject_id"])]
    return [
        by_visit(
            long,
            analyte=analyte,
            group_col=GROUP,
            groups=groups,
            baseline_visit=plan.baseline_visit,
            between_tests=plan.between_arms,
            within_tests=plan.within_arm,
        )
        for analyte in plan.longitudinal
    ]
