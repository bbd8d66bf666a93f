"""Reading a ``csv`` bundle back for ``import_study``: its manifest checked, each file's rows parsed by type.

A bundle is refused whole, with every problem named by file, row and column, when it is not a zip of this
study's plain (not de-identified) csv export, when a file is missing, altered (its SHA-256 differs from the
manifest's) or has other columns than the export writes, or when a cell cannot be read as its column's
type (the model field the column was exported from). Values are then checked by the services, not here.
"""

import csv
import hashlib
import io
import json
import math
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone

from ecrf.csv_safe import formula_start
from ecrf.models import Study
from ecrf.services.import_rows import ImportRefused, Problem, Row
from exports.csv_bundle import MANIFEST
from exports.selectors import FORMS, Form


@dataclass(frozen=True)
class Bundle:
    """A bundle read: its manifest, each form's parsed rows, and each file's bytes as they came."""

    manifest: dict
    tables: dict[str, list[Row]]
    files: dict[str, bytes]
    sha256: str


def read_bundle(path, study: Study) -> Bundle:
    """The bundle at ``path`` for ``study``, or ImportRefused naming every problem found."""
    data = _read(path)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(archive.read(MANIFEST))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise ValueError("not a manifest")
    except (zipfile.BadZipFile, KeyError, ValueError, RuntimeError, NotImplementedError):  # encrypted, odd codec
        problem = Problem(str(path), 0, "", "Not a csv export of this system (no readable manifest).")
        raise ImportRefused([problem]) from None
    _check_manifest(manifest, study)
    tables, files, problems = {}, {}, []
    for form in FORMS:
        name = f"{form.name}.csv"
        files[name], file_problems = _entry(archive, name, manifest)
        problems += file_problems
        if not file_problems:
            tables[form.name], row_problems = _rows(form, name, files[name])
            problems += row_problems
    if problems:
        raise ImportRefused(problems)
    return Bundle(manifest, tables, files, hashlib.sha256(data).hexdigest())


def _read(path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise ImportRefused([Problem(str(path), 0, "", f"Cannot be read: {error.strerror}.")]) from None


def _check_manifest(manifest: dict, study: Study) -> None:
    expected = {"format": "csv", "study": study.code, "deidentified": False}
    refusals = {
        "format": "This is not a csv bundle: only the csv format is imported.",
        "study": f"This bundle is of study {manifest.get('study')}, not {study.code}.",
        "deidentified": "A de-identified export cannot be imported: its codes and dates are not the subjects'.",
    }
    problems = [
        Problem(MANIFEST, 0, key, refusals[key]) for key, value in expected.items() if manifest.get(key) != value
    ]
    if problems:
        raise ImportRefused(problems)


def _entry(archive: zipfile.ZipFile, name: str, manifest: dict) -> tuple[bytes, list[Problem]]:
    listed = manifest["files"].get(name)
    try:
        data = archive.read(name)
    except KeyError:
        return b"", [Problem(name, 0, "", "Missing from the bundle.")]
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError):
        return b"", [Problem(name, 0, "", "Damaged in the zip: it cannot be read.")]
    if not isinstance(listed, dict) or hashlib.sha256(data).hexdigest() != listed.get("sha256"):
        return data, [Problem(name, 0, "", "Its SHA-256 is not the manifest's: the file was altered or replaced.")]
    return data, []


def _rows(form: Form, name: str, data: bytes) -> tuple[list[Row], list[Problem]]:
    try:
        lines = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as error:
        return [], [Problem(name, 0, "", f"Not readable as UTF-8 CSV: {error}.")]
    if not lines or lines[0] != form.column_names:
        return [], [Problem(name, 1, "", f"The columns must be: {', '.join(form.column_names)}.")]
    parsers = [(column, _parser(form.model, lookup)) for column, lookup in form.columns]
    rows, problems = [], []
    for line, cells in enumerate(lines[1:], start=2):
        if len(cells) != len(parsers):
            problems.append(Problem(name, line, "", f"{len(cells)} cells; the header has {len(parsers)}."))
            continue
        values = {}
        for (column, parse), text in zip(parsers, cells, strict=True):
            try:
                values[column] = parse(text)
            except ValidationError as error:
                problems += [Problem(name, line, column, message) for message in error.messages]
        rows.append(Row(name, line, values))
    return rows, problems


def _field(model, lookup: str) -> tuple[models.Field, bool]:
    """The model field ``lookup`` (``draw__visit__definition__code``) ends on, and whether the value may be
    missing (the field, or a relation on the way to it, is nullable)."""
    *hops, last = lookup.split("__")
    nullable = False
    for hop in hops:
        relation = model._meta.get_field(hop)
        nullable, model = nullable or relation.null, relation.related_model
    try:
        field = model._meta.get_field(last)
    except FieldDoesNotExist:  # a declaration naming no field is a bug of exports.selectors, not of the file
        raise LookupError(f"{model.__name__} has no field {last}") from None
    return field, nullable or field.null


def _parser(model, lookup: str):
    """The function turning a cell of the column exported from ``lookup`` back into its value."""
    field, nullable = _field(model, lookup)
    is_text = isinstance(field, models.CharField | models.TextField)

    def parse(text: str):
        if text == "":
            if nullable:
                return None
            if is_text:
                return ""
            raise ValidationError("This cell needs a value.")
        if is_text:
            return text[1:] if text.startswith("'") and formula_start(text[1:]) else text  # the export's guard
        if isinstance(field, models.BooleanField):
            if text not in ("0", "1"):
                raise ValidationError(f"{text!r} is not 1 (yes) or 0 (no).")
            return text == "1"
        value = field.to_python(text)
        if isinstance(value, float | Decimal) and not math.isfinite(value):
            raise ValidationError(f"{text!r} is not a number.")
        if isinstance(value, datetime) and timezone.is_naive(value):
            raise ValidationError(f"{text!r} needs its offset from UTC, as exported (+00:00).")
        return value

    return parse
