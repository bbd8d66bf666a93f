"""Every clinical date and time is bounded to the study's plausible range by one rule (ecrf.services.dates):
from the first protocol version's effective date less a screening allowance to today (a time: to now). Far
dates are refused keyed by their field with nothing saved, and the forms refuse years no time zone conversion
survives before the service sees them.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from ecrf.models import Allocation
from ecrf.services import events, labs, subjects, visits
from ecrf.services.dates import MEDICATION_HISTORY_DAYS, SCREENING_ALLOWANCE_DAYS
from ecrf.services.schedule import sync_schedule
from tests.conftest import give_first_infusion
from tests.ecrf.unaudited import update_bypassing_audit

# The test protocol takes effect on 2020-01-01 (tests/ecrf/protocol_fixture.py); the clock stops on 2021-03-01.
NOW = datetime(2021, 3, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
EARLIEST = date(2020, 1, 1) - timedelta(days=SCREENING_ALLOWANCE_DAYS)
FAR = {"first": date(1, 1, 1), "last": date(9999, 12, 31), "tomorrow": TODAY + timedelta(days=1)}


@pytest.fixture(autouse=True)
def stopped_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def as_time(day: date) -> datetime:
    """The datetime of a far date: its first minute (its last, for 9999-12-31); a day after now for tomorrow."""
    if day == FAR["tomorrow"]:
        return NOW + timedelta(days=1)
    return datetime.combine(day, time(23, 59) if day.year == 9999 else time(0, 0), tzinfo=UTC)


def history_rows() -> int:
    """Every history row of the eCRF's records: a refused write adds none."""
    models = apps.get_app_config("ecrf").get_models()
    return sum(m.history.count() for m in models if hasattr(m, "history") and not m.__name__.startswith("Historical"))


@pytest.fixture
def ctx(protocol, new_subject, allocated_subject, coordinator_a, site_a):
    class Context:
        pass

    c = Context()
    c.protocol, c.new_subject, c.subject, c.by, c.site = protocol, new_subject, allocated_subject, coordinator_a, site_a
    c.w0 = allocated_subject.visits.get(definition__code="W0")
    c.screened, c.consented = new_subject("901"), new_subject("902", consented=True)
    return c


def register(c, day):
    subjects.register_subject(
        study=c.protocol.study, site=c.site, subject_code="900", screening_date=day, sex="male", age_years=40, by=c.by
    )


def consent(c, day):
    subjects.record_consent(c.screened, consent_date=day, consent_version="1.0", by=c.by)


def allocate(c, day):
    subjects.assign_arm(c.consented, arm=c.protocol.arms.get(code="A"), allocation_date=day, reason="Design", by=c.by)


def visit(c, day):
    # W0's window is its one planned day: any other day is out of window, which is not what is tested here.
    visits.record_visit(c.w0, actual_date=day, window_reason="Dated for the bounds test", by=c.by)


def lab_draw(c, day):
    labs.record_lab_draw(visit=c.w0, drawn_at=as_time(day), values={"TBIL": "20"}, by=c.by)


def clinical_status(c, day):
    labs.record_clinical_status(
        visit=c.w0, assessed_on=day, ascites="none", encephalopathy_grade=0, dialysis_past_week=False, by=c.by
    )


def infusion(c, day):
    give_first_infusion(c.subject, by=c.by, started_at=as_time(day))


AE = {"term": "Fever", "grade": 1, "relatedness": "probable", "outcome": "recovered", "action_taken": "none"}


def ae_onset(c, day):
    events.record_adverse_event(subject=c.subject, by=c.by, onset_at=as_time(day), **AE)


def ae_resolved(c, day):
    onset = datetime(2020, 1, 1, tzinfo=UTC)
    events.record_adverse_event(subject=c.subject, by=c.by, onset_at=onset, resolved_at=as_time(day), **AE)


def sae_reported(c, day):
    onset = datetime(2020, 1, 1, tzinfo=UTC)
    facts = {**AE, "serious": True, "seriousness": "hospitalisation", "grade": 3}
    events.record_adverse_event(subject=c.subject, by=c.by, onset_at=onset, sae_reported_on=day, **facts)


def medication_start(c, day):
    events.record_medication(subject=c.subject, by=c.by, drug="Entecavir", dose="0.5 mg", start_date=day)


def medication_stop(c, day):
    start = EARLIEST
    events.record_medication(
        subject=c.subject, by=c.by, drug="Entecavir", dose="0.5 mg", start_date=start, stop_date=day
    )


def death(c, day):
    subjects.record_death(c.subject, death_date=day, cause="Liver failure", by=c.by)


def withdrawal(c, day):
    subjects.withdraw(c.subject, withdrawal_date=day, reason="Withdrew consent", by=c.by)


def lost(c, day):
    subjects.lose_to_follow_up(c.subject, last_contact_date=day, by=c.by)


def hcc(c, day):
    events.record_hcc(subject=c.subject, diagnosis_date=day, method="imaging", by=c.by)


# (write, the field its refusal is keyed by)
WRITES = {
    "registration": (register, "screening_date"),
    "consent": (consent, "consent_date"),
    "allocation": (allocate, "allocation_date"),
    "visit": (visit, "actual_date"),
    "lab draw": (lab_draw, "drawn_at"),
    "clinical status": (clinical_status, "assessed_on"),
    "infusion": (infusion, "started_at"),
    "AE onset": (ae_onset, "onset_at"),
    "AE resolution": (ae_resolved, "resolved_at"),
    "SAE report": (sae_reported, "sae_reported_on"),
    "medication start": (medication_start, "start_date"),
    "medication stop": (medication_stop, "stop_date"),
    "death": (death, "death_date"),
    "withdrawal": (withdrawal, "withdrawal_date"),
    "lost": (lost, "last_contact_date"),
    "HCC": (hcc, "diagnosis_date"),
}


@pytest.mark.parametrize("far", FAR)
@pytest.mark.parametrize("write", WRITES)
def test_a_far_or_future_date_is_refused_on_its_field_and_nothing_is_saved(ctx, write, far):
    service, field = WRITES[write]
    before = history_rows()
    with pytest.raises(ValidationError) as refused:
        service(ctx, FAR[far])
    assert "must be between" in " ".join(refused.value.message_dict[field])
    assert history_rows() == before


def test_the_message_gives_the_allowed_range(ctx):
    with pytest.raises(ValidationError) as refused:
        visit(ctx, FAR["tomorrow"])
    assert refused.value.message_dict["actual_date"] == [f"The date must be between {EARLIEST} and today ({TODAY})."]


@pytest.mark.parametrize("write", WRITES)
def test_today_is_accepted(ctx, write):
    service, _ = WRITES[write]
    if write == "lab draw":  # a time: now is the last accepted
        labs.record_lab_draw(visit=ctx.w0, drawn_at=NOW, values={"TBIL": "20"}, by=ctx.by)
    elif write in ("infusion", "AE onset", "AE resolution"):
        service(ctx, TODAY - timedelta(days=1))  # their times are the day's first minute; now is tested below
    else:
        service(ctx, TODAY)


@pytest.mark.parametrize("write", ["lab draw", "clinical status", "AE onset", "medication stop"])
def test_the_first_plausible_date_is_accepted(ctx, write):
    service, _ = WRITES[write]
    service(ctx, EARLIEST)


@pytest.mark.parametrize("write", ["lab draw", "clinical status", "AE onset", "medication stop"])
def test_the_day_before_the_first_plausible_date_is_refused(ctx, write):
    service, field = WRITES[write]
    with pytest.raises(ValidationError) as refused:
        service(ctx, EARLIEST - timedelta(days=1))
    assert field in refused.value.message_dict


def test_a_background_drug_may_have_started_decades_before_the_study(ctx):
    first = date(2020, 1, 1) - timedelta(days=MEDICATION_HISTORY_DAYS)
    medication_start(ctx, first)
    with pytest.raises(ValidationError) as refused:
        medication_start(ctx, first - timedelta(days=1))
    assert "start_date" in refused.value.message_dict


def test_an_infusion_now_is_accepted_and_a_minute_later_refused(ctx):
    with pytest.raises(ValidationError):
        give_first_infusion(ctx.subject, by=ctx.by, started_at=NOW + timedelta(minutes=1))
    give_first_infusion(ctx.subject, by=ctx.by, started_at=NOW)


def test_an_infusion_at_the_end_of_time_is_refused_not_an_overflow(ctx):
    before = history_rows()
    with pytest.raises(ValidationError) as refused:
        give_first_infusion(ctx.subject, by=ctx.by, started_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    assert "started_at" in refused.value.message_dict
    assert history_rows() == before


def test_correcting_an_infusion_to_a_far_time_is_refused(ctx):
    infusion = give_first_infusion(ctx.subject, by=ctx.by)
    with pytest.raises(ValidationError) as refused:
        events.change_infusion(infusion, started_at=as_time(FAR["last"]), by=ctx.by, reason="Typo")
    assert "started_at" in refused.value.message_dict


def test_correcting_an_adverse_event_to_a_far_resolution_is_refused(ctx):
    event = events.record_adverse_event(subject=ctx.subject, by=ctx.by, onset_at=NOW, **AE)
    with pytest.raises(ValidationError) as refused:
        events.change_adverse_event(event, resolved_at=as_time(FAR["last"]), by=ctx.by, reason="Resolved")
    assert "resolved_at" in refused.value.message_dict


def test_a_schedule_anchored_beyond_the_calendar_is_refused_not_an_overflow(ctx):
    update_bypassing_audit(Allocation.objects.filter(subject=ctx.subject), allocation_date=date(9999, 12, 30))
    ctx.subject.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        sync_schedule(ctx.subject, by=ctx.by)
    assert "allocation_date" in refused.value.message_dict or "started_at" in refused.value.message_dict


# Pages: the forms refuse years no time zone conversion survives, on the field, before the service sees them.
ZONES = ["Asia/Shanghai", "Etc/GMT+12", "Pacific/Kiritimati"]
EXTREMES = ["0001-01-01T00:00", "9999-12-31T23:59"]
FORM_MESSAGE = "Enter a date and time between 1900 and 2100."


def pages(subject):
    study, pk = subject.study.code, subject.pk
    return {
        "lab panel": (reverse("ecrf:lab_panel", args=[study, pk, "W0"]), "drawn_at", {"version": 0}),
        "infusion": (
            reverse("ecrf:infusion", args=[study, pk, "W0"]),
            "started_at",
            {"body_weight_kg": "60.0", "product_lot": "UC-21-001", "passage": "4", "total_cells": "3e7"},
        ),
        "AE onset": (
            reverse("ecrf:adverse_event", args=[study, pk]),
            "onset_at",
            {"submission": "0b8e7a52-6c1f-4f6a-9f55-1f0a4c3d2e10", **AE},
        ),
        "AE resolution": (
            reverse("ecrf:adverse_event", args=[study, pk]),
            "resolved_at",
            {"submission": "0b8e7a52-6c1f-4f6a-9f55-1f0a4c3d2e11", "onset_at": "2021-01-02T13:00", **AE},
        ),
    }


@pytest.mark.parametrize("typed", EXTREMES)
@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("page", ["lab panel", "infusion", "AE onset", "AE resolution"])
def test_an_extreme_time_on_a_page_is_refused_on_its_field_in_any_time_zone(
    coordinator, allocated_subject, page, zone, typed
):
    url, field, rest = pages(allocated_subject)[page]
    before = history_rows()
    with override_settings(TIME_ZONE=zone):
        response = coordinator.post(url, {**rest, field: typed})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [FORM_MESSAGE]
    assert history_rows() == before


def test_a_time_the_form_accepts_but_the_study_does_not_is_refused_on_the_field(coordinator, allocated_subject):
    url, field, rest = pages(allocated_subject)["infusion"]
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        response = coordinator.post(url, {**rest, field: "2100-12-31T23:59"})
    assert response.status_code == 200
    assert "must be between" in response.context["form"].errors[field][0]


@pytest.mark.parametrize("typed", ["0001-01-01", "9999-12-31"])
def test_an_extreme_visit_date_on_the_page_is_refused_on_its_field(coordinator, allocated_subject, typed):
    url = reverse("ecrf:visit_form", args=[allocated_subject.study.code, allocated_subject.pk, "W0"])
    version = coordinator.get(url).context["form"].initial["version"]
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        response = coordinator.post(url, {"actual_date": typed, "version": version})
    assert response.status_code == 200
    assert "must be between" in response.context["form"].errors["actual_date"][0]


def test_a_date_given_as_text_is_bounded_like_a_date(ctx):
    with pytest.raises(ValidationError) as refused:
        events.record_medication(subject=ctx.subject, by=ctx.by, drug="Entecavir", dose="1 mg", start_date="9999-12-31")
    assert "start_date" in refused.value.message_dict
