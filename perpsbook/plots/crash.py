"""Figures of the crash chapter ("The mirror image"): rocket and crash side by side, the
BTCUSDT 4-hour bars of 10-11 October 2025 with the published windows, and ADL policies
compared on one crash."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError
from perpsbook.plots.cascade import price_staircase
from perpsbook.plots.style import COLORS, CYCLE, date_axis, escape_dollars, usd_formatter

__all__ = [
    "ADL_POLICY_COLORS",
    "ADL_POLICY_LABELS",
    "adl_hits_figure",
    "adl_policies_figure",
    "crash_klines_figure",
    "mirror_figure",
    "two_market_crash_figure",
]

ADL_POLICY_LABELS = {
    "binance": "Binance (LeveragePnL)",
    "bybit": "Bybit (PnL x leverage)",
    "hyperliquid": "Hyperliquid (whole position)",
    "pro_rata": "pro-rata",
}
"""Legend labels of the ADL policies of :data:`perpsbook.adl.ADL_POLICIES`."""

ADL_POLICY_COLORS = {
    "binance": CYCLE[3],
    "bybit": CYCLE[0],
    "hyperliquid": CYCLE[2],
    "pro_rata": CYCLE[4],
}
"""One colour per ADL policy (Okabe-Ito)."""


def mirror_figure(rocket: Any, crash: Any, pivot: float = 10.0) -> Figure:
    """The rocket and its mirror-image crash: prices reflect, coins match, USD do not.

    Left: the two price staircases (USD per coin) and the crash reflected about ``pivot``
    (dashed, on top of the rocket's). Right: per stage, coins liquidated (equal) and USD
    liquidated (not equal).

    Parameters
    ----------
    rocket, crash : CascadeResult
        A rocket (side +1) and its mirror image (side -1), same number of stages.
    pivot : float
        USD per coin.
    """
    if len(rocket.stages) != len(crash.stages):
        raise InvalidInputError(
            f"rocket and crash must have the same number of stages, got {len(rocket.stages)} "
            f"and {len(crash.stages)}"
        )
    fig, (ax_p, ax_q) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
    xr, yr = price_staircase(rocket)
    xc, yc = price_staircase(crash)
    ax_p.axhline(pivot, color=COLORS["light"], lw=1, ls=":", label=f"pivot ${pivot:g}")
    ax_p.plot(xr, yr, color=COLORS["short"], label="rocket (shorts liquidated)")
    ax_p.plot(xc, yc, color=COLORS["long"], label="crash (longs liquidated)")
    ax_p.plot(xc, 2 * pivot - yc, color=COLORS["neutral"], ls="--", lw=1.2, label="crash reflected")
    ax_p.set_xlabel("stage")
    ax_p.set_ylabel("last traded price (USD per coin)")
    ax_p.yaxis.set_major_formatter(usd_formatter(0))
    ax_p.set_title("Prices reflect about the pivot")
    ax_p.set_ylim(0.0, 2 * pivot * 0.9)  # from the floor at zero
    ax_p.legend(loc="upper left", fontsize=8)

    k = np.arange(1, len(rocket.stages))
    w = 0.38
    cr, cc = rocket.stages.columns, crash.stages.columns
    coins_r, coins_c = cr["liquidated_qty"][1:], cc["liquidated_qty"][1:]
    usd_r, usd_c = cr["liquidated_notional"][1:], cc["liquidated_notional"][1:]
    ax_q.bar(k - w / 2, usd_r / 1e6, w, color=COLORS["short"], label="USD, rocket")
    ax_q.bar(k + w / 2, usd_c / 1e6, w, color=COLORS["long"], label="USD, crash")
    ax_q.set_ylabel("liquidated (million USD)")
    ax_q.set_xlabel("stage")
    ax_q.set_xticks(k)
    ax_c = ax_q.twinx()
    ax_c.plot(k, coins_r / 1e3, "o", color=COLORS["short"], ms=9, mfc="none", label="coins, rocket")
    ax_c.plot(k, coins_c / 1e3, "x", color=COLORS["long"], ms=7, label="coins, crash")
    ax_c.set_ylabel("liquidated (thousand coins)")
    ax_c.grid(False)
    ax_c.set_ylim(0, None)
    ax_q.set_title("Same coins, fewer dollars")
    h1, l1 = ax_q.get_legend_handles_labels()
    h2, l2 = ax_c.get_legend_handles_labels()
    ax_q.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    return fig


def crash_klines_figure(
    bars: Any,
    windows: Mapping[str, tuple[Any, Any]] | None = None,
    *,
    title: str = "BTCUSDT perpetual on Binance, 4-hour bars",
) -> Figure:
    """4-hour candles and USD volume with published time windows shaded.

    Parameters
    ----------
    bars : Klines
        Bars to draw (prices USD per coin, ``quote_volume`` USD).
    windows : mapping label -> (start, end), optional
        UTC times (str or datetime64) of windows to shade, e.g. the published liquidation
        windows of the figure ledger.
    title : str
        Figure title.
    """
    if bars.n == 0:
        raise InvalidInputError("bars must contain at least one bar, got 0")
    fig, (ax_p, ax_v) = plt.subplots(
        2,
        1,
        figsize=(9, 5.5),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 1.4]},
        layout="constrained",
    )
    half = np.timedelta64(bars.interval_ms * 2 // 5, "ms")
    mid = bars.open_time + np.timedelta64(bars.interval_ms // 2, "ms")
    x0, x1 = mdates.date2num(mid - half), mdates.date2num(mid + half)
    xm = mdates.date2num(mid)
    up = bars.close >= bars.open
    ax_p.vlines(xm, bars.low, bars.high, color=COLORS["neutral"], lw=0.9)
    lo = np.minimum(bars.open, bars.close)
    hi = np.maximum(bars.open, bars.close)
    verts = np.stack([np.column_stack(c) for c in ((x0, lo), (x0, hi), (x1, hi), (x1, lo))], axis=1)
    colors = np.where(up, COLORS["spot"], COLORS["short"])
    ax_p.add_collection(
        PolyCollection(verts, facecolors=colors, edgecolors=COLORS["neutral"], lw=0.5)
    )
    ax_p.update_datalim(np.column_stack((np.r_[x0, x1], np.r_[bars.low, bars.high])))
    ax_p.autoscale_view()
    ax_p.yaxis.set_major_formatter(usd_formatter(0))
    ax_p.set_ylabel("price (USD per BTC)")
    v = np.asarray(bars.quote_volume, dtype=np.float64)
    vverts = np.stack(
        [np.column_stack(c) for c in ((x0, 0 * v), (x0, v), (x1, v), (x1, 0 * v))], axis=1
    )
    vol = PolyCollection(vverts, facecolors=colors, linewidths=0)
    vol.sticky_edges.y.append(0.0)
    ax_v.add_collection(vol)
    ax_v.update_datalim(np.column_stack((np.r_[x0, x1], np.r_[v, 0 * v])))
    ax_v.autoscale_view()
    ax_v.yaxis.set_major_formatter(usd_formatter(0))
    ax_v.set_ylabel("volume per 4 h (USD)")
    ax_v.set_xlabel("time (UTC)")
    for i, (label, (start, end)) in enumerate((windows or {}).items()):
        a = mdates.date2num(np.datetime64(start, "ms"))
        b = mdates.date2num(np.datetime64(end, "ms"))
        color = [COLORS["event"], COLORS["insurance"], COLORS["mm"], COLORS["perp"]][i % 4]
        for ax in (ax_p, ax_v):
            ax.axvspan(a, b, color=color, alpha=0.25 if b - a < 0.2 else 0.1, lw=0)
        ax_p.axvspan(a, b, color=color, alpha=0.0, lw=0, label=label)
    if windows:
        handles = [
            plt.Rectangle((0, 0), 1, 1, color=c, alpha=0.4)
            for c in [COLORS["event"], COLORS["insurance"], COLORS["mm"], COLORS["perp"]][
                : len(windows)
            ]
        ]
        ax_p.legend(handles, list(windows), loc="lower left", fontsize=8)
    ax_p.set_title(title)
    date_axis(ax_v)
    return fig


def _policies(summary: Mapping[str, Mapping[str, float]]) -> list[str]:
    if not summary:
        raise InvalidInputError("summary must hold at least one policy, got none")
    return list(summary)


def adl_policies_figure(
    summary: Mapping[str, Mapping[str, float]], *, title: str | None = None
) -> Figure:
    """Per ADL policy: positions hit, coins closed against the deficit, profit haircut.

    Parameters
    ----------
    summary : mapping policy -> totals
        From ``perpsbook.crash.adl_policy_summary`` (keys ``n_deleveraged``, ``qty``,
        ``deficit_qty``, ``haircut_usd``, ``needed_usd``, ``eligible``).
    title : str, optional
        Figure title.
    """
    pols = _policies(summary)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6), layout="constrained")
    y = np.arange(len(pols))
    colors = [ADL_POLICY_COLORS.get(p, COLORS["neutral"]) for p in pols]
    labels = [ADL_POLICY_LABELS.get(p, p) for p in pols]
    t0 = summary[pols[0]]
    panels = (
        (
            "shorts deleveraged",
            [summary[p]["n_deleveraged"] for p in pols],
            t0["eligible"],
            "in profit",
        ),
        (
            "coins closed (thousand)",
            [summary[p]["qty"] / 1e3 for p in pols],
            t0["deficit_qty"] / 1e3,
            "deficit",
        ),
        (
            "profit taken (thousand USD)",
            [summary[p]["haircut_usd"] / 1e3 for p in pols],
            t0["needed_usd"] / 1e3,
            "needed",
        ),
    )
    for ax, (name, vals, ref, ref_label) in zip(axes, panels, strict=True):
        ax.barh(y, vals, color=colors)
        ax.axvline(ref, color=COLORS["neutral"], ls="--", lw=1.2)
        ax.text(ref, -0.55, ref_label, ha="center", va="bottom", fontsize=8)
        ax.set_yticks(y)
        ax.set_yticklabels(labels if ax is axes[0] else [""] * len(pols), fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(name)
        for yi, v in zip(y, vals, strict=True):
            ax.text(v, yi, f" {v:,.0f}" if abs(v) >= 100 else f" {v:,.1f}", va="center", fontsize=8)
        ax.margins(x=0.25)
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig


def adl_hits_figure(
    positions: Any,
    mark_price: float,
    comparison: Any,
    policies: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Who is deleveraged: every profitable short by leverage and unrealised PnL, hits marked.

    One panel per policy: grey dots for every short in profit at ``mark_price`` (x: entry
    notional / margin, y: unrealised PnL in USD, log), coloured dots for the ones the policy
    closes, sized by the fraction of the position closed.

    Parameters
    ----------
    positions : Positions
        The counterparties given to the comparison.
    mark_price : float
        USD per coin.
    comparison : AdlComparison
        From :func:`perpsbook.adl.compare_adl_policies`.
    policies : sequence of str, optional
        Which policies to draw (default all in the comparison).
    title : str, optional
        Figure title.
    """
    pols = list(comparison.policies if policies is None else policies)
    if not pols:
        raise InvalidInputError("policies must name at least one policy, got none")
    upnl = positions.upnl(mark_price)
    ok = upnl > 0
    lev = positions.size * positions.entry_price / np.maximum(positions.margin, 1e-12)
    rng = np.random.default_rng(0)  # jitter only, for legibility of the discrete leverages
    jit = lev * np.exp(0.06 * rng.standard_normal(lev.size))
    fig, axes = plt.subplots(
        1,
        len(pols),
        figsize=(max(6.0, 2.6 * len(pols) + 1), 3.6),
        sharey=True,
        layout="constrained",
        squeeze=False,
    )
    pol = np.asarray(comparison.policy, dtype=object)
    for ax, p in zip(axes[0], pols, strict=True):
        ax.scatter(jit[ok], upnl[ok], s=3, color=COLORS["light"], lw=0)
        sel = pol == p
        cp = comparison.counterparty[sel]
        frac = comparison.qty[sel] / positions.size[cp]
        ax.scatter(
            jit[cp],
            upnl[cp],
            s=4 + 16 * frac,
            color=ADL_POLICY_COLORS.get(p, COLORS["neutral"]),
            lw=0,
            alpha=0.8,
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([2, 3, 5, 10, 20])
        ax.set_xticklabels(["2x", "3x", "5x", "10x", "20x"])
        ax.minorticks_off()
        ax.set_xlabel("leverage at entry")
        ax.set_title(f"{ADL_POLICY_LABELS.get(p, p)}\n{np.unique(cp).size:,} hit", fontsize=9)
    axes[0][0].set_ylabel("unrealised PnL at the mark (USD)")
    axes[0][0].yaxis.set_major_formatter(usd_formatter(0))
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig


_PRICE_LINES = (
    ("spot", "spot (last trade)", COLORS["spot"], "-", "o"),
    ("index", "index", COLORS["neutral"], ":", None),
    ("perp", "perp (last trade)", COLORS["perp"], "-", "s"),
    ("mark", "mark (liquidation trigger)", COLORS["long"], "--", "D"),
)


def long_triggers(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Liquidation prices of the longs of a two-market run at its start (USD per coin,
    rounded to the cent) and the coins at each, ascending."""
    pos = result.snapshots[0].positions
    longs = pos.take(np.flatnonzero(pos.side == 1))
    venue = result.params.venue
    lp = venue.liquidation_price(longs.side, longs.size, longs.entry_price, longs.margin)
    prices, inv = np.unique(np.round(np.asarray(lp, dtype=np.float64), 2), return_inverse=True)
    return prices, np.bincount(inv, weights=longs.size)


def two_market_crash_figure(
    crash: Any,
    rocket: Any = None,
    pivot: float = 10.0,
    *,
    title: str | None = None,
) -> Figure:
    """A two-market crash stage by stage: four prices on the left, who sold on the right.

    Left: spot, index, perp and mark (USD per coin) before the ignition and after each
    stage, the longs' liquidation prices as dotted lines labelled with their coins, and,
    if ``rocket`` is given, the rocket's mark reflected about ``pivot`` (grey): where the
    crash's mark would be if the two were exact mirror images. Right: per stage, the
    forced perp selling (the liquidation engine's and a fund's or vault's unwinding),
    the ignition's and the market maker's spot selling, USD.

    Parameters
    ----------
    crash : TwoMarketResult
        A run with ``params.side == -1`` (:func:`perpsbook.scenarios.rocketcoin_crash_two_market`).
    rocket : TwoMarketResult, optional
        The rocket it mirrors (:func:`perpsbook.scenarios.rocketcoin_two_market`).
    pivot : float
        USD per coin, > 0.
    title : str, optional

    Returns
    -------
    Figure
    """
    from perpsbook.rocket import stage_view
    from perpsbook.twomarket import TwoMarketResult

    for name, r in (("crash", crash), ("rocket", rocket)):
        if r is not None and not isinstance(r, TwoMarketResult):
            raise InvalidInputError(
                f"{name} must be a perpsbook.twomarket.TwoMarketResult, got {type(r).__name__}"
            )
    if crash.params.side != -1:
        raise InvalidInputError(
            f"crash must be a crash (params.side -1), got side {crash.params.side}"
        )
    pivot = float(pivot)
    if not (np.isfinite(pivot) and pivot > 0):
        raise InvalidInputError(f"pivot must be a finite price > 0 (USD per coin), got {pivot!r}")
    v = stage_view(crash)
    n = int(v["stage"].size)
    fig, (ax_p, ax_s) = plt.subplots(
        1, 2, figsize=(11, 4.6), layout="none", gridspec_kw={"width_ratios": [1.25, 1.0]}
    )
    fig.subplots_adjust(left=0.07, right=0.985, bottom=0.13, top=0.86, wspace=0.3)
    trig, coins = long_triggers(crash)
    for p, q in zip(trig, coins, strict=True):
        ax_p.axhline(p, color=COLORS["long"], lw=0.8, ls=":", alpha=0.8)
        ax_p.annotate(
            f"{q / 1e3:,.0f}k",
            xy=(1.005, p),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            va="center",
            color=COLORS["long"],
            annotation_clip=False,
        )
    x = np.concatenate(([-0.5], np.arange(n, dtype=np.float64)))
    if rocket is not None:
        rv = stage_view(rocket)
        xr = np.concatenate(([-0.5], np.arange(rv["stage"].size, dtype=np.float64)))
        yr = 2 * pivot - np.concatenate(([rv["start"][3]], rv["mark"]))
        ax_p.plot(xr, yr, color=COLORS["light"], lw=3.0, label="rocket's mark, reflected")
    ys = [trig, v["start"]]
    for j, (key, label, color, ls, marker) in enumerate(_PRICE_LINES):
        y = np.concatenate(([v["start"][j]], v[key]))
        ys.append(y)
        ax_p.plot(x, y, color=color, ls=ls, marker=marker, ms=4, lw=1.6, label=label)
    lo = min(float(np.min(a)) for a in ys)
    hi = max(float(np.max(a)) for a in ys)
    pad = 0.06 * (hi - lo)
    ax_p.set_ylim(lo - pad, hi + pad)
    ax_p.yaxis.set_major_formatter(usd_formatter())
    ax_p.set_ylabel("USD per coin")
    ax_p.set_title("Prices after each stage (dotted: the longs' triggers)")
    ax_p.legend(loc="lower left", fontsize=8)
    k = np.arange(n)
    w = 0.38
    ign, eng, hed = v["ignition_usd"], v["engine_usd"], v["hedge_usd"]
    ax_s.bar(k - w / 2, eng, w, color=COLORS["perp"], label="engine's and fund's perp selling")
    ax_s.bar(k + w / 2, ign, w, color=COLORS["ignitor"], label="ignition (spot)")
    ax_s.bar(k + w / 2, hed, w, bottom=ign, color=COLORS["spot"], label="MM spot hedge")
    top = float(np.max(np.maximum(eng, ign + hed)))
    ax_s.set_ylim(0, 1.3 * max(top, 1.0))
    ax_s.yaxis.set_major_formatter(usd_formatter())
    ax_s.set_ylabel("USD sold in the stage")
    ax_s.set_title("Who sold: perp (left bar), spot (right bar)")
    ax_s.legend(loc="upper left", fontsize=8, ncol=2)
    for ax in (ax_p, ax_s):
        ax.set_xlim(-0.7, n - 0.3)
        ax.set_xlabel("stage")
        if n <= 24:
            ax.set_xticks(k, ["ign", *(str(i) for i in range(1, n))])
    if title is None:
        title = (
            f"{crash.params.venue.name}: spot {v['spot'][-1]:,.2f}, "
            f"mark {v['mark'][-1]:,.2f} USD after {n - 1} stages"
        )
    fig.suptitle(escape_dollars(title), fontweight="bold")
    return fig
