"""Writes of exports: the file, then its log row, so every export on disk is accounted for."""

import hashlib
import os
from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils import timezone

from analysis.datasets import study_data
from analysis.live import analysis_plan
from ecrf.models import Study
from ecrf.selectors.plans import latest_plan
from ecrf.selectors.protocols import arms_and_endpoints, latest_protocol
from exports import codebook, csv_bundle, wide
from exports.models import ExportLog
from exports.selectors import FORMS, form_rows

AVAILABLE_FORMATS = ("csv", "wide")
# The formats of issue 16 still to come: asked for, they are refused by name rather than as unknown.
PLANNED_FORMATS = ("xlsx", "spss", "stata", "sas", "odm", "adam")


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


def _write_csv_bundle(study: Study, target, exported_at) -> dict:
    protocol = latest_protocol(study)
    header = _header(study, protocol, "csv", exported_at)
    tables = (csv_bundle.Table(form.name, form.column_names, form_rows(form, study)) for form in FORMS)
    book = csv_bundle.Table("codebook", codebook.COLUMNS, codebook.codebook_rows(study, protocol))
    return csv_bundle.write_bundle(target, tables=tables, codebook=book, header=header)


def _write_wide(study: Study, target, exported_at) -> dict:
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
        header=_header(study, protocol, "wide", exported_at),
    )


WRITERS = {"csv": _write_csv_bundle, "wide": _write_wide}


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
    try:
        with open(partial, "wb") as handle:
            manifest = WRITERS[fmt](study, handle, exported_at)
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
