"""RocketCoin scenarios: the article's statements under each reading, and the mirror crash."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook.cascade import CascadeResult
from perpsbook.errors import InvalidInputError
from perpsbook.scenarios import (
    ORDER_BOOK_PROFILES,
    RKT_FACTS,
    VARIANTS,
    Scenario,
    order_book_profiles,
    rkt_book_after_ignition,
    rocketcoin,
    rocketcoin_crash,
)


@pytest.fixture(scope="module")
def default_run() -> CascadeResult:
    return rocketcoin().run()


def test_default_reaches_15_with_large_amplification(default_run):
    r = default_run
    assert r.final_price >= 15.0
    assert r.ignition_notional == pytest.approx(200_000.0, rel=1e-12)
    assert r.total_forced_buy_notional > 10e6  # "millions" of forced buying from $200k
    assert r.amplification > 50
    assert r.n_liquidated == 5 and not r.book_ran_dry and not r.truncated
    assert r.ledger_imbalance <= 1e-9 * r.ledger.gross_usd()


def test_default_figures(default_run):
    r = default_run
    # The figures quoted in the perpsbook.scenarios docstring.
    assert r.final_price == pytest.approx(16.22, abs=1e-12)
    assert r.stages.price_after.tolist() == pytest.approx(
        [11.0, 12.0, 13.07, 14.15, 15.2, 16.22], abs=1e-12
    )
    assert r.ignition_qty == pytest.approx(19_054.0909, rel=1e-8)
    assert r.total_liquidated_qty == pytest.approx(748_326.67, rel=1e-8)
    assert r.total_liquidated_notional == pytest.approx(10_276_653.73, rel=1e-9)
    assert r.total_forced_buy_notional == pytest.approx(20_950_120.64, rel=1e-9)
    assert r.amplification == pytest.approx(104.75, abs=0.01)
    assert r.mm_pnl == pytest.approx(-396_813.17, abs=0.01)
    assert r.insurance_fund_pnl == pytest.approx(-32_262.39, abs=0.01)
    assert r.pnl["ignitor"] == pytest.approx(109_057.35, abs=0.01)


def test_article_stage_one_statement(default_run):
    # "$1 million of shorts liquidated at $11; the market makers' 1:1 hedge lifts $11 -> $12."
    s1 = default_run.records[1]
    assert s1.trigger_price == 11.0
    assert s1.price_before == 11.0
    assert s1.trigger_notional == pytest.approx(1_000_000.0, rel=1e-12)
    assert s1.hedge_qty == pytest.approx(s1.liquidated_qty, rel=1e-12)
    assert s1.hedge_notional == pytest.approx(1_000_000.0, rel=0.1)
    assert s1.price_after == pytest.approx(12.0, abs=0.011)
    assert s1.price_after >= 12.0  # the $12 tranche is triggered
    assert default_run.records[2].trigger_price == 12.0


def test_default_ignition_arithmetic():
    sc = rocketcoin()
    # 190 coins per cent from $10.00 to $10.99: 19,000 coins for $199,405.
    through_1099 = sc.book.buy(19_000.0)
    assert through_1099.notional == pytest.approx(199_405.0, rel=1e-12)
    assert through_1099.last_price == 10.99
    ign = sc.book.buy_notional(200_000.0)
    assert ign.last_price == 11.0
    assert ign.qty - 19_000.0 == pytest.approx(595.0 / 11.0, rel=1e-9)
    # A little less and the first tranche is never reached.
    r = rocketcoin(ignition=199_000.0).run()
    assert r.n_liquidated == 0 and r.final_price == 10.99


def test_default_tranches_and_facts():
    sc = rocketcoin()
    t = sc.tranches
    assert t.trigger_price.tolist() == [11.0, 12.0, 13.0, 14.0, 15.0]
    np.testing.assert_allclose(t.notional_at_trigger, [1e6, 1.5e6, 2e6, 2.5e6, 3e6], rtol=1e-12)
    assert np.all(np.diff(t.size) > 0)  # "a new batch of larger short positions"
    assert t.total_notional == pytest.approx(10e6)
    np.testing.assert_allclose(t.bankruptcy_price, t.trigger_price * 1.025, rtol=1e-15)
    assert sc.facts["free_float"] == 1_000_000.0
    assert sc.facts["tranche_coins"] == pytest.approx(748_326.67, rel=1e-8)
    assert RKT_FACTS["article_shorts_coins"] == 300_000.0
    # The article's own pair: 300,000 RKT at $11..$15 is $3.3M..$4.5M, not $10M.
    assert 300_000 * 11 == 3.3e6 and 300_000 * 15 == 4.5e6
    # Hedges + ignition take 77 % of the free float in the default run.
    r = sc.run()
    share = (r.total_hedge_qty + r.ignition_qty) / sc.facts["free_float"]
    assert share == pytest.approx(0.767, abs=0.001)


def test_coins_variant_stalls():
    r = rocketcoin("coins").run()
    assert r.tranches.total_size == pytest.approx(300_000.0, rel=1e-12)
    assert r.tranches.notional_at_trigger[0] == pytest.approx(400_894.44, rel=1e-8)
    assert r.n_liquidated == 1
    assert 11.0 < r.final_price < 12.0
    assert r.amplification < 10


def test_ignition_coins_variant():
    sc = rocketcoin("ignition_coins")
    assert sc.params.ignition_qty == 20_000.0 and sc.params.ignition_notional is None
    r = sc.run()
    assert r.ignition_notional == pytest.approx(210_000.0, rel=1e-12)
    assert r.records[0].price_after == 11.0
    assert r.records[1].price_after == pytest.approx(12.01, abs=1e-12)
    assert r.final_price >= 15.0 and r.n_liquidated == 5


def test_flat_book_runs_dry_in_the_first_layer():
    r = rocketcoin("flat_book").run()
    assert r.book_ran_dry and r.dry_stage == 1
    assert r.final_price == 19.99
    assert r.unfilled_qty > 0 and r.adl_qty > 0
    assert r.ledger_imbalance <= 1e-9 * r.ledger.gross_usd()


def test_deep_book_never_ignites():
    r = rocketcoin("deep_book").run()
    assert r.n_liquidated == 0
    assert r.amplification == 0.0
    assert r.final_price == pytest.approx(10.11, abs=1e-12)


def test_hedge_ratio_zero_leaves_only_the_first_layer():
    r = rocketcoin(hedge_ratio=0.0).run()
    assert r.n_liquidated == 1
    assert r.final_price == pytest.approx(11.5, abs=0.011)


def test_final_price_grows_with_hedge_ratio():
    finals = [rocketcoin(hedge_ratio=h).run().final_price for h in (0.0, 0.5, 1.0, 1.5, 2.0)]
    assert finals == sorted(finals)
    assert finals[-1] > finals[0]


def test_lag_delays_but_ends_at_the_same_price(default_run):
    r = rocketcoin(lag=2).run()
    assert r.final_price == default_run.final_price
    assert r.n_stages > default_run.n_stages


def test_adl_rule_with_empty_fund_brakes_the_rocket(default_run):
    r = rocketcoin(insurance_fund=0.0, deficit_rule="adl").run()
    assert r.final_price <= default_run.final_price
    assert r.insurance_fund_final >= 0.0


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_crash_is_the_mirror_of_the_rocket(variant):
    rocket = rocketcoin(variant).run()
    crash = rocketcoin_crash(variant).run()
    assert crash.params.side == -1 and crash.tranches.side == 1
    assert crash.n_stages == rocket.n_stages
    np.testing.assert_allclose(crash.price_path, 20.0 - rocket.price_path, rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        crash.stages.liquidated_qty, rocket.stages.liquidated_qty, rtol=1e-12
    )
    np.testing.assert_allclose(crash.stages.hedge_qty, rocket.stages.hedge_qty, rtol=1e-12)
    assert crash.book_ran_dry == rocket.book_ran_dry


def test_crash_with_a_usd_ignition():
    sc = rocketcoin_crash(ignition=200_000.0)
    assert sc.params.ignition_notional == 200_000.0
    r = sc.run()
    assert r.final_price < 5.0 and r.n_liquidated == 5
    assert sc.tranches.trigger_price.tolist() == [9.0, 8.0, 7.0, 6.0, 5.0]


def test_variants_and_bad_arguments():
    assert set(VARIANTS) == {"default", "coins", "ignition_coins", "flat_book", "deep_book"}
    for name, text in VARIANTS.items():
        sc = rocketcoin(name)
        assert isinstance(sc, Scenario) and sc.description == text and sc.variant == name
        assert "\n" not in text
    with pytest.raises(InvalidInputError, match="variant must be one of"):
        rocketcoin("nope")
    with pytest.raises(InvalidInputError, match="at most one of ignition"):
        rocketcoin(ignition=1.0, ignition_qty=1.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        rocketcoin(hedge_ratio=5.0)
    with pytest.raises(InvalidInputError, match="ignition_notional must be > 0"):
        rocketcoin(ignition=0.0)


def test_with_params_and_repr():
    sc = rocketcoin()
    lagged = sc.with_params(lag=1)
    assert lagged.params.lag == 1 and lagged.book is sc.book
    assert "default" in repr(sc)


@pytest.mark.parametrize(
    ("variant", "final", "n_liq", "amplification", "dry"),
    [
        ("default", 16.22, 5, 104.75, False),
        ("coins", 11.40, 1, 4.08, False),
        ("ignition_coins", 16.22, 5, 99.81, False),
        ("flat_book", 19.99, 5, 13.25, True),
        ("deep_book", 10.11, 0, 0.0, False),
    ],
)
def test_variant_table_in_the_docstring(variant, final, n_liq, amplification, dry):
    r = rocketcoin(variant).run()
    assert r.final_price == pytest.approx(final, abs=1e-9)
    assert r.n_liquidated == n_liq
    assert r.amplification == pytest.approx(amplification, abs=0.01)
    assert r.book_ran_dry is dry
    crash = rocketcoin_crash(variant).run()
    assert crash.final_price == pytest.approx(20.0 - final, abs=1e-9)


def test_flat_book_adl_and_unfilled_hedge():
    r = rocketcoin("flat_book").run()
    assert r.adl_qty == pytest.approx(657_417.58, abs=0.01)
    assert r.records[1].unfilled_qty == pytest.approx(10_872.27, abs=0.01)
    assert r.unfilled_qty == pytest.approx(r.adl_qty + 10_872.27, abs=0.01)


# --------------------------------------------------------------------------------------
# The book after the ignition (market-makers chapter)
# --------------------------------------------------------------------------------------


def test_rkt_book_after_ignition():
    book = rkt_book_after_ignition()
    assert book.best_ask == pytest.approx(11.0)
    # the first layer (90,909 RKT) fully hedged lifts the price to $12.00 (the article's stage 1)
    assert book.impact_curve(1, [2 * 1e6 / 11.0])[0] == pytest.approx(12.0)
    # it is the default book minus the ignition's 19,054.09 RKT
    default = rocketcoin().book
    assert default.total_ask_qty - book.total_ask_qty == pytest.approx(19_054.0909, abs=1e-4)


# --------------------------------------------------------------------------------------
# The three RocketCoin ladders
# --------------------------------------------------------------------------------------


def test_profiles_hit_the_article_anchors():
    books = order_book_profiles()
    assert set(books) == set(ORDER_BOOK_PROFILES) == {"flat", "sqrt", "calibrated"}
    for key, book in books.items():
        ignition = book.buy(20_000.0)
        assert ignition.last_price == pytest.approx(11.0, abs=1e-12), key
    # flat: 101 equal levels $10.00..$11.00, VWAP exactly halfway
    assert books["flat"].buy(20_000.0).notional == pytest.approx(210_000.0, rel=1e-12)
    assert books["flat"].best_ask == 10.0
    assert books["sqrt"].best_ask == pytest.approx(10.01)
    # calibrated: after the ignition, $2M of buying ends exactly at $12.00 ...
    after = books["calibrated"].buy(20_000.0).book_after
    stage1 = after.buy_notional(2_000_000.0)
    assert stage1.last_price == pytest.approx(12.0, abs=1e-12)
    assert stage1.book_after.best_ask == pytest.approx(12.01)
    # ... with levels 2,000,000 / sum(11.01 .. 12.00) = 1,738.37 coins deep
    assert after.ask_sizes[0] == pytest.approx(2e6 / np.sum(11.01 + 0.01 * np.arange(100)))
    # and below $11 it is the flat ladder
    np.testing.assert_array_equal(
        books["calibrated"].ask_sizes[:101], books["flat"].ask_sizes[:101]
    )


def test_profiles_scale_every_level():
    base, scaled = order_book_profiles(1.0), order_book_profiles(2.5)
    for key in base:
        np.testing.assert_allclose(scaled[key].ask_sizes, 2.5 * base[key].ask_sizes, rtol=1e-15)
        np.testing.assert_allclose(scaled[key].bid_sizes, 2.5 * base[key].bid_sizes, rtol=1e-15)
        np.testing.assert_array_equal(scaled[key].ask_prices, base[key].ask_prices)


@settings(max_examples=60)
@given(
    scale=st.floats(0.1, 10.0),
    qty=st.floats(1_000.0, 150_000.0),
    key=st.sampled_from(["flat", "sqrt", "calibrated"]),
)
def test_scaled_book_needs_scaled_orders(scale, qty, key):
    """Depth x s: an order s times larger reaches the same last price and costs s times more."""
    base = order_book_profiles(1.0)[key]
    scaled = order_book_profiles(scale)[key]
    assert scaled.impact_curve(1, qty * scale) == base.impact_curve(1, qty)
    assert scaled.cost_curve(1, qty * scale) == pytest.approx(
        scale * base.cost_curve(1, qty), rel=1e-9
    )


def test_profiles_reject_bad_scale():
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(InvalidInputError, match="scale"):
            order_book_profiles(bad)


def test_ladders_are_built_once_and_read_only():
    from perpsbook import scenarios

    a, b = order_book_profiles(), order_book_profiles()
    assert a is not b and a["flat"] is not b["flat"]  # fresh dict and books on every call
    base = scenarios._order_book_ladders()
    assert base is scenarios._order_book_ladders()  # cached
    with pytest.raises(TypeError):
        base["flat"] = None  # a read-only mapping
    with pytest.raises(ValueError):
        a["flat"].ask_sizes[0] = 1.0  # and read-only arrays
    with pytest.raises(TypeError):
        ORDER_BOOK_PROFILES["deep"] = "deeper"


def test_ladders_against_the_default_book_as_documented():
    """The numbers the perpsbook.scenarios docstring gives to compare the two readings."""
    books = order_book_profiles()
    cal, flat, default = books["calibrated"], books["flat"], rocketcoin().book

    def coins(book, lo, hi):
        keep = (book.ask_prices > lo - 0.005) & (book.ask_prices < hi - 0.005)
        return book.ask_sizes[keep].sum()

    assert flat.ask_sizes == pytest.approx(np.full(2001, 20_000.0 / 101))  # 198.02 per cent
    assert flat.ask_prices[[0, -1]] == pytest.approx([10.0, 30.0])
    assert cal.ask_sizes[101:] == pytest.approx(np.full(1900, 1_738.3746197), rel=1e-9)
    assert coins(default, 11.0, 12.0) == pytest.approx(100 * 1_800.0)
    assert coins(default, 12.0, 13.0) == pytest.approx(100 * 2_300.0)
    assert coins(default, 10.0, 15.0) == pytest.approx(1_039_000.0)
    assert coins(cal, 10.0, 15.0) == pytest.approx(713_611.5, abs=0.1)
    sqrt = books["sqrt"]
    assert sqrt.ask_prices[[0, -1]] == pytest.approx([10.01, 19.99])
    # default: stage 1 in coins (181,818 RKT) ends at $12.00; $2M only at $11.96
    after = rocketcoin().book.buy_notional(200_000.0).book_after
    assert after.buy(2e6 / 11.0).last_price == pytest.approx(12.0)
    assert after.buy_notional(2e6).last_price == pytest.approx(11.96)
    # calibrated: stage 1 in dollars ends at $12.00; 181,818 RKT go on to $12.05
    after_cal = cal.buy(20_000.0).book_after
    assert after_cal.buy_notional(2e6).last_price == pytest.approx(12.0)
    assert after_cal.buy(2e6 / 11.0).last_price == pytest.approx(12.05)


def test_rocketcoin_crash_two_market_mirrors_the_rocket_inputs():
    from perpsbook.scenarios import rocketcoin_crash_two_market, rocketcoin_two_market

    rocket = rocketcoin_two_market("bybit")
    crash = rocketcoin_crash_two_market("bybit")
    bought = rocket.spot_book.buy_notional(rocket.params.ignition_notional).qty
    assert crash.params.side == -1 and crash.params.ignition_qty == pytest.approx(bought)
    np.testing.assert_allclose(crash.spot_book.bid_prices, 20.0 - rocket.spot_book.ask_prices)
    n = crash.tranche_of.size
    assert np.all(crash.positions.side[:n] == 1) and np.all(crash.positions.side[n:] == -1)
    np.testing.assert_allclose(crash.positions.size, rocket.positions.size)
    with pytest.raises(InvalidInputError, match="ignition"):
        rocketcoin_crash_two_market("bybit", ignition=1e5, ignition_qty=1e4)
    with pytest.raises(InvalidInputError, match="venue"):
        rocketcoin_crash_two_market("ftx")
