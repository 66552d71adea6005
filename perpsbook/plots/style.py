"""The book's figure style and the helpers every figure uses: palette, rcParams, USD and
percent tick formatters, date and coin axes."""

from __future__ import annotations

import re
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from perpsbook.errors import InvalidInputError

__all__ = [
    "COLORS",
    "CYCLE",
    "SIDE_WORD",
    "STYLE",
    "as_list",
    "clear_artists",
    "coins_axis",
    "date_axis",
    "escape_dollars",
    "format_usd",
    "pct_formatter",
    "reuse_axes",
    "symbol_color",
    "usd_formatter",
    "use_style",
]

COLORS: dict[str, str] = {
    # roles in a cascade (Okabe-Ito colour-blind-safe palette)
    "long": "#0072B2",  # blue
    "short": "#D55E00",  # vermillion
    "spot": "#009E73",  # bluish green
    "perp": "#E69F00",  # orange
    "mm": "#CC79A7",  # reddish purple
    "insurance": "#56B4E9",  # sky blue
    "ignitor": "#F0E442",  # yellow
    # neutral tones
    "neutral": "#4D4D4D",
    "light": "#BBBBBB",
    "event": "#D55E00",
    # instruments
    "BTCUSDT": "#E69F00",
    "ETHUSDT": "#0072B2",
}
"""Named colours shared by every chapter (keys are roles, e.g. ``COLORS["short"]``)."""

# Okabe-Ito colours in the order lines take them.
CYCLE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#4D4D4D"]

STYLE: dict[str, Any] = {
    "figure.figsize": (6.8, 3.8),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "font.size": 9,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
}
"""rcParams applied by :func:`use_style`."""


def use_style() -> None:
    """Apply the book's matplotlib style (figure size, dpi 100, grid, fonts, colours).

    Only ``matplotlib.rcParams`` is touched, and calling it again changes nothing more.
    """
    mpl.rcParams.update(STYLE)


def symbol_color(symbol: str) -> str:
    """Colour of an instrument (e.g. ``"BTCUSDT"``), neutral grey if it has none."""
    return COLORS.get(symbol, COLORS["neutral"])


_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def format_usd(x: float, decimals: int = 1) -> str:
    """Format a USD amount compactly: ``$1.2B``, ``-$350.0M``, ``$12.5k``, ``$7.25``.

    Parameters
    ----------
    x : float
        Amount, USD.
    decimals : int
        Decimals kept after scaling (amounts below 1,000 use two decimals).
    """
    x = float(x)
    if not np.isfinite(x):
        raise InvalidInputError(f"x must be a finite USD amount, got {x!r}")
    sign = "-" if x < 0 else ""
    a = abs(x)
    for scale, suffix in _SUFFIXES:
        if a >= scale:
            return f"{sign}${a / scale:,.{decimals}f}{suffix}"
    return f"{sign}${a:,.2f}"


def usd_formatter(decimals: int = 2) -> FuncFormatter:
    """Tick formatter writing axis values (USD) as ``$1.25B``, ``$40k``...; one per axis.

    Up to ``decimals`` decimals are kept after scaling and trailing zeros are dropped, so
    neighbouring ticks never print the same label.
    """

    def _fmt(x: float, _pos: Any = None) -> str:
        if x == 0:
            return "$0"
        text = format_usd(x, decimals)
        m = re.match(r"^(-?\$[\d,]+)\.(\d*?)0*([A-Za-z]?)$", text)
        if m:
            text = m.group(1) + (f".{m.group(2)}" if m.group(2) else "") + m.group(3)
        return text

    return FuncFormatter(_fmt)


def pct_formatter(decimals: int | None = None) -> PercentFormatter:
    """Tick formatter for values stored as fractions (0.003 is written 0.3%)."""
    return PercentFormatter(xmax=1.0, decimals=decimals)


def date_axis(ax: Any) -> None:
    """Concise date ticks on the x axis of ``ax`` (UTC dates)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


SIDE_WORD: dict[int, str] = {1: "buy", -1: "sell"}
"""Word for an order's side (+1 buy, -1 sell) in titles and labels."""


def as_list(x: Any) -> list:
    """``x`` itself as a list if it is a list or tuple, else ``[x]``."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def coins_axis(axis: Any) -> None:
    """Whole coins with thousands separators on ``axis`` (an ``ax.xaxis`` / ``ax.yaxis``)."""
    axis.set_major_formatter(FuncFormatter(lambda x, _pos=None: f"{x:,.0f}"))


def escape_dollars(text: str) -> str:
    """Escape ``$`` so matplotlib does not typeset a text holding two of them as math."""
    return text.replace("$", r"\$")


def clear_artists(ax: Any) -> None:
    """Empty ``ax`` for a redraw in place: remove its lines, patches, texts, collections,
    images, containers and legend, and reset its x/y locators, formatters and autoscaling,
    but keep the axes and its tick objects.

    A figure redrawn this way draws the same pixels as a new one in about a third less
    time: ``ax.cla()`` or a new figure would rebuild every tick.
    """
    from matplotlib.ticker import AutoLocator, ScalarFormatter

    for artist in [*ax.lines, *ax.patches, *ax.texts, *ax.collections, *ax.images]:
        artist.remove()
    ax.containers.clear()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(AutoLocator())
        axis.set_major_formatter(ScalarFormatter())
    ax.relim()
    ax.set_autoscale_on(True)


def reuse_axes(fig: Any, n_axes: int, name: str) -> list:
    """The axes of ``fig``, emptied by :func:`clear_artists` for a redraw in place.

    ``fig`` must be a figure the figure function ``name`` returned before, with
    ``n_axes`` axes (a figure of another shape raises InvalidInputError).
    """
    if not isinstance(fig, Figure) or len(fig.axes) != n_axes:
        got = f"{len(fig.axes)} axes" if isinstance(fig, Figure) else type(fig).__name__
        raise InvalidInputError(
            f"fig must be a figure returned by {name} with {n_axes} axes, got {got}"
        )
    for ax in fig.axes:
        clear_artists(ax)
    return list(fig.axes)
