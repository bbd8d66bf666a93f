"""The odm export read back with lxml: the official schema, values, events, code lists, counts, streaming."""

import hashlib
import io
import os
from pathlib import Path

import pytest
from lxml import etree

from ecrf.models import AdverseEvent, Allocation, LabValue
from exports import odm
from exports.csv_bundle import Table
from exports.odm_metadata import CODEBOOK, Design, Event
from exports.services import WRITERS
from tests.exports.conftest import FORMULA

# The official schema stays in the shared folder (its SOURCE.md: referenced there, not copied into the project).
SCHEMA_DIR = Path(os.environ.get("ODM_SCHEMA_DIR", Path(__file__).resolve().parents[3] / "shared" / "odm-1.3.2"))
NS = {"odm": odm.NS}


def _items(tree, item_oid: str) -> list[etree._Element]:
    return tree.xpath("//odm:ItemData[@ItemOID=$oid]", namespaces=NS, oid=item_oid)


def _values(tree, item_oid: str) -> list[str]:
    return [item.get("Value") for item in _items(tree, item_oid)]


@pytest.mark.skipif(not (SCHEMA_DIR / "ODM1-3-2.xsd").exists(), reason=f"ODM 1.3.2 schema not at {SCHEMA_DIR}")
def test_the_export_is_valid_against_the_official_odm_1_3_2_schema(odm_exported):
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "ODM1-3-2.xsd")))
    assert schema.validate(odm_exported["tree"]), schema.error_log


def test_the_document_is_a_snapshot_created_at_the_export_time(odm_exported):
    root = odm_exported["tree"].getroot()
    assert (root.get("FileType"), root.get("ODMVersion"), root.get("FileOID")) == (
        "Snapshot",
        "1.3.2",
        f"ODM.TRIAL.{odm_exported['log'].exported_at.isoformat()}",
    )
    assert root.get("CreationDateTime") == odm_exported["log"].exported_at.isoformat()


def test_lab_values_equal_the_database_with_their_units(odm_exported):
    items = _items(odm_exported["tree"], "IT.LAB_VALUES.VALUE")
    found = [(item.get("Value"), item.find("odm:MeasurementUnitRef", NS).get("MeasurementUnitOID")) for item in items]
    stored = LabValue.objects.order_by("analyte__order").values_list("value", "analyte__unit")
    assert found == [(format(value.normalize(), "f"), f"MU.{unit}") for value, unit in stored]
    assert found == [("25.5", "MU.umol/L"), ("1.25", "MU.ratio")]


def test_a_formula_like_adverse_event_term_is_kept_as_entered(odm_exported):
    assert _values(odm_exported["tree"], "IT.ADVERSE_EVENTS.TERM") == [FORMULA]
    assert AdverseEvent.objects.filter(is_voided=False).get().term == FORMULA


def test_dates_and_times_are_the_databases_in_iso_8601(odm_exported):
    allocation = Allocation.objects.get()
    onset = AdverseEvent.objects.get(is_voided=False).onset_at
    assert _values(odm_exported["tree"], "IT.ALLOCATIONS.ALLOCATION_DATE") == [allocation.allocation_date.isoformat()]
    assert _values(odm_exported["tree"], "IT.ADVERSE_EVENTS.ONSET_AT") == [onset.isoformat()]


def test_every_visit_of_the_protocol_is_a_study_event_def_asking_for_its_forms(odm_exported, protocol):
    tree = odm_exported["tree"]
    events = tree.xpath("//odm:StudyEventDef/@OID", namespaces=NS)
    visits = list(protocol.visit_definitions.order_by("order").values_list("code", flat=True))
    assert events == ["SE.SUBJECT", *(f"SE.{code}" for code in visits)]
    mandatory = tree.xpath("//odm:StudyEventDef[@OID='SE.W0']/odm:FormRef[@Mandatory='Yes']/@FormOID", namespaces=NS)
    assert mandatory == ["F.VISITS", "F.LAB_VALUES", "F.INFUSIONS"]


def test_rows_without_a_visit_are_under_the_subject_level_event(odm_exported):
    tree = odm_exported["tree"]
    path = "//odm:SubjectData[@SubjectKey='001']/odm:StudyEventData[@StudyEventOID='SE.SUBJECT']/odm:FormData/@FormOID"
    forms = tree.xpath(path, namespaces=NS)
    assert {"F.SUBJECTS", "F.ALLOCATIONS", "F.ADVERSE_EVENTS", "F.MEDICATIONS", "F.OUTCOMES"} <= set(forms)
    assert "F.LAB_VALUES" not in forms


def test_code_lists_carry_the_labels(odm_exported):
    tree = odm_exported["tree"]
    decode = "//odm:CodeList[@OID=$oid]/odm:CodeListItem[@CodedValue=$code]/odm:Decode/odm:TranslatedText/text()"
    assert tree.xpath(decode, namespaces=NS, oid="CL.CLINICAL_STATUS.ASCITES", code="mild") == ["Mild"]
    analyte = tree.xpath(decode, namespaces=NS, oid="CL.LAB_VALUES.ANALYTE_CODE", code="TBIL")
    assert analyte == ["Total bilirubin (umol/L)"]
    reference = "//odm:ItemDef[@OID='IT.CLINICAL_STATUS.ASCITES']/odm:CodeListRef/@CodeListOID"
    assert tree.xpath(reference, namespaces=NS) == ["CL.CLINICAL_STATUS.ASCITES"]


def test_rows_per_form_match_the_csv_exports_manifest(odm_exported, exported):
    tree = odm_exported["tree"]
    for name, entry in exported["manifest"]["files"].items():
        if name.startswith("codebook."):
            continue
        groups = tree.xpath(
            "count(//odm:ItemGroupData[@ItemGroupOID=$oid])", namespaces=NS, oid=f"IG.{name[:-4].upper()}"
        )
        assert groups == entry["rows"], name


def test_the_manifest_lists_the_xml_with_its_sha256_and_rows_per_form(trial_data, exported):
    target = io.BytesIO()
    manifest = WRITERS["odm"](trial_data, target, {"study": "TRIAL", "exported_at": "2021-03-01T00:00:00+00:00"})
    entry = manifest["files"]["odm.xml"]
    assert entry["sha256"] == hashlib.sha256(target.getvalue()).hexdigest()
    csv_rows = {name[:-4]: e["rows"] for name, e in exported["manifest"]["files"].items() if name[-4:] == ".csv"}
    assert entry["forms"] == {name: rows for name, rows in csv_rows.items() if name != "codebook"}
    assert entry["rows"] == sum(entry["forms"].values())


def test_the_log_holds_the_files_sha256_and_its_rows(odm_exported):
    log = odm_exported["log"]
    assert (log.format, log.file_name) == ("odm", "trial.xml")
    assert log.sha256 == hashlib.sha256(odm_exported["path"].read_bytes()).hexdigest()
    assert log.row_counts == {"odm.xml": len(odm_exported["tree"].xpath("//odm:ItemGroupData", namespaces=NS))}


class _Recorder:
    """A binary file that remembers how many bytes it had been given."""

    def __init__(self):
        self.size = 0

    def write(self, data):
        self.size += len(data)
        return len(data)


def test_subjects_are_written_while_the_rows_are_still_being_read():
    target, seen = _Recorder(), []

    def subjects():
        for number in range(2000):
            seen.append(target.size)
            yield (f"S{number:04d}", "A", "x" * 40)

    design = Design("ST", "Study", "ST", "1", "2020-01-01", (Event("SUBJECT", "Subject", (("subjects", True),)),))
    codebook = Table("codebook", CODEBOOK, [["note", "Note", "text", "", "", "subjects", "", ""]])
    tables = [Table("subjects", ["subject_code", "site_code", "note"], subjects())]
    odm.write_odm(
        target, design=design, tables=tables, codebook=codebook, header={"exported_at": "2020-01-01T00:00:00"}
    )
    assert 0 < seen[-1] < target.size
