"""The two-market engine (perpsbook.twomarket): special case, determinism, conservation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.cascade import CascadeParams, Tranches, run_cascade
from perpsbook.errors import InvalidInputError
from perpsbook.liquidation import LiquidationConfig
from perpsbook.margin import ALTCOIN, BINANCE, BYBIT, HYPERLIQUID, liquidation_prices
from perpsbook.positions import Positions
from perpsbook.scenarios import TWO_MARKET_VENUES, _rkt_book, rocketcoin_two_market
from perpsbook.twomarket import (
    MAX_LAG,
    TwoMarketParams,
    initial_two_market,
    positions_at_triggers,
    run_two_market,
    run_two_market_stage,
    two_market_population,
)

TRIGGERS = np.array([11.0, 12.0, 13.0, 14.0, 15.0])
TRANCHE_USD = np.array([1.0e6, 1.5e6, 2.0e6, 2.5e6, 3.0e6])


# --------------------------------------------------------------------------- special case


@pytest.mark.parametrize(("lag", "hedge"), [(0, 1.0), (1, 1.0), (2, 0.5), (0, 0.0)])
def test_one_ladder_model_is_the_linked_special_case(lag, hedge):
    """run_cascade == run_two_market(linked=True, mark='last') stage by stage."""
    book = _rkt_book("default")
    pos, _ = positions_at_triggers(TRIGGERS, TRANCHE_USD / TRIGGERS, ALTCOIN, entry_price=10.0)
    tranches = Tranches.from_positions(pos, ALTCOIN)
    fund = 1e9  # no deficit is ever socialised
    one = run_cascade(
        book,
        tranches,
        CascadeParams(
            ignition_notional=200_000.0,
            hedge_ratio=hedge,
            lag=lag,
            liquidation_fee_rate=ALTCOIN.liquidation_fee_rate,
            insurance_fund=fund,
        ),
    )
    two = run_two_market(
        book,
        book,
        pos,
        TwoMarketParams(
            ignition_notional=200_000.0,
            hedge_ratio=hedge,
            lag=lag,
            mark="last",
            linked=True,
            liquidation=LiquidationConfig(ALTCOIN),
            insurance_fund=fund,
        ),
    )
    assert two.n_stages == one.n_stages
    np.testing.assert_allclose(two.column("spot_after"), one.stages.price_after, rtol=1e-12)
    np.testing.assert_allclose(two.column("mark_after"), one.stages.price_after, rtol=1e-12)
    np.testing.assert_allclose(
        two.column("liquidated_qty"), one.stages.liquidated_qty, rtol=1e-9, atol=1e-6
    )
    np.testing.assert_allclose(
        two.column("forced_perp_notional"), one.stages.liquidated_notional, rtol=1e-9, atol=1e-6
    )
    np.testing.assert_allclose(
        two.column("spot_hedge_notional"), one.stages.hedge_notional, rtol=1e-9, atol=1e-6
    )
    np.testing.assert_allclose(
        two.column("insurance_fund"), one.stages.insurance_fund, rtol=1e-9, atol=1e-6
    )
    assert two.forced_buy_notional == pytest.approx(one.total_forced_buy_notional, rel=1e-12)
    assert two.amplification == pytest.approx(one.amplification, rel=1e-12)
    assert two.ledger_imbalance < 1e-6


def test_linked_needs_one_book_and_the_last_price():
    book = _rkt_book("default")
    with pytest.raises(InvalidInputError, match="mark='last'"):
        TwoMarketParams(ignition_notional=1.0, linked=True, mark="binance")
    p = TwoMarketParams(ignition_notional=1.0, linked=True, mark="last")
    other = OrderBook.flat_ladder(10.0, 0.01, 10.0, 5)
    pos, _ = positions_at_triggers([11.0], [1.0], ALTCOIN)
    with pytest.raises(InvalidInputError, match="linked"):
        initial_two_market(book, other, pos, p)


# --------------------------------------------------------------------------- rocketcoin


@pytest.mark.parametrize("venue", TWO_MARKET_VENUES)
def test_without_hedges_the_squeeze_stays_in_the_perp(venue):
    r = rocketcoin_two_market(venue, hedge_ratio=0.0, arbitrage_usd=0.0).run()
    spot = r.column("spot_after")
    assert np.all(spot[1:] == spot[0])  # nothing after the ignition moves spot
    assert r.final_spot == pytest.approx(11.0)
    assert r.final_perp > r.final_spot  # the engine's orders lifted the perp book only
    assert r.liquidated_qty > 0
    assert r.spot_hedge_notional == 0.0 and r.spot_amplification == 0.0
    hedged = rocketcoin_two_market(venue, hedge_ratio=1.0).run()
    # the market makers' hedges carry it into spot (how far depends on the venue policy)
    assert hedged.final_spot > r.final_spot
    assert hedged.spot_hedge_notional > 0
    assert hedged.ledger_imbalance < 1e-6


def test_arbitrage_carries_the_premium_into_spot():
    base = rocketcoin_two_market("binance", hedge_ratio=0.0)
    r = base.with_params(arbitrage_usd=500_000.0).run()
    assert r.spot_arbitrage_notional > 0
    assert r.final_spot > 11.0
    assert r.column("arbitrage_perp_qty").sum() == pytest.approx(
        r.column("spot_arbitrage_qty").sum()
    )


def test_hyperliquid_clips_and_cooldown():
    kw = {"partial_fraction": 0.2, "partial_threshold_notional": 100_000.0}
    if "policy" in {f.name for f in dataclasses.fields(LiquidationConfig)}:
        kw["policy"] = "market"  # clips on market orders only, no backstop vault or ADL
    cfg = LiquidationConfig(HYPERLIQUID, **kw)
    sc = rocketcoin_two_market("hyperliquid", liquidation=cfg)
    r = sc.run()
    n_shorts = int(sc.facts["n_shorts"])
    # positions above 100k are clipped (20 %) first, then closed in full after the cooldown
    assert r.n_liquidated > n_shorts // 2
    first = r.records[1]
    assert first.liquidated_qty == pytest.approx(0.2 * 1e6 / 11.0, rel=1e-9)


def test_rerunning_a_stage_gives_the_identical_record():
    r = rocketcoin_two_market("binance", lag=1, arbitrage_usd=200_000.0, mm_repost=0.3).run()
    assert r.n_stages >= 3
    for k in sorted({0, 1, r.n_stages // 2, r.n_stages - 1}):
        rec, nxt = run_two_market_stage(r.snapshots[k], r.params)
        assert rec == r.records[k]
        want = r.snapshots[k + 1]
        for f in dataclasses.fields(nxt):
            a, b = getattr(nxt, f.name), getattr(want, f.name)
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b)
            elif f.name == "ledger":
                assert np.array_equal(a.amount, b.amount) and a.accounts == b.accounts
            elif f.name == "positions":
                assert a == b
            else:
                assert a == b, f.name


def test_stage_records_carry_the_three_prices_and_who_traded():
    r = rocketcoin_two_market("binance").run()
    rec = r.records[1]
    assert rec.mark_before == pytest.approx(11.0)
    pairs = {(b, s, i) for b, s, i, _, _ in rec.trades}
    assert ("liquidated shorts", "market_maker", "perp") in pairs
    assert ("market_maker", "spot_makers", "spot") in pairs
    d = r.to_dict()
    for s in d["stages"]:
        assert {"spot_after", "perp_after", "index_after", "mark_after"} <= set(s)


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lag": MAX_LAG + 1}, "lag"),
        ({"lag": 10**20}, "lag"),
        ({"lag": 1.5}, "lag"),
        ({"hedge_ratio": math.nan}, "hedge_ratio"),
        ({"hedge_ratio": 3.0}, "hedge_ratio"),
        ({"max_stages": 0}, "max_stages"),
        ({"arbitrage_usd": -1.0}, "arbitrage_usd"),
        ({"arbitrage_usd": math.inf}, "arbitrage_usd"),
        ({"withdrawal": 1.0}, "withdrawal"),
        ({"mm_repost": [0.1, 0.2]}, "mm_repost"),
        ({"mark": "median"}, "mark"),
        ({"liquidation": "binance"}, "liquidation"),
        ({"stage_seconds": 0.0}, "stage_seconds"),
        ({"index_weights": (1.0, 2.0)}, "index_weights"),
        ({"other_spot_prices": "10"}, "other_spot_prices"),
        ({"other_spot_prices": (10.0, -1.0)}, "other_spot_prices"),
        ({"other_spot_prices": 10.0, "index_weights": (1.0, math.nan)}, "index_weights"),
        ({"index_method": "mode"}, "index_method"),
        ({"cooldown_stages": -1}, "cooldown_stages"),
        ({"linked": "yes"}, "linked"),
        ({"ignition_notional": None}, "ignition"),
        ({"ignition_notional": 5e-324}, "ignition_notional"),
        ({"ignition_notional": 10**400}, "ignition_notional"),
        ({"ignition_notional": "5"}, "ignition_notional"),
        ({"ignition_notional": np.datetime64("2020-01-01")}, "ignition_notional"),
        ({"insurance_fund": [1.0, 2.0]}, "insurance_fund"),
    ],
)
def test_params_validation_names_the_argument(kwargs, name):
    args = {"ignition_notional": 1000.0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        TwoMarketParams(**args)


def test_positions_at_triggers_sits_on_the_trigger():
    for venue in (BINANCE, BYBIT, HYPERLIQUID, ALTCOIN):
        pos, which = positions_at_triggers(TRIGGERS, TRANCHE_USD / TRIGGERS, venue, n_per_trigger=3)
        lp = liquidation_prices(pos, venue)
        assert np.all(lp <= TRIGGERS[which])
        np.testing.assert_allclose(lp, TRIGGERS[which], rtol=1e-12)
    with pytest.raises(InvalidInputError, match="trigger"):
        positions_at_triggers([9.0], [1.0], BINANCE, entry_price=10.0)
    with pytest.raises(InvalidInputError, match="venue"):
        positions_at_triggers([11.0], [1.0], "binance")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- conservation


def _configs() -> list[tuple[str, LiquidationConfig]]:
    """Every venue's own policy, today's unlimited market order, and ADL switched off."""
    out = [(f"{v.name}-own", LiquidationConfig.for_venue(v)) for v in (BINANCE, BYBIT, HYPERLIQUID)]
    out.append(("altcoin-market", LiquidationConfig(ALTCOIN)))
    out.append(("binance-market-noadl", LiquidationConfig(BINANCE, adl=False)))
    names = {f.name for f in dataclasses.fields(LiquidationConfig)}
    if "policy" in names:  # venue execution policies, once perpsbook.liquidation has them
        for pol in ("market", "binance", "bybit", "hyperliquid"):
            out.append((f"binance-venue-{pol}-policy", LiquidationConfig(BINANCE, policy=pol)))
    return out


CONFIGS = _configs()


def _market(venue):
    """Today's unlimited market-order execution, by name once venue policies exist."""
    if "policy" in {f.name for f in dataclasses.fields(LiquidationConfig)}:
        return LiquidationConfig(venue, policy="market")
    return LiquidationConfig(venue)


@st.composite
def two_market_cases(draw):
    tick = draw(st.sampled_from([0.01, 0.05, 0.1]))
    spot = OrderBook.flat_ladder(
        10.0, tick, draw(st.floats(50.0, 2000.0)), draw(st.integers(5, 60))
    )
    perp = OrderBook.flat_ladder(
        10.0, tick, draw(st.floats(50.0, 2000.0)), draw(st.integers(5, 60))
    )
    k = draw(st.integers(1, 5))
    trig = np.sort(np.array(draw(st.lists(st.floats(10.05, 14.0), min_size=k, max_size=k))))
    size = np.array(draw(st.lists(st.floats(10.0, 3000.0), min_size=k, max_size=k)))
    return (
        spot,
        perp,
        trig,
        size,
        draw(st.integers(1, 3)),
        {
            "ignition_notional": draw(st.floats(100.0, 50_000.0)),
            "hedge_ratio": draw(st.floats(0.0, 2.0)),
            "lag": draw(st.integers(0, 3)),
            "mm_repost": draw(st.sampled_from([0.0, 0.5, 1.0])),
            "spot_refill": draw(st.sampled_from([0.0, 0.3])),
            "withdrawal": draw(st.sampled_from([0.0, 0.2])),
            "anchor_perp_to_index": draw(st.booleans()),
            "arbitrage_usd": draw(st.sampled_from([0.0, 2_000.0, 50_000.0])),
            "arbitrage_threshold": draw(st.sampled_from([0.0, 0.01])),
            "mark": draw(st.sampled_from(["last", "index", "binance", "hyperliquid"])),
            "insurance_fund": draw(st.sampled_from([0.0, 500.0, 1e6])),
            "stage_seconds": draw(st.sampled_from([None, 3600.0])),
            "max_stages": 30,
        },
    )


@pytest.mark.parametrize(("label", "config"), CONFIGS, ids=[c[0] for c in CONFIGS])
@settings(max_examples=1000)
@given(case=two_market_cases())
def test_ledger_sums_to_zero(label, config, case):
    spot, perp, trig, size, n_per, kw = case
    venue = config.venue
    shorts, _ = positions_at_triggers(trig, size, venue, n_per_trigger=n_per)
    longs = Positions.from_leverage(1, np.full(2, float(size.sum()) / 2), 10.0, 2.0)
    pos = Positions.concat([shorts, longs])
    r = run_two_market(spot, perp, pos, TwoMarketParams(liquidation=config, **kw))
    scale = max(1.0, r.ledger.gross_usd())
    assert r.ledger_imbalance <= 1e-9 * scale
    assert all(math.isfinite(v) for v in r.summary().values() if isinstance(v, float))
    assert r.insurance_fund_final >= 0.0


# --------------------------------------------------------------------------- population


@settings(max_examples=150)
@given(
    sizes=st.lists(st.floats(1.0, 500.0), min_size=1, max_size=6),
    entries=st.lists(st.floats(5.0, 9.9), min_size=6, max_size=6),
    lev=st.lists(st.floats(2.0, 15.0), min_size=6, max_size=6),
    spot_size=st.floats(20.0, 400.0),
    perp_size=st.floats(20.0, 400.0),
    ignition=st.floats(200.0, 5_000.0),
    hedge=st.floats(0.0, 2.0),
    lag=st.integers(0, 2),
)
def test_population_equals_stage_mode(
    sizes, entries, lev, spot_size, perp_size, ignition, hedge, lag
):
    n = len(sizes)
    pos = Positions.from_leverage(-1, sizes, entries[:n], lev[:n])
    venue = BINANCE
    spot = OrderBook.flat_ladder(10.0, 0.05, spot_size, 60)
    perp = OrderBook.flat_ladder(10.0, 0.05, perp_size, 60)
    params = TwoMarketParams(
        ignition_notional=ignition,
        hedge_ratio=hedge,
        lag=lag,
        mark="index",
        anchor_perp_to_index=False,
        liquidation=_market(venue),
        insurance_fund=1e12,
        max_stages=500,
    )
    stage = run_two_market(spot, perp, pos, params)
    popu = two_market_population(
        spot, perp, liquidation_prices(pos, venue), pos.size,
        ignition_notional=ignition, hedge_ratio=hedge,
    )  # fmt: skip
    assert not stage.truncated
    assert popu.final_spot == stage.final_spot
    assert popu.final_mark == stage.final_mark
    assert popu.liquidated_qty == pytest.approx(stage.liquidated_qty, rel=1e-9, abs=1e-9)
    assert popu.forced_perp_qty == pytest.approx(
        sum(r.forced_perp_qty for r in stage.records), rel=1e-9, abs=1e-9
    )
    assert popu.spot_hedge_notional == pytest.approx(stage.spot_hedge_notional, rel=1e-9, abs=1e-6)
    assert popu.forced_perp_notional == pytest.approx(
        stage.forced_perp_notional, rel=1e-9, abs=1e-6
    )
    assert popu.final_perp == pytest.approx(stage.final_perp, rel=1e-12)
    assert popu.unfilled_qty == pytest.approx(stage.unfilled_qty, rel=1e-9, abs=1e-9)


def test_population_validation():
    book = OrderBook.flat_ladder(10.0, 0.01, 10.0, 5)
    with pytest.raises(InvalidInputError, match="ignition"):
        two_market_population(book, book, [11.0], [1.0])
    with pytest.raises(InvalidInputError, match="liq_prices"):
        two_market_population(book, book, [math.nan], [1.0], ignition_qty=1.0)
    with pytest.raises(InvalidInputError, match="sizes"):
        two_market_population(book, book, [11.0], [1.0, 2.0], ignition_qty=1.0)


def test_benchmark_reports_two_markets_and_bincount_ratios():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
    spec = importlib.util.spec_from_file_location("perpsbook_benchmarks_two", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    report = bench.collect((300,), repeats=1, sweep_n=300, sweep_shape=(2, 2), stage_repeats=1)
    row = report["population"][0]
    for key in ("bincount_seconds", "ratio_to_bincount", "two_market_seconds",
                "two_market_ratio_to_sort", "two_market_ratio_to_bincount"):  # fmt: skip
        assert row[key] > 0
    assert set(report["two_market_stage_mode_seconds"]) == set(TWO_MARKET_VENUES)
    assert "two markets" in bench.format_table(report)


def test_level_lookup_matches_searchsorted_on_and_between_levels():
    from perpsbook.twomarket import _first_level_at_or_above

    rng = np.random.default_rng(7)
    for prices in (
        OrderBook.calibrated(10.0, 11.0, 20_000.0, tick=0.01, extend_to=30.0).ask_prices,
        np.array([1.0, 1.5, 4.0, 9.0]),  # uneven: the searchsorted fallback
    ):
        for values in (
            rng.uniform(0.0, 40.0, 10_000),
            prices,
            np.nextafter(prices, 0.0),
            np.nextafter(prices, 1e9),
        ):
            want = np.searchsorted(prices, values, side="left")
            assert np.array_equal(_first_level_at_or_above(prices, values), want)


def test_funding_accrues_from_the_premium_and_nets_to_zero():
    r = rocketcoin_two_market("binance", stage_seconds=3600.0).run()
    rates = r.column("funding_rate")
    assert rates.max() > 0  # the squeezed perp trades above the index: longs pay
    assert r.snapshots[-1].totals["funding_paid"] > 0
    pool = r.ledger.balance("funding_pool") if "funding_pool" in r.ledger.accounts else 0.0
    # open interest balances (every closed short's coins went to the market maker or ADL)
    assert abs(pool) <= 1e-9 * r.snapshots[-1].totals["funding_paid"]
    assert r.ledger_imbalance < 1e-6
    assert rocketcoin_two_market("binance").run().snapshots[-1].totals["funding_paid"] == 0.0


def test_a_weighted_index_over_several_spot_books_moves_less():
    one = rocketcoin_two_market("binance").run()
    sc = rocketcoin_two_market("binance").with_params(
        other_spot_prices=(9.995, 9.995), index_weights=(0.5, 0.25, 0.25)
    )
    r = sc.run()
    first = r.records[0]
    assert first.index_after == pytest.approx(0.5 * first.spot_after + 0.5 * 9.995)
    assert r.liquidated_qty < one.liquidated_qty  # the other venues' spot holds the index


def test_positions_at_triggers_for_longs():
    pos, _ = positions_at_triggers([9.0, 8.0], [10.0, 20.0], BINANCE, side=1, entry_price=10.0)
    lp = liquidation_prices(pos, BINANCE)
    assert np.all(lp >= [9.0, 8.0])
    np.testing.assert_allclose(lp, [9.0, 8.0], rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"venue": "ftx"}, "venue"),
        ({"venue": None}, "venue"),
        ({"positions_per_tranche": 0}, "positions_per_tranche"),
        ({"basis_weight": 2.0}, "basis_weight"),
        ({"mark": "x"}, "mark"),
        ({"ignition": 1.0, "ignition_qty": 1.0}, "ignition"),
    ],
)
def test_rocketcoin_two_market_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        rocketcoin_two_market(**kwargs)


# --------------------------------------------------------------------------- the crash

PIVOT = 10.0


def _rocket_and_crash(spot, perp, trig, size, n_per, venue, **kw):
    """The rocket's inputs and their reflection about PIVOT (side -1, longs at 2c - L)."""
    shorts, _ = positions_at_triggers(trig, size, venue, n_per_trigger=n_per)
    longs_cp = Positions.from_leverage(1, np.full(2, float(size.sum()) / 2), 10.0, 2.0)
    longs, _ = positions_at_triggers(2 * PIVOT - trig, size, venue, side=1, n_per_trigger=n_per)
    shorts_cp = Positions.from_leverage(-1, np.full(2, float(size.sum()) / 2), 10.0, 2.0)
    rocket = (spot, perp, Positions.concat([shorts, longs_cp]), TwoMarketParams(**kw))
    crash = (
        spot.mirrored(PIVOT),
        perp.mirrored(PIVOT),
        Positions.concat([longs, shorts_cp]),
        TwoMarketParams(side=-1, **kw),
    )
    return rocket, crash


@pytest.mark.parametrize("mark", ["index", "binance"])
@pytest.mark.parametrize(("lag", "hedge", "repost"), [(0, 1.0, 0.0), (1, 0.5, 0.5), (0, 0.0, 0.0)])
def test_crash_is_the_reflected_rocket(mark, lag, hedge, repost):
    spot = OrderBook.flat_ladder(10.0, 0.01, 150.0, 500)
    perp = OrderBook.flat_ladder(10.0, 0.01, 120.0, 500)
    trig = np.array([10.373, 11.117, 11.861, 12.529])
    size = np.array([4_000.0, 6_000.0, 9_000.0, 12_000.0])
    rocket, crash = _rocket_and_crash(
        spot,
        perp,
        trig,
        size,
        3,
        BINANCE,
        ignition_qty=6_000.0,
        hedge_ratio=hedge,
        lag=lag,
        mm_repost=repost,
        mark=mark,
        liquidation=_market(BINANCE),
        insurance_fund=1e12,
    )
    up, down = run_two_market(*rocket), run_two_market(*crash)
    assert up.liquidated_qty > 0 and up.n_stages == down.n_stages
    for a, b in zip(up.records, down.records, strict=True):
        for name in ("spot_after", "perp_after", "index_after", "mark_after", "mark_before"):
            assert getattr(b, name) == pytest.approx(2 * PIVOT - getattr(a, name), abs=1e-9)
        for name in (
            "liquidated_qty",
            "forced_perp_qty",
            "spot_hedge_qty",
            "ignition_qty",
            "n_liquidated",
        ):
            assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-9, abs=1e-9)
        assert b.mm_perp == pytest.approx(-a.mm_perp, rel=1e-9, abs=1e-9)
        assert b.mm_spot == pytest.approx(-a.mm_spot, rel=1e-9, abs=1e-9)
    assert down.final_spot < PIVOT < up.final_spot


@pytest.mark.parametrize("venue", TWO_MARKET_VENUES)
def test_rocketcoin_crash_two_market_runs_for_every_venue(venue):
    from perpsbook.scenarios import rocketcoin_crash_two_market

    sc = rocketcoin_crash_two_market(venue)
    assert sc.params.side == -1 and np.all(sc.positions.side[: sc.tranche_of.size] == 1)
    r = sc.run()
    assert r.records[0].spot_after == pytest.approx(9.0)  # the mirror of the rocket's $11
    assert r.final_spot < 9.0 and r.final_mark < 9.0 and r.final_perp < r.final_spot
    assert r.liquidated_qty > 0 and not r.truncated
    assert r.ledger_imbalance <= 1e-9 * r.ledger.gross_usd()
    # the ignitor sold; the market maker's hedges sold spot
    assert r.pnl["ignitor"] != 0.0 and r.records[1].mm_spot < 0
    # without hedges or arbitrage the crash stays in the perp
    flat = sc.with_params(hedge_ratio=0.0).run()
    assert {rec.spot_after for rec in flat.records} == {flat.records[0].spot_after}
    assert flat.final_perp < flat.final_spot


def test_crash_arbitrageur_bids_perp_and_sells_spot():
    from perpsbook.scenarios import rocketcoin_crash_two_market

    base = rocketcoin_crash_two_market("binance", hedge_ratio=0.0).run()
    arb = rocketcoin_crash_two_market("binance", hedge_ratio=0.0, arbitrage_usd=300_000.0).run()
    assert arb.spot_arbitrage_notional > 0 and arb.final_spot < base.final_spot
    led = arb.ledger.balances()
    assert led["arbitrageur"]["perp"] > 0 and led["arbitrageur"]["spot"] < 0


def test_rerunning_a_crash_stage_gives_the_identical_record():
    from perpsbook.scenarios import rocketcoin_crash_two_market

    sc = rocketcoin_crash_two_market("bybit", lag=1, arbitrage_usd=200_000.0, mm_repost=0.3)
    r = sc.run()
    assert r.n_stages >= 3
    for k in sorted({0, 1, r.n_stages // 2, r.n_stages - 1}):
        rec, nxt = run_two_market_stage(r.snapshots[k], r.params)
        assert rec == r.records[k]
        want = r.snapshots[k + 1]
        for f in dataclasses.fields(nxt):
            a, b = getattr(nxt, f.name), getattr(want, f.name)
            if isinstance(a, np.ndarray):
                assert np.array_equal(a, b)
            elif f.name == "ledger":
                assert np.array_equal(a.amount, b.amount) and a.accounts == b.accounts
            else:
                assert a == b, f.name


def test_side_must_be_plus_or_minus_one():
    for bad in (0, 2, True, "down", -1.5, None):
        with pytest.raises(InvalidInputError, match="side"):
            TwoMarketParams(ignition_qty=1.0, side=bad)


@pytest.mark.parametrize(("label", "config"), CONFIGS, ids=[c[0] for c in CONFIGS])
@settings(max_examples=250)
@given(case=two_market_cases())
def test_crash_ledger_sums_to_zero(label, config, case):
    spot, perp, trig, size, n_per, kw = case
    _, (s, p, pos, params) = _rocket_and_crash(
        spot, perp, trig, size, n_per, config.venue, liquidation=config, **kw
    )
    r = run_two_market(s, p, pos, params)
    scale = max(1.0, r.ledger.gross_usd())
    assert r.ledger_imbalance <= 1e-9 * scale
    assert all(math.isfinite(v) for v in r.summary().values() if isinstance(v, float))
    assert r.insurance_fund_final >= 0.0
    assert r.final_spot <= s.mid


@pytest.mark.parametrize("venue", ["binance", "bybit", "hyperliquid"])
def test_fund_cash_matches_its_ledger_once_takeovers_are_unwound(venue):
    # The fund takes positions over at their bankruptcy price (liquidate() keeps that value
    # out of insurance_fund_after) and buys them back later: its cash must then equal its
    # opening balance plus what the ledger says it received, takeover trades included.
    from perpsbook.scenarios import rocketcoin_two_market

    scenario = rocketcoin_two_market(venue)
    result = scenario.run()
    for snap in result.snapshots:
        held = snap.ledger.balances().get("insurance_fund", {})
        if abs(held.get("perp", 0.0)) > 1e-9:
            continue  # still holding a takeover: its value is marked, not in cash
        cash = scenario.params.insurance_fund + held.get("USD", 0.0)
        assert snap.insurance_fund == pytest.approx(cash, abs=1e-6)
        assert snap.totals["takeover_basis"] == pytest.approx(0.0, abs=1e-6)
