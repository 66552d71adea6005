"""Panels of the levers chapter ("Timing, location, people") and their kernel-free twins.

* :func:`~perpsbook.widgets.lever_explorer`: pick a lever (free float, basis share, hedge
  ratio, engine pass-through, short interest, short leverage) and move it; the critical
  ignition and the cascade at the article's ignition (:mod:`perpsbook.levers`).
* :func:`~perpsbook.widgets.infrastructure_explorer`: venue (mark rule and liquidation
  policy), hedge ratio, hedge lag and perp re-posting on the two-market engine.
* :func:`~perpsbook.widgets.sniper_explorer`: the ignitor's buy and the sniper's size.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from perpsbook import levers as _levers
from perpsbook.errors import InvalidInputError
from perpsbook.plots import levers as _plots
from perpsbook.scenarios import TWO_MARKET_VENUES, rocketcoin_two_market
from perpsbook.widgets.panel import WIDE, KeptFigure, Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = [
    "MULTIPLIER_RANGE",
    "SNIPER_Q",
    "infrastructure_explorer",
    "infrastructure_explorer_twin",
    "lever_explorer",
    "lever_explorer_twin",
    "sniper_explorer",
    "sniper_explorer_twin",
]

MULTIPLIER_RANGE = (0.5, 1.5)
"""Lever values the lever panel offers, as multiples of the default."""

_GRID = np.round(np.linspace(0.5, 1.5, 21), 3)


def _lever_update() -> Any:
    kept = KeptFigure()
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    base = _levers.lever_outcome()

    def curve(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in curves:
            # one outcome per grid point; points outside the lever's range are left out
            x0, m, c = getattr(_levers.LeverSetting(), name), [], []
            for g in _GRID:
                try:
                    out = _levers.lever_outcome(_levers.LeverSetting().replace(**{name: x0 * g}))
                except InvalidInputError:
                    continue
                m.append(g)
                c.append(out.critical_usd)
            curves[name] = (np.array(m), np.array(c))
        return curves[name]

    def update(v: dict[str, Any]) -> View:
        name = check_choice("lever", v["lever"], tuple(_levers.LEVERS))
        m = float(v["change"])
        label, unit, reason = _levers.LEVERS[name]
        value = getattr(_levers.LeverSetting(), name) * m
        if not _in_range(name, m):
            out, text = None, f"{label} = {value:,.4g} is outside its range"
        else:
            out = _levers.lever_outcome(_levers.LeverSetting().replace(**{name: value}))
            text = (
                f"{label} = {value:,.4g} {unit} ({reason})\n"
                f"critical ignition {out.critical_usd:,.0f} USD (default "
                f"{base.critical_usd:,.0f}); bottleneck at {out.bottleneck_price:.2f} USD\n"
                f"a 200,000 USD ignition: price -> {out.final_price:.2f}, "
                f"{out.n_liquidated} of 5 tranches, amplification {out.amplification:.1f}"
            )
        fig = kept(
            _plots.lever_curves_figure,
            {label: curve(name)},
            base.critical_usd,
            current=None if out is None else (m, out.critical_usd),
            title=f"Critical ignition as the {label} moves",
        )
        return fig, text

    return update


def _in_range(name: str, m: float) -> bool:
    try:
        _levers.lever_inputs(
            _levers.LeverSetting().replace(**{name: getattr(_levers.LeverSetting(), name) * m})
        )
    except InvalidInputError:
        return False
    return True


def lever_explorer(lever: str = "free_float", change: float = 1.0) -> Panel:
    """Panel: move one lever of :data:`perpsbook.levers.LEVERS` and see the rocket.

    Controls: ``lever`` (a selector over every lever) and ``change`` (the lever as a
    multiple of its default, :data:`~perpsbook.widgets.levers.MULTIPLIER_RANGE`). The
    figure is the critical ignition (USD) along the chosen lever
    (:func:`perpsbook.plots.lever_curves_figure`) with the choice marked; the text gives
    the critical ignition, its bottleneck price (USD per coin) and what the article's
    $200,000 does.

    Parameters
    ----------
    lever : str
        Initial lever.
    change : float
        Initial multiple of the default, in :data:`~perpsbook.widgets.levers.MULTIPLIER_RANGE`.

    Returns
    -------
    Panel
    """
    check_choice("lever", lever, tuple(_levers.LEVERS))
    check_range("change", change, *MULTIPLIER_RANGE)
    controls = {
        "lever": widgets.Dropdown(
            options=[(v[0], k) for k, v in _levers.LEVERS.items()],
            value=lever,
            description="lever",
        ),
        "change": widgets.FloatSlider(
            value=change,
            min=MULTIPLIER_RANGE[0],
            max=MULTIPLIER_RANGE[1],
            step=0.025,
            description="x default",
            style=WIDE,
        ),
    }
    return Panel(controls, _lever_update())


def lever_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`lever_explorer`.

    Grid (54 points): every lever (6) × multiple of the default (0.5, 0.75, 0.9, 0.95, 1,
    1.05, 1.1, 1.25, 1.5).
    """
    return static_twin(
        _lever_update(),
        {
            "lever": [(v[0], k) for k, v in _levers.LEVERS.items()],
            "change": [0.5, 0.75, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5],
        },
        start={"lever": "free_float", "change": 1.0},
        descriptions={"lever": "lever", "change": "x default"},
        title="One lever at a time: the critical ignition",
    )


# --------------------------------------------------------------------------- two markets


def _infra_update() -> Any:
    kept = KeptFigure()

    def update(v: dict[str, Any]) -> View:
        venue = check_choice("venue", v["venue"], TWO_MARKET_VENUES)
        sc = rocketcoin_two_market(
            venue,
            hedge_ratio=float(v["hedge"]),
            lag=int(v["lag"]),
            mm_repost=float(v["repost"]),
        )
        res = sc.run()
        s = res.summary()
        fig = kept(
            _plots.two_market_path_figure,
            res,
            title=f"{venue}: hedge {float(v['hedge']):g}, lag {int(v['lag'])}, "
            f"re-post {float(v['repost']):.0%}",
        )
        text = (
            f"spot {s['initial_spot']:.2f} -> {s['final_spot']:.2f}, perp -> "
            f"{s['final_perp']:.2f}, mark -> {s['final_mark']:.2f} USD\n"
            f"liquidated {s['liquidated_qty']:,.0f} RKT, ADL {s['adl_qty']:,.0f}; forced "
            f"buying {s['forced_buy_notional']:,.0f} USD, amplification "
            f"{s['amplification']:.1f} (spot part {s['spot_amplification']:.1f})"
        )
        return fig, text

    return update


def infrastructure_explorer(
    venue: str = "binance", hedge_ratio: float = 1.0, lag: int = 0, mm_repost: float = 0.0
) -> Panel:
    """Panel: RocketCoin on two markets under a venue's rules and the MM's choices.

    Controls: ``venue`` (Binance, Bybit, Hyperliquid: mark rule and liquidation policy),
    ``hedge`` (hedge ratio, 0 to 2), ``lag`` (stages, 0 to 3), ``repost`` (fraction of the
    consumed perp quotes re-posted between stages). Runs
    :func:`perpsbook.scenarios.rocketcoin_two_market` and draws spot, perp and mark per
    stage (USD per coin); the text gives the end prices, coins liquidated and
    auto-deleveraged, forced buying (USD) and amplification.

    Returns
    -------
    Panel
    """
    check_choice("venue", venue, TWO_MARKET_VENUES)
    check_range("hedge_ratio", hedge_ratio, 0.0, 2.0)
    check_range("lag", lag, 0, 3, "stages")
    check_range("mm_repost", mm_repost, 0.0, 1.0)
    controls = {
        "venue": widgets.Dropdown(
            options=list(TWO_MARKET_VENUES), value=venue, description="venue"
        ),
        "hedge": widgets.FloatSlider(
            value=hedge_ratio, min=0.0, max=2.0, step=0.1, description="hedge h"
        ),
        "lag": widgets.IntSlider(value=int(lag), min=0, max=3, description="lag"),
        "repost": widgets.FloatSlider(
            value=mm_repost, min=0.0, max=1.0, step=0.1, description="re-post"
        ),
    }
    return Panel(controls, _infra_update(), rows=[["venue", "hedge"], ["lag", "repost"]])


def infrastructure_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`infrastructure_explorer`.

    Grid (36 points): venue (3) × hedge ratio (0.5, 1) × lag (0, 1, 2) × re-post (0, 0.5).
    """
    return static_twin(
        _infra_update(),
        {
            "venue": list(TWO_MARKET_VENUES),
            "hedge": [0.5, 1.0],
            "lag": [0, 1, 2],
            "repost": [0.0, 0.5],
        },
        start={"venue": "binance", "hedge": 1.0, "lag": 0, "repost": 0.0},
        descriptions={"venue": "venue", "hedge": "hedge h", "lag": "lag", "repost": "re-post"},
        title="Market infrastructure on two markets",
    )


# --------------------------------------------------------------------------- sniper

SNIPER_Q = np.linspace(0.0, 20_000.0, 81)
"""Sniper sizes (coins) the sniper panel evaluates."""


def _sniper_update() -> Any:
    kept = KeptFigure()
    cache: dict[float, Any] = {}

    def update(v: dict[str, Any]) -> View:
        usd = float(v["ignitor"]) * 1e3
        if usd not in cache:
            cache[usd] = _levers.snipe(SNIPER_Q, ignitor_usd=usd)
        res = cache[usd]
        q = float(v["q"])
        one = _levers.snipe(q, ignitor_usd=usd)
        fig = kept(_plots.sniper_figure, res, current=q)
        be = "never" if not np.isfinite(res.break_even_q) else f"{res.break_even_q:,.0f} RKT"
        text = (
            f"ignitor {usd:,.0f} USD, sniper buys {q:,.0f} RKT for {one.entry_usd[0]:,.0f} USD\n"
            f"price -> {one.final_price[0]:.2f}, {int(one.n_liquidated[0])} tranches; sniper "
            f"P&L {one.pnl[0]:,.0f} USD (break-even from {be}); shorts lose "
            f"{one.shorts_extra_loss[0]:,.0f} USD more"
        )
        return fig, text

    return update


def sniper_explorer(ignitor_usd: float = 150_000.0, q: float = 8_000.0) -> Panel:
    """Panel: a liquidation sniper behind an ignition (:func:`perpsbook.levers.snipe`).

    Controls: ``ignitor`` (the ignitor's buy, thousand USD, 50 to 250) and ``q`` (the
    sniper's buy, coins, 0 to 20,000). The figure is the sniper's P&L and the shorts'
    extra loss (USD) over sizes; the text gives both for the choice.

    Returns
    -------
    Panel
    """
    check_range("ignitor_usd", ignitor_usd, 50_000.0, 250_000.0, "USD")
    check_range("q", q, 0.0, 20_000.0, "coins")
    controls = {
        "ignitor": widgets.FloatSlider(
            value=ignitor_usd / 1e3, min=50.0, max=250.0, step=10.0, description="ignitor $k"
        ),
        "q": widgets.FloatSlider(
            value=q, min=0.0, max=20_000.0, step=250.0, description="sniper q"
        ),
    }
    return Panel(controls, _sniper_update())


def sniper_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`sniper_explorer`.

    Grid (27 points): ignitor (100k, 150k, 190k USD) × sniper size (0 to 16,000 coins in
    2,000 steps).
    """
    return static_twin(
        _sniper_update(),
        {
            "ignitor": [("$100k", 100.0), ("$150k", 150.0), ("$190k", 190.0)],
            "q": [float(x) for x in np.arange(0.0, 16_001.0, 2_000.0)],
        },
        start={"ignitor": 150.0, "q": 8_000.0},
        descriptions={"ignitor": "ignitor", "q": "sniper q (RKT)"},
        title="Liquidation sniping",
    )
