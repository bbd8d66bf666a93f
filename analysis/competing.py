"""Cumulative incidence with competing risks: the Aalen-Johansen estimator, per arm.

For event times t_j (any cause) with n_j at risk (time >= t_j), d_j events of any cause and c_j of the cause of
interest, the cumulative incidence is CIF(t) = sum over t_j <= t of S(t_j-) * c_j / n_j, where S is the
all-cause Kaplan-Meier survival just before t_j (Aalen & Johansen 1978; Putter, Fiocco & Geskus, Stat Med 2007,
eq. 4). Unlike 1 - Kaplan-Meier with competing events censored, it does not overstate the incidence.

The standard error is the delta-method one of Marubini & Valsecchi (1995), the 95% interval on the log(-log)
scale (Choudhury 2002).

Written here rather than taken from lifelines: lifelines' ``AalenJohansenFitter`` breaks tied times by random
jitter, and our times are whole days, so ties are the rule; the estimator itself handles ties exactly. Tests
cross-check it (estimate and standard error) against statsmodels ``CumIncidenceRight``, and against lifelines
on tie-free data.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.plain import number
from analysis.survival import known_times

Z95 = 1.959963984540054


def aalen_johansen(durations, events, *, cause: int = 1) -> pd.DataFrame:
    """The step function: one row per distinct event time with ``at_risk``, ``incidence`` of ``cause``, its
    standard error and 95% interval.

    ``events`` holds 0 for censored and a cause code otherwise.
    """
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events, dtype=float)
    known = ~(np.isnan(durations) | np.isnan(events))  # a subject without time or outcome cannot be placed
    durations, events = durations[known], events[known]
    times = np.unique(durations[events != 0])
    at_risk = np.array([(durations >= t).sum() for t in times], dtype=float)
    any_cause = np.array([((durations == t) & (events != 0)).sum() for t in times], dtype=float)
    of_cause = np.array([((durations == t) & (events == cause)).sum() for t in times], dtype=float)
    survival_before = np.concatenate(([1.0], np.cumprod(1 - any_cause / at_risk)))[:-1]
    incidence = np.cumsum(survival_before * of_cause / at_risk)
    se = _standard_error(incidence, survival_before, at_risk, any_cause, of_cause)
    lower, upper = _log_log_interval(incidence, se)
    return pd.DataFrame(
        {
            "time": times,
            "at_risk": at_risk.astype(int),
            "incidence": incidence,
            "se": se,
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )


def _standard_error(incidence, survival_before, at_risk, any_cause, of_cause) -> np.ndarray:
    """Delta-method standard error (Marubini & Valsecchi 1995, eq. 10.13; the form statsmodels uses).

    Where every subject at risk has an event (n = d, necessarily the last time) Greenwood's term d / (n (n - d))
    is infinite, but it enters only multiplied by (F(t) - F(t_j))^2, which is 0 from that time on: the term is 0,
    and the standard error there is finite (without censoring, the binomial one).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.where(at_risk > any_cause, any_cause / (at_risk * (at_risk - any_cause)), 0.0)
        variance = (
            incidence**2 * np.cumsum(greenwood)
            - 2 * incidence * np.cumsum(incidence * greenwood)
            + np.cumsum(incidence**2 * greenwood)
            + np.cumsum(survival_before**2 * (at_risk - of_cause) * of_cause / at_risk**3)
            - 2 * incidence * np.cumsum(survival_before * of_cause / at_risk**2)
            + 2 * np.cumsum(incidence * survival_before * of_cause / at_risk**2)
        )
        return np.sqrt(variance)


def _log_log_interval(incidence, se) -> tuple[np.ndarray, np.ndarray]:
    """95% interval on the log(-log) scale (Choudhury, Stat Med 2002), inside (0, 1); missing at 0 or 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.exp(Z95 * se / (incidence * np.log(incidence)))
        bounds = np.sort(np.stack([incidence**spread, incidence ** (1 / spread)]), axis=0)
    defined = (incidence > 0) & (incidence < 1) & np.isfinite(se)
    return np.where(defined, bounds[0], np.nan), np.where(defined, bounds[1], np.nan)


def incidence_at(curve: pd.DataFrame, time: float) -> dict:
    """The step function's incidence and interval at ``time`` (incidence 0 before the first event)."""
    position = curve["time"].searchsorted(time, side="right") - 1
    if position < 0:
        return {"time": time, "incidence": 0.0, "ci_lower": None, "ci_upper": None}
    row = curve.iloc[position]
    return {"time": time, **{key: number(row[key]) for key in ("incidence", "ci_lower", "ci_upper")}}


def cumulative_incidence(
    frame: pd.DataFrame,
    *,
    duration: str,
    event: str,
    group_col: str,
    groups: Sequence[str],
    cause: int = 1,
    at_times=(),
) -> list[dict]:
    """Per group: n, events of ``cause``, competing events, incidence with its 95% interval at ``at_times``, and
    the curve with its band."""
    result = []
    for group in groups:
        part = known_times(frame[frame[group_col] == group], duration=duration, event=event)
        curve = aalen_johansen(part[duration], part[event], cause=cause)
        result.append(
            {
                "group": group,
                "n": len(part),
                "events": int((part[event] == cause).sum()),
                "competing": int(((part[event] != 0) & (part[event] != cause)).sum()),
                "at_times": [incidence_at(curve, t) for t in at_times],
                "curve": {
                    "time": curve["time"].tolist(),
                    **{key: [number(v) for v in curve[key]] for key in ("incidence", "ci_lower", "ci_upper")},
                },
            }
        )
    return result


def grays_test(durations, events, groups, *, cause: int = 1, rho: float = 0.0) -> dict:
    """Gray's K-sample test that the cumulative incidence of ``cause`` is the same in every group.

    Gray RJ, A class of K-sample tests for comparing the cumulative incidence of a competing risk, Ann Stat
    1988;16:1141-54. Each group's score sums, over the times of ``cause``, the weighted difference between its
    subdistribution hazard and the pooled one: d_k - d * R_k / sum(R), with R_k = n_k (1 - F_k(t-)) / S_k(t-) the
    group's subdistribution risk set (S_k all-cause Kaplan-Meier, F_k cumulative incidence, both just before t)
    and weight (1 - F(t-))^rho on the pooled incidence (rho = 0, cmprsk's default). The variance is the paper's
    estimator with ties handled as R's ``cmprsk::cuminc`` (Gray's own code) does; the statistic s' V^-1 s is
    chi-square on K - 1 degrees of freedom. Tests check it against reference numbers documented as cuminc's.

    ``groups`` labels each subject; subjects without a time, outcome or group are left out. Returns the statistic,
    degrees of freedom and p, all None when there is no event of ``cause`` or fewer than two groups.
    """
    frame = pd.DataFrame({"time": durations, "event": events, "group": groups}).dropna()
    labels = sorted(frame["group"].unique(), key=str)
    result = {"test": "Gray's test", "cause": cause, "rho": rho, "groups": [], "score": []}
    result |= {"statistic": None, "df": None, "p_value": None}
    if len(labels) < 2 or not (frame["event"] == cause).any():
        return result
    score, variance = _gray_score(frame, labels, cause=cause, rho=rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            statistic = float(score @ np.linalg.solve(variance, score))
        except np.linalg.LinAlgError:
            return result
    df = len(labels) - 1
    return {
        **result,
        "groups": [str(label) for label in labels],
        "score": [number(value) for value in score],  # observed minus expected, of every group but the last
        "statistic": number(statistic),
        "df": df,
        "p_value": number(stats.chi2.sf(statistic, df)),
    }


def _gray_score(frame: pd.DataFrame, labels: list, *, cause: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """The scores of the first K - 1 groups and their covariance, accumulated over the distinct times.

    One loop, kept whole: the variance terms at a time need that time's a, c and both Kaplan-Meier values."""
    k = len(labels)
    member = np.stack([(frame["group"] == label).to_numpy() for label in labels])  # K x n
    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy()
    at_risk = member.sum(axis=1).astype(float)
    survival, incidence, pooled = np.ones(k), np.zeros(k), 0.0  # all just before the current time
    score, c, v2, v3, variance = np.zeros(k), np.zeros((k, k)), np.zeros((k, k)), np.zeros(k), np.zeros((k, k))
    for t in np.unique(time):
        now = time == t
        of_cause = (member & now & (event == cause)).sum(axis=1).astype(float)
        other = (member & now & (event != cause) & (event != 0)).sum(axis=1).astype(float)
        if of_cause.any() or other.any():
            live = at_risk > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                survival_after = np.where(live, survival * (at_risk - of_cause - other) / at_risk, survival)
                incidence_after = np.where(live, incidence + survival * of_cause / at_risk, incidence)
                h = np.where(live, at_risk / survival, 0.0)
                risk = np.where(live, at_risk * (1 - incidence) / survival, 0.0)
            total_h, d1 = h.sum(), of_cause.sum()
            pooled_after = pooled + d1 / total_h
            weight = (1 - pooled) ** rho
            a = weight * (np.diag(h) - np.outer(h, h) / total_h)
            c += a * d1 / (total_h * (1 - pooled))
            score += np.where(live, weight * (of_cause - d1 * risk / risk.sum()), 0.0)
            for j in np.flatnonzero(live):
                if d1 > 0:
                    lever = 1 - (1 - pooled_after) / survival_after[j] if survival_after[j] > 0 else 1.0
                    tie = 1 - (d1 - 1) / (total_h * survival[j] - 1) if d1 > 1 else 1.0
                    mass = tie * survival[j] * d1 / (total_h * at_risk[j])
                    b = a[:, j] - lever * c[:, j]
                    v3[j] += lever * lever * mass
                    v2[:, j] += b * lever * mass
                    variance += np.outer(b, b) * mass
                if other[j] > 0 and survival_after[j] > 0:
                    lever = (1 - pooled_after) / survival_after[j]
                    tie = 1 - (other[j] - 1) / (at_risk[j] - 1) if other[j] > 1 else 1.0
                    mass = tie * survival[j] ** 2 * other[j] / at_risk[j] ** 2
                    b = lever * c[:, j]
                    v3[j] += lever * lever * mass
                    v2[:, j] -= b * lever * mass
                    variance += np.outer(b, b) * mass
            survival, incidence, pooled = survival_after, incidence_after, pooled_after
        at_risk -= (member & now).sum(axis=1)
    variance += (c * v3) @ c.T + c @ v2.T + v2 @ c.T
    return score[:-1], variance[:-1, :-1]
