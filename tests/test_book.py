"""Tests of perpsbook.book: hand-computed fills, constructors, curves and properties."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import BOOK_SHAPES, QTY_RTOL, Fill, OrderBook
from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidSideError,
)


@pytest.fixture
def book() -> OrderBook:
    """Asks 1@10, 2@11, 3@12 (6 coins, 68 USD); bids 1@9, 2@8 (3 coins, 25 USD)."""
    return OrderBook.from_levels(bids=[(9, 1), (8, 2)], asks=[(10, 1), (11, 2), (12, 3)])


def assert_valid(b: OrderBook) -> None:
    """A derived book passes full validation when rebuilt through the public constructor."""
    OrderBook(b.bid_prices, b.bid_sizes, b.ask_prices, b.ask_sizes)


# ---------------------------------------------------------------- hand-computed fills


def test_buy_crossing_two_levels(book):
    f = book.buy(2)
    assert f.side == 1
    assert f.qty == 2
    assert f.notional == 10 * 1 + 11 * 1
    assert f.vwap == 10.5
    assert (f.first_price, f.last_price) == (10, 11)
    np.testing.assert_array_equal(f.level_prices, [10, 11])
    np.testing.assert_array_equal(f.level_qtys, [1, 1])
    assert f.unfilled == 0
    np.testing.assert_array_equal(f.book_after.ask_prices, [11, 12])
    np.testing.assert_array_equal(f.book_after.ask_sizes, [1, 3])
    np.testing.assert_array_equal(f.book_after.bid_prices, book.bid_prices)
    np.testing.assert_array_equal(f.book_after.bid_sizes, book.bid_sizes)
    assert f.book_after.best_ask == 11


def test_buy_within_first_level(book):
    f = book.buy(0.25)
    assert (f.qty, f.notional, f.vwap, f.last_price) == (0.25, 2.5, 10, 10)
    np.testing.assert_array_equal(f.book_after.ask_sizes, [0.75, 2, 3])


def test_buy_exactly_to_a_level_boundary_removes_the_level(book):
    f = book.buy(3)
    assert (f.qty, f.notional, f.last_price) == (3, 32, 11)
    np.testing.assert_array_equal(f.book_after.ask_prices, [12])
    np.testing.assert_array_equal(f.book_after.ask_sizes, [3])


def test_sell_crossing_two_levels(book):
    f = book.sell(2)
    assert f.side == -1
    assert (f.qty, f.notional, f.vwap, f.first_price, f.last_price) == (2, 17, 8.5, 9, 8)
    np.testing.assert_array_equal(f.level_prices, [9, 8])
    np.testing.assert_array_equal(f.book_after.bid_prices, [8])
    np.testing.assert_array_equal(f.book_after.bid_sizes, [1])
    assert f.book_after.ask_prices is book.ask_prices


def test_market_order_matches_buy_and_sell(book):
    assert book.market_order(1, 2.5) == book.buy(2.5)
    assert book.market_order("buy", 2.5) == book.buy(2.5)
    assert book.market_order(-1, 1.5) == book.sell(1.5)
    assert book.market_order("SELL", 1.5) == book.sell(1.5)


def test_buy_whole_side_leaves_empty_side_not_dust(book):
    f = book.buy(6)
    assert (f.qty, f.notional, f.last_price) == (6, 68, 12)
    assert f.book_after.ask_prices.size == 0
    assert f.book_after.total_ask_qty == 0
    assert "asks=empty" in repr(f.book_after)


def test_rounding_at_cumulative_depth_snaps_to_the_level():
    sizes = [0.1, 0.2, 0.3]  # 0.1 + 0.2 + 0.3 != 0.6 in binary floating point
    b = OrderBook.from_levels(bids=[(1, 1)], asks=list(zip([2.0, 3.0, 4.0], sizes, strict=True)))
    f = b.buy(0.6)
    assert f.unfilled == 0 and f.last_price == 4
    assert f.book_after.ask_prices.size == 0
    g = b.buy(0.3)  # 0.1 + 0.2 == 0.30000000000000004
    np.testing.assert_array_equal(g.book_after.ask_prices, [4.0])
    assert g.last_price == 3.0
    h = b.buy(0.3 * (1 + 10 * QTY_RTOL))  # beyond the tolerance: a real sliver of level 3
    assert h.last_price == 4.0 and h.book_after.ask_sizes[0] < 0.3


def test_buy_notional(book):
    f = book.buy_notional(21)
    assert (f.qty, f.notional, f.last_price) == (2, 21, 11)
    np.testing.assert_array_equal(f.book_after.ask_sizes, [1, 3])
    g = book.buy_notional(15)  # 1 coin at 10, then 5 USD / 11 at 11
    assert g.qty == pytest.approx(1 + 5 / 11, rel=1e-15)
    assert g.notional == 15
    assert g.book_after.ask_sizes[0] == pytest.approx(2 - 5 / 11, rel=1e-15)


def test_sell_notional(book):
    f = book.sell_notional(13)  # 1 coin at 9 (9 USD), then 4 USD / 8 = 0.5 coin
    assert (f.qty, f.notional, f.last_price) == (1.5, 13, 8)
    np.testing.assert_array_equal(f.book_after.bid_sizes, [1.5])


def test_partial_fill_by_qty_and_notional(book):
    f = book.buy(10, partial=True)
    assert (f.qty, f.notional, f.unfilled, f.last_price) == (6, 68, 4, 12)
    assert f.book_after.ask_prices.size == 0
    g = book.sell_notional(100, partial=True)
    assert (g.qty, g.notional, g.unfilled) == (3, 25, 75)
    h = book.buy(5, partial=True)  # partial=True changes nothing when the book suffices
    assert h == book.buy(5)


def test_overbuy_message_names_the_available_amount(book):
    with pytest.raises(InsufficientLiquidityError, match=r"holds only 6 coins") as exc:
        book.buy(7)
    assert exc.value.available == 6 and exc.value.requested == 7
    with pytest.raises(InsufficientLiquidityError, match=r"holds only 25 USD"):
        book.sell_notional(26)
    with pytest.raises(InsufficientLiquidityError, match=r"holds only 3 coins"):
        book.sell(3.5)


def test_trading_against_an_emptied_side(book):
    empty_asks = book.buy(6).book_after
    for partial in (False, True):
        with pytest.raises(InsufficientLiquidityError, match="ask side of the book is empty"):
            empty_asks.buy(1, partial=partial)
    with pytest.raises(InsufficientLiquidityError) as exc:
        empty_asks.impact_curve(1, [1.0])
    assert exc.value.available == 0
    with pytest.raises(BookError, match="ask side of the book is empty"):
        _ = empty_asks.best_ask
    with pytest.raises(BookError):
        _ = empty_asks.mid
    assert empty_asks.sell(1).qty == 1  # the other side still trades


@pytest.mark.parametrize("bad", [0, -1, -0.0, math.nan, math.inf, -math.inf, "x", [1, 2]])
@pytest.mark.parametrize("method", ["buy", "sell", "buy_notional", "sell_notional"])
def test_bad_order_size(book, method, bad):
    with pytest.raises(InvalidInputError):
        getattr(book, method)(bad)


def test_bad_side(book):
    with pytest.raises(InvalidSideError):
        book.market_order(0, 1)
    with pytest.raises(InvalidSideError):
        book.impact_curve("up", [1])


def test_repeatable_and_never_mutates(book):
    before = dataclasses.replace(book)
    f1, f2 = book.buy(4.5), book.buy(4.5)
    assert f1 == f2
    assert book == before
    assert book.buy(4.5).book_after != book
    with pytest.raises(ValueError):
        book.ask_sizes[0] = 100.0
    with pytest.raises(ValueError):
        f1.level_qtys[0] = 100.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        book.ask_sizes = np.ones(3)  # type: ignore[misc]


def test_constructor_copies_its_input():
    prices = np.array([10.0, 11.0])
    b = OrderBook([9.0], [1.0], prices, [1.0, 1.0])
    prices[0] = 100.0
    assert b.best_ask == 10.0


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("bids", "asks", "message"),
    [
        ([], [(10, 1)], "empty book: bids"),
        ([(9, 1)], [], "empty book: asks"),
        ([(9, 1), (9.5, 1)], [(10, 1)], "bid_prices must be strictly descending"),
        ([(9, 1)], [(11, 1), (10, 1)], "ask_prices must be strictly ascending"),
        ([(9, 1)], [(10, 1), (10, 1)], "ask_prices must be strictly ascending"),
        ([(10, 1)], [(10, 1)], "crossed book"),
        ([(10.5, 1)], [(10, 1)], "crossed book"),
        ([(9, 0)], [(10, 1)], "bid_sizes must be finite and > 0"),
        ([(9, 1)], [(10, -1)], "ask_sizes must be finite and > 0"),
        ([(9, 1)], [(math.nan, 1)], "ask_prices must be finite and > 0"),
        ([(9, math.inf)], [(10, 1)], "bid_sizes must be finite and > 0"),
        ([(-9, 1)], [(10, 1)], "bid_prices must be finite and > 0"),
        ([(9, 1, 3)], [(10, 1)], "pairs"),
        ([("a", 1)], [(10, 1)], "pairs"),
    ],
)
def test_from_levels_rejects(bids, asks, message):
    with pytest.raises(BookError, match=message):
        OrderBook.from_levels(bids=bids, asks=asks)


def test_direct_constructor_rejects_mismatched_lengths_and_2d():
    with pytest.raises(BookError, match="ask_prices has 2 levels but ask_sizes has 1"):
        OrderBook([9.0], [1.0], [10.0, 11.0], [1.0])
    with pytest.raises(BookError, match="1-D"):
        OrderBook([[9.0]], [[1.0]], [10.0], [1.0])


def test_errors_are_value_errors(book):
    with pytest.raises(ValueError):
        book.buy(100)
    with pytest.raises(ValueError):
        OrderBook.from_levels(bids=[(10, 1)], asks=[(9, 1)])


# ---------------------------------------------------------------- constructors


def test_flat_ladder_layout_and_repr():
    b = OrderBook.flat_ladder(10.0, 0.01, 100.0, 3)
    np.testing.assert_allclose(b.ask_prices, [10.01, 10.02, 10.03], rtol=1e-15)
    np.testing.assert_allclose(b.bid_prices, [9.99, 9.98, 9.97], rtol=1e-15)
    np.testing.assert_array_equal(b.ask_sizes, [100, 100, 100])
    assert b.mid == pytest.approx(10.0, rel=1e-15)
    assert b.spread == pytest.approx(0.02, rel=1e-12)
    assert repr(b) == (
        "OrderBook(bids=3 levels 9.99..9.97 (300 coins), asks=3 levels 10.01..10.03 (300 coins))"
    )
    wide = OrderBook.flat_ladder(10.0, 0.01, 5.0, 2, spread=0.1)
    assert (wide.best_bid, wide.best_ask) == (9.95, 10.05)


def test_repr_is_compact_for_big_books():
    b = OrderBook.flat_ladder(100.0, 0.01, 1.0, 5000)
    text = repr(b)
    assert len(text) < 120 and "5000 levels" in text


def test_flat_ladder_rejects_levels_below_zero_and_bad_args():
    with pytest.raises(BookError, match="deepest bid"):
        OrderBook.flat_ladder(1.0, 0.01, 1.0, 100)
    with pytest.raises(InvalidInputError):
        OrderBook.flat_ladder(10.0, 0.01, 1.0, 0)
    with pytest.raises(InvalidInputError):
        OrderBook.flat_ladder(10.0, -0.01, 1.0, 3)
    with pytest.raises(InvalidInputError):
        OrderBook.flat_ladder(10.0, 0.01, math.nan, 3)
    with pytest.raises(InvalidInputError):
        OrderBook.flat_ladder(10.0, 0.01, 1.0, 2.5)  # type: ignore[arg-type]


def test_from_depth_profile_callable_and_array():
    b = OrderBook.from_depth_profile(100.0, 1.0, 3, lambda d: 10 * d, spread=2.0)
    np.testing.assert_array_equal(b.ask_prices, [101, 102, 103])
    np.testing.assert_array_equal(b.ask_sizes, [10, 20, 30])
    np.testing.assert_array_equal(b.bid_sizes, [10, 20, 30])
    c = OrderBook.from_depth_profile(100.0, 1.0, 3, [5.0, 6.0, 7.0])
    np.testing.assert_array_equal(c.ask_sizes, [5, 6, 7])
    d = OrderBook.from_depth_profile(100.0, 1.0, 3, lambda d: 4.0)  # scalar broadcasts
    np.testing.assert_array_equal(d.bid_sizes, [4, 4, 4])
    with pytest.raises(BookError, match=r"level 0 \(distance 1 USD from mid\) got 0.0"):
        OrderBook.from_depth_profile(100.0, 1.0, 3, lambda d: d - 1)
    with pytest.raises(BookError, match="for 3 levels"):
        OrderBook.from_depth_profile(100.0, 1.0, 3, [1.0, 2.0])


ARTICLE_COST = {"flat": 210_000.0, "sqrt": 211_983.56003547975, "linear": 640_000.0 / 3}


@pytest.mark.parametrize("shape", BOOK_SHAPES)
def test_calibrated_article_case_and_its_cost(shape):
    b = OrderBook.calibrated(10.0, 11.0, 20_000.0, shape=shape)
    f = b.buy(20_000)
    assert f.first_price == 10.0 and f.last_price == 11.0
    assert f.n_levels == 101 and f.unfilled == 0
    assert f.notional == pytest.approx(ARTICLE_COST[shape], rel=1e-12)
    assert f.notional > 200_000  # the article's $200,000 would be a VWAP of exactly $10
    assert f.book_after.best_ask == pytest.approx(11.01, rel=1e-14)
    assert b.best_bid == pytest.approx(9.99, rel=1e-14)
    assert b.ask_prices[-1] == pytest.approx(20.0, rel=1e-12)  # default: 10x the move
    assert b.qty_to_price(1, 11.0, inclusive=True) == pytest.approx(20_000, rel=1e-12)


def test_calibrated_flat_cost_is_qty_times_midpoint():
    f = OrderBook.calibrated(10.0, 11.0, 20_000.0).buy(20_000)
    assert f.notional == pytest.approx(20_000 * 10.5, rel=1e-13)
    np.testing.assert_allclose(f.level_qtys, 20_000 / 101, rtol=1e-12)


@pytest.mark.parametrize("shape", BOOK_SHAPES)
@pytest.mark.parametrize(
    ("p0", "p1", "qty", "tick"),
    [
        (10.0, 11.0, 20_000.0, 0.01),
        (0.1, 0.3, 1e6, 0.001),
        (2.5, 2.51, 3.0, 0.01),
        (100.0, 137.5, 123.456, 0.5),
        (1.23, 4.56, 7.0, 0.01),
    ],
)
def test_calibrated_reproduces_p0_to_p1_exactly(shape, p0, p1, qty, tick):
    b = OrderBook.calibrated(p0, p1, qty, tick=tick, shape=shape)
    f = b.buy(qty)
    assert f.first_price == p0
    assert f.last_price == p1
    assert f.unfilled == 0
    assert f.qty == pytest.approx(qty, rel=1e-12)
    assert f.n_levels == round((p1 - p0) / tick) + 1
    assert f.book_after.best_ask > p1
    assert b.buy(qty * (1 - 1e-6)).last_price == p1  # a hair less still ends at p1
    assert b.buy(qty * (1 + 1e-6)).last_price > p1


def test_calibrated_shapes_grow_as_documented():
    flat = OrderBook.calibrated(10.0, 11.0, 100.0, shape="flat").ask_sizes
    sq = OrderBook.calibrated(10.0, 11.0, 100.0, shape="sqrt").ask_sizes
    lin = OrderBook.calibrated(10.0, 11.0, 100.0, shape="linear").ask_sizes
    np.testing.assert_allclose(flat[:3] / flat[0], [1, 1, 1])
    np.testing.assert_allclose(sq[:3] / sq[0], [1, math.sqrt(2), math.sqrt(3)])
    np.testing.assert_allclose(lin[:3] / lin[0], [1, 2, 3])


def test_calibrated_extend_to_and_bid_depth():
    b = OrderBook.calibrated(10.0, 11.0, 1000.0, extend_to=11.0, bid_depth=7.0)
    f = b.buy(1000.0)
    assert f.book_after.ask_prices.size == 0
    assert b.bid_prices.size == 101 and np.all(b.bid_sizes == 7.0)  # as many as the asks
    assert b.bid_prices[-1] == pytest.approx(8.99)
    deep = OrderBook.calibrated(1.0, 2.0, 10.0, bid_depth=3.0)  # asks to $10: bids stop above 0
    assert deep.bid_prices.size == 99 and deep.bid_prices[-1] == pytest.approx(0.01)
    c = OrderBook.calibrated(10.0, 11.0, 1000.0, extend_to=12.005)
    assert c.ask_prices[-1] == pytest.approx(12.0)
    d = OrderBook.calibrated(10.0, 11.0, 1000.0, bid_depth=[1.0, 2.0])
    np.testing.assert_allclose(d.bid_prices, [9.99, 9.98])
    m = OrderBook.calibrated(10.0, 11.0, 1000.0, shape="linear")
    np.testing.assert_array_equal(m.bid_sizes, m.ask_sizes[: m.bid_sizes.size])
    assert m.bid_prices[-1] > 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"p0": 11.0, "p1": 10.0}, InvalidInputError, "p1 must be above p0"),
        ({"p1": 11.005}, InvalidInputError, "whole number of ticks"),
        ({"shape": "cubic"}, InvalidInputError, "shape must be one of"),
        ({"extend_to": 10.5}, InvalidInputError, "extend_to must be >= p1"),
        ({"qty": -1.0}, InvalidInputError, "qty must be > 0"),
        ({"tick": math.nan}, InvalidInputError, "tick must be finite"),
        ({"bid_depth": [1.0] * 1001}, BookError, "bid_depth has 1001 levels"),
        ({"bid_depth": [1.0, -1.0]}, BookError, "bid_sizes must be finite and > 0"),
    ],
)
def test_calibrated_rejects(kwargs, error, message):
    args = {"p0": 10.0, "p1": 11.0, "qty": 100.0} | kwargs
    with pytest.raises(error, match=message):
        OrderBook.calibrated(args.pop("p0"), args.pop("p1"), args.pop("qty"), **args)


def test_sqrt_impact_matches_formula_within_a_tick():
    mid, tick = 10.0, 0.01
    k = 0.1 / math.sqrt(20_000)  # 20,000 coins move the price 10%
    b = OrderBook.sqrt_impact(mid, k, tick=tick)
    assert b.ask_prices.size == 500 and b.ask_prices[-1] == pytest.approx(15.0)
    q = np.geomspace(1e-3, 0.99 * b.total_ask_qty, 2000)
    formula = mid * (1 + k * np.sqrt(q))
    last = b.impact_curve(1, q)
    assert np.all(last >= formula - 1e-9)
    assert np.all(last < formula + tick + 1e-9)
    down = b.impact_curve(-1, q)
    formula_down = mid * (1 - k * np.sqrt(q))
    assert np.all((down <= formula_down + 1e-9) & (down > formula_down - tick - 1e-9))
    assert b.buy(20_000).last_price == pytest.approx(11.0, rel=1e-12)
    np.testing.assert_allclose(b.ask_sizes[:3], (tick / (mid * k)) ** 2 * np.array([1, 3, 5]))


def test_sqrt_impact_levels_and_errors():
    b = OrderBook.sqrt_impact(100.0, 0.01, tick=1.0, n_levels=10)
    assert b.ask_prices.size == 10 and b.bid_prices[-1] == 90.0
    with pytest.raises(BookError, match="deepest bid"):
        OrderBook.sqrt_impact(1.0, 0.01, tick=0.01, n_levels=100)
    with pytest.raises(BookError, match="smaller tick"):
        OrderBook.sqrt_impact(1.0, 0.01, tick=5.0)
    with pytest.raises(InvalidInputError):
        OrderBook.sqrt_impact(1.0, 0.0)


# ---------------------------------------------------------------- properties and curves


def test_properties(book):
    assert (book.best_bid, book.best_ask, book.mid, book.spread) == (9, 10, 9.5, 1)
    assert (book.total_ask_qty, book.total_bid_qty) == (6, 3)
    assert (book.total_ask_notional, book.total_bid_notional) == (68, 25)


def test_cumulative_depth(book):
    prices, cq, cn = book.cumulative_depth("buy")
    np.testing.assert_array_equal(prices, [10, 11, 12])
    np.testing.assert_array_equal(cq, [1, 3, 6])
    np.testing.assert_array_equal(cn, [10, 32, 68])
    prices, cq, cn = book.cumulative_depth(-1)
    np.testing.assert_array_equal(prices, [9, 8])
    np.testing.assert_array_equal(cq, [1, 3])
    np.testing.assert_array_equal(cn, [9, 25])


def test_curves_agree_with_individual_orders(book):
    qtys = np.array([0.5, 1.0, 2.0, 3.0, 4.5, 6.0])
    np.testing.assert_array_equal(
        book.impact_curve(1, qtys), [book.buy(q).last_price for q in qtys]
    )
    np.testing.assert_array_equal(book.cost_curve(1, qtys), [book.buy(q).notional for q in qtys])
    np.testing.assert_array_equal(book.impact_curve(1, qtys), [10, 10, 11, 11, 12, 12])
    np.testing.assert_array_equal(book.cost_curve(1, qtys), [5, 10, 21, 32, 50, 68])
    np.testing.assert_array_equal(book.cost_curve(-1, [0, 1, 2, 3]), [0, 9, 17, 25])
    grid = qtys.reshape(2, 3)
    assert book.impact_curve(1, grid).shape == (2, 3)


def test_curves_beyond_the_book(book):
    with pytest.raises(InsufficientLiquidityError, match="holds only 6 coins"):
        book.impact_curve(1, [1.0, 7.0])
    with pytest.raises(InsufficientLiquidityError, match="holds only 3 coins"):
        book.cost_curve(-1, [4.0])
    np.testing.assert_array_equal(book.impact_curve(1, [1.0, 7.0], partial=True), [10, 12])
    np.testing.assert_array_equal(book.cost_curve(1, [1.0, 7.0], partial=True), [10, 68])
    with pytest.raises(InvalidInputError):
        book.impact_curve(1, [0.0])
    with pytest.raises(InvalidInputError):
        book.cost_curve(1, [-1.0])
    with pytest.raises(InvalidInputError):
        book.cost_curve(1, [math.nan])


def test_impact_curve_on_a_million_quantities_is_vectorised():
    b = OrderBook.sqrt_impact(10.0, 1e-3)
    q = np.linspace(1.0, b.total_ask_qty, 1_000_000)
    last = b.impact_curve(1, q)
    assert last.shape == q.shape and np.all(np.diff(last) >= 0)


def test_qty_to_price(book):
    got = book.qty_to_price(1, [9.0, 10.0, 10.5, 11.0, 11.5, 12.0])
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 3, 3])
    got = book.qty_to_price(1, [10.0, 10.5, 11.0, 12.0], inclusive=True)
    np.testing.assert_array_equal(got, [1, 1, 3, 6])
    np.testing.assert_array_equal(book.qty_to_price(-1, [9.5, 9.0, 8.5, 8.0]), [0, 0, 1, 1])
    np.testing.assert_array_equal(book.qty_to_price(-1, [9.0, 8.0], inclusive=True), [1, 3])
    with pytest.raises(InsufficientLiquidityError, match=r"reaches 12.5 USD"):
        book.qty_to_price(1, [11.0, 12.5])
    with pytest.raises(InsufficientLiquidityError, match=r"reaches 7.5 USD"):
        book.qty_to_price(-1, 7.5)
    np.testing.assert_array_equal(book.qty_to_price(1, [11.0, 12.5], partial=True), [1, np.inf])
    with pytest.raises(InvalidInputError):
        book.qty_to_price(1, [-1.0])


def test_qty_to_price_is_the_threshold_of_impact(book):
    for target in (10.5, 11.0, 12.0):
        q = book.qty_to_price(1, target)
        assert book.buy(q * (1 + 1e-6)).last_price >= target
        assert book.buy(q).last_price < target


# ---------------------------------------------------------------- refill and mirror


def test_refill_semantics(book):
    after = book.buy(2).book_after  # asks 1@11, 3@12
    half = after.refill(book, 0.5)
    np.testing.assert_array_equal(half.ask_prices, [10, 11, 12])
    np.testing.assert_array_equal(half.ask_sizes, [0.5, 1.5, 3])
    assert half.bid_prices is not book.bid_prices and half.bid_sizes.tolist() == [1, 2]
    assert after.refill(book, 1.0) == book
    assert after.refill(book, 0.0) == after
    both = after.sell(2.5).book_after.refill(book, 0.5)
    np.testing.assert_array_equal(both.bid_sizes, [0.5, 1.25])


def test_refill_one_restores_the_reference_bit_for_bit():
    # Thirds and elevenths minus tenths do not round-trip: after three 0.1-coin buys the
    # $10 ask holds 1/3 - 0.1 - 0.1 - 0.1 coins and cur + (ref - cur) misses 1/3 by an ulp,
    # so only an exact restore gives the reference back.
    ref = OrderBook.from_levels(
        bids=[(9.5, 0.25), (9.0, 5 / 11), (8.0, 1.0)],
        asks=[(10.0, 1 / 3), (11.0, 6 / 7), (12.0, 2.0)],
    )
    b = ref
    for _ in range(3):
        b = b.buy(0.1).book_after
    b = b.sell(0.25).book_after  # takes the whole $9.50 bid
    for _ in range(3):
        b = b.sell(0.1).book_after
    assert b.bid_prices.tolist() == [9.0, 8.0] and b.ask_prices.tolist() == [10.0, 11.0, 12.0]
    cur, full = b.ask_sizes[0], ref.ask_sizes[0]
    assert cur + (full - cur) != full  # the naive formula would leave it off by rounding
    out = b.refill(ref, 1.0)
    assert out == ref
    for name in ("bid_prices", "bid_sizes", "ask_prices", "ask_sizes"):
        assert getattr(out, name).tobytes() == getattr(ref, name).tobytes(), name


def test_refill_keeps_grown_and_new_levels(book):
    grown = OrderBook.from_levels(bids=[(9.5, 4), (9, 5)], asks=[(11, 0.5), (13, 1)])
    out = grown.refill(book, 0.5)
    np.testing.assert_array_equal(out.bid_prices, [9.5, 9, 8])
    np.testing.assert_array_equal(out.bid_sizes, [4, 5, 1])
    np.testing.assert_array_equal(out.ask_prices, [10, 11, 12, 13])
    np.testing.assert_array_equal(out.ask_sizes, [0.5, 1.25, 1.5, 1])


def test_refill_errors(book):
    moved = OrderBook.from_levels(bids=[(10.5, 1)], asks=[(13, 1)])
    with pytest.raises(BookError, match="crossed"):
        moved.refill(book, 0.5)
    with pytest.raises(InvalidInputError, match=r"fraction must lie in \[0, 1\]"):
        book.refill(book, 1.5)
    with pytest.raises(InvalidInputError, match="reference must be an OrderBook"):
        book.refill("book", 0.5)  # type: ignore[arg-type]


def test_mirrored(book):
    m = book.mirrored()  # pivot = mid 9.5
    np.testing.assert_array_equal(m.ask_prices, [10, 11])
    np.testing.assert_array_equal(m.bid_prices, [9, 8, 7])
    np.testing.assert_array_equal(m.bid_sizes, [1, 2, 3])
    assert m.mirrored(9.5) == book
    with pytest.raises(BookError, match=r"cannot mirror around pivot=5\.0"):
        book.mirrored(5.0)


# ---------------------------------------------------------------- property tests


@st.composite
def books(draw, max_levels: int = 25) -> OrderBook:
    tick = 0.01
    mid_ticks = draw(st.integers(200, 100_000))

    def side(sign: int) -> list[tuple[float, float]]:
        n = draw(st.integers(1, max_levels))
        gaps = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
        sizes = draw(st.lists(st.floats(1e-3, 1e4), min_size=n, max_size=n))
        ticks = mid_ticks + sign * np.cumsum(gaps)
        return list(zip((ticks * tick).tolist(), sizes, strict=True))

    return OrderBook.from_levels(bids=side(-1), asks=side(1))


fractions = st.floats(1e-6, 1.0)
sides = st.sampled_from([1, -1])


def depth(b: OrderBook, s: int) -> float:
    return b.total_ask_qty if s == 1 else b.total_bid_qty


@settings(max_examples=150)
@given(books(), sides, fractions)
def test_fill_invariants(b, s, frac):
    q = frac * depth(b, s)
    f = b.market_order(s, q)
    lo, hi = sorted((f.first_price, f.last_price))
    assert lo * (1 - 1e-12) <= f.vwap <= hi * (1 + 1e-12)
    assert f.notional == pytest.approx(float(np.sum(f.level_prices * f.level_qtys)), rel=1e-12)
    assert f.qty == pytest.approx(q, rel=QTY_RTOL)
    assert np.all(f.level_qtys > 0)
    after = f.book_after
    assert_valid(after)
    assert depth(after, s) + f.qty == pytest.approx(depth(b, s), rel=1e-12)
    assert depth(after, -s) == depth(b, -s)
    assert f == b.market_order(s, q)
    assert f.notional == b.cost_curve(s, q)
    assert f.last_price == b.impact_curve(s, q)


@settings(max_examples=150)
@given(books(), sides, fractions, fractions)
def test_bigger_orders_never_cheaper_per_coin(b, s, f1, f2):
    q1, q2 = sorted((f1 * depth(b, s), f2 * depth(b, s)))
    a, c = b.market_order(s, q1), b.market_order(s, q2)
    assert s * c.vwap >= s * a.vwap - 1e-12 * a.vwap
    assert s * c.last_price >= s * a.last_price
    curve = b.impact_curve(s, np.sort(np.array([q1, q2, q1 / 2, q2 / 3])))
    assert np.all(s * np.diff(curve) >= 0)


@settings(max_examples=150)
@given(books(), sides, fractions, fractions)
def test_path_independence(b, s, f1, f2):
    total = depth(b, s)
    q1, q2 = f1 * total / 2, f2 * total / 2
    first = b.market_order(s, q1)
    second = first.book_after.market_order(s, q2)
    both = b.market_order(s, q1 + q2)
    assert first.qty + second.qty == pytest.approx(both.qty, rel=1e-9)
    assert first.notional + second.notional == pytest.approx(both.notional, rel=1e-9)
    assert second.last_price == both.last_price


@settings(max_examples=100)
@given(books(), sides, fractions)
def test_notional_orders_invert_qty_orders(b, s, frac):
    f = b.market_order(s, frac * depth(b, s))
    g = (b.buy_notional if s == 1 else b.sell_notional)(f.notional)
    assert g.qty == pytest.approx(f.qty, rel=1e-9)
    assert g.notional == pytest.approx(f.notional, rel=1e-12)


@settings(max_examples=100)
@given(books(), sides, st.floats(1.0001, 10.0))
def test_overask_raises_or_fills_partially(b, s, factor):
    q = factor * depth(b, s)
    with pytest.raises(InsufficientLiquidityError) as exc:
        b.market_order(s, q)
    assert exc.value.available == pytest.approx(depth(b, s))
    f = b.market_order(s, q, partial=True)
    assert f.unfilled == pytest.approx(q - depth(b, s), rel=1e-9)
    assert depth(f.book_after, s) == 0


@settings(max_examples=100)
@given(books(), sides, st.data())
def test_qty_to_price_threshold(b, s, data):
    prices = b.ask_prices if s == 1 else b.bid_prices
    j = data.draw(st.integers(0, prices.size - 1))
    target = prices[j]
    q = b.qty_to_price(s, target)
    assert s * b.impact_curve(s, q * (1 + 1e-6) + 1e-9, partial=True) >= s * target
    if q > 0:
        assert s * b.impact_curve(s, q * (1 - 1e-6)) < s * target
    incl = b.qty_to_price(s, target, inclusive=True)
    assert incl == pytest.approx(q + (b.ask_sizes if s == 1 else b.bid_sizes)[j], rel=1e-12)


@settings(max_examples=100)
@given(books(), fractions)
def test_buy_equals_sell_on_mirrored_book(b, frac):
    pivot = b.mid
    m = b.mirrored(pivot)
    q = frac * b.total_ask_qty
    up, down = b.buy(q), m.sell(q)
    assert down.qty == pytest.approx(up.qty, rel=1e-12)
    assert down.last_price == pytest.approx(2 * pivot - up.last_price, rel=1e-12)
    assert down.notional == pytest.approx(2 * pivot * up.qty - up.notional, rel=1e-9)
    np.testing.assert_allclose(down.level_qtys, up.level_qtys, rtol=1e-12)


@settings(max_examples=100)
@given(books(), sides, fractions, st.floats(0.0, 1.0))
def test_refill_restores_between_after_and_reference(b, s, frac, fraction):
    after = b.market_order(s, frac * depth(b, s)).book_after
    r = after.refill(b, fraction)
    assert depth(after, s) - 1e-9 <= depth(r, s) <= depth(b, s) * (1 + 1e-12)
    consumed = depth(b, s) - depth(after, s)
    assert depth(r, s) == pytest.approx(depth(after, s) + fraction * consumed, rel=1e-9, abs=1e-9)
    assert after.refill(b, 1.0) == b


def _sizes_on(b: OrderBook, s: int, grid: np.ndarray) -> np.ndarray:
    """Coins of side ``s`` of ``b`` at each price of ``grid`` (0 where there is no level)."""
    prices, sizes = (b.ask_prices, b.ask_sizes) if s == 1 else (b.bid_prices, b.bid_sizes)
    level = dict(zip(prices.tolist(), sizes.tolist(), strict=True))
    assert set(level) <= set(grid.tolist())
    return np.array([level.get(p, 0.0) for p in grid.tolist()])


@settings(max_examples=100)
@given(
    books(),
    st.lists(st.tuples(sides, st.floats(0.01, 0.9)), min_size=1, max_size=6),
    fractions,
    fractions,
)
def test_refill_per_level_between_current_and_reference_monotone(b, orders, f1, f2):
    after = b
    for s, frac in orders:  # several partial consumptions, on either side
        after = after.market_order(s, frac * depth(after, s)).book_after
    lo, hi = sorted((f1, f2))
    books_by_fraction = [after.refill(b, f) for f in (0.0, lo, hi, 1.0)]
    assert books_by_fraction[-1] == b  # exactly, including fully consumed levels
    for s in (1, -1):
        grid = b.ask_prices if s == 1 else b.bid_prices
        ref, cur = _sizes_on(b, s, grid), _sizes_on(after, s, grid)
        sizes = np.vstack([cur, *(_sizes_on(r, s, grid) for r in books_by_fraction), ref])
        np.testing.assert_array_equal(sizes[1], cur)  # fraction 0 restores nothing
        # current <= fraction 0 <= lo <= hi <= fraction 1 <= reference, level by level
        assert np.all(np.diff(sizes, axis=0) >= 0)


def test_fill_is_frozen(book):
    f = book.buy(1)
    assert isinstance(f, Fill)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.qty = 2  # type: ignore[misc]
    assert repr(f) == (
        "Fill(buy 1 coins for 10 USD, vwap 10, price 10 -> 10 over 1 levels, unfilled 0)"
    )


def test_walk_is_the_rule_behind_fills_and_curves():
    book = OrderBook.from_levels(bids=[(9.0, 5.0)], asks=[(10.0, 1.0), (11.0, 2.0), (12.0, 3.0)])
    w = book.walk(1, [0.5, 1.0, 2.0, 6.0, 7.0])
    # 2 coins: 1 @ 10 + 1 @ 11 = 21 USD, stopping inside level 1
    assert w.notional.tolist() == [5.0, 10.0, 21.0, 68.0, 68.0]
    assert w.k.tolist() == [0, 0, 1, 2, 2]
    assert w.full.tolist() == [False, True, False, True, True]
    assert w.beyond.tolist() == [False, False, False, False, True]  # no error: flagged
    assert w.qty[-1] == 6.0
    np.testing.assert_array_equal(w.notional[:4], book.cost_curve(1, [0.5, 1.0, 2.0, 6.0]))
    by_usd = book.walk(1, [21.0], by_notional=True)
    assert by_usd.qty[0] == pytest.approx(book.buy_notional(21.0).qty) == pytest.approx(2.0)
    with pytest.raises(InvalidInputError):
        book.walk(1, [-1.0])
    with pytest.raises(InvalidInputError):
        book.walk(1, [[1.0]])


# ----------------------------------------------------------------- hardening (issue 7)


@pytest.mark.parametrize(
    "bad",
    [10**400, -(10**400), "5", True, np.True_, np.datetime64("2020-01-01"), None, 1 + 2j, [5.0]],
)
@pytest.mark.parametrize("method", ["buy", "sell", "buy_notional", "sell_notional"])
def test_market_orders_reject_bad_amounts_with_named_errors(method, bad):
    from perpsbook.errors import InvalidInputError

    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 10)
    name = "usd" if "notional" in method else "qty"
    with pytest.raises(InvalidInputError, match=rf"^{name} must"):
        getattr(book, method)(bad)


@pytest.mark.parametrize("method", ["buy_notional", "sell_notional"])
def test_subnormal_notional_is_a_vanishing_fill(method):
    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 10)
    fill = getattr(book, method)(5e-324)
    assert fill.qty == 0.0
    assert fill.notional == 5e-324
    assert fill.vwap == fill.first_price == fill.last_price
    assert np.isfinite(fill.vwap)


def test_huge_partial_order_takes_the_side_without_overflow_warning():
    import warnings

    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fill = book.buy(1e308, partial=True)
        fill_usd = book.buy_notional(1e308, partial=True)
    assert fill.qty == pytest.approx(1000.0)
    assert fill.unfilled == 1e308
    assert fill_usd.qty == pytest.approx(1000.0)
    assert np.isfinite(fill.notional) and np.isfinite(fill_usd.notional)
