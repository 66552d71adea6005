"""Panel of ADL policies on the RocketCoin crash (chapter "The mirror image")."""

from __future__ import annotations

import functools
from typing import Any

import ipywidgets as widgets
import numpy as np

from perpsbook import plots as _plots
from perpsbook.adl import ADL_POLICIES
from perpsbook.hedging import HEDGE_RATIO_MAX
from perpsbook.tables import text_table
from perpsbook.widgets.panel import WIDE, KeptFigure, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = [
    "ADL_SEED",
    "CRASH_IGNITION_RANGE",
    "adl_explorer",
    "adl_explorer_twin",
    "adl_summary_table",
    "crash_explorer",
    "crash_explorer_twin",
]

CRASH_IGNITION_RANGE = (10_000.0, 2_000_000.0)
"""Ignition sales the crash panel offers, USD of spot selling."""

ADL_SEED = 20251010
"""Seed of the generator of the panel's 5,000 shorts (``perpsbook.crash.crash_shorts``)."""


@functools.lru_cache(maxsize=1)
def _setup() -> tuple[Any, Any]:
    """The default RKT crash's last tranche and 5,000 shorts (built once)."""
    from perpsbook.crash import crash_adl_case, crash_shorts
    from perpsbook.scenarios import rocketcoin_crash

    case = crash_adl_case(rocketcoin_crash().run())
    shorts = crash_shorts(np.random.default_rng(ADL_SEED), mark_price=case.mark_price)
    return shorts, case


def adl_summary_table(summary: dict[str, dict[str, float]]) -> str:
    """The per-policy totals of ``perpsbook.crash.adl_policy_summary`` as a text table.

    Columns: shorts hit, coins closed, coins beyond the deficit, profit taken (USD),
    excess over the deficit (USD), Gini of the haircuts, largest haircut / profit.
    """
    rows = [
        (
            p,
            t["n_deleveraged"],
            t["qty"],
            t["excess_qty"],
            t["haircut_usd"],
            t["excess_usd"],
            t["gini"],
            t["max_upnl_share"] + 0.0,
        )
        for p, t in summary.items()
    ]
    return text_table(
        rows,
        ["policy", "hit", "coins", "extra coins", "taken USD", "excess USD", "Gini", "max/PnL"],
        [None, ",.0f", ",.0f", ",.0f", ",.0f", ",.0f", ".2f", ".2f"],
        rule="columns",
        sep=" ",
    )


def _update(v: dict[str, Any]) -> View:
    from perpsbook.crash import adl_policy_summary

    shorts, case = _setup()
    cmp, summary = adl_policy_summary(shorts, case, float(v["deficit"]))
    fig = _plots.adl_hits_figure(shorts, case.mark_price, cmp, [v["policy"]])
    return fig, adl_summary_table(summary)


def adl_explorer(policy: str = "binance", deficit_share: float = 0.5) -> Panel:
    """Panel: who is auto-deleveraged in the RKT crash, for a policy and a deficit size.

    The default crash (``rocketcoin_crash().run()``) ends at $3.78; its last tranche, 200,000
    RKT of longs with bankruptcy price $4.625, is bankrupt there. A share ``deficit`` of it
    is left to ADL against 5,000 shorts drawn with seed ``ADL_SEED`` (20251010)
    (``perpsbook.crash.crash_shorts``). Controls: ``policy`` (whose hits are drawn) and
    ``deficit`` (fraction of the position, 0 to 1). The text compares all four policies
    (``perpsbook.widgets.crash.adl_summary_table``).

    Parameters
    ----------
    policy : str
        One of :data:`perpsbook.adl.ADL_POLICIES`.
    deficit_share : float
        In [0.05, 1].

    Returns
    -------
    Panel
    """
    check_choice("policy", policy, ADL_POLICIES)
    check_range("deficit_share", deficit_share, 0.05, 1.0)
    controls = {
        "policy": widgets.Dropdown(
            options=[(_plots.ADL_POLICY_LABELS[p], p) for p in ADL_POLICIES],
            value=policy,
            description="ADL policy",
            style=WIDE,
        ),
        "deficit": widgets.FloatSlider(
            value=deficit_share,
            min=0.05,
            max=1.0,
            step=0.05,
            description="deficit (share of the bankrupt long)",
            style=WIDE,
            layout=widgets.Layout(width="60%"),
        ),
    }
    return Panel(controls, _update, rows=[["policy"], ["deficit"]])


def adl_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`adl_explorer`.

    Grid (20 points): policy (the four of :data:`perpsbook.adl.ADL_POLICIES`) × deficit
    share (0.1, 0.25, 0.5, 0.75, 1).
    """
    return static_twin(
        _update,
        {
            "policy": [(_plots.ADL_POLICY_LABELS[p], p) for p in ADL_POLICIES],
            "deficit": [0.1, 0.25, 0.5, 0.75, 1.0],
        },
        start={"policy": "binance", "deficit": 0.5},
        descriptions={"policy": "ADL policy", "deficit": "deficit share"},
        title="ADL policies on the RocketCoin crash",
    )


def _crash_updater() -> Any:
    """The crash panel's update function: it keeps one figure and redraws it in place
    (``KeptFigure``: the same pixels as a new figure, a third less time)."""
    from perpsbook.scenarios import rocketcoin_crash

    kept = KeptFigure()

    def update(v: dict[str, Any]) -> View:
        result = rocketcoin_crash(
            ignition=float(v["ignition"]), hedge_ratio=float(v["hedge"])
        ).run()
        return kept(_plots.rocket_overview_figure, result), result.headline()

    return update


def crash_explorer(ignition: float = 200_000.0, hedge_ratio: float = 1.0) -> Panel:
    """Panel: the RocketCoin crash for a chosen ignition sale and market-maker hedge ratio.

    The mirror image of :func:`rocket_explorer`: each change runs
    ``perpsbook.scenarios.rocketcoin_crash(ignition=..., hedge_ratio=...).run()`` (a spot
    *sale* of ``ignition`` USD, then long liquidations at $9 ... $5) and shows
    :func:`perpsbook.plots.rocket_overview_figure` with the run's headline numbers.

    Parameters
    ----------
    ignition : float
        Initial ignition sale, USD, in [10,000, 2,000,000].
    hedge_ratio : float
        Initial hedge ratio (spot coins the market makers sell per perp coin they buy), in
        [0, HEDGE_RATIO_MAX].

    Returns
    -------
    Panel

    Raises
    ------
    InvalidInputError
        If a value is outside its slider's range.
    """
    check_range("ignition", ignition, *CRASH_IGNITION_RANGE, "USD")
    check_range("hedge_ratio", hedge_ratio, 0.0, HEDGE_RATIO_MAX)
    controls = {
        "ignition": widgets.FloatSlider(
            value=ignition,
            min=CRASH_IGNITION_RANGE[0],
            max=CRASH_IGNITION_RANGE[1],
            step=1_000.0,
            description="ignition sale (USD)",
            readout_format=",.0f",
            style=WIDE,
            layout=widgets.Layout(width="50%"),
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio,
            min=0.0,
            max=HEDGE_RATIO_MAX,
            step=0.05,
            description="hedge ratio h",
            style=WIDE,
        ),
    }
    return Panel(controls, _crash_updater())


def crash_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`crash_explorer`.

    Grid (40 points): ignition sale ($50k, $100k, $150k, $200k, $300k, $500k, $1M, $2M) ×
    hedge ratio (0, 0.5, 1, 1.5, 2).
    """
    ignitions = [50e3, 100e3, 150e3, 200e3, 300e3, 500e3, 1e6, 2e6]
    return static_twin(
        _crash_updater(),
        {
            "ignition": [(_plots.format_usd(x, 0), x) for x in ignitions],
            "hedge": [0.0, 0.5, 1.0, 1.5, 2.0],
        },
        start={"ignition": 200e3, "hedge": 1.0},
        descriptions={"ignition": "ignition sale", "hedge": "hedge ratio h"},
        title="The RocketCoin crash",
    )
