"""Statistical analysis plans are data: each study's file validates, mistakes are named, a study without one gets
the default plan, and the arms compared follow the plan.
"""

from typing import get_args

import pytest
from pydantic import ValidationError

from analysis.plan import PLANS, Plan, Relatedness, choose_arms, plan_for
from ecrf.models.events import Relatedness as FormRelatedness

ARMS = [
    {"code": "UCMSC", "label": "UC-MSC", "is_control": False},
    {"code": "CONTROL", "label": "Control", "is_control": True},
]


@pytest.mark.parametrize("path", sorted(PLANS.glob("*.toml")), ids=lambda path: path.name)
def test_every_plan_file_validates(path):
    plan = plan_for(path.stem.upper())
    assert plan.table_one, "a plan lists its Table 1 rows"


def test_the_dlc_plan_follows_the_paper():
    plan = plan_for("DLC")
    assert (plan.survival_landmarks, plan.hcc_landmarks, plan.time_unit) == ([13], [8], "months")
    assert plan.adjust_for == ["meld_above_15"]


def test_a_study_without_a_plan_gets_the_default():
    assert plan_for("NOPLAN") == Plan(study="NOPLAN")


def test_an_unknown_setting_is_named():
    with pytest.raises(ValidationError, match="landmark"):
        Plan.model_validate({"study": "X", "landmark": [13]})


def test_the_reference_arm_is_the_plans_and_the_other_arm_is_compared_to_it():
    arms = choose_arms(ARMS, Plan(study="X", reference_arm="UCMSC"))
    assert (arms.group, arms.reference) == ("Control", "UC-MSC")


def test_without_a_reference_in_the_plan_the_active_arm_is_compared_to_the_control():
    arms = choose_arms(ARMS, Plan(study="X"))
    assert (arms.group, arms.reference) == ("UC-MSC", "Control")


@pytest.mark.parametrize(
    "landmarks", [[0], [-1], [13, 13], [13, 8]], ids=["zero", "negative", "repeated", "decreasing"]
)
def test_landmarks_must_be_positive_and_increasing(landmarks):
    with pytest.raises(ValidationError, match="survival_landmarks"):
        Plan(study="X", survival_landmarks=landmarks)


def test_a_reference_arm_not_in_the_protocol_is_refused():
    with pytest.raises(ValueError, match="PLACEBO is not an arm"):
        choose_arms(ARMS, Plan(study="X", reference_arm="PLACEBO"))


def test_the_plans_relatedness_codes_are_the_ae_forms():
    assert set(get_args(Relatedness)) == set(FormRelatedness.values)


def test_by_default_an_infusion_reaction_is_a_possibly_related_event_within_24_hours():
    safety = Plan(study="X").safety
    assert (safety.related, safety.infusion_reaction_hours) == (["possible", "probable", "definite"], 24)


def test_a_relatedness_the_form_does_not_have_is_refused():
    with pytest.raises(ValidationError, match="safety.related"):
        Plan.model_validate({"study": "X", "safety": {"related": ["unrelated"]}})


def test_a_subgroup_level_given_as_a_bare_value_is_its_own_label():
    plan = Plan(study="X", subgroups=[{"column": "child_pugh_grade", "label": "Child-Pugh", "levels": ["A", "B"]}])
    assert [(level.value, level.label) for level in plan.subgroups[0].levels] == [("A", "A"), ("B", "B")]


def test_a_subgroup_level_listed_twice_is_refused():
    with pytest.raises(ValidationError, match="each level is listed once"):
        Plan(study="X", subgroups=[{"column": "sex", "label": "Sex", "levels": ["male", "male"]}])


def test_the_dlc_plan_declares_the_forest_plot_subgroups():
    subgroups = plan_for("DLC").subgroups
    columns = [subgroup.column for subgroup in subgroups]
    assert columns == ["meld_above_15", "child_pugh_grade", "hbeag_positive", "sex", "site"]
    assert [level.value for level in subgroups[0].levels] == [False, True]
    assert [(level.value, level.label) for level in subgroups[2].levels] == [
        (False, "HBeAg negative"),
        (True, "HBeAg positive"),
    ]


def test_the_dlc_plan_adjusts_for_meld_both_as_a_covariate_and_as_strata():
    plan = plan_for("DLC")
    assert (plan.adjust_for, plan.strata) == (["meld_above_15"], ["meld_above_15"])


@pytest.mark.parametrize(("study", "follow_up_end"), [("DLC", 75), ("ACLF", 72)])
def test_each_plan_reports_at_the_protocols_follow_up_end(study, follow_up_end):
    assert plan_for(study).report_times[-1] == follow_up_end


def test_a_model_term_is_named_by_its_table_one_label():
    plan = plan_for("DLC")
    assert plan.label("meld_above_15") == "MELD > 15"
    assert plan.label("child_pugh_grade_C") == "Child-Pugh class: C"
    assert plan.label("unknown_column") == "unknown_column"
