"""Errors, input checks and the small array helpers shared by every perpsbook module.

Every error raised for bad input is a subclass of :class:`PerpsbookError`, itself a
:class:`ValueError`, so ``except ValueError`` catches all of them. Messages name the
argument, show the value received and say what is allowed.

The ``check_*`` helpers convert their input to ``float`` or a ``float64`` array and return
it, so a caller can write ``size = check_positive("size", size)``. What counts as a number:
Python ``int``/``float``, numpy integer and floating scalars and arrays of them (and
``Fraction``/``Decimal``-like real numbers). Rejected with a named error: ``None``,
strings, bools, complex numbers, datetimes/timedeltas, arbitrary objects, ragged lists and
integers too large for a float64 (``10**400`` would silently become ``inf``).

This module is also the one home of the tiny helpers every module needs (they used to be
written five times as ``_readonly``, ``_frozen``, ``_check_count``, ``_scalar``,
``_sides``): :func:`readonly`, :func:`check_count`, :func:`check_scalar`,
:func:`side_array`. They live here rather than in a ``util`` module because they are input
checks too, and every module already imports this one (it imports nothing from perpsbook,
so it can never be part of an import cycle).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
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
    "check_count",
    "check_finite",
    "check_fraction",
    "check_nonnegative",
    "check_positive",
    "check_real",
    "check_scalar",
    "check_side",
    "check_sides",
    "readonly",
    "side_array",
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


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return (
        text if len(text) <= limit else f"{text[: limit - 25]}...{text[-20:]} ({len(text)} chars)"
    )


def _describe(value: Any) -> str:
    try:
        shape = np.shape(value)
    except (TypeError, ValueError):  # ragged nested lists
        return _short(value)
    if len(shape) == 0:
        return _short(value)
    return f"array of shape {shape}"


_FLOAT_MAX = float(np.finfo(np.float64).max)
_ACCEPTED = "a number or array of numbers (real: int or float)"


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def as_float_array(name: str, value: Any) -> npt.NDArray[np.float64]:
    """Return ``value`` as a float64 array, raising InvalidInputError if it is not numeric.

    Integer, unsigned and float arrays (and scalars) convert; ``None``, strings, bools,
    complex numbers, datetimes, ragged lists, arbitrary objects and integers beyond the
    float64 range (about ``1.8e308``) raise :class:`InvalidInputError` naming ``name``.
    NaN and inf pass through here (use :func:`check_finite` to refuse them).
    """
    # Fast paths for what the package passes itself most (a float, a float64 array).
    if type(value) is float:
        return np.asarray(value, dtype=np.float64)
    if type(value) is np.ndarray and value.dtype == np.float64:
        return value
    if value is None:
        raise InvalidInputError(f"{name} must be {_ACCEPTED}, got None")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(f"{name} must be {_ACCEPTED}, got {_short(value)}") from exc
    kind = raw.dtype.kind
    if kind == "O":
        bad = [x for x in raw.ravel().tolist() if not _is_real(x)]
        if bad:
            raise InvalidInputError(
                f"{name} must be {_ACCEPTED}, got {_describe(value)} containing {_short(bad[0])}"
            )
    elif kind not in "iuf":
        what = {
            "b": "bools (True/False are not amounts)",
            "c": "complex numbers",
            "M": "datetimes",
            "m": "timedeltas",
            "U": "strings",
            "S": "bytes",
        }.get(kind, f"dtype {raw.dtype}")
        raise InvalidInputError(f"{name} must be {_ACCEPTED}, got {_describe(value)} ({what})")
    try:
        with np.errstate(over="raise", invalid="ignore"):
            arr = np.asarray(raw, dtype=np.float64)
    except (OverflowError, FloatingPointError) as exc:
        raise InvalidInputError(
            f"{name} must be {_ACCEPTED} within the float64 range (|x| <= {_FLOAT_MAX:.4g}), "
            f"got {_describe(value)}"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} must be {_ACCEPTED}, got {_short(value)}") from exc
    if kind in "iuO" and arr.size and np.isinf(arr).any():
        # float(10**309) overflows, but numpy may round a big int to inf without raising.
        raise InvalidInputError(
            f"{name} must be {_ACCEPTED} within the float64 range (|x| <= {_FLOAT_MAX:.4g}), "
            f"got {_describe(value)}"
        )
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
    try:
        bound = float(upper) if _is_real(upper) else math.nan
    except OverflowError:  # an int beyond the float64 range
        bound = math.inf
    if not 0 < bound < math.inf:
        raise InvalidInputError(
            f"upper (the bound for {name}) must be a finite number > 0, got {_short(upper)}"
        )
    out = check_finite(name, value)
    a = np.asarray(out)
    if not np.all((a >= 0) & (a <= bound)):
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
        f"got {_short(side)}"
    )


def check_sides(name: str, value: Any) -> npt.NDArray[np.int8]:
    """Return an int8 array of sides, raising unless every entry is +1 or -1."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise InvalidSideError(
            f"{name} must contain only +1 (long) and -1 (short), got {_short(value)}"
        ) from exc
    if arr.dtype.kind not in "iuf" or not np.all((arr == 1) | (arr == -1)):
        raise InvalidSideError(
            f"{name} must contain only +1 (long) and -1 (short), got {_describe(value)}"
        )
    return arr.astype(np.int8)


def side_array(name: str, value: Any) -> npt.NDArray[np.int8]:
    """Sides as an int8 array: a single side name/number gives a 0-d array, else +1/-1 entries.

    ``"long"``, ``"buy"``, ``"short"``, ``"sell"``, ``+1`` or ``-1`` (see :func:`check_side`),
    or an array of +1/-1 (see :func:`check_sides`).
    """
    if isinstance(value, (list, tuple, np.ndarray)):
        return check_sides(name, value)
    try:
        return np.asarray(check_side(value), dtype=np.int8)
    except InvalidSideError:
        pass
    raise InvalidSideError(
        f"{name} must be +1 (long/buy) or -1 (short/sell) or one of {sorted(_SIDE_NAMES)}, "
        f"got {_short(value)}"
    )


def check_count(name: str, value: Any, lowest: int = 1) -> int:
    """Return ``value`` as an ``int``, raising unless it is an integer ``>= lowest``.

    Python and numpy integers only (no bools, no floats such as ``3.0``: a count is exact).
    """
    if isinstance(lowest, (bool, np.bool_)) or not isinstance(lowest, (int, np.integer)):
        raise InvalidInputError(
            f"lowest (the bound for {name}) must be an integer, got {_short(lowest)}"
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidInputError(f"{name} must be an integer >= {lowest}, got {_short(value)}")
    if value < lowest:
        raise InvalidInputError(f"{name} must be an integer >= {lowest}, got {_short(value)}")
    return int(value)


def check_scalar(
    name: str, value: Any, check: Callable[..., Any] | None = check_finite, **kw: Any
) -> float:
    """Return ``check(name, value, **kw)`` as a float, raising unless ``value`` is one number.

    Lists, arrays of any shape but 0-d, strings, bools and ``None`` raise
    :class:`InvalidInputError` naming ``name``; ``check`` (default :func:`check_finite`;
    None means the default) then applies its own rule, e.g.
    ``check_scalar("fee", fee, check_fraction, upper=0.1)``. A ``check`` that is not
    callable raises :class:`InvalidInputError` naming ``check``.
    """
    if check is None:
        check = check_finite
    if not callable(check):
        raise InvalidInputError(
            f"check must be a checking function such as check_finite, got {_short(check)}"
        )
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise InvalidInputError(f"{name} must be a single real number, got {_short(value)}")
    try:
        ndim = np.ndim(value)
    except (TypeError, ValueError):  # ragged nested lists
        ndim = -1
    if ndim != 0:
        raise InvalidInputError(f"{name} must be a single real number, got {_describe(value)}")
    return float(check(name, value, **kw))


def check_real(name: str, value: Any, check: Callable[..., Any] = check_finite) -> float:
    """Return ``check(name, value)`` as a float for a Python or numpy real number only.

    Stricter than :func:`check_scalar`: bools, strings, ``datetime64``, 0-d arrays and
    every other object raise :class:`InvalidInputError` naming ``name``, and an integer
    too large for a float64 raises instead of overflowing further down. Used where a
    single stage-engine input is read (:mod:`perpsbook.markets`, :mod:`perpsbook.twomarket`).
    """
    if not callable(check):
        raise InvalidInputError(
            f"check must be a checking function such as check_finite, got {_short(check)}"
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise InvalidInputError(f"{name} must be a single real number, got {_short(value)}")
    try:
        x = float(value)
    except OverflowError as exc:
        raise InvalidInputError(
            f"{name} is too large for a float64 (an integer of {len(str(value))} digits)"
        ) from exc
    return float(check(name, x))


def readonly(value: Any, dtype: Any = np.float64, *, copy: bool = True) -> np.ndarray:
    """``value`` as a read-only array of ``dtype`` (a fresh copy unless ``copy=False``).

    With ``copy=False`` an array that already has ``dtype`` is frozen in place (for arrays
    the caller just built and owns); otherwise it is converted.
    """
    out = np.array(value, dtype=dtype, copy=True) if copy else np.asarray(value, dtype=dtype)
    if out.flags.writeable:
        out.setflags(write=False)
    return out
