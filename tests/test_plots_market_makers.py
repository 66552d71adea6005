"""Tests of the market-makers chapter's helpers, figures and panel (perpsbook.plots/widgets)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from perpsbook import funding as fu
from perpsbook import plots
from perpsbook.book import OrderBook
from perpsbook.errors import InsufficientLiquidityError, InvalidInputError
from perpsbook.hedging import MarketMaker


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _ladder() -> OrderBook:
    # asks 11, 12, 13, 14, 15 USD with 1 coin each; bids 9 .. 5
    return OrderBook.flat_ladder(mid=10.0, tick=1.0, size_per_level=1.0, n_levels=5)


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


# ------------------------------------------------------------------ forced_buy_prices


def test_forced_buy_prices_hand_computed():
    book = _ladder()
    # $11 buys the 1 coin at $11; a full hedge buys the coin at $12
    assert plots.forced_buy_prices(book, 11.0, 0.0) == pytest.approx(11.0)
    assert plots.forced_buy_prices(book, 11.0, 1.0) == pytest.approx(12.0)
    # $17 buys 1 coin at $11 and 0.5 at $12: 1.5 coins; (1 + 1) * 1.5 = 3 coins end at $13
    assert plots.forced_buy_prices(book, 17.0, 1.0) == pytest.approx(13.0)
    # h = 0.5 on 1.5 coins: 2.25 coins end at $13
    assert plots.forced_buy_prices(book, 17.0, 0.5) == pytest.approx(13.0)
    # $11 and h = 2: 3 coins end at $13
    assert plots.forced_buy_prices(book, 11.0, 2.0) == pytest.approx(13.0)


def test_forced_buy_prices_broadcasts():
    out = plots.forced_buy_prices(_ladder(), [[11.0], [17.0]], [0.0, 1.0])
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[11.0, 12.0], [12.0, 13.0]])


def test_forced_buy_prices_errors():
    book = _ladder()
    with pytest.raises(InsufficientLiquidityError, match="USD"):
        plots.forced_buy_prices(book, 66.0, 0.0)  # the asks hold $65
    with pytest.raises(InsufficientLiquidityError):
        plots.forced_buy_prices(book, 40.0, 1.0)  # engine fits, hedge does not
    with pytest.raises(InvalidInputError, match="forced_usd"):
        plots.forced_buy_prices(book, 0.0, 1.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        plots.forced_buy_prices(book, 11.0, -0.1)


# ------------------------------------------------------------------ market_maker_path


def test_market_maker_path_hand_computed():
    path = plots.market_maker_path(MarketMaker(1.0), _ladder(), [11.0])
    np.testing.assert_array_equal(path.stage, [0, 1])
    np.testing.assert_allclose(path.price, [11.0, 12.0])
    np.testing.assert_allclose(path.forced_qty, [0.0, 1.0])
    np.testing.assert_allclose(path.hedge_qty, [0.0, 1.0])
    np.testing.assert_allclose(path.hedge_usd, [0.0, 12.0])
    np.testing.assert_allclose(path.perp_position, [0.0, -1.0])
    np.testing.assert_allclose(path.spot_position, [0.0, 1.0])
    np.testing.assert_allclose(path.delta, [0.0, 0.0])
    # sold the perp at $11, bought the hedge at $12
    np.testing.assert_allclose(path.cash, [0.0, -1.0])
    np.testing.assert_allclose(path.pnl, [0.0, -1.0])


def test_market_maker_path_lag_delays_the_hedge():
    path = plots.market_maker_path(MarketMaker(1.0, lag=1), _ladder(), [11.0])
    np.testing.assert_array_equal(path.stage, [0, 1, 2])
    np.testing.assert_allclose(path.price, [11.0, 11.0, 12.0])
    np.testing.assert_allclose(path.delta, [0.0, -1.0, 0.0])
    assert path.max_abs_delta == pytest.approx(1.0)
    assert path.final_price == pytest.approx(12.0)
    # marked at $11 while unhedged: no loss yet
    np.testing.assert_allclose(path.pnl, [0.0, 0.0, -1.0])


def test_market_maker_path_no_hedge_and_limit():
    bare = plots.market_maker_path(MarketMaker(0.0), _ladder(), [11.0, 12.0])
    np.testing.assert_allclose(bare.hedge_qty, 0.0)
    np.testing.assert_allclose(bare.delta, [0.0, -1.0, -2.0])
    limited = plots.market_maker_path(
        MarketMaker(1.0, lag=3, inventory_limit=0.5), _ladder(), [11.0]
    )
    assert limited.max_abs_delta == pytest.approx(0.5)


def test_market_maker_path_errors():
    with pytest.raises(InvalidInputError, match="MarketMaker"):
        plots.market_maker_path(object(), _ladder(), [11.0])
    with pytest.raises(InvalidInputError, match="forced_usd"):
        plots.market_maker_path(MarketMaker(), _ladder(), [-1.0])
    with pytest.raises(InvalidInputError, match="forced_usd"):
        plots.market_maker_path(MarketMaker(), _ladder(), [])
    with pytest.raises(InvalidInputError, match="price"):
        plots.market_maker_path(MarketMaker(), _ladder(), [11.0], price=0.0)


usd_lists = st.lists(st.floats(1e4, 2e6), min_size=1, max_size=4)


@settings(max_examples=60)
@given(usd=usd_lists, h=st.floats(0.0, 2.0), lag=st.integers(0, 3))
def test_market_maker_path_accounting(usd, h, lag):
    path = plots.market_maker_path(MarketMaker(h, lag=lag), _deep(), usd)
    sold = path.forced_qty.sum()
    assert path.stage.size == len(usd) + lag + 1
    assert path.perp_position[-1] == pytest.approx(-sold, rel=1e-12)
    assert path.spot_position[-1] == pytest.approx(h * sold, rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(path.forced_usd[1 : len(usd) + 1], usd, rtol=1e-12)
    # buying only ever lifts the last traded price
    assert np.all(np.diff(path.price) >= 0)
    # P&L = cash + delta * price (perp mark = spot price, no fees)
    np.testing.assert_allclose(path.pnl, path.cash + path.delta * path.price, atol=1e-6 * sum(usd))


@settings(max_examples=60)
@given(usd=st.floats(1e4, 3e6), h=st.floats(0.0, 2.0), lag=st.integers(1, 3))
def test_single_batch_final_price_ignores_lag_and_matches_the_grid(usd, h, lag):
    book = _deep()
    now = plots.market_maker_path(MarketMaker(h), book, [usd])
    later = plots.market_maker_path(MarketMaker(h, lag=lag), book, [usd])
    assert later.final_price == now.final_price
    assert abs(now.final_price - plots.forced_buy_prices(book, usd, h)) <= 0.01 + 1e-9


# ------------------------------------------------------------------ figures


def _paths():
    book = _deep()
    return {
        f"lag {lag}": plots.market_maker_path(MarketMaker(1.0, lag=lag), book, [1e6, 1e6])
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


def test_rkt_book_after_ignition():
    from perpsbook.widgets import rkt_book_after_ignition

    book = rkt_book_after_ignition()
    assert book.best_ask == pytest.approx(11.0)
    # the first layer (90,909 RKT) fully hedged lifts the price to $12.00 (the article's stage 1)
    assert book.impact_curve(1, [2 * 1e6 / 11.0])[0] == pytest.approx(12.0)


def test_hedge_explorer_draws_and_updates(capsys):
    from perpsbook.widgets import hedge_explorer

    panel = hedge_explorer(forced_usd=3e6, hedge_ratio=1.0, lag=1)
    controls, _out = panel.children
    usd, h, lag = controls.children
    first = capsys.readouterr().out
    assert "h = 1, lag 1: price 11.00 -> 13.35" in first
    h.value = 0.0
    assert "h = 0, lag 1" in capsys.readouterr().out
    lag.value = 0
    usd.value = 1.0
    assert "h = 0, lag 0: price 11.00 -> 11.49" in capsys.readouterr().out


def test_hedge_explorer_rejects_bad_batches():
    from perpsbook.widgets import hedge_explorer

    with pytest.raises(InvalidInputError, match="batches"):
        hedge_explorer(batches=0)
