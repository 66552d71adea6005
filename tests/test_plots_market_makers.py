"""Tests of the market-makers chapter's figures and panel (perpsbook.plots/widgets).

The model they draw (forced_buy_prices, market_maker_path) is tested in test_hedging.py.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from perpsbook import funding as fu
from perpsbook import plots
from perpsbook.book import OrderBook
from perpsbook.errors import InvalidInputError
from perpsbook.hedging import MarketMaker, market_maker_path


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _deep() -> OrderBook:
    # 1,000 coins per cent from $11.00 to $30.00: room for every hypothesis example
    return OrderBook.calibrated(11.0, 12.0, 101_000.0, extend_to=30.0)


def _assert_labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.has_data()]
    assert axes
    assert any(ax.get_xlabel().strip() for ax in axes)
    for ax in axes:
        assert ax.get_ylabel().strip() or ax.get_shared_y_axes().joined(ax, axes[0])
    assert fig.get_suptitle().strip() or axes[0].get_title().strip()


# ------------------------------------------------------------------ figures


def _paths():
    book = _deep()
    return {
        f"lag {lag}": market_maker_path(MarketMaker(1.0, lag=lag), book, [1e6, 1e6])
        for lag in (0, 1)
    }


def test_figures_are_labelled():
    book = _deep()
    premium = np.linspace(-0.01, 0.01, 401)
    time = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
    figs = [
        plots.hedge_impact_figure(book, np.linspace(1e5, 2e6, 20), (0.0, 1.0)),
        plots.hedge_lag_figure(_paths(), dashed=("lag 1",)),
        plots.mm_pnl_figure(np.linspace(9, 14, 11), {"h = 0": np.linspace(2, -3, 11)}),
        plots.funding_rate_figure(premium, {"cap": fu.funding_rate(premium, cap=0.003)}),
        plots.basis_trade_figure(time, {"funding": np.cumsum(np.ones(10))}),
        plots.basis_trade_figure(np.arange(10), {"funding": np.zeros(10)}),
    ]
    for fig in figs:
        _assert_labelled(fig)


def test_hedge_lag_figure_dashes_reference_paths():
    fig = plots.hedge_lag_figure(_paths(), dashed=("lag 1",))
    styles = [line.get_linestyle() for line in fig.axes[0].get_lines()]
    assert styles == ["-", "--"]


def test_basis_trade_figure_colours_legs_by_role():
    legs = {"spot": np.arange(5.0), "perp": -np.arange(5.0), "total": np.zeros(5)}
    colors = {"spot": plots.COLORS["spot"], "perp": plots.COLORS["perp"]}
    fig = plots.basis_trade_figure(np.arange(5), legs, colors=colors)
    spot, perp, total = fig.axes[0].get_lines()[:3]
    assert matplotlib.colors.same_color(spot.get_color(), plots.COLORS["spot"])
    assert matplotlib.colors.same_color(perp.get_color(), plots.COLORS["perp"])
    assert not matplotlib.colors.same_color(total.get_color(), plots.COLORS["perp"])
    assert total.get_linewidth() > spot.get_linewidth()  # the last leg, the result, is wider


def test_funding_rate_figure_zoom_panel_only_near_zero():
    premium = np.linspace(-0.01, 0.01, 401)
    fig = plots.funding_rate_figure(premium, {"no cap": fu.funding_rate(premium, cap=np.inf)})
    x_zoom = fig.axes[0].get_lines()[0].get_xdata()
    assert np.max(np.abs(x_zoom)) <= 0.002
    assert fig.axes[1].get_lines()[0].get_xdata().size == premium.size


def test_figure_errors():
    with pytest.raises(InvalidInputError, match="paths"):
        plots.hedge_lag_figure({})
    with pytest.raises(InvalidInputError, match="pnls"):
        plots.mm_pnl_figure([10.0, 11.0], {})
    with pytest.raises(InvalidInputError, match="rates"):
        plots.funding_rate_figure([0.0, 0.001], {})
    with pytest.raises(InvalidInputError, match="legs"):
        plots.basis_trade_figure([0, 1], {})
    with pytest.raises(InvalidInputError, match="later_prices"):
        plots.mm_pnl_figure([0.0, 1.0], {"a": [0.0, 0.0]})


# ------------------------------------------------------------------ panel


def test_hedge_explorer_draws_and_updates():
    from perpsbook.widgets import hedge_explorer

    panel = hedge_explorer(forced_usd=3e6, hedge_ratio=1.0, lag=1)
    usd, h, lag = (panel.controls[k] for k in ("forced", "hedge", "lag"))
    assert "h = 1, lag 1: price 11.00 -> 13.35" in panel.text
    h.value = 0.0
    assert "h = 0, lag 1" in panel.text
    lag.value = 0
    usd.value = 1.0
    assert "h = 0, lag 0: price 11.00 -> 11.49" in panel.text


def test_hedge_explorer_rejects_bad_batches():
    from perpsbook.widgets import hedge_explorer

    with pytest.raises(InvalidInputError, match="batches"):
        hedge_explorer(batches=0)
