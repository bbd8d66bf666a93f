"""Randomisation lists: balanced permuted blocks, a secret no one can guess, reproducible from it, committed
content, ordered allocation."""

import hashlib
import hmac
import random
from collections import Counter, defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from ecrf.list_generator import CODE_ALPHABET
from ecrf.models import Allocation, RandomisationList, RandomisationSlot, StudyDataVersion, SubjectStatus, Visit
from ecrf.services import audit, locks, randomisation
from tests.conftest import HIGH_MELD_LABS

FIXED_SECRET = bytes(range(32))  # a known secret keeps the shape tests independent of chance


@pytest.fixture
def generated(randomised_protocol, data_manager):
    return randomisation.generate_list(
        study=randomised_protocol.study, secret=FIXED_SECRET, slots_per_stratum=40, by=data_manager
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


def test_the_same_secret_gives_the_same_list_and_commitment(randomised_protocol, data_manager):
    study = randomised_protocol.study
    first = randomisation.generate_list(study=study, secret=FIXED_SECRET, slots_per_stratum=20, by=data_manager)
    again = randomisation.generate_list(study=study, secret=FIXED_SECRET, slots_per_stratum=20, by=data_manager)
    assert slots_of(first) == slots_of(again)
    assert first.commitment_sha256 == again.commitment_sha256


def test_two_generations_without_a_secret_give_different_lists_and_secrets(randomised_protocol, data_manager):
    study = randomised_protocol.study
    first = randomisation.generate_list(study=study, slots_per_stratum=20, by=data_manager)
    second = randomisation.generate_list(study=study, slots_per_stratum=20, by=data_manager)
    assert first.secret_hex != second.secret_hex
    assert slots_of(first) != slots_of(second)
    assert first.commitment_sha256 != second.commitment_sha256


def test_regenerating_from_the_stored_secret_gives_the_stored_list(randomised_protocol, data_manager):
    # 100 slots: a whole stratum's arm sequence then matches by chance with odds far below 2^-60 (20 slots did not).
    stored = randomisation.generate_list(study=randomised_protocol.study, slots_per_stratum=100, by=data_manager)
    again = randomisation.regenerate(
        stored.study, "1.0", bytes.fromhex(stored.secret_hex), stored.slots_per_stratum, ["SITE-A"]
    )
    assert again.commitment_sha256 == stored.commitment_sha256
    assert sorted((r[0], r[1], r[2].code, r[3]) for r in again.rows) == slots_of(stored)
    assert RandomisationList.objects.count() == 1  # regenerating writes nothing


def _old_scheme(study_code, version, seed, arms, strata, slots):
    """The derivation before issue 13: Mersenne Twister seeded from a small integer, codes keyed by it."""
    rng = random.Random(f"{study_code}:{version}:{seed}")  # noqa: S311
    unit = [arm for arm, ratio in arms for _ in range(ratio)]
    for stratum in strata:
        placed = []
        while len(placed) < slots:
            content = unit * rng.choice((1, 2, 3))
            rng.shuffle(content)
            placed += content
        digest = hmac.new(f"{study_code}:{seed}".encode(), f"{stratum}|1|0".encode(), hashlib.sha256).digest()
        first_code = f"{study_code}-" + "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:6])
        yield stratum, placed, first_code


def test_stored_list_cannot_be_regenerated_from_any_small_seed(randomised_protocol, data_manager):
    # 100 slots: a whole stratum's arm sequence then matches by chance with odds far below 2^-60 (20 slots did not).
    stored = randomisation.generate_list(study=randomised_protocol.study, slots_per_stratum=100, by=data_manager)
    assert len(bytes.fromhex(stored.secret_hex)) * 8 >= 128
    slots = slots_of(stored)
    strata = sorted({s for s, *_ in slots})
    arms_by_stratum = {st: [arm for s, _, arm, _ in slots if s == st] for st in strata}
    first_codes = {st: next(code for s, n, _, code in slots if s == st and n == 1) for st in strata}
    arms = [(arm.code, arm.ratio) for arm in stored.protocol.arms.order_by("order")]
    for seed in range(2001):
        for stratum, placed, first_code in _old_scheme("TRIAL", "1.0", seed, arms, strata, 100):
            assert placed != arms_by_stratum[stratum], f"seed {seed} reproduces the arms of {stratum}"
            assert first_code != first_codes[stratum], f"seed {seed} reproduces the first code of {stratum}"


def test_a_secret_shorter_than_128_bits_is_refused(randomised_protocol, data_manager):
    with pytest.raises(ValidationError, match="128 to 256 bits"):
        randomisation.generate_list(
            study=randomised_protocol.study, secret=b"short", slots_per_stratum=10, by=data_manager
        )
    assert not RandomisationList.objects.exists()


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
        randomisation.generate_list(study=protocol.study, slots_per_stratum=10, by=data_manager)


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
    randomisation.generate_list(study=randomised_protocol.study, slots_per_stratum=1, by=data_manager)
    for n in range(2):  # a stratum of one block of 2
        randomisation.randomise(ready_to_randomise(f"X{n}"), by=coordinator_a)
    blocks = RandomisationSlot.objects.filter(stratum="meld:le15|site:SITE-A").count()
    for n in range(2, blocks):
        randomisation.randomise(ready_to_randomise(f"X{n}"), by=coordinator_a)
    with pytest.raises(ValidationError, match="Stratum MELD ≤ 15, site SITE-A has no free slot left"):
        randomisation.randomise(ready_to_randomise("LAST"), by=coordinator_a)


def test_without_a_list_randomisation_is_refused(randomised_protocol, ready_to_randomise, coordinator_a):
    with pytest.raises(ValidationError, match="has no randomisation list"):
        randomisation.randomise(ready_to_randomise("008"), by=coordinator_a)


def test_a_list_in_use_cannot_be_replaced(generated, ready_to_randomise, coordinator_a, data_manager):
    randomisation.randomise(ready_to_randomise("009"), by=coordinator_a)
    with pytest.raises(ValidationError, match="has allocations"):
        randomisation.generate_list(study=generated.study, slots_per_stratum=10, by=data_manager)
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


def test_verify_reports_that_the_stored_secret_regenerates_the_list(generated, capsys):
    call_command("verify_randomisation", study="TRIAL")
    assert "Regenerating from the list's stored secret gives the same commitment." in capsys.readouterr().out


def test_verify_fails_when_the_stored_secret_does_not_give_the_list(generated):
    RandomisationList.objects.filter(pk=generated.pk).update(secret_hex="ab" * 32)
    with pytest.raises(CommandError, match="not the list the secret produced"):
        call_command("verify_randomisation", study="TRIAL")


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


def test_generate_command_prints_the_commitment_but_not_the_secret(randomised_protocol, capsys):
    call_command("generate_randomisation_list", study="TRIAL", slots_per_stratum=10)
    out = capsys.readouterr().out
    stored = RandomisationList.objects.get(is_active=True)
    assert stored.commitment_sha256 in out
    assert len(stored.secret_hex) == 64
    assert stored.secret_hex not in out


def test_generate_command_refuses_a_seed_with_the_reason(randomised_protocol):
    with pytest.raises(CommandError, match="--seed is no longer accepted"):
        call_command("generate_randomisation_list", study="TRIAL", seed="11")
    assert not RandomisationList.objects.exists()


@pytest.mark.parametrize("slots", [0, -5, 10**30])
def test_generate_command_refuses_bad_slots_per_stratum(randomised_protocol, slots):
    with pytest.raises(CommandError, match="Give between 1 and 10000 slots per stratum"):
        call_command("generate_randomisation_list", study="TRIAL", slots_per_stratum=slots)
    assert not RandomisationList.objects.exists()


def test_randomising_writes_the_calendar_in_one_insert_each_visit_with_its_history_row(
    generated, ready_to_randomise, coordinator_a, django_assert_max_num_queries
):
    subject = ready_to_randomise("001")
    version = StudyDataVersion.objects.get(study=subject.study).version
    with django_assert_max_num_queries(110):  # was 159; DLC allocates 13 rows in 127 (bench/randomisation.py)
        randomisation.randomise(subject, by=coordinator_a)
    planned = Visit.objects.filter(subject=subject).exclude(definition__anchor="consent")
    assert planned.count() >= 1
    for visit in planned:
        row = visit.history.get()
        assert (row.history_type, row.history_user, row.history_change_reason) == ("+", coordinator_a, "Created")
        assert row.row_hash
        assert visit.window_start <= visit.planned_date <= visit.window_end
    # One data version step for the whole allocation, taken last (marked_once), not one per row written.
    assert StudyDataVersion.objects.get(study=subject.study).version == version + 1


def test_a_calendar_for_a_locked_subject_is_refused_and_nothing_is_written(
    generated, ready_to_randomise, coordinator_a, data_manager
):
    subject = ready_to_randomise("001")
    locks.lock_subject_data(subject=subject, by=data_manager, reason="Frozen for review", override="Test")
    with pytest.raises(ValidationError):
        randomisation.randomise(subject, by=coordinator_a)
    assert not Allocation.objects.filter(subject=subject).exists()
    assert not Visit.objects.filter(subject=subject).exclude(definition__anchor="consent").exists()


def test_new_records_are_refused_in_a_batch_of_another_model_or_already_saved(allocated_subject, coordinator_a):
    visit = allocated_subject.visits.first()
    with pytest.raises(ValueError, match="new records of one model"):
        audit.create_records([visit], by=coordinator_a)
