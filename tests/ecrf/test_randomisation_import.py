"""Importing a statistician's list: each kind of bad file is refused naming its rows, and nothing is loaded."""

import pytest
from django.core.exceptions import ValidationError

from ecrf.models import RandomisationList, RandomisationSlot
from ecrf.services.randomisation_import import import_list

LOW, HIGH = "meld:le15|site:SITE-A", "meld:gt15|site:SITE-A"


def good_rows():
    rows = []
    for stratum in (LOW, HIGH):
        for sequence, arm in enumerate(["A", "C", "C", "A", "C", "A"], start=1):
            rows.append(f"{stratum},{sequence},{arm},{stratum[5:9].upper()}-{sequence:03d}X")
    return rows


def csv_text(rows, header="stratum,sequence,arm,code"):
    return "\n".join([header, *rows]) + "\n"


def refused(randomised_protocol, user, text):
    with pytest.raises(ValidationError) as error:
        import_list(study=randomised_protocol.study, text=text, source_name="list.csv", by=user)
    assert not RandomisationList.objects.exists()
    assert not RandomisationSlot.objects.exists()
    return error.value.messages


def test_a_valid_list_is_imported_and_committed(randomised_protocol, data_manager):
    imported = import_list(
        study=randomised_protocol.study, text=csv_text(good_rows()), source_name="list.csv", by=data_manager
    )
    assert imported.slots.count() == 12
    assert imported.source == "imported"
    assert len(imported.commitment_sha256) == 64


def test_an_unknown_arm_is_refused_naming_the_row(randomised_protocol, data_manager):
    rows = good_rows()
    rows[2] = rows[2].replace(",C,", ",B,")
    assert "Row 4: unknown arm 'B' (expected A, C)." in refused(randomised_protocol, data_manager, csv_text(rows))


def test_an_unknown_stratum_is_refused_naming_the_row(randomised_protocol, data_manager):
    rows = good_rows()
    rows[0] = rows[0].replace("SITE-A", "SITE-Z")
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert any(m.startswith("Row 2: unknown stratum 'meld:le15|site:SITE-Z'") for m in messages)


def test_a_duplicate_code_is_refused_naming_both_rows(randomised_protocol, data_manager):
    rows = good_rows()
    rows[1] = rows[1].rsplit(",", 1)[0] + "," + rows[0].rsplit(",", 1)[1]
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert any(m.startswith("Row 3: code") and m.endswith("already on row 2.") for m in messages)


def test_a_duplicate_sequence_number_is_refused(randomised_protocol, data_manager):
    rows = good_rows()
    rows[1] = rows[1].replace(f"{LOW},2,", f"{LOW},1,")
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert f"Row 3: sequence 1 of {LOW} already on row 2." in messages


def test_a_gap_in_the_sequence_is_refused(randomised_protocol, data_manager):
    rows = good_rows()
    rows[5] = rows[5].replace(f"{LOW},6,", f"{LOW},9,")
    assert f"Stratum {LOW}: sequence numbers must run 1 to 6 without gaps." in refused(
        randomised_protocol, data_manager, csv_text(rows)
    )


def test_a_ratio_far_from_the_protocol_is_refused(randomised_protocol, data_manager):
    rows = [f"{LOW},{n},A,CODE{n:03d}" for n in range(1, 11)] + [f"{LOW},11,C,CODE011"]
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert any("10 of 11 slots are A, far from the protocol's ratio" in m for m in messages)


def test_a_sequence_that_is_not_a_number_is_refused(randomised_protocol, data_manager):
    rows = good_rows()
    rows[0] = rows[0].replace(f"{LOW},1,", f"{LOW},one,")
    assert "Row 2: sequence 'one' is not a whole number from 1." in refused(
        randomised_protocol, data_manager, csv_text(rows)
    )


def test_a_wrong_header_is_refused(randomised_protocol, data_manager):
    messages = refused(randomised_protocol, data_manager, csv_text(good_rows(), header="stratum,seq,arm,code"))
    assert messages[0].startswith("The header must be exactly: stratum,sequence,arm,code")


def test_an_empty_file_is_refused(randomised_protocol, data_manager):
    assert "The file has no rows." in refused(randomised_protocol, data_manager, csv_text([]))


def test_every_bad_row_is_reported_at_once(randomised_protocol, data_manager):
    rows = good_rows()
    rows[0] = rows[0].replace(",A,", ",Z,")
    rows[7] = rows[7].replace(",C,", ",Q,")
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert {m.split(":")[0] for m in messages if m.startswith("Row")} == {"Row 2", "Row 9"}


def test_a_code_that_reads_as_a_formula_is_refused_naming_the_row(randomised_protocol, data_manager):
    rows = good_rows()
    rows[0] = rows[0].rsplit(",", 1)[0] + ",=1+1"
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert "Row 2: code '=1+1' may not start with '=': spreadsheets would run it as a formula." in messages


@pytest.mark.parametrize("column", ["arm", "stratum"])
def test_an_arm_or_stratum_that_reads_as_a_formula_is_refused_naming_the_row(randomised_protocol, data_manager, column):
    rows = good_rows()
    stratum, sequence, arm, code = rows[3].split(",")
    cells = {"stratum": stratum, "sequence": sequence, "arm": arm, "code": code}
    cells[column] = "@cmd"
    rows[3] = ",".join(cells.values())
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert f"Row 5: {column} '@cmd' may not start with '@': spreadsheets would run it as a formula." in messages
    assert not any(m.startswith("Row 5: unknown") for m in messages)


def test_a_code_with_a_nul_character_is_refused_naming_the_row(randomised_protocol, data_manager):
    rows = good_rows()
    rows[0] = rows[0].rsplit(",", 1)[0] + ",AB\x00CD"
    messages = refused(randomised_protocol, data_manager, csv_text(rows))
    assert any(m.startswith("Row 2: code") and "control characters" in m for m in messages)
