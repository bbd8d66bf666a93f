"""How the csv export scales with the study, as ratios to PostgreSQL COPY of the same rows (measured in the same run).

    scripts/with-postgres.sh env SECRET_KEY_FILE=var/secret_key .venv/bin/python bench/exports.py --sizes 1000 4000

Needs ``DATABASE_URL`` to a throwaway PostgreSQL (``scripts/with-postgres.sh`` sets it; the script writes to it).
Migrates the database, loads the DLC protocol, then grows one synthetic study with ``bulk_create`` to each size in
turn: subjects, every scheduled visit done, one lab draw per visit (its panel, or the baseline panel where it has
none) with a value per analyte, about ten per visit; no history rows. For each size a fresh subprocess times
``export_study(study, "csv", path)`` and reads its peak RSS (``ru_maxrss``: the peak of the whole process, Django
included), then times ``COPY (<the export's own SQL of every form>) TO STDOUT (FORMAT csv, HEADER)`` read through
psycopg's ``cursor.copy()`` into nothing. The export runs first, so both read a warm cache. Prints, per size, the
rows exported, both times and their ratio, the file size and the peak memory, with its ratio to the smallest
size: a memory ratio near 1 means memory does not grow with the rows; an export/COPY ratio that grows between two
commits is a slowdown, whatever the machine.
"""

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "ecrf" / "protocols" / "dlc_nct01220492.toml"
BATCH_SUBJECTS = 250
FIRST_SCREENING = dt.date(2020, 1, 6)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/exports.py needs PostgreSQL: run it through scripts/with-postgres.sh (see the docstring)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000], help="subjects per measurement")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the per-size subprocess
    arguments = parser.parse_args()
    setup_django()
    if arguments.measure:
        print(json.dumps(measure()))
        return
    study = prepare()
    results = []
    for size in sorted(set(arguments.sizes)):
        start = time.perf_counter()
        grow(study, size)
        print(f"built {size} subjects in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        child = subprocess.run([sys.executable, __file__, "--measure"], check=True, stdout=subprocess.PIPE, text=True)
        results.append({"subjects": size, **json.loads(child.stdout.splitlines()[-1])})
    print_table(results)


def prepare():
    """The migrated database with the DLC protocol and one site: the study the sizes grow."""
    from django.core.management import call_command

    from ecrf.models import Site, StudySite
    from ecrf.services.protocols import load_protocol_file

    call_command("migrate", verbosity=0)
    study = load_protocol_file(PROTOCOL).protocol.study
    site, _ = Site.objects.get_or_create(code="BENCH", defaults={"name": "Bench hospital"})
    StudySite.objects.get_or_create(study=study, site=site)
    return study


def grow(study, size: int) -> None:
    """Add synthetic subjects to ``study`` until it has ``size``, in batches, then refresh the planner's statistics."""
    from django.db import connection, transaction

    from ecrf.models import Subject

    have = Subject.objects.filter(study=study).count()
    schedule = _schedule(study)
    for first in range(have, size, BATCH_SUBJECTS):
        with transaction.atomic():
            _add_subjects(study, schedule, range(first, min(first + BATCH_SUBJECTS, size)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _schedule(study):
    """The protocol's visits, each with the analytes of the panel drawn at it."""
    from ecrf.selectors.protocols import latest_protocol

    protocol = latest_protocol(study)
    panels = {panel.code: panel for panel in protocol.lab_panels.prefetch_related("analytes")}
    schedule = []
    for definition in protocol.visit_definitions.order_by("order"):
        panel = panels[definition.lab_panel.code] if definition.lab_panel else panels["baseline"]
        schedule.append((definition, panel, list(panel.analytes.all())))
    return protocol, schedule


def _add_subjects(study, schedule, numbers: range) -> None:
    from ecrf.models import LabDraw, LabValue, Subject, Visit

    protocol, visits = schedule
    site = study.sites.get(code="BENCH")
    noise = random.Random(numbers.start)  # noqa: S311 -- synthetic values, reproducible
    subjects = Subject.objects.bulk_create(
        Subject(
            study=study,
            site=site,
            protocol=protocol,
            subject_code=f"BENCH-{number:06d}",
            status="consented",
            screening_date=FIRST_SCREENING + dt.timedelta(days=number % 700),
            consent_date=FIRST_SCREENING + dt.timedelta(days=number % 700),
            consent_version=protocol.version,
            sex=noise.choice(["female", "male"]),
            age_years=noise.randint(18, 75),
        )
        for number in numbers
    )
    planned = []
    for subject in subjects:
        for definition, panel, analytes in visits:
            day = subject.consent_date + dt.timedelta(days=definition.offset_days)
            visit = Visit(
                subject=subject,
                definition=definition,
                planned_date=day,
                window_start=day - dt.timedelta(days=definition.window_before_days),
                window_end=day + dt.timedelta(days=definition.window_after_days),
                actual_date=day,
                status="done",
            )
            planned.append((visit, panel, analytes))
    Visit.objects.bulk_create([visit for visit, _, _ in planned], batch_size=5000)
    draws = [
        (LabDraw(visit=visit, panel=panel, drawn_at=_morning(visit.actual_date)), analytes)
        for visit, panel, analytes in planned
    ]
    LabDraw.objects.bulk_create([draw for draw, _ in draws], batch_size=5000)
    values = (
        LabValue(draw=draw, analyte=analyte, value=_value(analyte, noise))
        for draw, analytes in draws
        for analyte in analytes
    )
    LabValue.objects.bulk_create(values, batch_size=5000)


def _morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8, 30), tzinfo=dt.UTC)


def _value(analyte, noise: random.Random) -> Decimal:
    low = analyte.reference_low if analyte.reference_low is not None else analyte.hard_low
    high = analyte.reference_high if analyte.reference_high is not None else analyte.hard_high
    return Decimal(f"{noise.uniform(low, high):.{analyte.decimals}f}")


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


def print_table(results: list[dict]) -> None:
    print(
        f"{'subjects':>8} {'rows':>9} {'export s':>9} {'COPY s':>7} {'export/COPY':>12} {'file MB':>8} "
        f"{'start RSS MB':>13} {'peak RSS MB':>12} {'peak/first':>11}"
    )
    first = results[0]["peak_rss_mb"]
    for result in results:
        print(
            f"{result['subjects']:>8} {result['rows']:>9} {result['export_s']:>9.2f} {result['copy_s']:>7.2f} "
            f"{result['export_s'] / result['copy_s']:>12.1f} {result['file_mb']:>8.1f} "
            f"{result['start_rss_mb']:>13.0f} {result['peak_rss_mb']:>12.0f} {result['peak_rss_mb'] / first:>11.2f}"
        )


if __name__ == "__main__":
    main()
