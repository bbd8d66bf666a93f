"""Synthetic measurement values: lab results along a subject's course, HBeAg, and product QC results that pass."""

import math
import random

# Where a liver's synthetic products can go in these patients (CRF units): a worse or better liver moves them on
# a logit scale inside these limits, so recovery levels off below the healthy range's top instead of passing it.
SYNTHESIS_LIMITS = {"ALB": (15, 48), "PTA": (5, 110), "CHE": (500, 9000), "TC": (0.8, 6.0)}
# How far one MELD-like point moves each analyte: log scale for what the sick liver raises, logit for the rest.
PER_POINT = {"TBIL": 0.12, "CREA": 0.04, "ALT": 0.04, "AST": 0.04, "AFP": 0.04, "INR": 0.08}
SYNTHESIS_PER_POINT = {"ALB": 0.12, "PTA": 0.12, "CHE": 0.09, "TC": 0.06}


def trajectory(code: str, baseline: float | None, severity: float, rng: random.Random) -> float | None:
    """A lab value after ``severity`` MELD-like points of change (negative: better), with assay noise."""
    if baseline is None:
        return None
    noise = rng.gauss(1, 0.05)
    if code in SYNTHESIS_LIMITS:
        low, high = SYNTHESIS_LIMITS[code]
        share = min(max((baseline - low) / (high - low), 0.01), 0.99)
        moved = 1 / (1 + math.exp(-(math.log(share / (1 - share)) - severity * SYNTHESIS_PER_POINT[code])))
        return min(high, (low + (high - low) * moved) * noise)
    if code == "INR":
        return 1 + (baseline - 1) * math.exp(severity * PER_POINT[code]) * noise
    if code in PER_POINT:
        return baseline * math.exp(severity * PER_POINT[code]) * noise
    return baseline * noise


def hbeag_value(positive: bool, rng: random.Random) -> float:
    """An HBeAg signal-to-cutoff ratio: reactive sera from just above 1 to hundreds, non-reactive below 1."""
    if positive:
        return round(min(1.01 + rng.lognormvariate(math.log(20), 1.5), 4000), 2)
    return round(rng.uniform(0.05, 0.9), 2)


def passing_value(comparator: str, threshold: float, rng: random.Random) -> float:
    """A QC result comfortably on the passing side of its threshold."""
    if comparator in (">", ">="):
        return round(min(99.9, threshold + rng.uniform(1, max(2.0, (100 - threshold) * 0.8))), 1)
    return round(threshold * rng.uniform(0.1, 0.6), 2)
