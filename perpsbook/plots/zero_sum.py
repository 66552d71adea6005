"""Figures of who paid whom (chapter "Zero-sum: who pays whom").

The accounting lives in :mod:`perpsbook.payoffs`; these functions only draw a
:class:`~perpsbook.payoffs.ZeroSum` (a ledger grouped by role and marked to stated prices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from perpsbook.errors import InvalidInputError, check_positive
from perpsbook.payoffs import ZeroSum, pnl_curves
from perpsbook.plots.style import COLORS, CYCLE, escape_dollars, format_usd, usd_formatter

__all__ = ["pnl_against_mark_figure", "policy_pnl_figure", "zero_sum_waterfall"]

GAIN, LOSS = COLORS["long"], COLORS["short"]


def _check_zs(zs: Any, name: str = "zs") -> ZeroSum:
    if not isinstance(zs, ZeroSum):
        raise InvalidInputError(
            f"{name} must be a perpsbook.payoffs.ZeroSum, got {type(zs).__name__}"
        )
    return zs


def _waterfall(ax: Any, zs: ZeroSum, tol: float) -> None:
    keep = np.abs(zs.value) > tol
    order = np.argsort(-zs.value[keep], kind="stable")
    roles = [r for r, k in zip(zs.roles, keep, strict=True) if k]
    roles = [roles[i] for i in order]
    vals = zs.value[keep][order]
    start = np.concatenate(([0.0], np.cumsum(vals)[:-1]))
    colors = [GAIN if v > 0 else LOSS for v in vals]
    y = np.arange(len(vals))
    ax.barh(y, vals, left=start, color=colors, height=0.7)
    for yi, s, v in zip(y, start, vals, strict=True):
        x = s + v if v > 0 else s
        ax.text(x, yi, f" {escape_dollars(format_usd(v))}", va="center", ha="left", fontsize=8)
    total = float(np.sum(vals))
    ax.plot([total, total], [len(vals) - 0.6, len(vals) + 0.4], color=COLORS["neutral"], lw=2)
    ax.text(
        total,
        len(vals) + 0.4,
        f" total {escape_dollars(format_usd(round(total, 2)))}",
        va="center",
        fontsize=8,
    )
    ax.set_yticks([*y, len(vals)], [*roles, "sum"])
    ax.invert_yaxis()
    ax.axvline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.xaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("running sum of P&L (USD)")
    lo, hi = min(0.0, float(np.min(start + np.minimum(vals, 0)))), float(np.max(start + vals))
    pad = 0.35 * (hi - lo if hi > lo else 1.0)
    ax.set_xlim(lo - 0.05 * pad, hi + pad)


def zero_sum_waterfall(
    zs: ZeroSum,
    *,
    title: str = "Where every dollar went",
    tol: float = 0.5,
    ax: Any = None,
) -> Figure:
    """Waterfall of the P&L by role: gains first, then losses, ending at zero.

    Each bar starts where the previous one ended, so the bars of the winners climb to the
    total the losers pay and the losers' bars bring it back to 0 (the last line, "sum").
    Roles within ``tol`` USD of zero are left out.

    Parameters
    ----------
    zs : ZeroSum
        A ledger by role at stated marks (:func:`perpsbook.payoffs.zero_sum`).
    title : str
    tol : float
        USD.
    ax : Axes, optional
        Draw into this axes (its figure is returned).

    Returns
    -------
    Figure
    """
    zs = _check_zs(zs)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.0, 4.2), layout="constrained")
    else:
        fig = ax.figure
    _waterfall(ax, zs, tol)
    mark = f"marked at spot {zs.spot_price:,.2f}"
    if abs(zs.perp_price - zs.spot_price) > 1e-12:
        mark += f", perp {zs.perp_price:,.2f}"
    ax.set_title(f"{title}\n({escape_dollars(mark)} USD per coin)", fontsize=11)
    return fig


def pnl_against_mark_figure(
    zs: ZeroSum,
    prices: Sequence[float] | np.ndarray,
    *,
    entry_price: float | None = None,
    title: str = "P&L by role against the price it is marked at",
    tol: float = 0.5,
) -> Figure:
    """Each role's P&L as a line against the mark (spot and perp at the same price).

    P&L is ``cash + coins x p``: a straight line whose slope is the coins (spot + perp) the
    role holds at the end. The lines sum to zero at every price (dashed black line); the
    final price and ``entry_price`` are drawn as vertical lines.

    Parameters
    ----------
    zs : ZeroSum
    prices : array_like
        Marks, USD per coin, > 0.
    entry_price : float, optional
        USD per coin.
    title : str
    tol : float
        Roles whose line stays within ``tol`` USD of zero are left out.

    Returns
    -------
    Figure
    """
    zs = _check_zs(zs)
    p = np.asarray(check_positive("prices", prices), dtype=np.float64)
    accounts, vals = pnl_curves(zs.entries, p)
    from perpsbook.payoffs import account_role

    roles = [account_role(a, zs.entries) for a in accounts]
    fig, ax = plt.subplots(figsize=(8.0, 4.4), layout="constrained")
    total = np.zeros_like(p)
    k = 0
    for r in zs.roles:
        cols = [i for i, ra in enumerate(roles) if ra == r]
        if not cols:  # a role given by override: skip the line, keep the sum exact
            continue
        y = vals[:, cols].sum(axis=1)
        total += y
        if np.max(np.abs(y)) <= tol:
            continue
        ax.plot(p, y, label=r, color=CYCLE[k % len(CYCLE)])
        k += 1
    ax.plot(p, total, color="black", ls="--", lw=1.2, label="sum of all roles")
    ax.axvline(zs.spot_price, color=COLORS["neutral"], lw=0.8, ls=":")
    ax.text(zs.spot_price, ax.get_ylim()[1], " final", va="top", fontsize=8)
    if entry_price is not None:
        ax.axvline(entry_price, color=COLORS["neutral"], lw=0.8, ls=":")
        ax.text(entry_price, ax.get_ylim()[1], " entry", va="top", fontsize=8)
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_xlabel("mark price (USD per coin)")
    ax.set_ylabel("P&L (USD)")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def policy_pnl_figure(
    ledgers: Mapping[str, ZeroSum],
    *,
    title: str = "Who wins and who loses, venue by venue",
    tol: float = 0.5,
) -> Figure:
    """Grouped bars: each role's P&L (USD) under each venue policy (or any set of ledgers).

    Parameters
    ----------
    ledgers : mapping name -> ZeroSum
        One ledger per policy (bars in mapping order).
    title : str
    tol : float
        Roles within ``tol`` USD of zero under every policy are left out.

    Returns
    -------
    Figure
    """
    if not isinstance(ledgers, Mapping) or not ledgers:
        raise InvalidInputError("ledgers must be a non-empty mapping name -> ZeroSum")
    items = [(str(k), _check_zs(v, f"ledgers[{k!r}]")) for k, v in ledgers.items()]
    roles: list[str] = []
    for _, zs in items:
        roles += [r for r in zs.roles if r not in roles]
    table = np.array([[zs.pnl().get(r, 0.0) for r in roles] for _, zs in items])
    keep = np.max(np.abs(table), axis=0) > tol
    roles = [r for r, k in zip(roles, keep, strict=True) if k]
    table = table[:, keep]
    n, m = table.shape
    fig, ax = plt.subplots(figsize=(8.5, 4.6), layout="constrained")
    w = 0.8 / n
    x = np.arange(m)
    for i, (name, _) in enumerate(items):
        ax.bar(x + (i - (n - 1) / 2) * w, table[i], width=w, label=name, color=CYCLE[i])
    ax.set_xticks(x, [r.replace(" ", "\n", 1) for r in roles], fontsize=8)
    ax.axhline(0.0, color=COLORS["neutral"], lw=0.8)
    ax.yaxis.set_major_formatter(usd_formatter())
    ax.set_ylabel("P&L at the final prices (USD)")
    ax.set_title(title)
    ax.legend(loc="upper left", ncols=min(n, 4))
    return fig
