"""Figures of the chapter "The rocket, stage by stage": both cascade models stage by
stage (prices and who bought), the models compared, the article's variants and the
ignition cliff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError
from perpsbook.plots.cascade import price_staircase
from perpsbook.plots.style import (
    COLORS,
    CYCLE,
    escape_dollars,
    format_usd,
    reuse_axes,
    usd_formatter,
)

__all__ = [
    "ignition_cliff_figure",
    "rocket_models_figure",
    "rocket_stages_figure",
    "variants_figure",
]

_LINES = (
    ("spot", "spot (last trade)", COLORS["spot"], "-", "o"),
    ("index", "index", COLORS["neutral"], ":", None),
    ("perp", "perp (last trade)", COLORS["perp"], "-", "s"),
    ("mark", "mark (liquidation trigger)", COLORS["long"], "--", "D"),
)


def _path(start: float, after: np.ndarray, upto: int) -> tuple[np.ndarray, np.ndarray]:
    # value before the ignition at x = -0.5, then the value after each stage k at x = k
    x = np.concatenate(([-0.5], np.arange(upto + 1, dtype=np.float64)))
    return x, np.concatenate(([start], after[: upto + 1]))


def _skip_patch_limits(patch: Any) -> None:
    return None


def _bars(
    x: np.ndarray,
    height: np.ndarray,
    bottom: np.ndarray | None,
    *,
    reused: bool,
    ax: Any,
    width: float,
    **kwargs: Any,
) -> None:
    if reused:
        # a bar of zero height (no edge) draws no pixel: a redraw leaves those out but
        # the first (the legend takes its style from the first bar)
        keep = height != 0
        keep[0] = True
        x, height = x[keep], height[keep]
        bottom = None if bottom is None else bottom[keep]
    ax.bar(x, height, width, bottom=bottom, **kwargs)


def rocket_stages_figure(
    result: Any,
    *,
    upto: int | None = None,
    rerun_from: int | None = None,
    base: Any = None,
    title: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """A cascade stage by stage: four prices on the left, who bought on the right.

    Left: spot, index, perp and mark (USD per coin) after each stage (one line for
    the one-ladder model, where they are one price), the shorts' liquidation prices as
    dotted lines labelled with their coins. Right: per stage, the forced perp buying
    (liquidation engine, orange), the spot buying (ignition yellow, market maker's
    hedges green, arbitrage blue), USD.

    Parameters
    ----------
    result : CascadeResult or TwoMarketResult
    upto : int, optional
        Draw stages ``0 .. upto`` only (axes sized for the whole run: a stage player's
        frames line up).
    rerun_from : int, optional
        Shade stages from this one on (recomputed by :func:`perpsbook.rocket.rerun_from`).
    base : result, optional
        The run before the change: its mark is drawn in grey for comparison.
    title : str, optional
    fig : Figure, optional
        A figure this function returned before, redrawn in place.

    Returns
    -------
    Figure
    """
    from perpsbook.rocket import short_triggers, stage_view

    v = stage_view(result)
    n = int(v["stage"].size)
    last = n - 1 if upto is None else int(upto)
    if not 0 <= last < n:
        raise InvalidInputError(f"upto must be an integer in [0, {n - 1}], got {upto!r}")
    reused = fig is not None
    if fig is None:
        fig, (ax_p, ax_b) = plt.subplots(
            1, 2, figsize=(11, 4.6), layout="none", gridspec_kw={"width_ratios": [1.25, 1.0]}
        )
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.13, top=0.86, wspace=0.3)
    else:
        ax_p, ax_b = reuse_axes(fig, 2, "rocket_stages_figure")
    one = bool(np.all(v["spot"] == v["mark"]))
    trig, coins = short_triggers(result)
    for p, q in zip(trig, coins, strict=True):
        ax_p.axhline(p, color=COLORS["short"], lw=0.8, ls=":", alpha=0.8)
        ax_p.annotate(
            f"{q / 1e3:,.0f}k",
            xy=(1.005, p),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            va="center",
            color=COLORS["short"],
            annotation_clip=False,
        )
    bv = None if base is None else stage_view(base)
    if bv is not None:
        x, y = _path(bv["start"][3], bv["mark"], bv["stage"].size - 1)
        ax_p.plot(x, y, color=COLORS["light"], lw=2.0, label="mark before the change")
    for j, (key, label, color, ls, marker) in enumerate(_LINES):
        if one and key != "spot":
            continue
        x, y = _path(v["start"][j], v[key], last)
        lab = "price (one ladder)" if one else label
        ax_p.plot(x, y, color=color, ls=ls, marker=marker, ms=4, lw=1.6, label=lab)
    ys = [v[k] for k, *_ in _LINES] + [v["start"], trig]
    if bv is not None:
        ys.append(bv["mark"])
    lo = min(float(np.min(a)) for a in ys)
    hi = max(float(np.max(a)) for a in ys)
    pad = 0.06 * (hi - lo)
    ax_p.set_ylim(lo - pad, hi + pad)
    xmax = n if base is None else max(n, len(base.records))
    for ax in (ax_p, ax_b):
        ax.set_xlim(-0.7, xmax - 0.3)
        ax.set_xlabel("stage")
        if rerun_from is not None and rerun_from > 0:
            ax.axvspan(rerun_from - 0.5, xmax - 0.3, color=COLORS["light"], alpha=0.25, lw=0)
    ax_p.yaxis.set_major_formatter(usd_formatter())
    ax_p.set_ylabel("USD per coin")
    # a redraw pins the titles where a new figure's layout puts them (no ticks on top:
    # y = 1): the same pixels without measuring every tick label again on each draw
    ty = {"y": 1.0} if reused else {}
    ax_p.set_title("Prices after each stage (dotted: the shorts' triggers)", **ty)
    ax_p.legend(loc="upper left", fontsize=8)
    if reused:
        # both limits of the bar axes are set explicitly (x above, y below): its data
        # limits are never read, and matplotlib's update of them for each bar is most
        # of the time of ax.bar on a long run (same pixels without it)
        ax_b._update_patch_limits = _skip_patch_limits
    k = np.arange(last + 1)
    ign, eng = v["ignition_usd"][: last + 1], v["engine_usd"][: last + 1]
    hed, arb = v["hedge_usd"][: last + 1], v["arb_usd"][: last + 1]
    w = 0.38
    bars = {"reused": reused, "ax": ax_b, "width": w}
    _bars(k - w / 2, eng, None, color=COLORS["perp"], label="engine's perp buying", **bars)
    _bars(k + w / 2, ign, None, color=COLORS["ignitor"], label="ignition (spot)", **bars)
    _bars(k + w / 2, hed, ign, color=COLORS["spot"], label="MM spot hedge", **bars)
    _bars(k + w / 2, arb, ign + hed, color=COLORS["insurance"], label="arbitrage", **bars)
    top = float(
        np.max(np.maximum(v["engine_usd"], v["ignition_usd"] + v["hedge_usd"] + v["arb_usd"]))
    )
    ax_b.set_ylim(0, 1.3 * max(top, 1.0))
    ax_b.yaxis.set_major_formatter(usd_formatter())
    ax_b.set_ylabel("USD bought in the stage")
    ax_b.set_title("Who bought: perp (left bar), spot (right bar)", **ty)
    ax_b.legend(loc="upper left", fontsize=8, ncol=2)
    if n <= 24:
        ticks = ["ign", *(str(i) for i in range(1, n))]
        for ax in (ax_p, ax_b):
            ax.set_xticks(np.arange(n), ticks)
    if title is None:
        stage = "all stages" if upto is None else f"stage {last} of {n - 1}"
        title = (
            f"{stage}: spot {v['spot'][last]:,.2f}, mark {v['mark'][last]:,.2f} USD; "
            f"forced buying so far "
            f"{format_usd(float(eng.sum() + hed.sum() + arb.sum()), 2)}"
        )
    fig.suptitle(escape_dollars(title), fontweight="bold")
    return fig


def rocket_models_figure(parts: Mapping[str, Mapping[str, float]]) -> Figure:
    """How much of the rocket survives: forced buying per model as multiples of the
    ignition, split into perp buying and spot buying (hedges + arbitrage).

    Parameters
    ----------
    parts : mapping label -> :func:`perpsbook.rocket.forced_parts` of a run

    Returns
    -------
    Figure
    """
    if not parts:
        raise InvalidInputError("parts must hold at least one model, got none")
    labels = list(parts)
    perp = np.array([parts[k]["perp_multiple"] for k in labels])
    spot = np.array([parts[k]["spot_multiple"] for k in labels])
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(labels) + 1.6), layout="constrained")
    y = np.arange(len(labels))[::-1]
    ax.barh(y, spot, color=COLORS["spot"], label="spot buying (hedges + arbitrage)")
    ax.barh(y, perp, left=spot, color=COLORS["perp"], label="perp buying (engine)")
    for yi, s, p in zip(y, spot, perp, strict=True):
        ax.annotate(
            f"{s + p:,.1f}× (spot {s:,.1f}×)",
            xy=(s + p, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.25 * float(np.max(spot + perp)))
    ax.set_xlabel("forced buying / ignition (×)")
    ax.set_title("How much of the rocket survives two markets")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def variants_figure(results: Mapping[str, Any]) -> Figure:
    """The one-ladder price staircase of each RocketCoin variant on one axis.

    Parameters
    ----------
    results : mapping variant -> CascadeResult

    Returns
    -------
    Figure
    """
    if not results:
        raise InvalidInputError("results must hold at least one run, got none")
    fig, ax = plt.subplots(figsize=(9, 4.4), layout="constrained")
    n = 0
    for i, (name, r) in enumerate(results.items()):
        x, y = price_staircase(r)
        ax.plot(
            x,
            y,
            color=CYCLE[i % len(CYCLE)],
            lw=2.0,
            label=f"{name}: {r.final_price:,.2f} USD, {r.amplification:,.1f}×",
        )
        n = max(n, len(r.records))
    for p in (11, 12, 13, 14, 15):
        ax.axhline(p, color=COLORS["short"], lw=0.7, ls=":")
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_xticks(np.arange(n), ["ign", *(str(i) for i in range(1, n))])
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("stage")
    ax.set_ylabel("last traded price (USD per coin)")
    ax.set_title("Each reading of the article's numbers gives its own rocket")
    ax.legend(loc="upper left", fontsize=8, title="variant: final price, amplification")
    return fig


def ignition_cliff_figure(
    ignitions: Sequence[float],
    curves: Mapping[str, Sequence[float]],
    *,
    critical: Mapping[str, float] | None = None,
    default: float = 200_000.0,
) -> Figure:
    """Amplification (forced buying / ignition) against the ignition, per model.

    Parameters
    ----------
    ignitions : sequence of float
        USD, ascending.
    curves : mapping label -> sequence of float
        Amplification at each ignition.
    critical : mapping label -> float, optional
        A critical ignition (USD) to mark per curve.
    default : float
        The default ignition (USD), marked with a vertical line.

    Returns
    -------
    Figure
    """
    x = np.asarray(ignitions, dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or not np.all(np.diff(x) > 0):
        raise InvalidInputError("ignitions must be an ascending sequence of >= 2 USD values")
    fig, ax = plt.subplots(figsize=(9, 4.4), layout="constrained")
    for i, (label, y) in enumerate(curves.items()):
        color = CYCLE[i % len(CYCLE)]
        ax.step(x, np.asarray(y, dtype=np.float64), where="post", color=color, lw=1.8, label=label)
        if critical and label in critical and np.isfinite(critical[label]):
            ax.axvline(critical[label], color=color, lw=0.9, ls="--")
    ax.axvline(default, color=COLORS["neutral"], lw=1.2, ls=":")
    ax.annotate(
        escape_dollars(f"article: {format_usd(default, 0)}"),
        xy=(default, 0.97),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0),
        textcoords="offset points",
        va="top",
        fontsize=8,
    )
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("ignition (USD of spot buying, log scale)")
    ax.set_ylabel("forced buying / ignition (×)")
    ax.set_title("The cliff: below a critical ignition nothing cascades")
    ax.legend(loc="upper right", fontsize=8, title="dashed: critical ignition")
    return fig
