"""What every bench script shares: Django set up against the throwaway PostgreSQL, medians of repeated timings,
and one result line per goal (bench/run.py writes them into bench/RESULTS.md)."""

import os
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
