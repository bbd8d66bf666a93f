"""Writes of exports: the file, then its log row, so every export on disk is accounted for.

A writer (``WRITERS``) takes the study, a binary file to write to and the manifest's header, writes the whole
export and returns its manifest: the header with ``files``, each file inside the export with its ``rows`` and
``sha256``. Writers read the forms through ``form_tables`` and ``codebook_table``.
"""

import os
from functools import partial
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.frozen import file_sha256
from analysis.live import analysis_plan
from analysis.models import DataCut
from ecrf.models import Study
from ecrf.selectors.organisation import sites_of_study
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol, treated_arm_codes
from exports import adam, adtte, codebook, csv_bundle, cuts, odm, odm_metadata, sources, stat_files, wide, xlsx
from exports import deidentify as deidentification
from exports.models import ExportLog
from exports.pseudonyms import pseudonyms
from exports.selectors import FORMS, Form, visit_schedule
from exports.sources import analysis_data, codebook_table, form_tables, manifest_header

AVAILABLE_FORMATS = ("csv", "wide", "xlsx", "spss", "stata", "sas", "odm", "adam")


FORMAT_LABELS = {
    "csv": "CSV bundle: one long file per form, codebook, manifest (zip)",
    "wide": "Wide: one row per subject for the statistician (zip)",
    "xlsx": "Excel workbook: a sheet per form and the codebook",
    "spss": "SPSS .sav per form, with labels (zip)",
    "stata": "Stata .dta per form, with value labels (zip)",
    "sas": "SAS transport .xpt (v5) per form, with a name map (zip)",
    "odm": "CDISC ODM 1.3.2 XML: metadata and clinical data",
    "adam": "CDISC ADaM ADSL and ADTTE, CSV and XPT (zip)",
}


class ExportUnavailable(ValueError):
    """The export asked for cannot be written (yet); ``field`` names the choice at fault."""

    def __init__(self, message: str, field: str = "format"):
        super().__init__(message)
        self.field = field


def check_available(fmt: str) -> None:
    """Refuse, naming the choice at fault, an export that cannot be written."""
    if fmt not in AVAILABLE_FORMATS:
        raise ExportUnavailable(f"unknown format: {fmt}")


def stored_file(relative: str, sha256: str):
    """The export file at ``relative`` under ``EXPORT_ROOT``, opened, if it is there and still has ``sha256``."""
    root = Path(settings.EXPORT_ROOT).resolve()
    path = (root / relative).resolve()
    if not relative or not path.is_relative_to(root) or not path.is_file() or file_sha256(path) != sha256:
        return None
    return open(path, "rb")


def _write_csv_bundle(study: Study, target, header: dict) -> dict:
    return csv_bundle.write_bundle(target, tables=form_tables(study), codebook=codebook_table(study), header=header)


def _write_wide(study: Study, target, header: dict) -> dict:
    """The statistician's first file (exports/wide.py): one row per allocated subject, with its codebook."""
    protocol = latest_protocol(study)
    data, plan = analysis_data(study), analysis_plan(study)
    endpoints = arms_and_endpoints(protocol)[1] if protocol else set()
    frame = wide.wide(data, plan, endpoints=endpoints)
    book = wide.codebook(data, plan, endpoints=endpoints)
    rows = (tuple(None if pd.isna(value) else value for value in row) for row in frame.itertuples(index=False))
    return csv_bundle.write_bundle(
        target,
        tables=[csv_bundle.Table("wide", list(frame.columns), rows)],
        codebook=csv_bundle.Table("codebook", list(book.columns), book.itertuples(index=False)),
        header=header,
    )


def _write_xlsx(study: Study, target, header: dict) -> dict:
    """A workbook with a sheet per form and the codebook (exports/xlsx.py)."""
    return xlsx.write_workbook(target, tables=form_tables(study), codebook=codebook_table(study), header=header)


def _write_stat_files(study: Study, target, header: dict, *, kind: str) -> dict:
    """A zip of one SPSS, Stata or SAS transport file per form (exports/stat_files.py)."""
    tables, book = form_tables(study), codebook_table(study)
    return stat_files.write_stat_bundle(target, kind=kind, tables=tables, codebook=book, header=header)


# Forms with at most one row per subject and event (their database constraints): no ItemGroupRepeatKey in ODM.
ONE_ROW_PER_EVENT = ("subjects", "allocations", "visits", "clinical_status")


def _visit_may_be_empty(form: Form) -> bool:
    """Whether a row of ``form`` can lack a visit (a nullable relation on the way to its visit code)."""
    model = form.model
    for hop in dict(form.columns)["visit_code"].split("__")[:-1]:
        relation = model._meta.get_field(hop)
        if relation.null:
            return True
        model = relation.related_model
    return False


def _odm_events(protocol) -> tuple[odm_metadata.Event, ...]:
    """The subject-level event (forms without a visit), then one event per visit of the protocol.

    A visit's event lists every form that can be recorded at a visit, mandatory where the visit asks for it.
    """
    at_visits = [form for form in FORMS if "visit_code" in form.column_names]
    subject_level = [form for form in FORMS if form not in at_visits or _visit_may_be_empty(form)]
    subject_forms = tuple((form.name, form is FORMS[0]) for form in subject_level)
    events = [odm_metadata.Event(odm_metadata.SUBJECT_EVENT, "Subject-level data", subject_forms, scheduled=False)]
    for code, label, asked in visit_schedule(protocol):
        forms = tuple((form.name, form.protocol_form is None or form.protocol_form in asked) for form in at_visits)
        events.append(odm_metadata.Event(code, label, forms))
    return tuple(events)


def _write_odm(study: Study, target, header: dict) -> dict:
    """CDISC ODM 1.3.2 (exports/odm.py): the protocol's metadata and every form's rows, in one XML document."""
    protocol = latest_protocol(study)
    if protocol is None:
        raise ExportUnavailable("odm: the study has no protocol loaded")
    book = codebook_table(study)
    design = odm_metadata.Design(
        study=study.code,
        title=study.title,
        protocol_name=study.registry_number or study.code,
        version=protocol.version,
        effective_date=protocol.effective_date.isoformat(),
        events=_odm_events(protocol),
        sites=tuple((site.code, site.name) for site in sites_of_study(study)),
        repeating=frozenset(form.name for form in FORMS if form.name not in ONE_ROW_PER_EVENT),
        unit_columns={(row[5], row[0]): "unit" for row in book.rows if row[3] == codebook.ROW_UNIT},
    )
    return odm.write_odm(target, design=design, tables=form_tables(study), codebook=book, header=header)


def _write_adam(study: Study, target, header: dict) -> dict:
    """CDISC ADaM ADSL and ADTTE (exports/adam.py, exports/adtte.py) as CSV and XPT, with codebook and manifest."""
    protocol = latest_protocol(study)
    data, plan = analysis_data(study), analysis_plan(study)
    endpoints = arms_and_endpoints(protocol)[1] if protocol else set()
    treated = treated_arm_codes(protocol) if protocol else set()
    subjects = adam.adsl(data, plan, study=study.code, treated_arms=treated)
    times = adtte.adtte(data, subjects, endpoints=endpoints, time_unit=plan.time_unit)
    return adam.write(target, [subjects, times], header=header)


WRITERS = {
    "csv": _write_csv_bundle,
    "wide": _write_wide,
    "xlsx": _write_xlsx,
    **{kind: partial(_write_stat_files, kind=kind) for kind in stat_files.KINDS},
    "odm": _write_odm,
    "adam": _write_adam,
}


def _frozen(cut: DataCut) -> sources.Frozen:
    return sources.Frozen(lambda: cuts.cut_tables(cut), lambda: cuts.cut_codebook(cut), lambda: cuts.frozen_data(cut))


def export_study(
    study: Study, fmt: str, path, by=None, progress=None, deidentify: bool = False, cut: DataCut | None = None
) -> ExportLog:
    """Write ``study``'s export in format ``fmt`` to ``path`` and log it; returns the log row.

    The file is written beside ``path`` and moved into place whole, so a failed export leaves no partial file;
    the log row is written once the file is there. ``progress(done, total)`` is called as each form starts.
    ``deidentify``: dates shifted, free text dropped, pseudonyms, ages top-coded (exports/deidentify.py).
    ``cut``: the data cut's frozen records and datasets instead of the live ones (exports/cuts.py).
    """
    check_available(fmt)
    if cut is not None and cut.study_id != study.pk:
        raise ExportUnavailable(f"cut {cut.number} is not a cut of {study.code}", field="cut")
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    exported_at = timezone.now()
    header = manifest_header(study, fmt, exported_at)
    if cut is not None:
        frozen_at = cut.declared_at.isoformat()
        header.update(cut=cut.number, cut_declared_at=frozen_at, protocol_version=cut.protocol_version)
    if deidentify:
        header.update(deidentified=True, deidentification=deidentification.SUMMARY)
    tokens = [
        (sources.progress, sources.progress.set(progress)),
        (sources.pseudonyms, sources.pseudonyms.set(pseudonyms(study) if deidentify else None)),
        (sources.cut, sources.cut.set(_frozen(cut) if cut is not None else None)),
    ]
    try:
        with open(partial, "wb") as handle:
            manifest = WRITERS[fmt](study, handle, header)
        os.replace(partial, path)
    finally:
        for variable, token in tokens:
            variable.reset(token)
        partial.unlink(missing_ok=True)
    rows = {name: entry["rows"] for name, entry in manifest["files"].items()}
    log = ExportLog(
        user=by,
        exported_at=exported_at,
        study=study,
        format=fmt,
        deidentified=deidentify,
        cut=cut.number if cut is not None else None,
        file_name=path.name,
        sha256=file_sha256(path),
        row_counts=rows,
    )
    with transaction.atomic():
        log.full_clean()
        log.save()
    return log
