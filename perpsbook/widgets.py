"""Interactive panels (ipywidgets) of the perpsbook chapters.

A panel is a thin layer over pure package functions: it builds controls, calls the
vectorised computation and a :mod:`perpsbook.plots` figure function, and shows the result in
an ``Output`` area. Each panel draws its default result when it is constructed, so a
notebook displays something meaningful even before anyone moves a control, and every
result a panel shows also appears as a static figure in its chapter.

Layout: **general helpers** first, then one section per chapter (append new sections at
the end). Requires the ``perpsbook[widgets]`` extra (ipywidgets >= 8).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

try:
    import ipywidgets as widgets
    from IPython.display import display
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'perpsbook.widgets needs ipywidgets: pip install "perpsbook[widgets]"'
    ) from exc

from perpsbook import data as _data
from perpsbook import plots as _plots
from perpsbook.hedging import MarketMaker, market_maker_path
from perpsbook.scenarios import ORDER_BOOK_PROFILES, order_book_profiles, rkt_book_after_ignition

__all__ = ["event_explorer", "funding_explorer", "show_figure"]

# ======================================================================================
# General helpers
# ======================================================================================


def show_figure(
    out: widgets.Output, fig: Any, text: str | None = None, *, text_first: bool = False
) -> None:
    """Replace the content of ``out`` with ``fig`` (then closed) and an optional text.

    The figure is rendered to PNG once here: ``display(fig)`` costs about twice as much,
    because the inline backend draws the figure twice (once to find its tight bounding
    box), and a panel update has to stay well under 0.2 s. ``text_first`` prints the text
    above the figure instead of below it.
    """
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    with out:
        out.clear_output(wait=True)
        if text and text_first:
            print(text)
        display(Image(data=buf.getvalue(), format="png"))
        if text and not text_first:
            print(text)


# ======================================================================================
# Chapter "Data insight" (book/data_insight.ipynb)
# ======================================================================================


def _month_options(first: np.datetime64, last: np.datetime64) -> list[tuple[str, np.datetime64]]:
    months = np.arange(
        first.astype("datetime64[M]"),
        last.astype("datetime64[M]") + np.timedelta64(2, "M"),
        np.timedelta64(1, "M"),
    )
    return [(str(m), m.astype("datetime64[ms]")) for m in months]


def funding_explorer(
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
    start: str = "2019-09",
    end: str = "2026-11",
    rolling_days: int = 30,
) -> widgets.VBox:
    """Panel: funding history of a chosen contract over a chosen range of months.

    Controls: contract (BTCUSDT, ETHUSDT or both), month range, trailing window (days).
    Shows :func:`perpsbook.plots.funding_history_figure` for the selection and a line with
    the share of positive settlements and the annualised mean funding (fraction of notional
    per year = mean rate per 8 h × 1,095) over the range.

    Parameters
    ----------
    symbols : tuple of str
        Contracts selected at construction.
    start, end : str
        Initial month range ``[start, end)`` as ``"YYYY-MM"`` (UTC).
    rolling_days : int
        Initial trailing window, days.

    Returns
    -------
    ipywidgets.VBox
        Controls above an ``Output`` holding the figure.
    """
    histories = {s: _data.load_funding(s) for s in _data.SYMBOLS}
    rolls: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}  # cache per (symbol, days)
    first = min(h.time[0] for h in histories.values())
    last = max(h.time[-1] for h in histories.values())
    options = _month_options(first, last)
    labels = [o[0] for o in options]
    start_label = start if start in labels else labels[0]
    end_label = end if end in labels else labels[-1]

    choice = widgets.Dropdown(
        options=[("BTCUSDT and ETHUSDT", "both"), ("BTCUSDT", "BTCUSDT"), ("ETHUSDT", "ETHUSDT")],
        value="both" if len(symbols) > 1 else symbols[0],
        description="contract",
    )
    span = widgets.SelectionRangeSlider(
        options=options,
        index=(labels.index(start_label), labels.index(end_label)),
        description="months",
        layout=widgets.Layout(width="95%"),
    )
    days = widgets.IntSlider(value=rolling_days, min=1, max=90, description="window (d)")
    out = widgets.Output()

    def _rolling(symbol: str, d: int):
        if (symbol, d) not in rolls:
            rolls[symbol, d] = _data.annualised_rolling_funding(histories[symbol], d)
        return rolls[symbol, d]

    def redraw(*_: Any) -> None:
        chosen = list(_data.SYMBOLS) if choice.value == "both" else [choice.value]
        lo, hi = span.value
        subs, roll, parts = [], {}, []
        for s in chosen:
            sub = histories[s].between(lo, hi)
            if sub.n == 0:
                continue
            subs.append(sub)
            t, ann = _rolling(s, days.value)
            keep = (t >= lo) & (t < hi)
            roll[s] = (t[keep], ann[keep])
            share = float(np.mean(sub.rate > 0))
            mean_ann = float(np.mean(sub.rate)) * _data.FUNDING_INTERVALS_PER_YEAR
            parts.append(f"{s}: {share:.1%} of settlements positive, annualised {mean_ann:.1%}")
        if not subs:
            with out:
                out.clear_output(wait=True)
                print("no settlements in the selected months")
            return
        fig = _plots.funding_history_figure(subs, rolling=roll)
        show_figure(out, fig, "; ".join(parts))

    for w in (choice, span, days):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([choice, days]), span, out])


def event_explorer(day: str = "2025-10-10", days: int = 7) -> widgets.VBox:
    """Panel: BTCUSDT perp price and USD volume around a chosen liquidation-cascade day.

    Controls: event day (from :data:`perpsbook.data.CASCADE_DAYS`) and half-width of the
    window (days each side). Shows :func:`perpsbook.plots.event_window_figure` and a line
    from :func:`perpsbook.data.event_day_stats` (volume multiple vs the trailing 30-day
    median, high-low range as a fraction of the previous close).

    Parameters
    ----------
    day : str
        Initial event day, ``"YYYY-MM-DD"`` (a key of ``CASCADE_DAYS``).
    days : int
        Initial half-width, days.

    Returns
    -------
    ipywidgets.VBox
    """
    bars = _data.load_klines_4h("BTCUSDT")
    keys = list(_data.CASCADE_DAYS)
    event = widgets.Dropdown(
        options=[(f"{k} {v}", k) for k, v in _data.CASCADE_DAYS.items()],
        value=day if day in keys else keys[0],
        description="event",
    )
    width = widgets.IntSlider(value=days, min=1, max=30, description="± days")
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        d = event.value
        ev = _data.event_day_stats(bars, d)
        fig = _plots.event_window_figure(
            _data.window(bars, d, width.value), d, title=f"{d} {_data.CASCADE_DAYS[d]}"
        )
        text = (
            f"{d}: volume {_plots.format_usd(ev.quote_volume)} = {ev.volume_multiple:.1f}x the "
            f"trailing 30-day median; high-low range {ev.range_frac:.1%} of the previous close"
        )
        show_figure(out, fig, text)

    event.observe(redraw, names="value")
    width.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([event, width]), out])


# --- market makers chapter ---
# ======================================================================================
# Chapter "Market makers, hedging and funding" (book/market_makers.ipynb)
# ======================================================================================

__all__ += ["hedge_explorer"]


def hedge_explorer(
    forced_usd: float = 3e6,
    hedge_ratio: float = 1.0,
    lag: int = 1,
    *,
    batches: int = 3,
    book: Any = None,
    price: float | None = None,
) -> widgets.VBox:
    """Panel: forced perp buys, the market maker's spot hedge, the price and its inventory.

    Controls: forced perp buys (USD, split into ``batches`` equal stages), hedge ratio ``h``
    and lag (stages). Runs :func:`perpsbook.hedging.market_maker_path` on the market book and
    shows :func:`perpsbook.plots.hedge_lag_figure` for the choice and, dashed, for the same
    buys without hedging (``h = 0``); a text line gives the final price (USD per coin), the
    MM's perp, spot and net positions (coins) and its P&L (USD).

    Parameters
    ----------
    forced_usd : float
        Initial total forced perp buying, USD.
    hedge_ratio : float
        Initial hedge ratio, in [0, 2].
    lag : int
        Initial lag, stages (0-4).
    batches : int
        Number of equal stages the forced buying is split into, >= 1.
    book : OrderBook, optional
        Market book before the first stage; default
        :func:`perpsbook.scenarios.rkt_book_after_ignition`.
    price : float, optional
        Last traded price before the first stage, USD per coin; default the best ask.

    Returns
    -------
    ipywidgets.VBox
        Controls above an ``Output`` holding the figure and the text line.
    """
    from perpsbook.errors import InvalidInputError

    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise InvalidInputError(f"batches must be an integer >= 1, got {batches!r}")
    book = rkt_book_after_ignition() if book is None else book
    usd = widgets.FloatSlider(
        value=forced_usd / 1e6, min=0.25, max=6.0, step=0.25, description="forced ($M)"
    )
    h = widgets.FloatSlider(value=hedge_ratio, min=0.0, max=2.0, step=0.1, description="hedge h")
    delay = widgets.IntSlider(value=lag, min=0, max=4, description="lag")
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        schedule = np.full(batches, usd.value * 1e6 / batches)
        chosen = market_maker_path(
            MarketMaker(h.value, lag=delay.value), book, schedule, price=price
        )
        bare = market_maker_path(MarketMaker(0.0), book, schedule, price=price)
        label = f"h = {h.value:g}, lag {delay.value}"
        fig = _plots.hedge_lag_figure(
            {label: chosen, "no hedge (h = 0)": bare},
            dashed=("no hedge (h = 0)",),
            title=f"{_plots.format_usd(usd.value * 1e6)} of forced perp buys in {batches} stages",
        )
        text = (
            f"{label}: price {chosen.price[0]:,.2f} -> {chosen.final_price:,.2f} USD (no hedge: "
            f"{bare.final_price:,.2f}); MM perp {chosen.perp_position[-1]:,.0f}, spot "
            f"{chosen.spot_position[-1]:,.0f}, net {chosen.delta[-1]:,.0f} coins (largest "
            f"{chosen.max_abs_delta:,.0f}); MM P&L {_plots.format_usd(chosen.pnl[-1])}"
        )
        show_figure(out, fig, text)

    for w in (usd, h, delay):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([usd, h, delay]), out])


# --- order books chapter ---
# ======================================================================================
# Chapter "Order books and price impact" (book/order_books.ipynb)
# ======================================================================================

__all__ += ["order_book_explorer"]


def _ob_summary(book: Any, fill: Any) -> str:
    text = (
        f"bought {fill.qty:,.0f} coins for {fill.notional:,.0f} USD: VWAP {fill.vwap:,.4f}, "
        f"last traded price {fill.last_price:,.2f} USD per coin "
        f"({fill.last_price / book.best_ask - 1.0:+.1%} from the best ask {book.best_ask:,.2f})"
    )
    if fill.unfilled > 0:
        text += f"; the ask side ran dry with {fill.unfilled:,.0f} coins unfilled"
    return text


def order_book_explorer(
    profile: str = "flat", scale: float = 1.0, qty: float = 20_000.0
) -> widgets.VBox:
    """Panel: a market buy on one of the chapter's RocketCoin ladders.

    Controls: depth profile (:data:`perpsbook.scenarios.ORDER_BOOK_PROFILES`, the ladders of
    :func:`perpsbook.scenarios.order_book_profiles`), depth scale (every level's size
    multiplied, 0.1x to 10x) and order size (coins, 1,000 to 1,000,000). Shows the fill
    (coins, USD cost, VWAP, last traded price) in a text line and
    :func:`perpsbook.plots.order_impact_figure`. An order larger than the ask side is filled
    partially and the shortfall reported. One update is a book rescale, one fill and two
    vectorised curves (well under 0.2 s).

    Parameters
    ----------
    profile : str
        Initial profile, a key of :data:`perpsbook.scenarios.ORDER_BOOK_PROFILES`.
    scale : float
        Initial depth multiplier, in [0.1, 10].
    qty : float
        Initial order size, coins, in [1,000, 1,000,000].

    Returns
    -------
    ipywidgets.VBox
        Controls, the fill summary (an ``HTML`` widget) and an ``Output`` with the figure.
    """
    from perpsbook.errors import InvalidInputError, check_positive

    if profile not in ORDER_BOOK_PROFILES:
        raise InvalidInputError(
            f"profile must be one of {tuple(ORDER_BOOK_PROFILES)}, got {profile!r}"
        )
    if not 0.1 <= check_positive("scale", scale) <= 10.0:
        raise InvalidInputError(f"scale must be in [0.1, 10], got {scale!r}")
    if not 1e3 <= check_positive("qty", qty) <= 1e6:
        raise InvalidInputError(f"qty must be in [1,000, 1,000,000] coins, got {qty!r}")
    choice = widgets.Dropdown(
        options=[(label, key) for key, label in ORDER_BOOK_PROFILES.items()],
        value=profile,
        description="depth profile",
        style={"description_width": "initial"},
    )
    depth = widgets.FloatLogSlider(
        value=scale, base=10, min=-1, max=1, step=0.01, description="depth ×", readout_format=".2f"
    )
    size = widgets.FloatLogSlider(
        value=qty,
        base=10,
        min=3,
        max=6,
        step=0.01,
        description="buy (coins)",
        readout_format=",.0f",
    )
    summary = widgets.HTML()
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        book = order_book_profiles(depth.value)[choice.value]
        fill = book.buy(size.value, partial=True)
        summary.value = _ob_summary(book, fill)
        title = f"{ORDER_BOOK_PROFILES[choice.value]}, depth × {depth.value:.2f}"
        show_figure(out, _plots.order_impact_figure(book, fill, title=title))

    for w in (choice, depth, size):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([choice, widgets.HBox([depth, size]), summary, out])


# --- margin chapter ---
# ======================================================================================
# Chapter "Margin and liquidation" (book/margin_liquidation.ipynb)
# ======================================================================================

_WIDE = {"description_width": "initial"}


def venue_liquidation_table(
    side: Any, size: float, entry_price: float, margin: float, venues: Any = None
) -> str:
    """Text table: one isolated position's liquidation and bankruptcy prices on each venue.

    Columns: venue, the venue's maximum leverage for this notional, the liquidation price
    (:meth:`perpsbook.margin.Venue.liquidation_price`), the adverse move of the mark that
    reaches it (% of entry), the maintenance margin there, and the bankruptcy price
    (:func:`perpsbook.margin.bankruptcy_price`, the same on every venue). A note line under
    a venue's row flags a
    leverage above the venue's maximum, a notional above its largest position, a long that
    can never be liquidated and the illustrative RKT preset.

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
        Fixed-width table (prices USD per coin, margin USD), deterministic text.
    """
    from perpsbook import margin as _margin
    from perpsbook.errors import InvalidInputError, check_positive

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
    # Notes go on their own line under a venue's row so the table stays within the
    # ~80 characters the book's text column shows without scrolling.
    header = (
        f"{'venue':<20}{'max lev':>8}{'liq. price':>14}{'move':>9}{'MM at LP':>12}"
        f"{'bankr. price':>14}"
    )
    unit = "coin" if s == 1 else "coins"
    lines = [
        f"{'long' if sd > 0 else 'short'} {s:,.6g} {unit} at {e:,.2f} USD, notional "
        f"{notional:,.2f} USD;",
        f"isolated margin {m:,.2f} USD, leverage {notional / m:,.2f}x",
        header,
        "-" * len(header),
    ]
    for v in venue_list:
        lp = float(v.liquidation_price(sd, s, e, m))
        max_lev = float(v.schedule.max_leverage_for(notional))
        notes = []
        if notional > v.schedule.max_notional:
            notes.append(f"notional above the {v.schedule.max_notional:,.0f} USD limit")
        elif notional / m > max_lev * (1 + 1e-12):
            notes.append(f"leverage above the {max_lev:g}x allowed")
        if v.name == "altcoin":
            notes.append("illustrative schedule")
        if lp > 0:
            mm = float(v.maintenance_at(sd, s, e, lp))
            price, move, mm_text = f"{lp:,.2f}", f"{sd * (e - lp) / e:.2%}", f"{mm:,.2f}"
            if sd * (e - lp) <= 0:
                notes.append("below maintenance already at entry")
        else:
            price, move, mm_text = "--", "--", "--"
            notes.append("never liquidated (LP <= 0)")
        bank = f"{bp:,.2f}" if bp > 0 else "--"
        lines.append(
            f"{_plots.venue_label(v):<20}{max_lev:>7g}x{price:>14}{move:>9}{mm_text:>12}{bank:>14}"
        )
        if notes:
            lines.append(f"    note: {'; '.join(notes)}")
    return "\n".join(lines)


def liquidation_calculator(
    side: str = "long",
    size: float = 1.0,
    entry_price: float = 100_000.0,
    leverage: float = 10.0,
    added_margin: float = 0.0,
    venue: str = "all",
) -> widgets.VBox:
    """Panel: one position's liquidation and bankruptcy prices on every venue preset.

    Controls: side, size (coins), entry price (USD per coin), leverage (sets the initial
    margin ``size * entry / leverage``, USD), margin added on top (USD), and which venue's
    maintenance margin to draw. Shows :func:`venue_liquidation_table` and
    :func:`perpsbook.plots.equity_vs_mark_figure` for the position. Every update calls the
    vectorised margin functions once per venue.

    Parameters
    ----------
    side : {"long", "short"}
    size : float
        Coins, > 0.
    entry_price : float
        USD per coin, > 0.
    leverage : float
        Entry notional / initial margin, 1 to 125.
    added_margin : float
        USD added to the initial margin, >= 0.
    venue : str
        ``"all"`` or a key of :data:`perpsbook.margin.VENUES` for the figure.

    Returns
    -------
    ipywidgets.VBox
        Controls above an ``Output`` holding the table and the figure.
    """
    from perpsbook import margin as _margin
    from perpsbook.errors import PerpsbookError
    from perpsbook.positions import Positions

    names = list(_margin.VENUES)
    side_w = widgets.ToggleButtons(
        options=[("long", "long"), ("short", "short")], value=side, description="side"
    )
    size_w = widgets.BoundedFloatText(
        value=size, min=1e-9, max=1e12, description="size (coins)", style=_WIDE
    )
    entry_w = widgets.BoundedFloatText(
        value=entry_price, min=1e-9, max=1e12, description="entry (USD)", style=_WIDE
    )
    lev_w = widgets.FloatSlider(
        value=leverage, min=1.0, max=125.0, step=0.5, description="leverage", style=_WIDE
    )
    add_w = widgets.BoundedFloatText(
        value=added_margin, min=0.0, max=1e12, description="added margin (USD)", style=_WIDE
    )
    venue_w = widgets.Dropdown(
        options=[("all venues", "all")] + [(_plots.venue_label(n), n) for n in names],
        value=venue if venue in ("all", *names) else "all",
        description="draw",
    )
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        try:
            s, e = float(size_w.value), float(entry_w.value)
            m = _margin.initial_margin(s, e, lev_w.value) + float(add_w.value)
            sd = 1 if side_w.value == "long" else -1
            chosen = names if venue_w.value == "all" else [venue_w.value]
            venue_list = [_margin.VENUES[n] for n in chosen]
            table = venue_liquidation_table(sd, s, e, m, list(_margin.VENUES.values()))
            pos = Positions(side=sd, size=s, entry_price=e, margin=m)
            fig = _plots.equity_vs_mark_figure(pos, venue_list, overview=False)
        except PerpsbookError as exc:
            with out:
                out.clear_output(wait=True)
                print(f"invalid input: {exc}")
            return
        show_figure(out, fig, table, text_first=True)

    for w in (side_w, size_w, entry_w, lev_w, add_w, venue_w):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [
            widgets.HBox([side_w, venue_w]),
            widgets.HBox([size_w, entry_w]),
            widgets.HBox([lev_w, add_w]),
            out,
        ]
    )


__all__ += ["liquidation_calculator", "venue_liquidation_table"]


# --- introduction chapter ---
# ======================================================================================
# Chapter "Introduction" (book/intro.ipynb)
# ======================================================================================

__all__ += ["rocket_explorer"]

_INTRO_IGNITION_RANGE = (10_000.0, 2_000_000.0)  # USD
_INTRO_HEDGE_RANGE = (0.0, 2.0)  # spot coins per perp coin


def rocket_explorer(ignition: float = 200_000.0, hedge_ratio: float = 1.0) -> widgets.VBox:
    """Panel: the RocketCoin cascade for a chosen ignition and market-maker hedge ratio.

    Controls: ignition (USD of spot buying, $10,000 to $2,000,000 in $1,000 steps) and
    hedge ratio ``h`` (spot coins the market makers buy per perp coin they sell, 0 to 2).
    Each change runs ``perpsbook.scenarios.rocketcoin(ignition=..., hedge_ratio=...).run()``
    (the default variant, a few milliseconds) and shows
    :func:`perpsbook.plots.rocket_overview_figure` with the headline numbers of
    :meth:`perpsbook.cascade.CascadeResult.headline` below it.

    Parameters
    ----------
    ignition : float
        Initial ignition, USD, in [10,000, 2,000,000].
    hedge_ratio : float
        Initial hedge ratio, in [0, 2].

    Returns
    -------
    ipywidgets.VBox
        The two sliders above an ``Output`` holding the figure and the numbers.

    Raises
    ------
    InvalidInputError
        If a value is outside its slider's range.
    """
    from perpsbook.errors import InvalidInputError, check_finite
    from perpsbook.scenarios import rocketcoin

    for name, value, (lo, hi) in (
        ("ignition", ignition, _INTRO_IGNITION_RANGE),
        ("hedge_ratio", hedge_ratio, _INTRO_HEDGE_RANGE),
    ):
        if not lo <= float(check_finite(name, value)) <= hi:
            raise InvalidInputError(f"{name} must be in [{lo:,g}, {hi:,g}], got {value!r}")
    ign = widgets.FloatSlider(
        value=ignition,
        min=_INTRO_IGNITION_RANGE[0],
        max=_INTRO_IGNITION_RANGE[1],
        step=1_000.0,
        description="ignition (USD)",
        readout_format=",.0f",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="50%"),
    )
    h = widgets.FloatSlider(
        value=hedge_ratio,
        min=_INTRO_HEDGE_RANGE[0],
        max=_INTRO_HEDGE_RANGE[1],
        step=0.05,
        description="hedge ratio h",
        style={"description_width": "initial"},
    )
    out = widgets.Output()

    def redraw(*_: Any) -> None:
        result = rocketcoin(ignition=ign.value, hedge_ratio=h.value).run()
        fig = _plots.rocket_overview_figure(result)
        show_figure(out, fig, result.headline())

    ign.observe(redraw, names="value")
    h.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([ign, h]), out])
