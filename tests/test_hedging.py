"""Tests of perpsbook.hedging: hand-computed absorb/hedge sequences and properties."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import InsufficientLiquidityError, InvalidInputError
from perpsbook.hedging import (
    HEDGE_RATIO_MAX,
    HedgePath,
    HedgeStep,
    MarketMaker,
    MarketMakerState,
    delta,
    forced_buy_prices,
    market_maker_path,
    pnl,
)
from perpsbook.ledger import Ledger


def spot() -> OrderBook:
    return OrderBook.from_levels(bids=[(9.0, 10.0)], asks=[(10.0, 5.0), (11.0, 10.0)])


def symmetric_spot() -> OrderBook:
    """Asks and bids mirror each other around 10."""
    return OrderBook.from_levels(bids=[(9.5, 5.0), (9.0, 10.0)], asks=[(10.5, 5.0), (11.0, 10.0)])


# --------------------------------------------------------------------------- hand examples
def test_absorb_then_full_hedge_hand_numbers():
    mm = MarketMaker(hedge_ratio=1.0)
    s0 = mm.initial_state()
    s1 = mm.absorb(s0, 6.0, 10.5)  # the engine buys 6 perps; the MM sells them
    assert s1.perp_position == -6.0
    assert s1.cash == pytest.approx(63.0)
    assert s1.perp_entry == 10.5
    assert s1.pending == (6.0,)
    step = mm.hedge(s1, spot())
    assert isinstance(step, HedgeStep)
    s2, fill, after = step
    # buys 5 @ 10 + 1 @ 11 = 61
    assert fill.qty == pytest.approx(6.0) and fill.notional == pytest.approx(61.0)
    assert s2.spot_position == pytest.approx(6.0)
    assert s2.cash == pytest.approx(2.0)
    assert delta(s2) == pytest.approx(0.0)
    assert s2.pending == (0.0,) and s2.stage == 1
    assert after.best_ask == 11.0 and after.ask_sizes[0] == pytest.approx(9.0)
    # P&L at perp mark 11 and spot 11: perp -6 * 0.5 = -3, spot 66 - 61 = +5
    assert s2.unrealised_pnl(11.0, 11.0) == pytest.approx(2.0)
    assert pnl(s2, 11.0, 11.0) == pytest.approx(2.0)
    assert s2.value(11.0, 11.0) == pytest.approx(2.0)
    assert s0 == mm.initial_state()  # pure: the input state is unchanged


def test_realised_pnl_on_reduction_and_flip():
    mm = MarketMaker(hedge_ratio=0.0)
    s = mm.absorb(mm.initial_state(), 5.0, 10.0)  # short 5 @ 10
    s = mm.absorb(s, -8.0, 9.0)  # buys 8 @ 9: closes 5 (+5 realised), long 3 @ 9
    assert s.perp_position == pytest.approx(3.0)
    assert s.perp_entry == 9.0
    assert s.realised_pnl == pytest.approx(5.0)
    assert s.cash == pytest.approx(50.0 - 72.0)
    assert s.pnl(9.5, 10.0) == pytest.approx(5.0 + 1.5)
    s = mm.absorb(s, 3.0, 12.0)  # sells the 3 @ 12: flat again
    assert s.perp_position == 0.0 and s.perp_entry == 0.0
    assert s.realised_pnl == pytest.approx(5.0 + 9.0)
    assert s.cash == pytest.approx(14.0)


def test_hedge_ratio_and_fee():
    mm = MarketMaker(hedge_ratio=0.5, spot_fee_rate=0.001)
    s, fill, _ = mm.step(mm.initial_state(), 6.0, 10.0, spot())
    assert s.spot_position == pytest.approx(3.0)
    assert fill.notional == pytest.approx(30.0)
    assert s.fees_paid == pytest.approx(0.03)
    assert s.cash == pytest.approx(60.0 - 30.0 - 0.03)
    assert s.delta == pytest.approx(-3.0)
    assert s.pnl(10.0, 10.0) == pytest.approx(-0.03)


def test_over_hedge_allowed_up_to_the_max():
    mm = MarketMaker(hedge_ratio=HEDGE_RATIO_MAX)
    s, _, _ = mm.step(mm.initial_state(), 3.0, 10.0, spot())
    assert s.spot_position == pytest.approx(6.0)
    assert s.delta == pytest.approx(3.0)


def test_lag_hedge_appears_exactly_lag_stages_later():
    mm = MarketMaker(lag=2)
    s = mm.absorb(mm.initial_state(), 4.0, 10.0)
    assert s.pending == (0.0, 0.0, 4.0)
    book = spot()
    fills = []
    for stage in range(4):
        s, fill, book = mm.hedge(s, book, stage)
        fills.append(fill)
    assert [f is None for f in fills] == [True, True, False, True]
    assert fills[2].qty == pytest.approx(4.0)
    assert s.spot_position == pytest.approx(4.0) and s.stage == 4


def test_lag_skipping_stages_executes_everything_due():
    mm = MarketMaker(lag=2)
    s = mm.absorb(mm.initial_state(), 4.0, 10.0)
    s, fill, _ = mm.hedge(s, spot(), stage=1)
    assert fill is None and s.pending == (4.0, 0.0, 0.0) and s.stage == 2
    s = mm.absorb(s, 1.0, 10.0)
    assert s.pending == (4.0, 0.0, 1.0)
    s, fill, _ = mm.hedge(s, spot(), stage=5)
    assert fill.qty == pytest.approx(5.0) and s.stage == 6 and s.pending == (0.0, 0.0, 0.0)


def test_inventory_limit_brings_queued_hedges_forward():
    mm = MarketMaker(lag=2, inventory_limit=2.0)
    s = mm.absorb(mm.initial_state(), 6.0, 10.0)
    s, fill, book = mm.hedge(s, spot())  # |delta| 6 > 2: hedge 4 now
    assert fill.qty == pytest.approx(4.0)
    assert s.delta == pytest.approx(-2.0)
    assert s.pending == (0.0, 2.0, 0.0)  # the rest of the queued 6 stays on schedule
    s, fill, book = mm.hedge(s, book)
    assert fill is None
    s, fill, book = mm.hedge(s, book)
    assert fill.qty == pytest.approx(2.0)
    assert s.spot_position == pytest.approx(6.0)  # total hedge unchanged: h * q


def test_inventory_limit_overrides_a_low_hedge_ratio():
    mm = MarketMaker(hedge_ratio=0.5, inventory_limit=1.0)
    s, fill, _ = mm.step(mm.initial_state(), 6.0, 10.0, spot())
    # h would buy 3 (delta -3); the limit of 1 coin makes it buy 5
    assert fill.qty == pytest.approx(5.0)
    assert s.delta == pytest.approx(-1.0)
    unlimited = MarketMaker(hedge_ratio=0.5)
    assert unlimited.step(unlimited.initial_state(), 6.0, 10.0, spot()).state.delta == -3.0


def test_inventory_limit_zero_means_always_flat_and_limit_not_binding():
    mm = MarketMaker(lag=3, inventory_limit=0.0)
    s, fill, _ = mm.step(mm.initial_state(), 2.0, 10.0, spot())
    assert fill.qty == pytest.approx(2.0) and s.delta == pytest.approx(0.0)
    assert s.pending_total == pytest.approx(0.0)
    loose = MarketMaker(lag=1, inventory_limit=10.0)
    s, fill, _ = loose.step(loose.initial_state(), 2.0, 10.0, spot())
    assert fill is None and s.pending == (2.0, 0.0)


def test_forced_sells_mirror_forced_buys():
    mm = MarketMaker(hedge_ratio=1.0)
    buy, fb, _ = mm.step(mm.initial_state(), 6.0, 10.0, symmetric_spot())
    sell, fs, _ = mm.step(mm.initial_state(), -6.0, 10.0, symmetric_spot())
    assert buy.perp_position == -sell.perp_position == -6.0
    assert buy.spot_position == -sell.spot_position == pytest.approx(6.0)
    assert fb.side == 1 and fs.side == -1
    assert fb.vwap - 10.0 == pytest.approx(10.0 - fs.vwap)
    assert buy.pnl(10.0, 10.0) == pytest.approx(sell.pnl(10.0, 10.0))
    assert buy.pnl(10.0, 10.0) == pytest.approx(-(5 * 0.5 + 1 * 1.0))  # half-spread paid


def test_dry_spot_book_gives_a_partial_hedge_and_carries_the_rest():
    thin = OrderBook.from_levels(bids=[(9.0, 10.0)], asks=[(10.0, 3.0)])
    mm = MarketMaker()
    s = mm.absorb(mm.initial_state(), 5.0, 10.0)
    s, fill, after = mm.hedge(s, thin)
    assert fill.qty == pytest.approx(3.0)
    assert s.unfilled_hedge == pytest.approx(2.0)
    assert s.pending == (2.0,)
    assert after.ask_prices.size == 0
    s, fill, _ = mm.hedge(s, after)  # empty side: no crash, still owed
    assert fill is None and s.unfilled_hedge == pytest.approx(2.0) and s.pending == (2.0,)
    s, fill, _ = mm.hedge(s, spot())
    assert fill.qty == pytest.approx(2.0) and s.unfilled_hedge == 0.0
    assert s.delta == pytest.approx(0.0)


def test_money_and_coins_conserved_between_engine_mm_and_spot_sellers():
    mm = MarketMaker(hedge_ratio=1.0, lag=1, spot_fee_rate=0.001)
    led = Ledger()
    s = mm.initial_state()
    book = spot()
    for q, p in [(3.0, 10.2), (2.0, 10.4), (-1.0, 10.1), (0.0, 10.0)]:
        if q > 0:
            led.trade("engine", "mm", q, p, instrument="perp")
        elif q < 0:
            led.trade("mm", "engine", -q, p, instrument="perp")
        s = mm.absorb(s, q, p)
        s, fill, book = mm.hedge(s, book)
        if fill is not None:
            for price, qty in zip(fill.level_prices, fill.level_qtys, strict=True):
                if fill.side > 0:
                    led.trade("mm", "spot_makers", qty, price, instrument="spot")
                else:
                    led.trade("spot_makers", "mm", qty, price, instrument="spot")
            led.fee("mm", mm.spot_fee_rate * fill.notional)
    assert led.balance("mm") == pytest.approx(s.cash)
    assert led.balance("mm", "perp") == pytest.approx(s.perp_position)
    assert led.balance("mm", "spot") == pytest.approx(s.spot_position)
    assert all(abs(v) < 1e-9 for v in led.imbalance().values())
    values = led.value({"spot": 10.5, "perp": 10.5})
    assert values["mm"] == pytest.approx(s.pnl(10.5, 10.5))
    assert math.fsum(values.values()) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- state fields
@pytest.mark.parametrize(
    "name",
    [
        "perp_position",
        "spot_position",
        "cash",
        "perp_entry",
        "spot_entry",
        "realised_pnl",
        "fees_paid",
        "unfilled_hedge",
        "initial_cash",
    ],
)
@pytest.mark.parametrize("value", [3, np.float32(0.5), np.int64(2), np.array(1.25)])
def test_state_stores_every_number_as_a_python_float(name, value):
    s = MarketMakerState(**{name: value})
    assert type(getattr(s, name)) is float
    assert getattr(s, name) == float(value)


def test_fees_paid_given_as_int_adds_up_as_float():
    mm = MarketMaker(spot_fee_rate=0.01)
    s = replace(mm.absorb(mm.initial_state(), 2.0, 10.0), fees_paid=1)
    assert type(s.fees_paid) is float
    after = mm.hedge(s, spot()).state  # buys 2 coins at $10: fee $0.20
    assert after.fees_paid == pytest.approx(1.2)
    assert after.pnl(10.0, 10.0) == pytest.approx(-1.2)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("h", [-0.1, 2.01, float("nan"), float("inf"), None, "1"])
def test_bad_hedge_ratio(h):
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        MarketMaker(hedge_ratio=h)


@pytest.mark.parametrize("lag", [-1, 1.5, True, "2", None])
def test_bad_lag(lag):
    with pytest.raises(InvalidInputError, match="lag"):
        MarketMaker(lag=lag)


@pytest.mark.parametrize("limit", [-1.0, float("nan"), float("inf")])
def test_bad_inventory_limit(limit):
    with pytest.raises(InvalidInputError, match="inventory_limit"):
        MarketMaker(inventory_limit=limit)


@pytest.mark.parametrize("fee", [-0.001, 1.0, float("nan")])
def test_bad_fee(fee):
    with pytest.raises(InvalidInputError, match="spot_fee_rate"):
        MarketMaker(spot_fee_rate=fee)


def test_bad_absorb_and_hedge_inputs():
    mm = MarketMaker(lag=1)
    s = mm.initial_state()
    for price in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError, match="price"):
            mm.absorb(s, 1.0, price)
    with pytest.raises(InvalidInputError, match="perp_qty"):
        mm.absorb(s, float("nan"), 10.0)
    with pytest.raises(InvalidInputError, match="perp_qty"):
        mm.absorb(s, [1.0, 2.0], 10.0)
    with pytest.raises(InvalidInputError, match="spot_book"):
        mm.hedge(s, "book")
    s1 = mm.hedge(s, spot()).state
    with pytest.raises(InvalidInputError, match="stage"):
        mm.hedge(s1, spot(), stage=0)
    with pytest.raises(InvalidInputError, match="stage"):
        mm.hedge(s1, spot(), stage=2.0)
    with pytest.raises(InvalidInputError, match="lag"):
        MarketMaker(lag=3).hedge(s, spot())  # a state built for another lag
    with pytest.raises(InvalidInputError, match="state"):
        mm.absorb({"cash": 0.0}, 1.0, 10.0)
    with pytest.raises(InvalidInputError, match="state"):
        pnl(None, 10.0, 10.0)
    with pytest.raises(InvalidInputError, match="perp_mark"):
        s.pnl(float("nan"), 10.0)
    with pytest.raises(InvalidInputError, match="spot_price"):
        s.value(10.0, -1.0)
    with pytest.raises(InvalidInputError, match="cash"):
        MarketMakerState(cash=float("inf"))
    with pytest.raises(InvalidInputError, match="fees_paid"):
        MarketMakerState(fees_paid=-1.0)
    with pytest.raises(InvalidInputError, match="pending"):
        MarketMakerState(pending=())
    with pytest.raises(InvalidInputError, match="stage"):
        MarketMakerState(stage=1.5)


# --------------------------------------------------------------------------- properties
flows = st.lists(
    st.tuples(
        st.integers(-40, 40).map(lambda k: k / 4.0),  # forced flow, coins
        st.integers(36, 44).map(lambda k: k / 4.0),  # perp price
    ),
    min_size=1,
    max_size=12,
)
makers = st.builds(
    MarketMaker,
    hedge_ratio=st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]),
    lag=st.integers(0, 3),
    inventory_limit=st.sampled_from([None, 0.0, 2.0, 5.0]),
    spot_fee_rate=st.sampled_from([0.0, 0.001]),
)


def run(mm: MarketMaker, flow, book: OrderBook):
    s = mm.initial_state(cash=100.0)
    for q, p in flow:
        s, _, book = mm.step(s, q, p, book)
    return s, book


@settings(max_examples=150)
@given(makers, flows)
def test_property_pnl_identity_and_hedge_bookkeeping(mm, flow):
    deep = OrderBook.flat_ladder(mid=10.0, tick=0.1, size_per_level=3.0, n_levels=40)
    s, _ = run(mm, flow, deep)
    # average-cost P&L equals mark-to-market value change
    for pm, sp in [(10.0, 10.0), (12.5, 9.0)]:
        assert s.pnl(pm, sp) == pytest.approx(
            s.cash - s.initial_cash + s.perp_position * pm + s.spot_position * sp, abs=1e-9
        )
    absorbed = sum(q for q, _ in flow)
    assert s.perp_position == pytest.approx(-absorbed)
    if mm.inventory_limit is None:
        # every scheduled coin is either executed or still queued
        assert s.spot_position + s.pending_total == pytest.approx(mm.hedge_ratio * absorbed)
    else:
        assert abs(s.delta) <= mm.inventory_limit + 1e-9


@settings(max_examples=150)
@given(makers, flows)
def test_property_forced_sells_mirror_forced_buys(mm, flow):
    deep = OrderBook.flat_ladder(mid=10.0, tick=0.1, size_per_level=3.0, n_levels=40)
    up, _ = run(mm, flow, deep)
    down, _ = run(mm, [(-q, 20.0 - p) for q, p in flow], deep.mirrored(10.0))
    assert up.perp_position == pytest.approx(-down.perp_position)
    assert up.spot_position == pytest.approx(-down.spot_position)
    np.testing.assert_allclose(up.pending, -np.asarray(down.pending), atol=1e-12)
    if mm.spot_fee_rate == 0:  # fees scale with the (mirrored, so different) notional
        assert up.pnl(10.0, 10.0) == pytest.approx(down.pnl(10.0, 10.0), abs=1e-9)


@settings(max_examples=100)
@given(st.integers(0, 5), st.integers(1, 20).map(lambda k: k / 4.0), st.booleans())
def test_property_single_hedge_lands_exactly_lag_stages_later(lag, q, buy):
    mm = MarketMaker(lag=lag)
    book = OrderBook.flat_ladder(mid=10.0, tick=0.25, size_per_level=10.0, n_levels=5)
    s = mm.absorb(mm.initial_state(), q if buy else -q, 10.0)
    traded_at = []
    for stage in range(lag + 3):
        s, fill, book = mm.hedge(s, book)
        if fill is not None:
            traded_at.append((stage, fill.side, fill.qty))
    assert traded_at == [(lag, 1 if buy else -1, pytest.approx(q))]


# --------------------------------------------------------------------------- one-ladder runs
def _ladder() -> OrderBook:
    # asks 11, 12, 13, 14, 15 USD with 1 coin each; bids 9 .. 5
    return OrderBook.flat_ladder(mid=10.0, tick=1.0, size_per_level=1.0, n_levels=5)


def _deep() -> OrderBook:
    # 1,000 coins per cent from $11.00 to $30.00: room for every hypothesis example
    return OrderBook.calibrated(11.0, 12.0, 101_000.0, extend_to=30.0)


# --------------------------------------------------------------------------- forced_buy_prices


def test_forced_buy_prices_hand_computed():
    book = _ladder()
    # $11 buys the 1 coin at $11; a full hedge buys the coin at $12
    assert forced_buy_prices(book, 11.0, 0.0) == pytest.approx(11.0)
    assert forced_buy_prices(book, 11.0, 1.0) == pytest.approx(12.0)
    # $17 buys 1 coin at $11 and 0.5 at $12: 1.5 coins; (1 + 1) * 1.5 = 3 coins end at $13
    assert forced_buy_prices(book, 17.0, 1.0) == pytest.approx(13.0)
    # h = 0.5 on 1.5 coins: 2.25 coins end at $13
    assert forced_buy_prices(book, 17.0, 0.5) == pytest.approx(13.0)
    # $11 and h = 2: 3 coins end at $13
    assert forced_buy_prices(book, 11.0, 2.0) == pytest.approx(13.0)


def test_forced_buy_prices_broadcasts():
    out = forced_buy_prices(_ladder(), [[11.0], [17.0]], [0.0, 1.0])
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[11.0, 12.0], [12.0, 13.0]])


def test_forced_buy_prices_errors():
    book = _ladder()
    with pytest.raises(InsufficientLiquidityError, match="USD"):
        forced_buy_prices(book, 66.0, 0.0)  # the asks hold $65
    with pytest.raises(InsufficientLiquidityError):
        forced_buy_prices(book, 40.0, 1.0)  # engine fits, hedge does not
    with pytest.raises(InvalidInputError, match="forced_usd"):
        forced_buy_prices(book, 0.0, 1.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        forced_buy_prices(book, 11.0, -0.1)


# --------------------------------------------------------------------------- market_maker_path


def test_market_maker_path_hand_computed():
    path = market_maker_path(MarketMaker(1.0), _ladder(), [11.0])
    assert isinstance(path, HedgePath)
    np.testing.assert_array_equal(path.stage, [0, 1])
    np.testing.assert_allclose(path.price, [11.0, 12.0])
    np.testing.assert_allclose(path.forced_qty, [0.0, 1.0])
    np.testing.assert_allclose(path.hedge_qty, [0.0, 1.0])
    np.testing.assert_allclose(path.hedge_usd, [0.0, 12.0])
    np.testing.assert_allclose(path.perp_position, [0.0, -1.0])
    np.testing.assert_allclose(path.spot_position, [0.0, 1.0])
    np.testing.assert_allclose(path.delta, [0.0, 0.0])
    # sold the perp at $11, bought the hedge at $12
    np.testing.assert_allclose(path.cash, [0.0, -1.0])
    np.testing.assert_allclose(path.pnl, [0.0, -1.0])


def test_market_maker_path_lag_delays_the_hedge():
    path = market_maker_path(MarketMaker(1.0, lag=1), _ladder(), [11.0])
    np.testing.assert_array_equal(path.stage, [0, 1, 2])
    np.testing.assert_allclose(path.price, [11.0, 11.0, 12.0])
    np.testing.assert_allclose(path.delta, [0.0, -1.0, 0.0])
    assert path.max_abs_delta == pytest.approx(1.0)
    assert path.final_price == pytest.approx(12.0)
    # marked at $11 while unhedged: no loss yet
    np.testing.assert_allclose(path.pnl, [0.0, 0.0, -1.0])


def test_market_maker_path_no_hedge_and_limit():
    bare = market_maker_path(MarketMaker(0.0), _ladder(), [11.0, 12.0])
    np.testing.assert_allclose(bare.hedge_qty, 0.0)
    np.testing.assert_allclose(bare.delta, [0.0, -1.0, -2.0])
    limited = market_maker_path(MarketMaker(1.0, lag=3, inventory_limit=0.5), _ladder(), [11.0])
    assert limited.max_abs_delta == pytest.approx(0.5)


def test_market_maker_path_errors():
    with pytest.raises(InvalidInputError, match="MarketMaker"):
        market_maker_path(object(), _ladder(), [11.0])
    with pytest.raises(InvalidInputError, match="forced_usd"):
        market_maker_path(MarketMaker(), _ladder(), [-1.0])
    with pytest.raises(InvalidInputError, match="forced_usd"):
        market_maker_path(MarketMaker(), _ladder(), [])
    with pytest.raises(InvalidInputError, match="price"):
        market_maker_path(MarketMaker(), _ladder(), [11.0], price=0.0)


usd_lists = st.lists(st.floats(1e4, 2e6), min_size=1, max_size=4)


@settings(max_examples=60)
@given(usd=usd_lists, h=st.floats(0.0, 2.0), lag=st.integers(0, 3))
def test_market_maker_path_accounting(usd, h, lag):
    path = market_maker_path(MarketMaker(h, lag=lag), _deep(), usd)
    sold = path.forced_qty.sum()
    assert path.stage.size == len(usd) + lag + 1
    assert path.perp_position[-1] == pytest.approx(-sold, rel=1e-12)
    assert path.spot_position[-1] == pytest.approx(h * sold, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(path.forced_usd[1 : len(usd) + 1], usd, rtol=1e-12)
    # buying only ever lifts the last traded price
    assert np.all(np.diff(path.price) >= 0)
    # P&L = cash + delta * price (perp mark = spot price, no fees)
    np.testing.assert_allclose(path.pnl, path.cash + path.delta * path.price, atol=1e-6 * sum(usd))


@settings(max_examples=60)
@given(usd=st.floats(1e4, 3e6), h=st.floats(0.0, 2.0), lag=st.integers(1, 3))
def test_single_batch_final_price_ignores_lag_and_matches_the_grid(usd, h, lag):
    book = _deep()
    now = market_maker_path(MarketMaker(h), book, [usd])
    later = market_maker_path(MarketMaker(h, lag=lag), book, [usd])
    assert later.final_price == now.final_price
    assert abs(now.final_price - forced_buy_prices(book, usd, h)) <= 0.01 + 1e-9


def test_wrong_book_objects_are_named():
    from perpsbook.errors import InvalidInputError
    from perpsbook.hedging import MarketMaker, forced_buy_prices, market_maker_path

    with pytest.raises(InvalidInputError, match="book must be"):
        forced_buy_prices(None, 1.0, 1.0)
    with pytest.raises(InvalidInputError, match="book must be"):
        market_maker_path(MarketMaker(), None, [1.0])


# --------------------------------------------------------------------------- issue 7 hardening
def _hedging_digest() -> str:
    """SHA-256 of every float of a grid of paths and a hand-driven absorb/hedge sequence."""
    import hashlib

    h = hashlib.sha256()
    schedule = [3e5, 0.0, 1.2e6, 4e5, 7e5]
    for lag in (0, 1, 2, 3, 5):
        for ratio in (0.5, 1.0, 1.7):
            for limit in (None, 0.0, 20_000.0, 90_000.0):
                path = market_maker_path(MarketMaker(ratio, lag, limit, 0.001), _deep(), schedule)
                for name in (
                    "forced_qty",
                    "hedge_qty",
                    "hedge_usd",
                    "price",
                    "perp_position",
                    "spot_position",
                    "cash",
                    "pnl",
                ):
                    h.update(np.ascontiguousarray(getattr(path, name)).tobytes())
    small = OrderBook.from_levels(bids=[(9.0, 3.0)], asks=[(10.0, 5.0), (11.0, 10.0)])
    steps = [(4.0, 0), (-2.5, 1), (6.0, 0), (0.0, 3), (-9.0, 0), (1.0, 2)]
    for lag in (0, 1, 2, 4):
        mm = MarketMaker(1.3, lag, 2.5, 0.002)
        s, b = mm.initial_state(100.0), small
        for k, (q, skip) in enumerate(steps):
            s = mm.absorb(s, q, 10.0 + k)
            s, _, b = mm.hedge(s, b, s.stage + skip)
            fields = [s.perp_position, s.spot_position, s.cash, s.realised_pnl, s.fees_paid]
            h.update(np.array([*fields, s.unfilled_hedge, *s.pending, s.stage]).tobytes())
    return h.hexdigest()


def test_queue_rewrite_is_bit_identical_for_normal_lags():
    # Digest computed with the code before the issue-7 rewrite of MarketMaker.hedge (main at
    # a7da423): lags 0-5, inventory limits, fees, skipped stages and a dry bid side.
    assert _hedging_digest() == "d36ce7f567b85aa3dc29a06b9c10a910ad3dc2c4175c107f5e814049d9c88c10"


def test_huge_lag_is_refused_where_the_queue_would_be_built():
    from perpsbook.hedging import MAX_QUEUE_LAG

    huge = MarketMaker(1.0, lag=10**20)  # the cascade keeps its own queue: any lag is valid
    assert huge.lag == 10**20
    with pytest.raises(InvalidInputError, match=r"lag must be <= 2,000 .*initial_state"):
        huge.initial_state()
    with pytest.raises(InvalidInputError, match=r"lag must be <= .*market_maker_path"):
        market_maker_path(MarketMaker(1.0, lag=MAX_QUEUE_LAG + 1), _ladder(), [11.0])
    path = market_maker_path(MarketMaker(1.0, lag=MAX_QUEUE_LAG), _deep(), [1e5])
    assert path.stage.size == MAX_QUEUE_LAG + 2
    assert path.hedge_qty[-1] > 0 and np.count_nonzero(path.hedge_qty) == 1


def test_hedge_far_ahead_costs_the_queue_not_the_skip():
    mm = MarketMaker(1.0, lag=2)
    s = mm.absorb(mm.initial_state(), 3.0, 10.0)
    near = mm.hedge(s, spot(), s.stage + 2)
    far = mm.hedge(s, spot(), 10**12)  # was a list of 10**12 zeros
    assert far.state.stage == 10**12 + 1 and far.state.pending == (0.0, 0.0, 0.0)
    assert far.fill.qty == near.fill.qty == 3.0
    assert far.state.spot_position == near.state.spot_position
    with pytest.raises(InvalidInputError, match="stage must be an integer >= 0"):
        mm.hedge(s, spot(), -(10**400))


@pytest.mark.parametrize(
    "call",
    [
        lambda: MarketMaker(hedge_ratio=[[1.0], [2.0, 3.0]]),
        lambda: MarketMaker(lag=2.5),
        lambda: MarketMakerState(cash=[[1.0], [2.0, 3.0]]),
        lambda: MarketMakerState(pending=[[1.0], [2.0, 3.0]]),
        lambda: MarketMakerState(pending=[[1.0, 2.0]]),
        lambda: MarketMaker().absorb(MarketMaker().initial_state(), [[1.0], [2.0, 3.0]], 10.0),
        lambda: pnl(MarketMakerState(), [[1.0], [2.0, 3.0]], 10.0),
        lambda: market_maker_path(MarketMaker(), _ladder(), [11.0], price=[10.0, 11.0]),
    ],
)
def test_ragged_and_list_scalars_are_named(call):
    with pytest.raises(InvalidInputError) as info:
        call()
    assert any(
        name in str(info.value)
        for name in ("hedge_ratio", "lag", "cash", "pending", "perp_qty", "perp_mark", "price")
    )
