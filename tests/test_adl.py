"""ADL rankings and the policy comparison (perpsbook.adl).

No venue publishes a numerical ADL ranking example we could read; every expected score is
derived by hand from the formula cited in perpsbook/adl.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perpsbook.liquidation as liquidation
from perpsbook import adl
from perpsbook.adl import (
    ADL_POLICIES,
    adl_allocate,
    adl_book_orders,
    adl_ranking,
    adl_scores,
    compare_adl_policies,
    min_adl_quantity,
)
from perpsbook.errors import InvalidInputError
from perpsbook.margin import BINANCE
from perpsbook.positions import Positions


def two_longs() -> Positions:
    """Longs at 50,000: A 1.2 BTC at 99x (60k USDT), B 1.6 BTC at 98x (80k USDT)."""
    return Positions.from_leverage([1, 1], [1.2, 1.6], 50_000.0, [99.0, 98.0])


def test_binance_leverage_pnl_differs_from_notional_over_equity():
    pos = two_longs()
    mark = 50_500.0
    s = adl_scores(pos, mark)  # Binance by default
    # A: margin 60,000/99, uPnL 600, MM at the mark 0.005 x 60,600 - 50 (bracket 2, cum 50)
    m_a = 60_000.0 / 99.0
    assert s[0] == pytest.approx(600.0 / m_a * (0.005 * 60_600.0 - 50.0) / (m_a + 600.0))
    m_b = 80_000.0 / 98.0
    assert s[1] == pytest.approx(800.0 / m_b * (0.005 * 80_800.0 - 50.0) / (m_b + 800.0))
    # LeveragePnL ranks B first; profit% x notional/equity would rank A first
    old = 600.0 / m_a * 60_600.0 / (m_a + 600.0), 800.0 / m_b * 80_800.0 / (m_b + 800.0)
    assert old[0] > old[1] and s[1] > s[0]
    assert adl_ranking(pos, mark)[0].tolist() == [1, 0]


def test_bybit_and_hyperliquid_scores_from_their_formulas():
    pos = Positions(
        side=[1, -1, 1], size=[2.0, 1.0, 1.0], entry_price=[100.0, 120.0, 90.0], margin=10.0
    )
    mark = 110.0
    by = adl_scores(pos, mark, policy="bybit")
    # long 0: uPnL 20, PnL ratio 20/200, effective leverage 220 / 30
    assert by[0] == pytest.approx(0.1 * 220.0 / 30.0)
    # short 1: uPnL 10, PnL ratio 10/120, effective leverage 110 / 20
    assert by[1] == pytest.approx(10.0 / 120.0 * 110.0 / 20.0)
    hl = adl_scores(pos, mark, policy="hyperliquid")
    assert hl[0] == pytest.approx(110.0 / 100.0 * 220.0 / 30.0)
    assert hl[1] == pytest.approx(120.0 / 110.0 * 110.0 / 20.0)  # mirrored for a short
    assert hl[2] == pytest.approx(110.0 / 90.0 * 110.0 / 30.0)
    for policy in ADL_POLICIES:
        sc = adl_scores(
            Positions(side=1, size=1.0, entry_price=120.0, margin=5.0), mark, policy=policy
        )
        assert sc[0] == -np.inf  # losing: never eligible, never NaN


def test_pro_rata_takes_the_same_fraction_of_everyone():
    pos = Positions(side=[1, 1, 1, -1], size=[1.0, 3.0, 4.0, 1.0], entry_price=100.0, margin=10.0)
    cp, coins = adl_allocate(pos, 110.0, 2.0, side=1, policy="pro_rata")
    assert cp.tolist() == [0, 1, 2]
    np.testing.assert_allclose(coins, [0.25, 0.75, 1.0])
    cp, coins = adl_allocate(pos, 110.0, 2.0, side=1, policy="binance")
    assert coins.sum() == pytest.approx(2.0) and cp.size <= 2  # a queue: whole positions first


def test_compare_adl_policies_small_example():
    # a bankrupt short (bankruptcy 105) leaves 3 coins; mark 110; three profitable longs
    pos = Positions(
        side=[1, 1, 1],
        size=[1.0, 4.0, 2.0],
        entry_price=[100.0, 104.0, 90.0],
        margin=[2.0, 40.0, 60.0],
    )
    cmp = compare_adl_policies(pos, 110.0, 105.0, side=-1, deficit_qty=3.0, oracle_price=110.0)
    tot = cmp.totals()
    assert set(tot) == set(ADL_POLICIES)
    for p in ("binance", "bybit", "pro_rata"):
        # every coin at the bankruptcy price: 3 x (110 - 105) = 15 USD, exactly what was needed
        assert tot[p]["qty"] == pytest.approx(3.0)
        assert tot[p]["haircut_usd"] == pytest.approx(15.0)
        assert tot[p]["excess_usd"] == pytest.approx(0.0, abs=1e-12)
    # Hyperliquid closes at the oracle price: no profit taken, 15 USD left uncovered
    assert tot["hyperliquid"]["haircut_usd"] == 0.0 and tot["hyperliquid"]["excess_usd"] == -15.0
    assert tot["pro_rata"]["n_deleveraged"] == 3.0
    # the queue concentrates the haircut: position 0 (50x, +10 on 2 USD) gives up all its
    # profit under Binance's ranking; pro-rata takes 3/7 of everyone's coins
    assert tot["binance"]["max_upnl_share"] > tot["pro_rata"]["max_upnl_share"]
    assert "policy" in cmp.table() and len(cmp.table().splitlines()) == 5
    usd = compare_adl_policies(pos, 110.0, 105.0, side=-1, deficit_usd=15.0)
    assert usd.totals()["binance"]["qty"] == pytest.approx(3.0)


def test_compare_adl_policies_bad_input():
    pos = two_longs()
    with pytest.raises(InvalidInputError, match="exactly one"):
        compare_adl_policies(pos, 1.0, 1.0, side=1)
    with pytest.raises(InvalidInputError, match="deficit_qty"):
        compare_adl_policies(pos, 1.0, 1.0, side=1, deficit_qty=-1.0)
    with pytest.raises(InvalidInputError, match="adl policy"):
        compare_adl_policies(pos, 1.0, 1.0, side=1, deficit_qty=1.0, policies=("okx",))
    with pytest.raises(InvalidInputError, match="positions"):
        compare_adl_policies(None, 1.0, 1.0, side=1, deficit_qty=1.0)
    with pytest.raises(InvalidInputError, match="bankruptcy_price"):
        compare_adl_policies(pos, 1.0, [1.0], side=1, deficit_qty=1.0)


def test_internals_live_in_adl_and_stay_importable_from_liquidation():
    assert liquidation.min_adl_quantity is adl.min_adl_quantity
    assert liquidation.adl_book_orders is adl.adl_book_orders
    assert liquidation.adl_ranking is adl.adl_ranking


def test_min_adl_quantity_rejects_nan_and_bad_arguments():
    with pytest.raises(InvalidInputError, match="x_max"):
        min_adl_quantity(lambda xs: xs - 1.0, float("nan"), 1)
    with pytest.raises(InvalidInputError, match="NaN"):
        min_adl_quantity(lambda xs: np.full_like(xs, np.nan), 2.0, 1)
    with pytest.raises(InvalidInputError, match="fund_at"):
        min_adl_quantity(None, 2.0, 1)
    with pytest.raises(InvalidInputError, match="n_events"):
        min_adl_quantity(lambda xs: xs, 2.0, 1.5)
    assert min_adl_quantity(lambda xs: xs - 1.0, 2.0, 1) == pytest.approx(1.0)
    assert min_adl_quantity(lambda xs: xs - 5.0, 2.0, 1) == 2.0  # not enough: all of it
    with pytest.raises(InvalidInputError, match="f1"):
        adl_book_orders([1.0, np.nan], [1.0, 1.0], [0.5])
    np.testing.assert_allclose(adl_book_orders([1.0, 2.0], [1.0, 1.0], [1.5]), [[0.0, 1.5]])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([-1, 1]), st.integers(1, 40), st.integers(-30, 30)),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 60),
    st.sampled_from(ADL_POLICIES),
)
def test_property_allocation_is_within_eligible_size_and_mirror_symmetric(rows, q4, policy):
    side = np.array([r[0] for r in rows])
    size = np.array([r[1] for r in rows]) / 4.0
    entry = 100.0 + np.array([r[2] for r in rows]) / 4.0
    pos = Positions(side=side, size=size, entry_price=entry, margin=size * 5.0)
    qty = q4 / 4.0
    cp, coins = adl_allocate(pos, 100.0, qty, side=1, policy=policy)
    eligible = (pos.side == 1) & (pos.upnl(100.0) > 0)
    assert np.all(eligible[cp]) and np.all(coins <= pos.size[cp] + 1e-12)
    assert coins.sum() == pytest.approx(min(qty, pos.size[eligible].sum()))
    # long <-> short mirror about 100: the same positions, the same coins
    mirror = Positions(side=-side, size=size, entry_price=200.0 - entry, margin=size * 5.0)
    cp_m, coins_m = adl_allocate(mirror, 100.0, qty, side=-1, policy=policy)
    # pro-rata is exactly symmetric; the venues' scores are not (entry/mark ratios and the
    # notional-based maintenance margin change under the mirror), nor are their float ties
    if policy == "pro_rata":
        assert cp_m.tolist() == cp.tolist()
        np.testing.assert_allclose(coins_m, coins)
    assert not np.any(np.isnan(adl_scores(pos, 100.0, policy=policy, venue=BINANCE)))


def test_tiny_mark_scores_are_finite_for_every_policy():
    # Issue 7: mark 5e-324 overflowed Hyperliquid's entry / mark for the shorts to +inf.
    # The shorts are in profit (finite scores); the long is not (-inf, documented).
    pos = Positions.from_leverage([1, -1, -1], [1.0, 2.0, 3.0], [10.0, 10.0, 10.0], [5, 10, 20])
    for policy in ADL_POLICIES:
        for mark in (5e-324, 1e-300):
            s = adl_scores(pos, mark, policy=policy)
            assert s[0] == -np.inf and np.all(np.isfinite(s[1:])), (policy, mark, s)
    # the short form entry * size / equity equals (entry / mark) * notional / equity
    s = adl_scores(pos, 9.0, policy="hyperliquid")
    equity = pos.equity(9.0)
    np.testing.assert_allclose(s[1:], (10.0 / 9.0) * pos.size[1:] * 9.0 / equity[1:], rtol=1e-14)


def test_adl_helpers_name_their_bad_arguments():
    with pytest.raises(InvalidInputError, match="x_max must be a single real number"):
        min_adl_quantity(lambda xs: xs - 1.0, [[1.0], [2.0, 3.0]], 1)
    with pytest.raises(InvalidInputError, match="n_events"):
        min_adl_quantity(lambda xs: xs - 1.0, 2.0, 10**400 * -1)
    with pytest.raises(InvalidInputError, match="one fund"):
        min_adl_quantity(lambda xs: np.zeros(3) - 1.0, 2.0, 1)
    with pytest.raises(InvalidInputError, match="fund_at"):
        min_adl_quantity(lambda xs: ["a"] * xs.size, 2.0, 1)
    with pytest.raises(InvalidInputError, match="xs must be >= 0"):
        adl_book_orders([1.0, 2.0], [1.0, 1.0], [-0.5])
    with pytest.raises(InvalidInputError, match="cap"):
        adl_book_orders([1.0, 2.0], [[1.0], [1.0, 2.0]], [0.5])
    with pytest.raises(InvalidInputError, match="mark_price"):
        adl_ranking(Positions([1], [1.0], [10.0], [1.0]), [[1.0], [2.0, 3.0]])
