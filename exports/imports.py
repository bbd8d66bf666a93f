"""``import_study``: a ``csv`` bundle loaded into a study through the services, then proven by exporting it again.

The bundle is read and checked (``exports.bundle``), every subject replayed through ``ecrf.services``
(``ecrf.services.study_import``), and then, still inside the transaction, the study is exported again: each
form's file must be byte-identical to the bundle's. A value the services would record otherwise than the file
says (a derived dose, a status, a schedule) is named by file, row and column, and the import is rolled back.
"""

import csv
import io
import zipfile

from django.db import transaction

from ecrf.models import Study
from ecrf.services.import_rows import ImportRefused, Problem
from ecrf.services.study_import import import_study
from exports import csv_bundle
from exports.bundle import read_bundle
from exports.sources import form_tables

SHOWN_DIFFERENCES = 50  # per file: past that, the file is plainly not what the records give


def import_bundle(study: Study, path, *, by) -> dict[str, int]:
    """Load the bundle at ``path`` into ``study`` (which holds no subject) as ``by``; returns the rows loaded
    per form, or raises ImportRefused with nothing written."""
    bundle = read_bundle(path, study)
    source = f"imported from csv bundle SHA-256 {bundle.sha256}"
    with transaction.atomic():
        loaded = import_study(study=study, tables=bundle.tables, by=by, source=source)
        problems = differences(study, bundle.files)
        if problems:
            raise ImportRefused(problems)
    return loaded


def differences(study: Study, files: dict[str, bytes]) -> list[Problem]:
    """Where the study exported now differs from ``files`` (name to bytes of each form's CSV), cell by cell."""
    problems = []
    for name, exported in _export_now(study).items():
        if exported != files[name]:
            problems += _cell_differences(name, files[name], exported)
    return problems


def _export_now(study: Study) -> dict[str, bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for table in form_tables(study):
            csv_bundle.write_csv(archive, table)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _cell_differences(name: str, given: bytes, exported: bytes) -> list[Problem]:
    given_rows = list(csv.reader(io.StringIO(given.decode("utf-8"), newline="")))
    exported_rows = list(csv.reader(io.StringIO(exported.decode("utf-8"), newline="")))
    header, problems = given_rows[0], []
    if len(given_rows) != len(exported_rows):
        count = f"{len(exported_rows) - 1} rows, the file {len(given_rows) - 1}"
        problems.append(Problem(name, 0, "", f"The records give {count}: a row is missing, extra or out of order."))
    for line, (file_row, stored_row) in enumerate(zip(given_rows, exported_rows, strict=False), start=1):
        for column, file_cell, stored_cell in zip(header, file_row, stored_row, strict=True):
            if file_cell != stored_cell:
                message = f"The records give {stored_cell!r} here, the file {file_cell!r}."
                problems.append(Problem(name, line, column, message))
    if len(problems) > SHOWN_DIFFERENCES:
        shown = f"The first {SHOWN_DIFFERENCES} of {len(problems)} differences of this file are listed."
        return [*problems[:SHOWN_DIFFERENCES], Problem(name, 0, "", shown)]
    return problems
