"""Concurrent randomisation on PostgreSQL: parallel workers never share a slot, leave no gap, or allocate twice."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from ecrf.models import Allocation
from ecrf.services import randomisation
from tests.conftest import HIGH_MELD_LABS, LOW_MELD_LABS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 8
SUBJECTS = 64  # eight rounds of the eight workers: enough to interleave, cheap enough to set up


def run_in_parallel(calls):
    """Run each call in its own thread and database connection, all released at once; return results or errors."""
    barrier = threading.Barrier(min(len(calls), WORKERS))

    def worker(call):
        try:
            if len(calls) <= WORKERS:
                barrier.wait(timeout=30)
            return call()
        except ValidationError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(worker, calls))


def test_parallel_workers_take_distinct_slots_in_order_without_gaps(
    randomised_protocol, data_manager, ready_to_randomise, coordinator_a
):
    randomisation.generate_list(study=randomised_protocol.study, slots_per_stratum=SUBJECTS, by=data_manager)
    # Two strata (low and high MELD at site A), alternating: the workers contend within each and run across them.
    subjects = [
        ready_to_randomise(f"C{n:03d}", labs=HIGH_MELD_LABS if n % 2 else LOW_MELD_LABS) for n in range(SUBJECTS)
    ]

    started = time.perf_counter()
    results = run_in_parallel([lambda s=s: randomisation.randomise(s, by=coordinator_a) for s in subjects])
    seconds = time.perf_counter() - started

    assert not [r for r in results if isinstance(r, Exception)]
    allocations = Allocation.objects.select_related("slot").order_by("allocated_at", "pk")
    assert allocations.count() == SUBJECTS
    by_stratum = {}
    for allocation in allocations:
        by_stratum.setdefault(allocation.slot.stratum, []).append(allocation.slot.sequence)
    assert set(by_stratum) == {"meld:le15|site:SITE-A", "meld:gt15|site:SITE-A"}
    duplicates = sum(len(taken) - len(set(taken)) for taken in by_stratum.values())
    gaps = sum(max(taken) - len(set(taken)) for taken in by_stratum.values())
    print(
        f"\nrandomisation: {SUBJECTS} allocations by {WORKERS} clients across {len(by_stratum)} strata in "
        f"{seconds:.2f} s: {SUBJECTS / seconds:.1f} allocations a second, {duplicates} duplicates, {gaps} gaps"
    )
    assert (duplicates, gaps) == (0, 0)
    for taken in by_stratum.values():
        assert sorted(taken) == list(range(1, len(taken) + 1))  # distinct, no gaps
        assert taken == sorted(taken)  # taken in order


def test_the_same_subject_submitted_twice_at_once_is_allocated_once(
    randomised_protocol, data_manager, ready_to_randomise, coordinator_a
):
    randomisation.generate_list(study=randomised_protocol.study, slots_per_stratum=10, by=data_manager)
    subject = ready_to_randomise("TWICE")

    results = run_in_parallel([lambda: randomisation.randomise(subject, by=coordinator_a)] * 2)

    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(refusals) == 1
    assert "already allocated" in refusals[0].messages[0]
    assert Allocation.objects.filter(subject=subject).count() == 1
