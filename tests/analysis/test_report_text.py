"""The text report prints what the JSON says about its tables: which summary, n per arm and visit, descriptive
p-values, reasons a test is not estimable, the survivors-only note and the observational caveat. Hand-made
sections, no database."""

from analysis import report_text

ARMS = ["Control", "UC-MSC"]
NUMBERS = {"mean": 12.0, "sd": 3.0, "median": 11.0, "q1": 9.0, "q3": 14.0}


def analyte(summary, *, note=None, within=None):
    change = {**NUMBERS, "n": 9}
    arm = {"group": "Control", "n": 10, **NUMBERS, "change": change, "within": within or []}
    visit = {"visit_code": "W4", "arms": [arm, {**arm, "group": "UC-MSC", "n": 8}], "between": []}
    return {
        "analyte": "MELD",
        "baseline_visit": "W0",
        "groups": ARMS,
        "summary": summary,
        "change_summary": summary,
        "note": note,
        "visits": [visit],
    }


def test_beside_a_t_test_the_visit_table_shows_mean_and_sd_with_n():
    text = "\n".join(report_text._longitudinal(analyte(["mean_sd"])))
    assert "MELD by visit: mean ± SD [n]" in text
    assert "12.0 ± 3.0 [10]" in text
    assert "12.0 ± 3.0 [8]" in text
    assert "11.0 (9.0–14.0)" not in text


def test_beside_a_rank_test_the_visit_table_shows_median_and_iqr():
    text = "\n".join(report_text._longitudinal(analyte(["median_iqr"])))
    assert "11.0 (9.0–14.0) [10]" in text
    assert "±" not in text


def test_the_survivors_only_note_is_printed():
    lines = report_text._longitudinal(analyte(["mean_sd"], note="From W4 on, fewer subjects than at W0"))
    assert lines[-1] == "Note: From W4 on, fewer subjects than at W0"


def test_a_within_arm_test_not_estimable_is_printed_with_its_reason():
    test = {"label": "paired t-test", "p_value": None, "reason": "the differences have no variance"}
    text = "\n".join(report_text._longitudinal(analyte(["mean_sd"], within=[test])))
    assert "p n.e." in text
    assert "Control, paired t-test: not estimable (the differences have no variance)" in text


def table(p_values):
    row = {"label": "Age", "kind": "continuous", "cells": [{"text": "40"}, {"text": "42"}]}
    row |= {"p_value": 0.5, "test": "t-test"} if p_values["shown"] else {"p_value": None, "test": None}
    return {"groups": [{"label": arm, "n": 3} for arm in ARMS], "rows": [row], "p_values": p_values}


def test_table_one_p_values_are_headed_descriptive():
    lines = report_text._table_one(table({"shown": True, "label": "descriptive", "note": "descriptive only"}))
    assert lines[3].endswith("p (descriptive)")
    assert lines[4].endswith("0.500 t-test")


def test_table_one_without_p_values_prints_no_p_column_and_says_why():
    lines = report_text._table_one(table({"shown": False, "label": None, "note": "no p-values: CONSORT"}))
    assert not lines[3].rstrip().endswith("p")
    assert lines[4].rstrip().endswith("42")
    assert lines[-1] == "Note: no p-values: CONSORT"


def test_a_long_adverse_event_label_is_printed_whole():
    label = "Infusion reaction (related, onset within 24 h after an infusion)"
    cells = [{"subjects": 0, "percent": 0.0}, {"subjects": 2, "percent": 8.3}]
    summary = {"groups": [{"group": arm, "n": 24} for arm in ARMS], "overall": [{"label": label, "cells": cells}]}
    assert label in report_text._adverse_events({**summary, "by_term": [], "related": ["possible"]})


def test_each_survival_landmark_prints_the_number_at_risk_per_arm_there():
    at_risk = [{"group": "Control", "n": 80}, {"group": "UC-MSC", "n": 85}]
    section = {"landmarks": [], "landmark_curves": [{"landmark": 13, "at_risk": at_risk, "kaplan_meier": []}]}
    section |= {"kaplan_meier": [], "logrank": {"statistic": None, "p_value": None}, "cox_unadjusted": {"reason": "x"}}
    lines = report_text._overall_survival(section, "months")
    assert "At risk at 13 months (alive and followed): Control 80, UC-MSC 85" in lines
