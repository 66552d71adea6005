"""Stage (tranche) mode of the cascade: hand-computed stages, purity, lag, symmetry, ledger."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.cascade import (
    MAX_STAGES,
    STAGE_FIELDS,
    CascadeParams,
    StageSnapshot,
    Tranches,
    initial_snapshot,
    is_settled,
    mirror_inputs,
    run_cascade,
    run_stage,
)
from perpsbook.errors import InvalidInputError, PerpsbookError
from perpsbook.margin import ALTCOIN
from perpsbook.positions import Positions
from perpsbook.scenarios import rocketcoin, rocketcoin_crash

# ----------------------------------------------------------------------------- fixtures


def small_book() -> OrderBook:
    """Asks 100 coins at each of $10..$14, bids 100 at $9 and $8 (mid $9.50)."""
    return OrderBook.from_levels(
        bids=[(9.0, 100.0), (8.0, 100.0)],
        asks=[(10.0, 100.0), (11.0, 100.0), (12.0, 100.0), (13.0, 100.0), (14.0, 100.0)],
    )


def small_tranches(third: float = 14.0) -> Tranches:
    return Tranches([11.0, 12.0, third], [30.0, 40.0, 20.0], [11.5, 12.5, third + 0.5])


def params(**kw) -> CascadeParams:
    base = {"ignition_qty": 150.0, "liquidation_fee_rate": 0.01, "insurance_fund": 100.0}
    base.update(kw)
    return CascadeParams(**base)


# ----------------------------------------------------------------------------- exact stages


def test_hand_computed_three_stage_cascade():
    # Stage 0: 150 coins = 100 @ 10 + 50 @ 11 = $1,550, price 11.
    # Stage 1: tranche $11 (30): engine 30 @ 11 = $330; margin left (11.5 - 11) * 30 = 15,
    #   fee min(1% * 330, 15) = 3.3, fund +11.7; hedge 30 = 20 @ 11 + 10 @ 12 = $340 -> 12.
    # Stage 2: tranche $12 (40): engine 40 @ 12 = $480, fee 4.8, fund +15.2; hedge 40 @ 12.
    # Tranche $14 is never reached: final price 12.
    r = run_cascade(small_book(), small_tranches(), params())
    s = r.stages
    assert s.stage.tolist() == [0, 1, 2]
    assert s.price_before.tolist() == [9.5, 11.0, 12.0]
    assert s.price_after.tolist() == [11.0, 12.0, 12.0]
    assert s.liquidated_qty.tolist() == [0.0, 30.0, 40.0]
    assert s.liquidated_notional.tolist() == [0.0, 330.0, 480.0]
    assert s.hedge_qty.tolist() == [0.0, 30.0, 40.0]
    assert s.hedge_notional.tolist() == [0.0, 340.0, 480.0]
    assert s.fees == pytest.approx([0.0, 3.3, 4.8], abs=1e-12)
    assert s.insurance_fund == pytest.approx([100.0, 111.7, 126.9], abs=1e-12)
    assert s.cum_forced_buy_notional.tolist() == [0.0, 670.0, 1630.0]
    assert math.isnan(s.trigger_price[0])
    assert s.trigger_price[1:].tolist() == [11.0, 12.0]
    assert r.ignition_qty == 150.0 and r.ignition_notional == 1550.0
    assert r.final_price == 12.0
    assert r.n_liquidated == 2
    assert r.total_forced_buy_notional == 1630.0
    assert r.amplification == pytest.approx(1630.0 / 1550.0, rel=1e-15)
    # MM: sold 70 perps for $810, bought 70 spot for $820; delta-neutral -> P&L -$10.
    assert r.mm_pnl == pytest.approx(-10.0, abs=1e-9)
    assert r.insurance_fund_pnl == pytest.approx(26.9, abs=1e-12)
    assert r.pnl["ignitor"] == pytest.approx(150 * 12.0 - 1550.0, abs=1e-9)
    assert r.pnl["makers"] == pytest.approx(2370.0 - 220 * 12.0, abs=1e-9)
    assert "shorts" not in r.pnl
    assert not r.book_ran_dry and r.unfilled_qty == 0.0 and not r.truncated


def test_hand_computed_overhedged_cascade_reaches_third_tranche():
    # h = 2: stage 1 engine 30 @ 11 ($330), hedge 60 = 20 @ 11 + 40 @ 12 ($700) -> 12;
    # stage 2 engine 40 @ 12 ($480), hedge 80 = 20 @ 12 + 60 @ 13 ($1,020) -> 13;
    # stage 3 tranche $13 (20): engine 20 @ 13 ($260), hedge 40 = 20 @ 13 + 20 @ 14 -> 14.
    r = run_cascade(small_book(), small_tranches(third=13.0), params(hedge_ratio=2.0))
    s = r.stages
    assert s.price_after.tolist() == [11.0, 12.0, 13.0, 14.0]
    assert s.liquidated_notional.tolist() == [0.0, 330.0, 480.0, 260.0]
    assert s.hedge_qty.tolist() == [0.0, 60.0, 80.0, 40.0]
    assert s.hedge_notional.tolist() == [0.0, 700.0, 1020.0, 540.0]
    assert r.total_forced_buy_notional == 3330.0
    assert r.n_liquidated == 3


def test_hedge_ratio_zero_stops_after_first_layer():
    # Without hedges only the engine buys: 30 @ 11 leaves the price at 11 < 12.
    r = run_cascade(small_book(), small_tranches(), params(hedge_ratio=0.0))
    assert r.n_liquidated == 1
    assert r.final_price == 11.0
    assert r.total_hedge_qty == 0.0
    assert r.stages.liquidated_qty.tolist() == [0.0, 30.0]
    with_hedge = run_cascade(small_book(), small_tranches(), params())
    assert with_hedge.n_liquidated == 2


def test_passthrough_zero_and_no_hedge_leaves_the_ladder_alone():
    r = run_cascade(small_book(), small_tranches(), params(hedge_ratio=0.0, perp_passthrough=0.0))
    # The MM absorbs the engine's 30 coins at the stage's opening price, $11.
    assert r.stages.liquidated_notional.tolist() == [0.0, 330.0]
    assert r.stages.ladder_qty.tolist() == [150.0, 0.0]
    assert r.final_price == 11.0


def test_lag_shifts_hedges_by_whole_stages():
    r0 = run_cascade(small_book(), small_tranches(), params())
    r1 = run_cascade(small_book(), small_tranches(), params(lag=1))
    assert r1.stages.liquidated_qty.tolist() == [0.0, 30.0, 0.0, 40.0, 0.0]
    assert r1.stages.hedge_qty.tolist() == [0.0, 0.0, 30.0, 0.0, 40.0]
    assert r1.stages.price_after.tolist() == [11.0, 11.0, 12.0, 12.0, 12.0]
    assert r1.stages.pending_hedge_qty.tolist() == [0.0, 30.0, 0.0, 40.0, 0.0]
    # Same buying, only later: same end state.
    assert r1.final_price == r0.final_price
    assert r1.total_forced_buy_notional == r0.total_forced_buy_notional
    r2 = run_cascade(small_book(), small_tranches(), params(lag=2))
    assert r2.stages.hedge_qty.tolist() == [0.0, 0.0, 0.0, 30.0, 0.0, 0.0, 40.0]


def test_inventory_limit_zero_hedges_at_once_whatever_the_lag():
    r0 = run_cascade(small_book(), small_tranches(), params())
    r = run_cascade(small_book(), small_tranches(), params(lag=3, inventory_limit=0.0))
    assert r.stages.hedge_qty.tolist() == r0.stages.hedge_qty.tolist()
    assert r.stages.price_after.tolist() == r0.stages.price_after.tolist()


def test_book_running_dry_is_a_result_not_an_error():
    tr = Tranches([11.0, 12.0], [30.0, 1000.0], [11.5, 12.5])
    r = run_cascade(small_book(), tr, params())
    assert r.book_ran_dry
    assert r.dry_stage == 2
    assert r.final_price == 14.0  # the top ask
    # Stage 2: 1,000 coins to buy, 290 left on the ladder (90 @ 12, 100 @ 13, 100 @ 14).
    assert r.stages.liquidated_qty[2] == 1000.0
    assert r.stages.liquidated_notional[2] == 90 * 12.0 + 100 * 13.0 + 100 * 14.0
    assert r.adl_qty == pytest.approx(710.0, rel=1e-12)  # closed at bankruptcy by ADL
    # ... and the MM's hedge of the 290 coins it sold finds nothing.
    assert r.stages.hedge_qty[2] == 0.0
    assert r.unfilled_qty == pytest.approx(710.0 + 290.0, rel=1e-12)
    assert r.stages.book_dry.tolist() == [False, False, True]
    assert r.ledger_imbalance <= 1e-9 * r.ledger.gross_usd()
    assert "book ran dry at stage 2" in r.stage_table()


def test_ignition_that_empties_the_book():
    r = run_cascade(
        small_book(), small_tranches(), params(ignition_qty=None, ignition_notional=1e6)
    )
    assert r.book_ran_dry and r.dry_stage == 0
    assert r.ignition_qty == 500.0 and r.ignition_notional == 6000.0
    assert r.unfilled_notional == pytest.approx(1e6 - 6000.0)
    # Every tranche is triggered, none can be bought back: ADL at bankruptcy.
    assert r.n_liquidated == 3 and r.adl_qty == pytest.approx(90.0)


def test_deficit_rule_socialise_vs_adl_hand_computed():
    book = OrderBook.from_levels(
        bids=[(9.0, 100.0)], asks=[(10.0, 100.0), (11.0, 100.0), (12.0, 100.0)]
    )
    tr = Tranches([11.0], [60.0], [11.0])  # bankrupt exactly at its trigger
    # The engine pays 50 @ 11 + 10 @ 12 = $670 for 60 coins: a $10 deficit.
    soc = run_cascade(book, tr, CascadeParams(ignition_qty=150.0, deficit_rule="socialise"))
    assert soc.socialised_usd == pytest.approx(10.0)
    assert soc.adl_qty == 0.0 and soc.insurance_fund_final == 0.0
    assert soc.pnl["adl_longs"] < 0
    # "adl" takes only what the fund cannot cover (perpsbook.liquidation's rule). The
    # ignition left 50 @ 11 and 100 @ 12. Empty fund: walking 60 - x coins costs
    # 50 * 11 + (10 - x) * 12 against 11 * (60 - x) at bankruptcy, a deficit of (10 - x),
    # so x = 10: 50 coins bought @ 11 ($550, no deficit), 10 ADL'd at $11; the MM hedges
    # the 50 @ 12 -> price 12; forced buying 550 + 600.
    adl = run_cascade(book, tr, CascadeParams(ignition_qty=150.0, deficit_rule="adl"))
    assert adl.adl_qty == pytest.approx(10.0)
    assert adl.stages.liquidated_notional[1] == pytest.approx(550.0)
    assert adl.total_forced_buy_notional == pytest.approx(1_150.0)
    assert adl.insurance_fund_final == pytest.approx(0.0, abs=1e-9)
    assert adl.final_price == 12.0
    # With $5 in the fund the fund covers (10 - x) <= 5: x = 5, 55 bought for
    # 50 * 11 + 5 * 12 = $610, the fund ends at 0; the MM hedges 55 @ 12.
    half = run_cascade(
        book, tr, CascadeParams(ignition_qty=150.0, deficit_rule="adl", insurance_fund=5.0)
    )
    assert half.adl_qty == pytest.approx(5.0)
    assert half.stages.liquidated_notional[1] == pytest.approx(610.0)
    assert half.stages.hedge_qty[1] == pytest.approx(55.0)
    assert half.insurance_fund_final == pytest.approx(0.0, abs=1e-9)
    assert half.final_price == 12.0
    for r in (soc, adl, half):
        assert r.ledger_imbalance <= 1e-9 * max(r.ledger.gross_usd(), 1.0)


def test_max_stages_truncates():
    r = run_cascade(small_book(), small_tranches(), params(lag=5, max_stages=2))
    assert r.truncated
    assert r.n_stages == 3  # ignition + 2 stages
    assert "max_stages=2" in r.stage_table()


# ----------------------------------------------------------------------------- purity


def test_every_stage_reruns_identically_from_its_snapshot():
    for kw in ({}, {"lag": 1}, {"hedge_ratio": 2.0}):
        tr = small_tranches(third=13.0)
        p = params(**kw)
        r = run_cascade(small_book(), tr, p)
        assert len(r.snapshots) == r.n_stages + 1
        for k, snap in enumerate(r.snapshots[:-1]):
            for _ in range(2):
                record, nxt = run_stage(snap, tr, p)
                assert record == r.records[k]
                assert nxt == r.snapshots[k + 1]
        assert is_settled(r.snapshots[-1], tr)


def test_snapshots_are_immutable():
    r = run_cascade(small_book(), small_tranches(), params())
    snap = r.snapshots[1]
    with pytest.raises(AttributeError):
        snap.price = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        snap.remaining[0] = True
    assert snap.remaining.tolist() == [True, True, True]
    assert r.snapshots[2].remaining.tolist() == [False, True, True]


def test_determinism_and_serialisation():
    a = run_cascade(small_book(), small_tranches(), params(lag=1))
    b = run_cascade(small_book(), small_tranches(), params(lag=1))
    ja = json.dumps(a.to_dict(), allow_nan=False, sort_keys=True)
    assert ja == json.dumps(b.to_dict(), allow_nan=False, sort_keys=True)
    assert a.stage_table() == b.stage_table()
    d = json.loads(ja)
    assert d["stages"][0]["trigger_price"] is None  # NaN -> null
    assert set(STAGE_FIELDS) <= set(d["stages"][1])
    assert d["params"]["lag"] == 1
    for key in ("ignition_notional", "amplification", "final_price", "ledger_imbalance"):
        assert isinstance(d[key], float)
    assert d["book_ran_dry"] is False


def test_stage_table_layout():
    table = run_cascade(small_book(), small_tranches(), params()).stage_table()
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["stage", "trigger", "p_before", "p_after"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:4] == ["0", "ignition", "9.5000", "11.0000"]
    assert "amplification       1.05x" in table
    assert len({len(line) for line in lines[:5]}) == 1  # aligned columns


def test_stage_arrays_match_records():
    r = run_cascade(small_book(), small_tranches(), params(lag=1))
    for name in STAGE_FIELDS:
        col = getattr(r.stages, name)
        assert len(col) == r.n_stages
        for value, rec in zip(col.tolist(), r.records, strict=True):
            want = getattr(rec, name)
            assert value == want or (math.isnan(value) and math.isnan(want))
    with pytest.raises(AttributeError, match="no column"):
        _ = r.stages.nope


# ----------------------------------------------------------------------------- hypothesis


@st.composite
def cases(draw):
    """Integer books and tranches (exact float sums), a random ignition and MM."""
    n_ask = draw(st.integers(3, 12))
    ask_sizes = draw(st.lists(st.integers(1, 60), min_size=n_ask, max_size=n_ask))
    ask_prices = 10.0 + np.arange(n_ask, dtype=float)
    book = OrderBook([9.0, 8.0], [50.0, 50.0], ask_prices, np.array(ask_sizes, dtype=float))
    n_tr = draw(st.integers(1, 6))
    trig = sorted(draw(st.lists(st.integers(10, 10 + n_ask), min_size=n_tr, max_size=n_tr)))
    sizes = draw(st.lists(st.integers(1, 40), min_size=n_tr, max_size=n_tr))
    buffer = draw(st.sampled_from([-0.5, 0.0, 0.25, 1.0]))
    tr = Tranches(np.array(trig, float), np.array(sizes, float), np.array(trig, float) + buffer)
    p = CascadeParams(
        ignition_qty=float(draw(st.integers(1, 80))),
        hedge_ratio=draw(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0])),
        perp_passthrough=draw(st.sampled_from([0.0, 0.5, 1.0])),
        lag=draw(st.integers(0, 2)),
        liquidation_fee_rate=draw(st.sampled_from([0.0, 0.01])),
        insurance_fund=float(draw(st.sampled_from([0, 5, 1000]))),
        deficit_rule=draw(st.sampled_from(["socialise", "adl"])),
    )
    return book, tr, p


@settings(max_examples=120)
@given(cases())
def test_ledger_balances_and_agrees_with_the_market_maker(case):
    book, tr, p = case
    r = run_cascade(book, tr, p)
    gross = r.ledger.gross_usd()
    assert r.ledger_imbalance <= 1e-9 * max(gross, 1.0)
    assert abs(sum(r.ledger.imbalance().values())) <= 1e-9 * max(gross, 1.0)
    assert r.pnl["market_maker"] == pytest.approx(r.mm_pnl, abs=1e-9 * max(gross, 1.0))
    assert r.ledger.balance("insurance_fund") == pytest.approx(
        r.insurance_fund_pnl, abs=1e-9 * max(gross, 1.0)
    )
    assert r.insurance_fund_final >= 0.0
    # Prices only go up in a rocket; liquidations happen in trigger order.
    assert np.all(np.diff(r.price_path) >= 0)
    assert r.n_liquidated == min(tr.n_triggered(r.final_price), tr.n) or r.book_ran_dry
    assert r.total_forced_buy_notional == pytest.approx(
        r.stages.forced_buy_notional.sum(), rel=1e-12
    )


@settings(max_examples=100)
@given(cases(), st.integers(1, 80))
def test_more_ignition_never_ends_lower(case, extra):
    book, tr, p = case
    p = p.replace(deficit_rule="socialise")
    small = run_cascade(book, tr, p)
    big = run_cascade(book, tr, p.replace(ignition_qty=p.ignition_qty + extra))
    assert big.final_price >= small.final_price
    assert big.n_liquidated >= small.n_liquidated
    assert big.total_liquidated_qty >= small.total_liquidated_qty


@settings(max_examples=100)
@given(cases())
def test_lag_changes_timing_not_the_end_state(case):
    book, tr, p = case
    p = p.replace(deficit_rule="socialise", lag=0)
    ref = run_cascade(book, tr, p)
    for lag in (1, 3):
        r = run_cascade(book, tr, p.replace(lag=lag))
        assert r.final_price == ref.final_price
        assert r.n_liquidated == ref.n_liquidated
        if not (r.book_ran_dry or ref.book_ran_dry):
            # (On a dry ladder the order of engine and hedge orders decides who gets the
            # last coins, so only the price and the liquidated set are lag-free.)
            assert r.total_hedge_qty == pytest.approx(ref.total_hedge_qty, rel=1e-12)
            assert r.total_forced_buy_notional == pytest.approx(
                ref.total_forced_buy_notional, rel=1e-12
            )


@settings(max_examples=100)
@given(cases(), st.sampled_from([12.0, 16.0, 37.5]))
def test_crash_is_the_mirror_image_of_the_rocket(case, pivot):
    book, tr, p = case
    if p.deficit_rule == "adl":
        # Fees are a fraction of USD notional, which reflection does not preserve; under
        # the "adl" rule they change the fund's coverage and hence the dynamics.
        p = p.replace(liquidation_fee_rate=0.0)
    rocket = run_cascade(book, tr, p)
    mbook, mtr, mp = mirror_inputs(book, tr, p, pivot)
    assert mp.side == -1 and mtr.side == 1
    crash = run_cascade(mbook, mtr, mp)
    assert crash.n_stages == rocket.n_stages
    np.testing.assert_array_equal(crash.stages.price_after, 2 * pivot - rocket.stages.price_after)
    assert crash.final_price == 2 * pivot - rocket.final_price
    for name in ("liquidated_qty", "hedge_qty", "ladder_qty", "adl_qty", "n_tranches"):
        np.testing.assert_allclose(
            getattr(crash.stages, name), getattr(rocket.stages, name), rtol=1e-12, atol=1e-12
        )
    # A coin sold at 2P - p: notional reflects as 2P * qty - notional.
    np.testing.assert_allclose(
        crash.stages.hedge_notional,
        2 * pivot * rocket.stages.hedge_qty - rocket.stages.hedge_notional,
        rtol=1e-12,
        atol=1e-9,
    )
    assert crash.ledger_imbalance <= 1e-9 * max(crash.ledger.gross_usd(), 1.0)
    # Mirroring twice is the identity.
    b2, t2, p2 = mirror_inputs(mbook, mtr, mp, pivot)
    assert b2 == book and t2 == tr and p2 == p


def test_crash_accounts_and_direction():
    book, tr, p = mirror_inputs(small_book(), small_tranches(), params(), 12.0)
    r = run_cascade(book, tr, p)
    assert r.final_price == 12.0  # 2 * 12 - 12
    assert r.stages.price_after.tolist() == [13.0, 12.0, 12.0]
    assert "longs" in r.ledger.accounts and "adl_shorts" in r.ledger.accounts
    assert r.mm_pnl == pytest.approx(r.pnl["market_maker"])
    assert "forced selling" in r.stage_table()


# ----------------------------------------------------------------------------- tranches


def test_tranche_constructors():
    t = Tranches.from_mmr([11.0, 12.0], [10.0, 20.0], 0.025)
    np.testing.assert_allclose(t.bankruptcy_price, [11.275, 12.3], rtol=1e-15)
    longs = Tranches.from_mmr([9.0, 8.0], [10.0, 20.0], 0.025, side=1)
    np.testing.assert_allclose(longs.bankruptcy_price, [8.775, 7.8], rtol=1e-15)
    n = Tranches.from_notional([11.0, 12.0], [1e6, 1.5e6])
    np.testing.assert_allclose(n.size, [1e6 / 11, 125_000.0], rtol=1e-15)
    assert n.total_notional == pytest.approx(2.5e6)
    assert n.bankruptcy_price.tolist() == [11.0, 12.0]
    assert n.n_triggered(10.99) == 0 and n.n_triggered(11.0) == 1 and n.n_triggered(50) == 2
    assert longs.n_triggered(9.0) == 1 and longs.n_triggered(8.5) == 1
    m = t.mirrored(10.0)
    assert m.side == 1 and m.trigger_price.tolist() == [9.0, 8.0]
    assert m.mirrored(10.0) == t
    assert "2 shorts" in repr(t)


def test_tranches_from_positions_use_the_venue_formulas():
    pos = Positions.from_leverage(-1, [100.0, 50.0, 80.0], [10.0, 10.0, 10.0], [5.0, 10.0, 3.0])
    t = Tranches.from_positions(pos, ALTCOIN)
    assert np.all(np.diff(t.trigger_price) >= 0)
    lp = ALTCOIN.liquidation_price(-1, 50.0, 10.0, 50.0)  # 10x: margin $50
    assert t.trigger_price[0] == pytest.approx(lp)
    assert t.bankruptcy_price[0] == pytest.approx(11.0)  # 10 + 50/50
    assert t.size.tolist() == [50.0, 100.0, 80.0]
    mixed = Positions(side=[1, -1], size=[1.0, 1.0], entry_price=[10.0, 10.0], margin=[2.0, 2.0])
    with pytest.raises(InvalidInputError, match="one side"):
        Tranches.from_positions(mixed, ALTCOIN)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ignition_qty": 0.0}, "ignition_qty must be > 0"),
        ({"ignition_qty": -5.0}, "ignition_qty must be > 0"),
        ({"ignition_qty": math.nan}, "ignition_qty must be finite"),
        ({"ignition_qty": None, "ignition_notional": math.inf}, "ignition_notional must be finite"),
        ({"ignition_qty": None, "ignition_notional": -1.0}, "ignition_notional must be > 0"),
        ({"ignition_qty": None}, "exactly one of ignition_notional"),
        ({"ignition_notional": 5.0}, "exactly one of ignition_notional"),
        ({"hedge_ratio": -0.1}, "hedge_ratio must lie in"),
        ({"hedge_ratio": 2.5}, "hedge_ratio must lie in"),
        ({"hedge_ratio": math.nan}, "hedge_ratio"),
        ({"lag": -1}, "lag"),
        ({"lag": 1.5}, "lag"),
        ({"inventory_limit": -1.0}, "inventory_limit"),
        ({"perp_passthrough": 1.5}, "perp_passthrough"),
        ({"liquidation_fee_rate": 1.0}, "liquidation_fee_rate"),
        ({"insurance_fund": -1.0}, "insurance_fund"),
        ({"insurance_fund": math.nan}, "insurance_fund"),
        ({"max_stages": 0}, "max_stages"),
        ({"side": 0}, "side"),
        ({"deficit_rule": "pray"}, "deficit_rule"),
    ],
)
def test_bad_params_raise_clear_errors(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        params(**kwargs)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([12.0, 11.0], [1.0, 1.0]), "sorted ascending"),
        (([], []), "N >= 1"),
        (([11.0, 12.0], [1.0]), "one size"),
        (([11.0], [0.0]), "size must be > 0"),
        (([11.0], [math.nan]), "size must be finite"),
        (([-11.0], [1.0]), "trigger_price must be > 0"),
        (([11.0], [1.0], [11.0, 12.0]), "bankruptcy_price has shape"),
        (([11.0], [1.0], [0.0]), "bankruptcy_price must be > 0"),
    ],
)
def test_bad_tranches_raise_clear_errors(args, match):
    with pytest.raises(InvalidInputError, match=match):
        Tranches(*args)


def test_more_bad_inputs():
    with pytest.raises(InvalidInputError, match="sorted descending"):
        Tranches([8.0, 9.0], [1.0, 1.0], side=1)
    with pytest.raises(InvalidInputError, match="label has 1 names"):
        Tranches([11.0, 12.0], [1.0, 1.0], label=["a"])
    with pytest.raises(InvalidInputError, match="mmr"):
        Tranches.from_mmr([11.0], [1.0], 1.0)
    with pytest.raises(InvalidInputError, match="a rocket"):
        run_cascade(small_book(), Tranches([9.0], [1.0], side=1), params())
    with pytest.raises(InvalidInputError, match="book must be an OrderBook"):
        run_cascade("book", small_tranches(), params())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="params must be a CascadeParams"):
        run_cascade(small_book(), small_tranches(), {"ignition_qty": 1})  # type: ignore[arg-type]
    snap = initial_snapshot(small_book(), small_tranches(), params())
    with pytest.raises(InvalidInputError, match="snapshot tracks 3 tranches"):
        run_stage(snap, Tranches([11.0], [1.0]), params())
    with pytest.raises(InvalidInputError, match="pivot"):
        mirror_inputs(small_book(), small_tranches(), params(), -1.0)
    assert issubclass(InvalidInputError, PerpsbookError)
    assert isinstance(snap, StageSnapshot) and not is_settled(snap, small_tranches())


def test_params_helpers():
    p = params(inventory_limit=5.0)
    assert p.market_maker.inventory_limit == 5.0 and p.market_maker.lag == 0
    q = p.replace(ignition_notional=1000.0)
    assert q.ignition_qty is None and q.ignition_notional == 1000.0
    assert json.dumps(p.to_dict())


# ------------------------------------------------------------ result queries: tranche_stages


def test_tranche_stages_hand_computed():
    # The three-stage cascade above: $11 goes in stage 1, $12 in stage 2, $14 never.
    r = run_cascade(small_book(), small_tranches(), params())
    stage = r.tranche_stages()
    assert stage.dtype == np.int64
    assert stage.tolist() == [1, 2, -1]
    # h = 2 reaches the third tranche (at $13) in stage 3
    r = run_cascade(small_book(), small_tranches(third=13.0), params(hedge_ratio=2.0))
    assert r.tranche_stages().tolist() == [1, 2, 3]


def test_tranche_stages_rocketcoin_one_per_stage():
    np.testing.assert_array_equal(rocketcoin().run().tranche_stages(), [1, 2, 3, 4, 5])


def test_tranche_stages_partial_and_none():
    # h = 0: the first layer alone lifts the price $11 -> $11.50; T2 at $12 is never reached
    np.testing.assert_array_equal(
        rocketcoin(hedge_ratio=0.0).run().tranche_stages(), [1, -1, -1, -1, -1]
    )
    np.testing.assert_array_equal(rocketcoin(ignition=100_000.0).run().tranche_stages(), [-1] * 5)
    # flat book: stage 1 empties the ladder at $19.99, so T2-T5 all go in stage 2
    np.testing.assert_array_equal(rocketcoin("flat_book").run().tranche_stages(), [1, 2, 2, 2, 2])
    # a crash liquidates its longs in order too
    np.testing.assert_array_equal(rocketcoin_crash().run().tranche_stages(), [1, 2, 3, 4, 5])


@settings(max_examples=40)
@given(
    ignition=st.floats(10_000.0, 3_000_000.0),
    h=st.floats(0.0, 2.0),
    lag=st.integers(0, 2),
)
def test_tranche_stages_agree_with_stage_counts(ignition, h, lag):
    r = rocketcoin(ignition=ignition, hedge_ratio=h, lag=lag).run()
    stage = r.tranche_stages()
    done = stage[stage >= 0]
    assert done.size == r.n_liquidated
    assert np.all(stage[: r.n_liquidated] >= 1)  # the ignition itself liquidates nothing
    assert np.all(stage[r.n_liquidated :] == -1)
    assert np.all(np.diff(done) >= 0)  # liquidated in order
    counts = np.bincount(done, minlength=r.n_stages)
    np.testing.assert_array_equal(counts, r.stages.n_tranches)


# ------------------------------------------------------------------ result queries: headline


def test_headline_hand_computed():
    # The three-stage cascade above: ignition 150 coins for $1,550 (mid 9.5 -> 11), 70 coins
    # liquidated for $810, 70 hedged for $820, $1,630 forced = 1.05 x; MM -$10, fund +$26.90
    # (prints +$27), ignitor 150 x 12 - 1,550 = +$250.
    r = run_cascade(small_book(), small_tranches(), params())
    assert r.headline().splitlines() == [
        "ignition        $1,550 of spot buying (150 coins): 9.500 -> 11.00 USD per coin",
        "liquidated      2 of 3 tranches, 70 coins; the engine's orders cost $810",
        "hedges          70 coins of spot for $820",
        "forced buying   $1,630 = 1.1 x the ignition",
        "final price     12.00 USD per coin (+26.3% from 9.500), after 3 stages",
        "P&L at the end  market makers -$10, insurance fund +$27, ignitor +$250",
    ]


def test_headline_rounds_a_cents_loss_to_plus_zero():
    # One tranche of 25.2 coins at $11: the engine takes 25.2 of the 50 coins left at $11,
    # the hedge the other 24.8 and 0.4 at $12, so the market makers lose 0.4 x $1 = $0.40.
    r = run_cascade(small_book(), Tranches([11.0], [25.2], [11.5]), params())
    assert r.pnl["market_maker"] == pytest.approx(-0.4, abs=1e-9)
    assert r.headline().splitlines()[-1] == (
        "P&L at the end  market makers +$0, insurance fund +$10, ignitor +$250"
    )


def test_headline_rocketcoin():
    assert rocketcoin().run().headline().splitlines() == [
        "ignition        $200,000 of spot buying (19,054 coins): 9.995 -> 11.00 USD per coin",
        "liquidated      5 of 5 tranches, 748,327 coins; the engine's orders cost $10,276,654",
        "hedges          748,327 coins of spot for $10,673,467",
        "forced buying   $20,950,121 = 104.8 x the ignition",
        "final price     16.22 USD per coin (+62.3% from 9.995), after 6 stages",
        "P&L at the end  market makers -$396,813, insurance fund -$32,262, ignitor +$109,057",
    ]


def test_headline_crash_adl_and_singular():
    crash = rocketcoin_crash().run().headline()
    assert "forced selling  $8,982,946 = 49.6 x the ignition" in crash
    assert "3.78 USD per coin (-62.2% from 10.005)" in crash
    assert "buying" not in crash
    flat = rocketcoin("flat_book").run().headline()
    assert "; 657,418 coins closed by ADL" in flat
    assert "ADL" not in rocketcoin().run().headline()
    fizzle = rocketcoin(ignition=100_000.0).run().headline()
    assert "after 1 stage\n" in fizzle
    assert "0 of 5 tranches" in fizzle and "= 0.0 x the ignition" in fizzle
    assert "-$0" not in fizzle


# ----------------------------------------------------------------- hardening (issue 7)


def test_adl_rule_does_not_socialise_when_the_book_runs_dry():
    # Issue 7: the dry tail used to be sent to the ladder again inside the ADL solver and
    # filled far past bankruptcy, so $448,453 was socialised despite deficit_rule="adl".
    r = rocketcoin(
        "flat_book", ignition=417811, hedge_ratio=0, deficit_rule="adl", insurance_fund=0
    ).run()
    assert r.socialised_usd == 0.0
    assert r.insurance_fund_final >= -1e-6
    assert abs(r.ledger_imbalance) < 1e-6
    # every liquidated coin was closed: in the market or by ADL at the bankruptcy price
    closed = r.stages.liquidated_qty.sum()
    assert r.adl_qty > 0 and r.adl_qty <= closed


def test_adl_rule_hand_computed_dry_tail():
    # Two tranches of 100 shorts triggered at 10, bankrupt at 10.5; asks 100 @ 10, 100 @ 11,
    # 20 @ 12. The ignition takes 50 @ 10. Tranche 1 fills 50 @ 10 + 50 @ 11 = 1,050 USD =
    # its bankruptcy value; tranche 2 fills 50 @ 11 + 20 @ 12 = 790 USD for 70 coins worth
    # 735 at bankruptcy, the last 30 find no ask. "socialise": deficit 55 charged in cash.
    # "adl": the 30-coin dry tail and then all 70 coins of tranche 2 (every one of them
    # fills above 10.5) are closed at 10.5 by ADL; nothing is socialised.
    book = OrderBook.from_levels([(9.0, 1e6)], [(10.0, 100.0), (11.0, 100.0), (12.0, 20.0)])
    tr = Tranches([10.0, 10.0], [100.0, 100.0], [10.5, 10.5])
    soc = run_cascade(book, tr, CascadeParams(ignition_qty=50.0, deficit_rule="socialise"))
    assert soc.socialised_usd == pytest.approx(55.0)
    assert soc.adl_qty == pytest.approx(30.0)
    adl = run_cascade(book, tr, CascadeParams(ignition_qty=50.0, deficit_rule="adl"))
    assert adl.socialised_usd == 0.0
    assert adl.adl_qty == pytest.approx(100.0)
    assert adl.stages.liquidated_notional[1] == pytest.approx(1_050.0)
    assert adl.insurance_fund_final == pytest.approx(0.0, abs=1e-6)
    for r in (soc, adl):
        assert abs(r.ledger_imbalance) < 1e-9


@pytest.mark.parametrize(
    "field",
    [
        "ignition_notional",
        "hedge_ratio",
        "lag",
        "inventory_limit",
        "perp_passthrough",
        "liquidation_fee_rate",
        "insurance_fund",
        "deficit_rule",
        "max_stages",
        "side",
    ],
)
@pytest.mark.parametrize(
    "bad", [[1.0, 2.0], np.array([1.0, 2.0]), "x", float("nan"), True, [[1.0], [2.0, 3.0]]]
)
def test_params_reject_list_valued_and_bad_scalars_with_named_errors(field, bad):
    kw = {"ignition_notional": 1e5, field: bad}
    with pytest.raises(InvalidInputError, match=field):
        CascadeParams(**kw)


def test_params_overflow_and_max_stages_bound():
    with pytest.raises(InvalidInputError, match=r"insurance_fund.*float64 range"):
        CascadeParams(ignition_notional=1e5, insurance_fund=10**400)
    with pytest.raises(InvalidInputError, match=r"max_stages must be an integer in \[1, 10,000\]"):
        CascadeParams(ignition_notional=1e5, max_stages=10**6)
    assert CascadeParams(ignition_notional=1e5, max_stages=MAX_STAGES).max_stages == MAX_STAGES


@pytest.mark.parametrize("price", [float("nan"), float("inf"), -1.0, 0.0, "11", None, [11.0]])
def test_n_triggered_rejects_non_prices(price):
    t = Tranches([11.0, 12.0], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match=r"^price must"):
        t.n_triggered(price)


def test_size_between_is_defined_only_for_ordered_indices():
    t = Tranches([11.0, 12.0], [1.0, 2.0])
    assert t.size_between(0, 2) == 3.0 and t.size_between(1, 1) == 0.0
    for lo, hi in ((2, 0), (0, 3), (-1, 1), (0, 2.0), (True, 1)):
        with pytest.raises(InvalidInputError, match=r"lo|hi"):
            t.size_between(lo, hi)


def test_tranches_label_and_positions_are_checked():
    with pytest.raises(InvalidInputError, match="label must be a sequence"):
        Tranches([11.0, 12.0], [1.0, 2.0], label="ab")
    with pytest.raises(InvalidInputError, match="label must be a sequence"):
        Tranches([11.0, 12.0], [1.0, 2.0], label=5)
    with pytest.raises(InvalidInputError, match="positions must be a perpsbook"):
        Tranches.from_positions(None, ALTCOIN)
    with pytest.raises(InvalidInputError, match="pivot must be a single"):
        Tranches([11.0], [1.0]).mirrored([10.0, 11.0])


def test_huge_lag_is_cheap_and_exact():
    # Issue 7: rocketcoin(lag=10**6) took 40 s and 7.8 GB; the CLI crashed on 10**20.
    # A hedge due after max_stages never executes, so any lag >= max_stages is the same run.
    import time

    t0 = time.perf_counter()
    huge = rocketcoin(lag=10**20, max_stages=50).run()
    assert time.perf_counter() - t0 < 10.0
    same = rocketcoin(lag=50, max_stages=50).run()
    assert huge.truncated and same.truncated
    np.testing.assert_array_equal(huge.stages.price_after, same.stages.price_after)
    np.testing.assert_array_equal(huge.stages.pending_hedge_qty, same.stages.pending_hedge_qty)
    assert huge.total_hedge_qty == 0.0
    # the queue holds one entry per stage that absorbed something, not lag + 1 slots
    assert all(len(s.hedge_queue) <= s.stage for s in huge.snapshots)
    assert all(len(s.mm.pending) == 1 for s in huge.snapshots)


@pytest.mark.parametrize("lag", [1, 2, 3])
def test_compact_hedge_queue_matches_the_market_maker(lag):
    # The cascade keeps (due, coins) pairs; hedging.MarketMaker keeps lag + 1 slots. Same
    # hedges, same stages, same coins: replay the cascade's absorbs through MarketMaker.
    from perpsbook.hedging import MarketMaker

    r = rocketcoin(lag=lag, inventory_limit=20_000.0).run()
    mm = MarketMaker(1.0, lag, 20_000.0)
    state = mm.initial_state()
    state = type(state)(pending=state.pending, stage=1)
    book = r.snapshots[1].book
    for snap, nxt in zip(r.snapshots[1:], r.snapshots[2:], strict=False):
        # the MM absorbed exactly the change in its perp position this stage
        q = snap.mm.perp_position - nxt.mm.perp_position
        if q:
            vwap = r.records[snap.stage].liquidation_vwap
            state = mm.absorb(state, q, vwap)
        step = mm.hedge(state, snap.book if not q else book, snap.stage)
        state = step.state
        assert state.pending_total == pytest.approx(nxt.pending_qty, rel=1e-12, abs=1e-9)
