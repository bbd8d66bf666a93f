"""The wide export: one row per allocated subject with Table 1, every score and analyte per visit, and the
time-to-event columns; its codebook. Hand-made frames, no database, except the last test on the DLC demo.
"""

import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from analysis import endpoints
from analysis.datasets import StudyData, study_data
from analysis.live import study_report
from analysis.plan import Plan, Row, plan_for
from ecrf.models import Study
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol
from exports.wide import codebook, wide

PLAN = Plan(
    study="T",
    time_unit="weeks",
    table_one=[
        Row(column="age_years", label="Age (years)"),
        Row(column="meld_above_15", label="MELD > 15", kind="binary"),
        Row(column="baseline_ALB", label="Albumin (g/L)"),
    ],
)
ORIGIN = pd.Timestamp("2021-01-04")
NO_DATE = pd.NaT
WEEK_10 = ORIGIN + pd.Timedelta(days=70)
LAB_COLUMNS = ["subject_id", "visit_code", "visit_order", "drawn_at", "analyte", "unit", "value"]


def subject(code, *, arm="UCMSC", death=NO_DATE, hcc=NO_DATE, last_visit=WEEK_10, **extra):
    """One row of the subjects frame (analysis/datasets.py), allocated at ORIGIN unless ``arm`` is None."""
    return {
        "subject_id": code,
        "site": "S1",
        "arm": arm,
        "arm_label": {"UCMSC": "UC-MSC", "CONTROL": "Control", None: None}[arm],
        "stratum": None if arm is None else "meld:le15",
        "status": "completed",
        "allocated": arm is not None,
        "analysed": arm is not None,
        "age_years": 50,
        "meld_above_15": False,
        "baseline_ALB": 35.0,
        "origin": ORIGIN if arm is not None else NO_DATE,
        "follow_up_days": 365,
        "death_date": pd.Timestamp(death),
        "withdrawal_date": NO_DATE,
        "last_contact_date": NO_DATE,
        "completion_date": NO_DATE,
        "last_visit_date": last_visit,
        "hcc_date": pd.Timestamp(hcc),
        **extra,
    }


def lab(code, visit, analyte, value, *, hour=9, order=None):
    order = {"W0": 1, "W12": 2}[visit] if order is None else order
    drawn_at = datetime(2021, 1, 4, hour, tzinfo=UTC) + pd.Timedelta(weeks=12 * (order - 1))
    unit = {"ALB": "g/L", "TBIL": "umol/L"}[analyte]
    return dict(zip(LAB_COLUMNS, (code, visit, order, drawn_at, analyte, unit, value), strict=True))


def score(code, visit, meld, *, grade="A", day=0):
    order = {"W0": 1, "W12": 2}[visit]
    drawn_on = ORIGIN + pd.Timedelta(weeks=12 * (order - 1), days=day)
    return {
        "subject_id": code,
        "visit_code": visit,
        "visit_order": order,
        "drawn_on": drawn_on,
        "meld": meld,
        "meld_na": meld,
        "meld_3": meld,
        "child_pugh_points": 5.0,
        "child_pugh_grade": grade,
    }


def study(subjects, labs=(), scores=()) -> StudyData:
    subjects = pd.DataFrame(subjects)
    return StudyData(
        subjects=subjects,
        labs=pd.DataFrame(list(labs), columns=LAB_COLUMNS),
        scores=pd.DataFrame(list(scores), columns=list(score("X", "W0", 1.0))),
        time_to_event=endpoints.time_to_event(subjects),
        adverse_events=pd.DataFrame(),
    )


@pytest.fixture
def two_subjects():
    return study(
        [subject("A"), subject("B", arm="CONTROL", meld_above_15=True)],
        labs=[lab("A", "W0", "ALB", 35.0), lab("A", "W12", "ALB", 38.0), lab("B", "W0", "TBIL", 20.0)],
        scores=[score("A", "W0", 10.0), score("A", "W12", 12.0), score("B", "W0", 18.0)],
    )


def test_columns_are_keys_table_one_scores_analytes_by_visit_then_times(two_subjects):
    columns = list(wide(two_subjects, PLAN, endpoints={"hcc"}).columns)
    scores = [f"{name}_{visit}" for name in ("meld", "meld_na", "meld_3", "child_pugh_points", "child_pugh_grade")
              for visit in ("w0", "w12")]  # fmt: skip
    assert columns == [
        "subject", "site", "arm", "stratum", "analysed", "age_years", "meld_above_15", "baseline_ALB",
        *scores, "alb_w0", "alb_w12", "tbil_w0", "os_time", "os_event", "hcc_time", "hcc_status",
    ]  # fmt: skip


def test_hcc_columns_are_left_out_when_the_protocol_does_not_follow_hcc(two_subjects):
    assert not {"hcc_time", "hcc_status"} & set(wide(two_subjects, PLAN).columns)


def test_a_subject_never_allocated_has_no_row(two_subjects):
    data = study([subject("A"), subject("SF", arm=None)])
    assert wide(data, PLAN)["subject"].tolist() == ["A"]


def test_the_first_draw_of_a_visit_gives_its_value():
    data = study(
        [subject("A")],
        labs=[lab("A", "W0", "ALB", 41.0, hour=15), lab("A", "W0", "ALB", 35.0, hour=9)],
        scores=[score("A", "W0", 14.0, day=2), score("A", "W0", 11.0, day=0)],
    )
    row = wide(data, PLAN).iloc[0]
    assert (row["alb_w0"], row["meld_w0"]) == (35.0, 11.0)


def test_a_subject_without_a_value_at_a_visit_has_nan(two_subjects):
    rows = wide(two_subjects, PLAN).set_index("subject")
    assert pd.isna(rows.loc["B", "alb_w12"])
    assert pd.isna(rows.loc["B", "meld_w12"])
    assert pd.isna(rows.loc["A", "tbil_w0"])


def test_yes_no_covariates_are_one_and_zero(two_subjects):
    assert wide(two_subjects, PLAN).set_index("subject")["meld_above_15"].to_dict() == {"A": 0, "B": 1}


def test_hcc_status_is_0_censored_1_hcc_2_death_first():
    data = study(
        [
            subject("CENSORED"),
            subject("HCC", hcc="2021-03-01", death="2021-06-01"),
            subject("DEATH", death="2021-02-01", hcc="2021-03-01"),
        ]
    )
    rows = wide(data, PLAN, endpoints={"hcc"}).set_index("subject")
    assert rows["hcc_status"].to_dict() == {"CENSORED": 0, "DEATH": 2, "HCC": 1}
    assert rows["os_event"].to_dict() == {"CENSORED": 0, "DEATH": 1, "HCC": 1}


def test_times_are_in_the_plans_unit():
    data = study([subject("A", death=WEEK_10, hcc=ORIGIN + pd.Timedelta(days=35))])
    row = wide(data, PLAN, endpoints={"hcc"}).iloc[0]
    assert (row["os_time"], row["hcc_time"]) == (10.0, 5.0)


def test_codebook_describes_every_column_in_the_files_order(two_subjects):
    frame = wide(two_subjects, PLAN, endpoints={"hcc"})
    book = codebook(two_subjects, PLAN, endpoints={"hcc"})
    assert book["variable"].tolist() == list(frame.columns)


def test_codebook_gives_units_of_labs_and_times(two_subjects):
    book = codebook(two_subjects, PLAN, endpoints={"hcc"}).set_index("variable")
    assert book.loc["alb_w12", ["label", "type", "unit"]].tolist() == ["Albumin at W12", "number", "g/L"]
    assert book.loc["baseline_ALB", "unit"] == "g/L"
    assert book.loc["os_time", "unit"] == book.loc["hcc_time", "unit"] == "weeks"


def test_codebook_labels_the_codes_of_arm_and_events(two_subjects):
    book = codebook(two_subjects, PLAN, endpoints={"hcc"}).set_index("variable")["allowed_values"]
    assert book["arm"] == "CONTROL = Control; UCMSC = UC-MSC"
    assert book["hcc_status"] == "0 = censored; 1 = HCC; 2 = death before HCC (competing event)"
    assert book["meld_above_15"] == "0 = no; 1 = yes"


@pytest.fixture(scope="module")
def dlc(django_db_setup, django_db_blocker):
    """The DLC demo's wide file (every allocated subject) and its report."""
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        call_command("seed_demo", seed=1, stdout=io.StringIO())
        study_ = Study.objects.get(code="DLC")
        _, protocol_endpoints = arms_and_endpoints(latest_protocol(study_))
        frame = wide(study_data(study_), plan_for("DLC"), endpoints=protocol_endpoints)
        yield frame, study_report(study_)
        transaction.set_rollback(True)


def deaths(kaplan_meier) -> int:
    return sum(arm["events"] for arm in kaplan_meier)


@pytest.mark.django_db
def test_dlc_demo_has_a_row_per_allocated_subject_219_of_them_analysed(dlc):
    frame, _ = dlc
    assert (len(frame), frame["subject"].nunique(), frame["analysed"].sum()) == (250, 250, 219)


@pytest.mark.django_db
def test_dlc_demo_deaths_are_the_reports_all_randomised_and_analysed(dlc):
    frame, report = dlc
    survival = report["overall_survival"]
    assert frame["os_event"].sum() == deaths(survival["all_randomised"]["kaplan_meier"])
    assert frame.loc[frame["analysed"].eq(1), "os_event"].sum() == deaths(survival["kaplan_meier"])


@pytest.mark.django_db
def test_dlc_demo_has_the_scheduled_visits_and_hcc(dlc):
    frame, _ = dlc
    assert {"meld_w12", "alb_w24", "tbil_w48", "hcc_time", "hcc_status"} <= set(frame.columns)
