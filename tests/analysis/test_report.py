"""The whole analysis on the demo studies: published flow counts exactly, hazard ratios on the published side of 1.

Trial B (DLC, NCT01220492) reports control relative to UC-MSC: death HR > 1 overall and from 13 months, HCC HR > 1
(../shared/protocols.md, "Trial B"). Trial A (ACLF) reports more deaths with saline than with UC-MSC. The demo is
loaded once for this module, inside a transaction rolled back at the end; each report is built once.
"""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings

from analysis.live import NoAnalysis, study_report
from ecrf.models import Study
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db
CONTROL, UCMSC = "Control (conventional treatment)", "UC-MSC"


@pytest.fixture(scope="module")
def reports(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DEMO_MODE=True), transaction.atomic():
        call_command("seed_demo", seed=1, stdout=io.StringIO())
        yield {code: study_report(Study.objects.get(code=code)) for code in ("DLC", "ACLF")}
        transaction.set_rollback(True)


@pytest.fixture
def dlc(reports):
    return reports["DLC"]


def by_group(rows, key="group"):
    return {row[key]: row for row in rows}


def test_dlc_flow_is_the_published_consort_diagram(dlc):
    flow = dlc["flow"]
    assert (flow["screened"], flow["not_randomised"]["n"]) == (252, 2)
    assert {reason["reason"] for reason in flow["not_randomised"]["reasons"]} == {
        "Refused to sign consent",
        "Not eligible: Diabetes mellitus",
    }
    arms = by_group(flow["arms"])
    counts = ("allocated", "withdrawn", "lost_to_follow_up", "analysed")
    assert [arms[CONTROL][key] for key in counts] == [125, 10, 4, 111]
    assert [arms[UCMSC][key] for key in counts] == [125, 10, 7, 108]


def test_aclf_flow_allocates_19_to_saline_and_24_to_ucmsc(reports):
    flow = reports["ACLF"]["flow"]
    assert flow["screened"] == 43
    assert [arm["allocated"] for arm in flow["arms"]] == [19, 24]


def test_dlc_hazard_ratios_are_control_over_ucmsc_and_say_so(dlc):
    assert (dlc["plan"]["group"], dlc["plan"]["reference"]) == (CONTROL, UCMSC)
    survival = dlc["overall_survival"]
    assert survival["cox_unadjusted"]["reference"] == UCMSC
    assert survival["cox_adjusted"]["covariates"] == ["meld_above_15"]


def test_dlc_death_hazard_is_higher_with_control_overall_adjusted_and_after_13_months(dlc):
    survival = dlc["overall_survival"]
    assert survival["cox_unadjusted"]["hazard_ratio"] > 1
    assert survival["cox_adjusted"]["hazard_ratio"] > 1
    early, late = survival["landmarks"]
    assert (early["window"], late["window"]) == ([0, 13], [13, None])
    assert late["hazard_ratio"] > 1
    assert early["n_group"] + early["n_reference"] == 111 + 108


def test_dlc_hcc_hazard_is_higher_with_control_and_death_competes(dlc):
    hcc = dlc["hcc"]
    assert hcc["cause_specific_cox"]["hazard_ratio"] > 1
    assert hcc["cause_specific_cox"]["method"].startswith("cause-specific Cox")
    assert [row["window"] for row in hcc["landmarks"]] == [[0, 8], [8, None]]
    assert hcc["landmarks"][1]["hazard_ratio"] > 1
    incidence = by_group(hcc["cumulative_incidence"])
    assert incidence[CONTROL]["competing"] > 0
    assert incidence[CONTROL]["at_times"][-1]["incidence"] > incidence[UCMSC]["at_times"][-1]["incidence"]


def test_dlc_curves_from_the_landmarks_start_with_the_subjects_of_the_window_after_them(dlc):
    survival, hcc = dlc["overall_survival"], dlc["hcc"]
    (after_13,), (after_8,) = survival["landmark_curves"], hcc["landmark_curves"]
    assert (after_13["landmark"], after_8["landmark"]) == (13, 8)
    for entry, window in ((after_13, survival["landmarks"][1]), (after_8, hcc["landmarks"][1])):
        assert [row["n"] for row in entry["at_risk"]] == [window["n_group"], window["n_reference"]]
    control = by_group(after_13["kaplan_meier"])[CONTROL]
    assert [row["time"] for row in control["at_times"]] == [11, 23, 35, 47, 59, 62]
    assert by_group(after_8["cumulative_incidence"])[CONTROL]["competing"] > 0


def test_dlc_kaplan_meier_counts_the_analysed_population(dlc):
    curves = by_group(dlc["overall_survival"]["kaplan_meier"])
    assert (curves[CONTROL]["n"], curves[UCMSC]["n"]) == (111, 108)
    assert curves[CONTROL]["events"] > curves[UCMSC]["events"]
    assert [row["time"] for row in curves[CONTROL]["at_times"]] == [12, 24, 36, 48, 60, 72, 75]


def test_dlc_adjustment_for_meld_is_offered_as_covariate_and_as_strata_and_says_which(dlc):
    survival = dlc["overall_survival"]
    adjusted, stratified = survival["cox_adjusted"], survival["cox_stratified"]
    assert adjusted["method"] == "Cox, adjusted for MELD > 15 as a covariate"
    assert [term["label"] for term in adjusted["terms"]] == ["MELD > 15"]
    assert (stratified["method"], stratified["strata"], stratified["terms"]) == (
        "Cox stratified by MELD > 15",
        ["meld_above_15"],
        [],
    )
    assert stratified["hazard_ratio"] > 1


def test_dlc_all_randomised_sensitivity_analysis_counts_every_allocated_subject(dlc):
    sensitivity = dlc["overall_survival"]["all_randomised"]
    assert sensitivity["label"].startswith("Sensitivity analysis: all randomised (intention to treat)")
    assert [arm["n"] for arm in sensitivity["kaplan_meier"]] == [125, 125]
    assert sensitivity["cox_unadjusted"]["n"] == 250
    assert sensitivity["same_as_primary"] is False


def test_dlc_median_follow_up_is_by_reverse_kaplan_meier_per_arm(dlc):
    follow_up = by_group(dlc["overall_survival"]["follow_up"])
    assert (follow_up[CONTROL]["n"], follow_up[UCMSC]["n"]) == (111, 108)
    lower, upper = follow_up[CONTROL]["range"]
    assert lower <= follow_up[CONTROL]["median"] <= upper < 75.1  # follow-up ends at 75 months, in whole days


def test_dlc_hcc_incidence_is_compared_by_grays_test(dlc):
    gray = dlc["hcc"]["grays_test"]
    assert (gray["test"], gray["df"]) == ("Gray's test", 1)
    assert 0 <= gray["p_value"] <= 1


def test_dlc_table_one_shows_the_baseline_of_the_analysed(dlc):
    table = dlc["table_one"]
    assert [group["n"] for group in table["groups"]] == [111, 108]
    rows = by_group(table["rows"], key="label")
    assert [cell["count"] for cell in rows["MELD > 15"]["cells"]] == [15, 19]
    child_pugh = {
        level["level"]: [cell["count"] for cell in level["cells"]] for level in rows["Child-Pugh class"]["levels"]
    }
    assert child_pugh == {"A": [20, 14], "B": [73, 68], "C": [18, 26]}
    assert rows["MELD"]["test"] == "t-test"


def test_dlc_subgroups_split_the_analysed_as_table_one_does(dlc):
    subgroups = by_group(dlc["overall_survival"]["subgroups"], key="label")
    assert list(subgroups) == ["Baseline MELD stratum", "Child-Pugh class", "HBeAg", "Sex", "Site"]
    child_pugh = {row["level"]: [row["n_group"], row["n_reference"]] for row in subgroups["Child-Pugh class"]["levels"]}
    assert child_pugh == {"A": [20, 14], "B": [73, 68], "C": [18, 26]}
    assert subgroups["Sex"]["interaction"]["df"] == 1


def test_dlc_table_one_counts_hbeag_positive_as_published(dlc):
    rows = by_group(dlc["table_one"]["rows"], key="label")
    assert [cell["count"] for cell in rows["HBeAg positive"]["cells"]] == [28, 30]


def test_dlc_forest_plot_splits_by_hbeag_with_both_levels(dlc):
    hbeag = by_group(dlc["overall_survival"]["subgroups"], key="label")["HBeAg"]
    levels = {row["label"]: [row["n_group"], row["n_reference"]] for row in hbeag["levels"]}
    assert levels == {"HBeAg negative": [83, 78], "HBeAg positive": [28, 30]}
    assert hbeag["n_missing"] == 0
    assert hbeag["interaction"]["levels_tested"] == [False, True]


def test_aclf_follows_its_plan_weeks_medians_and_rank_tests(reports):
    aclf = reports["ACLF"]
    assert aclf["plan"]["time_unit"] == "weeks"
    assert "hcc" not in aclf  # the ACLF protocol does not follow HCC
    assert aclf["overall_survival"]["cox_unadjusted"]["hazard_ratio"] > 1
    meld = next(analyte for analyte in aclf["longitudinal"] if analyte["analyte"] == "MELD")
    week_48 = next(visit for visit in meld["visits"] if visit["visit_code"] == "W48")
    assert week_48["between"][0]["label"] == "Mann-Whitney U"
    assert week_48["arms"][0]["within"][0]["label"] == "Wilcoxon signed-rank"


def test_the_demo_reports_follow_the_loaded_plans_and_say_which(reports):
    assert {code: report["plan"]["version"] for code, report in reports.items()} == {"DLC": "1.0", "ACLF": "1.0"}


def test_reports_are_strict_json(reports):
    for report in reports.values():
        json.dumps(report, allow_nan=False)


def test_the_report_reads_the_database_in_a_bounded_number_of_queries(reports, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        study_report(Study.objects.get(code="DLC"))


def test_command_prints_every_section_as_text(reports):
    out = io.StringIO()
    call_command("analysis_report", study="DLC", stdout=out)
    text = out.getvalue()
    for heading in ("Participant flow", "Table 1", "Overall survival", "competing risk", "MELD by visit", "Adverse"):
        assert heading in text
    assert f"hazard ratios are {CONTROL} over {UCMSC} (reference)" in text
    assert "Child-Pugh class: interaction p" in text


def test_command_text_prints_the_survival_figures_the_json_has(reports):
    out = io.StringIO()
    call_command("analysis_report", study="DLC", stdout=out)
    text = out.getvalue()
    for figure in (
        "Log-rank chi-square",
        "Cox, adjusted for MELD > 15 as a covariate: HR",
        "  MELD > 15: HR",
        "Cox stratified by MELD > 15: HR",
        f"Landmark 0 to 13 months (deaths {CONTROL} ",
        "Median follow-up by reverse Kaplan-Meier",
        "Sensitivity analysis: all randomised (intention to treat)",
        "Gray's test chi-square",
        "cumulative incidence at 75 months",
    ):
        assert figure in text
    assert "meld_above_15" not in text


def test_command_json_is_the_report(reports):
    out = io.StringIO()
    call_command("analysis_report", "--study", "ACLF", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["flow"] == reports["ACLF"]["flow"]


def test_command_names_the_known_studies_when_the_code_is_wrong(reports):
    with pytest.raises(CommandError, match="No study 'XYZ'; studies: ACLF, DLC"):
        call_command("analysis_report", study="XYZ", stdout=io.StringIO())


def test_a_study_without_protocol_cannot_be_analysed(reports):
    StudyFactory(code="EMPTY", title="Not loaded")
    with pytest.raises(CommandError, match="EMPTY has no protocol loaded"):
        call_command("analysis_report", study="EMPTY", stdout=io.StringIO())
    with pytest.raises(NoAnalysis):
        study_report(Study.objects.get(code="EMPTY"))


def test_aclf_is_not_randomised_and_its_comparisons_carry_the_observational_caveat(reports):
    plan = reports["ACLF"]["plan"]
    assert plan["randomised"] is False
    assert "observational" in plan["caveat"]


def test_dlc_is_randomised_and_carries_no_caveat(dlc):
    assert (dlc["plan"]["randomised"], dlc["plan"]["caveat"]) == (True, None)


def test_the_text_report_prints_the_caveat_of_a_non_randomised_study(reports):
    out = io.StringIO()
    call_command("analysis_report", study="ACLF", stdout=out)
    assert f"Caveat: {reports['ACLF']['plan']['caveat']}" in out.getvalue()


def test_an_aclf_controls_unrelated_events_after_saline_are_not_infusion_reactions(reports):
    (reaction,) = [row for row in reports["ACLF"]["adverse_events"]["overall"] if row["label"].startswith("Infusion")]
    assert reaction["cells"][0]["subjects"] == 0
