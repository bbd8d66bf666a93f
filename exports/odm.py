"""The ``odm`` export: one CDISC ODM 1.3.2 XML document, study metadata then clinical data. Pure, streamed.

The metadata come from exports/odm_metadata.py. Clinical data are written with lxml's incremental writer
(``etree.xmlfile``) one ``SubjectData`` at a time: every table is sorted by subject the same way (the first table,
one row per subject, leads), so only one subject's rows are held and memory does not grow with the study.
A row goes to the ``StudyEventData`` of its ``visit_code`` when its form has one and it is filled in, else to the
subject-level event ``SE.SUBJECT``; repeating item groups number their rows (``ItemGroupRepeatKey``); an empty
value has no ``ItemData``; a lab value carries its row's unit (``MeasurementUnitRef``).
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.csv_bundle import Table, cell
from exports.odm_metadata import (
    NS,
    SITE,
    SUBJECT,
    SUBJECT_EVENT,
    VISIT,
    Design,
    Item,
    admin_element,
    items_by_form,
    oid,
    study_element,
    sub,
    tag,
)


def _by_subject(tables: list[Table]) -> Iterator[list[tuple[Table, dict]]]:
    """Per row of the first table (one per subject), every table's rows of that subject, table by table.

    Every table is sorted by subject code in the database's own order, so a table's next rows belong to the
    subject at hand or to one still to come; a row left over belongs to no subject and is an error.
    """
    streams = [iter(table.rows) for table in tables]
    keys = [list(table.columns).index(SUBJECT) for table in tables]
    heads = [next(stream, None) for stream in streams[1:]]
    for lead in streams[0]:
        code, rows = lead[keys[0]], [(tables[0], lead)]
        for position, stream in enumerate(streams[1:]):
            while heads[position] is not None and heads[position][keys[position + 1]] == code:
                rows.append((tables[position + 1], heads[position]))
                heads[position] = next(stream, None)
        yield [(table, dict(zip(table.columns, row, strict=True))) for table, row in rows]
    left = [tables[position + 1].name for position, head in enumerate(heads) if head is not None]
    if left:
        raise ValueError(f"rows of a subject missing from {tables[0].name}: {', '.join(left)}")


def _value(value) -> str | None:
    """A value as ODM text (booleans 1/0, ISO 8601 dates, plain decimals); None when empty."""
    if value is None or value == "":
        return None
    return str(cell(value))


def _group(form_data, values: dict, form: str, key: int, design: Design, items: list[Item]) -> None:
    repeat_key = str(key) if form in design.repeating else None
    group = sub(form_data, "ItemGroupData", ItemGroupOID=oid("IG", form.upper()), ItemGroupRepeatKey=repeat_key)
    for item in items:
        value = _value(values[item.variable])
        if value is None:
            continue
        data = sub(group, "ItemData", ItemOID=item.oid, Value=value)
        unit = values.get(design.unit_columns.get((form, item.variable)))
        if unit:
            sub(data, "MeasurementUnitRef", MeasurementUnitOID=oid("MU", unit))


def subject_element(rows: list[tuple[Table, dict]], design: Design, items, counts: dict) -> etree._Element:
    """One ``SubjectData``: its site, then an event per visit with data (subject-level first), forms in order."""
    lead = rows[0][1]
    subject = etree.Element(tag("SubjectData"), SubjectKey=str(lead[SUBJECT]), nsmap={None: NS})
    if lead.get(SITE):
        sub(subject, "SiteRef", LocationOID=oid("LOC", lead[SITE]))
    events = defaultdict(lambda: defaultdict(list))
    for table, values in rows:
        events[values.get(VISIT) or SUBJECT_EVENT][table.name].append(values)
    order = {event.code: position for position, event in enumerate(design.events)}
    for event in sorted(events, key=lambda code: order.get(code, len(order))):
        event_data = sub(subject, "StudyEventData", StudyEventOID=oid("SE", event))
        for form, form_rows in events[event].items():
            form_data = sub(event_data, "FormData", FormOID=oid("F", form.upper()))
            for key, values in enumerate(form_rows, start=1):
                _group(form_data, values, form, key, design, items[form])
            counts[form] += len(form_rows)
    return subject


class _Hashing:
    """The file written to, hashed on the way."""

    def __init__(self, target):
        self.target, self.sha256 = target, hashlib.sha256()

    def write(self, data):
        self.sha256.update(data)
        return self.target.write(data)


FILE = "odm.xml"


def write_odm(target, *, design: Design, tables: Iterable[Table], codebook: Table, header: dict) -> dict:
    """Write the ODM document to ``target`` (a binary file) and return its manifest.

    The manifest is ``header`` with ``files``: the XML with its rows (item groups), SHA-256 and rows per form.
    """
    items = items_by_form(codebook.rows, design)
    tables = list(tables)
    counts = {table.name: 0 for table in tables}
    hashing = _Hashing(target)
    root = {
        "FileType": "Snapshot",
        "FileOID": oid("ODM", design.study, header["exported_at"]),
        "CreationDateTime": header["exported_at"],
        "ODMVersion": "1.3.2",
        "Granularity": "All",
    }
    clinical = {"StudyOID": design.study, "MetaDataVersionOID": oid("MDV", design.version)}
    with etree.xmlfile(hashing, encoding="utf-8") as xml:
        xml.write_declaration()
        with xml.element(tag("ODM"), root, nsmap={None: NS}):
            xml.write(study_element(design, items))
            xml.write(admin_element(design))
            with xml.element(tag("ClinicalData"), clinical):
                for rows in _by_subject(tables):
                    xml.write(subject_element(rows, design, items, counts))
    entry = {"rows": sum(counts.values()), "sha256": hashing.sha256.hexdigest(), "forms": counts}
    return {**header, "files": {FILE: entry}}
