"""Tests of the panel helper, every panel's controls, and the kernel-free twins."""

from __future__ import annotations

import base64
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from perpsbook import plots
from perpsbook.errors import InvalidInputError
from perpsbook.hedging import HEDGE_RATIO_MAX

widgets = pytest.importorskip("perpsbook.widgets")
ipw = pytest.importorskip("ipywidgets")

plots.use_style()

# For every panel: a control -> a new value that must change what the panel shows.
PANELS = {
    "funding_explorer": (
        lambda: widgets.funding_explorer(start="2024-01", end="2026-01"),
        {"contract": "ETHUSDT", "window": 7, "months": ("index", (20, 40))},
    ),
    "event_explorer": (
        lambda: widgets.event_explorer("2025-10-10", days=3),
        {"event": "2020-03-12", "days": 10},
    ),
    "hedge_explorer": (
        lambda: widgets.hedge_explorer(),
        {"forced": 5.0, "hedge": 0.3, "lag": 3},
    ),
    "order_book_explorer": (
        lambda: widgets.order_book_explorer(),
        {"profile": "sqrt", "depth": 2.5, "qty": 80_000.0},
    ),
    "liquidation_calculator": (
        lambda: widgets.liquidation_calculator(),
        {
            "side": "short",
            "venue": "bybit",
            "size": 2.5,
            "entry": 90_000.0,
            "leverage": 25.0,
            "added": 3_000.0,
        },
    ),
    "rocket_explorer": (
        lambda: widgets.rocket_explorer(),
        {"ignition": 450_000.0, "hedge": 0.4},
    ),
}


@pytest.mark.parametrize("name", list(PANELS))
def test_every_control_changes_the_output(name):
    build, moves = PANELS[name]
    panel = build()
    assert isinstance(panel, widgets.Panel)
    assert set(moves) == set(panel.controls), "every control is exercised"
    assert panel.image.value[:8] == b"\x89PNG\r\n\x1a\n" and panel.text
    for control, value in moves.items():
        before = (panel.image.value, panel.text)
        n = panel.updates
        attr, value = (
            value if isinstance(value, tuple) and value[0] == "index" else ("value", value)
        )
        setattr(panel.controls[control], attr, value)
        assert panel.updates == n + 1, f"{name}.{control} did not trigger one update"
        assert not panel.text.startswith("invalid input"), panel.text
        assert (panel.image.value, panel.text) != before, f"{name}.{control} changed nothing"
        assert panel.image.value != before[0], f"{name}.{control} did not redraw the figure"
    assert plt.get_fignums() == []


def test_panel_values_and_refresh():
    panel = widgets.rocket_explorer(ignition=300_000.0, hedge_ratio=0.5)
    assert panel.values() == {"ignition": 300_000.0, "hedge": 0.5}
    n = panel.updates
    panel.refresh()
    assert panel.updates == n + 1


def test_slider_ends_come_from_package_constants():
    assert widgets.hedge_explorer().controls["hedge"].max == HEDGE_RATIO_MAX
    assert widgets.rocket_explorer().controls["hedge"].max == HEDGE_RATIO_MAX
    from perpsbook.margin import VENUES

    top = max(v.max_leverage for v in VENUES.values())
    assert widgets.liquidation_calculator().controls["leverage"].max == top


@pytest.mark.parametrize(
    ("build", "kwargs", "arg"),
    [
        (widgets.funding_explorer, {"start": "1999-01"}, "start"),
        (widgets.funding_explorer, {"rolling_days": 0}, "rolling_days"),
        (widgets.funding_explorer, {"symbols": ("DOGEUSDT",)}, "symbols"),
        (widgets.event_explorer, {"day": "2021-01-01"}, "day"),
        (widgets.event_explorer, {"days": 99}, "days"),
        (widgets.hedge_explorer, {"hedge_ratio": HEDGE_RATIO_MAX + 0.1}, "hedge_ratio"),
        (widgets.hedge_explorer, {"forced_usd": float("nan")}, "forced_usd"),
        (widgets.hedge_explorer, {"lag": -1}, "lag"),
        (widgets.liquidation_calculator, {"leverage": 500.0}, "leverage"),
        (widgets.liquidation_calculator, {"side": "up"}, "side"),
        (widgets.liquidation_calculator, {"venue": "ftx"}, "venue"),
        (widgets.liquidation_calculator, {"size": -1.0}, "size"),
        (widgets.rocket_explorer, {"ignition": True}, "ignition"),
    ],
)
def test_start_values_are_checked_the_same_way(build, kwargs, arg):
    with pytest.raises(InvalidInputError, match=arg) as info:
        build(**kwargs)
    assert isinstance(info.value, ValueError)


def test_panel_shows_model_errors_as_text():
    from perpsbook.errors import PerpsbookError

    def update(v):
        if v["x"] > 1:
            raise PerpsbookError("x is too large")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, v["x"]])
        return fig, f"x = {v['x']}"

    panel = widgets.Panel({"x": ipw.FloatSlider(value=0.5, min=0, max=2)}, update)
    assert panel.text == "x = 0.5"
    panel.controls["x"].value = 1.5
    assert panel.text == "invalid input: x is too large"
    with pytest.raises(InvalidInputError, match="rows"):
        widgets.Panel({"x": ipw.FloatSlider()}, update, rows=[["y"]])
    with pytest.raises(InvalidInputError, match="controls"):
        widgets.Panel({}, update)


# --------------------------------------------------------------------------------------
# Kernel-free twins
# --------------------------------------------------------------------------------------

TWINS = {
    "funding_explorer_twin": (3, 3),
    "event_explorer_twin": None,  # one value per cascade day x 3 widths
    "hedge_explorer_twin": (3, 5, 3),
    "order_book_explorer_twin": (3, 3, 4),
    "liquidation_calculator_twin": (2, 6, 5),
    "rocket_explorer_twin": (8, 5),
}


@pytest.fixture(scope="module")
def twins():
    return {name: getattr(widgets, name)() for name in TWINS}


def _point(twin, index):
    k = int(np.ravel_multi_index(index, twin.shape))
    return twin.frame_of[k], twin.texts[k]


@pytest.mark.parametrize("name", list(TWINS))
def test_twin_structure(twins, name):
    from perpsbook.data import CASCADE_DAYS

    twin = twins[name]
    shape = TWINS[name] or (len(CASCADE_DAYS), 3)
    assert twin.shape == shape
    assert twin.n_points == len(twin.frame_of) == len(twin.texts) == int(np.prod(shape))
    html = twin._repr_html_()
    assert re.match(r'<div class="pb-static-panel" id="pb-[0-9a-f]{12}"', html)
    # one real control per grid axis, a frame, a text block, an inline script
    controls = re.findall(r'<(input type="range"|select) [^>]*data-axis="(\d+)"', html)
    assert sorted(int(a) for _, a in controls) == list(range(len(shape)))
    assert html.count('<img class="pb-frame"') == 1 and "<script>" in html
    assert "http://" not in html and "https://" not in html and "require(" not in html
    for frame in twin.frames:
        assert frame[:8] == b"\x89PNG\r\n\x1a\n"
        assert base64.b64encode(frame).decode() in html
    assert len(html.encode()) < 1_500_000  # two twins per chapter stay far below ~5 MB


@pytest.mark.parametrize("name", list(TWINS))
def test_each_control_value_maps_to_a_distinct_frame(twins, name):
    twin = twins[name]
    start = np.unravel_index(int(re.search(r'data-point="(\d+)"', twin.html).group(1)), twin.shape)
    for axis, n in enumerate(twin.shape):
        points = []
        for i in range(n):
            index = list(start)
            index[axis] = i
            points.append(_point(twin, tuple(index)))
        assert len(set(points)) == n, f"{name}: values of axis {twin.axes[axis][0]} look the same"
        # and the image itself changes along the axis for most values
        assert len({frame for frame, _ in points}) >= max(1, n // 2)


def test_twin_is_deterministic(twins):
    again = widgets.event_explorer_twin()
    assert again.html == twins["event_explorer_twin"].html
    assert repr(again) == repr(twins["event_explorer_twin"])


def test_static_twin_and_stage_player_helpers():
    def update(v):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, v["slope"]])
        ax.set_ylim(-2, 2)
        return fig, f"{v['kind']} slope {v['slope']}"

    twin = widgets.static_twin(
        update, {"kind": ["a", "b"], "slope": [-1.0, 0.0, 1.0]}, start={"slope": 0.0}
    )
    assert twin.shape == (2, 3) and len(twin.frames) == 3  # the kind changes only the text
    assert twin.texts == [f"{k} slope {s}" for k in "ab" for s in (-1.0, 0.0, 1.0)]
    assert 'data-point="1"' in twin.html and "<select" in twin.html
    assert 'type="range"' in twin.html
    with pytest.raises(InvalidInputError, match="grid"):
        widgets.static_twin(update, {})
    with pytest.raises(InvalidInputError, match="start"):
        widgets.static_twin(update, {"kind": ["a"], "slope": [1.0]}, start={"slope": 5.0})
    with pytest.raises(InvalidInputError, match="max_bytes"):
        widgets.static_twin(update, {"kind": ["a"], "slope": [1.0]}, max_bytes=100)

    player = widgets.stage_player(
        lambda k: update({"kind": "s", "slope": k - 1.0}), 3, title="stages"
    )
    assert player.shape == (3,) and 'class="pb-play"' in player.html
    assert 'type="range" min="0" max="2"' in player.html
    with pytest.raises(InvalidInputError, match="n_stages"):
        widgets.stage_player(lambda k: update({}), 0)
    assert plt.get_fignums() == []


def test_text_table():
    from perpsbook.tables import text_table

    out = text_table(
        [("BTC", 1.5, 0.012), ("ETH", float("nan"), None)],
        ["coin", "size", "rate"],
        [None, ",.2f", ".1%"],
        notes={1: ["no size", "no rate"]},
    )
    assert out.splitlines() == [
        "coin  size  rate",
        "----------------",
        "BTC   1.50  1.2%",
        "ETH     --    --",
        "    note: no size",
        "    note: no rate",
    ]
    with pytest.raises(InvalidInputError, match="rows"):
        text_table([(1,)], ["a", "b"])
    with pytest.raises(InvalidInputError, match="max_width"):
        text_table([("x" * 90,)], ["a"])
    with pytest.raises(InvalidInputError, match="align"):
        text_table([(1,)], ["a"], align=["^"])
    with pytest.raises(InvalidInputError, match="rule"):
        text_table([(1,)], ["a"], rule="none")
    # the layout of perpsbook.ledger's and perpsbook.cascade's tables
    out = text_table(
        [("cash", -1.0), ("TOTAL", 0.0)], ["account", "usd"], [None, ",.2f"], rule="columns"
    )
    assert out.splitlines() == [
        "account    usd",
        "-------  -----",
        "cash     -1.00",
        "TOTAL     0.00",
    ]


def test_import_perpsbook_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, perpsbook, perpsbook.tables; "
        "print('matplotlib' in sys.modules, 'ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def _pixels(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def _figure_cases():
    from perpsbook.hedging import MarketMaker, market_maker_path
    from perpsbook.margin import VENUES
    from perpsbook.positions import Positions
    from perpsbook.scenarios import order_book_profiles, rkt_book_after_ignition

    book = rkt_book_after_ignition()
    paths = [
        {f"h = {h}": market_maker_path(MarketMaker(h, lag=1), book, np.full(3, usd))}
        for h, usd in ((0.0, 2e6), (1.5, 5e5))
    ]
    ob = order_book_profiles(1.0)
    return {
        "hedge_lag_figure": [((p,), {}) for p in paths],
        "order_impact_figure": [
            ((ob[k], ob[k].buy(q, partial=True)), {}) for k, q in (("sqrt", 5e4), ("flat", 2e3))
        ],
        "equity_vs_mark_figure": [
            ((Positions(side=s, size=1.0, entry_price=1e5, margin=m), v), {"overview": False})
            for s, m, v in ((1, 1e4, list(VENUES.values())), (-1, 2e3, [VENUES["bybit"]]))
        ],
    }


@pytest.mark.parametrize(
    "name",
    [
        "hedge_lag_figure",
        "order_impact_figure",
        "equity_vs_mark_figure",
    ],
)
def test_figures_redrawn_in_place_match_new_ones(name):
    function = getattr(plots, name)
    cases = _figure_cases()[name]
    kept = function(*cases[0][0], **cases[0][1])
    for args, kwargs in cases[::-1] + cases:
        assert function(*args, fig=kept, **kwargs) is kept
        fresh = function(*args, **kwargs)
        assert np.array_equal(_pixels(kept), _pixels(fresh)), name
        plt.close(fresh)
    with pytest.raises(InvalidInputError, match="fig"):
        function(*cases[0][0], fig=plt.figure(), **cases[0][1])
    plt.close("all")
