"""The ``xlsx`` export: one workbook, a sheet per form and a ``codebook`` sheet. Pure, streamed.

xlsxwriter's ``constant_memory`` mode writes each row to the sheet's file as it comes, so memory does not grow
with the study. Each sheet opens with a bold, frozen header row. Cells keep their type: numbers as numbers,
booleans as 1/0, dates and datetimes as real Excel dates (datetimes in UTC, Excel having no time zones, and to
the millisecond, Excel's precision), and
every text through ``write_string``, so a term such as ``=HYPERLINK(...)`` is stored as the text it is and never
becomes a formula (no quote is added, unlike the CSV cell guard: a string cell cannot run).

A sheet holds at most ``MAX_ROWS`` data rows (Excel's limit less the header); a longer form continues on
``name_2``, ``name_3``... with the same header, rather than losing rows.

The manifest (the return value; the workbook is the export file, so there is no manifest inside it) lists each
form and the codebook under its sheet name with ``rows`` and ``sha256``, and ``sheets`` (the sheet names it
fills). The ``sha256`` is not of bytes inside the workbook (a sheet is XML in a zip, not a file of its own): it is
the SHA-256 of the sheet's CSV equivalent, the very bytes the ``csv`` bundle writes for the same table, so a sheet
can be checked against a csv export of the same data. The whole workbook's SHA-256 is in the export log.
"""

import hashlib
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import xlsxwriter

from exports.csv_bundle import RowWriter, Table

MAX_ROWS = 1_048_576 - 1  # Excel's rows per sheet, less the header row
MAX_SHEET_NAME = 31
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


class WorkbookLimit(ValueError):
    """A value Excel cannot hold as it is (xlsxwriter would truncate or drop it)."""


class _CsvDigest:
    """The SHA-256 of a table as the csv bundle writes it (same cell rules, same CSV dialect, UTF-8)."""

    def __init__(self):
        self.sha256, self._buffer = hashlib.sha256(), io.StringIO()
        self._writer = RowWriter(self._buffer)

    def add(self, row: Sequence):
        self._writer.writerow(row)
        self.sha256.update(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()


class _Formats:
    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        self.datetime = workbook.add_format({"num_format": DATETIME_FORMAT})


def _write_cell(sheet, row: int, col: int, value, formats: _Formats) -> int:
    """Write one value by its type; returns xlsxwriter's status (negative: not written as given)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return sheet.write_number(row, col, int(value))
    if isinstance(value, int | float | Decimal):
        return sheet.write_number(row, col, float(value))
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        return sheet.write_datetime(row, col, naive, formats.datetime)
    if isinstance(value, date):
        return sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), formats.date)
    return sheet.write_string(row, col, str(value))  # never write(): it would turn "=..." into a formula


def _new_sheet(workbook, name: str, columns: Sequence[str], formats: _Formats):
    sheet = workbook.add_worksheet(name)
    for col, column in enumerate(columns):
        sheet.set_column(col, col, max(len(column) + 2, 10))
        sheet.write_string(0, col, column, formats.header)
    sheet.freeze_panes(1, 0)
    return sheet


def _sheet_name(name: str, part: int) -> str:
    suffix = f"_{part}" if part > 1 else ""
    return name[: MAX_SHEET_NAME - len(suffix)] + suffix


def _write_table(workbook, table: Table, formats: _Formats) -> dict:
    digest = _CsvDigest()
    digest.add(table.columns)
    sheets = [_sheet_name(table.name, 1)]
    sheet, count, row_in_sheet = _new_sheet(workbook, sheets[0], table.columns, formats), 0, 0
    for row in table.rows:
        if row_in_sheet == MAX_ROWS:
            sheets.append(_sheet_name(table.name, len(sheets) + 1))
            sheet, row_in_sheet = _new_sheet(workbook, sheets[-1], table.columns, formats), 0
        row_in_sheet += 1
        for col, value in enumerate(row):
            if _write_cell(sheet, row_in_sheet, col, value, formats) < 0:
                raise WorkbookLimit(f"{table.name}: row {count + 1}, column {table.columns[col]} does not fit a cell")
        digest.add(row)
        count += 1
    return {"rows": count, "sha256": digest.sha256.hexdigest(), "sheets": sheets}


def _created(header: dict) -> datetime | None:
    """The export time (naive UTC) as the workbook's creation date, so the same export makes the same bytes."""
    stamp = header.get("exported_at")
    if not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def write_workbook(target, *, tables: Iterable[Table], codebook: Table, header: dict) -> dict:
    """Write the workbook to ``target`` (a path or a binary file) and return its manifest (module docstring)."""
    files = {}
    workbook = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False})
    try:
        properties = {"title": f"{header.get('study', '')} export".strip()}
        if (created := _created(header)) is not None:
            properties["created"] = created
        workbook.set_properties(properties)
        formats = _Formats(workbook)
        for table in tables:
            files[table.name] = _write_table(workbook, table, formats)
        files[codebook.name] = _write_table(workbook, codebook, formats)
    finally:
        workbook.close()
    return {**header, "files": files}
