"""The SHA-256 commitment of a randomisation list: a pure function of its content, computed the same way
when the list is stored and whenever it is verified.
"""

import hashlib


def canonical_text(study, protocol_version: str, rows) -> str:
    """The list as committed: header, then ``stratum,sequence,arm,code`` lines in stratum and sequence order."""
    lines = [f"study={study.code}", f"protocol={protocol_version}", "stratum,sequence,arm,code"]
    lines += [f"{s},{n},{arm},{code}" for s, n, arm, code in sorted(rows, key=lambda r: (r[0], r[1]))]
    return "\n".join(lines) + "\n"


def commitment_of(study, protocol_version: str, rows) -> str:
    return hashlib.sha256(canonical_text(study, protocol_version, rows).encode("utf-8")).hexdigest()
