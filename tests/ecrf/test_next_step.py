"""The worklist's next step, decided from a subject's facts without the database."""

from datetime import date

import pytest

from ecrf.selectors.next_step import INVESTIGATOR, NextVisit, SubjectProgress, next_step

W4_DUE = NextVisit("W4", date(2021, 1, 27), date(2021, 2, 2), "due")
W4_AHEAD = NextVisit("W4", date(2021, 1, 27), date(2021, 2, 2), "not_yet_due")
ALLOCATED = {"status": "allocated", "consented": True, "criteria": 2, "answered": 2, "allocated": True}


@pytest.mark.parametrize(
    ("progress", "text"),
    [
        ({"status": "completed"}, "Follow-up complete"),
        ({"status": "withdrawn", "open_sae": True}, "No further step"),
        ({"status": "screened"}, "Record consent"),
        (
            {"status": "consented", "consented": True, "criteria": 2, "answered": 1},
            "Complete the eligibility checklist",
        ),
        (
            {"status": "consented", "consented": True, "criteria": 2, "answered": 2, "failing": 1},
            "Not eligible: record the screen failure",
        ),
        ({"status": "eligible", "consented": True, "randomised_design": True}, "Randomise"),
        ({"status": "eligible", "consented": True}, "Awaiting allocation by an investigator"),
        (
            {**ALLOCATED, "next_visit": NextVisit("W4", date(2021, 1, 27), date(2021, 2, 2), "overdue")},
            "W4 overdue since 2021-02-02",
        ),
        ({**ALLOCATED, "next_visit": W4_DUE, "form_issues": ("W0 labs partial",)}, "W4 due by 2021-02-02"),
        (
            {**ALLOCATED, "next_visit": W4_AHEAD, "form_issues": ("W0 labs partial",), "unsigned_visits": ("SCR",)},
            "W0 labs partial",
        ),
        (
            {**ALLOCATED, "next_visit": W4_AHEAD, "unsigned_visits": ("W0", "W4")},
            "Awaiting investigator signature (W0, W4)",
        ),
        ({**ALLOCATED, "next_visit": W4_AHEAD}, "W4 due 2021-01-27 to 2021-02-02"),
        ({**ALLOCATED, "status": "follow_up"}, "Follow-up complete: record the completion"),
        ({**ALLOCATED, "next_visit": W4_DUE, "open_sae": True}, "SAE open: resolve or follow up"),
    ],
)
def test_the_first_rule_that_applies_gives_the_next_step(progress, text):
    assert next_step(SubjectProgress(**progress)).text == text


def test_the_ranks_follow_the_documented_precedence():
    ranks = [
        next_step(SubjectProgress(**facts)).rank
        for facts in (
            {"status": "completed"},
            {"status": "screened", "open_sae": True},
            {"status": "screened"},
            {"status": "consented", "consented": True, "criteria": 1},
        )
    ]
    assert ranks == sorted(ranks) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "progress",
    [{"status": "eligible", "consented": True}, {**ALLOCATED, "unsigned_visits": ("W0",)}],
)
def test_steps_waiting_on_an_investigator_say_so(progress):
    step = next_step(SubjectProgress(**progress))
    assert step.actor == INVESTIGATOR
    assert step.waits_on_investigator
    assert "investigator" in step.text
