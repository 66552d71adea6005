"""Figures of cascade theory (chapter "Cascade theory"): the branching ratio along the
price, the multiplier 1/(1 - R) against simulation, phase diagrams over two parameters.
The model they draw lives in :mod:`perpsbook.theory` and :mod:`perpsbook.population`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from perpsbook.errors import InvalidInputError, check_finite
from perpsbook.plots.style import COLORS, CYCLE

__all__ = [
    "ignition_response_figure",
    "multiplier_check_figure",
    "phase_diagram_figure",
    "r_profile_figure",
]


def _curve(name: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(check_finite(f"{name} x", x), dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape or xa.size == 0:
        raise InvalidInputError(
            f"{name}: x and y must be non-empty 1-D arrays of one shape, got "
            f"{xa.shape} and {ya.shape}"
        )
    return xa, ya


def r_profile_figure(
    curves: Mapping[str, tuple[Any, Any]],
    *,
    marks: Sequence[float] = (),
    styles: Sequence[str] = (),
    title: str = "Branching ratio along the price path",
    ax: Any = None,
) -> Figure:
    """R(p) against the price, one step curve per label, with the critical line R = 1.

    Parameters
    ----------
    curves : mapping label -> (prices, R)
        Prices in USD per coin, R dimensionless (>= 0; ``inf`` drawn at the top).
    marks : sequence of float
        Prices (USD per coin) marked with a dotted vertical line (e.g. the price after
        the ignition).
    styles : sequence of str
        Line styles of the curves in order (default solid), e.g. ``("-", "--")``.
    title : str
    ax : matplotlib Axes, optional
        Draw into it instead of a new figure.

    Returns
    -------
    Figure
    """
    if not curves:
        raise InvalidInputError("curves must hold at least one (prices, R) pair")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 3.4), layout="constrained")
    else:
        fig = ax.figure
    top = 1.0
    ls = list(styles) + ["-"] * len(curves)
    for (label, (p, r)), color, style in zip(curves.items(), CYCLE, ls, strict=False):
        x, y = _curve(label, p, r)
        y = np.where(np.isfinite(y), y, np.nan)
        top = max(top, float(np.nanmax(y)) if np.any(np.isfinite(y)) else 1.0)
        ax.step(x, y, where="mid", color=color, lw=1.4, ls=style, label=label)
    ax.axhline(1.0, color=COLORS["neutral"], lw=1.0, ls="--")
    ax.text(
        ax.get_xlim()[0], 1.0, " R = 1: critical", va="bottom", ha="left", fontsize=8,
        color=COLORS["neutral"],
    )  # fmt: skip
    for m in marks:
        ax.axvline(m, color=COLORS["light"], lw=1.0, ls=":")
    ax.set_ylim(0.0, 1.08 * top)
    ax.set_xlabel("price (USD per coin)")
    ax.set_ylabel("branching ratio R")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def multiplier_check_figure(
    r_grid: Any,
    simulated: Mapping[str, tuple[Any, Any]],
    *,
    title: str = "The multiplier 1/(1 - R): formula and simulation",
) -> Figure:
    """Analytic ``1/(1 - R)`` (line) against simulated multipliers (markers).

    Parameters
    ----------
    r_grid : array_like
        R values in [0, 1) for the analytic curve.
    simulated : mapping label -> (R, multiplier)
        Each a set of simulated points: the branching ratio measured on the book and the
        ratio of total to ignition buying on the trigger book (dimensionless).
    title : str

    Returns
    -------
    Figure
        Left: multipliers on a log axis. Right: relative error of each simulated point
        against the formula (per cent).
    """
    r = np.asarray(check_finite("r_grid", r_grid), dtype=np.float64)
    if r.ndim != 1 or r.size < 2 or np.any(r < 0) or np.any(r >= 1):
        raise InvalidInputError("r_grid must be a 1-D array of at least 2 values in [0, 1)")
    fig, (ax, ax_e) = plt.subplots(
        1, 2, figsize=(7.6, 3.3), layout="constrained", gridspec_kw={"width_ratios": [3, 2]}
    )
    ax.plot(r, 1.0 / (1.0 - r), color=COLORS["neutral"], lw=1.5, label="1 / (1 − R)")
    markers = ("o", "s", "^", "D")
    for (label, (rs, ms)), color, mk in zip(simulated.items(), CYCLE, markers * 4, strict=False):
        x, y = _curve(label, rs, ms)
        ax.plot(x, y, mk, ms=5, mfc="none", color=color, label=label)
        err = 100.0 * (y * (1.0 - x) - 1.0)
        ax_e.plot(x, err, mk, ms=5, mfc="none", color=color, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("branching ratio R")
    ax.set_ylabel("total / ignition buying")
    ax.set_title(title, loc="left")
    ax.legend(fontsize=8)
    ax_e.axhline(0.0, color=COLORS["neutral"], lw=1.0)
    ax_e.set_xlabel("branching ratio R")
    ax_e.set_ylabel("simulated vs formula (%)")
    ax_e.set_title("relative error")
    return fig


def phase_diagram_figure(
    rows: Any,
    cols: Any,
    values: Any,
    *,
    row_label: str,
    col_label: str,
    value_label: str = "amplification",
    title: str = "",
    log: bool = True,
    contour: float | None = None,
    row_log: bool = False,
    col_log: bool = False,
    ax: Any = None,
) -> Figure:
    """A colour map of ``values[i, j]`` over ``rows[i]`` (y axis) x ``cols[j]`` (x axis).

    Parameters
    ----------
    rows, cols : array_like
        Grid values (any unit; say it in the labels).
    values : array_like, shape (len(rows), len(cols))
        Finite, >= 0 (a log colour scale shows zeros at its bottom).
    row_label, col_label, value_label, title : str
    log : bool
        Log colour scale (default).
    contour : float, optional
        Draw the contour ``values = contour`` (e.g. the jump between a stalled and a
        full cascade).
    row_log, col_log : bool
        Log axes.
    ax : matplotlib Axes, optional

    Returns
    -------
    Figure
    """
    y = np.asarray(check_finite("rows", rows), dtype=np.float64)
    x = np.asarray(check_finite("cols", cols), dtype=np.float64)
    v = np.asarray(check_finite("values", values), dtype=np.float64)
    if v.shape != (y.size, x.size):
        raise InvalidInputError(
            f"values must have shape (len(rows), len(cols)) = {(y.size, x.size)}, got {v.shape}"
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.8), layout="constrained")
    else:
        fig = ax.figure
    if log:
        pos = v[v > 0]
        lo = float(pos.min()) if pos.size else 1e-3
        hi = max(float(v.max()), lo * 10)
        norm = LogNorm(vmin=lo, vmax=hi)
        shown = np.where(v > 0, v, lo)
    else:
        norm, shown = None, v
    mesh = ax.pcolormesh(x, y, shown, shading="nearest", cmap="viridis", norm=norm)
    if contour is not None and v.min() < contour < v.max() and min(v.shape) > 1:
        ax.contour(x, y, v, levels=[contour], colors="white", linewidths=1.2)
    fig.colorbar(mesh, ax=ax, label=value_label)
    plain = FuncFormatter(lambda v, _: f"{v:,.6g}")
    if row_log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())
    if col_log:
        ax.set_xscale("log")
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    if title:
        ax.set_title(title)
    return fig


def ignition_response_figure(
    ignitions: Any,
    curves: Mapping[str, Any],
    *,
    ylabel: str,
    title: str = "",
    hlines: Sequence[float] = (),
    ax: Any = None,
) -> Figure:
    """Outcome of a cascade against the ignition (USD, log axis), one line per label.

    Parameters
    ----------
    ignitions : array_like
        Ignitions, USD, > 0 (x axis).
    curves : mapping label -> array_like
        One value per ignition (say the unit in ``ylabel``).
    ylabel, title : str
    hlines : sequence of float
        Reference levels drawn as dashed lines.
    ax : matplotlib Axes, optional

    Returns
    -------
    Figure
    """
    x = np.asarray(check_finite("ignitions", ignitions), dtype=np.float64)
    if x.ndim != 1 or x.size < 2 or np.any(x <= 0):
        raise InvalidInputError("ignitions must be a 1-D array of at least 2 values > 0")
    if not curves:
        raise InvalidInputError("curves must hold at least one line")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.4), layout="constrained")
    else:
        fig = ax.figure
    for (label, y), color in zip(curves.items(), CYCLE, strict=False):
        _, ya = _curve(label, x, y)
        ax.plot(x, ya, color=color, lw=1.5, label=label)
    for h in hlines:
        ax.axhline(h, color=COLORS["light"], lw=1.0, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("ignition (USD of spot buying)")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return fig
