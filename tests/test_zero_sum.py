"""Tests of who-paid-whom: perpsbook.payoffs, its figures, its panel and the panel's twin."""

from __future__ import annotations

import importlib.util
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbook import Ledger, plots, rocketcoin
from perpsbook.errors import InvalidInputError
from perpsbook.payoffs import (
    ENTRY_PRICE,
    POLICIES,
    ROLES,
    ZeroSum,
    account_role,
    cascade_zero_sum,
    marked_pnl,
    pnl_curves,
    rocketcoin_zero_sum,
    unwind_value,
    with_openings,
    zero_sum,
)

HAS_ENGINE = importlib.util.find_spec("perpsbook.twomarket") is not None
needs_engine = pytest.mark.skipif(not HAS_ENGINE, reason="two-market engine not merged yet")

ACCOUNTS = ("ignitor", "market_maker", "makers", "insurance_fund", "venue_fees", "a", "b")


def _tol(entries) -> float:
    return 1e-9 * max(1.0, entries.gross_usd())


# --------------------------------------------------------------------------- conservation


@st.composite
def ledgers(draw):
    """A random ledger: trades in both instruments, transfers and fees between accounts."""
    led = Ledger()
    n = draw(st.integers(1, 25))
    for _ in range(n):
        a, b = draw(st.lists(st.sampled_from(ACCOUNTS), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(["spot", "perp", "transfer", "fee"]))
        x = draw(st.floats(1e-3, 1e6))
        if kind in ("spot", "perp"):
            led.trade(a, b, x, draw(st.floats(0.01, 1e4)), kind)
        elif kind == "transfer":
            led.transfer(a, b, x, "stage 1 funding" if draw(st.booleans()) else "")
        else:
            led.fee(a, x, to=b)
    return led.entries


@given(
    ledgers(),
    st.floats(0.01, 1e4),
    st.floats(0.01, 1e4),
    st.lists(st.tuples(st.sampled_from([-1, 1]), st.floats(1e-3, 1e5)), max_size=4),
)
@settings(max_examples=150)
def test_every_column_and_the_pnl_sum_to_zero_at_any_marks(entries, ps, pp, opened):
    if opened:
        names = [f"{'long' if s > 0 else 'short'}:{i}" for i, (s, _) in enumerate(opened)]
        entries = with_openings(entries, names, [s for s, _ in opened], [q for _, q in opened], pp)
    zs = zero_sum(entries, ps, pp)
    totals = zs.totals()
    scale = _tol(entries) + 1e-9 * max(ps, pp) * float(np.abs(zs.spot).sum() + 1)
    scale += 1e-9 * max(ps, pp) * float(np.abs(zs.perp).sum())
    for name in ("usd", "value", "funding"):
        assert abs(totals[name]) <= scale, (name, totals)
    assert abs(totals["spot"]) <= 1e-9 * max(1.0, float(np.abs(zs.spot).sum()))
    assert abs(totals["perp"]) <= 1e-9 * max(1.0, float(np.abs(zs.perp).sum()))
    # grouping by role loses nothing: the roles' P&L is the accounts' P&L
    acc = marked_pnl(entries, ps, pp)
    assert math.isclose(
        math.fsum(v for v in zs.value if v > 0), zs.gross(), rel_tol=1e-12, abs_tol=1e-9
    )
    assert math.isclose(math.fsum(acc.values()), totals["value"], rel_tol=1e-9, abs_tol=scale)


@given(st.floats(0.0, 2.0), st.floats(100_000.0, 600_000.0), st.floats(0.5, 40.0))
@settings(max_examples=30)
def test_one_ladder_cascade_ledger_is_zero_sum(h, ignition, mark):
    result = rocketcoin(ignition=ignition, hedge_ratio=h).run()
    zs = cascade_zero_sum(result, ENTRY_PRICE, spot_price=mark)
    t = zs.totals()
    assert abs(t["usd"]) < 1e-6 and abs(t["spot"]) < 1e-6 and abs(t["perp"]) < 1e-6
    assert abs(t["value"]) < 1e-5
    # P&L is linear in the mark with slope = coins held
    _, curves = pnl_curves(zs.entries, [mark, 2 * mark])
    assert np.allclose(curves.sum(axis=1), 0.0, atol=1e-5)


def test_pnl_curves_match_marked_pnl():
    zs, _ = rocketcoin_zero_sum(None)
    accounts, vals = pnl_curves(zs.entries, [8.0, 12.0, 16.0], basis=0.1)
    for k, p in enumerate([8.0, 12.0, 16.0]):
        ref = marked_pnl(zs.entries, p, p * 1.1)
        assert np.allclose(vals[k], [ref[a] for a in accounts], atol=1e-6)


# --------------------------------------------------------------------------- the numbers


def test_liquidated_shorts_lose_their_margin_exactly():
    """Fund covers every deficit in the default run: each short loses (B - entry) x q."""
    result = rocketcoin().run()
    zs = cascade_zero_sum(result, ENTRY_PRICE)
    tr = result.tranches
    margin = float(np.sum((tr.bankruptcy_price - ENTRY_PRICE) * tr.size))
    assert math.isclose(zs.pnl()["liquidated traders"], -margin, rel_tol=1e-12)
    # their cash is the whole story once closed: no coins, no contracts left
    i = zs.roles.index("liquidated traders")
    assert zs.perp[i] == 0 and zs.spot[i] == 0


def test_default_one_ladder_winners_and_losers():
    zs, result = rocketcoin_zero_sum(None)
    win, lose = zs.winners(), zs.losers()
    assert next(iter(win)) == "other side"
    assert set(lose) >= {"liquidated traders", "resting orders", "market maker"}
    assert math.isclose(zs.gross(), -math.fsum(lose.values()), rel_tol=1e-9)
    # market maker and fund rows equal the engine's own P&L numbers
    assert math.isclose(zs.pnl()["market maker"], result.mm_pnl, rel_tol=1e-9)
    assert math.isclose(zs.pnl()["insurance fund"], result.insurance_fund_pnl, rel_tol=1e-9)


def test_unliquidated_and_adl_rows():
    zs, _ = rocketcoin_zero_sum(None, hedge_ratio=0.0)
    assert "not liquidated" in zs.roles
    assert zs.pnl()["not liquidated"] < 0
    zs, result = rocketcoin_zero_sum(None, variant="flat_book")
    assert result.adl_qty > 0
    assert zs.pnl()["ADL'd traders"] > 0  # closed at the bankruptcy price, above entry


def test_marks_change_who_is_up_not_the_sum():
    result = rocketcoin().run()
    high = cascade_zero_sum(result, ENTRY_PRICE)
    low = cascade_zero_sum(result, ENTRY_PRICE, spot_price=ENTRY_PRICE)
    assert high.pnl()["resting orders"] < 0 < low.pnl()["resting orders"]
    assert abs(low.totals()["value"]) < 1e-6
    # cash does not depend on the mark
    assert np.array_equal(high.usd, low.usd)


def test_unwind_sells_into_the_bids_left():
    result = rocketcoin().run()
    book = result.snapshots[-1].book
    q, usd = unwind_value(book, result.ignition_qty)
    assert math.isclose(q, result.ignition_qty)
    assert usd < result.ignition_qty * result.final_price
    assert usd / q <= book.best_bid + 1e-12
    with pytest.raises(InvalidInputError, match="side"):
        unwind_value(book, 1.0, side=0)
    with pytest.raises(InvalidInputError, match="book"):
        unwind_value("book", 1.0)
    with pytest.raises(InvalidInputError, match="qty"):
        unwind_value(book, -1.0)


# --------------------------------------------------------------------------- roles, errors


def test_account_roles():
    led = Ledger()
    led.trade("short:0", "market_maker", 1.0, 10.0, "perp", "liquidation fill")
    led.trade("short:1", "long:2", 1.0, 10.0, "perp", "ADL at bankruptcy price")
    led.transfer("short:0", "funding_pool", 1.0, "stage 1 funding")
    e = led.entries
    assert account_role("short:0", e) == "liquidated traders"
    assert account_role("long:2", e) == "ADL'd traders"
    assert account_role("short:7", e) == "not liquidated"
    assert account_role("long:9", e) == "other side"
    assert account_role("spot_makers") == "resting orders"
    assert account_role("venue_fees") == account_role("venue") == "venue"
    assert account_role("whoever") == "whoever"
    for name in ("ignitor", "insurance fund", "backstop vault", "funding pool"):
        assert name in ROLES
    zs = zero_sum(e, 10.0)
    assert zs.funding[zs.roles.index("funding pool")] == 1.0
    with pytest.raises(InvalidInputError, match="account"):
        account_role("")


def test_bad_inputs_are_named():
    e = Ledger().entries
    with pytest.raises(InvalidInputError, match="spot_price"):
        zero_sum(e, float("nan"))
    with pytest.raises(InvalidInputError, match="perp_price"):
        marked_pnl(e, 1.0, -2.0)
    with pytest.raises(InvalidInputError, match="entries"):
        marked_pnl({}, 1.0)
    with pytest.raises(InvalidInputError, match="side"):
        with_openings(e, ["a"], [0], [1.0], 1.0)
    with pytest.raises(InvalidInputError, match="size"):
        with_openings(e, ["a"], [1], [-1.0], 1.0)
    with pytest.raises(InvalidInputError, match="counterparty"):
        with_openings(e, ["a", "b"], [1, -1], [1.0, 1.0], 1.0, counterparty=["x"])
    with pytest.raises(InvalidInputError, match="prices"):
        pnl_curves(e, [[1.0]])
    with pytest.raises(InvalidInputError, match="policy"):
        rocketcoin_zero_sum("ftx")
    with pytest.raises(InvalidInputError, match="stage_seconds"):
        rocketcoin_zero_sum(None, stage_seconds=60.0)
    with pytest.raises(InvalidInputError, match="result"):
        cascade_zero_sum(object(), 10.0)


def test_table_has_a_total_row_of_zeros():
    zs, _ = rocketcoin_zero_sum(None)
    lines = zs.table("one ladder").splitlines()
    total = next(ln for ln in lines if ln.startswith("TOTAL"))
    assert total.split()[1:] == ["0", "0", "0", "0"]
    assert max(len(ln) for ln in lines) <= 80


# --------------------------------------------------------------------------- figures


def test_figures_draw():
    zs, _ = rocketcoin_zero_sum(None)
    figs = [
        plots.zero_sum_waterfall(zs),
        plots.pnl_against_mark_figure(zs, np.linspace(8, 20, 30), entry_price=10.0),
        plots.policy_pnl_figure({"a": zs, "b": zs}),
    ]
    for fig in figs:
        assert fig.axes and fig.axes[0].get_title()
        plt.close(fig)
    with pytest.raises(InvalidInputError, match="ZeroSum"):
        plots.zero_sum_waterfall(object())
    with pytest.raises(InvalidInputError, match="ledgers"):
        plots.policy_pnl_figure({})


# --------------------------------------------------------------------------- two markets


@needs_engine
@pytest.mark.parametrize("policy", POLICIES)
def test_two_market_ledgers_are_zero_sum(policy):
    zs, result = rocketcoin_zero_sum(policy, stage_seconds=3600.0)
    t = zs.totals()
    scale = 1e-9 * zs.entries.gross_usd()
    assert abs(t["usd"]) <= scale and abs(t["value"]) <= scale + 1e-6
    assert abs(t["funding"]) <= scale
    assert isinstance(zs, ZeroSum) and result.n_stages >= 2
    assert zs.pnl()["liquidated traders"] < 0


# --------------------------------------------------------------------------- panel, twin

widgets = pytest.importorskip("perpsbook.widgets")


def _shown(panel):
    return panel.text, bytes(panel.image.value)


def test_panel_every_control_changes_the_output():
    panel = widgets.zero_sum_explorer(model=None)
    before = _shown(panel)
    for name, value in (("hedge", 0.4), ("ignition", 400_000.0)):
        panel.controls[name].value = value
        after = _shown(panel)
        assert after[0] != before[0] and after[1] != before[1], name
        before = after
    if HAS_ENGINE:
        for policy in POLICIES:
            panel.controls["model"].value = policy
            after = _shown(panel)
            assert after != before, policy
            before = after
    assert "sum of all P&L: $0.00" in panel.text


def test_panel_rejects_bad_starts():
    with pytest.raises(InvalidInputError, match="model"):
        widgets.zero_sum_explorer(model="ftx")
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        widgets.zero_sum_explorer(model=None, hedge_ratio=3.0)
    with pytest.raises(InvalidInputError, match="ignition"):
        widgets.zero_sum_explorer(model=None, ignition=1.0)


@needs_engine
def test_twin_structure():
    twin = widgets.zero_sum_explorer_twin()
    assert twin.shape == (1 + len(POLICIES), 5, 3)
    assert [name for name, _ in twin.axes] == ["model", "hedge", "ignition"]
    assert 'class="pb-static-panel"' in twin.html
    assert all("sum of all P&L: $0.00" in t for t in twin.texts)
    assert len(twin.html) < 2_500_000
