"""Tests for perpsbook.funding.

Numbers marked PUBLISHED come from Binance's "Introduction to Binance Futures Funding Rates"
(https://www.binance.com/en/support/faq/360033525031) as quoted verbatim in public notes,
and from live ``/fapi/v1/fundingInfo`` caps reported there; everything else is HAND-DERIVED
from the formulas, with the arithmetic in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbook.errors import (
    BookError,
    InsufficientLiquidityError,
    InvalidInputError,
    InvalidSideError,
    PerpsbookError,
)
from perpsbook.funding import (
    CAP_MULTIPLIER,
    DEFAULT_FUNDING_CAP,
    IMPACT_MARGIN_USDT,
    INTEREST_RATE_8H,
    OTHERS_FUNDING_CAP,
    PREMIUM_CLAMP,
    PREMIUM_SAMPLES_8H,
    BasisTradeResult,
    annualised,
    average_premium,
    basis_trade_pnl,
    free_float,
    funding_cap_from_mmr,
    funding_payment,
    funding_payments,
    funding_rate,
    impact_margin_notional,
    impact_price,
    impact_prices,
    impact_prices_from_book,
    locked_spot,
    premium_index,
)

BAD_NUMBERS = [math.nan, math.inf, -math.inf]
prices_st = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
sizes_st = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)
rates_st = st.floats(min_value=-0.05, max_value=0.05, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------- constants


def test_binance_constants():
    # PUBLISHED: 200 USDT impact margin, 0.01 % interest per 8 h, ±0.05 % dampener,
    # 5-second premium samples (5,760 per 8 h), cap 0.75 x MMR, ±2 % for the others.
    assert IMPACT_MARGIN_USDT == 200.0
    assert INTEREST_RATE_8H == 0.0001
    assert PREMIUM_CLAMP == 0.0005
    assert PREMIUM_SAMPLES_8H == 8 * 3600 // 5
    assert CAP_MULTIPLIER == 0.75
    assert OTHERS_FUNDING_CAP == 0.02
    assert DEFAULT_FUNDING_CAP == 0.0075  # 0.75 x a 1 % MMR


# --------------------------------------------------------------------------- IMN & caps


def test_impact_margin_notional_published_examples():
    # PUBLISHED: BTCUSDT, 125x, IMR 0.8 % -> IMN = 200 / 0.8 % = 25,000 USDT.
    assert impact_margin_notional(0.008) == pytest.approx(25_000.0, rel=1e-12)
    # PUBLISHED (older FAQ text): BNBUSDT, 20x, IMR 5 % -> 4,000 USDT.
    assert impact_margin_notional(0.05) == pytest.approx(4_000.0, rel=1e-12)
    np.testing.assert_allclose(
        impact_margin_notional(np.array([1 / 125, 1 / 20, 1 / 75])),
        [25_000.0, 4_000.0, 15_000.0],
        rtol=1e-12,
    )
    # HAND-DERIVED: Orderly-style 1,000 USD of margin at 10x -> 10,000 USD.
    assert impact_margin_notional(0.1, impact_margin=1000.0) == pytest.approx(10_000.0)


def test_funding_cap_from_mmr_published_examples():
    # PUBLISHED: BTCUSDT MMR 0.40 % at max leverage -> cap ±0.300 % (live fundingInfo).
    assert funding_cap_from_mmr(0.004) == pytest.approx(0.003, rel=1e-12)
    # PUBLISHED: ADAUSDT at 75x has IMR 1.3 %, MMR 0.65 % -> cap 0.4875 %
    # (DOGE's live cap ±0.4875 % is the same number).
    assert funding_cap_from_mmr(0.0065) == pytest.approx(0.004875, rel=1e-12)
    # PUBLISHED: SOLUSDT's multiplier raised from 0.75 to 1 in November 2022.
    assert funding_cap_from_mmr(0.02, multiplier=1.0) == pytest.approx(0.02)


@pytest.mark.parametrize("bad", [*BAD_NUMBERS, 0.0, -0.01, 1.5])
def test_impact_margin_notional_and_cap_reject_bad_rates(bad):
    with pytest.raises(InvalidInputError):
        impact_margin_notional(bad)
    with pytest.raises(InvalidInputError):
        funding_cap_from_mmr(bad)


def test_impact_margin_notional_rejects_bad_margin():
    with pytest.raises(InvalidInputError, match="impact_margin"):
        impact_margin_notional(0.01, impact_margin=-200.0)
    with pytest.raises(InvalidInputError, match="multiplier"):
        funding_cap_from_mmr(0.01, multiplier=0.0)


# --------------------------------------------------------------------------- impact prices


def test_impact_price_hand_example_asks():
    # HAND-DERIVED: asks 1 @ 100, 2 @ 101, 5 @ 102. Buying 250 USD takes level 1 (100 USD,
    # 1 coin) and 150 USD of level 2 (150/101 coins): average = 250 / (1 + 150/101)
    # = 25250 / 251 = 100.5976...
    p = impact_price([100.0, 101.0, 102.0], [1.0, 2.0, 5.0], 250.0)
    assert p == pytest.approx(25250.0 / 251.0, rel=1e-14)
    # Exactly the first level's notional fills at the first price.
    assert impact_price([100.0, 101.0, 102.0], [1.0, 2.0, 5.0], 100.0) == pytest.approx(100.0)


def test_impact_price_hand_example_bids_and_vector():
    # HAND-DERIVED: bids 2 @ 50, 3 @ 49. Selling 150 USD: 100 USD at 50 (2 coins) + 50 USD
    # at 49 (50/49 coins): average = 150 / (2 + 50/49) = 7350 / 148 = 49.662...
    out = impact_price([50.0, 49.0], [2.0, 3.0], [50.0, 150.0, 247.0])
    np.testing.assert_allclose(out, [50.0, 7350.0 / 148.0, 247.0 / 5.0], rtol=1e-14)
    assert out.shape == (3,)


def test_impact_prices_both_sides():
    bid, ask = impact_prices([99.0, 98.0], [1.0, 10.0], [101.0, 102.0], [1.0, 10.0], 500.0)
    # HAND-DERIVED: bid: 99 + 401 USD at 98 -> 500 / (1 + 401/98); ask: 101 + 399 at 102.
    assert bid == pytest.approx(500.0 / (1 + 401.0 / 98.0), rel=1e-14)
    assert ask == pytest.approx(500.0 / (1 + 399.0 / 102.0), rel=1e-14)
    assert bid < 99.0 < 101.0 < ask


def test_impact_prices_from_book_matches_arrays_and_book_fills():
    from perpsbook.book import OrderBook

    book = OrderBook.from_levels(
        bids=[(99.0, 1.0), (98.5, 4.0), (98.0, 10.0)],
        asks=[(101.0, 1.0), (101.5, 4.0), (102.0, 10.0)],
    )
    notional = np.array([50.0, 400.0, 1000.0])
    bid, ask = impact_prices_from_book(book, notional)
    ref_bid, ref_ask = impact_prices(
        book.bid_prices, book.bid_sizes, book.ask_prices, book.ask_sizes, notional
    )
    np.testing.assert_array_equal(bid, ref_bid)
    np.testing.assert_array_equal(ask, ref_ask)
    # HAND-DERIVED: 400 USD of asks = 101 + 299 USD at 101.5.
    assert ask[1] == pytest.approx(400.0 / (1 + 299.0 / 101.5), rel=1e-14)
    # The book's own by-notional market orders agree on the average price.
    for usd, a, b in zip(notional, ask, bid, strict=True):
        assert book.buy_notional(usd).vwap == pytest.approx(a, rel=1e-12)
        assert book.sell_notional(usd).vwap == pytest.approx(b, rel=1e-12)


def test_impact_prices_from_book_rejects_non_books():
    with pytest.raises(InvalidInputError, match="bid_prices"):
        impact_prices_from_book(object(), 100.0)


def test_impact_price_insufficient_liquidity():
    with pytest.raises(InsufficientLiquidityError) as info:
        impact_price([100.0, 101.0], [1.0, 1.0], 202.0)
    assert info.value.requested == 202.0
    assert info.value.available == 201.0
    assert info.value.unit == "USD"
    with pytest.raises(InsufficientLiquidityError):
        impact_prices([99.0], [1.0], [101.0], [100.0], 100.0)  # bids hold only 99 USD
    with pytest.raises(InsufficientLiquidityError):
        impact_price([], [], 10.0)  # a side consumed to nothing
    with pytest.raises(InsufficientLiquidityError):
        impact_prices([], [], [101.0], [100.0], 10.0)


@pytest.mark.parametrize(
    ("prices", "sizes", "notional"),
    [
        ([100.0, 99.0, 101.0], [1.0, 1.0, 1.0], 10.0),  # not monotonic
        ([100.0, 100.0], [1.0, 1.0], 10.0),  # repeated level
        ([100.0, math.nan], [1.0, 1.0], 10.0),
        ([100.0, 101.0], [1.0, math.inf], 10.0),
        ([100.0, 101.0], [1.0, -1.0], 10.0),
        ([100.0, 101.0], [1.0, 0.0], 10.0),
        ([-100.0, 101.0], [1.0, 1.0], 10.0),
        ([100.0, 101.0], [1.0], 10.0),  # shape mismatch
        ([100.0], [1.0], math.nan),
        ([100.0], [1.0], -5.0),
        ([100.0], [1.0], 0.0),
        ([100.0], [1.0], math.inf),
    ],
)
def test_impact_price_rejects_bad_input(prices, sizes, notional):
    with pytest.raises(InvalidInputError):
        impact_price(prices, sizes, notional)


def test_impact_prices_rejects_unsorted_or_crossed():
    with pytest.raises(BookError, match="descending"):
        impact_prices([98.0, 99.0], [1.0, 1.0], [101.0], [1.0], 10.0)
    with pytest.raises(BookError, match="ascending"):
        impact_prices([99.0], [1.0], [102.0, 101.0], [1.0, 1.0], 10.0)
    with pytest.raises(BookError, match="crossed"):
        impact_prices([101.0], [1.0], [101.0], [1.0], 10.0)


@given(
    base=prices_st,
    steps=st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=8),
    sizes=st.lists(sizes_st, min_size=9, max_size=9),
    frac=st.floats(1e-6, 1.0),
)
def test_impact_price_properties(base, steps, sizes, frac):
    asks = base + np.concatenate([[0.0], np.cumsum(steps)])
    qty = np.asarray(sizes[: len(asks)])
    total = float(np.sum(asks * qty))
    usd = frac * total
    p = impact_price(asks, qty, usd)
    # The average lies between the best price and the last level touched.
    assert asks[0] * (1 - 1e-12) <= p <= asks[-1] * (1 + 1e-12)
    # Reference: walk the levels one by one.
    left, coins = usd, 0.0
    for price, size in zip(asks, qty, strict=True):
        take = min(left, price * size)
        coins += take / price
        left -= take
        if left <= 0:
            break
    assert p == pytest.approx(usd / coins, rel=1e-9)
    # Bigger orders never get a better average: asks rise, bids (mirror) fall.
    assert impact_price(asks, qty, [usd / 2, usd])[0] <= p * (1 + 1e-12)
    bids = asks[::-1]
    pb = impact_price(bids, qty[::-1], [usd / 2, usd])
    assert pb[0] * (1 + 1e-12) >= pb[1]


# --------------------------------------------------------------------------- premium index


def test_premium_index_hand_examples():
    # HAND-DERIVED, index 100:
    # impact bid 100.2 above the index -> +0.2 / 100 = +0.2 %.
    assert premium_index(100.2, 100.3, 100.0) == pytest.approx(0.002, rel=1e-12)
    # impact ask 99.8 below the index -> -(100 - 99.8) / 100 = -0.2 %.
    assert premium_index(99.7, 99.8, 100.0) == pytest.approx(-0.002, rel=1e-12)
    # index between the impact prices -> 0 (a spread around the index is no premium).
    assert premium_index(99.9, 100.1, 100.0) == 0.0
    out = premium_index(np.array([100.2, 99.7, 99.9]), np.array([100.3, 99.8, 100.1]), 100.0)
    np.testing.assert_allclose(out, [0.002, -0.002, 0.0], atol=1e-15)


@given(index=prices_st, lo=st.floats(-0.2, 0.2), width=st.floats(0.0, 0.1))
def test_premium_index_sign_and_band(index, lo, width):
    bid = index * (1 + lo)
    ask = bid * (1 + width)
    p = premium_index(bid, ask, index)
    if bid > index:
        assert p == pytest.approx((bid - index) / index) and p > 0
    elif ask < index:
        assert p == pytest.approx(-(index - ask) / index) and p < 0
    else:
        assert p == 0.0


@pytest.mark.parametrize("bad", [*BAD_NUMBERS, 0.0, -1.0])
def test_premium_index_rejects_bad_prices(bad):
    for args in ((bad, 101.0, 100.0), (99.0, bad, 100.0), (99.0, 101.0, bad)):
        with pytest.raises(InvalidInputError):
            premium_index(*args)


def test_premium_index_rejects_crossed_impact_prices():
    with pytest.raises(InvalidInputError, match="impact_bid must be <= impact_ask"):
        premium_index(101.0, 100.0, 100.0)


# --------------------------------------------------------------------------- average premium


def test_average_premium_time_weighted_hand_example():
    # HAND-DERIVED from the published weights 1..n:
    # (1 x 0.001 + 2 x 0.002 + 3 x 0.003) / (1 + 2 + 3) = 0.014 / 6.
    assert average_premium([0.001, 0.002, 0.003]) == pytest.approx(0.014 / 6, rel=1e-14)
    # Equal weights (Binance's 1-hour symbols) give the plain mean.
    assert average_premium([0.001, 0.002, 0.003], np.ones(3)) == pytest.approx(0.002)
    # Late samples dominate: a spike at the end moves the average more than at the start.
    early = average_premium([0.01, 0.0, 0.0, 0.0])
    late = average_premium([0.0, 0.0, 0.0, 0.01])
    assert early == pytest.approx(0.001) and late == pytest.approx(0.004)


def test_average_premium_full_interval_and_rows():
    # 5,760 samples of a constant premium average to that constant.
    assert average_premium(np.full(PREMIUM_SAMPLES_8H, 3e-4)) == pytest.approx(3e-4)
    rows = np.array([[0.001, 0.002, 0.003], [0.0, 0.0, 0.006]])
    np.testing.assert_allclose(average_premium(rows), [0.014 / 6, 0.003], rtol=1e-14)


@given(
    p=st.lists(rates_st, min_size=1, max_size=50),
    scale=st.floats(1e-3, 1e3),
)
def test_average_premium_properties(p, scale):
    avg = average_premium(p)
    assert min(p) - 1e-15 <= avg <= max(p) + 1e-15
    w = np.arange(1, len(p) + 1, dtype=float)
    assert average_premium(p, w * scale) == pytest.approx(avg, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("premiums", "weights", "match"),
    [
        ([], None, "at least one"),
        ([0.001, math.nan], None, "premiums"),
        ([0.001, math.inf], None, "premiums"),
        ([0.001, 0.002], [1.0], "shape"),
        ([0.001, 0.002], [0.0, 0.0], "positive sum"),
        ([0.001, 0.002], [1.0, -1.0], "weights"),
        ([0.001, 0.002], [1.0, math.nan], "weights"),
    ],
)
def test_average_premium_rejects_bad_input(premiums, weights, match):
    with pytest.raises(InvalidInputError, match=match):
        average_premium(premiums, weights)


# --------------------------------------------------------------------------- funding rate


def test_funding_rate_published_band():
    # PUBLISHED: "as long as the premium index is between -0.04 % to 0.06 %, the funding
    # rate will equal 0.01 %" — exactly, at both edges and inside.
    band = np.linspace(-0.0004, 0.0006, 101)
    np.testing.assert_array_equal(funding_rate(band), np.full(101, 0.0001))
    assert funding_rate(0.0006) == 0.0001
    assert funding_rate(-0.0004) == 0.0001


def test_funding_rate_hand_examples():
    # HAND-DERIVED: P = 0.2 % -> 0.2 % + clamp(0.01 % - 0.2 %) = 0.2 % - 0.05 % = 0.15 %.
    assert funding_rate(0.002) == pytest.approx(0.0015, rel=1e-12)
    # P = -0.3 % -> -0.3 % + 0.05 % = -0.25 %.
    assert funding_rate(-0.003) == pytest.approx(-0.0025, rel=1e-12)
    # Just outside the band the rate leaves the plateau continuously.
    assert funding_rate(0.0007) == pytest.approx(0.0002, rel=1e-9)
    assert funding_rate(-0.0005) == pytest.approx(0.0, abs=1e-15)
    # Zero interest (e.g. ETHBTC) with zero premium -> zero funding.
    assert funding_rate(0.0, interest_rate=0.0) == 0.0


def test_funding_rate_cap_floor():
    # HAND-DERIVED: P = 2 % -> uncapped 1.95 %, capped at the default 0.75 %.
    assert funding_rate(0.02, cap=np.inf) == pytest.approx(0.0195)
    assert funding_rate(0.02) == DEFAULT_FUNDING_CAP
    assert funding_rate(-0.02) == -DEFAULT_FUNDING_CAP
    # PUBLISHED BTC cap ±0.3 % (= 0.75 x 0.4 % MMR) binds at a 1 % premium.
    btc_cap = funding_cap_from_mmr(0.004)
    assert funding_rate(0.01, cap=btc_cap) == pytest.approx(0.003)
    assert funding_rate(-0.01, cap=btc_cap) == pytest.approx(-0.003)
    # An asymmetric floor.
    assert funding_rate(-0.02, cap=0.02, floor=-0.001) == -0.001
    assert funding_rate(-0.0005, cap=0.02, floor=-0.001) == pytest.approx(0.0, abs=1e-15)


def test_funding_rate_interval_scaling():
    # PUBLISHED (2025-09-18 update): F = [P + clamp(I - P)] / (8 / N).
    # HAND-DERIVED: P = 0.2 %, N = 4 h -> 0.15 % / 2 = 0.075 %; N = 1 h -> 0.15 % / 8.
    assert funding_rate(0.002, interval_hours=4) == pytest.approx(0.00075)
    assert funding_rate(0.002, interval_hours=1) == pytest.approx(0.0015 / 8)
    assert funding_rate(0.0, interval_hours=4) == pytest.approx(0.00005)


@given(p1=rates_st, p2=rates_st)
def test_funding_rate_monotone_and_clamped(p1, p2):
    lo, hi = sorted((p1, p2))
    f_lo, f_hi = funding_rate(lo), funding_rate(hi)
    assert f_lo <= f_hi
    for p, f in ((lo, f_lo), (hi, f_hi)):
        assert -DEFAULT_FUNDING_CAP <= f <= DEFAULT_FUNDING_CAP
        uncapped = funding_rate(p, cap=np.inf)
        # Distance from the premium is at most the clamp.
        assert abs(uncapped - p) <= PREMIUM_CLAMP + 1e-15
        if abs(INTEREST_RATE_8H - p) <= PREMIUM_CLAMP:
            assert uncapped == INTEREST_RATE_8H
        else:
            assert uncapped == pytest.approx(p - math.copysign(PREMIUM_CLAMP, p - 1e-4))
        assert f == min(max(uncapped, -DEFAULT_FUNDING_CAP), DEFAULT_FUNDING_CAP)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"premium": math.nan},
        {"premium": math.inf},
        {"premium": [0.0, math.nan]},
        {"premium": 0.0, "interest_rate": math.nan},
        {"premium": 0.0, "clamp": -0.0005},
        {"premium": 0.0, "clamp": math.inf},
        {"premium": 0.0, "cap": 0.0},
        {"premium": 0.0, "cap": -0.01},
        {"premium": 0.0, "cap": math.nan},
        {"premium": 0.0, "floor": math.nan},
        {"premium": 0.0, "floor": 0.01, "cap": 0.01},
        {"premium": 0.0, "interval_hours": 0.0},
        {"premium": 0.0, "interval_hours": -8.0},
        {"premium": 0.0, "cap": "big"},
        {"premium": 0.0, "interest_rate": [0.0001, 0.0]},
    ],
)
def test_funding_rate_rejects_bad_input(kwargs):
    with pytest.raises(InvalidInputError):
        funding_rate(**kwargs)


# --------------------------------------------------------------------------- payments


def test_funding_payment_published_formula_and_signs():
    # PUBLISHED formula: funding amount = mark price x size x rate.
    # HAND-DERIVED numbers: 2 BTC at a 30,000 USD mark, rate 0.01 % -> 6 USD.
    assert funding_payment(+1, 2.0, 30_000.0, 0.0001) == pytest.approx(6.0)  # long pays
    assert funding_payment("short", 2.0, 30_000.0, 0.0001) == pytest.approx(-6.0)  # receives
    # Negative rate: shorts pay longs.
    assert funding_payment("long", 2.0, 30_000.0, -0.0002) == pytest.approx(-12.0)
    assert funding_payment(-1, 2.0, 30_000.0, -0.0002) == pytest.approx(12.0)
    assert funding_payment(1, 0.0, 30_000.0, 0.0001) == 0.0  # flat position
    out = funding_payment(np.array([1, -1, 1]), np.array([1.0, 1.0, 3.0]), 100.0, 0.001)
    np.testing.assert_allclose(out, [0.1, -0.1, 0.3])


@given(size=sizes_st, mark=prices_st, rate=rates_st)
def test_funding_is_zero_sum_and_symmetric(size, mark, rate):
    long_pays = funding_payment(1, size, mark, rate)
    short_pays = funding_payment(-1, size, mark, rate)
    assert long_pays + short_pays == 0.0
    assert long_pays == -short_pays
    assert (long_pays > 0) == (rate > 0 and long_pays != 0.0)
    # Mirror symmetry: flipping the side and the rate's sign leaves the payment unchanged.
    assert funding_payment(-1, size, mark, -rate) == long_pays


def test_funding_payments_path():
    # HAND-DERIVED: long 0.5 coin; marks 100, 110, 90; rates +0.1 %, -0.05 %, +0.2 %.
    # Payments: 0.05, -0.0275, 0.09 -> total 0.1125 USD paid.
    pay = funding_payments(1, 0.5, [100.0, 110.0, 90.0], [0.001, -0.0005, 0.002])
    np.testing.assert_allclose(pay, [0.05, -0.0275, 0.09], rtol=1e-12)
    assert math.fsum(pay) == pytest.approx(0.1125)
    short = funding_payments("short", 0.5, [100.0, 110.0, 90.0], [0.001, -0.0005, 0.002])
    np.testing.assert_array_equal(pay + short, 0.0)
    # A size that changes each interval.
    pay2 = funding_payments(1, [1.0, 2.0], [100.0, 100.0], [0.001, 0.001])
    np.testing.assert_allclose(pay2, [0.1, 0.2])
    assert funding_payments(1, 1.0, [], []).shape == (0,)


@pytest.mark.parametrize("side", [0, 2, -2, "up", "", None, True, 1.5, [1, 0]])
def test_funding_payment_rejects_bad_side(side):
    with pytest.raises(InvalidSideError):
        funding_payment(side, 1.0, 100.0, 0.0001)


def test_funding_payments_rejects_bad_side():
    with pytest.raises(InvalidSideError):
        funding_payments("flat", 1.0, [100.0], [0.0001])


@pytest.mark.parametrize(
    ("size", "mark", "rate"),
    [
        (math.nan, 100.0, 0.0001),
        (math.inf, 100.0, 0.0001),
        (-1.0, 100.0, 0.0001),
        (1.0, math.nan, 0.0001),
        (1.0, 0.0, 0.0001),
        (1.0, -100.0, 0.0001),
        (1.0, 100.0, math.nan),
        (1.0, 100.0, math.inf),
    ],
)
def test_funding_payment_rejects_bad_numbers(size, mark, rate):
    with pytest.raises(InvalidInputError):
        funding_payment(1, size, mark, rate)


@pytest.mark.parametrize(
    ("size", "marks", "rates"),
    [
        (1.0, [100.0, 101.0], [0.0001]),
        (1.0, [[100.0]], [[0.0001]]),
        ([1.0, 2.0, 3.0], [100.0, 101.0], [0.0001, 0.0001]),
        (-1.0, [100.0], [0.0001]),
        (1.0, [100.0, math.nan], [0.0001, 0.0001]),
        (1.0, [100.0, -1.0], [0.0001, 0.0001]),
        (1.0, [100.0], [math.inf]),
    ],
)
def test_funding_payments_rejects_bad_paths(size, marks, rates):
    with pytest.raises(InvalidInputError):
        funding_payments(1, size, marks, rates)


def test_annualised():
    # HAND-DERIVED: 0.01 % per 8 h -> 0.03 %/day -> 10.95 %/year.
    assert annualised(0.0001) == pytest.approx(0.1095)
    # Same rate on a 4-hour symbol (6 settlements a day) doubles the annual figure.
    assert annualised(0.0001, intervals_per_day=6) == pytest.approx(0.219)
    # PUBLISHED BTC cap 0.3 % per 8 h annualises to 328.5 %.
    assert annualised(0.003) == pytest.approx(3.285)
    np.testing.assert_allclose(annualised(np.array([-0.0001, 0.0])), [-0.1095, 0.0])
    for bad in (
        {"rate_per_interval": math.nan},
        {"rate_per_interval": 0.0001, "intervals_per_day": 0},
        {"rate_per_interval": 0.0001, "days_per_year": -365},
    ):
        with pytest.raises(InvalidInputError):
            annualised(**bad)


# --------------------------------------------------------------------------- basis trade


def test_basis_trade_hand_example():
    # HAND-DERIVED: 1 coin; spot 100 -> 150, perp 101 -> 151 (basis stays 1 USD).
    # Funding 0.01 % at marks 120, 130, 140 -> short receives 0.012 + 0.013 + 0.014 = 0.039.
    # Fees 0.05 % on 100 + 101 + 150 + 151 = 502 USD of notional -> 0.251.
    r = basis_trade_pnl(1.0, 100.0, 101.0, 150.0, 151.0, [0.0001] * 3, [120, 130, 140], 0.0005)
    assert isinstance(r, BasisTradeResult)
    assert r.spot_pnl == pytest.approx(50.0)
    assert r.perp_pnl == pytest.approx(-50.0)
    assert r.price_pnl == 0.0
    assert r.funding_received == pytest.approx(0.039)
    assert r.fees == pytest.approx(0.251)
    assert r.total == pytest.approx(-0.212)
    assert r.delta == 0.0
    assert r.n_intervals == 3


def test_basis_trade_collects_funding_and_basis_convergence():
    # HAND-DERIVED: 10 coins, perp enters 2 % rich (102 vs 100) and converges to spot (90);
    # basis P&L = 10 x 2 = 20 USD. Funding: 21 settlements at 0.03 % and mark 95 ->
    # 10 x 95 x 0.0003 x 21 = 5.985 USD received.
    r = basis_trade_pnl(10.0, 100.0, 102.0, 90.0, 90.0, np.full(21, 0.0003), np.full(21, 95.0))
    assert r.price_pnl == pytest.approx(20.0)
    assert r.funding_received == pytest.approx(5.985)
    assert r.total == pytest.approx(25.985)
    # Negative funding costs the basis trader.
    neg = basis_trade_pnl(1.0, 100.0, 100.0, 100.0, 100.0, [-0.001], [100.0])
    assert neg.funding_received == pytest.approx(-0.1) and neg.total == pytest.approx(-0.1)


def test_basis_trade_vectorised_size():
    r = basis_trade_pnl(np.array([1.0, 2.0]), 100.0, 100.0, 80.0, 80.0, [0.001], [90.0])
    np.testing.assert_allclose(r.funding_received, [0.09, 0.18])
    np.testing.assert_allclose(r.total, [0.09, 0.18])
    np.testing.assert_array_equal(r.delta, [0.0, 0.0])


@given(
    size=st.floats(1e-3, 1e4),
    spot=st.floats(1.0, 1e5),
    basis=st.floats(-0.05, 0.05),
    move=st.floats(-0.9, 5.0),
    rates=st.lists(rates_st, min_size=0, max_size=30),
    fee=st.floats(0.0, 0.001),
)
def test_basis_trade_hedges_price_moves(size, spot, basis, move, rates, fee):
    perp = spot * (1 + basis)
    spot_exit, perp_exit = spot * (1 + move), perp * (1 + move)
    marks = np.linspace(spot, spot_exit, len(rates)) if rates else []
    r = basis_trade_pnl(size, spot, perp, spot_exit, perp_exit, rates, marks, fee)
    assert r.delta == 0.0
    # The legs cancel up to the change in basis, which scales with the move.
    expected_price = size * (perp - spot) * -move
    scale = size * max(spot, spot_exit, perp, perp_exit)
    assert r.price_pnl == pytest.approx(expected_price, abs=1e-9 * scale)
    # Pure parallel move (no basis): price legs cancel, funding minus fees remains.
    flat = basis_trade_pnl(size, spot, spot, spot_exit, spot_exit, rates, marks, fee)
    assert abs(flat.price_pnl) <= 1e-12 * scale
    received = -math.fsum(funding_payments(-1, size, marks, rates)) if rates else 0.0
    assert flat.funding_received == pytest.approx(received, rel=1e-12, abs=1e-12 * scale)
    assert flat.total == pytest.approx(received - flat.fees, abs=1e-9 * scale)
    assert flat.fees == pytest.approx(2 * fee * size * (spot + spot_exit), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0.0},
        {"size": -1.0},
        {"size": math.nan},
        {"spot_entry": 0.0},
        {"perp_entry": math.inf},
        {"spot_exit": -5.0},
        {"perp_exit": math.nan},
        {"funding_rates": [0.0001, math.nan], "marks": [100.0, 100.0]},
        {"funding_rates": [0.0001], "marks": [0.0]},
        {"funding_rates": [0.0001, 0.0], "marks": [100.0]},
        {"funding_rates": [[0.0001]], "marks": [[100.0]]},
        {"fee_rate": -0.001},
        {"fee_rate": 1.0},
        {"fee_rate": math.nan},
    ],
)
def test_basis_trade_rejects_bad_input(kwargs):
    args = {
        "size": 1.0,
        "spot_entry": 100.0,
        "perp_entry": 100.0,
        "spot_exit": 100.0,
        "perp_exit": 100.0,
        "funding_rates": [0.0001],
        "marks": [100.0],
    } | kwargs
    with pytest.raises(InvalidInputError):
        basis_trade_pnl(**args)


# --------------------------------------------------------------------------- locked spot


def test_locked_spot_and_free_float():
    # HAND-DERIVED: 1,000,000 coins of open interest, 40 % of shorts hedged with spot ->
    # 400,000 coins parked; from a 1,500,000-coin float 1,100,000 remain tradable.
    assert locked_spot(1_000_000.0, 0.4) == pytest.approx(400_000.0)
    assert free_float(1_500_000.0, 1_000_000.0, 0.4) == pytest.approx(1_100_000.0)
    np.testing.assert_allclose(locked_spot(np.array([10.0, 20.0]), 0.5), [5.0, 10.0])
    assert locked_spot(0.0, 1.0) == 0.0


@pytest.mark.parametrize(
    ("oi", "share"),
    [(-1.0, 0.5), (math.nan, 0.5), (math.inf, 0.5), (10.0, -0.1), (10.0, 1.1), (10.0, math.nan)],
)
def test_locked_spot_rejects_bad_input(oi, share):
    with pytest.raises(InvalidInputError):
        locked_spot(oi, share)


def test_free_float_rejects_impossible_hedges():
    with pytest.raises(InvalidInputError, match="lock"):
        free_float(100.0, 1_000.0, 0.5)
    with pytest.raises(InvalidInputError):
        free_float(-1.0, 0.0, 0.5)


def test_every_error_is_a_value_error():
    with pytest.raises(ValueError):
        funding_rate(math.nan)
    assert issubclass(InsufficientLiquidityError, PerpsbookError)


def test_impact_price_whole_side_despite_summation_order():
    # Regression: a notional equal to the side's total computed with np.sum (pairwise) can
    # exceed the cumulative sum by an ulp; that is "the whole side", not over-asking.
    # fmt: off
    asks = np.array([1.015, 1.115, 1.149, 1.415, 1.497, 1.529, 1.711, 1.729, 1.734, 1.758,
                     1.786, 1.822, 1.864, 1.89, 1.927, 1.932, 1.957, 1.968, 1.973, 1.981])
    qty = np.array([0.49, 0.24, 0.8, 0.92, 0.27, 0.54, 0.45, 0.93, 0.05, 0.73,
                    0.62, 0.04, 0.72, 0.03, 0.76, 0.52, 0.93, 0.08, 0.84, 0.08])
    # fmt: on
    total = float(np.sum(asks * qty))
    assert total > np.cumsum(asks * qty)[-1]  # the case that used to raise
    assert impact_price(asks, qty, total) == pytest.approx(total / qty.sum(), rel=1e-12)
    with pytest.raises(InsufficientLiquidityError):
        impact_price(asks, qty, total * 1.001)


def test_shapes_that_do_not_broadcast_are_named_and_tiny_inputs_do_not_overflow():
    from perpsbook.errors import InvalidInputError
    from perpsbook.funding import funding_payment, impact_margin_notional, premium_index

    with pytest.raises(InvalidInputError, match=r"side \(2,\), size \(3,\)"):
        funding_payment([1, -1], [1.0, 2.0, 3.0], 10.0, 0.001)
    np.testing.assert_allclose(funding_payment([1, -1], [1.0, 2.0], 10.0, 0.001), [0.01, -0.02])
    with pytest.raises(InvalidInputError, match="premium_index overflows"):
        premium_index(100.0, 101.0, 5e-324)
    with pytest.raises(InvalidInputError, match="impact_margin_notional overflows"):
        impact_margin_notional(5e-324)
    with pytest.raises(InvalidInputError, match="impact_bid"):
        premium_index([1.0, 2.0], [1.0, 2.0, 3.0], 1.0)


def test_ragged_and_mismatched_sides_are_named():
    with pytest.raises(InvalidSideError, match="side"):
        funding_payment([[1], [1, -1]], 1.0, 10.0, 0.001)
    with pytest.raises(InvalidInputError, match="broadcast"):
        funding_payment([1, -1], [1.0, 2.0, 3.0], 10.0, 0.001)
    assert funding_payment("short", 2.0, 10.0, 0.001) == pytest.approx(-0.02)
    np.testing.assert_allclose(funding_payment([1, -1], 2.0, 10.0, 0.001), [0.02, -0.02])
