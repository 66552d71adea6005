"""Tests of perpsbook.plots (and the data-chapter panels): figures, labels, style, formats."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from perpsbook import plots
from perpsbook.data import (
    CASCADE_DAYS,
    FUNDING_CAPS,
    annualised_rolling_funding,
    funding_stats_by_year,
    load_funding,
    load_klines_4h,
    window,
)
from perpsbook.errors import InvalidInputError


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _assert_labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.has_data()]
    assert axes, "figure has no axes with data"
    for ax in axes:
        assert ax.get_ylabel().strip(), f"unlabelled y axis in {ax.get_title()!r}"
    assert fig.get_suptitle().strip() or all(ax.get_title().strip() for ax in axes[:1])
    # every column's bottom axis names its x quantity
    assert any(ax.get_xlabel().strip() for ax in axes)


def _figures():
    btc, eth = load_funding("BTCUSDT"), load_funding("ETHUSDT")
    k = load_klines_4h()
    roll = {h.symbol: annualised_rolling_funding(h, 30) for h in (btc, eth)}
    stats = [funding_stats_by_year(btc), funding_stats_by_year(eth)]
    return {
        "history": lambda: plots.funding_history_figure([btc, eth], rolling=roll),
        "history_single": lambda: plots.funding_history_figure(btc),
        "years": lambda: plots.funding_year_figure(stats),
        "distribution": lambda: plots.funding_distribution_figure([btc, eth], FUNDING_CAPS),
        "event": lambda: plots.event_window_figure(window(k, "2021-05-19", 5), "2021-05-19"),
        "events": lambda: plots.event_windows_figure(
            [(label, window(k, d, 7), d) for d, label in CASCADE_DAYS.items()]
        ),
    }


@pytest.mark.parametrize("name", list(_figures()))
def test_figure_functions_return_labelled_figures(name):
    _assert_labelled(_figures()[name]())


def test_units_in_labels():
    btc = load_funding("BTCUSDT")
    fig = plots.funding_history_figure(btc)
    assert "% per 8 h" in fig.axes[0].get_ylabel()
    fig = plots.event_window_figure(window(load_klines_4h(), "2020-03-12", 3), "2020-03-12")
    labels = " ".join(ax.get_ylabel() for ax in fig.axes)
    assert "USD per BTC" in labels and "(USD)" in labels


def test_year_figure_bar_heights_are_the_stats():
    s = funding_stats_by_year(load_funding("ETHUSDT"))
    fig = plots.funding_year_figure(s)
    heights = [p.get_height() for p in fig.axes[0].patches]
    np.testing.assert_allclose(heights, s.share_positive)
    heights = [p.get_height() for p in fig.axes[1].patches]
    np.testing.assert_allclose(heights, s.annualised)


def test_year_figure_has_one_legend_outside_the_bars():
    stats = [funding_stats_by_year(load_funding(s)) for s in ("BTCUSDT", "ETHUSDT")]
    fig = plots.funding_year_figure(stats)
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["BTCUSDT", "ETHUSDT"]


def test_empty_inputs_raise():
    with pytest.raises(InvalidInputError):
        plots.funding_year_figure([])
    with pytest.raises(InvalidInputError):
        plots.event_windows_figure([])
    empty = load_klines_4h().between("2000-01-01", "2000-01-02")
    with pytest.raises(InvalidInputError):
        plots.event_window_figure(empty, "2000-01-01")


def test_use_style_idempotent_and_only_rcparams():
    plots.use_style()
    first = {k: matplotlib.rcParams[k] for k in plots.STYLE}
    plots.use_style()
    assert {k: matplotlib.rcParams[k] for k in plots.STYLE} == first
    assert matplotlib.rcParams["figure.dpi"] == 100
    assert matplotlib.rcParams["axes.grid"] is True
    assert plt.get_fignums() == []


def test_palette_has_the_roles():
    for role in ("long", "short", "spot", "perp", "mm", "insurance"):
        assert matplotlib.colors.is_color_like(plots.COLORS[role])
    assert plots.symbol_color("BTCUSDT") == plots.COLORS["BTCUSDT"]
    assert plots.symbol_color("UNKNOWN") == plots.COLORS["neutral"]


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1.234e9, "$1.2B"),
        (-3.5e8, "-$350.0M"),
        (12_500, "$12.5k"),
        (7.25, "$7.25"),
        (2.0e12, "$2.0T"),
        (0.0, "$0.00"),
    ],
)
def test_format_usd(x, text):
    assert plots.format_usd(x) == text


def test_format_usd_rejects_nan():
    with pytest.raises(InvalidInputError):
        plots.format_usd(float("nan"))


def test_usd_formatter_distinct_tick_labels():
    fmt = plots.usd_formatter()
    ticks = [0, 2.5e8, 5e8, 7.5e8, 1e9, 1.25e9, 1.5e9]
    labels = [fmt(x) for x in ticks]
    assert labels == ["$0", "$250M", "$500M", "$750M", "$1B", "$1.25B", "$1.5B"]
    assert plots.usd_formatter() is not plots.usd_formatter()


def test_pct_formatter_reads_fractions():
    _, ax = plt.subplots()
    ax.set_ylim(0, 0.01)
    fmt = plots.pct_formatter(1)
    ax.yaxis.set_major_formatter(fmt)
    assert fmt(0.003) == "0.3%"


# --------------------------------------------------------------------------------------
# Data-chapter panels (perpsbook.widgets): default output and re-draw on change
# --------------------------------------------------------------------------------------


def test_funding_explorer_draws_and_redraws():
    pytest.importorskip("ipywidgets")
    from perpsbook.widgets import funding_explorer

    panel = funding_explorer()
    assert "BTCUSDT:" in panel.text and "ETHUSDT:" in panel.text
    first = panel.image.value
    panel.controls["months"].index = (10, 30)
    assert panel.image.value != first
    panel.controls["contract"].value = "ETHUSDT"
    assert "BTCUSDT" not in panel.text and "ETHUSDT:" in panel.text
    assert plt.get_fignums() == []  # figures are closed after display


def test_event_explorer_switches_events():
    pytest.importorskip("ipywidgets")
    from perpsbook.widgets import event_explorer

    panel = event_explorer("2020-03-12", 5)
    event, width = panel.controls["event"], panel.controls["days"]
    for day in CASCADE_DAYS:
        event.value = day
        assert panel.text.startswith(day)
    width.value = 2
    assert plt.get_fignums() == []
