"""The codebook of an export: one row per column of every form's file, from the models' fields and the protocol.

A column's label, type and coded values come from the model field its lookup ends at (``verbose_name``,
``help_text``, ``choices``); a column holding a protocol code (visit, analyte, eligibility item, arm, panel,
release criterion, site) lists the codes the study's protocol defines, with their labels and units.
"""

from django.db import models

from ecrf.models import (
    Analyte,
    Arm,
    EligibilityCriterion,
    LabPanel,
    LabValue,
    ProtocolVersion,
    ReleaseCriterion,
    Site,
    Study,
    VisitDefinition,
)
from exports.selectors import FORMS, Form

COLUMNS = ["variable", "label", "type", "unit", "allowed_values", "form", "visit", "description"]
VALUE_SEPARATOR = " | "
ROW_UNIT = "the row's unit column"  # a value whose unit is the row's "unit" column (lab values)

# Labels of columns reached through a relation, where the far field's own name ("code") says too little.
LABELS = {
    "subject_code": "Subject code",
    "site_code": "Site code",
    "protocol_version": "Protocol version the subject was registered under",
    "visit_code": "Visit (protocol code)",
    "criterion_code": "Criterion (protocol code)",
    "criterion_kind": "Inclusion or exclusion criterion",
    "arm_code": "Arm (protocol code)",
    "panel_code": "Lab panel (protocol code)",
    "analyte_code": "Analyte (protocol code)",
    "unit": "Unit of the analyte's value",
    "infusion_number": "Infusion number",
    "signed_by": "Username of the signing investigator",
}

TYPES = {
    "CharField": "text",
    "TextField": "text",
    "DateField": "date (YYYY-MM-DD)",
    "DateTimeField": "datetime (ISO 8601, UTC)",
    "BooleanField": "boolean (1 = yes, 0 = no)",
    "DecimalField": "number",
    "FloatField": "number",
}

# Units of measured fields, from the unit their name ends with (STYLE.md: units in the name).
UNIT_SUFFIXES = (
    ("cells_per_kg", "cells/kg"),
    ("total_cells", "cells"),
    ("_kg", "kg"),
    ("_c", "°C"),
    ("_ml", "mL"),
    ("_hours", "h"),
    ("_years", "years"),
)


def resolve_field(model: type[models.Model], lookup: str) -> models.Field:
    """The model field a lookup such as ``draw__visit__definition__code`` ends at."""
    *hops, last = lookup.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(last)


ANALYTE_UNITS = "analyte units"  # a key beside the models: the units the protocol's analytes are measured in


def _protocol_codes(protocol: ProtocolVersion | None, study: Study) -> dict:
    """Each protocol-coded model's (code, label) pairs, in the protocol file's order."""
    if protocol is None:
        return {}
    return {
        VisitDefinition: [(v.code, v.label) for v in protocol.visit_definitions.order_by("order")],
        Analyte: [(a.code, f"{a.label} ({a.unit})") for a in protocol.analytes.order_by("order")],
        ANALYTE_UNITS: [(a.unit, a.unit) for a in protocol.analytes.order_by("order")],
        EligibilityCriterion: [
            (c.code, f"{c.get_kind_display()}: {c.text}") for c in protocol.eligibility_criteria.order_by("order")
        ],
        Arm: [(a.code, a.label) for a in protocol.arms.order_by("order")],
        LabPanel: [(p.code, p.label) for p in protocol.lab_panels.order_by("order")],
        ReleaseCriterion: [(c.code, str(c)) for c in protocol.release_criteria.order_by("order")],
        Site: [(s.code, s.name) for s in Site.objects.filter(study_sites__study=study).order_by("code")],
    }


def _allowed(field: models.Field, codes: dict) -> str:
    if field.get_internal_type() == "BooleanField":
        pairs = [("1", "Yes"), ("0", "No")]
    elif field.choices:
        pairs = [(str(value), str(label)) for value, label in field.flatchoices]
    elif field.name == "code" and field.model in codes:
        pairs = codes[field.model]
    elif field.model is Analyte and field.name == "unit":
        return VALUE_SEPARATOR.join(dict.fromkeys(unit for unit, _ in codes.get(ANALYTE_UNITS, [])))
    else:
        return ""
    return VALUE_SEPARATOR.join(f"{value}={label}" for value, label in pairs)


def _type(field: models.Field) -> str:
    kind = field.get_internal_type()
    if field.choices and kind != "BooleanField":
        return "categorical"
    return TYPES.get(kind, "integer" if "Integer" in kind else "text")


def _unit(column: str, field: models.Field) -> str:
    if field.model is LabValue and field.name == "value":
        return ROW_UNIT
    return next((unit for suffix, unit in UNIT_SUFFIXES if column.endswith(suffix)), "")


def _visits(form: Form, protocol: ProtocolVersion | None) -> str:
    if protocol is None or form.protocol_form == "":
        return ""
    definitions = protocol.visit_definitions.order_by("order")
    return VALUE_SEPARATOR.join(
        d.code for d in definitions if form.protocol_form is None or form.protocol_form in d.forms
    )


def codebook_rows(study: Study, protocol: ProtocolVersion | None) -> list[list[str]]:
    """One row per column of every form (``COLUMNS`` order), the protocol's codes listed where a column holds one."""
    codes = _protocol_codes(protocol, study)
    rows = []
    for form in FORMS:
        visits = _visits(form, protocol)
        for column, lookup in form.columns:
            field = resolve_field(form.model, lookup)
            label = LABELS.get(column) or str(field.verbose_name).capitalize()
            rows.append(
                [
                    column,
                    label,
                    _type(field),
                    _unit(column, field),
                    _allowed(field, codes),
                    form.name,
                    visits,
                    str(field.help_text),
                ]
            )
    return rows
