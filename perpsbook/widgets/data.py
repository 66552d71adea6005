"""Panels of the shipped market data (chapter "Data insight"): funding history and the
price and volume around liquidation-cascade days, with their kernel-free twins."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import numpy as np

from perpsbook import data as _data
from perpsbook import plots as _plots
from perpsbook.widgets.panel import Panel, View, check_choice, check_range
from perpsbook.widgets.twin import StaticTwin, static_twin

__all__ = ["event_explorer", "event_explorer_twin", "funding_explorer", "funding_explorer_twin"]

ROLLING_DAYS_MAX = 90
"""Longest trailing window of the funding panel, days."""

EVENT_DAYS_MAX = 30
"""Widest half-window of the event panel, days each side."""

_CONTRACTS = [("BTCUSDT and ETHUSDT", "both"), ("BTCUSDT", "BTCUSDT"), ("ETHUSDT", "ETHUSDT")]


def _month_options(first: np.datetime64, last: np.datetime64) -> list[tuple[str, np.datetime64]]:
    months = np.arange(
        first.astype("datetime64[M]"),
        last.astype("datetime64[M]") + np.timedelta64(2, "M"),
        np.timedelta64(1, "M"),
    )
    return [(str(m), m.astype("datetime64[ms]")) for m in months]


def _funding_update() -> tuple[Any, list[tuple[str, np.datetime64]]]:
    """The funding panel's update function and its month options."""
    histories = {s: _data.load_funding(s) for s in _data.SYMBOLS}
    rolls: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}  # per (symbol, days)
    first = min(h.time[0] for h in histories.values())
    last = max(h.time[-1] for h in histories.values())

    def rolling(symbol: str, d: int) -> tuple[np.ndarray, np.ndarray]:
        if (symbol, d) not in rolls:
            rolls[symbol, d] = _data.annualised_rolling_funding(histories[symbol], d)
        return rolls[symbol, d]

    def update(v: dict[str, Any]) -> View:
        chosen = list(_data.SYMBOLS) if v["contract"] == "both" else [v["contract"]]
        lo, hi = v["months"]
        subs, roll, parts = [], {}, []
        for s in chosen:
            sub = histories[s].between(lo, hi)
            if sub.n == 0:
                continue
            subs.append(sub)
            t, ann = rolling(s, int(v["window"]))
            keep = (t >= lo) & (t < hi)
            roll[s] = (t[keep], ann[keep])
            share = float(np.mean(sub.rate > 0))
            mean_ann = float(np.mean(sub.rate)) * _data.FUNDING_INTERVALS_PER_YEAR
            parts.append(f"{s}: {share:.1%} of settlements positive, annualised {mean_ann:.1%}")
        if not subs:
            return None, "no settlements in the selected months"
        return _plots.funding_history_figure(subs, rolling=roll), "\n".join(parts)

    return update, _month_options(first, last)


def funding_explorer(
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT"),
    start: str = "2019-09",
    end: str = "2026-11",
    rolling_days: int = 30,
) -> Panel:
    """Panel: funding history of a chosen contract over a chosen range of months.

    Controls: ``contract`` (BTCUSDT, ETHUSDT or both), ``months`` (range), ``window``
    (trailing window, days, 1 to :data:`perpsbook.widgets.data.ROLLING_DAYS_MAX`). Shows
    :func:`perpsbook.plots.funding_history_figure` for the selection and, per contract, the
    share of positive settlements and the annualised mean funding (fraction of notional
    per year = mean rate per 8 h × 1,095) over the range.

    Parameters
    ----------
    symbols : tuple of str
        Contracts selected at construction (one or both of ``perpsbook.data.SYMBOLS``).
    start, end : str
        Initial month range ``[start, end)`` as ``"YYYY-MM"`` (UTC), within the data.
    rolling_days : int
        Initial trailing window, days.

    Returns
    -------
    Panel
    """
    for s in symbols:
        check_choice("symbols", s, _data.SYMBOLS)
    update, options = _funding_update()
    labels = [o[0] for o in options]
    check_choice("start", start, labels)
    check_choice("end", end, labels)
    check_range("rolling_days", rolling_days, 1, ROLLING_DAYS_MAX, "days")
    controls = {
        "contract": widgets.Dropdown(
            options=_CONTRACTS,
            value="both" if len(set(symbols)) > 1 else symbols[0],
            description="contract",
        ),
        "window": widgets.IntSlider(
            value=int(rolling_days), min=1, max=ROLLING_DAYS_MAX, description="window (d)"
        ),
        "months": widgets.SelectionRangeSlider(
            options=options,
            index=(labels.index(start), labels.index(end)),
            description="months",
            layout=widgets.Layout(width="95%"),
        ),
    }
    return Panel(controls, update, rows=[["contract", "window"], ["months"]])


def funding_explorer_twin(start: str = "2024-01", end: str = "2026-01") -> StaticTwin:
    """Kernel-free twin of :func:`funding_explorer` over the months ``[start, end)``.

    Grid (9 points): contract (both, BTCUSDT, ETHUSDT) × trailing window (7, 30, 90 days).
    """
    update, options = _funding_update()
    months = dict(options)
    check_choice("start", start, list(months))
    check_choice("end", end, list(months))
    return static_twin(
        update,
        {"contract": _CONTRACTS, "window": [7, 30, 90]},
        fixed={"months": (months[start], months[end])},
        start={"window": 30},
        descriptions={"contract": "contract", "window": "trailing window (days)"},
        title=f"Funding history, {start} to {end}",
    )


def _event_update() -> Any:
    bars = _data.load_klines_4h("BTCUSDT")

    def update(v: dict[str, Any]) -> View:
        d, width = v["event"], int(v["days"])
        ev = _data.event_day_stats(bars, d)
        fig = _plots.event_window_figure(
            _data.window(bars, d, width),
            d,
            title=f"{d} {_data.CASCADE_DAYS[d]}",
        )
        text = (
            f"{d}: volume {_plots.format_usd(ev.quote_volume)} = {ev.volume_multiple:.1f}x the "
            f"trailing 30-day median;\nhigh-low range {ev.range_frac:.1%} of the previous close"
        )
        return fig, text

    return update


def event_explorer(day: str = "2025-10-10", days: int = 7) -> Panel:
    """Panel: BTCUSDT perp price and USD volume around a chosen liquidation-cascade day.

    Controls: ``event`` (a key of :data:`perpsbook.data.CASCADE_DAYS`) and ``days`` (half-
    width of the window, days each side, 1 to :data:`perpsbook.widgets.data.EVENT_DAYS_MAX`). Shows
    :func:`perpsbook.plots.event_window_figure` and a line from
    :func:`perpsbook.data.event_day_stats` (volume multiple vs the trailing 30-day median,
    high-low range as a fraction of the previous close).

    Parameters
    ----------
    day : str
        Initial event day, ``"YYYY-MM-DD"`` (a key of ``CASCADE_DAYS``).
    days : int
        Initial half-width, days.

    Returns
    -------
    Panel
    """
    check_choice("day", day, list(_data.CASCADE_DAYS))
    check_range("days", days, 1, EVENT_DAYS_MAX, "days")
    controls = {
        "event": widgets.Dropdown(
            options=[(f"{k} {v}", k) for k, v in _data.CASCADE_DAYS.items()],
            value=day,
            description="event",
        ),
        "days": widgets.IntSlider(value=int(days), min=1, max=EVENT_DAYS_MAX, description="± days"),
    }
    return Panel(controls, _event_update())


def event_explorer_twin() -> StaticTwin:
    """Kernel-free twin of :func:`event_explorer`.

    Grid: every day of :data:`perpsbook.data.CASCADE_DAYS` × half-width (2, 5, 10 days).
    """
    return static_twin(
        _event_update(),
        {"event": [(f"{k} {v}", k) for k, v in _data.CASCADE_DAYS.items()], "days": [2, 5, 10]},
        start={"event": "2025-10-10", "days": 5},
        descriptions={"event": "event", "days": "± days"},
        title="BTCUSDT around liquidation-cascade days",
    )
