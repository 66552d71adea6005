"""Tests of the introduction chapter's figure, text helpers and panel (perpsbook.plots/widgets)."""

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


# ------------------------------------------------------------------ tranche_stages


def test_tranche_stages_default_one_per_stage(default):
    np.testing.assert_array_equal(plots.tranche_stages(default), [1, 2, 3, 4, 5])


def test_tranche_stages_partial_and_none():
    # h = 0: the first layer alone lifts the price $11 -> $11.50; T2 at $12 is never reached
    np.testing.assert_array_equal(
        plots.tranche_stages(rocketcoin(hedge_ratio=0.0).run()), [1, -1, -1, -1, -1]
    )
    np.testing.assert_array_equal(
        plots.tranche_stages(rocketcoin(ignition=100_000.0).run()), [-1] * 5
    )
    # flat book: stage 1 empties the ladder at $19.99, so T2-T5 all go in stage 2
    np.testing.assert_array_equal(
        plots.tranche_stages(rocketcoin("flat_book").run()), [1, 2, 2, 2, 2]
    )


@settings(max_examples=40)
@given(
    ignition=st.floats(10_000.0, 3_000_000.0),
    h=st.floats(0.0, 2.0),
    lag=st.integers(0, 2),
)
def test_tranche_stages_agree_with_stage_counts(ignition, h, lag):
    r = rocketcoin(ignition=ignition, hedge_ratio=h, lag=lag).run()
    stage = plots.tranche_stages(r)
    done = stage[stage >= 0]
    assert done.size == r.n_liquidated
    assert np.all(stage[: r.n_liquidated] >= 1)  # the ignition itself liquidates nothing
    assert np.all(np.diff(done) >= 0)  # liquidated in order
    counts = np.bincount(done, minlength=r.n_stages)
    np.testing.assert_array_equal(counts, r.stages.n_tranches)
    # and the staircase starts at the initial price, ends at the final one, never falls
    _, y = plots.price_staircase(r)
    assert y[0] == r.initial_price and y[-1] == r.final_price
    assert np.all(np.diff(y) >= 0)


# ------------------------------------------------------------------ cascade_headline


def test_cascade_headline_default(default):
    assert plots.cascade_headline(default).splitlines() == [
        "ignition        $200,000 of spot buying (19,054 coins): 9.995 -> 11.00 USD per coin",
        "liquidated      5 of 5 tranches, 748,327 coins; the engine's orders cost $10,276,654",
        "hedges          748,327 coins of spot for $10,673,467",
        "forced buying   $20,950,121 = 104.8 x the ignition",
        "final price     16.22 USD per coin (+62.3% from 9.995), after 6 stages",
        "P&L at the end  market makers -$396,813, insurance fund -$32,262, ignitor +$109,057",
    ]


def test_cascade_headline_crash_adl_and_singular():
    crash = plots.cascade_headline(rocketcoin_crash().run())
    assert "forced selling  $8,982,946 = 49.6 x the ignition" in crash
    assert "3.78 USD per coin (-62.2% from 10.005)" in crash
    flat = plots.cascade_headline(rocketcoin("flat_book").run())
    assert "; 657,418 coins closed by ADL" in flat
    fizzle = plots.cascade_headline(rocketcoin(ignition=100_000.0).run())
    assert "after 1 stage\n" in fizzle
    assert "0 of 5 tranches" in fizzle and "= 0.0 x the ignition" in fizzle
    assert "-$0" not in fizzle


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


def test_rocket_explorer_draws_and_updates(capsys):
    from perpsbook.widgets import rocket_explorer

    panel = rocket_explorer()
    controls, _out = panel.children
    ign, h = controls.children
    assert "forced buying   $20,950,121" in capsys.readouterr().out
    ign.value = 199_000.0  # $406 short of the cost of lifting the price to $11.00
    assert "0 of 5 tranches" in capsys.readouterr().out
    ign.value = 200_000.0
    h.value = 0.0
    assert "1 of 5 tranches, 90,909 coins" in capsys.readouterr().out


def test_rocket_explorer_rejects_out_of_range():
    from perpsbook.widgets import rocket_explorer

    with pytest.raises(InvalidInputError, match="ignition"):
        rocket_explorer(ignition=5_000.0)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        rocket_explorer(hedge_ratio=2.5)
    with pytest.raises(InvalidInputError, match="hedge_ratio"):
        rocket_explorer(hedge_ratio=float("nan"))
