"""Tests of perpsbook.rocket (rerun any stage), its figures and its panel."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook import plots
from perpsbook.cascade import run_stage
from perpsbook.errors import InvalidInputError
from perpsbook.rocket import (
    forced_parts,
    rerun_from,
    restate,
    short_triggers,
    stage_table,
    stage_view,
    trades_table,
)
from perpsbook.scenarios import rocketcoin, rocketcoin_two_market
from perpsbook.twomarket import is_two_market_settled, run_two_market_stage
from perpsbook.widgets.rocket import (
    MODELS,
    _base,
    rocket_stage_explorer,
    rocket_stage_player,
    rocket_stage_update,
)

VENUES = ("binance", "bybit", "hyperliquid")


@pytest.fixture(scope="module")
def one():
    return rocketcoin().run()


@pytest.fixture(scope="module", params=VENUES)
def two(request):
    return rocketcoin_two_market(request.param).run()


def _manual_two(result, stage, **changes):
    """The stages from ``stage`` on, by hand: restate, then run_two_market_stage."""
    snap, params = restate(result, stage, **changes)
    records = []
    while True:
        rec, snap = run_two_market_stage(snap, params)
        records.append(rec)
        if is_two_market_settled(snap, params) or snap.stage > params.max_stages:
            return records


def _manual_one(result, stage, **changes):
    from perpsbook.cascade import is_settled

    snap, tranches, params = restate(result, stage, **changes)
    records = []
    while True:
        rec, snap = run_stage(snap, tranches, params)
        records.append(rec)
        if is_settled(snap, tranches) or snap.stage > params.max_stages:
            return records


def test_no_change_reproduces_every_stage(one, two):
    for res in (one, two):
        for k in range(len(res.records)):
            again = rerun_from(res, k)
            assert again.records == res.records
            assert again.amplification == pytest.approx(res.amplification, rel=1e-12)


def test_rerun_matches_stage_functions_two(two):
    for k in range(len(two.records)):
        changes = dict(hedge_ratio=0.5, lag=1, perp_depth=2.0, tranche_scale=1.5)
        got = rerun_from(two, k, **changes)
        assert got.records[:k] == two.records[:k]
        assert got.records[k:] == tuple(_manual_two(two, k, **changes))
        assert got.ledger_imbalance < 1e-6


def test_rerun_matches_stage_functions_one(one):
    for k in range(len(one.records)):
        changes = dict(hedge_ratio=0.5, lag=1, spot_depth=1.5, tranche_scale=0.8)
        got = rerun_from(one, k, **changes)
        assert got.records[:k] == one.records[:k]
        assert list(got.records[k:]) == _manual_one(one, k, **changes)


def test_venue_switch_at_ignition_is_that_venues_run():
    base = rocketcoin_two_market("binance").run()
    for venue in VENUES:
        want = rocketcoin_two_market(venue).run()
        got = rerun_from(base, 0, venue=venue)
        assert got.final_mark == pytest.approx(want.final_mark, rel=1e-9)
        assert got.amplification == pytest.approx(want.amplification, rel=1e-9)


def test_changes_act():
    base = rocketcoin_two_market("bybit").run()
    no_hedge = rerun_from(base, 1, hedge_ratio=0.0)
    assert no_hedge.spot_hedge_notional == 0.0
    assert no_hedge.final_spot == base.records[0].spot_after  # nothing reaches spot
    deep = rerun_from(base, 1, spot_depth=4.0)
    assert deep.final_spot < base.final_spot
    lagged = rerun_from(base, 1, lag=2)
    assert lagged.records[1].spot_hedge_qty == 0.0  # the hedge waits two stages
    bigger = rerun_from(base, 1, tranche_scale=2.0)
    assert bigger.records[1].liquidated_qty == pytest.approx(
        2 * base.records[1].liquidated_qty, rel=1e-9
    )


def test_lag_queue_resize_keeps_hedges():
    base = rocketcoin_two_market("bybit", lag=2).run()
    for k in range(1, len(base.records)):
        for lag in (0, 1, 3):
            snap, _ = restate(base, k, lag=lag)
            assert len(snap.mm.pending) == lag + 1
            assert sum(snap.mm.pending) == pytest.approx(sum(base.snapshots[k].mm.pending))


@pytest.mark.parametrize(
    "changes",
    [
        {"perp_depth": 2.0},
        {"venue": "binance"},
        {"arbitrage_usd": 1e5},
        {"nonsense": 1},
    ],
)
def test_one_ladder_refuses_two_market_changes(one, changes):
    with pytest.raises(InvalidInputError, match="one-ladder"):
        rerun_from(one, 1, **changes)


@pytest.mark.parametrize(
    ("stage", "changes", "match"),
    [
        (99, {}, "stage"),
        (-1, {}, "stage"),
        (True, {}, "stage"),
        (1, {"venue": "ftx"}, "venue"),
        (1, {"spot_depth": 0.0}, "spot_depth"),
        (1, {"tranche_scale": float("nan")}, "tranche_scale"),
        (1, {"hedge_ratio": 3.0}, "hedge_ratio"),
        (1, {"wat": 1.0}, "cannot change"),
    ],
)
def test_bad_input(stage, changes, match):
    base = _base("bybit")
    with pytest.raises(InvalidInputError, match=match):
        rerun_from(base, stage, **changes)


def test_bad_result():
    with pytest.raises(InvalidInputError, match="result"):
        rerun_from("run", 0)


@settings(max_examples=15, deadline=None)
@given(
    h=st.floats(0.0, 2.0),
    scale=st.floats(0.5, 2.0),
    depth=st.floats(0.5, 3.0),
    stage=st.integers(0, 4),
)
def test_rerun_conserves_money(h, scale, depth, stage):
    base = _base("bybit")
    got = rerun_from(base, stage, hedge_ratio=h, tranche_scale=scale, spot_depth=depth)
    assert got.ledger_imbalance < 1e-6 * max(1.0, got.forced_buy_notional)
    p = forced_parts(got)
    assert p["total"] == pytest.approx(got.forced_buy_notional, rel=1e-12)


@settings(max_examples=10, deadline=None)
@given(h1=st.floats(0.0, 2.0), h2=st.floats(0.0, 2.0))
def test_one_ladder_forced_buying_monotone_in_hedge(h1, h2):
    lo, hi = sorted((h1, h2))
    base = _base("one ladder")
    a = rerun_from(base, 1, hedge_ratio=lo)
    b = rerun_from(base, 1, hedge_ratio=hi)
    assert a.final_price <= b.final_price + 1e-9


def test_views(one, two):
    for res in (one, two):
        v = stage_view(res)
        assert v["stage"].size == len(res.records)
        p = forced_parts(res)
        assert p["amplification"] == pytest.approx(res.amplification, rel=1e-12)
        trig, coins = short_triggers(res)
        np.testing.assert_allclose(trig, [11, 12, 13, 14, 15])
        assert coins.sum() == pytest.approx(748_326.673, rel=1e-6)
        table = stage_table(res, start=2)
        assert max(len(line) for line in table.splitlines()) <= 80
        assert "2*" in table
        assert "buyer" in trades_table(res, 1)
    one_v = stage_view(one)
    assert np.array_equal(one_v["spot"], one_v["mark"])


def test_figures(one, two):
    for res in (one, two):
        fig = plots.rocket_stages_figure(res, upto=1)
        again = plots.rocket_stages_figure(res, fig=fig, rerun_from=1, base=res)
        assert again is fig
        plt.close(fig)
    with pytest.raises(InvalidInputError, match="upto"):
        plots.rocket_stages_figure(one, upto=99)
    plt.close(plots.rocket_models_figure({"one": forced_parts(one), "two": forced_parts(two)}))
    plt.close(plots.variants_figure({"default": one}))
    plt.close(
        plots.ignition_cliff_figure([1e5, 2e5], {"one": [0.0, 100.0]}, critical={"one": 1.5e5})
    )
    with pytest.raises(InvalidInputError):
        plots.ignition_cliff_figure([2e5, 1e5], {})


def _values(model, stage, **over):
    v = {
        "model": model,
        "stage": stage,
        "tranche_scale": 1.2,
        "hedge_ratio": 0.7,
        "lag": 1,
        "spot_depth": 1.3,
        "perp_depth": 1.5,
        "refill": 0.2,
        "arbitrage_usd": 1e5,
        "venue": "same",
    }
    v.update(over)
    return v


@pytest.mark.parametrize("model", MODELS)
def test_panel_update_every_stage_matches_stage_functions(model):
    """The panel's update for every stage: its table is the one the stage functions give
    from the same snapshot (run_two_market_stage / run_stage)."""
    from perpsbook.widgets.rocket import _changes

    base = _base(model)
    for k in range(len(base.records)):
        v = _values(model, k)
        fig, text = rocket_stage_update(v)
        plt.close(fig)
        changes = _changes(v, model)
        if model == "one ladder":
            manual = _manual_one(base, k, **changes)
        else:
            manual = _manual_two(base, k, **changes)
        expect = rerun_from(base, k, **changes)
        assert list(expect.records[k:]) == list(manual)
        assert stage_table(expect, start=k) in text


def test_panel_controls_and_stage_slider():
    p = rocket_stage_explorer("binance", 1)
    assert "stage" in p.controls["stage"].description
    first = p.text
    p.controls["hedge_ratio"].value = 0.0
    assert p.text != first
    p.controls["model"].value = "hyperliquid"
    assert p.controls["stage"].max == len(_base("hyperliquid").records) - 1
    assert "invalid input" not in p.text
    p.controls["venue"].value = "bybit"
    assert "invalid input" not in p.text
    with pytest.raises(InvalidInputError, match="stage"):
        rocket_stage_explorer("hyperliquid", 9)
    with pytest.raises(InvalidInputError, match="model"):
        rocket_stage_explorer("ftx")


def test_stage_player_is_static():
    tw = rocket_stage_player("hyperliquid", dpi=30)
    html = tw._repr_html_()
    assert "pb-static-panel" in html
    assert tw.n_points == len(_base("hyperliquid").records)


def test_every_control_changes_the_output():
    p = rocket_stage_explorer("binance", 1)
    moves = {
        "tranche_scale": 1.5,
        "hedge_ratio": 0.5,
        "lag": 1,
        "spot_depth": 2.0,
        "perp_depth": 2.0,
        "refill": 0.5,
        "arbitrage_usd": 5e5,
        "venue": "bybit",
        "stage": 2,
        "model": "one ladder",
    }
    assert set(moves) == set(p.controls)
    for name, value in moves.items():
        before = (p.image.value, p.text)
        p.controls[name].value = value
        assert not p.text.startswith("invalid input"), (name, p.text)
        assert (p.image.value, p.text) != before, name
    assert plt.get_fignums() == []


def test_ignition_threshold():
    from perpsbook.rocket import ignition_threshold
    from perpsbook.theory import critical_ignition

    s = rocketcoin()
    want = critical_ignition(
        s.book, s.tranches.trigger_price, s.tranches.size, hedge_ratio=1.0
    ).notional
    got = ignition_threshold(lambda x: rocketcoin(ignition=x).run(), 1e5, 3e5, tol=0.01)
    assert got == pytest.approx(want, abs=0.02)
    assert rocketcoin(ignition=got).run().total_liquidated_qty > 0
    with pytest.raises(InvalidInputError, match="bracket"):
        ignition_threshold(lambda x: rocketcoin(ignition=x).run(), 2.5e5, 3e5)
    with pytest.raises(InvalidInputError, match="lo"):
        ignition_threshold(lambda x: rocketcoin(ignition=x).run(), 3e5, 1e5)
