"""The rows an import reads and the problems it finds in them, named by file, row and column."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Row:
    """One data row of a file: ``line`` is its line in the file (the header is line 1)."""

    file: str
    line: int
    values: dict


@dataclass(frozen=True, order=True)
class Problem:
    """Why a row cannot be loaded; ``column`` is empty for a problem of the whole row, ``line`` 0 for the file."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self):
        where = f"{self.file}, row {self.line}" if self.line else self.file
        return f"{where}{f', column {self.column}' if self.column else ''}: {self.message}"


class ImportRefused(Exception):
    """The import was refused; nothing was written. ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s); first: {self.problems[0] if self.problems else ''}")


class RowRefused(Exception):
    """A service refused a row: raised by the replay to stop the subject, carrying the problems found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems


def problems_of(
    error: ValidationError, row: Row, *, columns: dict[str, str] | None = None, rows: dict[str, Row] | None = None
):
    """The service's refusal as problems on ``row``: each field it names as that column (``columns`` maps a
    service's field name to the file's column where they differ); ``rows`` sends a keyed message (an analyte,
    a criterion) to the row it is about."""
    columns, rows = columns or {}, rows or {}
    messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    problems = []
    for key, texts in messages.items():
        target, column = rows.get(key, row), columns.get(key, key)
        if key in rows:
            column = columns.get("", "")
        elif column not in row.values:
            texts, column = [f"{key}: {text}" if key not in ("", "__all__") else text for text in texts], ""
        problems += [Problem(target.file, target.line, column, text) for text in texts]
    return problems
