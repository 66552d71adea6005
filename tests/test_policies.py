"""Liquidation execution as venue policies (perpsbook.liquidation, "Venue policies").

Binance, Bybit and Hyperliquid publish rules but no numerical liquidation-execution
examples; the hand examples below are derived from the rules and formulas cited in the
module docstring, with every number worked out in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import InvalidInputError
from perpsbook.liquidation import (
    LIQUIDATION_POLICIES,
    LiquidationConfig,
    liquidate,
)
from perpsbook.margin import BINANCE, BINANCE_2021, BYBIT, HYPERLIQUID, TierSchedule, Venue
from perpsbook.positions import Positions

FLAT = TierSchedule(floors=[0.0], mmr=[0.01], max_leverage=[50.0])
PLAIN = Venue("test", FLAT, "liquidation", 0.005)


def book(asks, bids=((90.0, 50.0),)) -> OrderBook:
    return OrderBook.from_levels(bids=list(bids), asks=list(asks))


def short_100(size: float = 1.0) -> Positions:
    """Short ``size`` coins at 100 with 10 USD margin per coin: bankruptcy price 110."""
    return Positions(side=-1, size=size, entry_price=100.0, margin=10.0 * size)


# --------------------------------------------------------------------------- config
def test_each_venue_config_uses_its_own_policy():
    assert LiquidationConfig().policy == "binance"
    assert LiquidationConfig(venue=BINANCE).fee_to == "insurance_fund"
    assert LiquidationConfig(venue=BINANCE_2021).policy == "binance"
    assert LiquidationConfig(venue=BYBIT).policy == "bybit"
    hl = LiquidationConfig(venue=HYPERLIQUID)
    assert (hl.policy, hl.partial_fraction, hl.surplus_to) == ("hyperliquid", 0.2, "trader")
    assert hl.adl_ranking == "hyperliquid" and hl.backstop_fraction == pytest.approx(2 / 3)
    assert LiquidationConfig.for_venue("bybit").adl_ranking == "bybit"
    assert LiquidationConfig(venue=PLAIN).policy == "market"
    # told otherwise: today's unlimited walk by name, another ranking, clips off
    assert LiquidationConfig(venue=BINANCE, policy="market").fee_to == "venue_fees"
    assert LiquidationConfig(venue=BINANCE, adl_ranking="pro_rata").adl_ranking == "pro_rata"
    assert LiquidationConfig(venue=HYPERLIQUID, partial_fraction=1.0).partial_fraction == 1.0
    for bad, name in (
        ({"policy": "okx"}, "policy"),
        ({"adl_ranking": "random"}, "adl policy"),
        ({"fee_to": "me"}, "fee_to"),
        ({"backstop_fraction": 0.0}, "backstop_fraction"),
        ({"backstop_fraction": [0.5]}, "backstop_fraction"),
    ):
        with pytest.raises(InvalidInputError, match=name):
            LiquidationConfig(**bad)


# --------------------------------------------------------------------------- Binance
def test_binance_ioc_at_bankruptcy_price_and_fund_takeover():
    # BTCUSDT bracket 1 (MMR 0.4 %): equity 10 - (m - 100) <= 0.004 m <=> m >= 109.56.
    # Mark 109.7. The IOC buy limited at 110 takes 0.5 at 108; 112 is beyond the limit.
    asks = [(108.0, 0.5), (112.0, 10.0)]
    res = liquidate(short_100(), 109.7, book(asks), 100.0, LiquidationConfig())
    ev = res.events
    assert ev.qty_filled[0] == pytest.approx(0.5) and ev.fill_vwap[0] == pytest.approx(108.0)
    assert ev.qty_takeover[0] == pytest.approx(0.5) and ev.qty_adl[0] == 0.0
    # margin left on the filled half: 0.5 x (110 - 108) = 1.0; fee 1.25 % x 54 = 0.675
    assert ev.fee[0] == pytest.approx(0.675)
    assert ev.insurance_delta[0] == pytest.approx(0.325)
    # the clearance fee feeds the fund too [B-IF]: 100 + 0.325 + 0.675
    assert res.insurance_fund_after == pytest.approx(101.0)
    # the fund is now short 0.5 at 110, worth +0.15 at the mark 109.7
    assert ev.takeover_upnl[0] == pytest.approx(0.15)
    led = res.ledger_entries()
    assert led.balance("insurance_fund", "perp") == pytest.approx(-0.5)
    assert led.balance("insurance_fund") == pytest.approx(1.0 + 0.5 * 110.0)
    assert "venue_fees" not in led.accounts
    # the unlimited walk ("market") fills the other half at 112, past bankruptcy
    mkt = liquidate(
        short_100(), 109.7, book(asks), 100.0, LiquidationConfig(policy="market")
    ).events
    assert mkt.qty_filled[0] == pytest.approx(1.0) and mkt.fill_vwap[0] == pytest.approx(110.0)


def test_binance_adl_only_for_what_the_fund_cannot_carry():
    # Mark 115 (past bankruptcy 110), fund 0. Fills: 0.5 at 108 (left 1.0, fee 0.675, all
    # to the fund: cash 1.0). Takeover 0.5 at 110 is worth 0.5 x (110 - 115) = -2.5 to the
    # fund: short 1.5 USD, 5 USD per coin deleveraged -> ADL 0.3 coins at 110, takeover 0.2.
    pos = Positions(side=[-1, 1], size=[1.0, 1.0], entry_price=100.0, margin=10.0)
    res = liquidate(pos, 115.0, book([(108.0, 0.5), (120.0, 5.0)]), 0.0, LiquidationConfig())
    ev = res.events
    assert ev.index.tolist() == [0]
    assert ev.qty_adl[0] == pytest.approx(0.3) and ev.qty_takeover[0] == pytest.approx(0.2)
    assert res.adl.counterparty.tolist() == [1] and res.adl.price[0] == pytest.approx(110.0)
    equity = res.insurance_fund_after + ev.takeover_upnl.sum()
    assert equity == pytest.approx(0.0, abs=1e-9)
    assert res.remaining_size[1] == pytest.approx(0.7)


# --------------------------------------------------------------------------- Bybit
def test_bybit_walks_the_book_surplus_to_fund_no_fee():
    # Bybit MM on the entry value: 0.5 % x 100 = 0.5 per coin; liquidated when
    # 10 - (m - 100) <= 0.5 <=> m >= 109.5. Taken over at bankruptcy, closed in the book.
    res = liquidate(short_100(), 109.6, book([(109.0, 5.0)]), 10.0, LiquidationConfig(venue=BYBIT))
    ev = res.events
    assert res.config.policy == "bybit" and ev.fee[0] == 0.0
    assert ev.qty_filled[0] == pytest.approx(1.0)
    assert ev.insurance_delta[0] == pytest.approx(1.0)  # 110 - 109 stays in the fund [Y-IF]


# --------------------------------------------------------------------------- Hyperliquid
HL = LiquidationConfig(venue=HYPERLIQUID)


def test_hyperliquid_market_order_when_equity_above_two_thirds_of_maintenance():
    # MM 1.25 % of the notional at the mark: at 108.8 equity 1.2, MM 1.36, 2/3 MM 0.907
    res = liquidate(short_100(), 108.8, book([(108.9, 5.0)]), 0.0, HL)
    ev = res.events
    assert ev.qty_filled[0] == pytest.approx(1.0) and ev.qty_backstop[0] == 0.0
    assert ev.trader_credit[0] == pytest.approx(1.1)  # 110 - 108.9 kept by the trader


def test_hyperliquid_backstop_vault_below_two_thirds_of_maintenance():
    # at 109.5 equity 0.5 < 2/3 x 1.369: the vault takes the position and what is left of
    # its margin (the position at the bankruptcy price); nothing goes to the book
    res = liquidate(short_100(), 109.5, book([(109.6, 5.0)]), 0.0, HL)
    ev = res.events
    assert ev.qty_backstop[0] == pytest.approx(1.0) and ev.qty_filled[0] == 0.0
    assert res.buy_fill is None
    led = res.ledger_entries()
    assert led.balance("backstop_vault", "perp") == pytest.approx(-1.0)
    assert led.balance("backstop_vault") == pytest.approx(110.0)
    # the vault's position is worth the trader's equity at the mark: 0.5 USD
    assert ev.takeover_upnl[0] == pytest.approx(0.5)


def test_hyperliquid_adl_only_on_negative_account_value_at_the_oracle_price():
    # at mark 111 the short's equity is -1: ADL against the profitable long at the oracle
    # price 111.2; the 1.2 USD below bankruptcy is paid by the vault's capital (5 USD)
    pos = Positions(side=[-1, 1], size=[1.0, 2.0], entry_price=100.0, margin=[10.0, 50.0])
    res = liquidate(pos, 111.0, book([(111.5, 5.0)]), 5.0, HL, oracle_price=111.2)
    ev = res.events
    assert ev.qty_adl[0] == pytest.approx(1.0) and ev.adl_price[0] == pytest.approx(111.2)
    assert res.adl.price.tolist() == [pytest.approx(111.2)]
    assert ev.insurance_delta[0] == pytest.approx(-1.2)
    assert res.insurance_fund_after == pytest.approx(3.8)
    # a losing long is never deleveraged; with none profitable the vault takes it instead
    alone = liquidate(short_100(), 111.0, book([(111.5, 5.0)]), 5.0, HL)
    assert alone.events.qty_backstop[0] == pytest.approx(1.0)


def test_hyperliquid_twenty_percent_clips_and_cooldown_count_stages():
    pos = short_100(2_000.0)  # 217,600 USD at 108.8 > 100k: a 20 % clip
    bk = book([(108.9, 10_000.0)])
    first = liquidate(pos, 108.8, bk, 0.0, HL)
    assert first.events.partial[0] and first.events.qty_filled[0] == pytest.approx(400.0)
    # the trader keeps 400 x (110 - 108.9) = 440 USD, so the rest (1,600 coins, 16,440 USD)
    # is safe at 108.8; at 109.0 its equity 1.275 per coin is below MM 1.3625 again.
    assert first.remaining_margin[0] == pytest.approx(16_440.0)
    again = liquidate(first.positions_after, 109.0, bk, 0.0, HL)
    assert again.events.partial[0]  # out of cooldown: another 20 % clip
    # a caller counting stages passes the cooldown mask: the whole rest
    again = liquidate(first.positions_after, 109.0, bk, 0.0, HL, cooldown=np.array([True]))
    assert not again.events.partial[0]
    assert again.events.qty_filled[0] == pytest.approx(1_600.0)


def test_oracle_price_is_checked():
    for bad in (float("nan"), -1.0, [1.0, 2.0], "1"):
        with pytest.raises(InvalidInputError, match="oracle_price"):
            liquidate(short_100(), 109.0, book([(109.0, 5.0)]), 0.0, HL, oracle_price=bad)


# --------------------------------------------------------------------------- properties
@st.composite
def scenarios(draw, policy):
    n = draw(st.integers(1, 10))
    mark = draw(st.integers(280, 520).map(lambda k: k / 4.0))
    side = draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    size = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 4.0, 3000.0]), min_size=n, max_size=n))
    entry = mark + np.array(draw(st.lists(st.integers(-120, 120), min_size=n, max_size=n))) / 4
    cushion = np.array(draw(st.lists(st.integers(-40, 60), min_size=n, max_size=n))) / 4.0
    margin = np.maximum(np.array(size) * (np.array(side) * (entry - mark) + cushion), 0.25)
    pos = Positions(side=side, size=size, entry_price=entry, margin=margin)
    mid = mark + draw(st.integers(-20, 20)) / 4.0
    bk = OrderBook.flat_ladder(
        mid=mid,
        tick=draw(st.sampled_from([0.25, 0.5, 1.0])),
        size_per_level=draw(st.sampled_from([0.25, 1.0, 3.0, 500.0])),
        n_levels=draw(st.integers(1, 8)),
    )
    fund = draw(st.integers(0, 200).map(lambda k: k / 4.0))
    oracle = mark + draw(st.integers(-8, 8)) / 4.0
    cfg = LiquidationConfig(
        venue=draw(st.sampled_from([BINANCE, BYBIT, HYPERLIQUID, PLAIN])),
        policy=policy,
        adl=draw(st.booleans()),
        adl_ranking=draw(st.sampled_from([None, "pro_rata", "bybit"])),
    )
    cool = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return pos, mark, bk, fund, cfg, oracle, cool


# Issue 7: >= 1,000 generated scenarios, every venue policy. 260 per policy x 4 policies =
# 1,040 (about 10 s in all on one core); the venue (schedule, fee) is drawn independently.
EXAMPLES_PER_POLICY = 260


@pytest.mark.parametrize("policy", LIQUIDATION_POLICIES)
@settings(max_examples=EXAMPLES_PER_POLICY, deadline=None)
@given(data=st.data())
def test_property_ledger_sums_to_zero_and_every_coin_is_accounted_every_policy(policy, data):
    pos, mark, bk, fund, cfg, oracle, cool = data.draw(scenarios(policy))
    res = liquidate(pos, mark, bk, fund, cfg, cooldown=cool, oracle_price=oracle)
    ev = res.events
    # coins: clip = book + ADL + fund takeover + backstop + left open
    np.testing.assert_allclose(ev.qty_closed + ev.qty_unfilled, ev.clip, atol=1e-9)
    assert np.all(ev.qty_takeover >= 0) and np.all(ev.qty_backstop >= 0)
    for arr in (ev.fee, ev.insurance_delta, ev.bad_debt, ev.fill_notional, res.remaining_margin):
        assert np.all(np.isfinite(arr))
    assert res.insurance_fund_after >= 0.0
    # money per event: margin + realised = fee + fund delta + trader credit - bad debt
    lhs = ev.margin_released + ev.realised_pnl
    rhs = ev.fee + ev.insurance_delta + ev.trader_credit - ev.bad_debt
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-7)
    fee_to_fund = res.config.fee_to == "insurance_fund"
    cash = ev.insurance_delta.sum() + (ev.fee.sum() if fee_to_fund else 0.0)
    assert res.insurance_fund_delta == pytest.approx(cash, abs=1e-7)
    # ledger: zero-sum per instrument; the fund/vault hold what they took over
    led = res.ledger_entries()
    imb = led.imbalance()
    assert abs(imb["USD"]) <= 1e-9 * max(led.gross_usd(), 1.0) and abs(imb["perp"]) <= 1e-9
    take_cash = float(np.sum(-ev.side * ev.qty_takeover * ev.bankruptcy_price))
    assert led.balance("insurance_fund") == pytest.approx(
        res.insurance_fund_delta + take_cash, rel=1e-9, abs=1e-6
    )
    assert led.balance("insurance_fund", "perp") == pytest.approx(
        float(np.sum(ev.side * ev.qty_takeover)), abs=1e-9
    )
    assert led.balance("backstop_vault", "perp") == pytest.approx(
        float(np.sum(ev.side * ev.qty_backstop)), abs=1e-9
    )
    # ADL touches only profitable opposite positions
    if res.adl.n:
        assert np.all(pos.upnl(mark)[res.adl.counterparty] > 0)
        assert np.all(res.adl.side == -ev.side[res.adl.event])
    # Binance never fills past the bankruptcy price; Hyperliquid never ADLs a solvent account
    if res.config.policy == "binance":
        got = ev.qty_filled > 0
        assert np.all(ev.side[got] * (ev.fill_vwap[got] - ev.bankruptcy_price[got]) >= -1e-9)
    if res.config.policy == "hyperliquid" and ev.n:
        equity = pos.equity(mark)[ev.index]
        assert np.all(equity[ev.qty_adl > 0] < 0)


def test_the_ledger_property_covers_a_thousand_scenarios_over_every_policy():
    assert set(LIQUIDATION_POLICIES) == {"market", "binance", "bybit", "hyperliquid"}
    assert EXAMPLES_PER_POLICY * len(LIQUIDATION_POLICIES) >= 1_000
