"""Importing a statistician's randomisation list (CSV: stratum, sequence, arm, code), all or nothing."""

import csv
import io
from collections import Counter, defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction

from ecrf.models import RandomisationList, Study
from ecrf.selectors.randomisation import site_codes, strata_of
from ecrf.services.codes import formula_problem
from ecrf.services.randomisation import randomised_protocol, store_imported

COLUMNS = ["stratum", "sequence", "arm", "code"]
# An arm's share of a stratum may differ from the protocol's by at most this many slots, or 10 % of the stratum.
RATIO_TOLERANCE_SLOTS = 2


def parse_list_csv(text: str, *, study: Study) -> tuple[object, list[tuple]]:
    """Validate the CSV against the study's protocol; return (protocol, rows) or raise with every row's problem."""
    protocol = randomised_protocol(study)
    arms = {arm.code: arm for arm in protocol.arms.all()}
    strata = set(strata_of(protocol, site_codes(study)))
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or [f.strip().lower() for f in reader.fieldnames] != COLUMNS:
        raise ValidationError(f"The header must be exactly: {','.join(COLUMNS)} (got {reader.fieldnames}).")
    errors, rows, seen_codes, seen_sequences = [], [], {}, {}
    for line, record in enumerate(reader, start=2):
        row, problems = _row(record, arms, strata)
        if row is not None:
            stratum, sequence, arm, code = row
            if code in seen_codes:
                problems.append(f"code {code} already on row {seen_codes[code]}")
            if (stratum, sequence) in seen_sequences:
                problems.append(
                    f"sequence {sequence} of {stratum} already on row {seen_sequences[(stratum, sequence)]}"
                )
            seen_codes.setdefault(code, line)
            seen_sequences.setdefault((stratum, sequence), line)
        errors += [f"Row {line}: {problem}." for problem in problems]
        if not problems:
            rows.append(row)
    if not errors and not rows:
        errors.append("The file has no rows.")
    errors += _sequence_gaps(rows) + _ratio_problems(rows, arms)
    if errors:
        raise ValidationError(errors)
    return protocol, rows


def _row(record: dict, arms: dict, strata: set) -> tuple[tuple | None, list[str]]:
    values = {key.strip().lower(): (value or "").strip() for key, value in record.items() if key is not None}
    problems = []
    if None in record:
        problems.append("more columns than the header")
    stratum, arm_code, code = values.get("stratum", ""), values.get("arm", ""), values.get("code", "")
    formulas = {column: formula_problem(values.get(column, "")) for column in ("stratum", "arm", "code")}
    problems += [f"{column} {values[column]!r} {problem}" for column, problem in formulas.items() if problem]
    if stratum not in strata and not formulas["stratum"]:
        problems.append(f"unknown stratum {stratum!r} (expected one of {', '.join(sorted(strata))})")
    if arm_code not in arms and not formulas["arm"]:
        problems.append(f"unknown arm {arm_code!r} (expected {', '.join(sorted(arms))})")
    if not code or len(code) > 20:
        problems.append("code must be 1 to 20 characters")
    try:
        sequence = int(values.get("sequence", ""))
        if sequence < 1:
            raise ValueError
    except ValueError:
        problems.append(f"sequence {values.get('sequence')!r} is not a whole number from 1")
        sequence = None
    if problems:
        return None, problems
    return (stratum, sequence, arms[arm_code], code), []


def _sequence_gaps(rows) -> list[str]:
    by_stratum = defaultdict(list)
    for stratum, sequence, _, _ in rows:
        by_stratum[stratum].append(sequence)
    return [
        f"Stratum {stratum}: sequence numbers must run 1 to {len(numbers)} without gaps."
        for stratum, numbers in sorted(by_stratum.items())
        if sorted(numbers) != list(range(1, len(numbers) + 1))
    ]


def _ratio_problems(rows, arms) -> list[str]:
    total_ratio = sum(arm.ratio for arm in arms.values())
    counts = defaultdict(Counter)
    for stratum, _, arm, _ in rows:
        counts[stratum][arm.code] += 1
    problems = []
    for stratum, counter in sorted(counts.items()):
        size = sum(counter.values())
        for arm in arms.values():
            expected = size * arm.ratio / total_ratio
            if abs(counter[arm.code] - expected) > max(RATIO_TOLERANCE_SLOTS, 0.1 * size):
                problems.append(
                    f"Stratum {stratum}: {counter[arm.code]} of {size} slots are {arm.code}, far from the "
                    f"protocol's ratio (about {expected:.0f})."
                )
    return problems


@transaction.atomic
def import_list(*, study: Study, text: str, source_name: str, by) -> RandomisationList:
    protocol, rows = parse_list_csv(text, study=study)
    return store_imported(study=study, protocol=protocol, rows=rows, source_name=source_name, by=by)
