"""Subject code patterns a protocol may give (``DLC-{site}-{nnn}``): checking, formatting and reading them.

Pure (no Django): the protocol schema checks a pattern with it, registration refuses codes that do not fit, the
selector proposes the next free code and the demo writes its codes with it. ``{site}`` is the site's code as it
is (it may hold a dash: ``DLC-BJ-5MC-001``); ``{n}``, ``{nn}``, ``{nnn}`` is the sequence, zero-padded to that width.
"""

import re

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
SEQUENCE_WIDTHS = {"n": 1, "nn": 2, "nnn": 3, "nnnn": 4}


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None when it can."""
    names = _PLACEHOLDER.findall(pattern)
    unknown = [name for name in names if name != "site" and name not in SEQUENCE_WIDTHS]
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}}: use {{site}} and one of {{n}}, {{nn}}, {{nnn}}, {{nnnn}}"
    if sum(name in SEQUENCE_WIDTHS for name in names) != 1:
        return "give exactly one sequence placeholder: {n}, {nn}, {nnn} or {nnnn}"
    if names.count("site") > 1:
        return "{site} may appear only once"
    literal = _PLACEHOLDER.sub("", pattern)
    if "{" in literal or "}" in literal:
        return "braces only enclose placeholders"
    if any(character.isspace() or ord(character) < 32 or ord(character) == 127 for character in literal):
        return "may not contain spaces or control characters"
    return None


def format_code(pattern: str, *, site: str, number: int) -> str:
    """The code numbered ``number`` at ``site``."""

    def fill(match):
        name = match.group(1)
        return site if name == "site" else f"{number:0{SEQUENCE_WIDTHS[name]}d}"

    return _PLACEHOLDER.sub(fill, pattern)


def sequence_of(pattern: str, code: str, *, site: str) -> int | None:
    """The sequence number of ``code`` under ``pattern`` at ``site``, letter case ignored; None if it does not fit."""
    parts = []
    for index, piece in enumerate(_PLACEHOLDER.split(pattern)):
        if index % 2 == 0:
            parts.append(re.escape(piece))
        else:
            parts.append(re.escape(site) if piece == "site" else "(?P<number>[0-9]+)")
    match = re.fullmatch("".join(parts), code.strip(), re.IGNORECASE)
    if match is None:
        return None
    number = int(match["number"])
    # The padding must be the pattern's own: DLC-BJ-0001 is not DLC-{site}-{nnn}'s number 1.
    if number < 1 or format_code(pattern, site=site, number=number).lower() != code.strip().lower():
        return None
    return number
