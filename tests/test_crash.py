"""Tests of the crash chapter's helpers, figures and panel (perpsbook.crash, plots.crash,
widgets.crash)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook import crash as cr
from perpsbook import data, plots
from perpsbook.adl import ADL_POLICIES
from perpsbook.errors import InvalidInputError
from perpsbook.positions import Positions
from perpsbook.scenarios import rocketcoin, rocketcoin_crash


@pytest.fixture(scope="module")
def pair():
    return cr.mirror_pair()


@pytest.fixture(scope="module")
def case(pair):
    return cr.crash_adl_case(pair[1])


@pytest.fixture(scope="module")
def shorts(case):
    return cr.crash_shorts(np.random.default_rng(7), 1_500, mark_price=case.mark_price)


# ------------------------------------------------------------------ the mirror image
def test_symmetry_rows_default(pair):
    rows = {name: (a, b) for name, a, b in cr.symmetry_rows(*pair)}
    assert rows["final price (USD/coin)"] == pytest.approx((16.22, 3.78))
    assert rows["reflected final price 2c - p"][1] == pytest.approx(16.22)
    assert rows["largest stage price gap after reflecting"][1] < 1e-9
    a, b = rows["coins liquidated"]
    assert a == pytest.approx(b, rel=1e-12) and a == pytest.approx(748_326.67, rel=1e-6)
    # P&L is a coin quantity times a price difference: kept by the reflection
    assert rows["market maker P&L (USD)"][0] == pytest.approx(rows["market maker P&L (USD)"][1])
    assert rows["insurance fund P&L (USD)"][0] == pytest.approx(rows["insurance fund P&L (USD)"][1])
    # USD notionals are not: the crash sells the same coins for fewer dollars
    usd_r, usd_c = rows["USD liquidated"]
    assert usd_c < usd_r
    log_r, log_c = rows["log move |ln(final / initial)|"]
    assert log_c > 1.9 * log_r


@settings(max_examples=15, deadline=None)
@given(h=st.floats(0.0, 2.0), fund=st.floats(0.0, 1e6))
def test_crash_is_the_reflected_rocket_for_any_hedge_and_fund(h, fund):
    r, c = cr.mirror_pair(hedge_ratio=h, insurance_fund=fund)
    np.testing.assert_allclose(r.price_path, 20.0 - c.price_path, atol=1e-9)
    assert r.total_liquidated_qty == pytest.approx(c.total_liquidated_qty, rel=1e-12, abs=1e-9)
    assert r.total_hedge_qty == pytest.approx(c.total_hedge_qty, rel=1e-12, abs=1e-9)
    assert r.mm_pnl == pytest.approx(c.mm_pnl, rel=1e-9, abs=1e-6)
    assert abs(c.ledger_imbalance) < 1e-6


def test_symmetry_rows_rejects_wrong_pairs(pair):
    r, c = pair
    with pytest.raises(InvalidInputError, match="rocket"):
        cr.symmetry_rows(c, r)
    with pytest.raises(InvalidInputError, match="pivot"):
        cr.symmetry_rows(r, c, pivot=-1.0)
    with pytest.raises(InvalidInputError, match="stages"):
        cr.symmetry_rows(rocketcoin("deep_book").run(), c)


# ------------------------------------------------------------------ the ADL case
def test_crash_adl_case_is_the_last_tranche(case):
    assert case.side == 1
    assert case.qty == pytest.approx(200_000.0)
    assert case.bankruptcy_price == pytest.approx(4.625)
    assert case.mark_price == pytest.approx(3.78)
    assert case.gap == pytest.approx(0.845)
    assert case.full_deficit_usd == pytest.approx(169_000.0)


def test_crash_adl_case_errors(pair):
    r, c = pair
    with pytest.raises(InvalidInputError, match="crash"):
        cr.crash_adl_case(r)
    with pytest.raises(InvalidInputError, match="tranche"):
        cr.crash_adl_case(c, tranche=5)
    with pytest.raises(InvalidInputError, match="tranche"):
        cr.crash_adl_case(c, tranche=1.5)
    with pytest.raises(InvalidInputError, match="not bankrupt"):
        cr.crash_adl_case(rocketcoin_crash("deep_book").run(), tranche=0)


def test_crash_shorts_deterministic_and_all_short(case):
    a = cr.crash_shorts(np.random.default_rng(3), 400, mark_price=case.mark_price)
    b = cr.crash_shorts(np.random.default_rng(3), 400, mark_price=case.mark_price)
    assert a.n == 400 and np.all(a.side == -1)
    np.testing.assert_array_equal(a.entry_price, b.entry_price)
    np.testing.assert_array_equal(a.margin, b.margin)
    with pytest.raises(InvalidInputError, match="Generator"):
        cr.crash_shorts(np.random.RandomState(3), 10)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        cr.crash_shorts(np.random.default_rng(3), 0)


def test_policy_summary_closes_the_deficit_at_the_bankruptcy_price(shorts, case):
    cmp, s = cr.adl_policy_summary(shorts, case, 0.25)
    needed = 0.25 * case.qty * case.gap
    eligible = int(np.sum(shorts.upnl(case.mark_price) > 0))
    for p in ("binance", "bybit", "pro_rata"):
        t = s[p]
        # money is conserved: what the shorts give up is exactly the deficit
        assert t["qty"] == pytest.approx(0.25 * case.qty)
        assert t["haircut_usd"] == pytest.approx(needed, rel=1e-9)
        assert t["excess_usd"] == 0.0 and t["excess_qty"] == 0.0
        assert 0.0 <= t["gini"] <= 1.0
        assert t["eligible"] == eligible
    assert s["pro_rata"]["n_deleveraged"] == eligible
    hl = s["hyperliquid"]
    assert hl["qty"] == pytest.approx(case.qty)  # the whole position, at the mark
    assert hl["haircut_usd"] == pytest.approx(0.0, abs=1e-6)
    assert hl["excess_qty"] == pytest.approx(0.75 * case.qty)
    pol = np.asarray(cmp.policy)
    for p in ADL_POLICIES:
        cp = cmp.counterparty[pol == p]
        assert np.all(shorts.upnl(case.mark_price)[cp] > 0)  # only winners are hit
        given_up = np.bincount(cp, weights=cmp.qty[pol == p], minlength=shorts.n)
        assert np.all(given_up <= shorts.size * (1 + 1e-12))


@settings(max_examples=20, deadline=None)
@given(a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_more_deficit_never_hits_fewer_shorts(shorts, case, a, b):
    lo, hi = sorted((a, b))
    _, s_lo = cr.adl_policy_summary(shorts, case, lo, policies=("binance", "bybit", "pro_rata"))
    _, s_hi = cr.adl_policy_summary(shorts, case, hi, policies=("binance", "bybit", "pro_rata"))
    for p in s_lo:
        assert s_hi[p]["n_deleveraged"] >= s_lo[p]["n_deleveraged"]
        assert s_hi[p]["haircut_usd"] >= s_lo[p]["haircut_usd"] - 1e-6


def test_stale_oracle_takes_profit_beyond_the_deficit(shorts, case):
    _, s = cr.adl_policy_summary(shorts, case, 0.5, policies=("hyperliquid",), oracle_price=4.8)
    t = s["hyperliquid"]
    assert t["haircut_usd"] == pytest.approx(case.qty * (4.8 - case.mark_price))
    assert t["excess_usd"] == pytest.approx(t["haircut_usd"] - 0.5 * case.qty * case.gap)


@pytest.mark.parametrize("share", [-0.1, 1.5, float("nan"), "half", [0.5]])
def test_policy_summary_rejects_bad_shares(shorts, case, share):
    with pytest.raises(InvalidInputError, match="deficit_share"):
        cr.adl_policy_summary(shorts, case, share)


def test_policy_summary_rejects_bad_case(shorts):
    with pytest.raises(InvalidInputError, match="AdlCase"):
        cr.adl_policy_summary(shorts, (1, 2.0, 3.0, 4.0), 0.5)


def test_gini():
    assert cr._gini(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert cr._gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)
    assert cr._gini(np.array([])) == 0.0


# ------------------------------------------------------------------ figure ledger text
@pytest.mark.parametrize(
    ("row_id", "value", "window"),
    [
        ("cg_24h_total", "19.13 bn USD", "10 Oct 2025 \u2013 11 Oct 2025"),
        ("cg_24h_traders", "1,618,240 traders", "10 Oct 2025 \u2013 11 Oct 2025"),
        ("cg_annual_long_share", "85\u201390 %", "10 Oct 2025 \u2013 11 Oct 2025"),
        ("cg_true_total_estimate", "30\u201340 bn USD", "10 Oct 2025 \u2013 11 Oct 2025"),
        ("amb_peak_minute", "3.21 bn USD", "10 Oct 2025, 21:15\u201321:16 UTC"),
        ("amb_14h_total", "9.89 bn USD", "10 Oct 2025 13:00 \u2013 11 Oct 2025 03:00 UTC"),
        ("hl_adl_events", "34,983 fills", "10 Oct 2025, 21:16:04\u201321:26:57 UTC"),
        ("chitra_v1_overuse", "8x", "10 Oct 2025, 21:15\u201321:27 UTC"),
        ("chitra_v3_excess_profit", "45\u201351.7 m USD", "10 Oct 2025, 21:15\u201321:27 UTC"),
        ("bn_usde_low_a", "0.65 USD", "10 Oct 2025, 21:36\u201322:16 UTC"),
        ("bitmex_if_drop_2020", "2,606 XBT", "13 Mar 2020"),
        ("ccdata_oi_october", "-21.4 %", "1 Oct 2025 \u2013 31 Oct 2025"),
        ("binance_forceorder_rule", "1 rule", "n/a (standing rule)"),
    ],
)
def test_ledger_text(row_id, value, window):
    row = data.figure_ledger().row(row_id)
    assert cr.ledger_value_text(row) == value
    assert cr.ledger_window_text(row) == window


def test_every_ledger_row_has_text():
    ledger = data.figure_ledger()
    for i in ledger.id:
        row = ledger.row(i)
        assert cr.ledger_value_text(row) and cr.ledger_window_text(row)


@pytest.mark.parametrize("bad", [{}, None, {"value": "x", "value_high": 1, "unit": "USD"}])
def test_ledger_text_rejects_non_rows(bad):
    with pytest.raises(InvalidInputError, match="figure-ledger row"):
        cr.ledger_value_text(bad)
    with pytest.raises(InvalidInputError, match="figure-ledger row"):
        cr.ledger_window_text(bad)


# ------------------------------------------------------------------ figures and panel
def test_figures(pair, shorts, case):
    fig = plots.mirror_figure(*pair)
    assert len(fig.axes) == 3  # prices, USD bars, coins (twin axis)
    plt.close(fig)
    bars = data.load_klines_4h().between("2025-10-09", "2025-10-12")
    fig = plots.crash_klines_figure(bars, {"w": ("2025-10-10T20:50", "2025-10-10T21:30")})
    assert len(fig.axes) == 2
    plt.close(fig)
    cmp, s = cr.adl_policy_summary(shorts, case, 0.5)
    fig = plots.adl_policies_figure(s)
    assert len(fig.axes) == 3
    plt.close(fig)
    fig = plots.adl_hits_figure(shorts, case.mark_price, cmp)
    assert len(fig.axes) == len(ADL_POLICIES)
    plt.close(fig)


def test_figure_errors(pair, shorts, case):
    r, _ = pair
    with pytest.raises(InvalidInputError, match="stages"):
        plots.mirror_figure(r, rocketcoin_crash("deep_book").run())
    empty = data.load_klines_4h().between("2030-01-01", "2030-01-02")
    with pytest.raises(InvalidInputError, match="bars"):
        plots.crash_klines_figure(empty)
    with pytest.raises(InvalidInputError, match="summary"):
        plots.adl_policies_figure({})
    cmp, _ = cr.adl_policy_summary(shorts, case, 0.5)
    with pytest.raises(InvalidInputError, match="policies"):
        plots.adl_hits_figure(shorts, case.mark_price, cmp, [])


def test_adl_panel_and_twin():
    widgets = pytest.importorskip("perpsbook.widgets")
    panel = widgets.adl_explorer()
    for p in ADL_POLICIES:
        assert p in panel.text
    first = panel.image.value
    panel.controls["deficit"].value = 0.9
    panel.controls["policy"].value = "pro_rata"
    assert panel.image.value != first and panel.updates == 3
    with pytest.raises(InvalidInputError, match="policy"):
        widgets.adl_explorer(policy="okx")
    with pytest.raises(InvalidInputError, match="deficit_share"):
        widgets.adl_explorer(deficit_share=0.0)
    twin = widgets.adl_explorer_twin()
    html = twin._repr_html_()
    assert "pb-static-panel" in html
    assert html == widgets.adl_explorer_twin()._repr_html_()  # deterministic (nbval)


def test_positions_type_checked(case):
    with pytest.raises(InvalidInputError):
        cr.adl_policy_summary("shorts", case, 0.5)  # type: ignore[arg-type]
    assert isinstance(cr.crash_shorts(np.random.default_rng(1), 5), Positions)


def test_ignition_to_trigger_is_the_threshold():
    for make in (rocketcoin, rocketcoin_crash):
        usd, coins = cr.ignition_to_trigger(make())
        assert coins == pytest.approx(19_000.0)
        assert make(ignition=usd * (1 - 1e-9)).run().n_liquidated == 0
        assert make(ignition=usd * (1 + 1e-6)).run().n_liquidated >= 1
    rocket_usd, _ = cr.ignition_to_trigger(rocketcoin())
    crash_usd, _ = cr.ignition_to_trigger(rocketcoin_crash())
    assert rocket_usd == pytest.approx(199_405.0) and crash_usd == pytest.approx(180_595.0)
    # same coins; the USD of the two add up to the coins times twice the pivot
    assert rocket_usd + crash_usd == pytest.approx(19_000.0 * 20.0)
    with pytest.raises(InvalidInputError, match="Scenario"):
        cr.ignition_to_trigger("rocket")


def test_crash_panel_and_twin():
    widgets = pytest.importorskip("perpsbook.widgets")
    panel = widgets.crash_explorer()
    assert "selling" in panel.text and "3.78" in panel.text
    first = panel.image.value
    panel.controls["ignition"].value = 100_000.0  # below the threshold: nothing happens
    assert "0 of 5" in panel.text and panel.image.value != first
    with pytest.raises(InvalidInputError, match="ignition"):
        widgets.crash_explorer(ignition=1.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        widgets.crash_explorer(hedge_ratio=-1.0)
    html = widgets.crash_explorer_twin()._repr_html_()
    assert "pb-static-panel" in html and len(html) < 2_500_000


# --------------------------------------------------------------------------- two markets


@pytest.fixture(scope="module")
def two_market_pair():
    from perpsbook.scenarios import rocketcoin_crash_two_market, rocketcoin_two_market

    runs = {}
    for venue in ("binance", "bybit", "hyperliquid"):
        runs[venue] = (
            rocketcoin_two_market(venue).run(),
            rocketcoin_crash_two_market(venue).run(),
        )
    return runs


def test_two_market_crash_mirrors_on_bybit_only(two_market_pair):
    """The chapter's claims: Bybit reflects stage by stage, Binance in spot but not in
    the fund's and venue's loss, Hyperliquid not at all."""
    rocket, crash = two_market_pair["bybit"]
    assert rocket.n_stages == crash.n_stages
    for col in ("spot_after", "perp_after", "mark_after"):
        np.testing.assert_allclose(20.0 - crash.column(col), rocket.column(col), atol=1e-9)
    assert crash.liquidated_qty == pytest.approx(rocket.liquidated_qty)
    assert crash.adl_qty == pytest.approx(rocket.adl_qty)
    rocket, crash = two_market_pair["binance"]
    np.testing.assert_allclose(20.0 - crash.column("spot_after"), rocket.column("spot_after"))
    assert crash.bad_debt != pytest.approx(rocket.bad_debt, rel=1e-3)
    rocket, crash = two_market_pair["hyperliquid"]
    assert crash.liquidated_qty > 2 * rocket.liquidated_qty
    for rocket, crash in two_market_pair.values():
        assert crash.ledger_imbalance < 1e-6 and crash.final_spot < 10.0 < rocket.final_spot


def test_two_market_crash_figure(two_market_pair):
    from perpsbook.plots.crash import long_triggers, two_market_crash_figure

    rocket, crash = two_market_pair["binance"]
    prices, coins = long_triggers(crash)
    np.testing.assert_allclose(prices, [5.0, 6.0, 7.0, 8.0, 9.0])
    assert coins.sum() == pytest.approx(crash.liquidated_qty)
    fig = two_market_crash_figure(crash, rocket)
    ax_p, ax_s = fig.axes
    assert len(ax_p.get_lines()) >= 5 + 5  # triggers, four prices, the reflected mark
    assert len(ax_s.patches) == 3 * crash.n_stages
    plt.close(fig)
    plt.close(two_market_crash_figure(crash))
    with pytest.raises(InvalidInputError, match="crash must be a crash"):
        two_market_crash_figure(rocket)
    with pytest.raises(InvalidInputError, match="crash must be"):
        two_market_crash_figure("run")
    with pytest.raises(InvalidInputError, match="pivot"):
        two_market_crash_figure(crash, pivot=float("nan"))
