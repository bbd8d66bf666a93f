"""Concurrent randomisation on PostgreSQL: parallel workers never share a slot, leave no gap, or allocate twice."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from ecrf.models import Allocation
from ecrf.services import randomisation

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
    subjects = [ready_to_randomise(f"C{n:03d}") for n in range(SUBJECTS)]

    results = run_in_parallel([lambda s=s: randomisation.randomise(s, by=coordinator_a) for s in subjects])

    assert not [r for r in results if isinstance(r, Exception)]
    allocations = Allocation.objects.select_related("slot").order_by("allocated_at", "pk")
    sequences = [a.slot.sequence for a in allocations]
    assert len(sequences) == SUBJECTS
    assert sorted(sequences) == list(range(1, SUBJECTS + 1))  # distinct, no gaps
    assert sequences == sorted(sequences)  # taken in order
    assert {a.slot.stratum for a in allocations} == {"meld:le15|site:SITE-A"}


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
