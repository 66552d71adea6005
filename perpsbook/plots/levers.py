"""Figures of the levers chapter ("Timing, location, people"). The model they draw lives in
:mod:`perpsbook.levers` and :mod:`perpsbook.twomarket`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError
from perpsbook.plots.style import COLORS, CYCLE, reuse_axes, usd_formatter

__all__ = [
    "lever_curves_figure",
    "lever_ranking_figure",
    "sniper_figure",
    "two_market_levers_figure",
    "two_market_path_figure",
]


def lever_curves_figure(
    curves: Mapping[str, tuple[Any, Any]],
    base_usd: float,
    *,
    current: tuple[float, float] | None = None,
    title: str = "Critical ignition as each lever moves",
    fig: Figure | None = None,
) -> Figure:
    """Critical ignition (USD, log scale) against each lever's multiple of its default.

    Parameters
    ----------
    curves : mapping label -> (multipliers, critical_usd)
        One line per lever; ``critical_usd`` may hold ``inf`` (no ignition suffices),
        drawn as a gap.
    base_usd : float
        The critical ignition at the default (dashed line), USD.
    current : (multiplier, critical_usd), optional
        A point to mark (the panel's choice).
    title : str
    fig : Figure, optional
        A figure this function returned before, redrawn in place.

    Returns
    -------
    Figure
    """
    if not curves:
        raise InvalidInputError("curves must hold at least one lever, got none")
    if fig is None:
        fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    else:
        (ax,) = reuse_axes(fig, 1, "lever_curves_figure")
    for (label, (m, c)), color in zip(curves.items(), CYCLE * 3, strict=False):
        c = np.asarray(c, dtype=np.float64)
        ax.plot(np.asarray(m), np.where(np.isfinite(c), c, np.nan), color=color, label=label)
    ax.axhline(base_usd, color=COLORS["neutral"], ls="--", lw=0.8)
    ax.axvline(1.0, color=COLORS["neutral"], ls=":", lw=0.8)
    if current is not None and np.isfinite(current[1]):
        ax.plot([current[0]], [current[1]], "o", color="black", ms=7, zorder=5)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("lever / its default value")
    ax.set_ylabel("critical ignition (USD)")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title)
    return fig


def lever_ranking_figure(table: Any, *, title: str | None = None) -> Figure:
    """Horizontal bars: each lever's elasticity of the critical ignition, cut and rise.

    Parameters
    ----------
    table : perpsbook.levers.LeverTable
    title : str, optional
        Default "Which lever matters most: a <step> move".

    Returns
    -------
    Figure
    """
    rows = list(table.rows)[::-1]
    y = np.arange(len(rows))
    down = np.array([np.nan if r.elasticity_down is None else r.elasticity_down for r in rows])
    up = np.array([np.nan if r.elasticity_up is None else r.elasticity_up for r in rows])
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    pct = f"{table.step:.0%}"
    ax.barh(y + 0.2, np.nan_to_num(down), 0.4, color=CYCLE[0], label=f"lever cut by {pct}")
    ax.barh(y - 0.2, np.nan_to_num(up), 0.4, color=CYCLE[1], label=f"lever raised by {pct}")
    ax.set_yticks(y, [r.label for r in rows])
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel("elasticity of the critical ignition (symlog)")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(title or f"Which lever matters most: a {pct} move")
    return fig


def sniper_figure(
    result: Any,
    *,
    current: float | None = None,
    title: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """The sniper's P&L and the shorts' extra loss against the sniper's size.

    Parameters
    ----------
    result : perpsbook.levers.SnipeResult
        Over a grid of sizes ``q`` (coins).
    current : float, optional
        A size (coins) to mark on both panels.
    title : str, optional
    fig : Figure, optional
        A figure this function returned before, redrawn in place.

    Returns
    -------
    Figure
    """
    q = np.asarray(result.q)
    if fig is None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.0), layout="constrained")
    else:
        ax1, ax2 = reuse_axes(fig, 2, "sniper_figure")
    ax1.plot(q, result.pnl, color=COLORS["long"])
    ax1.axhline(0.0, color="black", lw=0.8)
    ax2.plot(q, result.shorts_extra_loss, color=COLORS["short"])
    if current is not None:
        i = int(np.argmin(np.abs(q - current)))
        ax1.plot([q[i]], [result.pnl[i]], "o", color="black")
        ax2.plot([q[i]], [result.shorts_extra_loss[i]], "o", color="black")
    if np.isfinite(result.break_even_q):
        ax1.axvline(result.break_even_q, color=COLORS["neutral"], ls="--", lw=0.8)
    for ax in (ax1, ax2):
        ax.set_xlabel("sniper's buy q (coins)")
        ax.yaxis.set_major_formatter(usd_formatter())
    ax1.set_ylabel("sniper P&L (USD)")
    ax2.set_ylabel("shorts' extra loss (USD)")
    ax1.set_title("the sniper")
    ax2.set_title("what it costs the shorts")
    fig.suptitle(title or f"Sniping behind a {result.ignitor_usd / 1e3:,.0f}k USD ignition")
    return fig


def two_market_path_figure(
    result: Any, *, title: str = "Two markets, stage by stage", fig: Figure | None = None
) -> Figure:
    """Spot, perp and mark price after each stage of a two-market run.

    Parameters
    ----------
    result : perpsbook.twomarket.TwoMarketResult
    title : str
    fig : Figure, optional
        A figure this function returned before, redrawn in place.

    Returns
    -------
    Figure
    """
    if fig is None:
        fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    else:
        (ax,) = reuse_axes(fig, 1, "two_market_path_figure")
    st = result.column("stage")
    for name, color in (("spot", "spot"), ("perp", "perp"), ("mark", "mm")):
        ax.plot(st, result.column(f"{name}_after"), "o-", color=COLORS[color], label=name)
    for p in (11.0, 12.0, 13.0, 14.0, 15.0):
        ax.axhline(p, color=COLORS["short"], lw=0.5, ls=":")
    ax.set_xlabel("stage")
    ax.set_ylabel("price after the stage (USD per coin)")
    ax.set_ylim(9.5, 17.5)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title)
    return fig


def two_market_levers_figure(
    rows: Sequence[Any], *, title: str = "Infrastructure levers on two markets"
) -> Figure:
    """Amplification at the article's ignition for each two-market setting.

    Parameters
    ----------
    rows : sequence of perpsbook.levers.TwoMarketLever
    title : str

    Returns
    -------
    Figure
    """
    if not rows:
        raise InvalidInputError("rows must hold at least one setting, got none")
    labels = [r.label for r in rows][::-1]
    amp = [r.amplification for r in rows][::-1]
    colors = [CYCLE[0] if r.label.startswith("binance") else CYCLE[1] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(8, 4.4), layout="constrained")
    ax.barh(np.arange(len(rows)), amp, color=colors)
    ax.set_yticks(np.arange(len(rows)), labels)
    ax.set_xlabel("forced buying / ignition at 200k USD")
    ax.set_title(title)
    return fig
