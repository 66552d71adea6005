"""Tests of perpsbook.positions: the struct-of-arrays Positions container."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.errors import InvalidInputError, InvalidSideError, LeverageError
from perpsbook.positions import Positions


def three() -> Positions:
    # long 2 coins @100 with 20 USD, short 1 coin @50 with 10 USD, long 4 coins @10 with 40 USD
    return Positions(
        side=[1, -1, 1],
        size=[2.0, 1.0, 4.0],
        entry_price=[100.0, 50.0, 10.0],
        margin=[20.0, 10.0, 40.0],
    )


# ------------------------------------------------------------------ construction
def test_arrays_are_typed_read_only_copies():
    size = np.array([1.0, 2.0])
    p = Positions(side=[1, -1], size=size, entry_price=[10.0, 20.0], margin=[1.0, 2.0])
    assert p.side.dtype == np.int8 and p.size.dtype == np.float64
    size[0] = 99.0
    assert p.size[0] == 1.0
    with pytest.raises(ValueError):
        p.size[0] = 5.0
    with pytest.raises(AttributeError):
        p.size = np.array([3.0, 4.0])  # type: ignore[misc]


def test_scalars_broadcast_to_the_array_length():
    p = Positions(side=-1, size=[1.0, 2.0, 3.0], entry_price=10.0, margin=5.0)
    assert p.n == 3 and len(p) == 3
    np.testing.assert_array_equal(p.side, [-1, -1, -1])
    np.testing.assert_array_equal(p.margin, [5.0, 5.0, 5.0])
    single = Positions(side="short", size=1.0, entry_price=2.0, margin=0.5)
    assert single.n == 1 and single.side[0] == -1


def test_from_leverage_sets_margin_to_notional_over_leverage():
    p = Positions.from_leverage(
        side=[1, -1], size=[0.5, 2.0], entry_price=[20_000.0, 3_000.0], leverage=[10.0, 4.0]
    )
    np.testing.assert_allclose(p.margin, [1_000.0, 1_500.0])
    np.testing.assert_allclose(p.leverage, [10.0, 4.0])


def test_notional_upnl_equity_hand_computed():
    p = three()
    np.testing.assert_allclose(p.entry_notional, [200.0, 50.0, 40.0])
    np.testing.assert_allclose(p.notional(110.0), [220.0, 110.0, 440.0])
    # long: 2*(110-100)=20 ; short: -1*(110-50)=-60 ; long: 4*(110-10)=400
    np.testing.assert_allclose(p.upnl(110.0), [20.0, -60.0, 400.0])
    np.testing.assert_allclose(p.equity(110.0), [40.0, -50.0, 440.0])
    # a per-position mark array
    np.testing.assert_allclose(p.upnl([90.0, 40.0, 10.0]), [-20.0, 10.0, 0.0])
    np.testing.assert_allclose(p.leverage, [10.0, 5.0, 1.0])


def test_zero_margin_means_infinite_leverage_not_nan():
    p = Positions(side=[1, 1], size=[1.0, 1.0], entry_price=[10.0, 10.0], margin=[0.0, 5.0])
    np.testing.assert_array_equal(p.leverage, [np.inf, 2.0])


def test_empty_container():
    p = Positions.empty()
    assert p.n == 0
    assert p.upnl(5.0).shape == (0,)
    assert p.leverage.shape == (0,)
    q = Positions(side=np.empty(0), size=[], entry_price=[], margin=[])
    assert q == p
    assert Positions.concat([]) == p
    assert three().take(np.zeros(3, bool)) == p


# ------------------------------------------------------------------ derived copies
def test_take_by_indices_mask_slice_and_int():
    p = three()
    np.testing.assert_array_equal(p.take([2, 0]).entry_price, [10.0, 100.0])
    np.testing.assert_array_equal(p.take(p.side == 1).size, [2.0, 4.0])
    np.testing.assert_array_equal(p.take(slice(1, None)).margin, [10.0, 40.0])
    one = p.take(1)
    assert one.n == 1 and one.side[0] == -1
    with pytest.raises(InvalidInputError, match="out of range"):
        p.take([3])
    with pytest.raises(InvalidInputError, match="boolean mask"):
        p.take([True, False])
    with pytest.raises(InvalidInputError, match="integers"):
        p.take([0.5])


def test_replace_validates_and_leaves_original_untouched():
    p = three()
    q = p.replace(margin=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(q.margin, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(p.margin, [20.0, 10.0, 40.0])
    with pytest.raises(InvalidInputError, match="unknown fields"):
        p.replace(leverage=[1.0, 1.0, 1.0])
    with pytest.raises(InvalidInputError, match="margin"):
        p.replace(margin=[1.0, -2.0, 3.0])
    with pytest.raises(InvalidInputError, match="same length"):
        p.replace(size=[1.0, 2.0])


def test_concat_preserves_order():
    p = three()
    joined = Positions.concat([p.take([0]), p.take([1, 2])])
    assert joined == p
    with pytest.raises(InvalidInputError, match="Positions"):
        Positions.concat([p, "not positions"])  # type: ignore[list-item]


def test_repr_is_compact():
    big = Positions.from_leverage(
        side=np.ones(10_000), size=np.ones(10_000), entry_price=np.full(10_000, 2.0), leverage=2.0
    )
    text = repr(big)
    assert text.startswith("Positions(n=10000, long=10000, short=0")
    assert len(text) < 150


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf])
def test_bad_sizes_and_prices_raise(bad):
    with pytest.raises(InvalidInputError, match="size"):
        Positions(side=[1, 1], size=[1.0, bad], entry_price=[1.0, 1.0], margin=[1.0, 1.0])
    with pytest.raises(InvalidInputError, match="entry_price"):
        Positions(side=[1, 1], size=[1.0, 1.0], entry_price=[bad, 1.0], margin=[1.0, 1.0])


@pytest.mark.parametrize("bad", [-0.01, np.nan, -np.inf])
def test_bad_margin_raises(bad):
    with pytest.raises(InvalidInputError, match="margin"):
        Positions(side=1, size=1.0, entry_price=1.0, margin=bad)


@pytest.mark.parametrize("bad", [0, 2, [1, 0], "up", 1.5])
def test_unknown_side_raises(bad):
    with pytest.raises(InvalidSideError):
        Positions(side=bad, size=[1.0, 1.0], entry_price=1.0, margin=1.0)


def test_shape_errors():
    with pytest.raises(InvalidInputError, match="same length"):
        Positions(side=[1, -1], size=[1.0, 2.0, 3.0], entry_price=1.0, margin=1.0)
    with pytest.raises(InvalidInputError, match="1-D"):
        Positions(side=1, size=np.ones((2, 2)), entry_price=1.0, margin=1.0)
    with pytest.raises(InvalidInputError, match="length N=3"):
        three().upnl([1.0, 2.0])
    with pytest.raises(InvalidInputError, match="mark"):
        three().equity(-1.0)


def test_from_leverage_rejects_leverage_below_one():
    with pytest.raises(LeverageError, match=">= 1"):
        Positions.from_leverage(side=1, size=1.0, entry_price=1.0, leverage=0.5)
    with pytest.raises(InvalidInputError):
        Positions.from_leverage(side=1, size=1.0, entry_price=1.0, leverage=np.nan)


def test_every_error_is_a_value_error():
    with pytest.raises(ValueError):
        Positions(side=3, size=1.0, entry_price=1.0, margin=1.0)


# ------------------------------------------------------------------ properties
@st.composite
def positions(draw, min_n=0, max_n=20):
    n = draw(st.integers(min_n, max_n))
    fl = st.floats(1e-3, 1e4, allow_nan=False)
    side = draw(st.lists(st.sampled_from([1, -1]), min_size=n, max_size=n))
    size = draw(st.lists(fl, min_size=n, max_size=n))
    entry = draw(st.lists(fl, min_size=n, max_size=n))
    lev = draw(st.lists(st.floats(1.0, 125.0), min_size=n, max_size=n))
    if n == 0:
        return Positions.empty()
    return Positions.from_leverage(side, size, entry, lev)


@settings(max_examples=60)
@given(positions(), st.floats(1e-3, 1e4))
def test_equity_at_entry_is_margin_and_flipping_sides_negates_upnl(p, mark):
    np.testing.assert_allclose(p.equity(p.entry_price), p.margin)
    flipped = p.replace(side=-p.side)
    np.testing.assert_allclose(flipped.upnl(mark), -p.upnl(mark))
    np.testing.assert_allclose(p.leverage * p.margin, p.entry_notional, rtol=1e-12)


@settings(max_examples=60)
@given(positions(min_n=1), st.data())
def test_take_then_concat_round_trips(p, data):
    cut = data.draw(st.integers(0, p.n))
    assert Positions.concat([p.take(slice(0, cut)), p.take(slice(cut, None))]) == p


@pytest.mark.parametrize("field", ["side", "size", "entry_price", "margin"])
def test_ragged_lists_are_named(field):
    args = {"side": [1, -1], "size": [1.0, 2.0], "entry_price": [10.0, 10.0], "margin": 1.0}
    args[field] = [[1], [1, -1]] if field == "side" else [[1.0], [2.0, 3.0]]
    with pytest.raises(InvalidInputError, match=field):
        Positions(**args)
    if field != "margin":
        lev = {**args, "leverage": 5.0}
        del lev["margin"]
        with pytest.raises(InvalidInputError, match=field):
            Positions.from_leverage(**lev)


def test_take_names_ragged_indices_and_keeps_the_arrays_read_only():
    pos = Positions([1, -1, 1], [1.0, 2.0, 3.0], 10.0, 1.0)
    with pytest.raises(InvalidInputError, match="indices"):
        pos.take([[0], [1, 2]])
    with pytest.raises(InvalidInputError, match="indices must be integers"):
        pos.take([10**400])
    sub = pos.take([2, 0])
    assert sub.side.tolist() == [1, 1] and sub.side.dtype == np.int8
    for name in ("side", "size", "entry_price", "margin"):
        assert not getattr(sub, name).flags.writeable
    assert Positions("short", 1.0, 10.0, 1.0).side.tolist() == [-1]


def test_check_and_selection_are_the_shared_argument_checks():
    pos = Positions([1, -1, 1], [1.0, 2.0, 3.0], 10.0, 1.0)
    assert Positions.check(pos) is pos
    with pytest.raises(InvalidInputError, match=r"book must be a perpsbook\.positions\.Positions"):
        Positions.check([1, 2], "book")
    assert pos.selection("mask", None, default=True).tolist() == [True] * 3
    assert pos.selection("mask", [False, True, False], default=True).tolist() == [0, 1, 0]
    for bad in ([0, 1, 2], [True, False], [[True], [False, True]], "yes"):
        with pytest.raises(
            InvalidInputError, match=r"exclude must be a boolean array of shape \(3,\)"
        ):
            pos.selection("exclude", bad, default=False)
