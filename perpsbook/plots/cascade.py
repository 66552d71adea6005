"""Cascade figures (chapter "Introduction" and the cascade chapters): the price staircase
and the forced buying, stage by stage."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.plots.style import (
    COLORS,
    SIDE_WORD,
    escape_dollars,
    format_usd,
    reuse_axes,
    usd_formatter,
)

__all__ = ["price_staircase", "rocket_overview_figure"]


def price_staircase(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """The last traded price of a cascade as a staircase, one jump per stage.

    Stage ``k`` is drawn as a vertical jump at ``x = k`` from its opening to its closing
    price, joined by flat segments; the staircase starts half a stage before the ignition
    at the initial price and ends half a stage after the last stage at the final price.

    Parameters
    ----------
    result : CascadeResult
        A run of :func:`perpsbook.cascade.run_cascade` (or ``Scenario.run()``).

    Returns
    -------
    x : ndarray
        Stage coordinates (dimensionless), length ``2 * n_stages + 2``.
    y : ndarray
        Prices, USD per coin, same length.
    """
    before = np.asarray(result.stages.price_before, dtype=np.float64)
    after = np.asarray(result.stages.price_after, dtype=np.float64)
    n = after.size
    x = np.concatenate(([-0.5], np.repeat(np.arange(n, dtype=np.float64), 2), [n - 0.5]))
    y = np.concatenate(
        ([result.initial_price], np.column_stack((before, after)).ravel(), [result.final_price])
    )
    return x, y


def _price_panel(ax: Any, result: Any) -> None:
    x, y = price_staircase(result)
    n = len(result.stages)
    trig = result.tranches.trigger_price
    usd = result.tranches.notional_at_trigger
    stage = result.tranche_stages()
    done = stage >= 0
    for i in range(trig.size):
        color = COLORS["short"] if done[i] else COLORS["light"]
        ax.axhline(trig[i], color=color, lw=0.9, ls=":")
        ax.annotate(
            escape_dollars(f"T{i + 1} {format_usd(usd[i])}"),
            xy=(1.01, trig[i]),
            xycoords=("axes fraction", "data"),
            ha="left",
            va="center",
            fontsize=8,
            color=color,
            annotation_clip=False,
        )
    ax.plot(x, y, color=COLORS["long"], lw=2.2, label="last traded price", zorder=3)
    if done.any():
        marker = "^" if result.params.side == 1 else "v"
        ax.plot(
            stage[done],
            trig[done],
            marker,
            color=COLORS["short"],
            ms=7,
            ls="none",
            zorder=4,
            label="tranche liquidated (at its trigger price)",
        )
    if not done.all():
        ax.plot([], [], color=COLORS["light"], ls=":", label="tranche never reached")
    first = result.records[0].price_after
    ax.annotate(
        escape_dollars(f"ignition\n{format_usd(result.ignition_notional)}"),
        xy=(0.0, 0.5 * (result.initial_price + first)),
        xytext=(6, 0),
        textcoords="offset points",
        ha="left",
        va="center",
        fontsize=8,
    )
    ax.annotate(
        f"{result.final_price:,.2f}",
        xy=(n - 0.5, result.final_price),
        xytext=(0, 4 if result.params.side == 1 else -4),
        textcoords="offset points",
        ha="right",
        va="bottom" if result.params.side == 1 else "top",
        fontsize=9,
        fontweight="bold",
        color=COLORS["long"],
    )
    lo = min(float(y.min()), float(trig.min()))
    hi = max(float(y.max()), float(trig.max()))
    pad = 0.08 * (hi - lo) if hi > lo else 0.5
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(-0.6, n - 0.4)
    if n <= 20:
        ax.set_xticks(np.arange(n), ["0\nignition", *(str(k) for k in range(1, n))])
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("stage")
    ax.set_ylabel("price (USD per coin)")
    ax.set_title("Price, stage by stage")
    ax.legend(loc="upper left" if result.params.side == 1 else "lower left")


def _forced_panel(ax: Any, result: Any) -> None:
    word = SIDE_WORD[int(result.params.side)]
    st = result.stages
    n = len(st)
    x = np.arange(n)
    engine = np.asarray(st.liquidated_notional, dtype=np.float64)
    hedge = np.asarray(st.hedge_notional, dtype=np.float64)
    cum = np.asarray(st.cum_forced_buy_notional, dtype=np.float64)
    ign = float(result.ignition_notional)
    ax.bar(
        [0],
        [ign],
        color=COLORS["ignitor"],
        edgecolor=COLORS["neutral"],
        lw=0.8,
        label=f"ignition (spot {word})",
    )
    ax.bar(x, engine, color=COLORS["perp"], label=f"liquidation engine's perp {word}s")
    ax.bar(x, hedge, bottom=engine, color=COLORS["spot"], label="market makers' spot hedges")
    ax.plot(x, cum, "o-", color=COLORS["neutral"], ms=4, label=f"cumulative forced {word}ing")
    total = float(result.total_forced_buy_notional)
    top = max(total, float((engine + hedge).max(initial=0.0)), ign)
    if ign < 0.15 * top:  # a bar too short to see: point at it
        ax.annotate(
            escape_dollars(f"ignition {format_usd(ign)}"),
            xy=(0.0, ign),
            xytext=(14, 40),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=8,
            arrowprops={"arrowstyle": "->", "color": COLORS["neutral"], "lw": 0.8},
        )
    if total > 0:
        ax.annotate(
            escape_dollars(
                f"{format_usd(total, 2)} of forced {word}ing\n"
                f"= {result.amplification:,.0f}× the {format_usd(ign, 0)} ignition"
            ),
            xy=(n - 1, total),
            # below the legend, left of the cumulative line's rise
            xytext=(0.03, 0.62),
            textcoords="axes fraction",
            ha="left",
            va="top",
            fontsize=9,
            fontweight="bold",
            arrowprops={"arrowstyle": "->", "color": COLORS["neutral"], "lw": 0.8},
        )
    else:
        ax.annotate(
            f"no liquidation triggered:\nforced {word}ing 0 USD",
            xy=(0.5, 0.5),
            xycoords="axes fraction",
            ha="center",
            va="center",
            fontsize=9,
        )
    ax.set_ylim(0, 1.45 * top)  # headroom for the legend and the total
    ax.set_xlim(-0.6, n - 0.4)
    if n <= 20:
        ax.set_xticks(x, ["0\nignition", *(str(k) for k in range(1, n))])
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("stage")
    ax.set_ylabel(f"USD {word}ing (bars: per stage)")
    ax.set_title(f"Forced {word}ing vs the ignition")
    ax.legend(loc="upper left")


def rocket_overview_figure(
    result: Any, *, title: str | None = None, fig: Figure | None = None
) -> Figure:
    """A cascade in one picture: the price staircase and the forced buying, stage by stage.

    Left: the last traded price (USD per coin) as a staircase (:func:`price_staircase`),
    each tranche's liquidation price as a dotted line labelled on the right with its USD
    value at that price (vermillion if liquidated, grey if never reached) and a marker at
    the stage that liquidated it (:meth:`perpsbook.cascade.CascadeResult.tranche_stages`).
    Right: per stage, the ignition's USD and the forced USD -- the liquidation engine's
    market orders stacked with the market makers' hedges -- with the running total and its
    ratio to the ignition (the amplification of :class:`perpsbook.cascade.CascadeResult`).

    Parameters
    ----------
    result : CascadeResult
        A rocket (``params.side = +1``) or a crash (``-1``: selling, falling prices).
    title : str, optional
        Figure title; default the ignition, the forced USD and the price move.
    fig : Figure, optional
        A figure this function returned before, redrawn in place for ``result``: its axes
        and ticks are reused, which takes a third less time than a new figure (the
        interactive panel keeps one figure this way). The pixels are the same.

    Returns
    -------
    Figure
        ``fig`` if given, else a new figure.
    """
    word = SIDE_WORD[int(result.params.side)]
    if fig is None:
        # Fixed margins instead of constrained layout: a widget redraws this figure on
        # every change, and the layout pass would double the time of each redraw.
        fig, (ax_p, ax_f) = plt.subplots(
            1, 2, figsize=(6.8, 4.4), layout="none", gridspec_kw={"width_ratios": [1.0, 1.0]}
        )
        # room for the tranche labels right of the price panel (drawn at 6.8 in, the
        # width of the book's text column, so 8-point labels show at 11 px)
        fig.subplots_adjust(left=0.1, right=0.985, bottom=0.14, top=0.86, wspace=0.62)
    else:
        ax_p, ax_f = reuse_axes(fig, 2, "rocket_overview_figure")
    _price_panel(ax_p, result)
    _forced_panel(ax_f, result)
    total = result.total_forced_buy_notional
    forced = f"forces {format_usd(total, 2)} of {word}ing" if total > 0 else "forces nothing"
    default = (
        f"{format_usd(result.ignition_notional, 0)} of spot {word}ing {forced}; price "
        f"{result.initial_price:,.2f} → {result.final_price:,.2f} USD per coin"
    )
    fig.suptitle(escape_dollars(default) if title is None else title, fontweight="bold")
    return fig
