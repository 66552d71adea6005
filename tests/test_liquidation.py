"""Tests of perpsbook.liquidation: hand-worked batches and hypothesis properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.book import OrderBook
from perpsbook.errors import InvalidInputError, InvalidSideError, PerpsbookError
from perpsbook.liquidation import (
    HYPERLIQUID_PARTIAL_FRACTION,
    LiquidationConfig,
    adl_ranking,
    adl_scores,
    liquidate,
    liquidation_priority,
)
from perpsbook.margin import BINANCE, BYBIT, HYPERLIQUID, TierSchedule, Venue
from perpsbook.positions import Positions

FLAT = TierSchedule(floors=[0.0], mmr=[0.01], max_leverage=[50.0], name="flat 1%")
VENUE = Venue("test", FLAT, "liquidation", 0.005)
WIDE = Venue(  # 10 % MMR: a wide gap between liquidation and bankruptcy prices
    "wide", TierSchedule(floors=[0.0], mmr=[0.10], max_leverage=[5.0]), "liquidation", 0.01
)
ZERO_MM = Venue(
    "zero-mm", TierSchedule(floors=[0.0], mmr=[0.0], max_leverage=[50.0]), "liquidation", 0.0
)


def short_100(size: float = 1.0) -> Positions:
    """A short of ``size`` coins at 100 with 10 USD of margin per coin: bankruptcy 110."""
    return Positions(side=-1, size=size, entry_price=100.0, margin=10.0 * size)


def book(asks, bids=((108.0, 50.0),)) -> OrderBook:
    return OrderBook.from_levels(bids=list(bids), asks=list(asks))


def money(result):
    """Per-event identity: margin + realised PnL = fee + fund delta + trader credit - bad debt."""
    ev = result.events
    lhs = ev.margin_released + ev.realised_pnl
    rhs = ev.fee + ev.insurance_delta + ev.trader_credit - ev.bad_debt
    return lhs, rhs


# --------------------------------------------------------------------------- hand examples
def test_short_liquidated_with_surplus_to_fund():
    # equity 10 - (m - 100) <= 1% of m  <=>  m >= 108.9109; mark 109 triggers.
    res = liquidate(
        short_100(),
        109.0,
        book([(109.0, 0.4), (109.5, 10.0)]),
        1000.0,
        LiquidationConfig(venue=VENUE),
    )
    ev = res.events
    assert ev.index.tolist() == [0]
    assert ev.bankruptcy_price[0] == pytest.approx(110.0)
    # 0.4 @ 109 + 0.6 @ 109.5 = 109.3; 0.7 left above bankruptcy; fee 0.5% of 109.3
    assert ev.fill_notional[0] == pytest.approx(109.3)
    assert ev.fill_vwap[0] == pytest.approx(109.3)
    assert ev.fee[0] == pytest.approx(0.5465)
    assert ev.insurance_delta[0] == pytest.approx(0.7 - 0.5465)
    assert res.insurance_fund_after == pytest.approx(1000.1535)
    assert res.forced_buy_qty == pytest.approx(1.0)
    assert res.buy_fill.last_price == 109.5
    assert res.sell_fill is None
    assert res.positions_after.n == 0 and not res.active[0]
    assert res.book_after.best_ask == 109.5
    assert res.book_after.ask_sizes[0] == pytest.approx(9.4)
    led = res.ledger_entries()
    bal = led.balances()
    assert bal["trader:0"]["USD"] == pytest.approx(-110.0)  # margin 10 + entry 100: all gone
    assert bal["trader:0"]["perp"] == pytest.approx(1.0)
    assert bal["perp_book"]["USD"] == pytest.approx(109.3)
    assert bal["venue_fees"]["USD"] == pytest.approx(0.5465)
    assert bal["insurance_fund"]["USD"] == pytest.approx(0.1535)
    assert all(abs(v) < 1e-12 for v in led.imbalance().values())


def test_fee_is_capped_by_what_is_left_of_the_margin():
    cfg = LiquidationConfig(venue=VENUE, liquidation_fee_rate=0.01)
    res = liquidate(short_100(), 109.0, book([(109.0, 0.4), (109.5, 10.0)]), 0.0, cfg)
    # 1% of 109.3 = 1.093 > 0.7 left: the fee takes the 0.7, nothing for the fund
    assert res.events.fee[0] == pytest.approx(0.7)
    assert res.events.insurance_delta[0] == pytest.approx(0.0)
    assert res.total_fee == pytest.approx(0.7)


def test_default_fee_rate_is_the_venues():
    assert LiquidationConfig().liquidation_fee_rate == BINANCE.liquidation_fee_rate == 0.0125
    assert LiquidationConfig(venue=VENUE).liquidation_fee_rate == 0.005
    assert LiquidationConfig(venue=FLAT).liquidation_fee_rate == 0.0  # bare schedule
    assert LiquidationConfig(venue=FLAT).venue.mm_basis == "liquidation"


def test_short_liquidated_with_deficit_paid_by_fund():
    res = liquidate(
        short_100(),
        109.0,
        book([(110.0, 0.5), (112.0, 10.0)]),
        1000.0,
        LiquidationConfig(venue=VENUE),
    )
    ev = res.events
    assert ev.fill_vwap[0] == pytest.approx(111.0)  # 1 USD worse than bankruptcy
    assert ev.fee[0] == 0.0  # nothing left to pay it from
    assert ev.insurance_delta[0] == pytest.approx(-1.0)
    assert res.insurance_fund_after == pytest.approx(999.0)
    assert ev.bad_debt[0] == 0.0 and res.adl.n == 0
    bal = res.ledger_entries().balances()
    assert bal["insurance_fund"]["USD"] == pytest.approx(-1.0)
    assert bal["trader:0"]["USD"] == pytest.approx(-110.0)


def adl_setup():
    # 0: the bankrupt short (b = 110); 1: top-ranked long; 2: weaker long; 3: losing long;
    # 4: a profitable short (same side as the liquidated one: never deleveraged).
    pos = Positions(
        side=[-1, 1, 1, 1, -1],
        size=[1.0, 2.0, 1.0, 1.0, 1.0],
        entry_price=[100.0, 90.0, 100.0, 120.0, 130.0],
        margin=[10.0, 20.0, 50.0, 50.0, 30.0],
    )
    return pos, book([(111.0, 10.0)])


def test_adl_ranking_hand_scores():
    pos, _ = adl_setup()
    scores = adl_scores(pos, 109.0)
    # Binance LeveragePnL = PnL% x MM / equity [B-ADL]; BTCUSDT bracket 1, MMR 0.4 %, cum 0
    # long 1: uPnL 38, PnL% 38/20 = 1.9, MM 0.004 x 218, equity 58
    assert scores[1] == pytest.approx(1.9 * 0.004 * 218 / 58)
    # long 2: uPnL 9, PnL% 0.18, MM 0.004 x 109, equity 59
    assert scores[2] == pytest.approx(0.18 * 0.004 * 109 / 59)
    assert scores[0] == -np.inf and scores[3] == -np.inf  # losing: not eligible
    idx, s = adl_ranking(pos, 109.0)
    assert idx.tolist() == [1, 4, 2]
    assert np.all(np.diff(s) <= 0)
    idx, _ = adl_ranking(pos, 109.0, side=1)
    assert idx.tolist() == [1, 2]
    idx, _ = adl_ranking(pos, 109.0, side="short")
    assert idx.tolist() == [4]
    idx, _ = adl_ranking(pos, 109.0, side=1, exclude=np.array([0, 1, 0, 0, 0], dtype=bool))
    assert idx.tolist() == [2]


def test_adl_ranking_ties_keep_input_order_and_flat_is_not_profitable():
    pos = Positions(side=[1, 1, 1, 1], size=1.0, entry_price=[90.0, 90.0, 100.0, 90.0], margin=10.0)
    idx, s = adl_ranking(pos, 100.0)
    assert idx.tolist() == [0, 1, 3]  # position 2 is flat (uPnL 0)
    assert s[0] == s[1] == s[2]


def test_deficit_beyond_fund_triggers_adl_of_top_long_at_bankruptcy_price():
    pos, bk = adl_setup()
    res = liquidate(pos, 109.0, bk, 0.4, LiquidationConfig(venue=VENUE))
    ev, adl = res.events, res.adl
    assert ev.index.tolist() == [0]
    # one level, so the walk price does not improve: 1 - x coins @ 111 leave a deficit of
    # 1 - x, and the smallest x the fund (0.4) can take is 0.6 coins
    assert adl.n == 1
    assert adl.counterparty.tolist() == [1] and adl.index.tolist() == [0]
    assert adl.qty[0] == pytest.approx(0.6)
    assert adl.price[0] == pytest.approx(110.0)
    assert adl.realised_pnl[0] == pytest.approx(0.6 * (110.0 - 90.0))
    assert adl.margin_released[0] == pytest.approx(6.0)
    assert ev.qty_filled[0] == pytest.approx(0.4)
    assert ev.qty_adl[0] == pytest.approx(0.6)
    assert ev.fill_notional[0] == pytest.approx(44.4)
    assert ev.insurance_delta[0] == pytest.approx(-0.4)
    assert res.insurance_fund_after == pytest.approx(0.0, abs=1e-12)
    assert res.total_bad_debt == pytest.approx(0.0, abs=1e-12)
    # the long keeps 1.4 coins and the proportional 14 USD of margin; others untouched
    assert res.remaining_size.tolist() == pytest.approx([0.0, 1.4, 1.0, 1.0, 1.0])
    assert res.remaining_margin.tolist() == pytest.approx([0.0, 14.0, 50.0, 50.0, 30.0])
    assert res.active_index.tolist() == [1, 2, 3, 4]
    assert res.positions_after.size.tolist() == pytest.approx([1.4, 1.0, 1.0, 1.0])
    bal = res.ledger_entries().balances()
    assert bal["trader:0"]["USD"] == pytest.approx(-110.0)
    assert bal["trader:1"]["USD"] == pytest.approx(66.0)
    assert bal["trader:1"]["perp"] == pytest.approx(-0.6)
    assert "trader:2" not in bal and "trader:3" not in bal and "trader:4" not in bal


def gapped_short() -> tuple[Positions, OrderBook]:
    """A 2-coin short (bankruptcy 110) against a book that gaps from 111 to 113, and a long
    (index 1, entry 90, in profit) to deleverage."""
    pos = Positions(side=[-1, 1], size=[2.0, 5.0], entry_price=[100.0, 90.0], margin=[20.0, 50.0])
    return pos, book([(111.0, 1.0), (113.0, 10.0)])


def test_adl_takes_the_smallest_quantity_the_fund_needs():
    pos, bk = gapped_short()
    res = liquidate(pos, 109.0, bk, 1.5, LiquidationConfig(venue=VENUE))
    # all in the book: 111 + 113 = 224 for coins worth 220 at bankruptcy, deficit 4 > 1.5.
    # The old rule sized ADL from that walk: (1 - 1.5/4) * 2 = 1.25 coins, then the 0.75
    # left filled at 111 (deficit 0.75) and the fund ended at 0.75. Minimal x: the book
    # takes 2 - x coins, deficit 1 + 3 * (1 - x) = 1.5  ->  x = 5/6, fund ends at 0.
    x_old = 1.25
    assert res.adl_qty == pytest.approx(5.0 / 6.0, rel=1e-9)
    assert res.adl_qty < x_old
    assert res.events.qty_filled[0] == pytest.approx(7.0 / 6.0, rel=1e-9)
    assert res.events.fill_notional[0] == pytest.approx(111.0 + 113.0 / 6.0, rel=1e-9)
    assert res.events.insurance_delta[0] == pytest.approx(-1.5, rel=1e-9)
    assert 0.0 <= res.insurance_fund_after <= 1e-12
    assert res.total_bad_debt == 0.0
    assert res.adl.price.tolist() == [110.0] and res.adl.counterparty.tolist() == [1]
    assert res.adl.realised_pnl[0] == pytest.approx(5.0 / 6.0 * 20.0, rel=1e-9)
    assert res.remaining_size[1] == pytest.approx(5.0 - 5.0 / 6.0, rel=1e-9)
    assert all(abs(v) < 1e-12 for v in res.ledger_entries().imbalance().values())
    # a fund that covers the whole walk: no ADL at all, the fund pays the 4 USD
    rich = liquidate(pos, 109.0, bk, 4.0, LiquidationConfig(venue=VENUE))
    assert rich.adl.n == 0 and rich.insurance_fund_after == pytest.approx(0.0, abs=1e-12)


def test_adl_capacity_exhausted_leaves_the_rest_as_bad_debt():
    pos, bk = gapped_short()
    pos = pos.replace(size=np.array([2.0, 0.5]), margin=np.array([20.0, 5.0]))
    res = liquidate(pos, 109.0, bk, 1.5, LiquidationConfig(venue=VENUE))
    # only 0.5 coins to deleverage: the book takes 1.5 coins for 111 + 0.5 * 113 = 167.5,
    # worth 165 at bankruptcy: deficit 2.5, the fund pays 1.5, the venue 1.0
    assert res.adl_qty == pytest.approx(0.5)
    assert res.events.fill_notional[0] == pytest.approx(167.5)
    assert res.total_bad_debt == pytest.approx(1.0)
    assert res.insurance_fund_after == 0.0
    assert not res.active[1]


def test_adl_empties_the_deepest_breach_first():
    # 0: short with bankruptcy 110 (liq. ~108.91); 1: bankruptcy 112 (liq. ~110.89); 2: long.
    pos = Positions(
        side=[-1, -1, 1],
        size=[1.0, 1.0, 5.0],
        entry_price=[100.0, 100.0, 90.0],
        margin=[10.0, 12.0, 50.0],
    )
    bk = book([(113.0, 1.0), (114.0, 10.0)])
    res = liquidate(pos, 111.0, bk, 2.0, LiquidationConfig(venue=VENUE))
    ev = res.events
    assert ev.index.tolist() == [0, 1]  # deepest breach (lowest liquidation price) first
    # x coins of position 0 go to ADL; position 1's slice moves down the book:
    # deficits 3 (1 - x) + (2 - x) = 2  ->  x = 3/4. (Old rule: 0.6 of each = 1.2 coins,
    # fund left at 0.4.)
    assert ev.qty_adl.tolist() == pytest.approx([0.75, 0.0], rel=1e-9)
    assert ev.qty_filled.tolist() == pytest.approx([0.25, 1.0], rel=1e-9)
    assert ev.fill_vwap.tolist() == pytest.approx([113.0, 113.25], rel=1e-9)
    assert ev.insurance_delta.tolist() == pytest.approx([-0.75, -1.25], rel=1e-9)
    assert 0.0 <= res.insurance_fund_after <= 1e-12
    assert res.adl.price.tolist() == [110.0]


def test_adl_disabled_leaves_bad_debt_paid_by_the_venue():
    pos, bk = adl_setup()
    res = liquidate(pos, 109.0, bk, 0.4, LiquidationConfig(venue=VENUE, adl=False))
    assert res.adl.n == 0
    assert res.events.insurance_delta[0] == pytest.approx(-0.4)
    assert res.events.bad_debt[0] == pytest.approx(0.6)
    assert res.insurance_fund_after == 0.0
    assert res.ledger_entries().balance("venue") == pytest.approx(-0.6)


def test_adl_with_no_profitable_counterparty_becomes_bad_debt():
    res = liquidate(short_100(), 109.0, book([(111.0, 10.0)]), 0.4, LiquidationConfig(venue=VENUE))
    assert res.adl.n == 0
    assert res.events.qty_filled[0] == pytest.approx(1.0)
    assert res.total_bad_debt == pytest.approx(0.6)
    assert res.insurance_fund_after == 0.0


def test_fund_pays_nothing_when_empty_and_adl_takes_everything():
    pos, bk = adl_setup()
    res = liquidate(pos, 109.0, bk, 0.0, LiquidationConfig(venue=VENUE))
    assert res.events.qty_filled[0] == 0.0
    assert res.events.qty_adl[0] == pytest.approx(1.0)
    assert res.buy_fill is None and res.book_after == bk
    assert res.insurance_fund_after == 0.0


def hl_long(margin: float = 10_000.0) -> Positions:
    # 10 coins at 20,000 with 20x margin: bankruptcy 19,000; at 1% MM liquidated below 19,191.92
    return Positions(side=1, size=10.0, entry_price=20_000.0, margin=margin)


HL_BOOK = OrderBook.from_levels(
    bids=[(19_150.0, 1.0), (19_100.0, 5.0), (19_000.0, 20.0)], asks=[(19_160.0, 5.0)]
)


def test_partial_clip_of_a_large_position_hyperliquid_style():
    cfg = LiquidationConfig(
        venue=VENUE,
        liquidation_fee_rate=0.0,
        partial_fraction=0.2,
        partial_threshold_notional=100_000.0,
        surplus_to="trader",
    )
    res = liquidate(hl_long(), 19_150.0, HL_BOOK, 0.0, cfg)
    ev = res.events
    assert ev.partial.tolist() == [True]
    assert ev.clip[0] == pytest.approx(2.0)
    # sells 1 @ 19,150 + 1 @ 19,100 = 38,250; 250 above bankruptcy, kept by the trader
    assert ev.fill_notional[0] == pytest.approx(38_250.0)
    assert res.forced_sell_qty == pytest.approx(2.0)
    assert ev.trader_credit[0] == pytest.approx(250.0)
    assert ev.insurance_delta[0] == 0.0
    assert res.remaining_size[0] == pytest.approx(8.0)
    assert res.remaining_margin[0] == pytest.approx(8_000.0 + 250.0)
    assert res.positions_after.n == 1
    # the same clip with the surplus going to the fund (Binance/Bybit style)
    res_fund = liquidate(
        hl_long(),
        19_150.0,
        HL_BOOK,
        0.0,
        LiquidationConfig(venue=VENUE, liquidation_fee_rate=0.0, partial_fraction=0.2),
    )
    assert res_fund.insurance_fund_after == pytest.approx(250.0)
    assert res_fund.remaining_margin[0] == pytest.approx(8_000.0)


def test_partial_clip_skipped_in_cooldown_and_below_threshold():
    cfg = LiquidationConfig(venue=VENUE, liquidation_fee_rate=0.0, partial_fraction=0.2)
    res = liquidate(hl_long(), 19_150.0, HL_BOOK, 0.0, cfg, cooldown=np.array([True]))
    assert res.events.partial.tolist() == [False]
    assert res.events.clip[0] == 10.0 and res.positions_after.n == 0
    # 1 USD of threshold headroom: notional 191,500 < 200,000 -> full close
    cfg_high = LiquidationConfig(
        venue=VENUE, partial_fraction=0.2, partial_threshold_notional=200_000.0
    )
    res = liquidate(hl_long(), 19_150.0, HL_BOOK, 0.0, cfg_high)
    assert res.events.clip[0] == 10.0


def test_for_venue_presets():
    hl = LiquidationConfig.for_venue(HYPERLIQUID)
    assert hl.partial_fraction == HYPERLIQUID_PARTIAL_FRACTION == 0.2
    assert hl.partial_threshold_notional == 100_000.0
    assert hl.surplus_to == "trader" and hl.liquidation_fee_rate == 0.0
    bn = LiquidationConfig.for_venue(BINANCE)
    assert bn.partial_fraction is None and bn.surplus_to == "insurance_fund"
    assert LiquidationConfig.for_venue(BYBIT, adl=False).adl is False


def test_book_dry_without_adl_leaves_the_rest_open():
    pos = short_100(3.0)  # 3 coins at 100, 30 USD margin, bankruptcy 110
    res = liquidate(
        pos, 109.0, book([(109.5, 1.0)]), 0.0, LiquidationConfig(venue=VENUE, adl=False)
    )
    ev = res.events
    assert ev.qty_filled[0] == pytest.approx(1.0)
    assert ev.qty_unfilled[0] == pytest.approx(2.0)
    assert res.remaining_size[0] == pytest.approx(2.0)
    assert res.remaining_margin[0] == pytest.approx(20.0)  # bankruptcy price still 110
    assert res.unfilled_qty == pytest.approx(2.0)
    assert res.book_after.ask_prices.size == 0
    # the emptied book can be fed straight back: nothing fills, nothing raises
    again = liquidate(
        res.positions_after,
        109.0,
        res.book_after,
        res.insurance_fund_after,
        LiquidationConfig(venue=VENUE, adl=False),
    )
    assert again.events.qty_filled[0] == 0.0 and again.events.qty_unfilled[0] == pytest.approx(2.0)
    assert again.buy_fill is None


def test_book_dry_with_adl_closes_the_rest_at_bankruptcy():
    pos = Positions(side=[-1, 1], size=[3.0, 5.0], entry_price=[100.0, 90.0], margin=[30.0, 50.0])
    res = liquidate(pos, 109.0, book([(109.5, 1.0)]), 0.0, LiquidationConfig(venue=VENUE))
    assert res.events.qty_filled[0] == pytest.approx(1.0)
    assert res.events.qty_adl[0] == pytest.approx(2.0)
    assert res.events.qty_unfilled[0] == 0.0
    assert res.adl.counterparty.tolist() == [1] and res.adl.price[0] == pytest.approx(110.0)
    assert res.remaining_size.tolist() == pytest.approx([0.0, 3.0])


def test_priority_walk_gives_the_first_breached_the_better_prices():
    # two shorts, liquidation prices ~108.9 (index 1) and ~99 (index 0): index 0 first
    pos = Positions(side=[-1, -1], size=1.0, entry_price=[90.0, 100.0], margin=10.0)
    order = liquidation_priority(pos, 109.0, VENUE)
    assert order.tolist() == [0, 1]
    res = liquidate(
        pos,
        109.0,
        book([(109.0, 1.0), (110.0, 1.0)]),
        100.0,
        LiquidationConfig(venue=VENUE, liquidation_fee_rate=0.0),
    )
    assert res.events.index.tolist() == [0, 1]
    assert res.events.fill_vwap.tolist() == pytest.approx([109.0, 110.0])
    # longs: highest liquidation price first
    longs = Positions(side=[1, 1], size=1.0, entry_price=[100.0, 110.0], margin=10.0)
    assert liquidation_priority(longs, 80.0, VENUE).tolist() == [1, 0]


def test_longs_and_shorts_in_one_batch_use_both_sides_of_the_book():
    pos = Positions(side=[-1, 1], size=1.0, entry_price=[60.0, 140.0], margin=5.0)
    res = liquidate(
        pos,
        100.0,
        book([(101.0, 5.0)], bids=[(99.0, 5.0)]),
        10_000.0,
        LiquidationConfig(venue=VENUE),
    )
    assert sorted(res.events.index.tolist()) == [0, 1]
    assert res.forced_buy_qty == 1.0 and res.forced_sell_qty == 1.0
    assert res.book_after.ask_sizes[0] == 4.0 and res.book_after.bid_sizes[0] == 4.0


def test_trigger_is_equity_at_or_below_maintenance():
    # zero MMR: liquidated exactly at the bankruptcy price (equity 0 <= 0), not a cent before
    cfg = LiquidationConfig(venue=ZERO_MM)
    bk = book([(111.0, 10.0)])
    assert liquidate(short_100(), 110.0, bk, 100.0, cfg).n_liquidated == 1
    assert liquidate(short_100(), 109.99, bk, 100.0, cfg).n_liquidated == 0


def test_nothing_to_liquidate_and_empty_positions():
    bk = book([(111.0, 10.0)])
    res = liquidate(short_100(), 100.0, bk, 5.0)
    assert res.n_liquidated == 0 and res.book_after == bk and res.insurance_fund_after == 5.0
    assert res.positions_after == short_100()
    empty = liquidate(Positions.empty(), 100.0, bk, 0.0)
    assert empty.n_liquidated == 0 and empty.positions_after.n == 0
    assert empty.ledger_entries().n_postings == 0
    assert empty.totals()["n_liquidated"] == 0.0


def test_result_is_pure_and_repeatable():
    pos, bk = adl_setup()
    a = liquidate(pos, 109.0, bk, 0.4, LiquidationConfig(venue=VENUE))
    b = liquidate(pos, 109.0, bk, 0.4, LiquidationConfig(venue=VENUE))
    assert a.positions_after == b.positions_after and a.book_after == b.book_after
    assert np.array_equal(a.events.fill_notional, b.events.fill_notional)
    assert pos == adl_setup()[0]  # input untouched


def test_real_venue_presets_run():
    pos = Positions.from_leverage(side=[1, -1], size=1.0, entry_price=30_000.0, leverage=50.0)
    deep = OrderBook.flat_ladder(mid=29_500.0, tick=1.0, size_per_level=1.0, n_levels=400)
    for venue in (BINANCE, BYBIT, HYPERLIQUID):
        res = liquidate(pos, 29_400.0, deep, 1_000.0, LiquidationConfig.for_venue(venue))
        assert res.events.index.tolist() == [0]  # the 50x long only
        lhs, rhs = money(res)
        assert lhs == pytest.approx(rhs)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("mark", [float("nan"), float("inf"), -1.0, 0.0, [100.0, 101.0], True])
def test_bad_mark_price(mark):
    with pytest.raises(InvalidInputError, match="mark_price"):
        liquidate(short_100(), mark, book([(111.0, 1.0)]), 0.0)


@pytest.mark.parametrize("fund", [float("nan"), float("inf"), -1.0])
def test_bad_insurance_fund(fund):
    with pytest.raises(InvalidInputError, match="insurance_fund"):
        liquidate(short_100(), 100.0, book([(111.0, 1.0)]), fund)


def test_bad_containers_and_masks():
    bk = book([(111.0, 1.0)])
    with pytest.raises(InvalidInputError, match="positions"):
        liquidate([(-1, 1.0, 100.0, 10.0)], 100.0, bk, 0.0)
    with pytest.raises(InvalidInputError, match="book"):
        liquidate(short_100(), 100.0, {"asks": []}, 0.0)
    with pytest.raises(InvalidInputError, match="config"):
        liquidate(short_100(), 100.0, bk, 0.0, config=VENUE)
    with pytest.raises(InvalidInputError, match="cooldown"):
        liquidate(short_100(), 100.0, bk, 0.0, cooldown=np.array([True, False]))
    with pytest.raises(InvalidInputError, match="cooldown"):
        liquidate(short_100(), 100.0, bk, 0.0, cooldown=np.array([1]))
    with pytest.raises(InvalidSideError):
        adl_ranking(short_100(), 100.0, side="up")
    with pytest.raises(InvalidSideError):
        adl_ranking(short_100(), 100.0, side=0)
    with pytest.raises(InvalidInputError, match="mark_price"):
        adl_ranking(short_100(), float("nan"))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"venue": "binance"}, "venue"),
        ({"liquidation_fee_rate": 1.0}, "liquidation_fee_rate"),
        ({"liquidation_fee_rate": -0.01}, "liquidation_fee_rate"),
        ({"liquidation_fee_rate": float("nan")}, "liquidation_fee_rate"),
        ({"partial_fraction": 0.0}, "partial_fraction"),
        ({"partial_fraction": 1.5}, "partial_fraction"),
        ({"partial_threshold_notional": -1.0}, "partial_threshold_notional"),
        ({"adl": "yes"}, "adl"),
        ({"surplus_to": "venue"}, "surplus_to"),
    ],
)
def test_bad_config(kwargs, name):
    with pytest.raises(InvalidInputError, match=name) as err:
        LiquidationConfig(**kwargs)
    assert isinstance(err.value, (PerpsbookError, ValueError))


# --------------------------------------------------------------------------- properties


@st.composite
def scenarios(draw):
    """Up to 10 positions with entries within 30 USD of the mark and a flat ladder whose mid
    is off the mark by up to 5 USD; dyadic numbers keep mirrored arithmetic exact."""
    n = draw(st.integers(1, 10))
    mark = draw(st.integers(280, 520).map(lambda k: k / 4.0))
    side = draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    size = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 4.0]), min_size=n, max_size=n))
    offsets = st.lists(st.integers(-120, 120), min_size=n, max_size=n)
    entry = mark + np.array(draw(offsets)) / 4.0
    # equity per coin at the mark ("cushion") from -10 to +15 USD: liquidated ones land on
    # both sides of their bankruptcy price
    cushion = np.array(draw(st.lists(st.integers(-40, 60), min_size=n, max_size=n))) / 4.0
    margin = np.maximum(np.array(size) * (np.array(side) * (entry - mark) + cushion), 0.25)
    pos = Positions(side=side, size=size, entry_price=entry, margin=margin)
    mid = mark + draw(st.integers(-20, 20)) / 4.0
    n_levels = draw(st.integers(1, 8))
    level_size = draw(st.sampled_from([0.25, 0.5, 1.0, 3.0]))
    tick = draw(st.sampled_from([0.25, 0.5, 1.0]))
    bk = OrderBook.flat_ladder(mid=mid, tick=tick, size_per_level=level_size, n_levels=n_levels)
    fund = draw(st.integers(0, 200).map(lambda k: k / 4.0))
    return pos, mark, bk, fund


@st.composite
def configs(draw):
    return LiquidationConfig(
        venue=draw(st.sampled_from([VENUE, WIDE])),
        liquidation_fee_rate=draw(st.sampled_from([0.0, 0.005, 0.02])),
        partial_fraction=draw(st.sampled_from([None, 0.2, 0.5])),
        partial_threshold_notional=draw(st.sampled_from([0.0, 150.0])),
        adl=draw(st.booleans()),
        surplus_to=draw(st.sampled_from(["insurance_fund", "trader"])),
    )


@settings(max_examples=120)
@given(scenarios(), configs())
def test_property_every_dollar_and_coin_is_accounted(scn, cfg):
    pos, mark, bk, fund = scn
    res = liquidate(pos, mark, bk, fund, cfg)
    ev = res.events
    lhs, rhs = money(res)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)
    assert res.insurance_fund_after >= 0.0
    assert res.insurance_fund_after - fund == pytest.approx(ev.insurance_delta.sum(), abs=1e-9)
    # coins: clip = book + ADL + left open; book fills match the aggregated orders
    np.testing.assert_allclose(ev.qty_filled + ev.qty_adl + ev.qty_unfilled, ev.clip, atol=1e-9)
    assert res.forced_buy_qty == pytest.approx(ev.qty_filled[ev.side < 0].sum(), abs=1e-9)
    assert res.forced_sell_qty == pytest.approx(ev.qty_filled[ev.side > 0].sum(), abs=1e-9)
    assert res.adl_qty == pytest.approx(ev.qty_adl.sum(), abs=1e-9)
    np.testing.assert_allclose(res.remaining_size[ev.index], ev.size - ev.qty_closed, atol=1e-9)
    assert np.all(res.remaining_size >= 0) and np.all(res.remaining_margin >= 0)
    # ledger: zero-sum, and each party's balances match the event records
    led = res.ledger_entries()
    imb = led.imbalance()
    assert abs(imb["USD"]) <= 1e-9 * max(led.gross_usd(), 1.0) and abs(imb["perp"]) <= 1e-9
    assert led.balance("insurance_fund") == pytest.approx(res.insurance_fund_delta, abs=1e-9)
    assert led.balance("venue_fees") == pytest.approx(res.total_fee, abs=1e-9)
    assert led.balance("venue") == pytest.approx(-res.total_bad_debt, abs=1e-9)
    for k in range(ev.n):
        name = f"trader:{ev.index[k]}"
        usd, perp = led.balance(name), led.balance(name, "perp")
        closed = ev.qty_closed[k]
        assert perp == pytest.approx(-ev.side[k] * closed, abs=1e-9)
        given_back = usd + ev.margin_released[k] - ev.side[k] * closed * ev.entry_price[k]
        assert given_back == pytest.approx(ev.trader_credit[k], abs=1e-7)


@settings(max_examples=120)
@given(scenarios(), configs())
def test_property_liquidated_iff_equity_at_or_below_maintenance(scn, cfg):
    pos, mark, bk, fund = scn
    res = liquidate(pos, mark, bk, fund, cfg)
    equity = pos.margin + pos.side * pos.size * (mark - pos.entry_price)
    mmr = float(cfg.venue.schedule.mmr[0])  # one-bracket schedules
    expected = np.flatnonzero(equity <= mmr * pos.size * mark)
    assert sorted(res.events.index.tolist()) == expected.tolist()
    untouched = np.setdiff1d(np.arange(pos.n), np.concatenate([expected, res.adl.counterparty]))
    assert np.array_equal(res.remaining_size[untouched], pos.size[untouched])


@settings(max_examples=120)
@given(scenarios(), configs())
def test_property_adl_never_touches_losing_positions(scn, cfg):
    pos, mark, bk, fund = scn
    res = liquidate(pos, mark, bk, fund, cfg)
    adl = res.adl
    if not cfg.adl:
        assert adl.n == 0
    upnl = pos.upnl(mark)
    assert np.all(upnl[adl.counterparty] > 0)
    assert np.all(pos.side[adl.counterparty] == -pos.side[adl.index])
    assert not np.isin(adl.counterparty, res.events.index).any()
    taken = np.bincount(adl.counterparty, weights=adl.qty, minlength=pos.n)
    assert np.all(taken <= pos.size * (1 + 1e-12))
    assert np.all(adl.qty > 0)
    np.testing.assert_allclose(adl.price, res.events.bankruptcy_price[adl.event])


@settings(max_examples=100)
@given(scenarios())
def test_property_long_short_mirror_symmetry(scn):
    # Mirror every price around 100 and flip every side: with zero MMR and no fee (both
    # scale with the notional, which mirroring changes) the batch is the mirror image.
    pos, mark, bk, fund = scn
    pivot = 100.0
    mirrored = Positions(
        side=-pos.side, size=pos.size, entry_price=2 * pivot - pos.entry_price, margin=pos.margin
    )
    cfg = LiquidationConfig(venue=ZERO_MM, adl=False)
    a = liquidate(pos, mark, bk, fund, cfg)
    b = liquidate(mirrored, 2 * pivot - mark, bk.mirrored(pivot), fund, cfg)
    ea, eb = a.events, b.events
    assert ea.index.tolist() == eb.index.tolist()
    assert np.array_equal(ea.side, -eb.side)
    np.testing.assert_allclose(ea.qty_filled, eb.qty_filled, atol=1e-12)
    np.testing.assert_allclose(ea.qty_unfilled, eb.qty_unfilled, atol=1e-12)
    np.testing.assert_allclose(
        ea.fill_notional, 2 * pivot * eb.qty_filled - eb.fill_notional, atol=1e-9
    )
    np.testing.assert_allclose(ea.bankruptcy_price, 2 * pivot - eb.bankruptcy_price, atol=1e-9)
    np.testing.assert_allclose(ea.insurance_delta, eb.insurance_delta, atol=1e-9)
    np.testing.assert_allclose(ea.bad_debt, eb.bad_debt, atol=1e-9)
    assert a.insurance_fund_after == pytest.approx(b.insurance_fund_after, abs=1e-9)
    assert a.forced_buy_qty == pytest.approx(b.forced_sell_qty)
    assert a.forced_sell_qty == pytest.approx(b.forced_buy_qty)
    np.testing.assert_allclose(a.remaining_size, b.remaining_size, atol=1e-12)


def walk_fund(bk: OrderBook, ev, book_qty, fund0: float, cfg: LiquidationConfig):
    """Fund (USD) and per-event deficits if the events put ``book_qty`` coins in the book.

    Written from the module's rules, independently of the engine: each side's order walks
    the book in event order, a slice costs the difference of ``cost_curve`` at its ends.
    """
    usd = np.zeros_like(book_qty)
    for s in (-1, 1):
        sel = ev.side == s
        if book_qty[sel].sum() > 0:
            usd[sel] = np.diff(bk.cost_curve(-s, np.cumsum(book_qty[sel])), prepend=0.0)
    left = ev.side * (usd - book_qty * ev.bankruptcy_price)
    fee = np.minimum(cfg.liquidation_fee_rate * usd, np.maximum(left, 0.0))
    surplus = (np.maximum(left, 0.0) - fee).sum() if cfg.surplus_to == "insurance_fund" else 0.0
    deficit = np.maximum(-left, 0.0)
    return fund0 + surplus - deficit.sum(), deficit


@st.composite
def gap_batches(draw):
    """1-6 shorts past their liquidation price and a thin ask ladder that may gap through
    their bankruptcy prices (never dry), a big profitable long to deleverage and a losing
    one; mirrored into longs and bids half of the time."""
    k = draw(st.integers(1, 6))
    mark = 100.0
    size = np.array(draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=k, max_size=k)))
    # off-grid bankruptcy prices from 94 to 101 (<= 1.01 x mark: all liquidatable at 1 % MMR)
    bank = 94.0 + np.array(draw(st.lists(st.integers(0, 699), min_size=k, max_size=k))) / 100.0
    bank += 0.0031
    gap = np.array(draw(st.lists(st.integers(1, 10), min_size=k, max_size=k)), dtype=float)
    pos = Positions(
        side=np.r_[-np.ones(k), 1.0, 1.0],
        size=np.r_[size, 1_000.0, 1.0],
        entry_price=np.r_[bank - gap, 50.0, 150.0],
        margin=np.r_[size * gap, 50_000.0, 100.0],
    )
    tick = draw(st.sampled_from([0.25, 0.5, 1.0]))
    level = draw(st.sampled_from([0.25, 0.5, 1.0, 3.0]))
    n_levels = int(np.ceil(size.sum() / level)) + draw(st.integers(0, 5))
    mid = mark + draw(st.integers(-8, 12)) / 4.0
    bk = OrderBook.flat_ladder(mid=mid, tick=tick, size_per_level=level, n_levels=n_levels)
    if draw(st.booleans()):
        pos = Positions(
            side=-pos.side, size=pos.size, entry_price=200.0 - pos.entry_price, margin=pos.margin
        )
        bk = bk.mirrored(mark)
    fund = draw(st.integers(0, 300)) * 0.37
    cfg = LiquidationConfig(
        venue=VENUE,
        liquidation_fee_rate=draw(st.sampled_from([0.0, 0.005, 0.02])),
        surplus_to=draw(st.sampled_from(["insurance_fund", "trader"])),
    )
    return pos, mark, bk, fund, cfg


@settings(max_examples=150)
@given(gap_batches())
def test_property_adl_is_the_smallest_quantity_that_keeps_the_fund_nonnegative(batch):
    pos, mark, bk, fund, cfg = batch
    res = liquidate(pos, mark, bk, fund, cfg)
    ev = res.events
    assert ev.n == pos.n - 2 and res.unfilled_qty == 0.0 and res.total_bad_debt == 0.0
    notional = float((ev.clip * mark).sum())
    all_in, deficit_all_in = walk_fund(bk, ev, ev.clip, fund, cfg)
    after, _ = walk_fund(bk, ev, ev.qty_filled, fund, cfg)
    assert after == pytest.approx(res.insurance_fund_after, abs=1e-9 * notional)
    np.testing.assert_allclose(ev.qty_filled + ev.qty_adl, ev.clip, rtol=1e-12)
    if res.adl.n == 0:
        # ADL only when needed: the fund could pay the whole walk
        assert all_in >= 0.0 and res.insurance_fund_after == pytest.approx(all_in, abs=1e-9)
        return
    assert all_in < 0.0
    # the fund ends at zero, to the solver's tolerance, never below
    assert 0.0 <= res.insurance_fund_after <= 1e-9 * notional
    # ADL takes bankrupt positions in priority order: a prefix emptied, then one partly
    bankrupt = np.flatnonzero(deficit_all_in > 0)
    took = np.flatnonzero(ev.qty_adl > 0)
    assert np.isin(took, bankrupt).all()
    frontier = took[-1]
    before = bankrupt[bankrupt < frontier]
    np.testing.assert_allclose(ev.qty_adl[before], ev.clip[before], rtol=1e-12)
    # and it is minimal: eps coins less of ADL and the fund would be negative
    eps = 1e-7 * float(ev.clip.sum())
    less = ev.qty_filled.copy()
    less[frontier] += eps
    assert walk_fund(bk, ev, less, fund, cfg)[0] < 0.0
    # the counterparty is the profitable long (short), at the bankruptcy prices
    assert set(res.adl.counterparty.tolist()) == {pos.n - 2}
    np.testing.assert_array_equal(res.adl.price, ev.bankruptcy_price[res.adl.event])
    lhs, rhs = money(res)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-9)


@settings(max_examples=120)
@given(scenarios(), configs())
def test_property_bad_debt_only_when_adl_is_off_or_exhausted(scn, cfg):
    pos, mark, bk, fund = scn
    res = liquidate(pos, mark, bk, fund, cfg)
    if res.total_bad_debt <= 1e-9:
        return
    assert res.insurance_fund_after == 0.0
    if not cfg.adl:
        return
    # some liquidated side used up every eligible counterparty
    exhausted = []
    for s in np.unique(res.events.side):
        queue, _ = adl_ranking(
            pos, mark, side=-s, exclude=np.isin(np.arange(pos.n), res.events.index)
        )
        taken = res.adl.qty[res.adl.side == -s].sum()
        exhausted.append(taken >= pos.size[queue].sum() * (1 - 1e-9))
    assert any(exhausted)


def test_liquidation_priority_names_a_wrong_venue_and_ragged_marks():
    pos = Positions.from_leverage([1, -1], [1.0, 2.0], [10.0, 10.0], [5, 10])
    for venue in (None, "binance", BINANCE.schedule, 3.0):
        with pytest.raises(InvalidInputError, match=r"venue must be a perpsbook\.margin\.Venue"):
            liquidation_priority(pos, 11.0, venue)
    with pytest.raises(InvalidInputError, match="mark_price must be a single real number"):
        liquidation_priority(pos, [[1.0], [2.0, 3.0]])
    book = OrderBook.flat_ladder(10.0, 0.01, 100.0, 200)
    with pytest.raises(InvalidInputError, match="insurance_fund must be a single real number"):
        liquidate(pos, 11.0, book, [[1.0], [2.0, 3.0]])
    with pytest.raises(InvalidInputError, match="liquidation_fee_rate"):
        LiquidationConfig(BINANCE, liquidation_fee_rate=[0.01, 0.02])
