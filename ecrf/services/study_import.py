"""Loading a study's records kept elsewhere (``manage.py import_study``: a backup, another system's export) through
the services the forms use, so every rule of data entry applies to every imported row.

The rows come parsed, grouped by file (``exports.bundle`` reads a ``csv`` bundle). Each subject is replayed as
it would have been entered (``ecrf.services.subject_replay``); a refusal names the file, the row and the column,
every subject is tried so that all problems are reported at once, and nothing is kept unless every row passes.
"""

from collections import defaultdict

from django.db import transaction

from ecrf.models import Study
from ecrf.services import audit
from ecrf.services.import_rows import ImportRefused, Problem, Row, RowRefused
from ecrf.services.subject_replay import replay_subject


def by_subject(tables: dict[str, list[Row]]) -> tuple[dict[str, dict[str, list[Row]]], list[Problem]]:
    """Each subject's rows by file, in the files' order, and a problem for each row of a subject not in
    subjects.csv."""
    grouped, problems = defaultdict(lambda: defaultdict(list)), []
    registered = {row.values.get("subject_code") for row in tables.get("subjects", [])}
    for name, rows in tables.items():
        for row in rows:
            code = row.values.get("subject_code")
            if code not in registered:
                problems.append(Problem(row.file, row.line, "subject_code", f"{code} is not in subjects.csv."))
                continue
            grouped[code][name].append(row)
    return grouped, problems


def import_study(*, study: Study, tables: dict[str, list[Row]], by, source: str) -> dict[str, int]:
    """Replay every subject of ``tables`` into ``study`` (which holds no subject yet), as ``by``; every history
    row says it came from ``source``. Returns the rows loaded per file; raises ImportRefused, leaving nothing.
    """
    with transaction.atomic():
        if study.subjects.exists():
            problem = Problem("subjects.csv", 0, "", f"{study.code} already has subjects: import into an empty study.")
            raise ImportRefused([problem])
        grouped, problems = by_subject(tables)
        with audit.recorded_from(source):
            for rows in grouped.values():
                try:
                    with transaction.atomic():
                        replay_subject(study, rows, by=by)
                except RowRefused as refused:
                    problems += refused.problems
        if problems:
            raise ImportRefused(problems)
    return {name: len(rows) for name, rows in tables.items()}
