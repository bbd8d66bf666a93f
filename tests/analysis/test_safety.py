"""The adverse event table: subjects counted once, worst grade by term, seriousness and grade rows, relatedness,
the infusion reaction window, the analysis population, empty arms and empty event lists, plain JSON."""

import json
import math

import pandas as pd
import pytest

from analysis.safety import ae_summary

CONTROL, UCMSC = "Control (conventional treatment)", "UC-MSC"
ARMS = [CONTROL, UCMSC]
AE_COLUMNS = [
    "subject_id",
    "term",
    "grade",
    "serious",
    "relatedness",
    "outcome",
    "hours_after_infusion",
    "arm_label",
]


def population(control=4, ucmsc=5):
    """``control`` subjects C0.. and ``ucmsc`` subjects U0.. in the analysis population."""
    ids = [f"C{i}" for i in range(control)] + [f"U{i}" for i in range(ucmsc)]
    return pd.DataFrame({"subject_id": ids, "arm_label": [CONTROL] * control + [UCMSC] * ucmsc})


def ae(subject_id, term="Fever", grade=1, *, serious=False, relatedness="not_related", hours=math.nan):
    arm = CONTROL if subject_id.startswith("C") else UCMSC
    return {
        "subject_id": subject_id,
        "term": term,
        "grade": grade,
        "serious": serious,
        "relatedness": relatedness,
        "outcome": "recovered",
        "hours_after_infusion": hours,
        "arm_label": arm,
    }


def events(*rows):
    return pd.DataFrame(list(rows), columns=AE_COLUMNS)


def overall_row(summary, label_start):
    (row,) = [row for row in summary["overall"] if row["label"].startswith(label_start)]
    return row["cells"]


def term_row(summary, term):
    (row,) = [row for row in summary["by_term"] if row["term"] == term]
    return row["cells"]


def test_a_subject_with_three_fevers_counts_once_with_three_events():
    summary = ae_summary(
        events(ae("U0"), ae("U0"), ae("U0"), ae("U1")), population(), group_col="arm_label", groups=ARMS
    )

    assert summary["groups"] == [{"group": CONTROL, "n": 4}, {"group": UCMSC, "n": 5}]
    assert overall_row(summary, "Any adverse event") == [
        {"subjects": 0, "percent": 0.0, "events": 0},
        {"subjects": 2, "percent": 40.0, "events": 4},
    ]
    assert term_row(summary, "Fever")[1]["subjects"] == 2
    assert term_row(summary, "Fever")[1]["events"] == 4


def test_percent_is_of_the_arm_with_one_decimal():
    summary = ae_summary(events(ae("C0")), population(control=3), group_col="arm_label", groups=ARMS)

    assert overall_row(summary, "Any adverse event")[0]["percent"] == 33.3


def test_each_subject_counts_at_their_worst_grade_of_a_term():
    adverse_events = events(
        ae("U0", grade=1),
        ae("U0", grade=3),
        ae("U0", grade=2),
        ae("U1", grade=2),
        ae("U2", grade=5),
        ae("U2", term="Rash", grade=4),
    )

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    fever = term_row(summary, "Fever")
    assert fever[1]["worst_grade"] == {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1}
    assert fever[0]["worst_grade"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert term_row(summary, "Rash")[1]["worst_grade"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}


def test_terms_are_sorted_by_subjects_then_alphabetically():
    adverse_events = events(
        ae("U0", term="Rash"),
        ae("U0", term="Rash"),
        ae("U0", term="Rash"),
        ae("C0", term="Infection"),
        ae("U1", term="Infection"),
        ae("C1", term="Fever"),
        ae("U2", term="Fever"),
    )

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    assert [row["term"] for row in summary["by_term"]] == ["Fever", "Infection", "Rash"]


def test_serious_grade_3_or_higher_and_fatal_rows():
    adverse_events = events(
        ae("C0", grade=2, serious=True),
        ae("C1", grade=3),
        ae("U0", grade=4, serious=True),
        ae("U0", grade=5, serious=True),
        ae("U1", grade=1),
    )

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    assert overall_row(summary, "Serious") == [
        {"subjects": 1, "percent": 25.0, "events": 1},
        {"subjects": 1, "percent": 20.0, "events": 2},
    ]
    assert overall_row(summary, "Grade 3 or higher") == [
        {"subjects": 1, "percent": 25.0, "events": 1},
        {"subjects": 1, "percent": 20.0, "events": 2},
    ]
    assert overall_row(summary, "Fatal (grade 5)") == [
        {"subjects": 0, "percent": 0.0, "events": 0},
        {"subjects": 1, "percent": 20.0, "events": 1},
    ]


def test_definite_probable_and_possible_are_related_and_unlikely_is_not():
    adverse_events = events(
        ae("U0", relatedness="definite"),
        ae("U1", relatedness="probable"),
        ae("U2", relatedness="possible"),
        ae("U3", relatedness="unlikely"),
        ae("U4", relatedness="not_related"),
    )

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    assert overall_row(summary, "Related to treatment")[1] == {"subjects": 3, "percent": 60.0, "events": 3}


REACTION = "Infusion reaction (related, onset within 24 h after an infusion)"


@pytest.mark.parametrize(
    ("hours", "is_reaction"),
    [(0.0, True), (24.0, True), (24.01, False), (math.nan, False), (-0.5, False)],
)
def test_infusion_reaction_window_boundaries(hours, is_reaction):
    summary = ae_summary(
        events(ae("U0", relatedness="possible", hours=hours)), population(), group_col="arm_label", groups=ARMS
    )

    assert summary["overall"][-1]["label"] == REACTION
    assert summary["reaction_window_hours"] == 24
    assert summary["overall"][-1]["cells"][1]["subjects"] == int(is_reaction)


def test_an_unrelated_fatal_event_hours_after_a_saline_infusion_is_not_an_infusion_reaction():
    # An ACLF control's hepatorenal syndrome 22.5 h after saline, judged unrelated (issue 15).
    death = ae("C0", term="Hepatorenal syndrome", grade=5, serious=True, relatedness="not_related", hours=22.5)

    summary = ae_summary(events(death), population(), group_col="arm_label", groups=ARMS)

    assert overall_row(summary, "Infusion reaction")[0] == {"subjects": 0, "percent": 0.0, "events": 0}
    assert overall_row(summary, "Fatal")[0]["subjects"] == 1


def test_an_unlikely_related_event_within_the_window_is_not_an_infusion_reaction():
    summary = ae_summary(
        events(ae("U0", relatedness="unlikely", hours=2.0)), population(), group_col="arm_label", groups=ARMS
    )

    assert overall_row(summary, "Infusion reaction")[1]["subjects"] == 0


def test_the_related_levels_given_define_both_related_and_infusion_reaction_rows():
    adverse_events = events(ae("U0", relatedness="definite", hours=1.0), ae("U1", relatedness="possible", hours=1.0))

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS, related=["definite"])

    assert summary["related"] == ["definite"]
    assert overall_row(summary, "Related to treatment")[1]["subjects"] == 1
    assert overall_row(summary, "Infusion reaction")[1]["subjects"] == 1


def test_custom_reaction_window_is_used_and_named():
    adverse_events = events(
        *(ae(subject, relatedness="probable", hours=hours) for subject, hours in (("U0", 6.0), ("U1", 6.5), ("U2", 7)))
    )

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS, reaction_window_hours=6.5)

    assert summary["reaction_window_hours"] == 6.5
    assert summary["overall"][-1]["label"] == "Infusion reaction (related, onset within 6.5 h after an infusion)"
    assert summary["overall"][-1]["cells"][1] == {"subjects": 2, "percent": 40.0, "events": 2}


def test_events_of_subjects_outside_the_population_are_ignored():
    adverse_events = events(ae("U0"), ae("U9", term="Rash", grade=5), ae("C9", term="Rash"))

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    assert overall_row(summary, "Any adverse event")[1] == {"subjects": 1, "percent": 20.0, "events": 1}
    assert overall_row(summary, "Fatal")[1]["subjects"] == 0
    assert [row["term"] for row in summary["by_term"]] == ["Fever"]


def test_arm_of_an_event_is_the_arm_in_the_population():
    adverse_events = events(ae("U0"))
    adverse_events["arm_label"] = CONTROL  # a stale arm on the event must not move it

    summary = ae_summary(adverse_events, population(), group_col="arm_label", groups=ARMS)

    assert [cell["subjects"] for cell in overall_row(summary, "Any adverse event")] == [0, 1]


def test_an_empty_arm_gives_percent_none():
    summary = ae_summary(events(ae("U0")), population(control=0), group_col="arm_label", groups=ARMS)

    assert summary["groups"][0] == {"group": CONTROL, "n": 0}
    assert overall_row(summary, "Any adverse event")[0] == {"subjects": 0, "percent": None, "events": 0}
    assert term_row(summary, "Fever")[0]["percent"] is None


def test_no_adverse_events_gives_zero_rows_and_no_terms():
    summary = ae_summary(events(), population(), group_col="arm_label", groups=ARMS)

    assert len(summary["overall"]) == 6
    for row in summary["overall"]:
        assert row["cells"] == [
            {"subjects": 0, "percent": 0.0, "events": 0},
            {"subjects": 0, "percent": 0.0, "events": 0},
        ]
    assert summary["by_term"] == []


def test_result_is_plain_json():
    adverse_events = events(ae("U0", grade=3, serious=True, hours=2.0), ae("C0", term="Rash"), ae("C1"))
    summary = ae_summary(adverse_events, population(control=0, ucmsc=2), group_col="arm_label", groups=ARMS)

    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    cell = term_row(summary, "Fever")[1]
    assert type(cell["subjects"]) is int
    assert type(cell["events"]) is int
    assert type(cell["percent"]) is float
    assert type(cell["worst_grade"]["3"]) is int
