"""SAS transport (XPT) version 5 files of a dataset, through pyreadstat. Pure: a DataFrame in, bytes out.

Version 5 holds names of at most 8 characters and labels of at most 40, checked here before writing. The file's
header carries the time it was written; it is set to 1980-01-01 (as the zip entries of csv_bundle.py are) so the
same data give the same bytes.
"""

import tempfile
from pathlib import Path

import pandas as pd
import pyreadstat

MAX_NAME, MAX_LABEL = 8, 40
RECORD = 80
FIXED_TIME = b"01JAN80:00:00:00"
# (record, first byte) of each 16-byte timestamp: library header (created, modified), member header (same).
TIMESTAMPS = ((1, 64), (2, 0), (5, 64), (6, 0))


def xpt_bytes(frame: pd.DataFrame, *, name: str, label: str, labels: dict[str, str]) -> bytes:
    """``frame`` as an XPT v5 file of one dataset ``name`` labelled ``label``, each column labelled by ``labels``."""
    for text, limit, what in [(name, MAX_NAME, "dataset name"), (label, MAX_LABEL, "dataset label")]:
        _check(text, limit, what)
    for column in frame.columns:
        _check(column, MAX_NAME, "variable name")
        _check(labels[column], MAX_LABEL, f"label of {column}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name.lower()}.xpt"
        pyreadstat.write_xport(
            frame, path, file_label=label, column_labels=labels, table_name=name, file_format_version=5
        )
        data = bytearray(path.read_bytes())
    for record, start in TIMESTAMPS:
        at = record * RECORD + start
        data[at : at + len(FIXED_TIME)] = FIXED_TIME
    return bytes(data)


def _check(text: str, limit: int, what: str) -> None:
    if len(text) > limit:
        raise ValueError(f"XPT version 5: the {what} {text!r} is longer than {limit} characters")
