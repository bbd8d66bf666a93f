"""Loading analysis plan files: a valid one becomes a version of its study's plan, the same file again changes
nothing, different content under a loaded version or a bad setting is refused naming the field with nothing
written, and ``manage.py load_plan`` says so and exits non-zero.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ecrf.models import AnalysisPlanVersion
from ecrf.selectors.plans import latest_plan
from ecrf.services.plans import PlanFileError, load_plan, load_plan_file

pytestmark = pytest.mark.django_db
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLAN = """study = "TRIAL"
version = "1.0"
time_unit = "weeks"
reference_arm = "C"
survival_landmarks = [4]
"""


def refused(text):
    """Load ``text`` expecting refusal; return the problems and check that nothing was written."""
    before = list(AnalysisPlanVersion.objects.values_list("pk", "sha256"))
    with pytest.raises(PlanFileError) as error:
        load_plan(text, source_name="bad.toml")
    assert list(AnalysisPlanVersion.objects.values_list("pk", "sha256")) == before
    return "\n".join(error.value.problems)


def test_a_plan_file_loads_as_a_version_of_its_study(protocol, data_manager):
    result = load_plan(PLAN, source_name="trial_plan.toml", by=data_manager)
    plan = AnalysisPlanVersion.objects.get()
    assert result.created
    assert result.plan == plan
    assert (plan.study, plan.version, plan.source_text, plan.loaded_by) == (protocol.study, "1.0", PLAN, data_manager)
    assert plan.content["time_unit"] == "weeks"
    assert plan.content["population"] == "allocated"  # the defaults are stored with the file's settings


def test_loading_the_same_file_again_changes_nothing(protocol):
    first = load_plan(PLAN, source_name="trial_plan.toml").plan
    again = load_plan(PLAN, source_name="trial_plan.toml")
    assert (again.created, again.plan) == (False, first)
    assert AnalysisPlanVersion.objects.count() == 1


def test_other_content_under_a_loaded_version_is_refused(protocol):
    load_plan(PLAN, source_name="trial_plan.toml")
    problems = refused(PLAN.replace('time_unit = "weeks"', 'time_unit = "months"'))
    assert "version: plan 1.0 of TRIAL is already loaded with different content" in problems


def test_a_revised_plan_with_a_new_version_is_the_one_in_force(protocol):
    load_plan(PLAN, source_name="trial_plan.toml")
    load_plan(PLAN.replace('version = "1.0"', 'version = "1.1"'), source_name="trial_plan.toml")
    assert latest_plan(protocol.study).version == "1.1"
    assert AnalysisPlanVersion.objects.count() == 2


def test_a_bad_setting_is_refused_naming_the_field(protocol):
    problems = refused(PLAN.replace('time_unit = "weeks"', 'time_unit = "fortnights"'))
    assert problems.startswith("time_unit: ")


def test_a_misspelt_setting_is_refused_naming_it(protocol):
    assert refused(PLAN + "landmark = [8]\n").startswith("landmark: ")


def test_a_plan_without_a_version_is_refused(protocol):
    assert refused(PLAN.replace('version = "1.0"\n', "")).startswith("version: ")


def test_a_plan_that_is_not_toml_is_refused(protocol):
    assert refused(PLAN + "survival_landmarks = [\n").startswith("not valid TOML")


def test_a_plan_of_a_study_not_loaded_is_refused(protocol):
    assert "study: OTHER is not a study here" in refused(PLAN.replace('"TRIAL"', '"OTHER"'))


def test_a_reference_arm_not_in_the_protocol_is_refused(protocol):
    problems = refused(PLAN.replace('reference_arm = "C"', 'reference_arm = "PLACEBO"'))
    assert problems == "reference_arm: PLACEBO is not an arm of TRIAL protocol 1.0 (its arms: A, C)"


def test_the_command_loads_a_file_and_says_so(protocol, tmp_path):
    path = tmp_path / "trial_plan.toml"
    path.write_text(PLAN, encoding="utf-8")
    out = io.StringIO()
    call_command("load_plan", str(path), stdout=out)
    call_command("load_plan", str(path), stdout=out)
    assert out.getvalue().splitlines() == [
        f"Loaded TRIAL analysis plan 1.0 ({path}).",
        "TRIAL analysis plan 1.0 is already loaded: no change.",
    ]
    assert load_plan_file(path).plan.loaded_by is None


def test_the_command_records_who_loaded_the_plan(protocol, data_manager, tmp_path):
    path = tmp_path / "trial_plan.toml"
    path.write_text(PLAN, encoding="utf-8")
    call_command("load_plan", str(path), by=data_manager.username, stdout=io.StringIO())
    assert AnalysisPlanVersion.objects.get().loaded_by == data_manager


def test_the_command_refuses_a_bad_file_with_exit_code_1(protocol, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(PLAN.replace('"weeks"', '"fortnights"'), encoding="utf-8")
    with pytest.raises(CommandError, match=r"bad.toml: not loaded, nothing changed.\n  - time_unit: ") as error:
        call_command("load_plan", str(path), stdout=io.StringIO())
    assert error.value.returncode == 1
    assert not AnalysisPlanVersion.objects.exists()


def test_manage_py_load_plan_exits_non_zero_naming_the_field(tmp_path):
    """The process itself, as a shell script or CI job would see it; the file is refused before any query."""
    path = tmp_path / "bad.toml"
    path.write_text(PLAN.replace('"weeks"', '"fortnights"'), encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "trialsite.settings",
        "SECRET_KEY": "k" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "load_plan", str(path)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "time_unit: " in result.stderr
