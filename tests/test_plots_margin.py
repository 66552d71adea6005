"""Tests of the margin-chapter figures (perpsbook.plots) and panel (perpsbook.widgets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from perpsbook import plots
from perpsbook.errors import InvalidInputError
from perpsbook.margin import ALTCOIN, BINANCE, BYBIT, HYPERLIQUID, VENUES
from perpsbook.positions import Positions

THREE = [BINANCE, BYBIT, HYPERLIQUID]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _vlines(ax) -> list[float]:
    """x positions of the vertical lines (axvline) of an axes."""
    out = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        if x.size == 2 and x[0] == x[1] and tuple(line.get_ydata()) == (0, 1):
            out.append(float(x[0]))
    return out


def _line(ax, label_start: str):
    for line in ax.get_lines():
        if line.get_label().startswith(label_start):
            return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    raise AssertionError(f"no line labelled {label_start!r}")


# ------------------------------------------------------------------ colours and labels
def test_every_preset_has_a_colour_and_a_label():
    for name, venue in VENUES.items():
        assert matplotlib.colors.is_color_like(plots.venue_color(venue))
        assert plots.venue_color(name) == plots.VENUE_COLORS[name]
        assert plots.venue_label(venue) == plots.VENUE_LABELS[name]
    assert len(set(plots.VENUE_COLORS.values())) == len(plots.VENUE_COLORS)
    assert plots.venue_color("nowhere") == plots.COLORS["neutral"]
    assert plots.venue_label("nowhere") == "nowhere"
    assert "illustrative" in plots.venue_label(ALTCOIN)


# ------------------------------------------------------------------ schedule figure
def test_schedule_figure_plots_the_continuous_maintenance_margin():
    sched = BINANCE.schedule
    fig = plots.maintenance_schedule_figure(sched)
    assert isinstance(fig, Figure)
    ax_mm, ax_rate = fig.axes
    x, y = _line(ax_mm, "notional × MMR − maintenance amount")
    np.testing.assert_allclose(y, sched.maintenance_margin(x))
    # bracket floors drawn (those inside the plotted range)
    assert sorted(_vlines(ax_mm)) == pytest.approx(sorted(sched.floors[1:]))
    # effective rate never above the bracket rate, equal to it in the first bracket
    xr, rate = _line(ax_rate, "effective rate")
    assert np.all(rate <= sched.mmr_for(xr) + 1e-15)
    np.testing.assert_allclose(rate[xr <= 50_000], 0.004)
    assert "USD" in ax_mm.get_ylabel() and "USD" in ax_mm.get_xlabel()
    assert fig.get_suptitle() == sched.name


def test_schedule_figure_rejects_bad_input():
    with pytest.raises(InvalidInputError, match="TierSchedule"):
        plots.maintenance_schedule_figure(BINANCE)
    with pytest.raises(InvalidInputError, match="notionals"):
        plots.maintenance_schedule_figure(BINANCE.schedule, notionals=[1e3, -1.0])
    with pytest.raises(InvalidInputError, match="notionals"):
        plots.maintenance_schedule_figure(BINANCE.schedule, notionals=[1e3])


# ------------------------------------------------------------------ equity figure
def test_equity_figure_marks_liquidation_and_bankruptcy_prices():
    pos = Positions.from_leverage([1, -1], 1.0, 100_000.0, 10.0)
    fig = plots.equity_vs_mark_figure(pos, BINANCE)
    axes = np.array(fig.axes).reshape(2, 2)
    for col, (lp, bp) in enumerate([(90_402.01, 90_000.0), (109_502.49, 110_000.0)]):
        zoom = axes[1, col]
        xs = _vlines(zoom)
        assert any(abs(x - lp) < 0.01 for x in xs)
        assert bp in xs
        labels = " ".join(t.get_text() for t in zoom.get_legend().get_texts())
        assert f"{lp:,.2f}" in labels and f"{bp:,.2f}" in labels
        # equity meets the maintenance margin at the liquidation price
        x, eq = _line(zoom, "equity")
        _, mm = _line(zoom, "Binance-style MM")
        assert np.interp(lp, x, eq - mm) == pytest.approx(0.0, abs=0.5)
        assert np.interp(bp, x, eq) == pytest.approx(0.0, abs=1e-6)
        assert zoom.get_xlabel() == "mark price (USD per coin)"


def test_equity_figure_legend_sits_under_the_axes():
    pos = Positions.from_leverage(1, 1.0, 100_000.0, 10.0)
    fig = plots.equity_vs_mark_figure(pos, [BINANCE, BYBIT, HYPERLIQUID, ALTCOIN], overview=False)
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 < ax.get_window_extent().y0  # covers no line of the plot
    assert legend.y0 >= fig.bbox.y0  # and is not cut off


def test_equity_figure_one_row_and_never_liquidated_long():
    one_x = Positions(side=1, size=2.0, entry_price=100.0, margin=200.0)
    fig = plots.equity_vs_mark_figure(one_x, [BINANCE, BYBIT], overview=False)
    assert len(fig.axes) == 1
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("Binance-style" in t and "never liquidated" in t for t in labels)
    assert any("Bybit-style" in t and "LP 0.50" in t for t in labels)  # entry * MMR on Bybit


def test_equity_figure_rejects_bad_input():
    pos = Positions.from_leverage(1, 1.0, 100.0, 5.0)
    with pytest.raises(InvalidInputError, match="1 to 4"):
        plots.equity_vs_mark_figure(Positions.from_leverage(1, np.ones(5), 100.0, 5.0), BINANCE)
    with pytest.raises(InvalidInputError, match="at least one"):
        plots.equity_vs_mark_figure(pos, [])
    with pytest.raises(InvalidInputError, match="Venue"):
        plots.equity_vs_mark_figure(pos, [BINANCE.schedule])
    with pytest.raises(InvalidInputError, match="Positions"):
        plots.equity_vs_mark_figure([1, 1.0, 100.0, 20.0], BINANCE)
    with pytest.raises(InvalidInputError, match="titles"):
        plots.equity_vs_mark_figure(pos, BINANCE, titles=["a", "b"])


# ------------------------------------------------------------------ venues vs leverage
def test_leverage_figure_curves_end_at_each_venues_maximum():
    fig = plots.liquidation_vs_leverage_figure(THREE, 1.0, 100_000.0)
    top_long, top_short, low_long, _ = fig.axes
    for venue in THREE:
        lev, move = _line(top_long, plots.venue_label(venue))
        assert lev[0] == pytest.approx(1.0)
        assert lev[-1] == pytest.approx(venue.schedule.max_leverage_for(100_000.0))
        lp = venue.liquidation_price(1, 1.0, 100_000.0, 100_000.0 / lev[-1])
        assert move[-1] == pytest.approx((100_000.0 - lp) / 100_000.0)
    # Hyperliquid at 40x: MM = half the IM at max leverage, measured at the LP: 40/79 of it
    lev, lost = _line(low_long, "Hyperliquid-style")
    assert lost[-1] == pytest.approx(40 / 79)
    _, bk = _line(top_short, "bankruptcy")
    assert bk[0] == pytest.approx(1.0)
    assert "leverage" in fig.axes[2].get_xlabel()


@settings(max_examples=40)
@given(
    size=st.floats(1e-3, 1e3),
    entry=st.floats(1e-2, 1e5),
)
def test_leverage_figure_liquidation_always_before_bankruptcy(size, entry):
    fig = plots.liquidation_vs_leverage_figure([*THREE, ALTCOIN], size, entry, n_points=30)
    for ax in fig.axes[:2]:
        for line in ax.get_lines():
            if line.get_label().startswith("_") or line.get_label() == "bankruptcy":
                continue
            lev, move = (np.asarray(a, float) for a in line.get_data())
            # liquidated strictly before bankruptcy, except a 1x long (both prices 0)
            assert np.all(move > 0) and np.all(move <= (1.0 + 1e-12) / lev)
            assert np.all(move[lev > 1.0 + 1e-9] < 1.0 / lev[lev > 1.0 + 1e-9])
    plt.close(fig)


def test_leverage_figure_rejects_bad_input():
    with pytest.raises(InvalidInputError, match="size"):
        plots.liquidation_vs_leverage_figure(THREE, -1.0, 100.0)
    with pytest.raises(InvalidInputError, match="n_points"):
        plots.liquidation_vs_leverage_figure(THREE, 1.0, 100.0, n_points=1)


# ------------------------------------------------------------------ the panel
def test_venue_table_reproduces_binance_worked_example():
    from perpsbook.widgets import venue_liquidation_table

    # Binance FAQ: wallet 500 USDT behind a 0.02 BTC long at 50,000 -> LP 25,100.40
    text = venue_liquidation_table(1, 0.02, 50_000.0, 500.0, [BINANCE])
    assert "25,100.40" in text and "25,000.00" in text
    text = venue_liquidation_table("long", 1.0, 20_000.0, 400.0, [BYBIT])
    assert "19,700.00" in text and "19,600.00" in text  # Bybit Example 1


def test_venue_table_notes():
    from perpsbook.widgets import venue_liquidation_table

    text = venue_liquidation_table("long", 2.0, 100.0, 200.0)
    assert text.count("never liquidated") == 3  # all but the entry-basis venue
    text = venue_liquidation_table(-1, 30.0, 100_000.0, 200_000.0)
    assert "notional above the 2,000,000 USD limit" in text
    assert "leverage above the 4x allowed" in text
    assert "below maintenance already at entry" in text
    with pytest.raises(InvalidInputError, match="side"):
        venue_liquidation_table(0, 1.0, 100.0, 10.0)
    with pytest.raises(InvalidInputError, match="margin"):
        venue_liquidation_table(1, 1.0, 100.0, 0.0)


def test_calculator_draws_default_and_redraws():
    pytest.importorskip("ipywidgets")
    from perpsbook.widgets import liquidation_calculator

    panel = liquidation_calculator()
    assert "90,402.01" in panel.text  # Binance long 1 BTC at 100,000, 10x
    panel.controls["leverage"].value = 20.0
    # (5,000 + 50 - 100,000) / (0.005 - 1) = 95,427.14
    assert "95,427.14" in panel.text
    panel.controls["side"].value = "short"
    assert "short 1 coin" in panel.text
    panel.controls["size"].value = 3e7  # 3e12 USD: flagged, never raises
    assert "limit" in panel.text
    assert plt.get_fignums() == []
