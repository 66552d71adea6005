"""Tests of perpsbook.population: population-mode cascade, sampling, ladders and sweeps."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import BookError, InvalidInputError, PerpsbookError
from perpsbook.ladder import locate
from perpsbook.margin import ALTCOIN, BINANCE, liquidation_prices
from perpsbook.population import (
    Discrete,
    LiquidationLadder,
    LogNormal,
    Pareto,
    PopulationResult,
    population_cascade,
    sample_population,
    sweep,
)
from perpsbook.positions import Positions

EPS = 1e-9


def small_book() -> OrderBook:
    """Asks 100 coins at each of $10, $11, $12, $13; one bid."""
    return OrderBook.from_levels(
        bids=[(9.0, 100.0)], asks=[(10.0, 100.0), (11.0, 100.0), (12.0, 100.0), (13.0, 100.0)]
    )


# Shorts: 20 coins at $10.50 and 30 at $11 (both triggered by the $11 level), 100 at $12.50.
SMALL_L = np.array([10.5, 11.0, 12.5])
SMALL_S = np.array([20.0, 30.0, 100.0])


def run_small(q, **kw):
    kw.setdefault("hedge_ratio", 1.0)
    return population_cascade(small_book(), SMALL_L, SMALL_S, q, **kw)


# --------------------------------------------------------------------------- hand examples


def test_ignition_below_first_trigger_liquidates_nothing():
    r = run_small(50.0)
    assert r.final_price == 10.0
    assert r.ignition_price == 10.0
    assert r.n_liquidated == 0
    assert r.liquidated_qty == 0.0
    assert r.forced_buy_notional == 0.0
    assert r.amplification == 0.0
    assert r.ignition_notional == 500.0


def test_hand_computed_two_layer_cascade():
    # 101 coins trade at $11 -> 50 coins of shorts liquidated -> (1 + 1) * 50 = 100 coins
    # more buying -> demand 201 coins reaches $12 (S = 200 < 201); $12.50 is not reached.
    r = run_small(101.0)
    assert r.final_price == 12.0
    assert r.n_liquidated == 2
    assert r.liquidated_qty == 50.0
    assert r.hedge_qty == 50.0
    assert r.forced_buy_qty == 100.0
    assert r.ladder_qty == 100.0
    assert r.ignition_notional == pytest.approx(100 * 10 + 1 * 11)
    # Ladder cost of 201 coins: 1000 + 1100 + 12 = 2112; forced = 2112 - 1011 = 1101.
    assert r.forced_buy_notional == pytest.approx(1101.0)
    assert r.liquidated_notional == pytest.approx(550.5)
    assert r.hedge_notional == pytest.approx(550.5)
    assert r.amplification == pytest.approx(1101.0 / 1011.0)
    assert not r.book_ran_dry
    assert r.unfilled == 0.0
    assert r.ledger_imbalance <= 1e-9


def test_exact_level_boundary_follows_the_book_rule():
    # 200 coins take exactly the $10 and $11 levels: last traded price $11 (book rule),
    # then 100 coins of forced buying end exactly at $12: $12.50 is not reached.
    assert small_book().buy(200.0).last_price == 11.0
    r = run_small(200.0)
    assert r.ignition_price == 11.0
    assert r.final_price == 12.0
    assert r.n_liquidated == 2
    # One more coin reaches $13, triggers $12.50 (100 coins) and the book runs dry.
    r = run_small(201.0)
    assert r.final_price == 13.0
    assert r.n_liquidated == 3
    assert r.liquidated_qty == 150.0
    assert r.book_ran_dry
    assert r.unfilled == pytest.approx(201.0 + 2 * 150.0 - 400.0)


def test_liquidation_price_on_a_level_is_triggered_by_that_level():
    book = small_book()
    r = population_cascade(book, [11.0], [1.0], 150.0, hedge_ratio=0.0)
    assert r.n_liquidated == 1 and r.final_price == 11.0
    r = population_cascade(book, [11.0 + 1e-12], [1.0], 150.0, hedge_ratio=0.0)
    assert r.n_liquidated == 0


def test_positions_below_best_ask_fire_on_the_first_trade_and_above_top_never():
    r = population_cascade(small_book(), [5.0, 99.0], [10.0, 10.0], 1.0, hedge_ratio=1.0)
    assert r.n_liquidated == 1
    assert r.liquidated_qty == 10.0
    assert r.final_price == 10.0  # 1 + 20 coins stay on the $10 level


def test_perp_passthrough_zero_and_no_hedge_means_no_feedback():
    r = run_small(150.0, hedge_ratio=0.0, perp_passthrough=0.0)
    assert r.final_price == r.ignition_price == 11.0
    assert r.n_liquidated == 2
    assert r.ladder_qty == 0.0
    # The absorbed engine order is valued at the triggering level's price ($11).
    assert r.liquidated_notional == pytest.approx(50.0 * 11.0)
    assert r.forced_buy_qty == 50.0


def test_usd_ignition_is_the_coins_that_usd_buys():
    book = small_book()
    usd = 1_550.0
    coins = book.buy_notional(usd).qty
    a = population_cascade(book, SMALL_L, SMALL_S, usd, hedge_ratio=1.0, ignition_unit="usd")
    b = population_cascade(book, SMALL_L, SMALL_S, coins, hedge_ratio=1.0)
    assert a.ignition_qty == pytest.approx(coins, rel=1e-12)
    assert a.final_price == b.final_price
    assert a.ignition_notional == pytest.approx(usd, rel=1e-12)


def test_batch_matches_scalar_runs():
    qs = np.array([50.0, 101.0, 150.0, 200.0, 201.0, 350.0])
    batch = run_small(qs)
    assert batch.batch
    assert isinstance(batch.final_price, np.ndarray)
    assert batch.final_price.shape == (6,)
    for i, q in enumerate(qs):
        one = run_small(float(q))
        assert not one.batch
        for name in ("final_price", "n_liquidated", "liquidated_qty", "forced_buy_notional"):
            assert getattr(batch, name)[i] == getattr(one, name), name
    with pytest.raises(InvalidInputError):
        batch.liquidated_mask(SMALL_L)


def test_liquidated_mask_and_summary():
    r = run_small(101.0)
    assert r.liquidated_mask(SMALL_L).tolist() == [True, True, False]
    d = r.summary()
    json.dumps(d)
    assert d["n_liquidated"] == 2
    assert "rocket" in repr(r)
    assert "batch of 2" in repr(run_small([1.0, 2.0]))


def test_crash_side_hits_the_bids():
    book = OrderBook.from_levels(
        bids=[(10.0, 100.0), (9.0, 100.0), (8.0, 100.0)], asks=[(11.0, 1.0)]
    )
    # Longs liquidated at $9.50 (triggered by the $9 bid) and $7 (never reached).
    r = population_cascade(book, [9.5, 7.0], [60.0, 5.0], 101.0, hedge_ratio=1.0, side=-1)
    assert r.final_price == 8.0
    assert r.n_liquidated == 1
    assert r.liquidated_mask(np.array([9.5, 7.0])).tolist() == [True, False]
    assert r.ignition_notional == pytest.approx(100 * 10 + 9)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"liq_prices": []}, "N >= 1"),
        ({"liq_prices": [1.0, np.nan], "sizes": [1.0, 1.0]}, "liq_prices"),
        ({"sizes": [1.0, 1.0]}, "sizes has shape"),
        ({"sizes": [1.0, -1.0, 1.0]}, "sizes"),
        ({"ignition": 0.0}, "ignition"),
        ({"ignition": -5.0}, "ignition"),
        ({"ignition": np.nan}, "ignition"),
        ({"ignition": [[1.0]]}, "1-D"),
        ({"hedge_ratio": 2.5}, "hedge_ratio"),
        ({"hedge_ratio": -0.1}, "hedge_ratio"),
        ({"hedge_ratio": None}, "hedge_ratio is required"),
        ({"perp_passthrough": 1.5}, "perp_passthrough"),
        ({"side": 0}, "side"),
        ({"ignition_unit": "eur"}, "ignition_unit"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"sizes": None}, "sizes"),
    ],
)
def test_bad_input_raises_clear_errors(kwargs, match):
    args = {
        "liq_prices": SMALL_L,
        "sizes": SMALL_S,
        "ignition": 10.0,
        "hedge_ratio": 1.0,
    }
    args.update(kwargs)
    book = small_book()
    with pytest.raises(InvalidInputError, match=match):
        population_cascade(
            book,
            args.pop("liq_prices"),
            args.pop("sizes"),
            args.pop("ignition"),
            **args,
        )


def test_book_errors():
    with pytest.raises(InvalidInputError, match="OrderBook"):
        population_cascade("book", SMALL_L, SMALL_S, 1.0, hedge_ratio=1.0)
    no_asks = OrderBook([9.0], [1.0], [], [])
    with pytest.raises(BookError, match="ask side"):
        population_cascade(no_asks, SMALL_L, SMALL_S, 1.0, hedge_ratio=1.0)


def test_ladder_errors():
    with pytest.raises(InvalidInputError, match="sorted ascending"):
        LiquidationLadder([2.0, 1.0], [1.0, 1.0])
    with pytest.raises(InvalidInputError, match="N >= 1"):
        LiquidationLadder.from_arrays([], [])
    ladder = LiquidationLadder.from_arrays(SMALL_L, SMALL_S, position_side=-1)
    with pytest.raises(InvalidInputError, match="sizes=None"):
        population_cascade(small_book(), ladder, SMALL_S, 1.0, hedge_ratio=1.0)
    with pytest.raises(InvalidInputError, match="liquidates longs"):
        population_cascade(small_book(), ladder, None, 1.0, hedge_ratio=1.0, side=-1)
    with pytest.raises(InvalidInputError, match="order"):
        LiquidationLadder([1.0, 2.0], [1.0, 1.0], order=[0])


# --------------------------------------------------------------------------- ladder


def test_ladder_sorts_once_and_keeps_the_order():
    ladder = LiquidationLadder.from_arrays([3.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    assert ladder.prices.tolist() == [1.0, 2.0, 3.0]
    assert ladder.sizes.tolist() == [2.0, 3.0, 1.0]
    assert ladder.order.tolist() == [1, 2, 0]
    assert ladder.cum_sizes.tolist() == [0.0, 2.0, 5.0, 6.0]
    assert ladder.size_at_or_below(2.0) == 5.0
    assert ladder.size_at_or_above(2.0) == 4.0
    assert ladder.size_at_or_below(np.array([0.5, 3.0])).tolist() == [0.0, 6.0]
    assert len(ladder) == 3 and ladder.total_size == 6.0
    assert not ladder.prices.flags.writeable
    assert "3 positions" in repr(ladder)


@st.composite
def population_cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_levels = draw(st.integers(2, 60))
    n = draw(st.integers(1, 80))
    side = draw(st.sampled_from([1, -1]))
    tick = draw(st.sampled_from([0.01, 0.25, 1.0]))
    book = OrderBook.from_depth_profile(100.0, tick, n_levels, rng.uniform(0.5, 20.0, n_levels))
    levels = book.ask_prices if side == 1 else book.bid_prices
    span = levels[-1] - levels[0]
    # Half of the prices exactly on levels (ties), the rest anywhere, some off the book.
    on = rng.choice(levels, n)
    off = levels[0] + rng.uniform(-0.2, 1.2, n) * span
    lp = np.where(rng.random(n) < 0.5, on, np.abs(off) + 1e-3)
    sizes = rng.uniform(0.1, 30.0, n)
    h = draw(st.floats(0.0, 2.0))
    w = draw(st.sampled_from([1.0, 0.0, 0.5]))
    q = rng.uniform(0.01, 1.3 * float(book.total_ask_qty), 5)
    return book, lp, sizes, q, h, w, side


@given(population_cases())
@settings(max_examples=60)
def test_ladder_and_raw_arrays_agree(case):
    book, lp, sizes, q, h, w, side = case
    raw = population_cascade(book, lp, sizes, q, hedge_ratio=h, perp_passthrough=w, side=side)
    ladder = LiquidationLadder.from_arrays(lp, sizes, position_side=-side)
    lad = population_cascade(book, ladder, None, q, hedge_ratio=h, perp_passthrough=w, side=side)
    assert np.array_equal(raw.final_price, lad.final_price)
    assert np.array_equal(raw.n_liquidated, lad.n_liquidated)
    np.testing.assert_allclose(raw.liquidated_qty, lad.liquidated_qty, rtol=1e-12, atol=1e-12)


@given(population_cases())
@settings(max_examples=60)
def test_results_are_finite_consistent_and_match_the_mask(case):
    book, lp, sizes, q, h, w, side = case
    r = population_cascade(book, lp, sizes, q, hedge_ratio=h, perp_passthrough=w, side=side)
    for name in PopulationResult.__dataclass_fields__:
        assert np.all(np.isfinite(np.asarray(getattr(r, name), dtype=float))), name
    for i, qi in enumerate(q):
        one = population_cascade(
            book, lp, sizes, float(qi), hedge_ratio=h, perp_passthrough=w, side=side
        )
        mask = one.liquidated_mask(lp)
        assert one.n_liquidated == mask.sum() == r.n_liquidated[i]
        assert one.liquidated_qty == pytest.approx(sizes[mask].sum(), rel=1e-12, abs=1e-12)
        fill = book.market_order(side, float(qi), partial=True)
        assert one.ignition_price == fill.last_price
        assert one.ignition_notional == fill.notional
    np.testing.assert_allclose(r.forced_buy_qty, r.liquidated_qty + r.hedge_qty, rtol=1e-12)
    np.testing.assert_allclose(
        r.forced_buy_notional, r.liquidated_notional + r.hedge_notional, rtol=1e-12
    )
    assert np.all(r.ledger_imbalance <= 1e-9 * (1.0 + r.forced_buy_notional + r.ignition_notional))
    assert np.all(r.max_R >= r.initial_R - 1e-12) or np.all(r.max_R >= 0)


# --------------------------------------------------------------------------- locate


@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 3000),
    st.sampled_from(["uniform", "tick", "clustered"]),
)
@settings(max_examples=40)
def test_bucket_search_equals_searchsorted(seed, k, shape):
    rng = np.random.default_rng(seed)
    if shape == "tick":
        grid = 10.0 + 0.01 * np.arange(k)
    elif shape == "uniform":
        grid = np.unique(rng.uniform(-5.0, 50.0, k))
    else:
        grid = np.unique(np.concatenate([rng.uniform(0, 1, k), rng.uniform(0, 1e-6, k)]))
    n = 30_000
    values = np.concatenate(
        [
            rng.choice(grid, n // 3),  # exact ties
            np.nextafter(rng.choice(grid, n // 3), np.inf),
            rng.uniform(grid[0] - 1.0, grid[-1] + 1.0, n - 2 * (n // 3)),
        ]
    )
    rng.shuffle(values)
    assert np.array_equal(locate(grid, values), np.searchsorted(grid, values, side="left"))


# --------------------------------------------------------------------------- sampling


def test_distributions_sample_what_they_say():
    rng = np.random.default_rng(7)
    x = LogNormal(10.0, 0.1).sample(rng, 20_000)
    assert np.median(x) == pytest.approx(10.0, rel=0.01)
    assert np.std(np.log(x)) == pytest.approx(0.1, rel=0.03)
    y = Pareto(2.0, 3.0).sample(rng, 50_000)
    assert y.min() >= 2.0
    # P(X > 4) = (2/4)**3 = 1/8.
    assert np.mean(y > 4.0) == pytest.approx(0.125, abs=0.01)
    d = Discrete((2.0, 10.0), (0.25, 0.75)).sample(rng, 20_000)
    assert set(np.unique(d)) == {2.0, 10.0}
    assert np.mean(d == 10.0) == pytest.approx(0.75, abs=0.02)
    assert LogNormal(3.0, 0.0).sample(rng, 3).tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: LogNormal(0.0, 1.0),
        lambda: LogNormal(1.0, -1.0),
        lambda: Pareto(1.0, 0.0),
        lambda: Discrete((1.0, 2.0), (0.5, 0.6)),
        lambda: Discrete((1.0,), (0.5, 0.5)),
    ],
)
def test_distribution_errors(make):
    with pytest.raises(InvalidInputError):
        make()


def test_sample_population_is_deterministic_and_explicit():
    a = sample_population(500, np.random.default_rng(1), spot=10.0)
    b = sample_population(500, np.random.default_rng(1), spot=10.0)
    c = sample_population(500, np.random.default_rng(2), spot=10.0)
    assert isinstance(a, Positions)
    assert a == b
    assert a != c
    assert a.n == 500
    assert set(np.unique(a.leverage).round(9)) <= {2.0, 3.0, 5.0, 10.0, 20.0}
    assert np.median(a.entry_price) == pytest.approx(10.0, rel=0.02)
    assert a.size.min() >= 10.0  # Pareto minimum 100 USD / $10
    shorts = sample_population(200, np.random.default_rng(3), spot=10.0, side_mix=1.0)
    assert np.all(shorts.side == -1)
    const = sample_population(
        4, np.random.default_rng(3), spot=10.0, entry=9.0, size=2.0, leverage=4.0
    )
    assert const.entry_price.tolist() == [9.0] * 4
    assert const.margin.tolist() == [4.5] * 4


def test_sample_population_on_a_venue_is_alive_at_spot_and_within_limits():
    rng = np.random.default_rng(11)
    pos = sample_population(
        3_000,
        rng,
        spot=10.0,
        size=Pareto(1_000.0, 1.2),  # some positions large enough to hit lower brackets
        venue=ALTCOIN,
    )
    alive = ~np.asarray(
        ALTCOIN.is_liquidatable(pos.side, pos.size, pos.entry_price, pos.margin, 10.0)
    )
    assert alive.all()
    cap = np.asarray(ALTCOIN.schedule.max_leverage_for(pos.entry_notional))
    assert np.all(pos.leverage <= cap * (1 + 1e-12))
    lp = liquidation_prices(pos, ALTCOIN)
    assert np.all(lp[pos.side == -1] > 10.0)
    assert np.all(lp[pos.side == 1] < 10.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n must be"),
        ({"rng": 42}, "Generator"),
        ({"spot": -1.0}, "spot"),
        ({"side_mix": 1.5}, "side_mix"),
        ({"leverage": 0.5}, "leverage"),
        ({"entry": "lognormal"}, "entry"),
        ({"max_redraws": 0}, "max_redraws"),
    ],
)
def test_sample_population_errors(kwargs, match):
    args = {"n": 10, "rng": np.random.default_rng(0), "spot": 10.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        sample_population(args.pop("n"), args.pop("rng"), **args)


def test_sample_population_gives_up_loudly():
    # Longs entered 10 % above spot at 20x: all underwater at spot, whatever the draw.
    with pytest.raises(InvalidInputError, match="still be liquidated"):
        sample_population(
            50,
            np.random.default_rng(0),
            spot=10.0,
            entry=11.0,
            leverage=20.0,
            side_mix=0.0,
            venue=BINANCE,
            max_redraws=3,
        )


def test_ladder_from_positions_uses_the_venue_formula():
    pos = sample_population(400, np.random.default_rng(5), spot=10.0, venue=ALTCOIN)
    ladder = LiquidationLadder.from_positions(pos, ALTCOIN)
    shorts = np.flatnonzero(pos.side == -1)
    lp = liquidation_prices(pos, ALTCOIN)
    assert ladder.n == shorts.size
    assert ladder.position_side == -1
    assert np.all(np.diff(ladder.prices) >= 0)
    assert np.array_equal(ladder.prices, lp[ladder.order])
    assert np.array_equal(ladder.sizes, pos.size[ladder.order])
    assert set(ladder.order.tolist()) == set(shorts.tolist())
    longs = LiquidationLadder.from_positions(pos, ALTCOIN, which="longs")
    assert longs.position_side == 1 and np.all(longs.prices < 10.0)
    with pytest.raises(InvalidInputError, match="which"):
        LiquidationLadder.from_positions(pos, ALTCOIN, which="both")
    with pytest.raises(InvalidInputError, match="Positions"):
        LiquidationLadder.from_positions([1, 2], ALTCOIN)


def test_sampled_population_cascade_end_to_end():
    pos = sample_population(5_000, np.random.default_rng(9), spot=10.0, venue=ALTCOIN)
    ladder = LiquidationLadder.from_positions(pos, ALTCOIN)
    book = OrderBook.calibrated(10.0, 11.0, 20_000.0, extend_to=30.0)
    r = population_cascade(book, ladder, None, [1_000.0, 30_000.0], hedge_ratio=1.0)
    assert r.final_price[1] >= r.final_price[0] >= 10.0
    assert r.n_liquidated[1] >= r.n_liquidated[0]
    longs = LiquidationLadder.from_positions(pos, ALTCOIN, which="longs")
    c = population_cascade(book, longs, None, 30_000.0, hedge_ratio=1.0, side=-1)
    assert c.final_price < 10.0
    assert c.n_liquidated > 0


# --------------------------------------------------------------------------- sweeps


def sweep_case():
    rng = np.random.default_rng(4)
    book = OrderBook.from_depth_profile(10.0, 0.01, 300, rng.uniform(50, 150, 300))
    lp = 10.0 + rng.uniform(0.0, 3.5, 400)
    sizes = rng.uniform(5.0, 60.0, 400)
    return book, lp, sizes


def test_sweep_cells_equal_population_runs():
    book, lp, sizes = sweep_case()
    igns = np.array([100.0, 2_000.0, 9_000.0])
    hs = np.array([0.0, 0.7, 1.6, 2.0])
    grid = sweep(book, lp, sizes, ignitions=igns, hedge_ratios=hs)
    assert grid.row_name == "ignition" and grid.col_name == "hedge_ratio"
    assert grid.amplification.shape == (3, 4)
    for i, q in enumerate(igns):
        for j, h in enumerate(hs):
            r = population_cascade(book, lp, sizes, q, hedge_ratio=h)
            assert grid.final_price[i, j] == r.final_price
            assert grid.n_liquidated[i, j] == r.n_liquidated
            assert grid.amplification[i, j] == pytest.approx(r.amplification, rel=1e-12)
    assert grid.fixed["depth_scale"] == 1.0
    assert "3 x 4" in repr(grid)


def test_sweep_depth_and_short_scales_match_scaled_inputs():
    book, lp, sizes = sweep_case()
    ds = np.array([0.5, 1.0, 3.0])
    cs = np.array([0.0, 0.5, 2.0])
    grid = sweep(
        book, lp, sizes, ignitions=800.0, hedge_ratios=1.0, depth_scales=ds, short_scales=cs
    )
    assert (grid.row_name, grid.col_name) == ("depth_scale", "short_scale")
    for i, d in enumerate(ds):
        scaled = OrderBook(book.bid_prices, book.bid_sizes * d, book.ask_prices, book.ask_sizes * d)
        for j, c in enumerate(cs):
            if c == 0:
                assert grid.n_liquidated[i, j] >= 0 and grid.liquidated_qty[i, j] == 0.0
                continue
            r = population_cascade(scaled, lp, sizes * c, 800.0, hedge_ratio=1.0)
            assert grid.final_price[i, j] == r.final_price
            assert grid.n_liquidated[i, j] == r.n_liquidated
            assert grid.amplification[i, j] == pytest.approx(r.amplification, rel=1e-9)
    usd = sweep(
        book,
        lp,
        sizes,
        ignitions=[5_000.0, 50_000.0],
        hedge_ratios=1.0,
        depth_scales=ds,
        ignition_unit="usd",
    )
    scaled = OrderBook(book.bid_prices, book.bid_sizes * 3, book.ask_prices, book.ask_sizes * 3)
    r = population_cascade(scaled, lp, sizes, 50_000.0, hedge_ratio=1.0, ignition_unit="usd")
    assert usd.final_price[1, 2] == r.final_price


def test_sweep_ignition_by_short_scale_matches_scaled_sizes():
    book, lp, sizes = sweep_case()
    igns = np.array([200.0, 3_000.0])
    cs = np.array([0.3, 1.0, 2.5])
    grid = sweep(book, lp, sizes, ignitions=igns, hedge_ratios=0.8, short_scales=cs)
    for i, q in enumerate(igns):
        for j, c in enumerate(cs):
            r = population_cascade(book, lp, sizes * c, q, hedge_ratio=0.8)
            assert grid.final_price[i, j] == r.final_price
            assert grid.liquidated_qty[i, j] == pytest.approx(r.liquidated_qty, rel=1e-12)
            assert grid.amplification[i, j] == pytest.approx(r.amplification, rel=1e-9)


def test_sweep_hedge_by_short_interest_is_monotone():
    book, lp, sizes = sweep_case()
    grid = sweep(
        book,
        lp,
        sizes,
        ignitions=500.0,
        hedge_ratios=np.linspace(0, 2, 7),
        short_scales=np.linspace(0, 3, 6),
    )
    assert np.all(np.diff(grid.final_price, axis=0) >= 0)
    assert np.all(np.diff(grid.final_price, axis=1) >= 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hedge_ratios": None}, "hedge_ratios is required"),
        ({"hedge_ratios": 1.0}, "exactly two"),
        ({"depth_scales": [1.0, 2.0], "short_scales": [1.0]}, "exactly two"),
        ({"hedge_ratios": []}, "non-empty"),
        ({"hedge_ratios": [3.0]}, "hedge_ratios"),
        ({"depth_scales": 0.0}, "depth_scales"),
        ({"short_scales": -1.0}, "short_scales"),
        ({"ignitions": [[1.0]]}, "1-D"),
    ],
)
def test_sweep_errors(kwargs, match):
    book, lp, sizes = sweep_case()
    args = {"ignitions": [1.0, 2.0], "hedge_ratios": [0.0, 1.0]}
    args.update(kwargs)
    with pytest.raises(PerpsbookError, match=match):
        sweep(book, lp, sizes, **args)


# --------------------------------------------------------------------------- benchmark script


@functools.cache
def load_benchmarks():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("perpsbook_benchmarks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_script_runs_on_tiny_inputs():
    bench = load_benchmarks()
    report = bench.collect(
        (300, 1_000), repeats=1, sweep_n=500, sweep_shape=(4, 3), stage_repeats=1
    )
    json.dumps(report)
    for key in ("population", "sweep_100x100_seconds", "stage_mode_seconds", "naive_loop_ratio"):
        assert key in report
    for row in report["population"]:
        assert {"n", "seconds", "sort_seconds", "ratio_to_sort", "peak_mb"} <= set(row)
        assert row["naive_agrees"]
    assert [row["n"] for row in report["population"]] == [300, 1_000]
    assert "stage mode" in bench.format_table(report)


@given(st.integers(0, 2**32 - 1), st.floats(0.0, 2.0))
@settings(max_examples=30)
def test_naive_loop_baseline_agrees(seed, h):
    mod = load_benchmarks()
    rng = np.random.default_rng(seed)
    book = mod.benchmark_book()
    lp = 10.0 * np.exp(rng.normal(0.1, 0.1, 200))
    sizes = rng.uniform(1.0, 500.0, 200)
    q = float(rng.uniform(1.0, 30_000.0))
    price, count, qty = mod.naive_cascade(book, lp, sizes, q, h)
    r = population_cascade(book, lp, sizes, q, hedge_ratio=h)
    assert price == r.final_price
    assert count == r.n_liquidated
    assert qty == pytest.approx(r.liquidated_qty, rel=1e-12)


# ----------------------------------------------------------------- hardening (issue 7)


def test_distributions_and_sampler_reject_list_valued_scalars():
    for make in (lambda: LogNormal([1.0, 2.0], 0.5), lambda: Pareto(1.0, [2.0, 3.0])):
        with pytest.raises(InvalidInputError, match="must be a single real number"):
            make()
    rng = np.random.default_rng(0)
    with pytest.raises(InvalidInputError, match=r"^spot must be a single real number"):
        sample_population(10, rng, spot=[10.0, 11.0])
    with pytest.raises(InvalidInputError, match=r"^n must be an integer in \[1, "):
        sample_population(10**400, rng, spot=10.0)


def test_ladder_from_positions_checks_the_venue():
    pos = Positions.from_leverage([-1, -1], [1.0, 2.0], [10.0, 10.0], [10, 20])
    for bad in (None, "binance", 1.0):
        with pytest.raises(InvalidInputError, match=r"^venue must be a perpsbook.margin.Venue"):
            LiquidationLadder.from_positions(pos, bad)
