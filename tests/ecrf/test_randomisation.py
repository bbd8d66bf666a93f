"""Randomisation lists: balanced permuted blocks, reproducible seeds, committed content, ordered allocation."""

from collections import Counter, defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from ecrf.models import Allocation, RandomisationList, RandomisationSlot, SubjectStatus
from ecrf.services import randomisation
from tests.conftest import HIGH_MELD_LABS


@pytest.fixture
def generated(randomised_protocol, data_manager):
    return randomisation.generate_list(
        study=randomised_protocol.study, seed=2026, slots_per_stratum=40, by=data_manager
    )


def slots_of(randomisation_list):
    return list(
        randomisation_list.slots.order_by("stratum", "sequence").values_list("stratum", "sequence", "arm__code", "code")
    )


def test_there_is_one_sequence_per_stratum(generated):
    assert set(generated.slots.values_list("stratum", flat=True)) == {"meld:gt15|site:SITE-A", "meld:le15|site:SITE-A"}


def test_every_completed_block_holds_the_protocol_ratio_exactly(generated):
    blocks = defaultdict(Counter)
    sizes = {}
    for slot in generated.slots.select_related("arm"):
        blocks[(slot.stratum, slot.block)][slot.arm.code] += 1
        sizes[(slot.stratum, slot.block)] = slot.block_size
    for key, counts in blocks.items():
        assert sum(counts.values()) == sizes[key]
        assert counts["A"] == counts["C"]


def test_block_sizes_vary(generated):
    assert set(generated.slots.values_list("block_size", flat=True)) == {2, 4, 6}


def test_each_stratum_has_at_least_the_slots_asked_for_in_whole_blocks(generated):
    for stratum in ("meld:gt15|site:SITE-A", "meld:le15|site:SITE-A"):
        assert 40 <= generated.slots.filter(stratum=stratum).count() < 46


def test_the_same_seed_gives_the_same_list(randomised_protocol, data_manager):
    first = randomisation.generate_list(study=randomised_protocol.study, seed=7, slots_per_stratum=20, by=data_manager)
    again = randomisation.generate_list(study=randomised_protocol.study, seed=7, slots_per_stratum=20, by=data_manager)
    other = randomisation.generate_list(study=randomised_protocol.study, seed=8, slots_per_stratum=20, by=data_manager)
    assert slots_of(first) == slots_of(again)
    assert first.commitment_sha256 == again.commitment_sha256
    assert slots_of(other) != slots_of(first)


def test_codes_are_unique_and_do_not_follow_the_sequence(generated):
    codes = list(generated.slots.order_by("stratum", "sequence").values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    assert codes != sorted(codes)
    assert all(code.startswith("TRIAL-") and len(code) == 12 for code in codes)


def test_the_stored_commitment_is_the_sha256_of_the_canonical_list(generated):
    from ecrf.commitment import commitment_of

    rows = generated.slots.values_list("stratum", "sequence", "arm__code", "code")
    assert generated.commitment_sha256 == commitment_of(generated.study, "1.0", list(rows))


def test_a_non_random_protocol_has_no_list(protocol, data_manager):
    with pytest.raises(ValidationError, match="does not randomise"):
        randomisation.generate_list(study=protocol.study, seed=1, slots_per_stratum=10, by=data_manager)


def test_randomising_takes_the_next_slot_of_the_subjects_stratum(generated, ready_to_randomise, coordinator_a):
    first = randomisation.randomise(ready_to_randomise("001"), by=coordinator_a)
    second = randomisation.randomise(ready_to_randomise("002"), by=coordinator_a)
    assert (first.slot.stratum, first.slot.sequence) == ("meld:le15|site:SITE-A", 1)
    assert (second.slot.stratum, second.slot.sequence) == ("meld:le15|site:SITE-A", 2)
    assert (first.arm, first.randomisation_code, first.method) == (first.slot.arm, first.slot.code, "randomised")
    assert first.subject.status == SubjectStatus.ALLOCATED


def test_the_stratum_comes_from_the_baseline_meld(generated, ready_to_randomise, coordinator_a):
    allocation = randomisation.randomise(ready_to_randomise("003", labs=HIGH_MELD_LABS), by=coordinator_a)
    assert allocation.stratum == "meld:gt15|site:SITE-A"


def test_dialysis_counts_in_the_baseline_meld(generated, ready_to_randomise, coordinator_a):
    # Normal labs but dialysis: creatinine taken as 4 mg/dL gives MELD 0.957 ln 4 + 0.643 = 1.97 -> 20.
    allocation = randomisation.randomise(ready_to_randomise("004", dialysis=True), by=coordinator_a)
    assert allocation.stratum.startswith("meld:gt15")


def test_a_missing_baseline_value_is_a_clear_error_not_a_guess(generated, ready_to_randomise, coordinator_a):
    subject = ready_to_randomise("005", labs={"TBIL": "10", "CREA": "60"})
    with pytest.raises(ValidationError, match="Baseline MELD cannot be computed: the SCR visit has no INR"):
        randomisation.randomise(subject, by=coordinator_a)
    assert not Allocation.objects.exists()


def test_an_ineligible_subject_is_refused_with_the_reason(generated, ready_to_randomise, coordinator_a):
    subject = ready_to_randomise("006", eligible=False)
    with pytest.raises(ValidationError, match="not eligible: E1 Diabetes"):
        randomisation.randomise(subject, by=coordinator_a)
    assert not Allocation.objects.exists()


def test_a_second_randomisation_of_the_same_subject_is_refused(generated, ready_to_randomise, coordinator_a):
    subject = ready_to_randomise("007")
    randomisation.randomise(subject, by=coordinator_a)
    with pytest.raises(ValidationError, match="already allocated"):
        randomisation.randomise(subject, by=coordinator_a)
    assert Allocation.objects.count() == 1


def test_an_exhausted_stratum_is_a_clear_error(randomised_protocol, data_manager, ready_to_randomise, coordinator_a):
    randomisation.generate_list(study=randomised_protocol.study, seed=3, slots_per_stratum=1, by=data_manager)
    for n in range(2):  # a stratum of one block of 2
        randomisation.randomise(ready_to_randomise(f"X{n}"), by=coordinator_a)
    blocks = RandomisationSlot.objects.filter(stratum="meld:le15|site:SITE-A").count()
    for n in range(2, blocks):
        randomisation.randomise(ready_to_randomise(f"X{n}"), by=coordinator_a)
    with pytest.raises(ValidationError, match=r"Stratum meld:le15\|site:SITE-A has no free slot left"):
        randomisation.randomise(ready_to_randomise("LAST"), by=coordinator_a)


def test_without_a_list_randomisation_is_refused(randomised_protocol, ready_to_randomise, coordinator_a):
    with pytest.raises(ValidationError, match="has no randomisation list"):
        randomisation.randomise(ready_to_randomise("008"), by=coordinator_a)


def test_a_list_in_use_cannot_be_replaced(generated, ready_to_randomise, coordinator_a, data_manager):
    randomisation.randomise(ready_to_randomise("009"), by=coordinator_a)
    with pytest.raises(ValidationError, match="has allocations"):
        randomisation.generate_list(study=generated.study, seed=99, slots_per_stratum=10, by=data_manager)
    assert RandomisationList.objects.get(is_active=True) == generated


def test_a_data_managers_correction_keeps_the_original_in_the_history(
    generated, ready_to_randomise, coordinator_a, data_manager
):
    allocation = randomisation.randomise(ready_to_randomise("010"), by=coordinator_a)
    original = allocation.arm
    other = generated.protocol.arms.exclude(pk=original.pk).get()
    randomisation.correct_allocation(allocation, arm=other, reason="Wrong subject randomised at site", by=data_manager)
    latest, before = allocation.history.all()[:2]
    assert (before.arm_id, latest.arm_id) == (original.pk, other.pk)
    assert latest.history_change_reason == "Correction by data manager: Wrong subject randomised at site"
    assert latest.history_user == data_manager


def test_verify_passes_on_a_clean_list_with_allocations(generated, ready_to_randomise, coordinator_a, capsys):
    for n in range(3):
        randomisation.randomise(ready_to_randomise(f"V{n}"), by=coordinator_a)
    call_command("verify_randomisation", study="TRIAL")
    assert "3 allocations took the next free slot of their stratum in order. OK." in capsys.readouterr().out


def test_verify_fails_when_a_slot_was_changed_in_the_database(generated):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ecrf_randomisationslot SET code = 'TRIAL-FORGED' "
            "WHERE list_id = %s AND sequence = 1 AND stratum = %s",
            [generated.pk, "meld:le15|site:SITE-A"],
        )
    with pytest.raises(CommandError, match="does not match its commitment"):
        call_command("verify_randomisation", study="TRIAL")


def test_verify_fails_when_an_allocation_skipped_a_slot(generated, ready_to_randomise, coordinator_a):
    allocation = randomisation.randomise(ready_to_randomise("S1"), by=coordinator_a)
    third = RandomisationSlot.objects.get(list=generated, stratum=allocation.stratum, sequence=3)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ecrf_allocation SET slot_id = %s, arm_id = %s, randomisation_code = %s WHERE id = %s",
            [third.pk, third.arm_id, third.code, allocation.pk],
        )
    with pytest.raises(CommandError, match=r"slots taken in the order \[3\]"):
        call_command("verify_randomisation", study="TRIAL")


def test_generate_command_prints_the_commitment(randomised_protocol, capsys):
    call_command("generate_randomisation_list", study="TRIAL", seed=11, slots_per_stratum=10)
    out = capsys.readouterr().out
    assert RandomisationList.objects.get(is_active=True).commitment_sha256 in out
