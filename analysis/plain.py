"""Plain JSON numbers from numpy and scipy results: the analysis modules' one rule for missing and failed values."""

import math
import warnings
from collections.abc import Callable

import numpy as np


def number(value) -> float | int | None:
    """A Python number: None for None, NaN or infinity; integers stay integers, numpy scalars become Python's."""
    if value is None:
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def p_value(compute: Callable[[], float]) -> float | None:
    """A test's p-value, or None where scipy refuses the data or answers NaN (zero variance, too few values)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return number(compute())
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return None
