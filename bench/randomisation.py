"""Concurrent randomisation: 8 clients allocating subjects of several strata at once, on PostgreSQL.

    make bench   (or, against a study seeded by seed_scale: .venv/bin/python bench/randomisation.py --subjects N)

Registers 64 subjects ready to randomise through the services (consent, a qualifying checklist, screening liver
panel and clinical status), half of them at each demo site, alternately of low and high MELD: four strata of
the demo's randomisation list. Then 8 client processes (as 8 web workers), each with its own database connection,
randomise them all at once; the time runs from the moment all are ready. Prints the rate (goal: at least 25
allocations a second), the duplicates and the gaps in each stratum's sequence (goal: none). The rate is an
absolute figure: allocation is the one place where clients contend.
"""

import argparse
import json
import multiprocessing
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, quick, setup_django, where_time_goes  # noqa: E402

CLIENTS, SUBJECTS, RATE_GOAL = 8, 64, 25.0
LOW = {"TBIL": "12", "CREA": "60", "INR": "1.0", "ALB": "35", "PTA": "90", "CHE": "5000", "NA": "140"}
HIGH = {"TBIL": "340", "CREA": "260", "INR": "2.5", "ALB": "25", "PTA": "30", "CHE": "1500", "NA": "130"}


def measure(subjects: int, clients: int = CLIENTS, count: int = SUBJECTS) -> list[Result]:
    from django.db import connections

    from ecrf.models import Allocation

    ready, coordinator = _ready_subjects(count)
    batches = [[subject.pk for subject in ready[n::clients]] for n in range(clients)]
    connections.close_all()  # each client process opens its own, as a gunicorn worker does
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients)
    with context.Pool(clients, initializer=_client_start, initargs=(barrier, coordinator.pk)) as pool:
        started = time.perf_counter()
        done = [pk for batch in pool.map(_client, batches, chunksize=1) for pk in batch]
        seconds = time.perf_counter() - started
    taken = {}
    for stratum, sequence in Allocation.objects.filter(pk__in=done).values_list("slot__stratum", "slot__sequence"):
        taken.setdefault(stratum, []).append(sequence)
    used = {}  # every allocation of the stratum so far (earlier sizes' runs included), for the gap count
    for stratum, sequence in Allocation.objects.filter(slot__stratum__in=taken).values_list(
        "slot__stratum", "slot__sequence"
    ):
        used.setdefault(stratum, []).append(sequence)
    duplicates = sum(len(s) - len(set(s)) for s in used.values())
    gaps = sum(max(s) - len(set(s)) for s in used.values())
    rate = len(done) / seconds
    figure = (
        f"{len(done)} allocations by {clients} clients across {len(taken)} strata in {seconds:.2f} s: "
        f"{rate:.1f} a second; {duplicates} duplicates, {gaps} gaps"
    )
    goal = f"randomisation: at least {RATE_GOAL:.0f} allocations a second with {clients} clients, no duplicate or gap"
    return [Result(goal, subjects, figure, None, rate >= RATE_GOAL and duplicates == 0 and gaps == 0)]


def profile(repeat: int = 5) -> str:
    """Where one allocation's time goes, one client alone (``where_time_goes``): with clients across strata not
    waiting on each other's lock, this is the work each allocation costs the two cores."""
    from ecrf.services import randomisation

    ready, coordinator = _ready_subjects(repeat + 1)
    queue = iter(ready)
    return where_time_goes(lambda: randomisation.randomise(next(queue), by=coordinator), repeat)


_client_state = {}


def _client_start(barrier, coordinator_pk: int) -> None:
    _client_state.update(barrier=barrier, coordinator_pk=coordinator_pk)


def _client(subject_pks: list[int]) -> list[int]:
    """One client: a process of its own with its own connection, randomising its subjects one after another."""
    from django.contrib.auth import get_user_model

    from ecrf.models import Subject
    from ecrf.services import randomisation

    coordinator = get_user_model().objects.get(pk=_client_state["coordinator_pk"])
    subjects = list(Subject.objects.filter(pk__in=subject_pks).order_by("pk"))
    _client_state["barrier"].wait(timeout=60)
    return [randomisation.randomise(subject, by=coordinator).pk for subject in subjects]


def _ready_subjects(count: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from ecrf.models import Site, Study, Subject
    from ecrf.selectors.protocols import latest_protocol
    from ecrf.services import labs, subjects

    study = Study.objects.get(code="DLC")
    protocol = latest_protocol(study)
    coordinator = get_user_model().objects.get(username="coordinator")
    answers = {c.code: c.qualifying_answer for c in protocol.eligibility_criteria.all()}
    sites = list(Site.objects.filter(code__in=["BJ-5MC", "SZ-3PH"]).order_by("code"))
    today = timezone.localdate()
    # Numbered from 9000 on, after the earlier runs' (the seeded subjects were screened years ago).
    first = 9000 + Subject.objects.filter(study=study, screening_date__gte=today - timedelta(days=30)).count()
    ready = []
    for n in range(count):
        site = sites[n % 2]
        subject = subjects.register_subject(
            study=study,
            site=site,
            subject_code=f"DLC-{site.code}-{first + n}",
            screening_date=today - timedelta(days=3),
            sex="female",
            age_years=50,
            by=coordinator,
        )
        subjects.record_consent(
            subject, consent_date=today - timedelta(days=3), consent_version="ICF 1.0", by=coordinator
        )
        subjects.record_eligibility(subject, answers=answers, by=coordinator)
        screening = subject.visits.get(definition__code="SCR")
        drawn = datetime.now(UTC) - timedelta(days=2)
        labs.record_lab_draw(visit=screening, drawn_at=drawn, values=HIGH if (n // 2) % 2 else LOW, by=coordinator)
        labs.record_clinical_status(
            visit=screening,
            assessed_on=today - timedelta(days=2),
            ascites="none",
            encephalopathy_grade=0,
            dialysis_past_week=False,
            by=coordinator,
        )
        ready.append(subject)
    return ready, coordinator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=0, help="the study's size (for the report line)")
    parser.add_argument("--count", type=int, default=SUBJECTS, help="subjects to randomise")
    parser.add_argument("--profile", action="store_true", help="print where one allocation's time goes instead")
    arguments = parser.parse_args()
    setup_django()
    if arguments.profile:
        print(json.dumps({"profiles": {"randomisation": profile(1 if quick() else 5)}}))
        return
    count = CLIENTS if quick() else arguments.count
    for result in measure(arguments.subjects, count=count):
        print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
