"""How long the live analysis takes, as ratios to reading the study's lab values (measured in the same run).

    .venv/bin/python bench/analysis_report.py [--repeat 5]

Loads the demo into a throwaway SQLite database, then times, per study: the baseline (every lab value of the
study read with one ``values_list``), the frames (analysis/datasets.py), and the whole report (frames and
statistics). Prints the median of ``--repeat`` runs and the ratios to the baseline: a ratio that grows between
two commits is a slowdown, whatever the machine.
"""

import argparse
import io
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(action, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as scratch:
        key = secrets.token_urlsafe(50)
        os.environ.update(DATABASE_URL=f"sqlite:///{scratch}/bench.sqlite3", DEMO_MODE="true", SECRET_KEY=key)
        measure(repeat)


def measure(repeat: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from analysis.datasets import study_data
    from analysis.live import study_report
    from ecrf.models import LabValue, Study

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    print(f"{'study':<6} {'baseline s':>11} {'frames s':>9} {'report s':>9} {'frames/base':>12} {'report/base':>12}")
    for study in Study.objects.order_by("code"):
        baseline = median_seconds(
            lambda study=study: list(LabValue.objects.filter(draw__visit__subject__study=study).values_list("value")),
            repeat,
        )
        frames = median_seconds(lambda study=study: study_data(study), repeat)
        report = median_seconds(lambda study=study: study_report(study), repeat)
        print(
            f"{study.code:<6} {baseline:>11.3f} {frames:>9.3f} {report:>9.3f} "
            f"{frames / baseline:>12.1f} {report / baseline:>12.1f}"
        )


if __name__ == "__main__":
    main()
