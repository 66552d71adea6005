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


# ----------------------------------------------------------------- hardening (issue 7)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "got None"),
        ("5", r"'5' \(strings\)"),
        (True, r"True \(bools"),
        (np.array([True, False]), r"\(bools"),
        (np.datetime64("2020-01-01"), r"\(datetimes\)"),
        (np.timedelta64(1, "s"), r"\(timedeltas\)"),
        (1 + 2j, r"\(complex numbers\)"),
        (object(), "containing <object"),
        ([1.0, None], "containing None"),
        ([1.0, [2.0, 3.0]], r"got \[1.0, \[2.0, 3.0\]\]"),
        (10**400, r"within the float64 range.*401 chars"),
        (-(10**400), r"within the float64 range"),
        ([1, 10**400], r"float64 range.*got array of shape \(2,\)"),
        (2**1024, r"within the float64 range"),
    ],
)
def test_as_float_array_rejects_non_numbers_and_overflow(value, message):
    with pytest.raises(E.InvalidInputError, match=r"^size must be a number.*" + message):
        E.as_float_array("size", value)


def test_as_float_array_accepts_real_numbers():
    from fractions import Fraction

    assert E.as_float_array("x", 5).dtype == np.float64
    assert E.as_float_array("x", np.int64(3)) == 3.0
    assert E.as_float_array("x", Fraction(1, 4)) == 0.25
    assert E.as_float_array("x", np.float32(2.5)) == 2.5
    assert E.as_float_array("x", 2**1023) == 2.0**1023  # large but representable
    assert np.isnan(E.as_float_array("x", float("nan")))  # check_finite refuses it, not this
    assert E.as_float_array("x", []).shape == (0,)


def test_overflow_message_is_short():
    with pytest.raises(E.InvalidInputError) as info:
        E.check_positive("qty", 10**400)
    assert len(str(info.value)) < 250
    assert "qty" in str(info.value)


def test_check_count():
    assert E.check_count("n", 3) == 3
    assert E.check_count("n", np.int32(0), lowest=0) == 0
    for bad in (0, -1, 2.0, True, "3", None, [3]):
        with pytest.raises(E.InvalidInputError, match=r"^n must be an integer >= 1"):
            E.check_count("n", bad)


def test_check_scalar():
    assert E.check_scalar("fee", 0.01, E.check_fraction, upper=0.1) == 0.01
    assert isinstance(E.check_scalar("x", np.float64(2)), float)
    for bad in ([1.0, 2.0], [1.0], np.ones(1), "1", True, None, [[1], [2, 3]]):
        with pytest.raises(E.InvalidInputError, match=r"^fee must be a single real number"):
            E.check_scalar("fee", bad)
    with pytest.raises(E.InvalidInputError, match=r"fee must lie in \[0, 0.1\]"):
        E.check_scalar("fee", 0.5, E.check_fraction, upper=0.1)


def test_side_array():
    assert E.side_array("side", "short") == -1
    assert E.side_array("side", 1).dtype == np.int8
    assert E.side_array("side", [1, -1, 1]).tolist() == [1, -1, 1]
    for bad in ("up", 0, True, None, [1, 0], [[1], [1, -1]], 1.5):
        with pytest.raises(E.InvalidSideError, match=r"^side must"):
            E.side_array("side", bad)


def test_readonly():
    src = np.arange(3.0)
    out = E.readonly(src)
    assert not out.flags.writeable and src.flags.writeable and out is not src
    same = E.readonly(src, copy=False)
    assert same is src and not src.flags.writeable
    assert E.readonly([1, 2], np.int8).dtype == np.int8


def test_bounds_of_the_checks_are_checked_too():
    for bad in (None, "1", 10**400, math.nan, -1.0, [1.0]):
        with pytest.raises(E.InvalidInputError, match=r"^upper"):
            E.check_fraction("x", 0.5, upper=bad)
    for bad in (None, "1", 1.5, True):
        with pytest.raises(E.InvalidInputError, match=r"^lowest"):
            E.check_count("n", 3, bad)
