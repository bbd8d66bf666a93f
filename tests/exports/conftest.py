"""A small study with a record on every form, and its csv export."""

import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from ecrf.services import events, labs, visits
from ecrf.services.audit import void
from exports.services import export_study
from tests.conftest import give_first_infusion

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def trial_data(protocol, new_subject, allocated_subject, coordinator_a):
    """Subject 001 allocated, infused, with labs, clinical status, an AE, a medication, HCC; 002 only screened."""
    subject = allocated_subject
    infusion = give_first_infusion(subject, by=coordinator_a)
    w0 = subject.visits.get(definition__code="W0")
    visits.record_visit(w0, actual_date=date(2021, 1, 2), weight_kg=60, by=coordinator_a)
    drawn = datetime(2021, 1, 2, 8, tzinfo=UTC)
    labs.record_lab_draw(visit=w0, drawn_at=drawn, values={"TBIL": "25.5", "INR": "1.25"}, by=coordinator_a)
    labs.record_clinical_status(
        visit=w0,
        assessed_on=date(2021, 1, 2),
        ascites="mild",
        encephalopathy_grade=1,
        dialysis_past_week=False,
        by=coordinator_a,
    )
    ae = dict(onset_at=datetime(2021, 1, 2, 13, tzinfo=UTC), grade=1, relatedness="possible", outcome="recovered")
    events.record_adverse_event(subject=subject, infusion=infusion, term=FORMULA, by=coordinator_a, **ae)
    mistaken = events.record_adverse_event(subject=subject, term="Entered twice", by=coordinator_a, **ae)
    void(mistaken, by=coordinator_a, reason="Duplicate entry")
    events.record_medication(
        subject=subject, drug="Entecavir", dose="0.5 mg daily", start_date=date(2021, 1, 2), by=coordinator_a
    )
    events.record_hcc(subject=subject, diagnosis_date=date(2021, 2, 1), method="imaging", by=coordinator_a)
    new_subject("002")
    return subject.study


@pytest.fixture
def exported(trial_data, tmp_path, data_manager):
    """The csv export of the trial: its log row, the zip's path and its manifest."""
    path = tmp_path / "trial.zip"
    log = export_study(trial_data, "csv", path, by=data_manager)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    return {"log": log, "path": path, "manifest": manifest, "study": trial_data}


@pytest.fixture
def odm_exported(trial_data, tmp_path, data_manager):
    """The odm export of the trial: its log row, the XML's path and the parsed document."""
    path = tmp_path / "trial.xml"
    log = export_study(trial_data, "odm", path, by=data_manager)
    return {"log": log, "path": path, "tree": etree.parse(str(path)), "study": trial_data}
