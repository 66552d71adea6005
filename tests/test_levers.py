"""Tests of perpsbook.levers (the levers chapter): lever definitions, the elasticity table,
the basis carry, the two-market measurement, the sniper, and the chapter's panels/twins."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook import levers as L
from perpsbook.errors import InvalidInputError
from perpsbook.levers import LeverSetting, lever_outcome
from perpsbook.population import population_cascade
from perpsbook.scenarios import rocketcoin, rocketcoin_two_market
from perpsbook.theory import critical_ignition

# ----------------------------------------------------------------------------- the model


def test_default_setting_is_rocketcoin_as_told():
    s = rocketcoin()
    inp = L.lever_inputs()
    assert inp.depth_scale == 1.0
    assert inp.book == s.book
    np.testing.assert_array_equal(inp.liq_prices, s.tranches.trigger_price)
    np.testing.assert_array_equal(inp.sizes, s.tranches.size)
    out = lever_outcome()
    ci = critical_ignition(s.book, s.tranches.trigger_price, s.tranches.size, hedge_ratio=1.0)
    assert out.critical_usd == ci.notional and out.bottleneck_price == 11.0
    res = population_cascade(
        s.book, s.tranches.trigger_price, s.tranches.size, 200_000.0,
        hedge_ratio=1.0, ignition_unit="usd",
    )  # fmt: skip
    assert out.final_price == res.final_price == 16.22
    assert out.amplification == pytest.approx(104.75, abs=0.01)


def test_depth_model_scales_every_level_by_the_free_coins():
    st_ = LeverSetting(free_float=2e6, basis_share=0.2, short_interest=1.5)
    inp = L.lever_inputs(st_)
    oi0 = float(np.sum(rocketcoin().tranches.size))
    free = 2e6 - 0.2 * 1.5 * oi0
    d = free / (1e6 - 0.1 * oi0)
    assert inp.depth_scale == pytest.approx(d, rel=1e-12)
    base = rocketcoin().book
    np.testing.assert_allclose(inp.book.ask_sizes, base.ask_sizes * d, rtol=1e-12)
    np.testing.assert_array_equal(inp.book.ask_prices, base.ask_prices)
    assert inp.locked_coins == pytest.approx(0.2 * 1.5 * oi0)


def test_leverage_multiplier_uses_the_venue_formula():
    lev = L.base_leverages()
    # entry * (1 + 1/L) / (1 + MMR) reproduces the tranches' triggers
    np.testing.assert_allclose(10.0 * (1 + 1 / lev) / 1.025, [11, 12, 13, 14, 15])
    lp = L.lever_inputs(LeverSetting(short_leverage=1.5)).liq_prices
    np.testing.assert_allclose(lp, 10.0 * (1 + 1 / (1.5 * lev)) / 1.025, rtol=1e-9)
    assert np.all(np.diff(lp) > 0) and np.all(lp < [11, 12, 13, 14, 15])


def test_only_w_plus_h_matters_on_one_ladder():
    a = lever_outcome(LeverSetting(hedge_ratio=0.7, perp_passthrough=1.0))
    b = lever_outcome(LeverSetting(hedge_ratio=1.0, perp_passthrough=0.7))
    assert a.critical_usd == b.critical_usd and a.bottleneck_price == b.bottleneck_price


_LEVER_SIGN = {
    # +1: more of the lever makes the rocket dearer (critical ignition non-decreasing)
    "free_float": +1,
    "basis_share": -1,
    "hedge_ratio": -1,
    "perp_passthrough": -1,
    "short_interest": -1,
    "short_leverage": -1,
}


@settings(max_examples=30)
@given(
    name=st.sampled_from(sorted(_LEVER_SIGN)),
    a=st.floats(0.62, 1.0),
    b=st.floats(0.62, 1.0),
)
def test_critical_ignition_is_monotone_in_every_lever(name, a, b):
    lo, hi = sorted((a, b))
    x0 = getattr(LeverSetting(), name)
    c_lo = lever_outcome(LeverSetting().replace(**{name: x0 * lo})).critical_usd
    c_hi = lever_outcome(LeverSetting().replace(**{name: x0 * hi})).critical_usd
    if _LEVER_SIGN[name] > 0:
        assert c_hi >= c_lo * (1 - 1e-9)
    else:
        assert c_hi <= c_lo * (1 + 1e-9)


def test_lever_table_signs_order_and_text():
    t = L.lever_table()
    assert {r.lever for r in t.rows} == set(L.LEVERS)
    mags = [abs(r.elasticity) for r in t.rows]
    assert mags == sorted(mags, reverse=True)
    for r in t.rows:
        for e in (r.elasticity_down, r.elasticity_up):
            if e is not None:
                assert _LEVER_SIGN[r.lever] * e >= -1e-9, (r.lever, e)
    # w = 1 cannot rise: that side is left out, not capped
    w = t.row("perp_passthrough")
    assert w.critical_up is None and w.elasticity_up is None
    # elasticity is the log ratio over the log step
    f = t.row("free_float")
    assert f.elasticity_down == pytest.approx(
        math.log(f.critical_down / t.critical_usd) / math.log(0.9)
    )
    assert t.rows[0].lever == "short_leverage"
    text = t.text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "short leverage" in text and repr(t) == text
    with pytest.raises(InvalidInputError, match="no row"):
        t.row("moon")


def test_lever_curve_matches_outcomes():
    v, c, p = L.lever_curve("short_interest", [0.9, 1.0])
    assert v.tolist() == [0.9, 1.0]
    assert c[1] == lever_outcome().critical_usd
    assert c[0] == lever_outcome(LeverSetting(short_interest=0.9)).critical_usd
    assert p[1] == 16.22


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: LeverSetting(free_float=-1.0), "free_float"),
        (lambda: LeverSetting(hedge_ratio=2.5), "hedge_ratio"),
        (lambda: LeverSetting(perp_passthrough=float("nan")), "perp_passthrough"),
        (lambda: LeverSetting().replace(moon=1.0), "moon"),
        (lambda: L.lever_inputs(LeverSetting(free_float=7e4, basis_share=1.0)), "lock"),
        (lambda: L.lever_inputs(LeverSetting(short_leverage=6.0)), "short_leverage"),
        (lambda: L.lever_inputs("default"), "LeverSetting"),
        (lambda: L.lever_curve("moon", [1.0]), "lever"),
        (lambda: L.lever_curve("free_float", [0.0]), "multipliers"),
        (lambda: L.lever_table(step=0.0), "step"),
        (lambda: L.lever_table(step=0.95), "step"),
        (lambda: L.snipe(-1.0), "q"),
        (lambda: L.snipe(1.0, ignitor_usd=0.0), "ignitor_usd"),
        (lambda: L.basis_carry(0.001, interval_hours=0.0), "interval_hours"),
        (lambda: L.venue_critical_ignition(None), "scenario"),
        (lambda: L.venue_critical_ignition(rocketcoin_two_market(), lo=5.0, hi=1.0), "lo"),
        (lambda: L.two_market_lever_table("binance"), "venues"),
        (lambda: L.snipe([[1.0, 2.0]]), "q"),
        (lambda: L.snipe(1e300), "q"),
        (lambda: L.lever_curve("free_float", [[1.0]]), "multipliers"),
        (lambda: L.lever_inputs(LeverSetting(free_float=1e308)), "free_float"),
        (lambda: L.lever_inputs(LeverSetting(short_leverage=1e-300)), "short_leverage"),
        # fuzz findings (issue: levers fuzz specs)
        (lambda: L.lever_curve(["free_float"], [1.0]), "lever"),
        (lambda: L.lever_curve("free_float", [1.0], setting="x"), "setting"),
        (lambda: L.lever_outcome(1.0), "setting"),
        (lambda: L.snipe(1.0, setting=[1.0]), "setting"),
        (lambda: L.lever_table(step=5e-324), "step"),
        (lambda: L.basis_carry(0.001, interval_hours=5e-324), "interval_hours"),
        (lambda: L.basis_carry(0.001, interval_hours=1e6), "interval_hours"),
        (lambda: L.venue_critical_ignition(rocketcoin_two_market(), n_grid=10**400), "n_grid"),
        (lambda: L.venue_critical_ignition(rocketcoin_two_market(), n_grid=2.0), "n_grid"),
        (lambda: L.venue_critical_ignition(rocketcoin_two_market(), rtol=5e-324), "rtol"),
        (lambda: L.two_market_lever_table(None), "venues"),
        (lambda: L.two_market_lever_table(1.0), "venues"),
        (lambda: L.two_market_lever_table(()), "venues"),
        (lambda: L.two_market_lever_table(("moon",)), "venues"),
    ],
)
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        call()
    assert isinstance(info.value, ValueError)


# ----------------------------------------------------------------------------- funding


def test_basis_carry_follows_the_funding_formula():
    c = L.basis_carry(np.array([-0.0003, 0.0, 0.0005, 0.001, 0.1]))
    assert c[1] == pytest.approx(0.0001 * 3 * 365)  # the interest floor
    assert c[2] == pytest.approx(0.0001 * 3 * 365)  # still inside the band
    assert c[3] == pytest.approx((0.001 - 0.0005) * 3 * 365)
    assert c[4] == pytest.approx(0.02 * 3 * 365)  # the 2 % cap
    assert np.all(np.diff(c) >= 0)
    assert L.basis_carry(0.001, interval_hours=4) == pytest.approx(c[3])


# ----------------------------------------------------------------------------- two markets


def test_venue_critical_ignition_finds_the_first_closing_ignition():
    sc = rocketcoin_two_market("binance")
    crit = L.venue_critical_ignition(sc, lo=1e5, hi=1e6, n_grid=6, rtol=0.01)
    assert crit.grid.shape == crit.closed.shape == (6,)
    assert 1e5 < crit.usd <= 1e6
    assert L._all_closed(sc, crit.usd)[0]
    assert not L._all_closed(sc, crit.usd / 1.01 / 1.001)[0]
    # every grid point below it fails
    assert not crit.closed[crit.grid < crit.usd].any()
    # the engine is not monotone in the ignition: a larger one can stop short
    far = L.venue_critical_ignition(sc, lo=1e5, hi=2e6, n_grid=12)
    assert not far.closes_above and far.closed.any() and not far.closed[-1]
    none = L.venue_critical_ignition(sc, lo=1e4, hi=1.5e5, n_grid=3)
    assert math.isinf(none.usd) and not none.closed.any()
    with pytest.raises(InvalidInputError, match="n_grid"):
        L.venue_critical_ignition(sc, n_grid=1)


# ----------------------------------------------------------------------------- sniper

_Q = np.linspace(0.0, 16_000.0, 65)


@pytest.fixture(scope="module")
def sniped():
    return L.snipe(_Q, ignitor_usd=150_000.0)


def test_sniper_without_size_changes_nothing(sniped):
    assert sniped.pnl[0] == 0.0 and sniped.entry_usd[0] == 0.0
    assert sniped.shorts_extra_loss[0] == 0.0


def test_sniper_pays_only_past_the_cluster(sniped):
    be = sniped.break_even_q
    assert np.isfinite(be)
    below = np.less(_Q, be)
    above = ~below
    assert np.all(sniped.pnl[below & (_Q > 0)] < 0)
    assert np.all(sniped.pnl[above] >= 0)
    # it pays exactly where the combined buying fires the first tranche
    assert np.all(sniped.n_liquidated[below] == 0)
    assert np.all(sniped.n_liquidated[above] > 0)
    # the smallest firing q is what the ignitor leaves to the critical ignition
    crit = lever_outcome().critical_coins
    q0 = L.lever_inputs().book.walk(1, [150_000.0], by_notional=True).qty[0]
    i = int(np.searchsorted(_Q, be))
    assert q0 + _Q[i] >= crit > q0 + _Q[i - 1]


def test_sniper_is_vectorised_and_monotone(sniped):
    one = L.snipe(float(_Q[40]), ignitor_usd=150_000.0)
    assert one.pnl[0] == pytest.approx(sniped.pnl[40], rel=1e-12)
    assert np.all(np.diff(sniped.entry_usd) > 0)
    assert np.all(np.diff(sniped.shorts_extra_loss) >= -1e-6)
    assert np.all(np.diff(sniped.final_price) >= 0)
    # the sniper never sells above the top of the cascade
    assert np.all(sniped.exit_usd <= _Q * sniped.final_price + 1e-6)


@settings(max_examples=25)
@given(q=st.floats(0.0, 30_000.0), usd=st.floats(60_000.0, 190_000.0))
def test_sniper_money_adds_up(q, usd):
    r = L.snipe(q, ignitor_usd=usd)
    assert r.pnl[0] == pytest.approx(r.exit_usd[0] - r.entry_usd[0], abs=1e-6)
    # entry = the ladder between the ignitor's last coin and the sniper's
    book = L.lever_inputs().book
    q0 = book.walk(1, [usd], by_notional=True).qty[0]
    cost = book.cost_curve(1, [q0, q0 + q], partial=True) if q > 0 else [0.0, 0.0]
    assert r.entry_usd[0] == pytest.approx(cost[1] - cost[0], abs=1e-6)
    assert r.shorts_extra_loss[0] >= -1e-6


# ----------------------------------------------------------------------------- panels

widgets = pytest.importorskip("perpsbook.widgets")

PANELS = {
    "lever_explorer": (
        lambda: widgets.lever_explorer(),
        {"change": 0.8, "lever": "short_leverage"},
    ),
    "infrastructure_explorer": (
        lambda: widgets.infrastructure_explorer(),
        {"venue": "bybit", "hedge": 0.6, "lag": 2, "repost": 0.5},
    ),
    "sniper_explorer": (
        lambda: widgets.sniper_explorer(),
        {"ignitor": 100.0, "q": 2_000.0},
    ),
}


@pytest.mark.parametrize("name", list(PANELS))
def test_every_control_changes_the_output(name):
    build, moves = PANELS[name]
    panel = build()
    assert set(moves) == set(panel.controls)
    assert panel.image.value[:8] == b"\x89PNG\r\n\x1a\n" and panel.text
    for control, value in moves.items():
        before = (panel.image.value, panel.text)
        panel.controls[control].value = value
        assert not panel.text.startswith("invalid input"), panel.text
        assert panel.text != before[1], f"{name}.{control} did not change the text"
        assert panel.image.value != before[0], f"{name}.{control} did not redraw"
    assert plt.get_fignums() == []


def test_lever_panel_follows_the_model():
    p = widgets.lever_explorer(lever="short_interest", change=0.9)
    c = lever_outcome(LeverSetting(short_interest=0.9)).critical_usd
    assert f"critical ignition {c:,.0f} USD" in p.text
    p.controls["lever"].value = "perp_passthrough"
    p.controls["change"].value = 1.2
    assert "outside its range" in p.text


@pytest.mark.parametrize(
    ("build", "kwargs", "arg"),
    [
        (widgets.lever_explorer, {"lever": "moon"}, "lever"),
        (widgets.lever_explorer, {"change": 3.0}, "change"),
        (widgets.infrastructure_explorer, {"venue": "ftx"}, "venue"),
        (widgets.infrastructure_explorer, {"lag": 9}, "lag"),
        (widgets.sniper_explorer, {"q": -5.0}, "q"),
        (widgets.sniper_explorer, {"ignitor_usd": 1e9}, "ignitor_usd"),
    ],
)
def test_panel_start_values_are_checked(build, kwargs, arg):
    with pytest.raises(InvalidInputError, match=arg):
        build(**kwargs)


TWINS = {
    "lever_explorer_twin": (6, 9),
    "infrastructure_explorer_twin": (3, 2, 3, 2),
    "sniper_explorer_twin": (3, 9),
}


@pytest.mark.parametrize("name", list(TWINS))
def test_twins(name):
    twin = getattr(widgets, name)()
    assert twin.shape == TWINS[name]
    assert twin.n_points == len(twin.texts) == len(twin.frame_of)
    assert re.match(r'<div class="pb-static-panel" id="pb-[0-9a-f]{12}"', twin.html)
    controls = re.findall(r'<(input type="range"|select) [^>]*data-axis="(\d+)"', twin.html)
    assert sorted(int(a) for _, a in controls) == list(range(len(twin.shape)))
    assert len(twin.html) < 2_500_000
    # every axis moves the text somewhere on the grid
    texts = np.array(twin.texts, dtype=object).reshape(twin.shape)
    for axis in range(len(twin.shape)):
        moved = np.moveaxis(texts, axis, 0).reshape(twin.shape[axis], -1)
        assert any(len(set(col)) > 1 for col in moved.T), f"{name}: axis {axis} is inert"
    assert plt.get_fignums() == []


def test_snipe_break_even_is_inf_only_when_no_size_breaks_even():
    # documented sentinel (SnipeResult.break_even_q): q = 0 alone has no break-even size
    assert L.snipe(0.0).break_even_q == float("inf")
    assert np.isfinite(L.snipe([0.0, 5e4]).pnl).all()
