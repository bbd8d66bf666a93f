"""Hazard ratios by subgroup, for a forest plot, and the test of arm x subgroup interaction.

Pure functions of a time-to-event frame (one row per subject, as in analysis/survival.py) that also carries the
subgroup columns. Per level of a subgroup variable: n and events per arm and the unadjusted Cox hazard ratio of
``group`` over ``reference`` among that level's subjects, from ``analysis.survival.compare_arms`` (Efron ties,
Wald 95% CI), or the reason it is not estimable.

Whether the arm effect differs between levels is judged by the interaction, not by the per-level p-values (Wang,
Lagakos, Ware, Hunter & Drazen, "Statistics in medicine: reporting of subgroup analyses in clinical trials",
N Engl J Med 2007;357:2189-94). The test is the likelihood-ratio test of the arm x level product terms: a Cox model
of arm, level indicators and their products against the same model without the products, 2 (l1 - l0) referred to
chi-square on (levels - 1) degrees of freedom (Collett, Modelling Survival Data in Medical Research, 3rd ed.,
section 3.5). Only the levels whose hazard ratio is estimable enter it: where one arm has no event the product
term's coefficient runs to infinity (monotone likelihood) and the fit does not settle. The levels tested are named.
"""

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from scipy import stats

from analysis.plain import number
from analysis.survival import ARM, PRECISION, compare_arms, known_times, window_frame

METHOD = "likelihood-ratio test of the arm x subgroup interaction terms in a Cox model (Efron ties)"
PER_LEVEL = ("n_group", "n_reference", "events_group", "events_reference", "hazard_ratio", "ci_lower", "ci_upper")


def subgroup_hazard_ratios(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    group: str,
    reference: str,
    column: str,
    label: str,
    levels: Sequence[tuple] | None = None,
) -> dict:
    """Per level of ``column``: counts per arm and the hazard ratio, plus the interaction test over the levels.

    ``levels`` are (value, label) pairs in the order shown; None: the values found, sorted, each its own label.
    A subject without a value, or with one outside ``levels``, is left out and counted in ``n_missing``; a
    column the frame does not have is all missing, as in Table 1.
    """
    data = known_times(frame, duration=duration, event=event)
    data = data[data[group_col].isin([group, reference])]
    values = data[column] if column in data else pd.Series(None, index=data.index, dtype=object)
    if levels is None:
        levels = [(value, str(value)) for value in sorted({_plain(v) for v in values.dropna()}, key=str)]
    arms = {"duration": duration, "event": event, "group_col": group_col, "group": group, "reference": reference}
    rows = [_level(data[values.notna() & (values == value)], arms, value, text) for value, text in levels]
    classified = values.notna() & values.isin([value for value, _ in levels])
    tested = [row["level"] for row in rows if row["estimable"]]
    return {
        "column": column,
        "label": label,
        "group": group,
        "reference": reference,
        "n_missing": int((~classified).sum()),
        "levels": rows,
        "interaction": interaction_test(data.assign(**{column: values}), **arms, column=column, levels=tested),
    }


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _level(part: pd.DataFrame, arms: dict, value, text: str) -> dict:
    comparison = compare_arms(part, **arms).as_dict()
    return {
        "level": value,
        "label": text,
        **{key: comparison[key] for key in PER_LEVEL},
        "p_wald": comparison["p_wald"],
        "estimable": comparison["estimable"],
        "reason": comparison["reason"],
    }


def interaction_test(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    group: str,
    reference: str,
    column: str,
    levels: Sequence,
) -> dict:
    """Likelihood-ratio test of arm x ``column`` among the subjects whose value is one of ``levels`` (the first is
    the model's baseline level); p None with a reason when fewer than two levels or a model does not converge."""
    result = {"method": METHOD, "levels_tested": list(levels), "statistic": None, "df": None, "p_value": None}
    if len(levels) < 2:
        return {**result, "reason": "fewer than two levels with an estimable hazard ratio"}
    data = window_frame(frame, duration=duration, event=event)
    data = data[data[group_col].isin([group, reference]) & data[column].isin(list(levels))]
    design = data[[duration, event]].astype(float)
    design[ARM] = (data[group_col] == group).astype(float)
    products = []
    for position, value in enumerate(levels[1:], start=1):
        indicator = (data[column] == value).astype(float)
        design[f"__level_{position}"] = indicator
        products.append(f"__arm_x_level_{position}")
        design[products[-1]] = indicator * design[ARM]
    full = _log_likelihood(design, duration=duration, event=event)
    main = _log_likelihood(design.drop(columns=products), duration=duration, event=event)
    if full is None or main is None:
        return {**result, "reason": "the Cox model did not converge"}
    statistic = max(2 * (full - main), 0.0)  # the nested model cannot fit better; guard rounding below zero
    return {
        **result,
        "statistic": number(statistic),
        "df": len(products),
        "p_value": number(stats.chi2.sf(statistic, len(products))),
        "reason": None,
    }


def _log_likelihood(design: pd.DataFrame, *, duration: str, event: str) -> float | None:
    """The maximised Efron partial log-likelihood, or None when the fit does not converge."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            fitted = CoxPHFitter().fit(
                design, duration_col=duration, event_col=event, fit_options=PRECISION, batch_mode=True
            )  # as analysis.survival._fit
        except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError):
            return None
    return float(fitted.log_likelihood_)
