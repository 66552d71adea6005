"""Tests of perpsbook.errors: the error hierarchy and the shared input checks."""

import math

import numpy as np
import pytest

from perpsbook import errors as E


def test_every_error_is_a_value_error():
    for cls in (
        E.InvalidInputError,
        E.InvalidSideError,
        E.LeverageError,
        E.ScheduleError,
        E.BookError,
        E.InsufficientLiquidityError,
    ):
        assert issubclass(cls, E.PerpsbookError)
        assert issubclass(cls, ValueError)


def test_insufficient_liquidity_message_says_what_was_available():
    err = E.InsufficientLiquidityError("buy", 1_500.0, 1_200.0)
    assert (err.requested, err.available, err.unit) == (1500.0, 1200.0, "coins")
    assert "1,500" in str(err) and "1,200" in str(err) and "partial=True" in str(err)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, math.nan]])
def test_check_finite_rejects_nan_and_inf(bad):
    with pytest.raises(E.InvalidInputError, match="price must be finite"):
        E.check_finite("price", bad)


def test_checks_return_floats_and_float64_arrays():
    assert E.check_positive("size", 3) == 3.0 and isinstance(E.check_positive("size", 3), float)
    arr = E.check_nonnegative("size", [0, 1, 2])
    assert arr.dtype == np.float64 and arr.tolist() == [0.0, 1.0, 2.0]
    assert E.check_fraction("h", 0.5) == 0.5
    assert E.check_fraction("h", 2.0, upper=2.0) == 2.0


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (E.check_positive, 0.0, "size must be > 0"),
        (E.check_positive, -1.0, "size must be > 0"),
        (E.check_nonnegative, -1e-12, "size must be >= 0"),
        (E.check_fraction, 1.5, r"size must lie in \[0, 1\]"),
        (E.as_float_array, "ten", "size must be a number"),
    ],
)
def test_checks_name_the_argument_and_the_rule(check, value, message):
    with pytest.raises(E.InvalidInputError, match=message):
        check("size", value)


def test_check_side_accepts_numbers_and_names():
    assert [E.check_side(s) for s in (1, -1, 1.0, np.int8(-1), "long", " SELL ", "buy")] == [
        1,
        -1,
        1,
        -1,
        1,
        -1,
        1,
    ]


@pytest.mark.parametrize("bad", [0, 2, True, "up", None, math.nan])
def test_check_side_rejects_everything_else(bad):
    with pytest.raises(E.InvalidSideError, match="side must be"):
        E.check_side(bad)


def test_check_sides_array():
    assert E.check_sides("sides", [1, -1, 1]).dtype == np.int8
    with pytest.raises(E.InvalidSideError, match="sides must contain only"):
        E.check_sides("sides", [1, 0])
