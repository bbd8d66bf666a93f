"""The report of a study just loaded, before any subject, and of a study with one allocated subject."""

import json

import pytest

from analysis.live import study_report
from analysis.report_text import render
from ecrf.services.plans import load_plan
from tests.conftest import give_first_infusion

pytestmark = pytest.mark.django_db


def test_a_study_without_subjects_reports_empty_sections(protocol):
    report = study_report(protocol.study)
    assert report["flow"]["screened"] == 0
    assert [group["n"] for group in report["table_one"]["groups"]] == [0, 0]
    assert report["overall_survival"]["cox_unadjusted"]["reason"] == "no subjects"
    assert "hcc" not in report  # the test protocol does not follow HCC
    json.dumps(report, allow_nan=False)


def test_without_a_plan_file_the_active_arm_is_compared_to_the_control(protocol):
    plan = study_report(protocol.study)["plan"]
    assert plan["reference"] == protocol.arms.get(is_control=True).label


def test_without_a_loaded_plan_the_report_says_it_follows_the_default_plan(protocol):
    report = study_report(protocol.study)
    assert report["plan"]["version"] == "default plan"
    assert "; analysis plan: default plan; " in render(report)


def test_the_report_follows_the_latest_loaded_plan_and_states_its_version(protocol):
    load_plan('study = "TRIAL"\nversion = "1.0"\n', source_name="trial_plan.toml")
    load_plan('study = "TRIAL"\nversion = "2.0"\nreference_arm = "A"\n', source_name="trial_plan.toml")
    report = study_report(protocol.study)
    assert (report["plan"]["version"], report["plan"]["reference"]) == ("2.0", "Active")
    assert "; analysis plan: 2.0; " in render(report)


def test_one_allocated_subject_is_counted_and_nothing_is_estimable(allocated_subject, coordinator_a):
    give_first_infusion(allocated_subject, by=coordinator_a)
    report = study_report(allocated_subject.study)
    assert sum(arm["allocated"] for arm in report["flow"]["arms"]) == 1
    assert report["overall_survival"]["cox_unadjusted"]["hazard_ratio"] is None
    json.dumps(report, allow_nan=False)
