"""Errors and input checks shared by every perpsbook module.

Every error raised for bad input is a subclass of :class:`PerpsbookError`, itself a
:class:`ValueError`, so ``except ValueError`` catches all of them. Messages name the
argument, show the value received and say what is allowed.

The ``check_*`` helpers convert their input to ``float`` or a ``float64`` array and return
it, so a caller can write ``size = check_positive("size", size)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BookError",
    "InsufficientLiquidityError",
    "InvalidInputError",
    "InvalidSideError",
    "LeverageError",
    "PerpsbookError",
    "ScheduleError",
    "as_float_array",
    "check_finite",
    "check_fraction",
    "check_nonnegative",
    "check_positive",
    "check_side",
    "check_sides",
]


class PerpsbookError(ValueError):
    """Base class of every error perpsbook raises for bad input or impossible requests."""


class InvalidInputError(PerpsbookError):
    """A number or array is NaN, infinite, negative or zero where that is not allowed."""


class InvalidSideError(InvalidInputError):
    """A side is not +1 (long / buy) or -1 (short / sell)."""


class LeverageError(InvalidInputError):
    """Leverage is outside what the venue's schedule allows for the position's notional."""


class ScheduleError(InvalidInputError):
    """A margin schedule is malformed (unsorted brackets, MMR >= initial margin rate, ...)."""


class BookError(InvalidInputError):
    """An order book is malformed: empty side, unsorted or crossed levels, bad quantities."""


class InsufficientLiquidityError(PerpsbookError):
    """A market order asked for more than the book holds.

    Attributes
    ----------
    requested : float
        What was asked for (coins, or USD for orders by notional).
    available : float
        What the book could fill (same unit as ``requested``).
    unit : str
        ``"coins"`` or ``"USD"``.
    """

    def __init__(self, side: str, requested: float, available: float, unit: str = "coins"):
        self.side = side
        self.requested = float(requested)
        self.available = float(available)
        self.unit = unit
        super().__init__(
            f"cannot {side} {self.requested:,.6g} {unit}: the book holds only "
            f"{self.available:,.6g} {unit} on that side; pass partial=True to accept a "
            f"partial fill"
        )


def _describe(value: Any) -> str:
    arr = np.asarray(value)
    if arr.ndim == 0:
        return repr(value)
    return f"array of shape {arr.shape}"


def as_float_array(name: str, value: Any) -> npt.NDArray[np.float64]:
    """Return ``value`` as a float64 array, raising InvalidInputError if it is not numeric."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{name} must be a number or array of numbers, got {value!r}"
        ) from exc
    return arr


def check_finite(name: str, value: Any) -> Any:
    """Return ``value`` as float (scalar) or float64 array; raise if any entry is NaN/inf."""
    arr = as_float_array(name, value)
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name} must be finite (no NaN or inf), got {_describe(value)}")
    return float(arr) if arr.ndim == 0 else arr


def check_positive(name: str, value: Any) -> Any:
    """Return ``value`` as float/float64 array; raise unless every entry is finite and > 0."""
    out = check_finite(name, value)
    if not np.all(np.asarray(out) > 0):
        raise InvalidInputError(f"{name} must be > 0, got {_describe(value)}")
    return out


def check_nonnegative(name: str, value: Any) -> Any:
    """Return ``value`` as float/float64 array; raise unless every entry is finite and >= 0."""
    out = check_finite(name, value)
    if not np.all(np.asarray(out) >= 0):
        raise InvalidInputError(f"{name} must be >= 0, got {_describe(value)}")
    return out


def check_fraction(name: str, value: Any, *, upper: float = 1.0) -> Any:
    """Return ``value`` as float/float64 array; raise unless every entry is in [0, upper]."""
    out = check_finite(name, value)
    a = np.asarray(out)
    if not np.all((a >= 0) & (a <= upper)):
        raise InvalidInputError(f"{name} must lie in [0, {upper:g}], got {_describe(value)}")
    return out


_SIDE_NAMES = {"long": 1, "buy": 1, "short": -1, "sell": -1}


def check_side(side: Any) -> int:
    """Return +1 (long / buy) or -1 (short / sell).

    Accepts the integers +1 and -1 or the strings ``"long"``, ``"buy"``, ``"short"``,
    ``"sell"`` (any case); anything else raises :class:`InvalidSideError`.
    """
    if isinstance(side, str) and side.strip().lower() in _SIDE_NAMES:
        return _SIDE_NAMES[side.strip().lower()]
    numeric = (int, np.integer, float, np.floating)
    is_number = isinstance(side, numeric) and not isinstance(side, bool)
    if is_number and side in (1, -1):
        return int(side)
    raise InvalidSideError(
        f"side must be +1 (long/buy) or -1 (short/sell) or one of {sorted(_SIDE_NAMES)}, "
        f"got {side!r}"
    )


def check_sides(name: str, value: Any) -> npt.NDArray[np.int8]:
    """Return an int8 array of sides, raising unless every entry is +1 or -1."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" or not np.all((arr == 1) | (arr == -1)):
        raise InvalidSideError(
            f"{name} must contain only +1 (long) and -1 (short), got {_describe(value)}"
        )
    return arr.astype(np.int8)
