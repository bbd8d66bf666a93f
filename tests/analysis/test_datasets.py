"""The database as tidy DataFrames: baseline covariates (HBeAg status among them), lab days, scores with the
nearest clinical status, time to event from stored dates, hours from infusion to adverse event, and a query count
that does not grow.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine

from analysis.datasets import study_data
from analysis.scores import meld
from ecrf.services import events, randomisation, subjects
from ecrf.services import labs as lab_services
from ecrf.services.protocols import load_protocol
from tests.conftest import HIGH_MELD_LABS, LOW_MELD_LABS, give_first_infusion
from tests.ecrf.protocol_fixture import changed
from tests.factories import StudySiteFactory

HBEAG = """[[analytes]]
code = "HBEAG"
label = "HBeAg"
unit = "S/CO"
decimals = 2
hard_low = 0
hard_high = 10000

[[lab_panels]]"""


@pytest.fixture
def randomised_pair(randomised_protocol, ready_to_randomise, coordinator_a, data_manager):
    """Two randomised subjects on 2021-01-02: "LOW" (MELD 6 at screening) and "HIGH" (MELD 39)."""
    study = randomised_protocol.study
    randomisation.generate_list(study=study, slots_per_stratum=10, by=data_manager)
    with time_machine.travel(datetime(2021, 1, 2, 10, tzinfo=UTC), tick=False):
        for code, labs in (("LOW", LOW_MELD_LABS), ("HIGH", HIGH_MELD_LABS)):
            randomisation.randomise(ready_to_randomise(code, labs=labs), by=coordinator_a)
    return study


def by_subject(frame):
    return frame.set_index("subject_id")


@pytest.fixture
def hbeag_study(site_a, coordinator_a):
    """The test protocol with HBeAg in its panel; at week 0, subjects of 12.5, 1.00 and 0.42 S/CO, and one without."""
    text = changed("[[lab_panels]]", HBEAG)
    text = changed('analytes = ["TBIL", "INR"]', 'analytes = ["TBIL", "INR", "HBEAG"]', text)
    protocol = load_protocol(text, source_name="hbeag.toml").protocol
    StudySiteFactory(study=protocol.study, site=site_a)
    for code, hbeag in (("POS", "12.5"), ("CUTOFF", "1.00"), ("NEG", "0.42"), ("NONE", None)):
        subject = subjects.register_subject(
            study=protocol.study,
            site=site_a,
            subject_code=code,
            screening_date=date(2021, 1, 1),
            sex="male",
            age_years=50,
            by=coordinator_a,
        )
        subjects.record_consent(subject, consent_date=date(2021, 1, 1), consent_version="1.0", by=coordinator_a)
        subjects.record_eligibility(subject, answers={"I1": True, "E1": False}, by=coordinator_a)
        arm = protocol.arms.get(code="A")
        subjects.assign_arm(subject, arm=arm, allocation_date=date(2021, 1, 2), reason="Design", by=coordinator_a)
        lab_services.record_lab_draw(
            visit=subject.visits.get(definition__code="W0"),
            drawn_at=datetime(2021, 1, 2, 8, tzinfo=UTC),
            values={"TBIL": "20", "HBEAG": hbeag},
            by=coordinator_a,
        )
    return protocol.study


def test_every_screened_subject_is_a_row_and_only_the_allocated_have_an_arm(randomised_pair, ready_to_randomise):
    ready_to_randomise("NOT-YET")
    frame = by_subject(study_data(randomised_pair).subjects)
    assert sorted(frame.index) == ["HIGH", "LOW", "NOT-YET"]
    assert frame.loc["NOT-YET", "arm"] is None
    assert frame.loc[["LOW", "HIGH"], "allocated"].all()
    assert not frame.loc["NOT-YET", "allocated"]


def test_baseline_meld_falls_back_to_the_screening_draw_when_week_0_has_none(randomised_pair):
    frame = by_subject(study_data(randomised_pair).subjects)
    assert (frame.loc["LOW", "baseline_meld"], frame.loc["HIGH", "baseline_meld"]) == (6, 39)
    assert (frame.loc["LOW", "meld_above_15"], frame.loc["HIGH", "meld_above_15"]) == (False, True)
    assert frame.loc["HIGH", "baseline_TBIL"] == 342


def test_hbeag_is_positive_from_a_baseline_of_1_s_co_and_unknown_when_not_measured(hbeag_study):
    frame = by_subject(study_data(hbeag_study).subjects)
    assert frame.loc["POS", "baseline_HBEAG"] == 12.5
    assert [frame.loc[code, "hbeag_positive"] for code in ("POS", "CUTOFF", "NEG", "NONE")] == [True, True, False, None]


def test_hbeag_is_unknown_for_everyone_when_the_protocol_does_not_measure_it(randomised_pair):
    frame = by_subject(study_data(randomised_pair).subjects)
    assert "baseline_HBEAG" not in frame
    assert frame["hbeag_positive"].tolist() == [None, None]


def test_scores_use_the_clinical_status_nearest_the_draw(randomised_protocol, ready_to_randomise):
    ready_to_randomise("DIAL", dialysis=True)
    (row,) = study_data(randomised_protocol.study).scores.to_dict("records")
    on_dialysis = meld(bilirubin_umol_l=10, creatinine_umol_l=60, inr=1.0, dialysis=True)
    assert row["meld"] == on_dialysis != meld(bilirubin_umol_l=10, creatinine_umol_l=60, inr=1.0)
    assert row["child_pugh_grade"] is None  # no albumin in this panel: not computed from a default


def test_a_lab_value_carries_its_study_day_from_allocation(allocated_subject, coordinator_a):
    week_4 = allocated_subject.visits.get(definition__code="W4")
    drawn = datetime(2021, 1, 30, 8, tzinfo=UTC)
    lab_services.record_lab_draw(visit=week_4, drawn_at=drawn, values={"TBIL": "22.5"}, by=coordinator_a)
    (row,) = study_data(allocated_subject.study).labs.to_dict("records")
    assert (row["visit_code"], row["analyte"], row["value"], row["study_day"]) == ("W4", "TBIL", 22.5, 28)


def test_a_recorded_death_is_the_survival_event_counted_from_allocation(allocated_subject, coordinator_a):
    subjects.record_death(allocated_subject, death_date=date(2021, 2, 1), cause="Liver failure", by=coordinator_a)
    (row,) = study_data(allocated_subject.study).time_to_event.to_dict("records")
    assert (row["os_event"], row["os_days"], row["hcc_event"]) == (1, 30, 2)


def test_an_adverse_event_knows_the_hours_since_the_latest_infusion(allocated_subject, coordinator_a):
    facts = {"grade": 1, "relatedness": "probable", "outcome": "recovered", "by": coordinator_a}
    events.record_adverse_event(
        subject=allocated_subject, term="Nausea", onset_at=datetime(2021, 1, 2, 8, tzinfo=UTC), **facts
    )
    give_first_infusion(allocated_subject, by=coordinator_a)
    events.record_adverse_event(
        subject=allocated_subject, term="Fever", onset_at=datetime(2021, 1, 2, 13, 30, tzinfo=UTC), **facts
    )
    frame = by_subject(study_data(allocated_subject.study).adverse_events).set_index("term")
    assert frame.loc["Fever", "hours_after_infusion"] == 4.0
    assert frame.loc["Fever", "arm_label"] == "Active"
    assert frame["hours_after_infusion"].isna()["Nausea"]  # before any infusion


def test_the_query_count_does_not_grow_with_subjects(
    randomised_pair, ready_to_randomise, coordinator_a, django_assert_num_queries, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12) as few:
        study_data(randomised_pair)
    with time_machine.travel(datetime(2021, 1, 3, 10, tzinfo=UTC), tick=False):
        for n in range(6):
            randomisation.randomise(ready_to_randomise(f"MORE-{n}"), by=coordinator_a)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(study_data(randomised_pair).subjects) == 8


def test_an_empty_study_gives_empty_frames(protocol):
    data = study_data(protocol.study)
    frames = (data.subjects, data.labs, data.scores, data.time_to_event, data.adverse_events)
    assert [frame.empty for frame in frames] == [True] * 5
