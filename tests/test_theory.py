"""Tests of perpsbook.theory: branching ratio, 1/(1 - R) multiplier, critical ignition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import InvalidInputError
from perpsbook.population import LiquidationLadder, population_cascade
from perpsbook.theory import (
    DEFAULT_BANDWIDTH_FRACTION,
    branching_ratio,
    critical_ignition,
    default_bandwidth,
    depth_density,
    initial_R,
    liquidation_density,
    max_R_along_path,
    small_shock_multiplier,
)

# A flat book: 10 coins every $0.01 from $100.01 up, i.e. D = 1,000 coins per USD.
FLAT = OrderBook.flat_ladder(100.0, 0.01, 10.0, 5000)
SPACING = 0.002  # USD between liquidation prices: 5 per tick
UNIFORM_L = FLAT.best_ask + SPACING * np.arange(20_000)  # $100.01 .. $140.01


def uniform_shorts(r_target: float, load: float) -> np.ndarray:
    """Sizes giving R = load * rho / D = r_target on the flat book (rho = size / SPACING)."""
    rho = r_target * 1000.0 / load
    return np.full(UNIFORM_L.size, rho * SPACING)


# --------------------------------------------------------------------------- multiplier


def test_small_shock_multiplier_values():
    assert small_shock_multiplier(0.0) == 1.0
    assert small_shock_multiplier(0.5) == 2.0
    assert small_shock_multiplier(0.75) == 4.0
    np.testing.assert_allclose(small_shock_multiplier([0.0, 0.2, 0.9]), [1.0, 1.25, 10.0])


@pytest.mark.parametrize("r", [1.0, 1.5, [0.2, 1.0]])
def test_supercritical_raises(r):
    with pytest.raises(InvalidInputError, match="supercritical"):
        small_shock_multiplier(r)


@pytest.mark.parametrize("r", [-0.1, np.nan, np.inf])
def test_multiplier_rejects_invalid(r):
    with pytest.raises(InvalidInputError):
        small_shock_multiplier(r)


# --------------------------------------------------------------------------- densities


def test_densities_and_ratio_on_a_flat_book_with_uniform_shorts():
    sizes = uniform_shorts(0.5, 2.0)  # 0.25 coins every $0.002 = 125 coins per USD... x2
    prices = np.array([105.0, 110.0, 120.0])
    bw = 1.0
    d = depth_density(FLAT, prices, bandwidth=bw)
    rho = liquidation_density(FLAT, UNIFORM_L, sizes, prices, bandwidth=bw)
    # 100 levels of 10 coins in a $1 window; 500 liquidation prices of 0.5 coins each.
    np.testing.assert_allclose(d, 1000.0)
    np.testing.assert_allclose(rho, 250.0, rtol=0.011)
    r = branching_ratio(FLAT, UNIFORM_L, sizes, prices, hedge_ratio=1.0, bandwidth=bw)
    np.testing.assert_allclose(r, 2.0 * rho / d, rtol=1e-12)
    np.testing.assert_allclose(r, 0.5, rtol=0.011)
    # (w + h) scaling: w = 0.5, h = 0.25 gives 0.75 / 2 of it.
    r2 = branching_ratio(
        FLAT, UNIFORM_L, sizes, prices, hedge_ratio=0.25, perp_passthrough=0.5, bandwidth=bw
    )
    np.testing.assert_allclose(r2, r * 0.375, rtol=1e-12)


def test_default_bandwidth_is_one_percent_of_the_best_price():
    assert default_bandwidth(FLAT) == pytest.approx(DEFAULT_BANDWIDTH_FRACTION * 100.01)
    assert default_bandwidth(FLAT, side=-1) == pytest.approx(0.01 * 99.99)
    a = branching_ratio(FLAT, UNIFORM_L, uniform_shorts(0.5, 2.0), [105.0], hedge_ratio=1.0)
    b = branching_ratio(
        FLAT, UNIFORM_L, uniform_shorts(0.5, 2.0), [105.0], hedge_ratio=1.0, bandwidth=1.0001
    )
    assert a[0] == b[0]


def test_trigger_level_convention_and_gaps():
    # Asks at $10 and $20 only: a short at $15 is triggered by the $20 level.
    book = OrderBook.from_levels(bids=[(9.0, 1.0)], asks=[(10.0, 4.0), (20.0, 8.0)])
    rho = liquidation_density(book, [15.0], [6.0], [15.0, 20.0], bandwidth=2.0)
    assert rho.tolist() == [0.0, 3.0]
    r = branching_ratio(book, [15.0], [6.0], [15.0, 20.0], hedge_ratio=1.0, bandwidth=2.0)
    # The gap has no depth and no trigger: R = 0, never NaN; at $20: 2 * 6 / 8.
    assert r.tolist() == [0.0, 1.5]
    assert depth_density(book, [15.0], bandwidth=2.0).tolist() == [0.0]


def test_default_grid_is_every_level_and_ladder_input_agrees():
    sizes = uniform_shorts(0.3, 2.0)
    r = branching_ratio(FLAT, UNIFORM_L, sizes, hedge_ratio=1.0)
    assert r.shape == FLAT.ask_prices.shape
    ladder = LiquidationLadder.from_arrays(UNIFORM_L, sizes)
    r2 = branching_ratio(FLAT, ladder, None, hedge_ratio=1.0)
    np.testing.assert_allclose(r, r2, rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"bandwidth": [1.0, 2.0]}, "bandwidth"),
        ({"hedge_ratio": 3.0}, "hedge_ratio"),
        ({"perp_passthrough": -0.5}, "perp_passthrough"),
        ({"prices": [np.nan]}, "prices"),
        ({"side": 2}, "side"),
    ],
)
def test_branching_ratio_errors(kwargs, match):
    args = {"prices": [105.0], "hedge_ratio": 1.0}
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        branching_ratio(FLAT, UNIFORM_L, uniform_shorts(0.5, 2.0), args.pop("prices"), **args)


# --------------------------------------------------------------------------- 1 / (1 - R)


@pytest.mark.parametrize("r_target", [0.1, 0.25, 0.5, 0.6, 0.75])
@pytest.mark.parametrize(("h", "w"), [(1.0, 1.0), (0.5, 0.25)])
def test_multiplier_agrees_with_simulation(r_target, h, w):
    sizes = uniform_shorts(r_target, h + w)
    r_est = branching_ratio(
        FLAT, UNIFORM_L, sizes, [104.0], hedge_ratio=h, perp_passthrough=w, bandwidth=1.0
    )[0]
    assert r_est == pytest.approx(r_target, rel=0.01)
    # 2,000 coins alone lift the price $2.00 from the mid; the cascade multiplies that.
    res = population_cascade(FLAT, UNIFORM_L, sizes, 2_000.0, hedge_ratio=h, perp_passthrough=w)
    ignition_move = res.ignition_price - FLAT.mid
    total_move = res.final_price - FLAT.mid
    assert ignition_move == pytest.approx(2.0)
    simulated = total_move / ignition_move
    assert simulated == pytest.approx(small_shock_multiplier(r_est), rel=0.10)
    assert simulated == pytest.approx(small_shock_multiplier(r_target), rel=0.01)
    assert res.initial_R == pytest.approx(r_target, rel=0.03)
    assert not res.book_ran_dry


def test_supercritical_population_runs_through():
    sizes = uniform_shorts(1.2, 2.0)
    res = population_cascade(FLAT, UNIFORM_L, sizes, 10.0, hedge_ratio=1.0)
    assert res.n_liquidated == UNIFORM_L.size
    assert res.max_R > 1.0
    crit = critical_ignition(FLAT, UNIFORM_L, sizes, hedge_ratio=1.0)
    # R > 1 from the first level on: less than the first level's 10 coins will do.
    assert 0.0 < crit.threshold < 10.0
    assert crit.bottleneck_price < 100.1  # the hard part is the very start


# --------------------------------------------------------------------------- path R


def test_initial_and_max_R_match_the_population_result():
    rng = np.random.default_rng(2)
    lp = 100.0 + rng.gamma(2.0, 4.0, 3_000)
    sizes = rng.uniform(0.5, 6.0, 3_000)
    res = population_cascade(FLAT, lp, sizes, 3_000.0, hedge_ratio=0.7)
    r0 = initial_R(FLAT, lp, sizes, hedge_ratio=0.7)
    assert res.initial_R == r0
    assert r0 == branching_ratio(FLAT, lp, sizes, [FLAT.best_ask], hedge_ratio=0.7)[0]
    rmax = max_R_along_path(FLAT, lp, sizes, res.final_price, hedge_ratio=0.7)
    assert res.max_R == rmax
    assert rmax >= r0
    r_all = branching_ratio(FLAT, lp, sizes, hedge_ratio=0.7)
    on_path = FLAT.ask_prices <= res.final_price
    assert rmax == r_all[on_path].max()
    # A path that ends before the best ask still contains the best level.
    assert max_R_along_path(FLAT, lp, sizes, 50.0, hedge_ratio=0.7) == r0


# --------------------------------------------------------------------------- critical ignition


def test_critical_ignition_hand_example():
    book = OrderBook.from_levels(
        bids=[(9.0, 100.0)], asks=[(10.0, 100.0), (11.0, 100.0), (12.0, 100.0), (13.0, 100.0)]
    )
    lp, sizes = [10.5, 11.0, 12.5], [20.0, 30.0, 100.0]
    crit = critical_ignition(book, lp, sizes, hedge_ratio=1.0)
    # G = [0, 100, 200 - 2*50, 300 - 2*50] (levels / (1 - 1e-9)): the last needs 200.
    assert crit.threshold == pytest.approx(200.0, rel=1e-8)
    assert crit.reachable
    assert crit.last_trigger_price == 13.0
    assert crit.bottleneck_price == 13.0
    assert crit.qty == np.nextafter(crit.threshold, np.inf)
    assert crit.notional == pytest.approx(book.buy(crit.qty).notional)
    assert population_cascade(book, lp, sizes, crit.qty, hedge_ratio=1.0).n_liquidated == 3
    assert population_cascade(book, lp, sizes, crit.threshold, hedge_ratio=1.0).n_liquidated == 2


def test_critical_ignition_unreachable():
    book = OrderBook.from_levels(bids=[(9.0, 1.0)], asks=[(10.0, 5.0), (11.0, 5.0)])
    crit = critical_ignition(book, [10.5, 50.0], [1.0, 1.0], hedge_ratio=1.0)
    assert not crit.reachable
    assert crit.qty == np.inf and crit.notional == np.inf
    assert crit.bottleneck_price == 11.0


@st.composite
def ladder_cases(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_levels = draw(st.integers(3, 80))
    side = draw(st.sampled_from([1, -1]))
    book = OrderBook.from_depth_profile(50.0, 0.05, n_levels, rng.uniform(1.0, 10.0, n_levels))
    levels = book.ask_prices if side == 1 else book.bid_prices
    n = draw(st.integers(1, 40))
    lp = rng.uniform(min(levels[0], levels[-2]), max(levels[0], levels[-2]), n)
    lp = np.where(rng.random(n) < 0.3, rng.choice(levels[:-1], n), lp)
    sizes = rng.uniform(0.1, 20.0, n)
    h = draw(st.floats(0.0, 2.0))
    w = draw(st.floats(0.0, 1.0))
    return book, lp, sizes, h, w, side


@given(ladder_cases())
@settings(max_examples=80)
def test_critical_ignition_is_exact(case):
    book, lp, sizes, h, w, side = case
    crit = critical_ignition(book, lp, sizes, hedge_ratio=h, perp_passthrough=w, side=side)
    assert crit.reachable
    kw = {"hedge_ratio": h, "perp_passthrough": w, "side": side}
    assert population_cascade(book, lp, sizes, crit.qty, **kw).n_liquidated == lp.size
    if crit.threshold > 0:
        below = population_cascade(book, lp, sizes, crit.threshold, **kw)
        assert below.n_liquidated < lp.size
    ratios = branching_ratio(book, lp, sizes, **kw)
    assert np.all(np.isfinite(ratios)) and np.all(ratios >= 0)


@given(ladder_cases())
@settings(max_examples=40)
def test_crash_ratio_is_the_mirrored_rocket_ratio(case):
    book, lp, sizes, h, w, side = case
    pivot = 64.0  # a power of two keeps 2*pivot - p exact enough here
    mirror = book.mirrored(pivot)
    kw = {"hedge_ratio": h, "perp_passthrough": w, "bandwidth": 0.33}
    a = branching_ratio(book, lp, sizes, side=side, **kw)
    b = branching_ratio(mirror, 2 * pivot - lp, sizes, side=-side, **kw)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_max_R_along_path_rejects_a_list_final_price():
    from perpsbook.errors import InvalidInputError
    from perpsbook.theory import max_R_along_path

    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 100)
    with pytest.raises(InvalidInputError, match=r"^final_price must be a single real number"):
        max_R_along_path(book, [10.5], [10.0], [10.8, 10.9], hedge_ratio=1.0)


def test_theory_and_population_share_one_ladder_module():
    # The import cycle theory <-> population is gone: both import perpsbook.ladder.
    import perpsbook.ladder as ladder
    import perpsbook.population as population
    import perpsbook.theory as theory

    assert theory.default_bandwidth is ladder.default_bandwidth
    assert population.LiquidationLadder is ladder.LiquidationLadder


# --------------------------------------------------------------------------- two markets


def test_spot_passthrough_values():
    from perpsbook.theory import spot_passthrough

    assert spot_passthrough(0.7) == pytest.approx(0.7)
    assert spot_passthrough(1.0, 0.4) == pytest.approx(1.0)  # a full hedge: a changes nothing
    assert spot_passthrough(0.5, 0.5) == pytest.approx(0.75)
    np.testing.assert_allclose(spot_passthrough([0.0, 0.5], 1.0), [1.0, 1.0])
    with pytest.raises(InvalidInputError, match="arbitrage_share"):
        spot_passthrough(1.0, 1.5)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        spot_passthrough(-0.1)


@pytest.mark.parametrize("h", [0.0, 0.5, 1.0, 1.7])
@pytest.mark.parametrize("a", [0.0, 0.3])
def test_two_market_ratio_is_the_one_ladder_ratio_with_load_s(h, a):
    from perpsbook.theory import spot_passthrough, two_market_branching_ratio

    sizes = uniform_shorts(0.5, 1.0)
    grid = np.linspace(100.2, 130.0, 17)
    two = two_market_branching_ratio(FLAT, UNIFORM_L, sizes, grid, hedge_ratio=h, arbitrage_share=a)
    s = spot_passthrough(h, a)
    one = branching_ratio(FLAT, UNIFORM_L, sizes, grid, hedge_ratio=s, perp_passthrough=0.0)
    np.testing.assert_array_equal(two, one)
    np.testing.assert_allclose(two[1:-1], 0.5 * s, rtol=0.02)


def test_two_market_ratio_is_zero_beyond_the_perp_capacity():
    from perpsbook.theory import two_market_branching_ratio

    sizes = uniform_shorts(0.5, 1.0)  # 0.5 * 1000 / 1 coins per USD of prices
    grid = np.array([101.0, 105.0, 110.0, 120.0])
    cap = 0.5 * 1000.0 * 8.0  # coins liquidated by about $108
    r = two_market_branching_ratio(FLAT, UNIFORM_L, sizes, grid, hedge_ratio=1.0, perp_depth=cap)
    assert r[0] > 0.4 and r[1] > 0.4
    assert r[2] == 0.0 and r[3] == 0.0
    with pytest.raises(InvalidInputError, match="perp_depth"):
        two_market_branching_ratio(FLAT, UNIFORM_L, sizes, hedge_ratio=1.0, perp_depth=-1.0)


@given(ladder_cases(), st.floats(0.0, 2.0))
@settings(max_examples=60, deadline=None)
def test_two_market_critical_ignition_uncapped_equals_one_ladder_with_w0(case, h):
    from perpsbook.theory import two_market_critical_ignition

    book, liq, sizes = case[:3]
    deep = OrderBook.flat_ladder(10.0, 0.01, 1e12, 10)
    two = two_market_critical_ignition(book, deep, liq, sizes, hedge_ratio=h)
    one = critical_ignition(book, liq, sizes, hedge_ratio=h, perp_passthrough=0.0)
    assert two.threshold == one.threshold
    assert two.reachable == one.reachable
    assert two.bottleneck_price == one.bottleneck_price


def test_two_market_critical_ignition_runs_through_exactly_there():
    from perpsbook.theory import two_market_critical_ignition

    sizes = uniform_shorts(1.5, 1.0)[:2000]  # supercritical, $100.01 .. $104.01
    liq = UNIFORM_L[:2000]
    deep = OrderBook.flat_ladder(100.0, 0.01, 1e9, 10)
    ci = two_market_critical_ignition(FLAT, deep, liq, sizes, hedge_ratio=1.0)
    assert ci.reachable and ci.threshold > 0
    run = population_cascade(
        FLAT, liq, sizes, [ci.qty, ci.threshold], hedge_ratio=1.0, perp_passthrough=0.0
    )
    assert run.n_liquidated[0] == liq.size
    assert run.n_liquidated[1] < liq.size
    # A perp book too thin to sell the engine everything leaves the hedge short: a larger
    # ignition is needed.
    thin = OrderBook.flat_ladder(100.0, 0.01, 10.0, 100)  # 1,000 coins of asks
    capped = two_market_critical_ignition(FLAT, thin, liq, sizes, hedge_ratio=1.0)
    assert capped.threshold > ci.threshold


def test_two_market_critical_ignition_unreachable():
    from perpsbook.theory import two_market_critical_ignition

    ci = two_market_critical_ignition(FLAT, FLAT, [1e6], [1.0], hedge_ratio=1.0)
    assert not ci.reachable and ci.qty == np.inf


def test_truncated_multiplier_and_generations():
    from perpsbook.theory import hedge_generations, truncated_multiplier

    assert truncated_multiplier(0.5, 1) == 1.0
    assert truncated_multiplier(0.5, 3) == pytest.approx(1.75)
    assert truncated_multiplier(1.0, 7) == pytest.approx(7.0)
    assert truncated_multiplier(2.0, 4) == pytest.approx(15.0)
    assert truncated_multiplier(0.3, 0) == 0.0
    assert truncated_multiplier(0.5, 200) == pytest.approx(small_shock_multiplier(0.5))
    np.testing.assert_array_equal(hedge_generations(12, [0, 1, 2, 3, 5, 20]), [12, 6, 4, 3, 2, 0])
    assert hedge_generations(1, 0) == 1
    with pytest.raises(InvalidInputError, match="generations"):
        truncated_multiplier(0.5, 1.5)
    with pytest.raises(InvalidInputError, match="R must be"):
        truncated_multiplier(-0.5, 2)
    with pytest.raises(InvalidInputError, match="lag"):
        hedge_generations(5, -1)
    with pytest.raises(InvalidInputError, match="max_stages"):
        hedge_generations(0, 1)


@given(st.floats(0.0, 3.0), st.integers(0, 60))
def test_truncated_multiplier_grows_with_generations(r, n):
    from perpsbook.theory import truncated_multiplier

    a, b = truncated_multiplier(r, n), truncated_multiplier(r, n + 1)
    assert b >= a
    assert b - a == pytest.approx(r**n, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("r", [0.2, 0.5, 0.8])
def test_flat_market_gives_the_target_ratio(r):
    from perpsbook.theory import flat_market

    book, liq, sizes = flat_market(r_target=r, load=2.0)
    got = branching_ratio(book, liq, sizes, [105.0, 110.0], hedge_ratio=1.0)
    np.testing.assert_allclose(got, r, rtol=0.01)
    with pytest.raises(InvalidInputError, match="span"):
        flat_market(span=2.0)
    with pytest.raises(InvalidInputError, match="r_target"):
        flat_market(r_target=-1.0)


@given(ladder_cases(), st.floats(0.2, 5.0), st.floats(0.0, 3.0))
@settings(max_examples=40, deadline=None)
def test_critical_ignition_scan_matches_scaled_books(case, d, c):
    from perpsbook.theory import critical_ignition_scan

    book, lp, sizes, h, w, side = case
    if side == -1:  # the scan is for rockets
        lp = np.abs(lp - book.mid) + book.mid
    scaled = OrderBook(book.bid_prices, book.bid_sizes * d, book.ask_prices, book.ask_sizes * d)
    one = critical_ignition(scaled, lp, sizes * max(c, 1e-300), hedge_ratio=h, perp_passthrough=w)
    qty, usd = critical_ignition_scan(
        book, lp, sizes, hedge_ratio=h, perp_passthrough=w, depth_scales=[d], short_scales=c
    )
    if not one.reachable:
        assert np.isinf(qty[0])
    else:
        assert qty[0] == pytest.approx(one.qty, rel=1e-12, abs=1e-9)
        # qty sits on a level boundary: the walk tolerance (1e-9) shows in the USD
        assert usd[0] == pytest.approx(one.notional, rel=1e-8, abs=1e-9)


def test_critical_ignition_scan_rejects_bad_scales():
    from perpsbook.theory import critical_ignition_scan

    with pytest.raises(InvalidInputError, match="depth_scales"):
        critical_ignition_scan(FLAT, [100.5], [1.0], hedge_ratio=1.0, depth_scales=0.0)
    with pytest.raises(InvalidInputError, match="short_scales"):
        critical_ignition_scan(FLAT, [100.5], [1.0], hedge_ratio=1.0, short_scales=-1.0)
