"""A product dose outside the protocol's tolerance around its target needs a recorded dose deviation (issue 14).

The test protocol plans 0.5 x 10^6 cells/kg +/- 20 % (tests/ecrf/protocol_fixture.py): 0.40-0.60 x 10^6 cells/kg.
"""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from ecrf.models import Arm, InfusionEvent, ReleaseResult, Subject
from ecrf.services import events, subjects
from tests.conftest import give_first_infusion

THREE_TIMES = {"total_cells": 90_000_000, "body_weight_kg": 58}  # 1.55 x 10^6 cells/kg
REFUSED = (
    "1.55 × 10⁶ cells/kg is outside the protocol's 0.40–0.60 × 10⁶ cells/kg (0.5 × 10⁶ ± 20 %): "
    "record a dose deviation to give it."
)


def _infuse(subject, user, *, total_cells, body_weight_kg, release=None, **extra):
    return events.record_infusion(
        subject=subject,
        visit=subject.visits.get(definition__code="W0"),
        number=1,
        started_at=datetime(2021, 1, 2, 9, 30, tzinfo=UTC),
        body_weight_kg=body_weight_kg,
        release={"viab": 91, "myco": True} if release is None else release,
        by=user,
        product_lot="UC-21-001",
        passage=4,
        total_cells=total_cells,
        **extra,
    )


def _rows() -> tuple[int, ...]:
    return (
        InfusionEvent.objects.count(),
        InfusionEvent.history.count(),
        ReleaseResult.objects.count(),
        ReleaseResult.history.count(),
        Subject.history.count(),
    )


def test_a_three_times_dose_is_refused_on_the_cells_and_nothing_is_saved(allocated_subject, coordinator_a):
    before = _rows()
    with pytest.raises(ValidationError) as error:
        _infuse(allocated_subject, coordinator_a, **THREE_TIMES)
    assert error.value.message_dict == {"total_cells": [REFUSED]}
    assert _rows() == before
    assert (InfusionEvent.objects.count(), ReleaseResult.objects.count()) == (0, 0)
    assert Subject.objects.get(pk=allocated_subject.pk).status == "allocated"


def test_a_three_times_dose_is_given_with_a_dose_deviation_which_is_stored(allocated_subject, coordinator_a):
    _infuse(allocated_subject, coordinator_a, **THREE_TIMES, dose_deviation="  PD-11: lot overfilled, PI approved ")
    infusion = InfusionEvent.objects.get()
    assert infusion.dose_deviation == "PD-11: lot overfilled, PI approved"
    assert infusion.cells_per_kg == pytest.approx(1_551_724, abs=1)
    assert infusion.release_results.count() == 2


def test_a_blank_dose_deviation_does_not_give_the_dose(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError, match="record a dose deviation"):
        _infuse(allocated_subject, coordinator_a, **THREE_TIMES, dose_deviation="   ")
    assert not InfusionEvent.objects.exists()


@pytest.mark.parametrize(
    ("total_cells", "body_weight_kg"),
    [(34_980_000, "58.3"), (23_320_000, "58.3"), (36_000_000, 60), (24_000_000, 60)],
    ids=["0.60 at 58.3 kg", "0.40 at 58.3 kg", "0.60 at 60 kg", "0.40 at 60 kg"],
)
def test_a_dose_exactly_at_the_tolerance_is_accepted(allocated_subject, coordinator_a, total_cells, body_weight_kg):
    _infuse(allocated_subject, coordinator_a, total_cells=total_cells, body_weight_kg=body_weight_kg)
    assert InfusionEvent.objects.get().dose_deviation == ""


@pytest.mark.parametrize("total_cells", [36_000_060, 23_999_940], ids=["just above", "just below"])
def test_a_dose_just_beyond_the_tolerance_is_refused(allocated_subject, coordinator_a, total_cells):
    with pytest.raises(ValidationError, match="outside the protocol's 0.40–0.60"):
        _infuse(allocated_subject, coordinator_a, total_cells=total_cells, body_weight_kg=60)


def test_a_dose_and_a_release_failure_are_reported_together(allocated_subject, coordinator_a):
    with pytest.raises(ValidationError) as error:
        _infuse(allocated_subject, coordinator_a, **THREE_TIMES, release={"viab": 70, "myco": True})
    assert set(error.value.message_dict) == {"total_cells", "release_deviation"}
    assert (InfusionEvent.objects.count(), ReleaseResult.objects.count()) == (0, 0)


def test_placebo_infusions_are_not_checked_against_the_dose(protocol, new_subject, coordinator_a):
    Arm.objects.filter(protocol=protocol, code="C").update(infusions="placebo")
    subject = new_subject("P1", consented=True)
    subjects.assign_arm(
        subject, arm=protocol.arms.get(code="C"), allocation_date=date(2021, 1, 2), reason="x", by=coordinator_a
    )
    _infuse(subject, coordinator_a, **THREE_TIMES)
    assert InfusionEvent.objects.get().is_placebo


@pytest.fixture
def infusion(allocated_subject, coordinator_a):
    return give_first_infusion(allocated_subject, by=coordinator_a)


@pytest.mark.parametrize("change", [{"body_weight_kg": 20}, {"total_cells": 90_000_000}], ids=["weight", "cells"])
def test_a_correction_out_of_range_is_refused_without_a_deviation(infusion, coordinator_a, change):
    history = infusion.history.count()
    with pytest.raises(ValidationError) as error:
        events.change_infusion(infusion, by=coordinator_a, reason="Re-weighed", **change)
    assert list(error.value.message_dict) == ["total_cells"]
    saved = InfusionEvent.objects.get()
    assert (saved.total_cells, saved.body_weight_kg, saved.cells_per_kg) == (30_000_000, 60, 500_000)
    assert saved.history.count() == history


def test_a_correction_out_of_range_is_accepted_with_a_deviation(infusion, coordinator_a):
    events.change_infusion(
        infusion, by=coordinator_a, reason="Re-weighed", body_weight_kg=20, dose_deviation="PD-12: weight typo at W0"
    )
    saved = InfusionEvent.objects.get()
    assert (saved.cells_per_kg, saved.dose_deviation) == (1_500_000, "PD-12: weight typo at W0")
    assert saved.history.first().history_change_reason == "Re-weighed"


def test_clearing_the_deviation_of_an_out_of_range_dose_is_refused(allocated_subject, coordinator_a):
    given = _infuse(allocated_subject, coordinator_a, **THREE_TIMES, dose_deviation="PD-11")
    with pytest.raises(ValidationError, match="record a dose deviation"):
        events.change_infusion(given, by=coordinator_a, reason="Tidy", dose_deviation="")
    assert InfusionEvent.objects.get().dose_deviation == "PD-11"
