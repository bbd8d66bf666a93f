"""The live analysis of the DLC study against the fastest raw read of its rows, measured in the same run.

    make bench   (or, against a study seeded by seed_scale: .venv/bin/python bench/analysis_report.py --subjects N)

Two figures against it: the read of the study into its frames (``analysis.datasets.study_data``, what the
floor does plus the scores and baselines), and the whole report (the read and the statistics: Kaplan-Meier, the
Cox models, the subgroups, the tests per visit). The floor: PostgreSQL ``COPY (every lab value of the study with
its draw time, analyte and subject) TO STDOUT`` read by ``pandas.read_csv`` into a DataFrame. Each side runs in
a fresh process, so its peak RSS (``ru_maxrss``) is its own; the analysis's memory is reported as that peak, with
what the process held before it started (Django and the libraries) beside it. Prints one JSON line per goal.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, peak_rss_mb, setup_django  # noqa: E402

TIME_GOAL, MEMORY_GOAL_MB = 2.0, 300

ROWS_SQL = """
SELECT v.subject_id, d.drawn_at, a.code, lv.value
FROM ecrf_labvalue lv
JOIN ecrf_labdraw d ON d.id = lv.draw_id
JOIN ecrf_visit v ON v.id = d.visit_id
JOIN ecrf_subject s ON s.id = v.subject_id
JOIN ecrf_analyte a ON a.id = lv.analyte_id
WHERE s.study_id = %s AND NOT lv.is_voided AND NOT d.is_voided AND NOT v.is_voided
"""


def measure(subjects: int) -> list[Result]:
    copy = _child("copy")
    analysis = _child("analysis")
    ratio, read_ratio = analysis["seconds"] / copy["seconds"], analysis["read_seconds"] / copy["seconds"]
    floor = f"COPY into pandas {copy['seconds']:.2f} s ({copy['rows']} lab values)"
    statistics = analysis["seconds"] - analysis["read_seconds"]
    parts = f"the read {analysis['read_seconds']:.2f} s, the statistics {statistics:.2f} s"
    time_figure = f"{analysis['seconds']:.2f} s ({parts}) vs {floor}"
    read_figure = f"study_data {analysis['read_seconds']:.2f} s vs {floor}"
    memory_figure = (
        f"peak RSS {analysis['peak_mb']:.0f} MB (process before the analysis {analysis['start_mb']:.0f} MB; "
        f"COPY into pandas peaks at {copy['peak_mb']:.0f} MB)"
    )
    return [
        Result(
            f"analysis, the read of the study into its frames: within {TIME_GOAL:.0f}x COPY into pandas",
            subjects,
            read_figure,
            read_ratio,
            read_ratio <= TIME_GOAL,
        ),
        Result(
            f"analysis, the whole report: within {TIME_GOAL:.0f}x COPY into pandas",
            subjects,
            time_figure,
            ratio,
            ratio <= TIME_GOAL,
        ),
        Result(
            f"analysis: peak memory under {MEMORY_GOAL_MB} MB",
            subjects,
            memory_figure,
            None,
            analysis["peak_mb"] < MEMORY_GOAL_MB,
        ),
    ]


def _child(side: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--side", side], check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.splitlines()[-1])


def run_side(side: str) -> dict:
    setup_django()
    from ecrf.models import Study

    study = Study.objects.get(code="DLC")
    start_mb = peak_rss_mb()
    started = time.perf_counter()
    if side == "copy":
        rows = len(copy_frame(study))
    elif side == "profile":
        return {"profile": profile(study)}
    else:
        from django.utils import timezone

        from analysis.datasets import study_data
        from analysis.live import analyse, analysis_inputs

        inputs = analysis_inputs(study)
        data = study_data(study)
        read_seconds = time.perf_counter() - started
        analyse(data, inputs, generated_at=timezone.now())
        rows = None
    return {
        "read_seconds": read_seconds if side == "analysis" else None,
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "start_mb": start_mb,
        "peak_mb": peak_rss_mb(),
    }


def profile(study, lines: int = 25) -> str:
    """cProfile of one analysis of ``study``: the functions with the most cumulative time, as pstats prints them."""
    import cProfile
    import io
    import pstats

    from analysis.live import study_report

    profiler = cProfile.Profile()
    profiler.runcall(study_report, study)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def copy_frame(study):
    import io

    import pandas as pd
    from django.db import connection

    buffer = io.BytesIO()
    statement = connection.ops.compose_sql(ROWS_SQL, [study.pk])
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({statement}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pd.read_csv(buffer, names=["subject_id", "drawn_at", "analyte", "value"], parse_dates=["drawn_at"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, help="the study's size (for the report line)")
    parser.add_argument("--side", choices=["copy", "analysis", "profile"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.side:
        print(json.dumps(run_side(arguments.side)))
        return
    setup_django()
    for result in measure(arguments.subjects or 0):
        print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
