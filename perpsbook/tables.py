"""Fixed-width text tables for notebooks and the CLI, within the book's 80 columns.

One helper, :func:`text_table`, replaces tables padded by hand with f-strings: numbers are
formatted with a format spec per column and right-aligned, text is left-aligned, columns
are separated by two spaces, and a table wider than ``max_width`` characters raises
instead of running off the page. :func:`venue_liquidation_table` (one position's
liquidation prices on every venue preset) is built on it.

Pure text: no matplotlib, no ipywidgets.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from perpsbook.errors import InvalidInputError, check_positive

__all__ = ["VENUE_LABELS", "text_table", "venue_liquidation_table"]

VENUE_LABELS: dict[str, str] = {
    "binance": "Binance-style",
    "bybit": "Bybit-style",
    "hyperliquid": "Hyperliquid-style",
    "altcoin": "RKT (illustrative)",
}
"""Display name of each venue preset of :mod:`perpsbook.margin` (keys are ``Venue.name``);
tables and figures share this one copy (``perpsbook.plots.VENUE_LABELS`` is this dict)."""

Format = str | Callable[[Any], str] | None


def _cell(value: Any, fmt: Format) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "--"
    if callable(fmt):
        return fmt(value)
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return "--"
    return format(value, fmt or "")


def _as_notes(value: str | Sequence[str] | None) -> list[str]:
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def text_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str],
    formats: Sequence[Format] | Mapping[str, Format] | None = None,
    *,
    align: Sequence[str] | None = None,
    notes: Mapping[int, str | Sequence[str]] | None = None,
    title: str | None = None,
    widths: Sequence[int] | None = None,
    sep: str = "  ",
    rule: str = "full",
    max_width: int | None = 80,
) -> str:
    """A fixed-width text table: header, a rule, one line per row.

    Parameters
    ----------
    rows : sequence of sequences
        One sequence of cells per row, as many cells as ``columns``. A ``str`` cell is
        shown as is, ``None`` or a non-finite float as ``--``, other cells through the
        column's format.
    columns : sequence of str
        Column headers (put units in them, e.g. ``"price (USD)"``).
    formats : sequence or mapping column -> format spec or callable, optional
        E.g. ``",.2f"``, ``".1%"`` or ``lambda x: f"{x:g}x"``; default ``format(x, "")``.
    align : sequence of {"<", ">"}, optional
        Per column; default ``"<"`` for the first column, ``">"`` for the others.
    notes : mapping row index -> str or list of str, optional
        Lines ``    note: ...`` printed under that row (each wrapped to ``max_width``).
    title : str, optional
        Lines printed above the header.
    widths : sequence of int, optional
        Smallest width of each column, characters (default: the widest cell or header).
    sep : str
        Between columns.
    rule : {"full", "columns"}
        Under the header: one unbroken line, or one dash run per column (``"-----  --"``).
    max_width : int or None
        Widest line allowed, characters (the book's code cells show 80); None: no limit.

    Returns
    -------
    str
        The table, lines joined by ``"\\n"`` (no trailing newline).

    Raises
    ------
    InvalidInputError
        If a row has the wrong number of cells, an alignment is not "<" or ">", or a line
        is wider than ``max_width``.

    Examples
    --------
    >>> print(text_table([("BTC", 1.5, 0.012)], ["coin", "size", "rate"], [None, ",.2f", ".1%"]))
    coin  size  rate
    ----------------
    BTC   1.50  1.2%
    """
    ncol = len(columns)
    if ncol == 0:
        raise InvalidInputError("columns must name at least one column, got none")
    if formats is None:
        fmts: list[Format] = [None] * ncol
    elif isinstance(formats, Mapping):
        fmts = [formats.get(c) for c in columns]
    else:
        fmts = list(formats)
        if len(fmts) != ncol:
            raise InvalidInputError(f"formats must have {ncol} entries, got {len(fmts)}")
    aligns = list(align) if align is not None else ["<"] + [">"] * (ncol - 1)
    if len(aligns) != ncol or any(a not in ("<", ">") for a in aligns):
        raise InvalidInputError(f"align must be {ncol} of '<' or '>', got {align!r}")
    cells = []
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != ncol:
            raise InvalidInputError(f"rows[{i}] must have {ncol} cells, got {len(row)}")
        cells.append([_cell(v, f) for v, f in zip(row, fmts, strict=True)])
    least = [0] * ncol if widths is None else [int(w) for w in widths]
    if len(least) != ncol:
        raise InvalidInputError(f"widths must have {ncol} entries, got {len(least)}")
    widths = [max([least[j], len(columns[j])] + [len(r[j]) for r in cells]) for j in range(ncol)]

    def line(parts: Sequence[str]) -> str:
        return sep.join(f"{p:{a}{w}}" for p, a, w in zip(parts, aligns, widths, strict=True))

    if rule not in ("full", "columns"):
        raise InvalidInputError(f"rule must be 'full' or 'columns', got {rule!r}")
    header = line(columns).rstrip()
    dashes = sep.join("-" * w for w in widths) if rule == "columns" else "-" * len(line(columns))
    body = []
    for i, r in enumerate(cells):
        body.append(line(r).rstrip())
        for note in _as_notes(notes.get(i) if notes else None):
            # notes are prose: one line each, wrapped to the width if longer
            body.extend(
                textwrap.wrap(
                    note,
                    width=max_width or 80,
                    initial_indent="    note: ",
                    subsequent_indent=" " * 10,
                )
            )
    out = ([title] if title else []) + [header, dashes] + body
    widest = max(len(s) for s in "\n".join(out).splitlines())
    if max_width is not None and widest > max_width:
        raise InvalidInputError(
            f"the table is {widest} characters wide, above max_width={max_width}: "
            "shorten the headers or formats"
        )
    return "\n".join(out)


def venue_liquidation_table(
    side: Any, size: float, entry_price: float, margin: float, venues: Any = None
) -> str:
    """Text table: one isolated position's liquidation and bankruptcy prices on each venue.

    Columns: venue, the venue's maximum leverage for this notional, the liquidation price
    (:meth:`perpsbook.margin.Venue.liquidation_price`), the adverse move of the mark that
    reaches it (% of entry), the maintenance margin there, and the bankruptcy price
    (:func:`perpsbook.margin.bankruptcy_price`, the same on every venue). A note line under
    a venue's row flags a leverage above the venue's maximum, a notional above its largest
    position, a long that can never be liquidated and the illustrative RKT preset.

    Parameters
    ----------
    side : +1 / -1 or "long" / "short"
    size : float
        Coins, > 0.
    entry_price : float
        USD per coin, > 0.
    margin : float
        Isolated margin, USD, > 0.
    venues : sequence of Venue, optional
        Default every preset of :data:`perpsbook.margin.VENUES`.

    Returns
    -------
    str
        Fixed-width table (prices USD per coin, margin USD), deterministic text; it fits 80
        columns up to about 1e9 USD of notional.
    """
    from perpsbook import margin as _margin

    venue_list = list(_margin.VENUES.values()) if venues is None else list(venues)
    if not venue_list:
        raise InvalidInputError("venues must hold at least one Venue, got none")
    s = float(check_positive("size", size))
    e = float(check_positive("entry_price", entry_price))
    m = float(check_positive("margin", margin))
    if side not in (1, -1, "long", "short", "buy", "sell"):
        raise InvalidInputError(f"side must be +1/-1 or 'long'/'short', got {side!r}")
    sd = -1 if side in (-1, "short", "sell") else 1
    notional = s * e
    bp = float(_margin.bankruptcy_price(sd, s, e, m))
    unit = "coin" if s == 1 else "coins"
    title = (
        f"{'long' if sd > 0 else 'short'} {s:,.6g} {unit} at {e:,.2f} USD, notional "
        f"{notional:,.2f} USD;\nisolated margin {m:,.2f} USD, leverage {notional / m:,.2f}x"
    )
    rows: list[tuple] = []
    notes: dict[int, list[str]] = {}
    for i, v in enumerate(venue_list):
        lp = float(v.liquidation_price(sd, s, e, m))
        max_lev = float(v.schedule.max_leverage_for(notional))
        flags = []
        if notional > v.schedule.max_notional:
            flags.append(f"notional above the {v.schedule.max_notional:,.0f} USD limit")
        elif notional / m > max_lev * (1 + 1e-12):
            flags.append(f"leverage above the {max_lev:g}x allowed")
        if v.name == "altcoin":
            flags.append("illustrative schedule")
        if lp > 0:
            mm: float | None = float(v.maintenance_at(sd, s, e, lp))
            move: float | None = sd * (e - lp) / e
            if sd * (e - lp) <= 0:
                flags.append("below maintenance already at entry")
        else:
            mm = move = None
            flags.append("never liquidated (LP <= 0)")
        rows.append(
            (_venue_name(v), max_lev, lp if lp > 0 else None, move, mm, bp if bp > 0 else None)
        )
        if flags:
            notes[i] = flags
    return text_table(
        rows,
        ["venue", "max lev", "liq. price", "move", "MM at LP", "bankr. price"],
        [None, lambda x: f"{x:g}x", ",.2f", ".2%", ",.2f", ",.2f"],
        notes=notes,
        title=title,
        widths=(20, 8, 14, 9, 12, 14),
        sep="",
        # 80 columns up to about 1e9 USD of notional; wider for larger prices and sizes
        max_width=None,
    )


def _venue_name(venue: Any) -> str:
    return VENUE_LABELS.get(venue.name, str(venue.name))
