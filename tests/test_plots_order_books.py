"""Tests of the order-books chapter's figures (perpsbook.plots) and panel (perpsbook.widgets).

The ladders they draw (perpsbook.scenarios.order_book_profiles) are tested in
test_scenarios.py.
"""

from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from perpsbook import plots
from perpsbook.book import OrderBook
from perpsbook.errors import InsufficientLiquidityError, InvalidInputError
from perpsbook.scenarios import order_book_profiles

widgets = pytest.importorskip("perpsbook.widgets")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _toy_book() -> OrderBook:
    return OrderBook.from_levels(
        bids=[(9.99, 1200.0), (9.98, 900.0), (9.97, 1500.0)],
        asks=[(10.01, 800.0), (10.02, 1100.0), (10.03, 1400.0), (10.04, 2000.0)],
    )


def _assert_labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.has_data()]
    assert axes, "figure has no axes with data"
    for ax in axes:
        assert ax.get_xlabel().strip(), f"unlabelled x axis in {ax.get_title()!r}"
        assert ax.get_ylabel().strip(), f"unlabelled y axis in {ax.get_title()!r}"
        assert ax.get_title().strip() or fig.get_suptitle().strip()


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def test_book_ladder_figure_shows_levels_and_fill():
    book = _toy_book()
    fill = book.buy(2_500.0)
    fig = plots.book_ladder_figure(book, n_levels=3, fill=fill)
    _assert_labelled(fig)
    ax = fig.axes[0]
    asks, bids, taken = ax.containers
    assert len(asks) == 3 and len(bids) == 3  # n_levels per side (the fill touched 3 asks)
    assert [b.get_width() for b in taken] == pytest.approx([800.0, 1100.0, 600.0])
    labels = ax.get_legend_handles_labels()[1]
    assert "VWAP 10.0192" in labels
    assert "last traded price 10.03" in labels
    # a tick at every level drawn, written to the cent
    np.testing.assert_allclose(sorted(ax.get_yticks()), [9.97, 9.98, 9.99, 10.01, 10.02, 10.03])
    assert ax.yaxis.get_major_formatter()(10.0) == "$10.00"
    # more levels drawn when the fill went deeper than n_levels
    deep = plots.book_ladder_figure(book, n_levels=1, fill=book.buy(3_500.0))
    assert len(deep.axes[0].containers[0]) == 4


def test_book_ladder_figure_sell_fill_and_bad_levels():
    book = _toy_book()
    fig = plots.book_ladder_figure(book, n_levels=1, fill=book.sell(2_000.0))
    assert len(fig.axes[0].containers[1]) == 2  # bids extended to the 2 levels hit
    with pytest.raises(InvalidInputError, match="n_levels"):
        plots.book_ladder_figure(book, n_levels=0)


def test_ask_profile_figure_lines_and_cut():
    books = order_book_profiles()
    fig = plots.ask_profile_figure(books, p_max=15.0)
    _assert_labelled(fig)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    low = min(book.ask_prices[0] for book in books.values())
    for line, book in zip(lines, books.values(), strict=True):
        x, y = line.get_xdata(), line.get_ydata()
        shown = book.ask_prices <= 15.0
        assert x.max() <= 15.0
        # every level drawn; a book starting above the lowest best ask is drawn at zero
        # from there up to its own best ask
        np.testing.assert_array_equal(x[-shown.sum() :], book.ask_prices[shown])
        np.testing.assert_array_equal(y[-shown.sum() :], book.ask_sizes[shown])
        assert x[0] == low
        assert np.all(y[: x.size - shown.sum()] == 0.0)
    assert [line.get_linewidth() for line in lines] == sorted(
        (line.get_linewidth() for line in lines), reverse=True
    )  # earlier lines wider, so coinciding lines stay visible
    with pytest.raises(InvalidInputError, match="books"):
        plots.ask_profile_figure({})


def test_ask_profile_figure_draws_eaten_levels_at_zero():
    flat = order_book_profiles()["flat"]
    after = flat.buy(20_000.0).book_after  # nothing left below 11.01
    fig = plots.ask_profile_figure({"before": flat, "after": after}, p_max=12.5)
    x, y = fig.axes[0].get_lines()[1].get_xdata(), fig.axes[0].get_lines()[1].get_ydata()
    assert x[0] == flat.best_ask and y[0] == 0.0
    assert after.best_ask == pytest.approx(11.01)
    np.testing.assert_array_equal(y[x < after.best_ask], 0.0)
    shown = after.ask_prices[after.ask_prices <= 12.5]
    np.testing.assert_array_equal(x[x >= after.best_ask], shown)
    assert fig.axes[0].get_ylim()[0] < 0.0  # the zero line is not hidden by the axis


def test_depth_impact_figure_draws_the_package_curves():
    books = order_book_profiles()
    fig = plots.depth_impact_figure(books, 200_000.0, n=50, anchors=[(20_000.0, 11.0)])
    _assert_labelled(fig)
    ax_d, ax_p, ax_c = fig.axes[:3]
    q = np.linspace(200_000.0 / 50, 200_000.0, 50)
    lines = ax_p.get_lines()
    impact_lines, vwap_lines = lines[0:6:2], lines[1:6:2]  # (last, VWAP) per book, in order
    for book, last, vwap, cost in zip(
        books.values(), impact_lines, vwap_lines, ax_c.get_lines(), strict=True
    ):
        np.testing.assert_array_equal(last.get_ydata(), book.impact_curve(1, q))
        np.testing.assert_allclose(cost.get_ydata(), book.cost_curve(1, q), rtol=1e-15)
        np.testing.assert_allclose(vwap.get_ydata(), book.cost_curve(1, q) / q, rtol=1e-15)
        assert vwap.get_linestyle() == "--"
    assert ax_p.get_legend_handles_labels()[1] == ["last traded price", "VWAP"]
    assert len(ax_d.get_lines()) == 3
    # the anchor is marked
    assert any(list(ln.get_xdata()) == [20_000.0] for ln in ax_p.get_lines())
    # which colour is which book: the fourth cell, not legends over the curves
    key = fig.axes[3]
    assert not key.axison and not key.has_data()
    assert [t.get_text() for t in key.get_legend().get_texts()] == list(books)
    assert ax_d.get_legend() is None and ax_c.get_legend() is None


def test_depth_impact_figure_refuses_more_than_the_book_holds():
    book = _toy_book()
    with pytest.raises(InsufficientLiquidityError):
        plots.depth_impact_figure({"toy": book}, 10_000.0)
    with pytest.raises(InvalidInputError, match="q_max"):
        plots.depth_impact_figure({"toy": book}, -1.0)
    with pytest.raises(InvalidInputError, match="n must"):
        plots.depth_impact_figure({"toy": book}, 100.0, n=1)


def test_float_depth_figure_marks_and_validates():
    floats = np.array([5e5, 1e6, 2e6, 1e7])
    cost = 0.21 * floats
    price = np.array([11.5, 10.96, 10.5, 10.1])
    fig = plots.float_depth_figure(floats, cost, price, move=0.1, budget=200_000.0, p0=10.0)
    _assert_labelled(fig)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "float 1M: $210.0k" in texts and "float 10M: $2.1M" in texts
    assert "float 1M: $10.96" in texts
    with pytest.raises(InvalidInputError, match="highlight"):
        plots.float_depth_figure(
            floats, cost, price, move=0.1, budget=1.0, p0=10.0, highlight=(3e6,)
        )
    with pytest.raises(InvalidInputError, match="shape"):
        plots.float_depth_figure(floats, cost[:2], price, move=0.1, budget=1.0, p0=10.0)
    with pytest.raises(InvalidInputError, match="ascending"):
        plots.float_depth_figure(floats[::-1], cost, price, move=0.1, budget=1.0, p0=10.0)


def test_order_impact_figure_marks_the_fill():
    book = order_book_profiles()["sqrt"]
    fill = book.buy(20_000.0)
    fig = plots.order_impact_figure(book, fill)
    _assert_labelled(fig)
    ax1, ax2 = fig.axes
    points = [
        (float(ln.get_xdata()[0]), float(ln.get_ydata()[0]))
        for ln in ax1.get_lines()
        if len(ln.get_xdata()) == 1
    ]
    assert (fill.qty, fill.last_price) in points
    assert (fill.qty, fill.vwap) in points
    assert fill.qty == pytest.approx(20_000.0)
    curve = ax1.get_lines()[0]
    assert curve.get_xdata().max() == pytest.approx(40_000.0)  # default: twice the fill
    assert not any("exhausted" in t.get_text() for t in ax2.texts)


def test_order_impact_figure_partial_and_sell():
    book = _toy_book()
    fill = book.buy(10_000.0, partial=True)
    fig = plots.order_impact_figure(book, fill)
    assert any("4,700 coins unfilled" in t.get_text() for t in fig.axes[1].texts)
    sell = plots.order_impact_figure(book, book.sell(1_500.0), title="sell")
    assert sell.get_suptitle() == "sell"
    assert sell.axes[1].get_xlabel().startswith("bid price")


# --------------------------------------------------------------------------------------
# The panel
# --------------------------------------------------------------------------------------


def test_order_book_explorer_default_and_updates():
    panel = widgets.order_book_explorer()
    choice, depth, size = (panel.controls[k] for k in ("profile", "depth", "qty"))
    summary = panel  # the fill summary is the panel's text
    assert summary.text.startswith("bought 20,000 coins for 210,000 USD: VWAP 10.5000")
    assert "last traded price 11.00" in summary.text
    choice.value = "sqrt"
    assert "213,433 USD" in summary.text and "VWAP 10.6716" in summary.text
    choice.value = "calibrated"
    size.value = 193_837.4619730553  # ignition + the stage that ends at $12
    assert "last traded price 12.00" in summary.text
    choice.value = "flat"
    depth.value = 0.1
    size.value = 1e6
    assert "ran dry" in summary.text and "960,376 coins unfilled" in summary.text
    assert plt.get_fignums() == []  # figures are closed after display


def test_order_book_explorer_rejects_bad_defaults():
    with pytest.raises(InvalidInputError, match="profile"):
        widgets.order_book_explorer(profile="deep")
    with pytest.raises(InvalidInputError, match="scale"):
        widgets.order_book_explorer(scale=50.0)
    with pytest.raises(InvalidInputError, match="qty"):
        widgets.order_book_explorer(qty=10.0)


def test_panel_computation_is_fast():
    """What an update computes (rescale, fill, two curves) stays far below 0.2 s."""
    q = np.linspace(100.0, 40_000.0, 300)
    times = []
    for key in ("flat", "sqrt", "calibrated"):
        t0 = time.perf_counter()
        book = order_book_profiles(1.7)[key]
        book.buy(20_000.0, partial=True)
        book.impact_curve(1, q)
        book.cost_curve(1, q)
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 0.05
