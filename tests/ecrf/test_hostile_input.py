"""Hostile input to every form of the eCRF, and to the services behind them: never a 500, never a partial write.

Each property POSTs dicts of the form's field names (and some it does not know) holding sensible or hostile
values (tests/ecrf/hostile_values.py) with the right role logged in, inside a savepoint rolled back after each
example, so every example starts from the same records. A refused POST (anything but a redirect) must leave the
row count of every eCRF table, and of every history table, as it was. Dates in year 1 or 9999 have properties of
their own, expected to fail until the date bounds (branch ``dates``) land.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from ecrf.models import Ascites, RandomisationListAccess, Sex, Subject
from ecrf.models.events import AeAction, AeOutcome, HccMethod, Relatedness, Seriousness
from ecrf.roles import Role
from ecrf.services import events, labs, signatures, subjects, visits
from tests.ecrf import hostile_values as hv
from tests.factories import TEST_PASSWORD, MembershipFactory

PROPERTY = settings(max_examples=20, deadline=None, derandomize=True, database=None)
EXTREME_PROPERTY = settings(PROPERTY, max_examples=10)
SERVICE_PROPERTY = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def row_counts() -> dict[str, int]:
    """Rows of every eCRF table and every history table (the list-access log is written by reading the page)."""
    models = [m for m in apps.get_app_config("ecrf").get_models() if m is not RandomisationListAccess]
    return {m._meta.label: m._base_manager.count() for m in models}


@dataclass
class Page:
    user: object
    url: str
    fields: dict


def post_hostile(client, page: Page, data: dict) -> None:
    """POST ``data`` in a savepoint rolled back afterwards; check the status and that a refusal saved nothing."""
    login = reverse("login")
    with transaction.atomic():
        before = row_counts()
        response = client.post(page.url, data)
        assert response.status_code in (200, 302, 400, 409), response.status_code
        if response.status_code == 302:
            assert not response.url.startswith(login), "logged out: the property would test nothing"
        else:
            assert row_counts() == before, "a refused POST saved rows"
        transaction.set_rollback(True)


# --- The cast and the records each page works on -------------------------------------------------------------


@pytest.fixture
def cast(protocol, site_a, coordinator_a, investigator_a, data_manager):
    study = protocol.study
    MembershipFactory(user=coordinator_a, study=study, role=Role.COORDINATOR, site=site_a)
    MembershipFactory(user=investigator_a, study=study, role=Role.INVESTIGATOR, site=site_a)
    MembershipFactory(user=data_manager, study=study, role=Role.DATA_MANAGER, site=None)
    return {"coordinator": coordinator_a, "investigator": investigator_a, "data_manager": data_manager}


@pytest.fixture
def recorded(cast, recorded):
    """The shared records (tests/ecrf/conftest.py), with the cast's memberships in place first."""
    return recorded


def _url(name, subject, *rest):
    return reverse(f"ecrf:{name}", args=[subject.study.code, subject.pk, *rest])


def _version(client, user, url) -> int:
    client.force_login(user)
    return int(client.get(url).context["form"]["version"].value())


TEXT = st.sampled_from(["Not known", "See source notes"]) | st.text(min_size=1, max_size=60)
REASON = st.sampled_from(["Transcription error", "Source document checked"]) | TEXT
AE_FIELDS = {
    "term": st.sampled_from(["Fever", "Nausea"]) | TEXT,
    "onset_at": hv.datetimes(),
    "resolved_at": hv.datetimes(),
    "grade": st.integers(1, 5).map(str),
    "serious": hv.checkbox,
    "seriousness": hv.choice(*Seriousness.values),
    "sae_reported_on": hv.dates(),
    "sae_description": TEXT,
    "relatedness": hv.choice(*Relatedness.values),
    "outcome": hv.choice(*AeOutcome.values),
    "action_taken": hv.choice(*AeAction.values),
}
MEDICATION_FIELDS = {
    "drug": st.sampled_from(["Entecavir", "Propranolol"]) | TEXT,
    "dose": st.sampled_from(["0.5 mg", "40 mg twice daily"]) | TEXT,
    "indication": TEXT,
    "is_background": hv.checkbox,
    "start_date": hv.dates(),
    "stop_date": hv.dates(),
}
INFUSION_FIELDS = {
    "started_at": hv.datetimes(),
    "body_weight_kg": hv.numbers(1, 399),
    "volume_ml": hv.numbers(0, 500),
    "observation_hours": hv.numbers(0, 24),
    "reaction": TEXT,
    "product_lot": st.just("UC-21-002") | TEXT,
    "passage": st.integers(1, 20).map(str),
    "total_cells": st.sampled_from(["3e7", "30000000", "3.2e7"]),
}
OUTCOME_FIELDS = {
    "death": {"death_date": hv.dates(), "cause": TEXT},
    "withdrawal": {"withdrawal_date": hv.dates(), "reason": REASON},
    "lost": {"last_contact_date": hv.dates()},
    "hcc": {"diagnosis_date": hv.dates(), "method": hv.choice(*HccMethod.values), "details": TEXT},
}


def _register(request, client):
    cast, site = request.getfixturevalue("cast"), request.getfixturevalue("site_a")
    study = request.getfixturevalue("protocol").study
    fields = {
        "subject_code": st.sampled_from(["R-001", "001"]) | TEXT,
        "screening_date": hv.dates(),
        "sex": hv.choice(*Sex.values),
        "age_years": st.integers(0, 120).map(str),
        "weight_kg": hv.numbers(1, 399),
    }
    return Page(cast["coordinator"], reverse("ecrf:register_subject", args=[study.code, site.code]), fields)


def _screening(form):
    def page(request, client):
        cast = request.getfixturevalue("cast")
        subject = request.getfixturevalue("new_subject")("002")
        url = _url(form, subject)
        fields = {
            "eligibility": lambda: {
                "I1": hv.choice("yes", "no", ""),
                "E1": hv.choice("yes", "no", ""),
                "reason": REASON,
                "version": hv.version_of(_version(client, cast["coordinator"], url)),
            },
            "consent": lambda: {"consent_date": hv.dates(), "consent_version": st.just("1.0") | TEXT},
            "screen_failure": lambda: {"reason": REASON},
        }[form]()
        return Page(cast["coordinator"], url, fields)

    return page


def _on_w0(form, extra):
    def page(request, client):
        cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
        url = _url(form, records["subject"], "W0")
        fields = {**extra, "reason": REASON, "version": hv.version_of(_version(client, cast["coordinator"], url))}
        return Page(cast["coordinator"], url, fields)

    return page


def _lab_fields():
    fields = {"drawn_at": hv.datetimes(), "confirm_unusual": hv.checkbox, "panel_not_done": hv.checkbox}
    fields["panel_not_done_reason"] = TEXT
    for code, low, high in (("TBIL", 0.5, 1500), ("INR", 0.5, 15)):
        fields |= {f"value_{code}": hv.numbers(low, high), f"nd_{code}": hv.checkbox, f"ndr_{code}": TEXT}
    return fields


def _new_record(form, fields):
    def page(request, client):
        cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
        extra = {"infusion": st.just(str(records["infusion"].pk))} if form == "adverse_event" else {}
        return Page(cast["coordinator"], _url(form, records["subject"]), {**fields, **extra, "submission": hv.tokens})

    return page


def _edit_record(form, kind, fields):
    def page(request, client):
        cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
        url = _url(form, records["subject"], records[kind].pk)
        version = hv.version_of(_version(client, cast["coordinator"], url))
        return Page(cast["coordinator"], url, {**fields, "reason": REASON, "version": version})

    return page


def _infusion(request, client):
    """The first infusion of a second allocated subject, not yet given."""
    cast, protocol = request.getfixturevalue("cast"), request.getfixturevalue("protocol")
    subject = request.getfixturevalue("new_subject")("003", consented=True)
    subjects.assign_arm(
        subject,
        arm=protocol.arms.get(code="A"),
        allocation_date=date(2021, 1, 2),
        reason="Design",
        by=cast["coordinator"],
    )
    release = {"release_viab": hv.numbers(0, 100), "release_myco": hv.checkbox, "release_deviation": TEXT}
    return Page(cast["coordinator"], _url("infusion", subject, "W0"), {**INFUSION_FIELDS, **release})


def _outcome(event):
    def page(request, client):
        cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
        return Page(cast["coordinator"], _url("outcome", records["subject"], event), OUTCOME_FIELDS[event])

    return page


def _sign(request, client):
    cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
    password = st.sampled_from([TEST_PASSWORD, TEST_PASSWORD.upper()]) | TEXT
    return Page(cast["investigator"], _url("sign_visit", records["subject"], "W0"), {"password": password})


def _unlock(request, client):
    cast, records = request.getfixturevalue("cast"), request.getfixturevalue("recorded")
    checker = request.getfixturevalue("check_password")
    signatures.sign_visit(records["visit"], by=cast["investigator"], password=TEST_PASSWORD, check_password=checker)
    return Page(cast["data_manager"], _url("unlock_visit", records["subject"], "W0"), {"reason": REASON})


def _randomisation(action):
    def page(request, client):
        protocol, manager = request.getfixturevalue("randomised_protocol"), request.getfixturevalue("data_manager")
        MembershipFactory(user=manager, study=protocol.study, role=Role.DATA_MANAGER, site=None)
        url = reverse(f"ecrf:randomisation_{action}", args=[protocol.study.code])
        if action == "generate":
            return Page(manager, url, {"slots_per_stratum": st.integers(1, 4).map(str)})
        return Page(manager, url, {"file": csv_uploads})

    return page


CSV_CELL = st.sampled_from(["le15|SITE-A", "gt15|SITE-A", "A", "C", "1", "2", "R-0001"]) | hv.hostile.filter(
    lambda v: isinstance(v, str)
)
CSV_ROW = st.lists(CSV_CELL, min_size=0, max_size=5).map(",".join)
csv_uploads = st.builds(
    lambda name, header, rows, encoding: SimpleUploadedFile(
        name, "\n".join([header, *rows]).encode("utf-8", "surrogatepass") if encoding else b"\xff\xfe\x00junk"
    ),
    st.sampled_from(["list.csv", "", "../../x.csv", "a" * 300, "名前.csv"]),
    st.sampled_from(["stratum,sequence,arm,code", "code,arm", "", "\ufeffstratum,sequence,arm,code"]),
    st.lists(CSV_ROW, max_size=6),
    st.booleans(),
)

PAGES = {
    "register": _register,
    "eligibility": _screening("eligibility"),
    "consent": _screening("consent"),
    "screen_failure": _screening("screen_failure"),
    "visit": _on_w0(
        "visit_form",
        {"actual_date": hv.dates(), "weight_kg": hv.numbers(1, 399), "missed": hv.checkbox, "missed_reason": TEXT},
    ),
    "clinical_status": _on_w0(
        "clinical_status",
        {
            "assessed_on": hv.dates(),
            "ascites": hv.choice(*Ascites.values),
            "encephalopathy_grade": st.integers(0, 4).map(str),
            "dialysis_past_week": hv.choice("true", "false", "on"),
            "temperature_c": hv.numbers(30, 45),
            **{name: hv.checkbox for name in ("fever", "peripheral_oedema", "rash", "nausea", "vomiting")},
        },
    ),
    "lab_panel": _on_w0("lab_panel", _lab_fields()),
    "infusion": _infusion,
    "adverse_event_new": _new_record("adverse_event", AE_FIELDS),
    "adverse_event_edit": _edit_record("adverse_event_edit", "adverse-event", AE_FIELDS),
    "medication_new": _new_record("medication", MEDICATION_FIELDS),
    "medication_edit": _edit_record("medication_edit", "medication", MEDICATION_FIELDS),
    "infusion_edit": _edit_record("infusion_edit", "infusion", INFUSION_FIELDS),
    **{f"outcome_{event}": _outcome(event) for event in OUTCOME_FIELDS},
    "sign": _sign,
    "unlock": _unlock,
    "randomisation_generate": _randomisation("generate"),
    "randomisation_import": _randomisation("import"),
}
DATED_PAGES = [name for name in PAGES if not name.startswith(("sign", "unlock", "randomisation", "screen_failure"))]


def _property(request, client, name, junk, examples, *, extreme_dates=False):
    page = PAGES[name](request, client)
    client.force_login(page.user)
    if extreme_dates:  # every date field in year 1 or 9999, the rest sensible
        page.fields |= {n: hv.extreme_dates for n in page.fields if n.endswith(("_date", "_at", "_on"))}

    @examples
    @given(data=hv.form_data(page.fields, junk=junk))
    def hostile_post(data):
        post_hostile(client, page, data)

    hostile_post()


@pytest.mark.parametrize("name", list(PAGES))
def test_a_hostile_post_is_never_a_server_error_and_a_refused_one_saves_nothing(name, request, client, db):
    _property(request, client, name, hv.hostile, PROPERTY)


@pytest.mark.parametrize("name", DATED_PAGES)
def test_a_post_with_dates_in_year_1_or_9999_is_never_a_server_error(name, request, client, db):
    _property(request, client, name, hv.extreme_dates, EXTREME_PROPERTY, extreme_dates=True)


# --- Services called directly --------------------------------------------------------------------------------

TEXTS = st.one_of(st.text(max_size=40), st.sampled_from(hv.TEXT_JUNK))
NUMBERS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.integers(),
    st.none(),
    st.sampled_from([Decimal("1e308"), Decimal("-0"), Decimal("99999999999999999999")]),
)
NEAR_DATES = st.dates(min_value=date(2019, 1, 1), max_value=date(2022, 1, 1))
NEAR_TIMES = st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2022, 1, 1), timezones=st.just(UTC))


def refused_or_saved(service, **kwargs) -> None:
    """Call the service in a rolled-back savepoint: it saves, or raises ValidationError having saved nothing."""
    with transaction.atomic():
        before = row_counts()
        try:
            service(**kwargs)
        except ValidationError:
            assert row_counts() == before, "a refused write left rows"
        transaction.set_rollback(True)


def fresh(subject) -> Subject:
    return Subject.objects.get(pk=subject.pk)


def test_register_subject_refuses_hostile_values_with_a_validation_error(protocol, site_a, coordinator_a):
    @SERVICE_PROPERTY
    @given(code=TEXTS, day=NEAR_DATES, sex=TEXTS | st.sampled_from(Sex.values), age=st.integers(), weight=NUMBERS)
    def register(code, day, sex, age, weight):
        refused_or_saved(
            subjects.register_subject,
            study=protocol.study,
            site=site_a,
            subject_code=code,
            screening_date=day,
            sex=sex,
            age_years=age,
            weight_kg=weight,
            by=coordinator_a,
        )

    register()


def test_adverse_events_and_medication_refuse_hostile_values_with_a_validation_error(allocated_subject, coordinator_a):
    @SERVICE_PROPERTY
    @given(
        term=TEXTS,
        onset=NEAR_TIMES,
        grade=st.integers(),
        relatedness=TEXTS | st.sampled_from(Relatedness.values),
        outcome=TEXTS | st.sampled_from(AeOutcome.values),
        seriousness=TEXTS,
        dose=TEXTS,
        start=NEAR_DATES,
        stop=st.none() | NEAR_DATES,
    )
    def record(term, onset, grade, relatedness, outcome, seriousness, dose, start, stop):
        subject = fresh(allocated_subject)
        refused_or_saved(
            events.record_adverse_event,
            subject=subject,
            by=coordinator_a,
            term=term,
            onset_at=onset,
            grade=grade,
            relatedness=relatedness,
            outcome=outcome,
            seriousness=seriousness,
        )
        refused_or_saved(
            events.record_medication,
            subject=subject,
            by=coordinator_a,
            drug=term,
            dose=dose,
            start_date=start,
            stop_date=stop,
        )

    record()


def test_lab_draws_and_visits_refuse_hostile_values_with_a_validation_error(allocated_subject, coordinator_a):
    lab_value = NUMBERS | TEXTS | st.builds(labs.NotDone, TEXTS)

    @SERVICE_PROPERTY
    @given(
        drawn=NEAR_TIMES,
        values=st.dictionaries(st.sampled_from(["TBIL", "INR", "CREA", ""]), lab_value, max_size=3),
        day=NEAR_DATES,
        weight=NUMBERS,
    )
    def record(drawn, values, day, weight):
        visit = fresh(allocated_subject).visits.get(definition__code="W0")
        refused_or_saved(labs.record_lab_draw, visit=visit, drawn_at=drawn, values=values, by=coordinator_a)
        refused_or_saved(visits.record_visit, visit=visit, actual_date=day, weight_kg=weight, by=coordinator_a)

    record()


def test_infusions_refuse_hostile_values_with_a_validation_error(allocated_subject, coordinator_a):
    @SERVICE_PROPERTY
    @given(
        started=NEAR_TIMES,
        weight=NUMBERS,
        cells=st.integers() | st.none(),
        passage=st.integers() | st.none(),
        release=st.dictionaries(st.sampled_from(["viab", "myco", "nope"]), NUMBERS | st.booleans(), max_size=3),
        lot=TEXTS,
        deviation=TEXTS,
    )
    def record(started, weight, cells, passage, release, lot, deviation):
        subject = fresh(allocated_subject)
        refused_or_saved(
            events.record_infusion,
            subject=subject,
            visit=subject.visits.get(definition__code="W0"),
            number=1,
            started_at=started,
            body_weight_kg=weight,
            release=release,
            release_deviation=deviation,
            by=coordinator_a,
            product_lot=lot,
            passage=passage,
            total_cells=cells,
        )

    record()


def test_services_refuse_dates_in_year_1_or_9999_with_a_validation_error(allocated_subject, coordinator_a):
    @SERVICE_PROPERTY
    @given(
        day=st.sampled_from([date.min, date.max]) | st.dates(),
        moment=st.sampled_from([datetime.min, datetime.max]).map(lambda m: m.replace(tzinfo=UTC))
        | st.datetimes(timezones=st.just(UTC)),
    )
    def record(day, moment):
        subject = fresh(allocated_subject)
        visit = subject.visits.get(definition__code="W0")
        refused_or_saved(visits.record_visit, visit=visit, actual_date=day, by=coordinator_a)
        refused_or_saved(
            events.record_infusion,
            subject=subject,
            visit=visit,
            number=1,
            started_at=moment,
            body_weight_kg=60,
            release={"viab": 91, "myco": True},
            by=coordinator_a,
            product_lot="L",
            passage=4,
            total_cells=30_000_000,
        )

    record()
