"""A study's whole analysis as one JSON-ready dict: the figures a statistician reports, as the plan asks for them.

Pure: a function of the study's frames (analysis/datasets.py), its analysis plan (analysis/plan.py) and the two
arms compared. Sections: CONSORT flow, Table 1, overall survival (Kaplan-Meier, log-rank, Cox unadjusted,
adjusted for covariates and stratified, landmark windows and the Kaplan-Meier from each landmark, reverse
Kaplan-Meier follow-up, hazard ratios by subgroup with the interaction test, and an all-randomised sensitivity
analysis), HCC with death competing (Aalen-Johansen, Gray's test, cause-specific Cox, landmarks and the
incidence from each) when the protocol follows HCC, labs and MELD per visit, adverse events. Every hazard ratio
is ``arms.group`` over ``arms.reference``, and says so. The dashboards and ``manage.py analysis_report`` read
this dict.
"""

import pandas as pd

from analysis.competing import cumulative_incidence, grays_test
from analysis.endpoints import DAYS_PER_MONTH
from analysis.flow import consort
from analysis.follow_up import median_follow_up
from analysis.landmarks import incidence_from_landmarks, survival_from_landmarks
from analysis.longitudinal import by_visit, lab_and_meld_rows
from analysis.plan import Arms, Plan
from analysis.safety import ae_summary
from analysis.subgroups import subgroup_hazard_ratios
from analysis.survival import compare_arms, cox, kaplan_meier, logrank
from analysis.tables import Variable, table_one

GROUP = "arm_label"
DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": DAYS_PER_MONTH}
CAUSE_SPECIFIC = "cause-specific Cox (death without HCC censored)"
OBSERVATIONAL = (
    "The arms were not randomised: every comparison between them is observational and may be confounded by how "
    "patients came to each arm; hazard ratios and p-values do not estimate a causal effect of treatment."
)
ALL_RANDOMISED = "Sensitivity analysis: all randomised (intention to treat), every allocated subject"


def build_report(data, plan: Plan, arms: Arms, *, study: dict, endpoints=()) -> dict:
    """``data`` has the frames of analysis.datasets.StudyData; ``study`` is shown as given (code, title, version,
    design: "randomised" or "non_random", which sets the plan's ``randomised`` flag and, when not randomised, its
    ``caveat``); ``endpoints`` are the protocol's endpoint codes beyond death ("hcc" adds the competing risks)."""
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
            **_design(study),
        },
        "flow": consort(data.subjects, group_col=GROUP, groups=groups, population=plan.population),
        "table_one": table_one(
            population, group_col=GROUP, groups=groups, variables=_variables(plan), p_values=plan.table_one_p_values
        ),
        "overall_survival": _overall_survival(times, plan, arms, everyone=_in_unit(data.time_to_event, plan.time_unit)),
        "longitudinal": _longitudinal(data, population, plan, groups),
        "adverse_events": ae_summary(
            data.adverse_events,
            population,
            group_col=GROUP,
            groups=groups,
            reaction_window_hours=plan.safety.infusion_reaction_hours,
            related=plan.safety.related,
        ),
    }
    if "hcc" in endpoints:
        report["hcc"] = _hcc(times, plan, arms)
    return report


def _design(study: dict) -> dict:
    """Whether the arms were randomised (None when ``study`` does not say) and the caveat a comparison carries."""
    design = study.get("design")
    randomised = None if design is None else design == "randomised"
    return {"randomised": randomised, "caveat": OBSERVATIONAL if randomised is False else None}


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


def _overall_survival(times: pd.DataFrame, plan: Plan, arms: Arms, *, everyone: pd.DataFrame) -> dict:
    """The plan's population; ``everyone`` (all allocated subjects) gives the all-randomised sensitivity analysis."""
    survival = {"duration": "os_time", "event": "os_event", "group_col": GROUP}
    two_arms = {"group": arms.group, "reference": arms.reference}
    section = {
        "kaplan_meier": kaplan_meier(
            times, **survival, groups=[arms.group, arms.reference], at_times=plan.report_times
        ),
        "follow_up": median_follow_up(times, **survival, groups=[arms.group, arms.reference]),
        "logrank": logrank(times, **survival, groups=[arms.group, arms.reference]),
        "cox_unadjusted": cox(times, **survival, **two_arms),
        "landmarks": [
            compare_arms(times, **survival, **two_arms, window=window).as_dict()
            for window in windows(plan.survival_landmarks)
        ],
        "landmark_curves": survival_from_landmarks(
            times,
            **survival,
            groups=[arms.group, arms.reference],
            landmarks=plan.survival_landmarks,
            report_times=plan.report_times,
        ),
        "subgroups": [
            subgroup_hazard_ratios(
                times, **survival, **two_arms, column=subgroup.column, label=subgroup.label, levels=_levels(subgroup)
            )
            for subgroup in plan.subgroups
        ],
    }
    if plan.adjust_for:
        adjusted = cox(times, **survival, **two_arms, covariates=plan.adjust_for)
        section["cox_adjusted"] = _labelled(
            adjusted, plan, f"Cox, adjusted for {_names(plan, plan.adjust_for)} as a covariate"
        )
    if plan.strata:
        stratified = cox(times, **survival, **two_arms, strata=plan.strata)
        section["cox_stratified"] = _labelled(stratified, plan, f"Cox stratified by {_names(plan, plan.strata)}")
    section["all_randomised"] = _all_randomised(everyone, plan, arms)
    return section


def _levels(subgroup) -> list[tuple] | None:
    return None if subgroup.levels is None else [(level.value, level.label) for level in subgroup.levels]


def _names(plan: Plan, columns) -> str:
    return ", ".join(plan.label(column) for column in columns)


def _labelled(result: dict, plan: Plan, method: str) -> dict:
    """A Cox result with its method spelt out and each covariate's hazard ratio under its Table 1 label."""
    return {
        "method": method,
        **result,
        "terms": [{**term, "label": plan.label(term["term"])} for term in result["terms"]],
    }


def _all_randomised(everyone: pd.DataFrame, plan: Plan, arms: Arms) -> dict:
    """Overall survival of every allocated subject, whatever the plan's population: Kaplan-Meier, log-rank, Cox."""
    survival = {"duration": "os_time", "event": "os_event", "group_col": GROUP}
    groups = [arms.group, arms.reference]
    return {
        "label": ALL_RANDOMISED,
        "population": "allocated",
        "same_as_primary": plan.population == "allocated",
        "kaplan_meier": kaplan_meier(everyone, **survival, groups=groups, at_times=plan.report_times),
        "logrank": logrank(everyone, **survival, groups=groups),
        "cox_unadjusted": cox(everyone, **survival, group=arms.group, reference=arms.reference),
    }


def _hcc(times: pd.DataFrame, plan: Plan, arms: Arms) -> dict:
    hcc = {"duration": "hcc_time", "event": "hcc_event", "group_col": GROUP}
    two_arms = {"group": arms.group, "reference": arms.reference}
    return {
        "cumulative_incidence": cumulative_incidence(
            times, **hcc, groups=[arms.group, arms.reference], at_times=plan.report_times
        ),
        "grays_test": grays_test(
            times["hcc_time"], times["hcc_event"], times[GROUP].where(times[GROUP].isin([arms.group, arms.reference]))
        ),
        "cause_specific_cox": {"method": CAUSE_SPECIFIC, **compare_arms(times, **hcc, **two_arms).as_dict()},
        "landmarks": [
            {"method": CAUSE_SPECIFIC, **compare_arms(times, **hcc, **two_arms, window=window).as_dict()}
            for window in windows(plan.hcc_landmarks)
        ],
        "landmark_curves": incidence_from_landmarks(
            times,
            **hcc,
            groups=[arms.group, arms.reference],
            landmarks=plan.hcc_landmarks,
            report_times=plan.report_times,
        ),
    }


def _longitudinal(data, population: pd.DataFrame, plan: Plan, groups: list[str]) -> list[dict]:
    """Each analyte of the plan per visit; "MELD" comes from the scores per draw, the rest from the labs."""
    long = lab_and_meld_rows(data, analytes=plan.longitudinal, population=population)
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
