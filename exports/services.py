"""Writes of exports: the file, then its log row, so every export on disk is accounted for.

A writer (``WRITERS``) takes the study, a binary file to write to and the manifest's header, writes the whole
export and returns its manifest: the header with ``files``, each file inside the export with its ``rows`` and
``sha256``. Writers read the forms through ``form_tables`` and ``codebook_table``.
"""

import hashlib
import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from analysis.datasets import study_data
from analysis.live import analysis_plan
from ecrf.models import Study
from ecrf.selectors.plans import latest_plan
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol
from exports import codebook, csv_bundle, stat_files, wide, xlsx
from exports.models import ExportLog
from exports.selectors import FORMS, form_rows

AVAILABLE_FORMATS = ("csv", "wide", "xlsx", "spss", "stata", "sas")
# The formats of issue 16 still to come: asked for, they are refused by name rather than as unknown.
PLANNED_FORMATS = ("odm", "adam")


class ExportUnavailable(ValueError):
    """The format asked for cannot be written (yet)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _header(study: Study, protocol, fmt: str, exported_at) -> dict:
    plan = latest_plan(study)
    return {
        "study": study.code,
        "protocol_version": protocol.version if protocol else None,
        "plan_version": plan.version if plan else None,
        "format": fmt,
        "exported_at": exported_at.isoformat(),
        "deidentified": False,
        "cut": None,
    }


def form_tables(study: Study) -> Iterator[csv_bundle.Table]:
    """One table per form (``exports.selectors.FORMS``), each streaming its rows; every writer reads these."""
    return (csv_bundle.Table(form.name, form.column_names, form_rows(form, study)) for form in FORMS)


def codebook_table(study: Study) -> csv_bundle.Table:
    """The codebook of ``form_tables``: one row per column of every form (``exports.codebook.COLUMNS``)."""
    return csv_bundle.Table("codebook", codebook.COLUMNS, codebook.codebook_rows(study, latest_protocol(study)))


def _write_csv_bundle(study: Study, target, header: dict) -> dict:
    return csv_bundle.write_bundle(target, tables=form_tables(study), codebook=codebook_table(study), header=header)


def _write_wide(study: Study, target, header: dict) -> dict:
    """The statistician's first file (exports/wide.py): one row per allocated subject, with its codebook."""
    protocol = latest_protocol(study)
    data, plan = study_data(study), analysis_plan(study)
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


WRITERS = {
    "csv": _write_csv_bundle,
    "wide": _write_wide,
    "xlsx": _write_xlsx,
    **{kind: partial(_write_stat_files, kind=kind) for kind in stat_files.KINDS},
}


def export_study(study: Study, fmt: str, path, by=None) -> ExportLog:
    """Write ``study``'s export in format ``fmt`` to ``path`` and log it; returns the log row.

    The file is written beside ``path`` and moved into place whole, so a failed export leaves no partial file;
    the log row is written once the file is there.
    """
    if fmt not in AVAILABLE_FORMATS:
        raise ExportUnavailable(f"not yet available: {fmt}" if fmt in PLANNED_FORMATS else f"unknown format: {fmt}")
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    exported_at = timezone.now()
    header = _header(study, latest_protocol(study), fmt, exported_at)
    try:
        with open(partial, "wb") as handle:
            manifest = WRITERS[fmt](study, handle, header)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    rows = {name: entry["rows"] for name, entry in manifest["files"].items()}
    log = ExportLog(
        user=by,
        exported_at=exported_at,
        study=study,
        format=fmt,
        file_name=path.name,
        sha256=file_sha256(path),
        row_counts=rows,
    )
    with transaction.atomic():
        log.full_clean()
        log.save()
    return log
