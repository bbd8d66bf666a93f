"""What every bench script shares: Django set up against the throwaway PostgreSQL, medians of repeated timings,
and one result line per goal (bench/run.py writes them into bench/RESULTS.md)."""

import os
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(*, postgres: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trialsite.settings")
    os.environ.setdefault("DEMO_MODE", "true")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if postgres and connection.vendor != "postgresql":
        sys.exit("The bench needs PostgreSQL: run it through `make bench` (scripts/with-postgres.sh).")


def median_seconds(action, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


@dataclass(frozen=True)
class Result:
    """One measured goal at one size: ``figure`` in words, ``ratio`` to the same run's baseline (None where the
    goal is an absolute one), and whether the goal is met."""

    goal: str
    subjects: int
    figure: str
    ratio: float | None
    met: bool

    def as_dict(self) -> dict:
        return asdict(self)


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quick() -> bool:
    """A smoke run (``bench/run.py --quick``, the test suite's): one repeat, a few subjects; figures meaningless."""
    return os.environ.get("BENCH_QUICK") == "1"


def where_time_goes(action, repeat: int, *, lines: int = 20) -> str:
    """What limits ``action``: its wall time over ``repeat`` runs split into the database (statements sent and
    the time until each returned), template rendering (outside the statements it ran) and the rest (Python:
    the ORM building statements and rows, the views, middleware); then cProfile's heaviest functions of the
    project and of Django's template and query layers, by cumulative time. Printed into RESULTS.md."""
    import cProfile
    import io
    import pstats

    from django.db import connections
    from django.template import base

    clock = {"sql": 0.0, "statements": 0, "render": 0.0, "sql_in_render": 0.0, "depth": 0}

    def timed_statement(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - start
            clock["sql"] += spent
            clock["statements"] += 1
            if clock["depth"]:
                clock["sql_in_render"] += spent

    original_render = base.Template.render

    def timed_render(template, context):
        clock["depth"] += 1
        start = time.perf_counter()
        try:
            return original_render(template, context)
        finally:
            clock["depth"] -= 1
            if not clock["depth"]:
                clock["render"] += time.perf_counter() - start

    base.Template.render = timed_render
    try:
        with connections["default"].execute_wrapper(timed_statement):
            start = time.perf_counter()
            for _ in range(repeat):
                action()
            total = time.perf_counter() - start
        profiler = cProfile.Profile()
        profiler.runcall(action)
    finally:
        base.Template.render = original_render
    render = clock["render"] - clock["sql_in_render"]
    each = 1000 / repeat
    split = (
        f"{total * each:.1f} ms a run (mean of {repeat}): the database {clock['sql'] * each:.1f} ms in "
        f"{clock['statements'] / repeat:.0f} statements, template rendering {render * each:.1f} ms, "
        f"the rest of Python {(total - clock['sql'] - render) * each:.1f} ms"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    ours = re.escape(f"{ROOT}/") + r"(ecrf|analysis|exports)/"
    stats.print_stats(ours + r"|django/(template/base|db/models/query)\.py", lines)
    text = re.sub(r"\S*/site-packages/", "", out.getvalue().replace(f"{ROOT}/", ""))
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith(("   Ordered", "   List"))]
    body = "\n".join(kept)
    return f"{split}\n\n{body}"
