"""`make bench`: every bench script at two sizes of the DLC study on a throwaway PostgreSQL; writes RESULTS.md.

    scripts/with-postgres.sh env SECRET_KEY_FILE=var/secret_key .venv/bin/python bench/run.py [--sizes 1000 10000]

Migrates the database, then for each size grows the study with ``manage.py seed_scale`` (8 sites of falling size)
and runs each script in a process of its own (``--subjects N``), collecting its JSON result lines. Every figure
is a ratio to a baseline measured in the same run, or an absolute goal; RESULTS.md gives the machine, the date,
the commit and, per goal and size, the figure and whether the goal is met.
"""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, setup_django  # noqa: E402

SCRIPTS = ["pages.py", "dashboard.py", "analysis_report.py", "exports.py", "randomisation.py"]
FLAT_MEMORY = 1.25  # the export's peak at the largest size over the smallest: "flat"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--scripts", nargs="+", default=SCRIPTS, help="a subset, for a smoke run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: every script once, at a few subjects")
    arguments = parser.parse_args()
    os.environ.setdefault("DEMO_MODE", "true")
    if arguments.quick:
        os.environ["BENCH_QUICK"] = "1"
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the pages render with the production storage
    results, seeding = [], {}
    for size in sorted(set(arguments.sizes)):
        started = time.perf_counter()
        call_command("seed_scale", subjects=size, sites=arguments.sites)
        seeding[size] = time.perf_counter() - started
        for script in arguments.scripts:
            print(f"== {script} at {size} subjects", file=sys.stderr, flush=True)
            results += _run(script, size)
    results += _memory_flatness(results)
    text = report(results, seeding)
    largest = max(arguments.sizes)
    for script in ("pages.py", "randomisation.py"):
        if script in arguments.scripts:
            text += _profiles(script, largest)
    if "analysis_report.py" in arguments.scripts:
        text += _analysis_profile(largest)
    arguments.out.write_text(text)
    print(arguments.out.read_text())
    if not all(result["met"] for result in results):
        print("Some goals are not met (see above).", file=sys.stderr)


def _run(script: str, size: int) -> list[dict]:
    return _json_lines(script, "--subjects", str(size))


def _json_lines(script: str, *arguments: str) -> list[dict]:
    """The JSON lines a bench script prints, run in a process of its own with ``arguments``."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *arguments],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _profiles(script: str, size: int) -> str:
    """What limits the pages and randomisation: each one's split of time and heaviest functions at ``size``."""
    found = _json_lines(script, "--subjects", str(size), "--profile")[-1]["profiles"]
    return "".join(
        f"\n## Where the time goes: {name} at {size} subjects (cProfile, by cumulative time)\n\n```\n{text}\n```\n"
        for name, text in found.items()
    )


def _analysis_profile(size: int) -> str:
    """What limits the analysis: a cProfile of one run at the largest size, its heaviest functions."""
    profile = _json_lines("analysis_report.py", "--side", "profile")[-1]["profile"]
    body = "\n".join(line for line in profile.splitlines() if line.strip())
    return f"\n## Profile of one analysis at {size} subjects (cProfile, by cumulative time)\n\n```\n{body}\n```\n"


def _memory_flatness(results: list[dict]) -> list[dict]:
    peaks = {r["subjects"]: r["ratio"] for r in results if r["goal"] == "CSV export: peak memory (MB)"}
    if len(peaks) < 2:
        return []
    small, large = min(peaks), max(peaks)
    ratio = peaks[large] / peaks[small]
    return [
        {
            "goal": f"CSV export: flat peak memory (at most {FLAT_MEMORY}x from {small} to {large} subjects)",
            "subjects": large,
            "figure": f"{peaks[small]:.0f} MB at {small}, {peaks[large]:.0f} MB at {large}",
            "ratio": ratio,
            "met": ratio <= FLAT_MEMORY,
        }
    ]


def report(results: list[dict], seeding: dict[int, float]) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    lines = [
        "# Bench results",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Commit: {_commit()}",
        f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {_memory_gb():.0f} GB; Python "
        f"{platform.python_version()}; PostgreSQL {postgres} (throwaway cluster, fsync off)",
        "- Study: DLC grown by `manage.py seed_scale` (8 sites of falling size, the liver panel at every visit); "
        + ", ".join(f"{size} subjects seeded in {seconds:.0f} s" for size, seconds in seeding.items()),
        "- Ratios are to a baseline measured in the same run (see each script's docstring); lower is better.",
        "",
        "| Goal | Subjects | Figure | Ratio | Met |",
        "|---|---:|---|---:|:---:|",
    ]
    for r in results:
        ratio = "" if r["ratio"] is None or "(MB)" in r["goal"] else f"{r['ratio']:.2f}"
        lines.append(f"| {r['goal']} | {r['subjects']} | {r['figure']} | {ratio} | {'yes' if r['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def _commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


if __name__ == "__main__":
    main()
