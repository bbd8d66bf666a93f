"""Loading protocol files: valid ones load, bad ones are refused naming the field with nothing written,
reloads change nothing, and amendments become new versions without touching data entered under the old one.
"""

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from ecrf.models import (
    Analyte,
    Arm,
    BackgroundMedication,
    EligibilityCriterion,
    EndpointCollection,
    InfusionPlan,
    LabPanel,
    LabValue,
    ProtocolVersion,
    ReleaseCriterion,
    StratificationFactor,
    Study,
    VisitDefinition,
)
from ecrf.protocol_schema import ProtocolFileError
from ecrf.services import labs, subjects
from ecrf.services.protocols import load_protocol
from tests.ecrf.protocol_fixture import PROTOCOL, changed

pytestmark = pytest.mark.django_db
PROTOCOL_TABLES = (
    Study,
    ProtocolVersion,
    Arm,
    StratificationFactor,
    EligibilityCriterion,
    Analyte,
    LabPanel,
    VisitDefinition,
    InfusionPlan,
    ReleaseCriterion,
    EndpointCollection,
    BackgroundMedication,
)


def row_counts():
    return [model.objects.count() for model in PROTOCOL_TABLES]


def refused(text):
    """Load ``text`` expecting refusal; return the problems and check that nothing was written."""
    before = row_counts()
    with pytest.raises(ProtocolFileError) as error:
        load_protocol(text, source_name="bad.toml")
    assert row_counts() == before
    return "\n".join(error.value.problems)


def test_a_valid_file_loads_every_part():
    protocol = load_protocol(PROTOCOL, source_name="trial.toml").protocol
    assert protocol.study.code == "TRIAL"
    assert protocol.arms.count() == 2
    assert protocol.eligibility_criteria.count() == 2
    assert list(protocol.visit_definitions.values_list("code", "offset_days")) == [("SCR", 0), ("W0", 0), ("W4", 28)]
    assert protocol.release_criteria.count() == 2
    assert protocol.follow_up_days == 84


def test_loading_the_same_file_again_changes_nothing():
    assert load_protocol(PROTOCOL, source_name="trial.toml").created
    before = row_counts()
    result = load_protocol(PROTOCOL, source_name="trial.toml")
    assert not result.created
    assert row_counts() == before


def test_invalid_toml_is_refused():
    assert "not valid TOML" in refused(PROTOCOL + "\n[study\n")


def test_a_missing_field_is_named():
    assert "study.registry_number: Field required" in refused(changed('registry_number = "NCT09999999"\n', ""))


def test_a_malformed_registry_number_is_named():
    assert "study.registry_number" in refused(changed('"NCT09999999"', '"NCT123"'))


def test_a_misspelt_key_is_refused_not_ignored():
    assert "study.folow_up: Extra inputs are not permitted" in refused(changed("follow_up =", "folow_up ="))


def test_a_duplicate_visit_code_is_refused():
    assert "visits: code 'W4' appears twice" in refused(
        changed('code = "W0"\nlabel = "Week 0"', 'code = "W4"\nlabel = "Week 0"')
    )


def test_a_panel_naming_an_undefined_analyte_is_refused():
    assert "names analyte 'ALB', which is not defined" in refused(changed('["TBIL", "INR"]', '["TBIL", "INR", "ALB"]'))


def test_a_visit_naming_an_undefined_panel_is_refused():
    assert "names lab_panel 'q'" in refused(changed('lab_panel = "p"', 'lab_panel = "q"'))


def test_hard_limits_out_of_order_are_refused():
    assert "analytes[0]: hard_low must be below hard_high" in refused(changed("hard_high = 1500", "hard_high = 0.1"))


def test_infusion_numbers_must_match_the_planned_count():
    assert "infusion_plan.count is 2" in refused(changed("count = 1", "count = 2"))


def test_a_duration_with_two_units_is_refused():
    problems = refused(changed("offset = { weeks = 4 }", "offset = { weeks = 4, days = 2 }"))
    assert "visits[2].offset: give exactly one of days, weeks or months" in problems


def test_a_labs_form_without_its_panel_is_refused():
    problems = refused(changed('forms = ["visit", "labs"]\nlab_panel = "p"', 'forms = ["visit", "labs"]'))
    assert "visits[2]: a visit with the labs form names its lab_panel" in problems


def test_an_unknown_form_is_refused():
    assert "visits[2].forms[1]" in refused(changed('forms = ["visit", "labs"]', 'forms = ["visit", "lab"]'))


def test_a_randomised_study_needs_two_arms():
    text = changed('design = "non_random"', 'design = "randomised"')
    text = changed(
        '[[arms]]\ncode = "C"\nlabel = "Control"\nratio = 1\ninfusions = "none"\nis_control = true\n', "", text
    )
    assert "a randomised study needs at least two arms" in refused(text)


AMENDMENT = changed(
    'version = "1.0"', 'version = "2.0"', changed("effective_date = 2020-01-01", "effective_date = 2022-01-01")
)
AMENDMENT = changed("hard_high = 1500", "hard_high = 1200", AMENDMENT)


def test_a_changed_file_with_a_new_version_becomes_a_second_version(protocol):
    amendment = load_protocol(AMENDMENT, source_name="trial-v2.toml")
    assert amendment.created
    assert list(ProtocolVersion.objects.filter(study=protocol.study).values_list("version", flat=True)) == [
        "1.0",
        "2.0",
    ]


def test_data_entered_under_the_old_version_stays_linked_and_unchanged(protocol, new_subject, coordinator_a):
    subject = new_subject(consented=True)
    subjects.assign_arm(
        subject, arm=protocol.arms.get(code="A"), allocation_date=date(2021, 1, 2), reason="r", by=coordinator_a
    )
    w0 = subject.visits.get(definition__code="W0")
    labs.record_lab_draw(
        visit=w0, drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC), values={"TBIL": "1400"}, by=coordinator_a
    )

    load_protocol(AMENDMENT, source_name="trial-v2.toml")

    value = LabValue.objects.get(draw__visit=w0, analyte__code="TBIL")
    assert value.analyte.protocol == protocol
    assert value.value == 1400
    subject.refresh_from_db()
    assert subject.protocol == protocol


def test_a_subject_screened_after_the_amendment_gets_the_new_version(protocol, new_subject):
    load_protocol(AMENDMENT, source_name="trial-v2.toml")
    assert new_subject("002", screening_date=date(2022, 3, 1)).protocol.version == "2.0"
    assert new_subject("003", screening_date=date(2021, 3, 1)).protocol.version == "1.0"


def test_the_same_version_with_other_content_is_refused(protocol):
    assert "study.version: version 1.0 of TRIAL is already loaded" in refused(
        changed("hard_high = 1500", "hard_high = 1400")
    )


def test_an_amendment_cannot_take_effect_before_the_current_version(protocol):
    text = changed('version = "1.0"', 'version = "2.0"', changed("2020-01-01", "2019-06-01"))
    assert "study.effective_date: 2019-06-01 is before version 1.0's 2020-01-01" in refused(text)


def test_load_protocol_command_loads_then_reports_no_change(tmp_path):
    path = tmp_path / "trial.toml"
    path.write_text(PROTOCOL)
    first, second = [_run_command(path) for _ in range(2)]
    assert "Loaded TRIAL protocol 1.0" in first
    assert "already loaded: no change" in second


def test_load_protocol_command_lists_every_problem_of_a_bad_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(changed("count = 1", "count = 0", changed('"NCT09999999"', '"NCT1"')))
    with pytest.raises(CommandError) as error:
        call_command("load_protocol", str(path))
    message = str(error.value)
    assert "nothing changed" in message
    assert "study.registry_number" in message
    assert "infusion_plan.count" in message
    assert not ProtocolVersion.objects.exists()


def test_load_protocol_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read the file"):
        call_command("load_protocol", str(tmp_path / "nope.toml"))


def _run_command(path):
    out = io.StringIO()
    call_command("load_protocol", str(path), stdout=out)
    return out.getvalue()


def test_analytes_load_with_their_limits_and_panel():
    protocol = load_protocol(PROTOCOL, source_name="trial.toml").protocol
    limits = {a.code: (a.unit, a.hard_low, a.hard_high) for a in protocol.analytes.all()}
    assert limits == {"TBIL": ("umol/L", 0.5, 1500), "INR": ("ratio", 0.5, 15)}
    (panel,) = protocol.lab_panels.all()
    assert sorted(panel.analytes.values_list("code", flat=True)) == ["INR", "TBIL"]
    assert protocol.infusion_plan.count == 1
    assert list(protocol.endpoint_collections.values_list("code", "collect_days")) == [("adverse_events", 336)]


@pytest.mark.parametrize(
    ("months", "days"),
    [
        (1, 30),  # 30.4375
        (6, 183),  # 182.625
        (12, 365),  # 365.25
        (18, 548),  # 547.875
        (24, 731),  # 730.5: a tie rounds up
    ],
)
def test_months_are_365_25_over_12_days_rounded_to_the_nearest_day(months, days):
    text = changed("offset = { weeks = 4 }", f"offset = {{ months = {months} }}")
    text = changed("follow_up = { weeks = 12 }", f"follow_up = {{ months = {months} }}", text)
    protocol = load_protocol(text, source_name="trial.toml").protocol
    assert protocol.visit_definitions.get(code="W4").offset_days == days
    assert (protocol.follow_up_days, protocol.follow_up_label) == (days, f"{months} months")


def test_an_amendment_naming_another_registry_number_is_refused(protocol):
    text = changed('"NCT09999999"', '"NCT08888888"', AMENDMENT)
    assert "study.registry_number: TRIAL is registered as NCT09999999" in refused(text)
