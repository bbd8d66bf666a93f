"""The rule every code typed or imported into the eCRF follows: it may not read as a spreadsheet formula.

Codes (subject codes, randomisation codes, arms, strata) end up in CSV files; free text (reasons, terms) stays
free and is neutralised on output by ecrf.csv_safe instead.
"""

from django.core.exceptions import ValidationError

from ecrf.csv_safe import formula_start

_NAMES = {"\t": "a tab", "\r": "a carriage return"}


def formula_problem(value: str) -> str | None:
    """Why the code is refused (it starts like a formula, or holds a control character), or None when acceptable."""
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        return "may not contain control characters (tabs, line breaks, NUL)"
    start = formula_start(value)
    if start is None:
        return None
    return f"may not start with {_NAMES.get(start, repr(start))}: spreadsheets would run it as a formula"


def check_code(value: str, *, field: str) -> None:
    """Raise a ValidationError on ``field`` when the code starts like a formula or holds a control character."""
    problem = formula_problem(value)
    if problem:
        raise ValidationError({field: f"A code {problem}."})
