"""The content of a generated randomisation list as a pure function of a secret: no ORM, no clock, no state.

Each list comes from its own 256-bit secret drawn from the operating system (``secrets.token_bytes``). Two keys
are derived from it with HMAC-SHA256 under fixed labels, one for the block shuffling and one for the slot codes,
so neither a code nor an arm a coordinator sees lets anyone compute the other slots: there is no small seed to
search. The same secret, protocol, sites and slots per stratum give the same rows, on any Python version: the
draws are HMAC-SHA256 in counter mode with our own rejection sampling and Fisher-Yates shuffle, not the
``random`` module's Mersenne Twister (whose algorithms for choice and shuffle are CPython's to change).
"""

import hashlib
import hmac
import itertools
import secrets
import string

SECRET_BYTES = 32  # 256 bits
CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "01IO")
BLOCK_MULTIPLES = (1, 2, 3)


def new_secret() -> bytes:
    """A fresh list secret from the operating system's generator (never a seed anyone chose)."""
    return secrets.token_bytes(SECRET_BYTES)


def derive_key(secret: bytes, label: str) -> bytes:
    """HMAC-SHA256(secret, label): independent keys for independent uses of the one secret."""
    return hmac.new(secret, label.encode(), hashlib.sha256).digest()


class KeyedStream:
    """Deterministic draws from HMAC-SHA256(key, block counter); without the key its output predicts nothing."""

    def __init__(self, key: bytes):
        self._key, self._counter, self._buffer = key, 0, b""

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            self._buffer += hmac.new(self._key, self._counter.to_bytes(8, "big"), hashlib.sha256).digest()
            self._counter += 1
        chunk, self._buffer = self._buffer[:n], self._buffer[n:]
        return chunk

    def below(self, n: int) -> int:
        """Uniform in 0..n-1 by rejection sampling (no modulo bias)."""
        bits = max(n - 1, 1).bit_length()
        while True:
            value = int.from_bytes(self._bytes((bits + 7) // 8), "big") >> (-bits % 8)
            if value < n:
                return value

    def choice(self, items):
        return items[self.below(len(items))]

    def shuffle(self, items: list) -> None:
        """Fisher-Yates, in place."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def permuted_blocks(arms, slots: int, rng):
    """(arm, block number, block size) for at least ``slots`` places, in whole blocks of randomly varying size."""
    unit = [arm for arm in arms for _ in range(arm.ratio)]
    places, block = [], 0
    while len(places) < slots:
        block += 1
        content = unit * rng.choice(BLOCK_MULTIPLES)
        rng.shuffle(content)
        places += [(arm, block, len(content)) for arm in content]
    return places


def slot_code(code_key: bytes, study_code: str, stratum: str, sequence: int, used: set[str]) -> str:
    """A code that reveals nothing: a keyed hash of the slot, unique within the list."""
    for attempt in itertools.count():
        digest = hmac.new(code_key, f"{stratum}|{sequence}|{attempt}".encode(), hashlib.sha256).digest()
        code = f"{study_code}-" + "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:6])
        if code not in used:
            used.add(code)
            return code
    raise AssertionError("unreachable")


def list_rows(*, study_code: str, arms, strata: list[str], secret: bytes, slots_per_stratum: int) -> list[tuple]:
    """(stratum, sequence, arm, code, block, block size) for every slot; strata are drawn in the order given."""
    if len(secret) < 16:
        raise ValueError("A randomisation secret has at least 128 bits.")
    rng = KeyedStream(derive_key(secret, "block-shuffle"))
    code_key = derive_key(secret, "slot-codes")
    used, rows = set(), []
    for stratum in strata:
        for sequence, (arm, block, size) in enumerate(permuted_blocks(arms, slots_per_stratum, rng), start=1):
            rows.append((stratum, sequence, arm, slot_code(code_key, study_code, stratum, sequence, used), block, size))
    return rows
