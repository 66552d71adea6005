"""RocketCoin scenarios: the article's statements under each reading, and the mirror crash."""

from __future__ import annotations

import numpy as np
import pytest

from perpsbook.cascade import CascadeResult
from perpsbook.errors import InvalidInputError
from perpsbook.scenarios import (
    RKT_FACTS,
    VARIANTS,
    Scenario,
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
