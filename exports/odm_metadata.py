"""The metadata of the ``odm`` export (exports/odm.py): ``Study`` and ``AdminData`` of a CDISC ODM 1.3.2 document.

Pure: built from the codebook rows and the ``Design`` the service reads from the protocol, so they grow with the
columns, never with the rows. One ``FormDef`` and one ``ItemGroupDef`` per export form; one ``ItemDef`` per column
but the subject and site codes (the ``SubjectKey`` and ``SiteRef``), typed from the codebook, its label as the
question, its unit and a ``CodeList`` where the codebook lists ``code=label`` values. OIDs are made of the study's
codes ("IT.LAB_VALUES.VALUE", "SE.W0", "MU.umol/L"), so the same protocol gives the same OIDs.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SUBJECT_EVENT = "SUBJECT"  # the event of the rows without a visit
SUBJECT, SITE, VISIT = "subject_code", "site_code", "visit_code"
KEYS = (SUBJECT, SITE)  # carried by SubjectData, not as items
SEPARATOR = " | "  # exports.codebook.VALUE_SEPARATOR
CODEBOOK = ("variable", "label", "type", "unit", "allowed_values", "form", "visit", "description")


@dataclass(frozen=True)
class Event:
    """A ``StudyEventDef``: ``code`` ("W0", or ``SUBJECT_EVENT``), and its forms as (form name, mandatory)."""

    code: str
    name: str
    forms: tuple[tuple[str, bool], ...]
    scheduled: bool = True


@dataclass(frozen=True)
class Design:
    """What the codebook does not say: the study's names, its events, sites and how rows repeat."""

    study: str
    title: str
    protocol_name: str
    version: str
    effective_date: str
    events: tuple[Event, ...]
    sites: tuple[tuple[str, str], ...] = ()
    repeating: frozenset[str] = frozenset()  # forms with more than one row per subject and event
    unit_columns: dict = field(default_factory=dict)  # (form, column) -> the column holding the row's unit


def oid(*parts: str) -> str:
    return ".".join(parts)


def tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def sub(parent, name: str, text: str | None = None, **attributes) -> etree._Element:
    element = etree.SubElement(parent, tag(name), {k: v for k, v in attributes.items() if v is not None})
    if text is not None:
        element.text = text
    return element


def _translated(parent, name: str, text: str) -> None:
    sub(sub(parent, name), "TranslatedText", text, **{XML_LANG: "en"})


def _label(form: str) -> str:
    return form.replace("_", " ").capitalize()


def _pairs(allowed: str) -> list[tuple[str, str]] | None:
    """``code=label | code=label`` as pairs; None unless every value has its label."""
    values = [value for value in allowed.split(SEPARATOR) if value]
    if not values or not all("=" in value for value in values):
        return None
    return [tuple(value.split("=", 1)) for value in values]


def _data_type(kind: str, codes: list[tuple[str, str]] | None) -> str:
    if codes is not None:
        return "integer" if all(code.lstrip("-").isdigit() for code, _ in codes) else "text"
    for prefix, odm_type in (("datetime", "datetime"), ("date", "date"), ("boolean", "boolean")):
        if kind.startswith(prefix):
            return odm_type
    return {"integer": "integer", "number": "float", "float": "float"}.get(kind, "text")


@dataclass
class Item:
    form: str
    variable: str
    label: str
    data_type: str
    units: list[str]
    codes: list[tuple[str, str]] | None
    description: str

    @property
    def oid(self) -> str:
        return oid("IT", self.form.upper(), self.variable.upper())

    @property
    def code_list_oid(self) -> str:
        return oid("CL", self.form.upper(), self.variable.upper())


def items_by_form(codebook: Iterable[Sequence], design: Design) -> dict[str, list[Item]]:
    """The codebook's rows as items per form, in order; booleans are 1/0 without a code list."""
    rows = [dict(zip(CODEBOOK, row, strict=True)) for row in codebook]
    allowed = {(row["form"], row["variable"]): row["allowed_values"] for row in rows}
    items = defaultdict(list)
    for row in rows:
        if row["variable"] in KEYS:
            continue
        unit_column = design.unit_columns.get((row["form"], row["variable"]))
        if unit_column is not None:
            units = [unit for unit in allowed[(row["form"], unit_column)].split(SEPARATOR) if unit]
        else:
            units = [row["unit"]] if row["unit"] else []
        boolean = row["type"].startswith("boolean")
        codes = None if boolean else _pairs(row["allowed_values"])
        data_type = _data_type(row["type"], codes)
        items[row["form"]].append(
            Item(row["form"], row["variable"], row["label"], data_type, units, codes, row["description"])
        )
    return items


def _units(items: dict[str, list[Item]]) -> list[str]:
    return list(dict.fromkeys(unit for form in items.values() for item in form for unit in item.units))


def _global_and_units(study, design: Design, units: list[str]) -> None:
    variables = sub(study, "GlobalVariables")
    sub(variables, "StudyName", design.study)
    sub(variables, "StudyDescription", design.title)
    sub(variables, "ProtocolName", design.protocol_name)
    basics = sub(study, "BasicDefinitions")
    for unit in units:
        _translated(sub(basics, "MeasurementUnit", OID=oid("MU", unit), Name=unit), "Symbol", unit)


def _events(version, design: Design) -> None:
    protocol = sub(version, "Protocol")
    for order, event in enumerate(design.events, start=1):
        sub(protocol, "StudyEventRef", StudyEventOID=oid("SE", event.code), OrderNumber=str(order), Mandatory="No")
    for event in design.events:
        kind = "Scheduled" if event.scheduled else "Common"
        definition = sub(
            version, "StudyEventDef", OID=oid("SE", event.code), Name=event.name, Repeating="No", Type=kind
        )
        for order, (form, mandatory) in enumerate(event.forms, start=1):
            attributes = {"FormOID": oid("F", form.upper()), "OrderNumber": str(order)}
            sub(definition, "FormRef", **attributes, Mandatory="Yes" if mandatory else "No")


def _forms(version, design: Design, items: dict[str, list[Item]]) -> None:
    for form in items:
        definition = sub(version, "FormDef", OID=oid("F", form.upper()), Name=_label(form), Repeating="No")
        sub(definition, "ItemGroupRef", ItemGroupOID=oid("IG", form.upper()), Mandatory="Yes")
    for form, form_items in items.items():
        repeating = "Yes" if form in design.repeating else "No"
        group = sub(version, "ItemGroupDef", OID=oid("IG", form.upper()), Name=_label(form), Repeating=repeating)
        for order, item in enumerate(form_items, start=1):
            sub(group, "ItemRef", ItemOID=item.oid, OrderNumber=str(order), Mandatory="No")
    for form_items in items.values():
        for item in form_items:
            definition = sub(version, "ItemDef", OID=item.oid, Name=item.variable, DataType=item.data_type)
            if item.description:
                _translated(definition, "Description", item.description)
            _translated(definition, "Question", item.label)
            for unit in item.units:
                sub(definition, "MeasurementUnitRef", MeasurementUnitOID=oid("MU", unit))
            if item.codes is not None:
                sub(definition, "CodeListRef", CodeListOID=item.code_list_oid)
    for form_items in items.values():
        for item in (item for item in form_items if item.codes is not None):
            code_list = sub(version, "CodeList", OID=item.code_list_oid, Name=item.label, DataType=item.data_type)
            for code, label in item.codes:
                _translated(sub(code_list, "CodeListItem", CodedValue=code), "Decode", label)


def study_element(design: Design, items: dict[str, list[Item]]) -> etree._Element:
    """``Study``: global variables, units, and the metadata version of the protocol with every definition."""
    study = etree.Element(tag("Study"), OID=design.study, nsmap={None: NS})
    _global_and_units(study, design, _units(items))
    version = sub(study, "MetaDataVersion", OID=oid("MDV", design.version), Name=f"Protocol {design.version}")
    _events(version, design)
    _forms(version, design, items)
    return study


def admin_element(design: Design) -> etree._Element:
    """``AdminData``: a ``Location`` per site, which ``SiteRef`` points at."""
    admin = etree.Element(tag("AdminData"), StudyOID=design.study, nsmap={None: NS})
    for code, name in design.sites:
        location = sub(admin, "Location", OID=oid("LOC", code), Name=name or code, LocationType="Site")
        reference = {"StudyOID": design.study, "MetaDataVersionOID": oid("MDV", design.version)}
        sub(location, "MetaDataVersionRef", **reference, EffectiveDate=design.effective_date)
    return admin
