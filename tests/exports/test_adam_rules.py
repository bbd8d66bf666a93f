"""ADSL and ADTTE rules on hand-made frames (no database), then ADTTE against the wide export on the DLC demo."""

import io

import pandas as pd
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from analysis.datasets import study_data
from analysis.endpoints import DAYS_PER_MONTH
from analysis.plan import plan_for
from ecrf.models import Study
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol, treated_arm_codes
from exports import adam, adtte, xpt
from exports.wide import wide
from tests.exports.test_wide import ORIGIN, PLAN, study, subject

DAY = pd.Timedelta(days=1)
LIMIT = ORIGIN + 365 * DAY  # test_wide.subject follows everyone for 365 days


def person(code, **facts):
    """A subject of test_wide.subject, male, allocated and infused at ORIGIN, last seen at a visit on day 70."""
    return subject(code, **{"sex": "male", "allocation_date": ORIGIN, "first_infusion_date": ORIGIN, **facts})


def datasets(*people, endpoints=("hcc",), treated_arms=("UCMSC",)):
    data = study(list(people))
    subject_level = adam.adsl(data, PLAN, study="T", treated_arms=treated_arms)
    return subject_level.frame.set_index("SUBJID"), adtte.adtte(data, subject_level, endpoints=endpoints).frame


def outcome(frame: pd.DataFrame, code: str, parameter: str = "OS") -> tuple:
    row = frame[(frame["SUBJID"] == code) & (frame["PARAMCD"] == parameter)].iloc[0]
    return row["CNSR"], pd.Timestamp(row["ADT"]), row["CNSDTDSC"]


def test_a_withdrawn_subject_is_censored_2_at_withdrawal():
    _, rows = datasets(person("W", status="withdrawn", withdrawal_date=ORIGIN + 30 * DAY))
    assert outcome(rows, "W") == (adtte.WITHDRAWAL, ORIGIN + 30 * DAY, "WITHDRAWAL")


def test_a_subject_lost_is_censored_3_at_the_last_contact_before_later_visits():
    _, rows = datasets(person("L", status="lost_to_follow_up", last_contact_date=ORIGIN + 40 * DAY))
    assert outcome(rows, "L") == (adtte.LOST, ORIGIN + 40 * DAY, "LAST CONTACT")


def test_a_subject_seen_alive_is_censored_1_at_the_last_visit():
    _, rows = datasets(person("A"))
    assert outcome(rows, "A") == (adtte.LAST_KNOWN_ALIVE, ORIGIN + 70 * DAY, "LAST VISIT")


def test_a_death_after_the_follow_up_is_censored_4_at_its_end_and_still_flagged():
    subject_level, rows = datasets(person("D", death=LIMIT + 30 * DAY))
    assert outcome(rows, "D") == (adtte.END_OF_FOLLOW_UP, LIMIT, "END OF FOLLOW-UP")
    assert subject_level.loc["D", "DTHFL"] == "Y"


def test_a_death_before_any_hcc_is_censored_5_as_the_competing_risk():
    _, rows = datasets(person("D", death=ORIGIN + 50 * DAY, hcc=ORIGIN + 60 * DAY))
    assert outcome(rows, "D", "HCC") == (adtte.COMPETING_DEATH, ORIGIN + 50 * DAY, "DEATH (COMPETING RISK)")
    assert outcome(rows, "D", "OS")[0] == 0


def test_an_hcc_before_death_is_the_hcc_event():
    _, rows = datasets(person("H", hcc=ORIGIN + 20 * DAY, death=ORIGIN + 50 * DAY))
    assert outcome(rows, "H", "HCC") == (0, ORIGIN + 20 * DAY, None)


def test_a_subject_of_an_infused_arm_never_infused_is_outside_the_safety_population():
    subject_level, _ = datasets(person("N", first_infusion_date=pd.NaT))
    assert (subject_level.loc["N", "SAFFL"], subject_level.loc["N", "TRT01A"]) == ("N", None)


def test_a_subject_of_an_arm_without_infusions_is_in_the_safety_population():
    subject_level, _ = datasets(person("C", arm="CONTROL", first_infusion_date=pd.NaT))
    assert (subject_level.loc["C", "SAFFL"], subject_level.loc["C", "TRT01A"]) == ("Y", "Control")


def test_a_withdrawn_subject_is_outside_the_full_analysis_set():
    subject_level, _ = datasets(person("W", status="withdrawn", withdrawal_date=ORIGIN, analysed=False))
    assert (subject_level.loc["W", "ITTFL"], subject_level.loc["W", "FASFL"]) == ("Y", "N")


def test_each_stratification_factor_has_its_own_variable():
    subject_level, _ = datasets(person("S", stratum="meld:gt15|site:S1"))
    assert subject_level.loc["S", ["STRATAR", "STRAT1R", "STRAT2R"]].tolist() == ["meld:gt15|site:S1", "gt15", "S1"]


def test_table_one_covariates_take_baseline_names_and_yes_no_becomes_a_y_n_flag():
    subject_level, _ = datasets(person("B", meld_above_15=True))
    assert subject_level.loc["B", ["ALBBL", "MELD15FL", "AGE", "SEX"]].tolist() == [35.0, "Y", 50.0, "M"]


def test_usubjid_names_study_and_site_once_when_the_subject_code_already_has_them():
    assert adam.usubjid("DLC", "BJ-5MC", "DLC-BJ-5MC-001") == "DLC-BJ-5MC-001"
    assert adam.usubjid("DLC", "BJ-5MC", "BJ-5MC-001") == "DLC-BJ-5MC-001"


def test_a_label_longer_than_xpt_version_5_allows_is_refused():
    with pytest.raises(ValueError, match="longer than 40"):
        xpt.xpt_bytes(pd.DataFrame({"AVAL": [1.0]}), name="ADTTE", label="ADTTE", labels={"AVAL": "x" * 41})


@pytest.fixture(scope="module")
def dlc(django_db_setup, django_db_blocker):
    """The DLC demo's ADSL, ADTTE and wide file, keyed by subject code."""
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        call_command("seed_demo", seed=1, stdout=io.StringIO())
        study_ = Study.objects.get(code="DLC")
        protocol = latest_protocol(study_)
        data, plan, endpoints = study_data(study_), plan_for("DLC"), arms_and_endpoints(protocol)[1]
        subject_level = adam.adsl(data, plan, study="DLC", treated_arms=treated_arm_codes(protocol))
        times = adtte.adtte(data, subject_level, endpoints=endpoints, time_unit=plan.time_unit).frame
        yield subject_level.frame.set_index("SUBJID"), times, wide(data, plan, endpoints=endpoints).set_index("subject")
        transaction.set_rollback(True)


def parameter(times: pd.DataFrame, code: str) -> pd.DataFrame:
    return times[times["PARAMCD"] == code].set_index("SUBJID")


@pytest.mark.django_db
def test_dlc_adsl_has_the_wide_files_subjects_and_analysed_population(dlc):
    subject_level, _, frame = dlc
    assert subject_level.index.tolist() == frame.index.tolist()
    assert (subject_level["FASFL"] == "Y").tolist() == frame["analysed"].eq(1).tolist()


@pytest.mark.django_db
def test_dlc_os_rows_are_the_wide_files_time_and_event(dlc):
    _, times, frame = dlc
    os = parameter(times, "OS").loc[frame.index]
    assert (os["AVAL"] / DAYS_PER_MONTH).round(9).tolist() == frame["os_time"].round(9).tolist()
    assert os["CNSR"].eq(0).astype(int).tolist() == frame["os_event"].tolist()


@pytest.mark.django_db
def test_dlc_hcc_rows_are_the_wide_files_time_and_competing_status(dlc):
    _, times, frame = dlc
    hcc = parameter(times, "HCC").loc[frame.index]
    status = hcc["CNSR"].map(lambda cnsr: {0: 1, adtte.COMPETING_DEATH: 2}.get(cnsr, 0))
    assert (hcc["AVAL"] / DAYS_PER_MONTH).round(9).tolist() == frame["hcc_time"].round(9).tolist()
    assert status.tolist() == frame["hcc_status"].tolist()


@pytest.mark.django_db
def test_dlc_censoring_reasons_cover_withdrawal_loss_and_competing_death(dlc):
    _, times, _ = dlc
    reasons = set(times["CNSR"])
    assert {0, adtte.WITHDRAWAL, adtte.LOST, adtte.COMPETING_DEATH} <= reasons
