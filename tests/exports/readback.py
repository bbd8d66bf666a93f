"""Compare a cell read back by an independent reader with the csv export's text of the same cell."""

import math
import zipfile
from datetime import date, datetime

import pandas as pd

from ecrf.csv_safe import formula_start

TIME_TOLERANCE = pd.Timedelta(milliseconds=1)  # Excel keeps datetimes to the millisecond, the csv to the microsecond


def csv_form(path, name: str) -> pd.DataFrame:
    """A file of the csv export as text, every cell as written."""
    with zipfile.ZipFile(path) as archive, archive.open(name) as handle:
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def unguarded(text: str) -> str:
    """The csv text without the quote the cell guard puts before a formula-like value."""
    return text[1:] if text.startswith("'") and formula_start(text[1:]) else text


def same_cell(text: str, value) -> bool:
    """Whether ``value`` (as a reader returns it) is what the csv export wrote as ``text``."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return text == ""
    if isinstance(value, datetime | date):
        expected = pd.Timestamp(text)
        expected = expected.tz_convert(None) if expected.tzinfo else expected
        return abs(expected - pd.Timestamp(value)) < TIME_TOLERANCE
    if isinstance(value, int | float):
        return text != "" and math.isclose(float(text), value)
    return unguarded(text) == str(value)


def differences(csv: pd.DataFrame, read: pd.DataFrame) -> list:
    """The (row, column, csv text, value read) that do not match; empty when the frames agree."""
    assert list(read.columns) == list(csv.columns)
    assert len(read) == len(csv)
    return [
        (row, column, csv.at[row, column], read.at[row, column])
        for row in range(len(csv))
        for column in csv.columns
        if not same_cell(csv.at[row, column], read.at[row, column])
    ]
