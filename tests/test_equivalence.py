"""Stage mode and population mode are one model: same prices, same liquidations, same buying.

Also the properties both must have: monotone in the ignition, crash = mirrored rocket,
deterministic, and conserving coins and cash.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.cascade import CascadeParams, Tranches, run_cascade
from perpsbook.margin import ALTCOIN
from perpsbook.population import (
    LiquidationLadder,
    population_cascade,
    sample_population,
    sweep,
)
from perpsbook.scenarios import rocketcoin


@st.composite
def small_cases(draw, max_positions=20):
    """A random book and 1-20 positions on the side the cascade liquidates."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    side = draw(st.sampled_from([1, -1]))
    n_levels = draw(st.integers(3, 120))
    tick = draw(st.sampled_from([0.01, 0.05, 0.5]))
    book = OrderBook.from_depth_profile(
        100.0, tick, n_levels, rng.uniform(1.0, 40.0, n_levels), spread=tick
    )
    levels = book.ask_prices if side == 1 else book.bid_prices
    n = draw(st.integers(1, max_positions))
    span = abs(levels[-1] - levels[0]) + tick
    lp = levels[0] + side * rng.uniform(-0.1, 1.1, n) * span
    lp = np.where(rng.random(n) < 0.4, rng.choice(levels, n), lp)  # ties with levels
    lp = np.sort(lp)[::side]  # the order the cascade reaches them (Tranches needs it)
    sizes = rng.uniform(0.5, 60.0, n)
    h = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]) | st.floats(0.0, 2.0))
    w = draw(st.sampled_from([1.0, 1.0, 0.0]) | st.floats(0.0, 1.0))
    depth = book.total_ask_qty if side == 1 else book.total_bid_qty
    q = float(rng.uniform(0.05, 0.8) * depth)
    return book, lp, sizes, h, w, side, q


def run_both(book, lp, sizes, h, w, side, q):
    tranches = Tranches(lp, sizes, side=-side)
    params = CascadeParams(ignition_qty=q, hedge_ratio=h, perp_passthrough=w, side=side, lag=0)
    stage = run_cascade(book, tranches, params)
    pop = population_cascade(book, lp, sizes, q, hedge_ratio=h, perp_passthrough=w, side=side)
    return stage, pop


@given(small_cases())
@settings(max_examples=150)
def test_stage_and_population_modes_agree(case):
    book, lp, sizes, h, w, side, q = case
    stage, pop = run_both(book, lp, sizes, h, w, side, q)
    assert not stage.truncated
    assert pop.final_price == stage.final_price
    assert pop.n_liquidated == stage.n_liquidated
    # The same set: the cascade reaches the tranches in order, population mode by price.
    assert np.array_equal(pop.liquidated_mask(lp), np.arange(lp.size) < stage.n_liquidated)
    assert pop.liquidated_qty == pytest.approx(stage.total_liquidated_qty, rel=1e-9, abs=1e-9)
    assert pop.ignition_qty == stage.ignition_qty
    assert pop.ignition_notional == pytest.approx(stage.ignition_notional, rel=1e-12)
    assert pop.book_ran_dry == stage.book_ran_dry
    if not pop.book_ran_dry:
        forced_qty = stage.total_liquidated_qty + stage.total_hedge_qty
        assert pop.forced_buy_qty == pytest.approx(forced_qty, rel=1e-9, abs=1e-9)
        assert pop.hedge_qty == pytest.approx(stage.total_hedge_qty, rel=1e-9, abs=1e-9)
        if w == 1.0:
            usd = stage.total_forced_buy_notional
            assert pop.forced_buy_notional == pytest.approx(usd, rel=1e-9, abs=1e-9)
            assert pop.amplification == pytest.approx(stage.amplification, rel=1e-9, abs=1e-12)


def test_rocketcoin_scenario_in_population_mode():
    sc = rocketcoin()
    stage = sc.run()
    p = sc.params
    pop = population_cascade(
        sc.book,
        sc.tranches.trigger_price,
        sc.tranches.size,
        p.ignition_notional,
        hedge_ratio=p.hedge_ratio,
        perp_passthrough=p.perp_passthrough,
        ignition_unit="usd",
    )
    assert pop.final_price == stage.final_price
    assert pop.n_liquidated == stage.n_liquidated == 5
    assert pop.liquidated_qty == pytest.approx(stage.total_liquidated_qty, rel=1e-12)
    assert pop.forced_buy_notional == pytest.approx(stage.total_forced_buy_notional, rel=1e-9)
    assert pop.amplification == pytest.approx(stage.amplification, rel=1e-9)


def test_population_of_positions_agrees_with_stage_mode_on_a_venue():
    pos = sample_population(15, np.random.default_rng(8), spot=10.0, side_mix=1.0, venue=ALTCOIN)
    ladder = LiquidationLadder.from_positions(pos, ALTCOIN)
    tranches = Tranches.from_positions(pos, ALTCOIN)
    book = OrderBook.calibrated(10.0, 10.5, 300.0, tick=0.01, extend_to=14.0)
    for q in (50.0, 200.0, 400.0, 1_000.0):
        stage = run_cascade(book, tranches, CascadeParams(ignition_qty=q, hedge_ratio=1.0))
        pop = population_cascade(book, ladder, None, q, hedge_ratio=1.0)
        assert pop.final_price == stage.final_price
        assert pop.n_liquidated == stage.n_liquidated
        assert pop.liquidated_qty == pytest.approx(stage.total_liquidated_qty, rel=1e-9, abs=0)


# --------------------------------------------------------------------------- monotonicity


@given(small_cases(max_positions=200), st.lists(st.floats(1e-3, 1.5), min_size=2, max_size=12))
@settings(max_examples=80)
def test_more_ignition_never_ends_lower(case, fractions):
    book, lp, sizes, h, w, side, _ = case
    depth = book.total_ask_qty if side == 1 else book.total_bid_qty
    qs = np.sort(np.asarray(fractions)) * depth
    r = population_cascade(book, lp, sizes, qs, hedge_ratio=h, perp_passthrough=w, side=side)
    assert np.all(np.diff(side * r.final_price) >= 0)
    assert np.all(np.diff(r.n_liquidated) >= 0)
    assert np.all(np.diff(r.liquidated_qty) >= 0)
    # USD of all buying (a bigger ignition may leave a dry ladder nothing for the forced
    # buyers, so the forced part alone need not grow).
    total = r.ignition_notional + r.forced_buy_notional
    assert np.all(np.diff(total) >= -1e-9 * total[-1])


@given(small_cases())
@settings(max_examples=40)
def test_more_hedging_or_shorts_never_ends_lower(case):
    book, lp, sizes, _, w, side, q = case
    hs = np.linspace(0.0, 2.0, 6)
    cs = np.array([0.0, 0.5, 1.0, 2.0])
    grid = sweep(
        book,
        lp,
        sizes,
        ignitions=q,
        hedge_ratios=hs,
        short_scales=cs,
        perp_passthrough=w,
        side=side,
    )
    assert np.all(np.diff(side * grid.final_price, axis=0) >= 0)
    assert np.all(np.diff(side * grid.final_price, axis=1) >= 0)


def test_stage_mode_is_monotone_too():
    sc = rocketcoin()
    prices = [sc.with_params(ignition_notional=x).run().final_price for x in (5e4, 1e5, 2e5, 4e5)]
    assert prices == sorted(prices)


# --------------------------------------------------------------------------- symmetry


@given(small_cases(max_positions=100))
@settings(max_examples=80)
def test_crash_is_the_mirrored_rocket(case):
    book, lp, sizes, h, w, side, q = case
    pivot = 128.0  # every price of these books is below 2 * pivot
    kw = {"hedge_ratio": h, "perp_passthrough": w}
    direct = population_cascade(book, lp, sizes, q, side=side, **kw)
    mirror = population_cascade(book.mirrored(pivot), 2 * pivot - lp, sizes, q, side=-side, **kw)
    # 2*pivot - p is exact for these prices except at the last ulp: allow 1e-9.
    assert 2 * pivot - mirror.final_price == pytest.approx(direct.final_price, abs=1e-9)
    assert mirror.n_liquidated == direct.n_liquidated
    assert mirror.liquidated_qty == pytest.approx(direct.liquidated_qty, rel=1e-12, abs=1e-12)
    assert mirror.forced_buy_qty == pytest.approx(direct.forced_buy_qty, rel=1e-12, abs=1e-12)
    assert mirror.book_ran_dry == direct.book_ran_dry


def test_stage_crash_equals_population_crash_on_the_rkt_mirror():
    from perpsbook.scenarios import rocketcoin_crash

    sc = rocketcoin_crash()
    stage = sc.run()
    p = sc.params
    amount = p.ignition_qty if p.ignition_qty is not None else p.ignition_notional
    unit = "coins" if p.ignition_qty is not None else "usd"
    pop = population_cascade(
        sc.book,
        sc.tranches.trigger_price,
        sc.tranches.size,
        amount,
        hedge_ratio=p.hedge_ratio,
        side=-1,
        ignition_unit=unit,
    )
    assert pop.final_price == stage.final_price
    assert pop.n_liquidated == stage.n_liquidated
    rocket = rocketcoin().run()
    assert 20.0 - pop.final_price == pytest.approx(rocket.final_price, abs=1e-9)


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_result():
    def run(seed):
        pos = sample_population(2_000, np.random.default_rng(seed), spot=10.0, venue=ALTCOIN)
        ladder = LiquidationLadder.from_positions(pos, ALTCOIN)
        book = OrderBook.calibrated(10.0, 11.0, 20_000.0, extend_to=25.0)
        return population_cascade(book, ladder, None, [500.0, 5_000.0], hedge_ratio=1.0)

    a, b, c = run(3), run(3), run(4)
    assert a.summary() == b.summary()
    assert a.summary() != c.summary()


@given(small_cases())
@settings(max_examples=20)
def test_rerunning_gives_identical_results(case):
    book, lp, sizes, h, w, side, q = case
    a = population_cascade(book, lp, sizes, q, hedge_ratio=h, perp_passthrough=w, side=side)
    b = population_cascade(book, lp, sizes, q, hedge_ratio=h, perp_passthrough=w, side=side)
    assert a.summary() == b.summary()


# --------------------------------------------------------------------------- conservation


@given(small_cases(max_positions=60))
@settings(max_examples=80)
def test_coins_and_cash_are_conserved(case):
    book, lp, sizes, h, w, side, q = case
    stage, pop = run_both(book, lp, sizes, h, w, side, q)
    scale = 1.0 + pop.ignition_notional + pop.forced_buy_notional
    assert pop.ledger_imbalance <= 1e-9 * scale
    assert stage.ledger_imbalance <= 1e-6 * scale
    mask = pop.liquidated_mask(lp)
    assert pop.liquidated_qty == pytest.approx(sizes[mask].sum(), rel=1e-12, abs=1e-12)
    assert pop.forced_buy_qty == pytest.approx(pop.liquidated_qty * (1 + h), rel=1e-12)
    assert pop.ladder_qty == pytest.approx(pop.liquidated_qty * (w + h), rel=1e-12)
    depth = book.total_ask_qty if side == 1 else book.total_bid_qty
    demand = pop.ignition_qty + pop.ladder_qty
    # Every coin of demand is either filled by the ladder or reported unfilled.
    filled = min(demand, depth)
    assert filled + pop.unfilled == pytest.approx(demand, rel=1e-12)
    # The ladder's USD: the ignition's plus the forced buying on the ladder.
    ladder_usd = book.cost_curve(side, [filled], partial=True)[0]
    if w == 1.0:
        assert pop.ignition_notional + pop.forced_buy_notional == pytest.approx(
            ladder_usd, rel=1e-9
        )
