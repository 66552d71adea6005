"""Tests of the introduction chapter's figure helpers and panel (perpsbook.plots/widgets)."""

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
from perpsbook.scenarios import rocketcoin, rocketcoin_crash


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def default():
    return rocketcoin().run()


# ------------------------------------------------------------------ price_staircase


def test_price_staircase_default(default):
    x, y = plots.price_staircase(default)
    # stage k jumps at x = k; half a stage of flat price before the ignition and after the end
    np.testing.assert_array_equal(x, [-0.5, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5.5])
    prices = [9.995, 11.0, 12.0, 13.07, 14.15, 15.2, 16.22]  # before, then after each stage
    np.testing.assert_allclose(y, np.repeat(prices, 2))


def test_price_staircase_no_liquidation():
    r = rocketcoin(ignition=100_000.0).run()
    x, y = plots.price_staircase(r)
    np.testing.assert_array_equal(x, [-0.5, 0.0, 0.0, 0.5])
    np.testing.assert_allclose(y, [9.995, 9.995, 10.51, 10.51])


@settings(max_examples=40)
@given(st.sampled_from([rocketcoin, rocketcoin_crash]), st.floats(10_000.0, 3_000_000.0))
def test_price_staircase_moves_one_way_from_initial_to_final_price(scenario, ignition):
    r = scenario(ignition=ignition, hedge_ratio=1.5).run()
    x, y = plots.price_staircase(r)
    assert x.size == y.size == 2 * r.n_stages + 2
    assert y[0] == r.initial_price and y[-1] == r.final_price
    assert np.all(r.params.side * np.diff(y) >= 0)  # a rocket never falls, a crash never rises
    np.testing.assert_array_equal(y[2:-1:2], r.stages.price_after)


# ------------------------------------------------------------------ rocket_overview_figure


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_rocket_overview_figure_default(default):
    fig = plots.rocket_overview_figure(default)
    assert isinstance(fig, Figure)
    ax_p, ax_f = fig.axes
    for ax in (ax_p, ax_f):
        assert ax.get_xlabel() == "stage" and ax.get_ylabel() and ax.get_title()
    assert "USD per coin" in ax_p.get_ylabel() and "USD" in ax_f.get_ylabel()
    staircase = [ln for ln in ax_p.lines if ln.get_label() == "last traded price"]
    np.testing.assert_allclose(staircase[0].get_ydata(), plots.price_staircase(default)[1])
    # bars: the ignition, then engine and hedge USD per stage, stacked
    heights = [p.get_height() for p in ax_f.patches]
    assert sum(heights) == pytest.approx(200_000.0 + default.total_forced_buy_notional)
    texts = _texts(fig)
    assert any("105× the \\$200k ignition" in t for t in texts)
    assert any(t == "T1 \\$1.0M" for t in texts)
    assert "\\$20.95M of buying" in fig.get_suptitle()
    # no unescaped "$": matplotlib would typeset text between two of them as mathtext
    for t in [*texts, fig.get_suptitle()]:
        assert "$" not in t.replace("\\$", "")


def test_rocket_overview_figure_fizzle_crash_and_title():
    fig = plots.rocket_overview_figure(rocketcoin(ignition=100_000.0).run(), title="T")
    assert fig.get_suptitle() == "T"
    assert any("no liquidation triggered" in t for t in _texts(fig))
    crash = plots.rocket_overview_figure(rocketcoin_crash().run())
    assert "selling" in crash.axes[1].get_title()
    assert "3.78" in crash.get_suptitle()


# ------------------------------------------------------------------ rocket_explorer


def test_rocket_explorer_draws_and_updates():
    from perpsbook.widgets import rocket_explorer

    panel = rocket_explorer()
    ign, h = panel.controls["ignition"], panel.controls["hedge"]
    assert "forced buying   $20,950,121" in panel.text
    ign.value = 199_000.0  # $406 short of the cost of lifting the price to $11.00
    assert "0 of 5 tranches" in panel.text
    ign.value = 200_000.0
    h.value = 0.0
    assert "1 of 5 tranches, 90,909 coins" in panel.text


def test_rocket_explorer_rejects_out_of_range():
    from perpsbook.widgets import rocket_explorer

    with pytest.raises(InvalidInputError, match="ignition"):
        rocket_explorer(ignition=5_000.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        rocket_explorer(hedge_ratio=2.5)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        rocket_explorer(hedge_ratio=float("nan"))


def test_rocket_figure_redrawn_in_place_matches_a_new_one():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def pixels(fig):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()

    results = [
        rocketcoin(ignition=2e6, hedge_ratio=2.0).run(),  # many stages
        rocketcoin(ignition=5e4, hedge_ratio=0.0).run(),  # nothing triggered
        rocketcoin_crash().run(),
    ]
    kept = plots.rocket_overview_figure(rocketcoin().run())
    for result in results:
        assert plots.rocket_overview_figure(result, fig=kept) is kept
        fresh = plots.rocket_overview_figure(result)
        assert np.array_equal(pixels(kept), pixels(fresh))
        plt.close(fresh)
    plt.close(kept)
    with pytest.raises(InvalidInputError, match="fig"):
        plots.rocket_overview_figure(results[0], fig=plt.figure())
    plt.close("all")
