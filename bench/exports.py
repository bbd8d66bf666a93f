"""The csv export against PostgreSQL ``COPY ... TO STDOUT`` of the same rows, measured in the same run.

    make bench   (or, against a study seeded by seed_scale: .venv/bin/python bench/exports.py --subjects N)

A fresh process times ``export_study(study, "csv", path)`` and reads its peak RSS (``ru_maxrss``: the whole
process, Django included), then times ``COPY (<the export's own SQL of every form>) TO STDOUT (FORMAT csv, HEADER)``
read through psycopg's ``cursor.copy()`` into nothing. The export runs first, so both read a warm cache. The
goal is half of COPY's throughput (the export within 2x COPY's time); bench/run.py compares the peak memory of
the two sizes (flat: the export streams). Prints one JSON line per goal.
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, setup_django  # noqa: E402

TIME_GOAL = 2.0


def measure_at(subjects: int) -> list[Result]:
    child = subprocess.run([sys.executable, __file__, "--measure"], check=True, stdout=subprocess.PIPE, text=True)
    run = json.loads(child.stdout.splitlines()[-1])
    ratio = run["export_s"] / run["copy_s"]
    figure = (
        f"{run['rows']} rows: export {run['export_s']:.2f} s vs COPY {run['copy_s']:.2f} s; "
        f"file {run['file_mb']:.1f} MB; peak RSS {run['peak_rss_mb']:.0f} MB"
    )
    return [
        Result("CSV export: at least half of COPY's throughput", subjects, figure, ratio, ratio <= TIME_GOAL),
        Result("CSV export: peak memory (MB)", subjects, f"{run['peak_rss_mb']:.0f}", run["peak_rss_mb"], True),
    ]


def measure() -> dict:
    """In a fresh process: the csv export's time, peak RSS and size, then COPY of the same rows."""
    from ecrf.models import Study
    from exports.selectors import FORMS
    from exports.services import export_study

    study = Study.objects.get(code="DLC")
    start_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "export.zip"
        start = time.perf_counter()
        log = export_study(study, "csv", path)
        export_seconds = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        file_bytes = path.stat().st_size
    forms = {f"{form.name}.csv" for form in FORMS}
    return {
        "rows": sum(rows for name, rows in log.row_counts.items() if name in forms),
        "export_s": export_seconds,
        "copy_s": copy_seconds(study),
        "file_mb": file_bytes / 2**20,
        "start_rss_mb": start_kb / 1024,
        "peak_rss_mb": peak_kb / 1024,
    }


def copy_seconds(study) -> float:
    """Seconds to COPY every form's export query TO STDOUT as CSV, read through psycopg into nothing."""
    from django.db import connection

    from exports.selectors import FORMS, form_queryset

    statements = []
    for form in FORMS:
        sql, params = form_queryset(form, study).query.sql_with_params()
        statements.append(f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT (FORMAT csv, HEADER)")
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for statement in statements:
            with cursor.cursor.copy(statement) as copy:
                for _ in copy:
                    pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=0, help="the study's size (for the report line)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the fresh process
    arguments = parser.parse_args()
    setup_django()
    if arguments.measure:
        print(json.dumps(measure()))
        return
    for result in measure_at(arguments.subjects):
        print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
