"""CSV cells a spreadsheet will not run as formulas (CSV injection); pure, so every export can reuse it.

OWASP's advice: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
single quote, which spreadsheets show as text. https://owasp.org/www-community/attacks/CSV_Injection
"""

import csv
from numbers import Number

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_start(text: str) -> str | None:
    """The character a spreadsheet would read as the start of a formula, or None when the text is inert."""
    return text[0] if text.startswith(FORMULA_STARTS) else None


def safe_cell(value):
    """The value as a CSV cell no spreadsheet runs: numbers and None stay as they are, text is neutralised."""
    if value is None or isinstance(value, Number):
        return value  # a real -1.5 is a number, not a formula
    text = str(value)  # what csv.writer would write for any other object
    return "'" + text if formula_start(text) else text


class SafeWriter:
    """A csv.writer whose every cell goes through safe_cell."""

    def __init__(self, fileobj, **fmtparams):
        self._writer = csv.writer(fileobj, **fmtparams)

    def writerow(self, row):
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(fileobj, **fmtparams) -> SafeWriter:
    """Like csv.writer(fileobj, ...), with every cell neutralised; the one way the app writes CSV."""
    return SafeWriter(fileobj, **fmtparams)
