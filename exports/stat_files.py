"""The ``spss``, ``stata`` and ``sas`` exports: a zip of one ``.sav``, ``.dta`` or ``.xpt`` per form. Pure.

pyreadstat writes from a DataFrame, so each form is read into one (its rows, typed by the codebook) and written
to a temporary file that is then copied into the zip: memory grows with the largest form, not with the study,
unlike the csv and xlsx exports, which stream every row.

Every variable carries its codebook ``label``; every column whose ``allowed_values`` are ``code=label`` pairs
(choices, booleans, protocol codes) carries value labels. Integer codes stay integers; text codes stay text in
SPSS (which labels strings) and become 1..n in the codebook's order in Stata and SAS (which do not), codes the
codebook does not list following in sorted order, labelled by themselves. XPT has no value labels, so every
bundle also holds ``value_labels.csv`` (form, variable, code as stored in the file, label, and the code as the
csv export and the codebook give it).

SAS transport (XPT version 5) allows names of 8 characters and labels of 40: variables and datasets get short,
unique upper-case names (the name cut to 8, a counter replacing its end on a clash), listed in ``name_map.csv``
(form, export_name, column; an empty column names the form's dataset). Stata labels are cut at 80 characters,
SPSS value labels at 120 (by readstat); the full labels are in ``codebook.csv``. Dates stay dates, datetimes
datetimes (in UTC: none of these formats has time zones).

Zip entries carry csv_bundle's fixed timestamp, and the creation time readstat stamps into each file is set to
the export's time, so the same data exported at the same time make the same bytes. ``manifest.json`` lists every
file of the zip with its rows and SHA-256.
"""

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyreadstat

from exports.csv_bundle import MANIFEST, Table, open_entry, write_csv, write_entry
from exports.stat_stamps import stamp_header

VALUE_SEPARATOR = " | "
VALUE_LABEL_COLUMNS = ["form", "variable", "code", "label", "csv_code"]  # code: as in the file; csv_code: as in csv


@dataclass(frozen=True)
class Kind:
    """One statistics package's file: how it is written and what its format allows."""

    extension: str
    write: Callable
    name_limit: int
    label_limit: int
    text_codes: bool  # value labels on text codes (SPSS) rather than integer codes
    date_format: str  # given to a date column without any date, which pyreadstat would otherwise write as text
    upper_names: bool = False
    datasets: bool = False  # the file names its dataset (XPT)


def _write_xport(frame, path, *, file_label, column_labels, table_name, value_labels, formats):
    pyreadstat.write_xport(
        frame,
        path,
        file_label=file_label,
        column_labels=column_labels,
        table_name=table_name,
        file_format_version=5,
        variable_format=formats,
    )


def _labelled(write: Callable) -> Callable:
    """SPSS's and Stata's writer: ``write`` (pyreadstat's) with value labels; they name no dataset inside."""

    def writer(frame, path, *, file_label, column_labels, table_name, value_labels, formats):
        write(
            frame,
            path,
            file_label=file_label,
            column_labels=column_labels,
            variable_value_labels=value_labels,
            variable_format=formats,
        )

    return writer


KINDS = {
    "spss": Kind(
        "sav", _labelled(pyreadstat.write_sav), name_limit=64, label_limit=256, text_codes=True, date_format="DATE11"
    ),
    "stata": Kind(
        "dta", _labelled(pyreadstat.write_dta), name_limit=32, label_limit=80, text_codes=False, date_format="%td"
    ),
    "sas": Kind(
        "xpt",
        _write_xport,
        name_limit=8,
        label_limit=40,
        text_codes=False,
        date_format="DATE9",
        upper_names=True,
        datasets=True,
    ),
}


def short_names(names: Iterable[str], limit: int, upper: bool = False) -> dict[str, str]:
    """Each name as a unique name of at most ``limit`` letters, digits and underscores, in the order given."""
    chosen, used = {}, set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9_]", "_", name.upper() if upper else name) or "V"
        base = f"_{base}" if base[0].isdigit() else base
        candidate, counter = base[:limit], 1
        while candidate.upper() in used:
            candidate, counter = base[: limit - len(str(counter))] + str(counter), counter + 1
        chosen[name] = candidate
        used.add(candidate.upper())
    return chosen


def allowed_pairs(allowed: str) -> list[tuple[str, str]]:
    """``"code=label | code=label"`` as pairs; empty unless every value has a label."""
    items = [item for item in allowed.split(VALUE_SEPARATOR) if item] if allowed else []
    if not items or not all("=" in item for item in items):
        return []
    return [tuple(item.split("=", 1)) for item in items]


@dataclass(frozen=True)
class Variable:
    """A column of a form as the codebook describes it."""

    name: str
    label: str
    type: str
    pairs: list[tuple[str, str]]


def variables(codebook: Table) -> dict[str, dict[str, Variable]]:
    """The codebook's rows by form and column."""
    index = {name: codebook.columns.index(name) for name in ("variable", "label", "type", "allowed_values", "form")}
    found: dict[str, dict[str, Variable]] = {}
    for row in codebook.rows:
        name, form = row[index["variable"]], row[index["form"]]
        kind, allowed = row[index["type"]], row[index["allowed_values"]]
        found.setdefault(form, {})[name] = Variable(name, row[index["label"]], kind, allowed_pairs(allowed))
    return found


def _number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | bool) else value


def _coded(values: list, variable: Variable, text_codes: bool) -> tuple[pd.Series, dict, list]:
    """A labelled column, its value labels for the file and its (code as stored, label, csv code) rows."""
    if all(re.fullmatch(r"-?\d+", code) for code, _ in variable.pairs):
        labels = {int(code): label for code, label in variable.pairs}
        pairs = [(int(code), label, code) for code, label in variable.pairs]
        return pd.to_numeric(pd.Series([_number(v) for v in values], dtype=object)), labels, pairs
    texts = [None if value is None else str(value) for value in values]
    if text_codes:
        return pd.Series(texts, dtype=object), dict(variable.pairs), [(c, label, c) for c, label in variable.pairs]
    listed = dict(variable.pairs)
    extra = sorted({text for text in texts if text is not None and text not in listed})
    pairs = list(variable.pairs) + [(code, code) for code in extra]
    numbers = {code: number for number, (code, _) in enumerate(pairs, start=1)}
    labels = {numbers[code]: label for code, label in pairs}
    series = pd.Series([None if text is None else numbers[text] for text in texts], dtype="float64")
    return series, labels, [(numbers[code], label, code) for code, label in pairs]


def _without_dates(variable: Variable | None, series: pd.Series) -> bool:
    return variable is not None and variable.type.startswith("date (") and bool(series.isna().all())


def _column(values: list, variable: Variable, text_codes: bool) -> tuple[pd.Series, dict | None, list]:
    if variable.pairs:
        return _coded(values, variable, text_codes)
    if variable.type.startswith("datetime"):
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True).dt.tz_localize(None), None, []
    if variable.type.startswith("date"):
        if all(value is None for value in values):  # no date to tell pyreadstat the type: a number, date-formatted
            return pd.Series([float("nan")] * len(values), dtype="float64"), None, []
        return pd.Series(values, dtype=object), None, []
    if variable.type in ("number", "integer") or variable.type.startswith("boolean"):
        return pd.to_numeric(pd.Series([_number(v) for v in values], dtype=object)), None, []
    return pd.Series([None if value is None else str(value) for value in values], dtype=object), None, []


def form_frame(table: Table, described: dict[str, Variable], kind: Kind):
    """The form as a typed DataFrame, its value labels by column and its value_labels.csv rows."""
    rows = list(table.rows)
    frame, value_labels, listed = {}, {}, []
    for position, column in enumerate(table.columns):
        variable = described.get(column, Variable(column, "", "text", []))
        series, labels, pairs = _column([row[position] for row in rows], variable, kind.text_codes)
        frame[column] = series
        if labels:
            value_labels[column] = labels
        listed += [[table.name, column, *pair] for pair in pairs]
    return pd.DataFrame(frame, columns=list(table.columns)), value_labels, listed


def _export_time(header: dict) -> datetime:
    stamp = header.get("exported_at")
    moment = datetime.fromisoformat(stamp) if stamp else datetime(1980, 1, 1, tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _copy_into(archive: zipfile.ZipFile, name: str, path: Path, extension: str, moment: datetime) -> str:
    """Copy the file into the zip with its creation time set to ``moment``; returns its SHA-256."""
    digest = hashlib.sha256()
    with open(path, "rb") as source, open_entry(archive, name) as target:
        blocks = iter(lambda: source.read(1 << 20), b"")
        for number, block in enumerate(blocks):
            block = stamp_header(block, extension, moment) if number == 0 else block
            digest.update(block)
            target.write(block)
    return digest.hexdigest()


def _write_form(archive, table: Table, described, kind: Kind, names: dict, dataset: str | None, moment, work: Path):
    frame, value_labels, listed = form_frame(table, described, kind)
    labels = {names[c]: (described[c].label[: kind.label_limit] if c in described else None) for c in table.columns}
    path = work / f"{table.name}.{kind.extension}"
    kind.write(
        frame.rename(columns=names),
        path,
        file_label=table.name[: kind.label_limit],
        column_labels=labels,
        table_name=dataset,
        value_labels={names[c]: labels_of for c, labels_of in value_labels.items()},
        formats={names[c]: kind.date_format for c in table.columns if _without_dates(described.get(c), frame[c])},
    )
    sha256 = _copy_into(archive, path.name, path, kind.extension, moment)
    path.unlink()
    return {"rows": len(frame), "sha256": sha256}, listed


def _csv(archive, name: str, columns: list[str], rows: list) -> dict:
    return write_csv(archive, Table(name, columns, rows))


def write_stat_bundle(target, *, kind: str, tables: Iterable[Table], codebook: Table, header: dict) -> dict:
    """Write the zip for ``kind`` (``KINDS``: spss, stata, sas) to ``target`` and return its manifest."""
    spec = KINDS[kind]
    codebook = Table(codebook.name, list(codebook.columns), [list(row) for row in codebook.rows])
    described, moment = variables(codebook), _export_time(header)
    files, value_rows, name_rows, datasets = {}, [], [], {}
    work = Path(tempfile.mkdtemp(prefix="stat-export-"))
    try:
        with zipfile.ZipFile(target, "w") as archive:
            for table in tables:
                names = short_names(table.columns, spec.name_limit, spec.upper_names)
                dataset = None
                if spec.datasets:
                    # the names so far come out the same, so earlier datasets keep theirs
                    datasets.update(short_names([*datasets, table.name], spec.name_limit, upper=True))
                    dataset = datasets[table.name]
                    name_rows.append([table.name, dataset, ""])
                name_rows += [[table.name, short, column] for column, short in names.items()]
                entry, listed = _write_form(
                    archive, table, described.get(table.name, {}), spec, names, dataset, moment, work
                )
                files[f"{table.name}.{spec.extension}"] = entry
                value_rows += listed
            files["codebook.csv"] = write_csv(archive, codebook)
            files["value_labels.csv"] = _csv(archive, "value_labels", VALUE_LABEL_COLUMNS, value_rows)
            files["name_map.csv"] = _csv(archive, "name_map", ["form", "export_name", "column"], name_rows)
            manifest = {**header, "files": files}
            text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
            write_entry(archive, MANIFEST, text.encode("utf-8"), 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest
