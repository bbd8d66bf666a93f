"""Each subject's values of an analyte (or MELD) per scheduled visit: the lines of the trajectories figure.

Pure: a function of the study's frames (analysis/datasets.py). At most ``per_arm`` subjects per arm are kept, the
first by subject code, so the figure stays readable and the page small in a large study; the count kept is said.
"""

import pandas as pd

from analysis import plain
from analysis.longitudinal import lab_and_meld_rows

PER_ARM = 150


def trajectories(data, *, analytes, population: pd.DataFrame, per_arm: int = PER_ARM) -> dict:
    """{analyte: {"visits": [[code, order]...], "arms": {arm: {"n": subjects, "shown": kept}}, "subjects": [...]}}"""
    long = lab_and_meld_rows(data, analytes=analytes, population=population)
    long = long[long["value"].notna()]
    long = long.sort_values(["subject_id", "visit_order"], kind="stable").drop_duplicates(
        ["subject_id", "visit_code", "analyte"]
    )
    return {analyte: _one(long[long["analyte"] == analyte], per_arm) for analyte in analytes}


def _one(rows: pd.DataFrame, per_arm: int) -> dict:
    visits = rows[["visit_code", "visit_order"]].drop_duplicates().sort_values("visit_order")
    arms, subjects = {}, []
    for arm, in_arm in rows.groupby("arm_label", sort=True):
        codes = sorted(in_arm["subject_id"].unique())
        arms[str(arm)] = {"n": len(codes), "shown": min(len(codes), per_arm)}
        kept = in_arm[in_arm["subject_id"].isin(codes[:per_arm])]
        for code, points in kept.groupby("subject_id", sort=True):
            subjects.append(
                {
                    "subject": str(code),
                    "arm": str(arm),
                    "points": [
                        [int(order), plain.number(value)]
                        for order, value in zip(points["visit_order"], points["value"], strict=True)
                    ],
                }
            )
    return {
        "visits": [
            [str(code), int(order)] for code, order in zip(visits["visit_code"], visits["visit_order"], strict=True)
        ],
        "arms": arms,
        "subjects": subjects,
    }
