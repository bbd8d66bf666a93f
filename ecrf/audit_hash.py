"""The audit trail's hash chain: each history row's SHA-256 covers its content and the hash of the row before it.

``canonical`` and ``chain_hash`` are pure; ``row_content`` reads a history row (or, in a migration, its frozen
model) into the plain values they take.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

GENESIS = "0" * 64
NOT_CONTENT = {"history_id", "row_hash", "previous_hash"}


def canonical(content: Mapping[str, object]) -> bytes:
    """The content as sorted, compact JSON; values other than str, int, bool and None are tagged by type.

    Decimals are written without trailing zeros (42.0 and 42.0000 are one value) and datetimes in UTC, so a row
    serialises the same before and after the database round trip.
    """
    plain = {name: _plain(value) for name, value in content.items()}
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(content: Mapping[str, object], previous_hash: str) -> str:
    """SHA-256 of the content chained to the hash of the record's previous history row (GENESIS for the first)."""
    return hashlib.sha256(canonical({**content, "previous_hash": previous_hash})).hexdigest()


def _plain(value):
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal):
        return ["decimal", format(value.normalize(), "f")]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"A naive datetime cannot be hashed unambiguously: {value!r}")
        return ["datetime", value.astimezone(UTC).isoformat()]
    if isinstance(value, date):
        return ["date", value.isoformat()]
    if isinstance(value, time):
        return ["time", value.isoformat()]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, UUID):
        return ["uuid", str(value)]
    raise TypeError(f"No canonical form for {type(value).__name__}: {value!r}")


def row_content(row) -> dict[str, object]:
    """Every column of a history row but its id and hashes, as Python values (strings parsed, as after a read)."""
    return {
        field.attname: field.to_python(getattr(row, field.attname))
        for field in row._meta.concrete_fields
        if field.name not in NOT_CONTENT
    }
