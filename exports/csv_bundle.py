"""The ``csv`` export: a zip of one long CSV per form, the codebook as CSV and HTML, and a manifest. Pure, streamed.

Rows go from their iterator through the CSV cell guard (``ecrf.csv_safe``) straight into the zip entry, so
memory does not grow with the study. Every entry is hashed as it is written; ``manifest.json`` lists each file
with its row count and SHA-256. Entries carry a fixed timestamp so that the same data make the same zip bytes
apart from the manifest's export time.
"""

import hashlib
import html
import io
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from ecrf import csv_safe

ENTRY_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: reproducible bytes
MANIFEST = "manifest.json"
LINE_END = "\n"  # as PostgreSQL's COPY ends a CSV line, so a table copied by the database has the same bytes


@dataclass(frozen=True)
class Table:
    """A file of the bundle: its name (without ``.csv``), its header and its rows (consumed once).

    ``copy``, when set, writes the same rows as CSV lines itself (each chunk of bytes to the callable it is given)
    and returns their number: the database's COPY (``exports.selectors.form_csv_copy``), read instead of ``rows``.
    """

    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence]
    copy: Callable[[Callable[[bytes], object]], int] | None = None


class _Positional(Decimal):
    """A decimal written without an exponent (``str(Decimal("1E-7"))`` is "1E-7"); still a number to the cell guard,
    which never mistakes "-1.5" for a formula."""

    def __str__(self):
        return format(self, "f")


def cell(value):
    """A value as written: booleans 1/0, dates ISO 8601, decimals without trailing zeros, finite floats to 15
    significant digits (as R's write.csv and PostgreSQL's float-to-numeric cast), both without an exponent and
    without a sign on zero; None empty."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value):
        value = Decimal(format(value, ".15g"))
    if isinstance(value, Decimal) and value.is_finite():
        return _Positional(value.normalize() + 0)
    return value


class _HashingWriter(io.RawIOBase):
    """Bytes written to the zip entry, hashed on the way."""

    def __init__(self, target):
        self.target, self.sha256 = target, hashlib.sha256()

    def writable(self):
        return True

    def write(self, data):
        self.sha256.update(data)
        return self.target.write(data)


class RowWriter:
    """Rows into ``text`` as every CSV of the bundle has them: each value by ``cell``, through the cell guard, lines
    ended by ``LINE_END``, and a cell holding a carriage return quoted as PostgreSQL's COPY quotes it (csv.writer
    quotes only the characters of its own line end, so it goes through one ending lines in CR LF)."""

    def __init__(self, text):
        self._text, self._writer = text, csv_safe.writer(text, lineterminator=LINE_END)
        self._line = io.StringIO()
        self._quoting_cr = csv_safe.writer(self._line, lineterminator="\r\n")

    def writerow(self, row: Sequence) -> None:
        cells = [cell(value) for value in row]
        if not any(isinstance(value, str) and "\r" in value for value in cells):
            self._writer.writerow(cells)
            return
        self._quoting_cr.writerow(cells)
        self._text.write(self._line.getvalue()[:-2] + LINE_END)
        self._line.seek(0)
        self._line.truncate()


def open_entry(archive: zipfile.ZipFile, name: str):
    """An entry of ``archive`` open for writing, deflated, with the fixed timestamp."""
    info = zipfile.ZipInfo(name, date_time=ENTRY_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return archive.open(info, "w", force_zip64=True)


def write_csv(archive: zipfile.ZipFile, table: Table) -> dict:
    """Write ``table`` as ``name.csv`` into ``archive``, streamed; returns its rows and SHA-256."""
    with open_entry(archive, f"{table.name}.csv") as raw:
        hashing = _HashingWriter(raw)
        text = io.TextIOWrapper(io.BufferedWriter(hashing, buffer_size=1 << 16), encoding="utf-8", newline="")
        writer = RowWriter(text)
        writer.writerow(table.columns)
        if table.copy is not None:
            text.flush()
            count = table.copy(text.buffer.write)
        else:
            count = 0
            for row in table.rows:
                writer.writerow(row)
                count += 1
        text.flush()
        text.detach().flush()
    return {"rows": count, "sha256": hashing.sha256.hexdigest()}


def codebook_html(columns: Sequence[str], rows: Sequence[Sequence]) -> str:
    """The codebook as a plain HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in columns)
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row) + "</tr>" for row in rows)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Codebook</title></head><body>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</body></html>\n"
    )


def write_entry(archive: zipfile.ZipFile, name: str, data: bytes, rows: int) -> dict:
    """Write ``data`` as entry ``name`` (fixed timestamp); returns ``rows`` and the SHA-256."""
    with open_entry(archive, name) as raw:
        raw.write(data)
    return {"rows": rows, "sha256": hashlib.sha256(data).hexdigest()}


def write_bundle(
    target, *, tables: Iterable[Table], codebook: Table, header: dict, binaries: Iterable[tuple[str, bytes, int]] = ()
) -> dict:
    """Write the bundle to ``target`` (a path or a binary file) and return its manifest.

    ``header`` (study, versions, export time...) opens the manifest; ``files`` follows, each file of the zip
    but the manifest itself with its rows and SHA-256. The codebook's rows are held (one per variable).
    ``binaries`` are further files (name, bytes, rows), such as SAS transport files, written after the tables.
    """
    files = {}
    with zipfile.ZipFile(target, "w") as archive:
        for table in tables:
            files[f"{table.name}.csv"] = write_csv(archive, table)
        for name, data, rows in binaries:
            files[name] = write_entry(archive, name, data, rows)
        codebook_rows = [list(row) for row in codebook.rows]
        files["codebook.csv"] = write_csv(archive, Table("codebook", codebook.columns, codebook_rows))
        page = codebook_html(codebook.columns, codebook_rows).encode("utf-8")
        files["codebook.html"] = write_entry(archive, "codebook.html", page, len(codebook_rows))
        manifest = {**header, "files": files}
        text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
        write_entry(archive, MANIFEST, text.encode("utf-8"), 0)
    return manifest
