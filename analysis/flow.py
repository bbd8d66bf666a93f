"""The CONSORT participant flow of a study: screened, not randomised and why, allocated, lost, analysed per arm.

Pure function of the ``subjects`` frame analysis/datasets.py builds (one row per screened subject); no database.
The boxes follow the CONSORT 2010 flow diagram (Schulz, Altman, Moher, BMJ 2010;340:c332, Figure 1): enrolment
(assessed for eligibility, excluded with reasons), allocation, follow-up (lost, discontinued) and analysis.
Every count is a plain ``int`` so the result goes straight to ``json.dumps``.
"""

from collections.abc import Sequence

import pandas as pd

SCREEN_FAILED = "screen_failed"
NO_REASON = "No reason recorded"
STILL_FOLLOWED = ("allocated", "on_treatment", "follow_up")
LEFT_BEFORE_ALLOCATION = {
    "withdrawn": "Withdrew before allocation",
    "lost_to_follow_up": "Lost before allocation",
    "died": "Died before allocation",
}


def consort(subjects: pd.DataFrame, *, group_col: str, groups: Sequence[str], population: str = "analysed") -> dict:
    """The CONSORT flow counts of ``subjects``, with one entry per arm in ``groups`` order.

    Not randomised are the unallocated who left screening: screen failures by ``screen_failure_reason``, and those
    who withdrew, were lost or died before allocation; awaiting allocation are the other unallocated. Arms
    count only allocated subjects whose ``group_col`` is the arm; the analysed are the plan's ``population``
    column ("analysed": allocated, neither withdrawn nor lost; "allocated": every allocated subject).
    """
    allocated = subjects["allocated"].eq(True)
    left = subjects["status"].isin([SCREEN_FAILED, *LEFT_BEFORE_ALLOCATION])
    not_randomised = subjects[~allocated & left]
    return {
        "screened": len(subjects),
        "not_randomised": {"n": len(not_randomised), "reasons": _reasons(not_randomised)},
        "awaiting_allocation": int((~allocated & ~left).sum()),
        "arms": [_arm_flow(subjects[allocated & subjects[group_col].eq(group)], group, population) for group in groups],
    }


def _reasons(not_randomised: pd.DataFrame) -> list[dict]:
    """Reasons with their counts, most frequent first, ties by reason; a blank reason gets a label of its own."""
    reasons = not_randomised["screen_failure_reason"].fillna("").astype(str).str.strip().replace("", NO_REASON)
    reasons = reasons.where(
        not_randomised["status"].eq(SCREEN_FAILED), not_randomised["status"].map(LEFT_BEFORE_ALLOCATION)
    )
    counts = reasons.fillna(NO_REASON).value_counts()
    rows = [{"reason": str(reason), "n": int(n)} for reason, n in counts.items()]
    return sorted(rows, key=lambda row: (-row["n"], row["reason"]))


def _arm_flow(arm: pd.DataFrame, group: str, population: str) -> dict:
    """Counts of one arm's allocated subjects by where they are in follow-up."""
    status = arm["status"]
    return {
        "group": group,
        "allocated": len(arm),
        "withdrawn": int(status.eq("withdrawn").sum()),
        "lost_to_follow_up": int(status.eq("lost_to_follow_up").sum()),
        "died": int(status.eq("died").sum()),
        "completed": int(status.eq("completed").sum()),
        "in_follow_up": int(status.isin(STILL_FOLLOWED).sum()),
        "analysed": int(arm[population].eq(True).sum()),
    }
