"""The adverse event table of a trial report: subjects with at least one event per arm, overall and by term.

Pure function of the ``adverse_events`` and ``subjects`` frames analysis/datasets.py builds; no database.
Counting follows the usual safety table convention (ICH E3, section 12.2; CONSORT harms extension, Ioannidis et
al., Ann Intern Med 2004;141:781-8): a subject is counted once per row however many events they had,
as a percentage of the subjects in the arm's analysis population, with the number of events alongside.
Grades are CTCAE (1 mild to 5 death); by term, each subject is counted at their worst grade of that term.
An infusion reaction is what the plan defines (analysis/plan.py, Safety): a related event (relatedness one of
``related``) with onset 0 to ``reaction_window_hours`` after the latest infusion before it; the row's label says so.
Every number is a plain ``int``/``float`` (``None`` for a percentage of nobody), ready for ``json.dumps``.
"""

from collections.abc import Sequence

import pandas as pd

RELATED = ("definite", "probable", "possible")
GRADES = (1, 2, 3, 4, 5)


def ae_summary(
    adverse_events: pd.DataFrame,
    subjects: pd.DataFrame,
    *,
    group_col: str,
    groups: Sequence[str],
    reaction_window_hours: float = 24,
    related: Sequence[str] = RELATED,
) -> dict:
    """Subjects with adverse events per arm in ``groups``, overall rows then one row per term.

    ``subjects`` is the analysis population: it gives the denominators and each subject's arm; events of anyone
    else are ignored. An event is related when its relatedness is one of ``related``; an infusion reaction is a
    related event 0 to ``reaction_window_hours`` (inclusive) after the latest infusion before its onset.
    """
    window = _plain_number(reaction_window_hours)
    events = _events_in_population(adverse_events, subjects, group_col)
    denominators = {group: int(subjects[group_col].eq(group).sum()) for group in groups}
    return {
        "reaction_window_hours": window,
        "related": list(related),
        "groups": [{"group": group, "n": n} for group, n in denominators.items()],
        "overall": [
            {"label": label, "cells": _cells(events[selected], group_col, denominators)}
            for label, selected in _overall_rows(events, window, related)
        ],
        "by_term": _by_term(events, group_col, denominators),
    }


def _plain_number(value: float) -> int | float:
    """``value`` as a JSON number: 24 stays 24, 6.5 stays 6.5, numpy scalars become Python ones."""
    value = float(value)
    return int(value) if value.is_integer() else value


def _events_in_population(adverse_events: pd.DataFrame, subjects: pd.DataFrame, group_col: str) -> pd.DataFrame:
    """Events of the population's subjects, with the subject's arm taken from ``subjects`` and numeric columns."""
    events = adverse_events.drop(columns=[group_col], errors="ignore")
    events = events.merge(subjects[["subject_id", group_col]], on="subject_id", how="inner")
    events["grade"] = pd.to_numeric(events["grade"], errors="coerce")
    events["hours_after_infusion"] = pd.to_numeric(events["hours_after_infusion"], errors="coerce")
    return events


def _overall_rows(events: pd.DataFrame, window: float, related: Sequence[str]) -> list[tuple[str, pd.Series]]:
    """The overall rows as (label, which events count)."""
    hours = events["hours_after_infusion"]
    is_related = events["relatedness"].isin(list(related))
    return [
        ("Any adverse event", pd.Series(True, index=events.index)),
        ("Serious adverse event", events["serious"].eq(True)),
        ("Grade 3 or higher", events["grade"].ge(3)),
        ("Fatal (grade 5)", events["grade"].eq(5)),
        ("Related to treatment", is_related),
        (
            f"Infusion reaction (related, onset within {window} h after an infusion)",
            is_related & hours.ge(0) & hours.le(window),
        ),
    ]


def _cells(events: pd.DataFrame, group_col: str, denominators: dict[str, int]) -> list[dict]:
    """One cell per arm: subjects with at least one of ``events``, their percentage of the arm, and the events."""
    cells = []
    for group, n in denominators.items():
        in_group = events[events[group_col].eq(group)]
        affected = int(in_group["subject_id"].nunique())
        cells.append({"subjects": affected, "percent": _percent(affected, n), "events": len(in_group)})
    return cells


def _percent(count: int, n: int) -> float | None:
    return None if n == 0 else round(100 * count / n, 1)


def _by_term(events: pd.DataFrame, group_col: str, denominators: dict[str, int]) -> list[dict]:
    """One row per term, most subjects first then alphabetical, each cell with subjects by their worst grade."""
    rows = []
    for term, term_events in events.groupby("term", sort=False):
        cells = _cells(term_events, group_col, denominators)
        for cell, group in zip(cells, denominators, strict=True):
            cell["worst_grade"] = _worst_grades(term_events[term_events[group_col].eq(group)])
        rows.append({"term": str(term), "cells": cells})
    return sorted(rows, key=lambda row: (-sum(cell["subjects"] for cell in row["cells"]), row["term"]))


def _worst_grades(events: pd.DataFrame) -> dict[str, int]:
    """Subjects counted at their worst grade of these events, for every CTCAE grade."""
    worst = events.groupby("subject_id")["grade"].max()
    return {str(grade): int(worst.eq(grade).sum()) for grade in GRADES}
