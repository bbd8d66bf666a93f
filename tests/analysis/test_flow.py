"""The CONSORT flow from a subjects frame: trial B's published flow, reasons, awaiting allocation, arm order."""

import json

import pandas as pd

from analysis.flow import consort

CONTROL, UCMSC = "Control (conventional treatment)", "UC-MSC"


def subject_rows(count, *, status, arm=None, reason=""):
    """``count`` subjects with the same status and arm, ``allocated`` and ``analysed`` as datasets.py sets them."""
    allocated = arm is not None
    analysed = allocated and status not in ("withdrawn", "lost_to_follow_up")
    row = {"status": status, "screen_failure_reason": reason, "allocated": allocated, "analysed": analysed}
    return [{**row, "arm_label": arm}] * count


def subjects_frame(*row_lists):
    rows = [row for row_list in row_lists for row in row_list]
    frame = pd.DataFrame(rows)
    frame.insert(0, "subject_id", [f"S{number:03d}" for number in range(len(frame))])
    return frame


def trial_b_subjects():
    """Trial B (NCT01220492) flow as published (../shared/protocols.md, Flow): 252 screened, 2 not randomised
    (1 refused, 1 ineligible), 125 per arm, withdrawn 10 and 10, lost 4 (control) and 7 (UC-MSC), analysed 111
    and 108. Those analysed are split between completed, died and still followed to exercise every box."""
    return subjects_frame(
        subject_rows(1, status="screen_failed", reason="Refused to sign consent"),
        subject_rows(1, status="screen_failed", reason="Not eligible: Diabetes mellitus"),
        subject_rows(10, status="withdrawn", arm=CONTROL),
        subject_rows(4, status="lost_to_follow_up", arm=CONTROL),
        subject_rows(30, status="died", arm=CONTROL),
        subject_rows(70, status="completed", arm=CONTROL),
        subject_rows(11, status="follow_up", arm=CONTROL),
        subject_rows(10, status="withdrawn", arm=UCMSC),
        subject_rows(7, status="lost_to_follow_up", arm=UCMSC),
        subject_rows(20, status="died", arm=UCMSC),
        subject_rows(80, status="completed", arm=UCMSC),
        subject_rows(5, status="on_treatment", arm=UCMSC),
        subject_rows(3, status="allocated", arm=UCMSC),
    )


def test_trial_b_published_flow_is_reproduced():
    flow = consort(trial_b_subjects(), group_col="arm_label", groups=[CONTROL, UCMSC])

    assert flow["screened"] == 252
    assert flow["not_randomised"] == {
        "n": 2,
        "reasons": [
            {"reason": "Not eligible: Diabetes mellitus", "n": 1},
            {"reason": "Refused to sign consent", "n": 1},
        ],
    }
    assert flow["awaiting_allocation"] == 0
    assert flow["arms"] == [
        {
            "group": CONTROL,
            "allocated": 125,
            "withdrawn": 10,
            "lost_to_follow_up": 4,
            "died": 30,
            "completed": 70,
            "in_follow_up": 11,
            "analysed": 111,
        },
        {
            "group": UCMSC,
            "allocated": 125,
            "withdrawn": 10,
            "lost_to_follow_up": 7,
            "died": 20,
            "completed": 80,
            "in_follow_up": 8,
            "analysed": 108,
        },
    ]


def test_reasons_are_grouped_most_frequent_first_and_blank_reason_is_labelled():
    subjects = subjects_frame(
        subject_rows(1, status="screen_failed", reason="Refused to sign consent"),
        subject_rows(3, status="screen_failed", reason="Not eligible: Neoplasm"),
        subject_rows(2, status="screen_failed", reason=""),
        subject_rows(1, status="screen_failed", reason=None),
        subject_rows(1, status="screen_failed", reason="Age over 65"),
    )

    flow = consort(subjects, group_col="arm_label", groups=[])

    assert flow["not_randomised"] == {
        "n": 8,
        "reasons": [
            {"reason": "No reason recorded", "n": 3},
            {"reason": "Not eligible: Neoplasm", "n": 3},
            {"reason": "Age over 65", "n": 1},
            {"reason": "Refused to sign consent", "n": 1},
        ],
    }


def test_subjects_still_in_screening_are_awaiting_allocation():
    subjects = subjects_frame(
        subject_rows(2, status="screened"),
        subject_rows(1, status="consented"),
        subject_rows(3, status="eligible"),
        subject_rows(1, status="screen_failed", reason="Refused to sign consent"),
        subject_rows(4, status="allocated", arm=UCMSC),
    )

    flow = consort(subjects, group_col="arm_label", groups=[UCMSC])

    assert flow["screened"] == 11
    assert flow["awaiting_allocation"] == 6
    assert flow["not_randomised"]["n"] == 1
    assert flow["arms"][0]["allocated"] == 4
    assert flow["arms"][0]["in_follow_up"] == 4


def test_arms_follow_the_order_of_groups_even_for_an_arm_with_nobody():
    flow = consort(trial_b_subjects(), group_col="arm_label", groups=[UCMSC, "Empty arm", CONTROL])

    assert [arm["group"] for arm in flow["arms"]] == [UCMSC, "Empty arm", CONTROL]
    assert [arm["allocated"] for arm in flow["arms"]] == [125, 0, 125]
    assert flow["arms"][1]["analysed"] == 0


def test_a_subject_with_a_voided_allocation_is_not_counted_in_an_arm():
    subjects = subjects_frame(subject_rows(2, status="allocated", arm=UCMSC))
    subjects.loc[0, "allocated"] = False  # an arm label left over must not count without an allocation

    flow = consort(subjects, group_col="arm_label", groups=[UCMSC])

    assert flow["arms"][0]["allocated"] == 1
    assert flow["awaiting_allocation"] == 1


def test_subjects_who_leave_before_allocation_are_not_randomised_with_why():
    subjects = subjects_frame(subject_rows(1, status="withdrawn"), subject_rows(1, status="died"))

    flow = consort(subjects, group_col="arm_label", groups=[UCMSC])

    assert (flow["not_randomised"]["n"], flow["awaiting_allocation"]) == (2, 0)
    assert {row["reason"] for row in flow["not_randomised"]["reasons"]} == {
        "Withdrew before allocation",
        "Died before allocation",
    }


def test_analysed_follows_the_plans_population():
    subjects = subjects_frame(
        subject_rows(3, status="completed", arm=UCMSC), subject_rows(1, status="withdrawn", arm=UCMSC)
    )

    by_population = {
        population: consort(subjects, group_col="arm_label", groups=[UCMSC], population=population)["arms"][0][
            "analysed"
        ]
        for population in ("analysed", "allocated")
    }

    assert by_population == {"analysed": 3, "allocated": 4}


def test_result_is_plain_json():
    flow = consort(trial_b_subjects(), group_col="arm_label", groups=[CONTROL, UCMSC])

    assert json.loads(json.dumps(flow, allow_nan=False)) == flow
    assert type(flow["arms"][0]["analysed"]) is int
    assert type(flow["not_randomised"]["reasons"][0]["n"]) is int
